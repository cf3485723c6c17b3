package kinstatest

import (
	"fmt"
	"time"
)

// Fault makes a route misbehave. Fields apply in this order: Hang; Delay; then the
// first of Hostile, RedirectTo, OversizeBytes, Status/Body, else the normal answer, which
// DripBytesPerSecond paces (for Status/Body too). Faults act before the API key
// is checked, so they answer any caller.
type Fault struct {
	// Status answers this HTTP status with the matching Kinsta error body
	// (400/401/404/429/500 as in the fixtures, others {"status","message","data":null});
	// 502, 503 and 504 get an HTML body as a proxy in front of the API would send.
	Status int
	// RetryAfter is sent as the Retry-After header with Status ("" = no header).
	RetryAfter string
	// Body replaces the body (with Status, or 200 when Status is 0), e.g.
	// `{"company":` for truncation, `[]` for a wrong shape, `<html>`.
	Body string
	// Hang never answers: the handler waits until the request context ends (or the
	// Fake is closed) and then aborts the connection.
	Hang bool
	// Delay answers after this delay; the request context ending aborts.
	Delay time.Duration
	// DripBytesPerSecond sends the body this many bytes at a time, one chunk per
	// second, flushing each (with the full Content-Length announced): slowloris.
	DripBytesPerSecond int
	// OversizeBytes streams this many bytes of an endless JSON string
	// (`{"name":"aaaa...`, never closed, no Content-Length), generated on the fly.
	OversizeBytes int64
	// RedirectTo answers 302 with this Location.
	RedirectTo string
	// Hostile answers a hostile body (hostile.go), after Hang and Delay.
	Hostile Hostile
}

func mustKnow(what, endpoint string) {
	if endpoint == "" {
		return
	}
	for _, rt := range routes {
		if rt.template == endpoint {
			return
		}
	}
	panic(fmt.Sprintf("kinstatest: %s: unknown route template %q (want one of %q)", what, endpoint, Routes()))
}

// SetFault makes endpoint (a route template, or "" for every route including
// unknown paths) misbehave; Fault{} clears it. A route's own fault wins over the
// "" fault. It panics on an unknown template.
func (f *Fake) SetFault(endpoint string, fault Fault) {
	mustKnow("SetFault", endpoint)
	f.faultMu.Lock()
	defer f.faultMu.Unlock()
	if fault == (Fault{}) {
		delete(f.faults, endpoint)
	} else {
		f.faults[endpoint] = fault
	}
}

func (f *Fake) fault(endpoint string) Fault {
	f.faultMu.Lock()
	defer f.faultMu.Unlock()
	if ft, ok := f.faults[endpoint]; ok && endpoint != "" {
		return ft
	}
	return f.faults[""]
}
