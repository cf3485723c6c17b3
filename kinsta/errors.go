package kinsta

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind classifies a failed API call, so callers can decide what to do (keep
// their last data, back off, tell the operator to fix the key) without parsing
// messages. Its String is meant as a metric label value.
type Kind int

// The kinds of failure. KindUnknown is the zero value and is never produced
// for a failed request.
const (
	KindUnknown      Kind = iota
	KindUnauthorized      // 401, and 403 (not documented by Kinsta, but it means the same to an operator)
	KindNotFound          // 404; Kinsta also answers 404 when the key's role may not read the resource
	KindRateLimited       // 429, or an error body saying "too many requests", or a back-off window past the deadline
	KindServer            // 5xx
	KindClient            // any other 4xx, and a request refused before it was sent (an invalid company id)
	KindBadResponse       // 2xx with a body that is not JSON, is truncated or has the wrong shape
	KindTooLarge          // body larger than Config.MaxResponseBytes
	KindTimeout           // context deadline or cancellation, including client-side waits past the deadline
	KindTransport         // dial, TLS, connection reset, too many redirects
)

var kindNames = [...]string{
	KindUnknown:      "unknown",
	KindUnauthorized: "unauthorized",
	KindNotFound:     "not_found",
	KindRateLimited:  "rate_limited",
	KindServer:       "server_error",
	KindClient:       "client_error",
	KindBadResponse:  "bad_response",
	KindTooLarge:     "too_large",
	KindTimeout:      "timeout",
	KindTransport:    "transport",
}

func (k Kind) String() string {
	if k < 0 || int(k) >= len(kindNames) {
		return "unknown"
	}
	return kindNames[k]
}

// hint is appended to Error() for the kinds an operator can act on.
func (k Kind) hint() string {
	switch k {
	case KindUnauthorized:
		return "check --kinsta.api-key-file"
	case KindNotFound:
		return "Kinsta also answers 404 when the API key's role may not read this"
	}
	return ""
}

// Error is the error of every failed Client call. It never holds the API key.
type Error struct {
	Kind       Kind
	Endpoint   string        // route template, e.g. "/sites"; "" outside a request (DecodeSites)
	StatusCode int           // HTTP status; 0 when no response was received
	Message    string        // API message (sanitised, truncated) or a description of the failure
	RetryAfter time.Duration // for KindRateLimited: how long no request to Kinsta will be sent
	Err        error         // underlying error, if any
}

// Error is written for an operator reading a log line:
//
//	kinsta API GET /sites: 401 unauthorized: No or invalid API key provided to the request (check --kinsta.api-key-file)
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kinsta API")
	if e.Endpoint != "" {
		b.WriteString(" GET ")
		b.WriteString(e.Endpoint)
	}
	b.WriteString(": ")
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, "%d ", e.StatusCode)
	}
	b.WriteString(e.Kind.String())
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		if detail := shortError(e.Err); !strings.Contains(e.Message, detail) {
			b.WriteString(": ")
			b.WriteString(detail)
		}
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", roundDuration(e.RetryAfter))
	}
	if h := e.Kind.hint(); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteString(")")
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of the first *Error in err's chain, or KindUnknown.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindUnknown
}

// IsKind reports whether err is an *Error of kind k.
func IsKind(err error, k Kind) bool {
	return err != nil && KindOf(err) == k
}

// shortError drops the *url.Error wrapper, whose text repeats the method and
// the full URL that Error() already names by route.
func shortError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err.Error()
	}
	return err.Error()
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}

// kindForStatus maps a non-2xx HTTP status to a Kind.
func kindForStatus(code int) Kind {
	switch {
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		return KindUnauthorized
	case code == http.StatusNotFound:
		return KindNotFound
	case code == http.StatusTooManyRequests:
		return KindRateLimited
	case code >= 500 && code <= 599:
		return KindServer
	case code >= 400 && code <= 499:
		return KindClient
	}
	// 1xx/3xx reaching us (a redirect without Location, 304) is not an answer
	// we can use.
	return KindBadResponse
}

// apiErrorBody is the error body shape. Kinsta's spec says
// {"message","status","data"}; other clients saw {"error"} and a nested
// {"data":{"message"}}. Every part is optional and of any type.
type apiErrorBody struct {
	Message flexString `json:"message"`
	Error   flexString `json:"error"`
	Status  optFloat   `json:"status"`
	// data is null, absent, a string or an object with a message; it is
	// decoded in a second step so a non-object never fails the whole body.
	Data json.RawMessage `json:"data"`
}

// parsedAPIError is what an error body tells: its message and, when the body
// has one, its numeric status.
type parsedAPIError struct {
	message string
	status  int
}

// parseAPIError extracts the message of an error body: `message`, else
// `error`, else `data.message`; a distinct data.message is appended because it
// is usually the specific one ("Not found: Site not found").
func parseAPIError(body []byte) (parsedAPIError, bool) {
	return unmarshalAPIError(body).parse()
}

// unmarshalAPIError reads body as an error body; nil if it is not one (not
// JSON, or not an object or null).
func unmarshalAPIError(body []byte) *apiErrorBody {
	var b apiErrorBody
	if json.Unmarshal(body, &b) != nil {
		return nil
	}
	return &b
}

// parse is parseAPIError of a body already read; false for a nil b.
func (b *apiErrorBody) parse() (parsedAPIError, bool) {
	if b == nil {
		return parsedAPIError{}, false
	}
	var nested struct {
		Message flexString `json:"message"`
	}
	if len(b.Data) > 0 && b.Data[0] == '{' {
		_ = json.Unmarshal(b.Data, &nested)
	}
	msg := firstNonEmpty(string(b.Message), string(b.Error), string(nested.Message))
	if n := string(nested.Message); n != "" && n != msg {
		msg += ": " + n
	}
	p := parsedAPIError{message: msg}
	if b.Status.ok && b.Status.v >= 100 && b.Status.v <= 599 {
		p.status = int(b.Status.v)
	}
	return p, true
}

func isTooManyRequests(msg string) bool {
	return strings.Contains(strings.ToLower(msg), "too many requests")
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// maxMessageRunes bounds API text in an error: it ends up in logs and on the
// landing page, and a misbehaving proxy may send anything.
const maxMessageRunes = 200

// cleanMessage makes untrusted text safe for a one-line log: control
// characters become spaces, runs of spaces collapse, and long text is cut.
func cleanMessage(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	var b strings.Builder
	n := 0
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if n >= maxMessageRunes {
			b.WriteString("…")
			break
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			n++
		}
		space = false
		b.WriteRune(r)
		n++
	}
	return b.String()
}
