package kinstatest

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Serving one request: the route's fault, its answer, and how the answer
// is written (dripped, cut off, oversized).

// ServeHTTP answers one request. It writes exactly one response, or aborts the
// connection (panic http.ErrAbortHandler) when a fault gives up on it.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if path == "/v2" || strings.HasPrefix(path, "/v2/") {
		path = path[len("/v2"):]
	}
	rt, param := match(path)
	template := ""
	if rt != nil {
		template = rt.template
		f.counts[template].Add(1)
	}
	f.total.Add(1)

	fault := f.fault(template)
	if fault.Hang {
		f.sleep(r.Context(), 0)
		panic(http.ErrAbortHandler)
	}
	if fault.Delay > 0 && !f.sleep(r.Context(), fault.Delay) {
		panic(http.ErrAbortHandler)
	}
	var rep reply
	switch {
	case fault.Hostile.Kind != HostileNone:
		f.writeHostile(w, r, fault.Hostile)
		return
	case fault.RedirectTo != "":
		w.Header().Set("Location", fault.RedirectTo)
		w.WriteHeader(http.StatusFound)
		return
	case fault.OversizeBytes > 0:
		f.writeOversize(w, r, fault.OversizeBytes)
		return
	case fault.Status != 0 || fault.Body != "":
		rep = reply{status: http.StatusOK, contentType: contentTypeJSON}
		if fault.Status != 0 {
			rep = statusReply(fault.Status)
		}
		if fault.Body != "" {
			rep.body = []byte(fault.Body)
		}
		if fault.RetryAfter != "" {
			rep.header = map[string]string{"Retry-After": fault.RetryAfter}
		}
	default:
		rep = f.answer(r, rt, param)
	}
	f.write(w, r, rep, fault.DripBytesPerSecond)
}

// answer is the fault-free reply: authentication, routing, the handler.
func (f *Fake) answer(r *http.Request, rt *route, param string) reply {
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+f.apiKey)) != 1 {
		return statusReply(http.StatusUnauthorized)
	}
	if rt == nil {
		return statusReply(http.StatusNotFound)
	}
	if r.Method != http.MethodGet {
		return errorReply(http.StatusMethodNotAllowed, "Method not allowed", dataNull)
	}
	return rt.handle(f, r, param)
}

func (f *Fake) write(w http.ResponseWriter, r *http.Request, rep reply, drip int) {
	h := w.Header()
	if rep.contentType != "" {
		h.Set("Content-Type", rep.contentType)
	}
	for k, v := range rep.header {
		h.Set(k, v)
	}
	h.Set("Content-Length", strconv.Itoa(len(rep.body)))
	w.WriteHeader(rep.status)
	if drip <= 0 {
		w.Write(rep.body)
		return
	}
	rc := http.NewResponseController(w)
	for body := rep.body; len(body) > 0; {
		n := min(drip, len(body))
		if _, err := w.Write(body[:n]); err != nil {
			return
		}
		rc.Flush()
		body = body[n:]
		if len(body) > 0 && !f.sleep(r.Context(), time.Second) {
			panic(http.ErrAbortHandler)
		}
	}
}

// oversizeFiller is the endless string's content, shared and never written to.
var oversizeFiller = []byte(strings.Repeat("a", 32<<10))

func (f *Fake) writeOversize(w http.ResponseWriter, r *http.Request, size int64) {
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusOK)
	prefix := []byte(`{"name":"`)
	if size < int64(len(prefix)) {
		prefix = prefix[:size]
	}
	if _, err := w.Write(prefix); err != nil {
		return
	}
	for left := size - int64(len(prefix)); left > 0; {
		n := min(left, int64(len(oversizeFiller)))
		if _, err := w.Write(oversizeFiller[:n]); err != nil || r.Context().Err() != nil {
			return
		}
		left -= n
	}
}

// sleep waits d (forever when d is 0); false when ctx ended or the Fake closed first.
func (f *Fake) sleep(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-ctx.Done():
	case <-f.closed:
	}
	return false
}
