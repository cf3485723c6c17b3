package kinsta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Turning what went wrong with a request into an *Error: the kind, Kinsta's
// message, and the 429 back-off window.

// requestError classifies a failure to get or read a response: the context
// ending is a timeout whatever the transport made of it.
func (c *Client) requestError(ctx context.Context, endpoint string, status int, phase string, err error) error {
	if ctx.Err() != nil {
		return c.newError(&Error{Kind: KindTimeout, Endpoint: endpoint, StatusCode: status,
			Message: phase + " did not complete", Err: context.Cause(ctx)})
	}
	return c.newError(&Error{Kind: KindTransport, Endpoint: endpoint, StatusCode: status, Err: err})
}

func (c *Client) bodyError(ctx context.Context, endpoint string, status int, err error) error {
	switch {
	case errors.Is(err, errTooLarge):
		return &Error{Kind: KindTooLarge, Endpoint: endpoint, StatusCode: status,
			Message: fmt.Sprintf("response body over %d bytes (--kinsta.max-response-size)", c.maxBody)}
	case ctx.Err() != nil:
		return c.requestError(ctx, endpoint, status, "reading the response body", err)
	}
	// The body broke off (connection reset, short Content-Length).
	return c.newError(&Error{Kind: KindBadResponse, Endpoint: endpoint, StatusCode: status,
		Message: "truncated response body", Err: err})
}

// statusError turns a non-2xx response into an Error, reading a bounded part
// of the body for Kinsta's message, and opens the back-off window on a 429 or
// a "too many requests" message.
func (c *Client) statusError(endpoint string, resp *http.Response) error {
	e := &Error{Kind: kindForStatus(resp.StatusCode), Endpoint: endpoint, StatusCode: resp.StatusCode}
	// A read error here is ignored: the status already says what happened.
	body, _ := readCapped(resp.Body, min(c.maxBody, maxErrorBody), -1)
	if p, ok := parseAPIError(body); ok {
		e.Message = p.message
	}
	c.rateLimited(e, resp)
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
		if !looksLikeJSON(resp) && len(body) > 0 {
			e.Message = strings.TrimSpace(e.Message + " (non-JSON body, " + contentType(resp) + ")")
		}
	}
	return c.newError(e)
}

// decodeError reports a 2xx body that could not be decoded. Some APIs answer
// errors with 200 and the real status in the body; such a body (errBody, the
// body read as an error body) is classified by that status rather than as a
// bad response.
func (c *Client) decodeError(endpoint string, resp *http.Response, errBody *apiErrorBody, err error) error {
	if p, ok := errBody.parse(); ok && (p.status >= 400 || isTooManyRequests(p.message)) && p.message != "" {
		e := &Error{Kind: kindForStatus(p.status), Endpoint: endpoint, StatusCode: resp.StatusCode, Message: p.message}
		c.rateLimited(e, resp)
		return c.newError(e)
	}
	msg, cause := describeDecodeError(err)
	e := &Error{Kind: KindBadResponse, Endpoint: endpoint, StatusCode: resp.StatusCode, Message: msg, Err: cause}
	if !looksLikeJSON(resp) {
		// An HTML error page from a proxy is the usual case here.
		var syntax *json.SyntaxError
		var streamSyntax *jsonSyntaxError
		if errors.As(err, &syntax) || errors.As(err, &streamSyntax) {
			e.Message = "response is not JSON"
		}
		e.Message += " (Content-Type " + contentType(resp) + ")"
	}
	return c.newError(e)
}

func contentType(resp *http.Response) string {
	ct := cleanMessage(resp.Header.Get("Content-Type"))
	if ct == "" {
		return "none"
	}
	return ct
}

func looksLikeJSON(resp *http.Response) bool {
	return strings.Contains(strings.ToLower(resp.Header.Get("Content-Type")), "json")
}

// rateLimited marks e as a rate-limit error when Kinsta's message says "too
// many requests" (whatever the status), and for a rate-limit error opens the
// client's back-off window (Retry-After, or the exponential back-off) and
// records how long it stays open: the one place that turns a 429 into a
// window for every caller of the client (see HoldOff for what callers do).
func (c *Client) rateLimited(e *Error, resp *http.Response) {
	if isTooManyRequests(e.Message) {
		e.Kind = KindRateLimited
	}
	if e.Kind == KindRateLimited {
		e.RetryAfter = c.backoff.rateLimited(c.now(), resp.Header.Get("Retry-After"))
	}
}
