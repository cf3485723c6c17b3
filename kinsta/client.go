// Package kinsta is a read-only client for the Kinsta API v2, written for an
// exporter: liberal decoding of the documented wire shapes, typed errors, a
// client-wide rate limit (which background requests, marked by
// WithBackground, use only when it has a token to spare) and a back-off
// window after 429s shared by every caller, bounded response sizes, and the
// route template of each request in its context for instrumentation.
package kinsta

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// DefaultBaseURL is the Kinsta API v2 base URL.
const DefaultBaseURL = "https://api.kinsta.com/v2"

const (
	defaultUserAgent        = "kinsta_exporter"
	defaultMaxResponseBytes = 64 << 20
	defaultBurst            = 3
	// maxRedirects: the API does not redirect; a few hops tolerate a proxy
	// in front of it, more is a loop.
	maxRedirects = 3
	// maxErrorBody bounds how much of a non-2xx body is read for its message.
	maxErrorBody = 64 << 10
)

// Config configures a Client. Only APIKey is required.
type Config struct {
	BaseURL          string            // default DefaultBaseURL; trailing slash tolerated
	APIKey           string            // required; never printed, logged or put in an error
	UserAgent        string            // default "kinsta_exporter"
	MaxResponseBytes int64             // default 64 MiB; a larger body fails with KindTooLarge
	RateLimit        float64           // requests per second for the whole client; <= 0 means unlimited
	Burst            int               // default 3
	Limiter          *rate.Limiter     // when set, used instead of RateLimit and Burst: clients of several API keys share one budget
	Transport        http.RoundTripper // default: a clone of http.DefaultTransport
	Now              func() time.Time  // default time.Now; the clock of Retry-After dates and back-off windows
	// A caller held by a back-off window sleeps the remaining time (by Now)
	// on a real timer, so a test clock must not stand still while a caller
	// waits; a test can instead advance it between calls.
}

// Client calls the Kinsta API. It is safe for concurrent use; the rate limit
// and the 429 back-off apply to all callers together, because Kinsta limits
// the API key, not the caller.
type Client struct {
	base      string // without trailing slash
	key       string
	keyFilter keyFilter // finds the key in error texts
	userAgent string
	maxBody   int64
	http      *http.Client
	limiter   *rate.Limiter // nil: unlimited
	now       func() time.Time
	backoff   backoff
}

// New returns a Client for cfg. It fails for an empty or malformed key and a
// base URL that is not an absolute http(s) URL.
func New(cfg Config) (*Client, error) {
	key := strings.TrimSpace(cfg.APIKey)
	if key == "" {
		return nil, errors.New("kinsta: API key is empty")
	}
	if strings.IndexFunc(key, isHeaderUnsafe) >= 0 {
		// The message must not quote the key.
		return nil, errors.New("kinsta: API key contains whitespace or control characters")
	}
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	c := &Client{
		base:      base,
		key:       key,
		keyFilter: newKeyFilter(key),
		userAgent: cmpOr(cfg.UserAgent, defaultUserAgent),
		maxBody:   cfg.MaxResponseBytes,
		now:       cfg.Now,
	}
	if c.maxBody <= 0 {
		c.maxBody = defaultMaxResponseBytes
	}
	if c.now == nil {
		c.now = time.Now
	}
	switch {
	case cfg.Limiter != nil:
		c.limiter = cfg.Limiter
	case cfg.RateLimit > 0:
		burst := cfg.Burst
		if burst <= 0 {
			burst = defaultBurst
		}
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RateLimit), burst)
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.http = &http.Client{Transport: transport, CheckRedirect: checkRedirect}
	return c, nil
}

func isHeaderUnsafe(r rune) bool { return r <= ' ' || r == 0x7f }

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// CheckBaseURL reports whether raw is a usable API base URL (Config.BaseURL):
// http or https, a host, no credentials, query or fragment.
func CheckBaseURL(raw string) error {
	_, err := parseBaseURL(raw)
	return err
}

func parseBaseURL(raw string) (string, error) {
	if raw == "" {
		raw = DefaultBaseURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("kinsta: invalid API base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("kinsta: API base URL %q: scheme must be http or https", u.Redacted())
	case u.Host == "":
		return "", fmt.Errorf("kinsta: API base URL %q has no host", u.Redacted())
	case u.User != nil:
		return "", fmt.Errorf("kinsta: API base URL %q must not contain credentials", u.Redacted())
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("kinsta: API base URL %q must not have a query or fragment", u.Redacted())
	}
	return strings.TrimRight(raw, "/"), nil
}

// checkRedirect limits redirects and never lets the key leave the API's
// origin. net/http already drops Authorization when the host name changes,
// but it ignores the port and the scheme: a redirect to another port of the
// same host, or from https to http, would still carry the key.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	// Once a hop has left the origin the key stays off, even if a later hop
	// comes back: that hop was chosen by another server.
	left := !sameOrigin(req.URL, via[0].URL)
	for _, r := range via[1:] {
		left = left || !sameOrigin(r.URL, via[0].URL)
	}
	if left {
		req.Header.Del("Authorization")
	}
	return nil
}

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Host, b.Host)
}

type endpointKey struct{}

type backgroundKey struct{}

// WithBackground marks the requests made with ctx as background work, which
// yields to all other requests at the rate limit (Config.RateLimit or
// Config.Limiter). A background request takes a rate-limit token only when
// one is free at that moment; otherwise it sleeps about until the next token
// is due and tries again, never holding a reservation in the limiter's
// queue. A foreground request (one without the mark, such as a scrape's
// GET /sites) therefore waits only for other foreground requests, however
// many background ones are waiting, and background work gets what is left
// of the budget. The 429 back-off holds both alike. The exporter's
// background collectors mark their requests; a waiting background request
// fails with KindTimeout when ctx ends.
func WithBackground(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

func isBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}

// EndpointFromContext returns the route template ("/sites",
// "/sites/environments/{env_id}/backups", ...) of the request whose context
// this is, or "". A Config.Transport can use it to label metrics without the
// cardinality of real IDs.
func EndpointFromContext(ctx context.Context) string {
	s, _ := ctx.Value(endpointKey{}).(string)
	return s
}

// call is one GET: its route template for errors and metrics, and its
// escaped path and query.
type call struct {
	endpoint string
	path     string
	query    url.Values
}

// get performs c, honouring the back-off window and the rate limit, and
// passes a 2xx body (at most MaxResponseBytes) to decode. A decode error is a
// KindBadResponse. No retries: callers keep their last good data.
func (c *Client) get(ctx context.Context, cl call, decode func([]byte) error) error {
	resp, err := c.send(ctx, cl)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := readCapped(resp.Body, c.maxBody, resp.ContentLength)
	if err != nil {
		return c.bodyError(ctx, cl.endpoint, resp.StatusCode, err)
	}
	if err := decode(body); err != nil {
		return c.decodeError(cl.endpoint, resp, unmarshalAPIError(body), err)
	}
	c.backoff.succeeded()
	return nil
}

// getStream is get for a body too large to hold whole: decode reads it as it
// arrives, through the MaxResponseBytes cap, and returns with a decoding
// error the body read as an error body (nil if it is not a JSON object). A
// broken or oversized body is reported as get reports it, even when its
// start already failed to decode.
func (c *Client) getStream(ctx context.Context, cl call, decode func(io.Reader) (*apiErrorBody, error)) error {
	resp, err := c.send(ctx, cl)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var errBody *apiErrorBody
	bodyErr, err := streamCapped(resp.Body, c.maxBody, resp.ContentLength, func(body io.Reader) (err error) {
		errBody, err = decode(body)
		return err
	})
	switch {
	case bodyErr != nil:
		return c.bodyError(ctx, cl.endpoint, resp.StatusCode, bodyErr)
	case err != nil:
		return c.decodeError(cl.endpoint, resp, errBody, err)
	}
	c.backoff.succeeded()
	return nil
}

// send performs cl once admitted and returns its 2xx response, whose body
// the caller closes; any other status is an error.
func (c *Client) send(ctx context.Context, cl call) (*http.Response, error) {
	if err := c.admit(ctx, cl.endpoint); err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, endpointKey{}, cl.endpoint)
	target := c.base + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, c.newError(&Error{Kind: KindTransport, Endpoint: cl.endpoint, Message: "building request", Err: err})
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("Accept", "application/json")

	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.requestError(ctx, cl.endpoint, 0, "request", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		defer resp.Body.Close()
		return nil, c.statusError(cl.endpoint, resp)
	}
	return resp, nil
}

// admit waits until a request may be sent: the 429 window first (failing at
// once if it outlasts ctx), then a rate-limit token (a background request
// only one that is free; see WithBackground), then the window again in case
// another caller got a 429 while this one waited for its token.
func (c *Client) admit(ctx context.Context, endpoint string) error {
	if err := c.waitBackoff(ctx, endpoint); err != nil {
		return err
	}
	if c.limiter != nil {
		if isBackground(ctx) {
			if err := yieldForToken(ctx, c.limiter); err != nil {
				return &Error{Kind: KindTimeout, Endpoint: endpoint,
					Message: "waiting for spare capacity of the client rate limit (--kinsta.rate-limit); background work yields to other requests", Err: err}
			}
		} else if err := c.limiter.Wait(ctx); err != nil {
			// rate.Limiter reports "would exceed context deadline" without
			// waiting; that is a timeout of this call, not a Kinsta limit.
			return &Error{Kind: KindTimeout, Endpoint: endpoint,
				Message: "waiting for the client rate limit (--kinsta.rate-limit)", Err: err}
		}
	}
	return c.waitBackoff(ctx, endpoint)
}

// Bounds of one sleep of a background request waiting for a free token.
const (
	minYieldSleep = time.Millisecond
	maxYieldSleep = time.Second
)

// yieldForToken takes a token of l for a background request: only when one
// is free now (Allow reserves nothing otherwise), so that foreground Waits
// never queue behind background requests. Between tries it sleeps until
// about when the next token is due (later, if foreground requests have
// reserved tokens ahead), bounded and with jitter so that the refreshers of
// many companies do not wake in lockstep.
func yieldForToken(ctx context.Context, l *rate.Limiter) error {
	for {
		if l.Allow() {
			return nil
		}
		limit := l.Limit()
		if limit <= 0 || l.Burst() < 1 {
			return errors.New("the rate limiter admits no more requests")
		}
		need := 1 - l.Tokens() // > 0: Allow just failed
		d := time.Duration(need / float64(limit) * float64(time.Second))
		d = min(max(d, minYieldSleep), maxYieldSleep)
		d += rand.N(d/8 + 1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
}

// waitBackoff blocks while the 429 window is open. The window is measured on
// c.now's clock; a timer sleeps the remaining time and the window is checked
// again, since another 429 may have extended it.
func (c *Client) waitBackoff(ctx context.Context, endpoint string) error {
	for {
		wait := c.backoff.remaining(c.now())
		if wait <= 0 {
			return nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return &Error{Kind: KindRateLimited, Endpoint: endpoint, RetryAfter: wait,
				Message: "Kinsta rate-limited this API key and the back-off outlasts the deadline; no request sent"}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return &Error{Kind: KindTimeout, Endpoint: endpoint,
				Message: "waiting for Kinsta's rate-limit back-off", Err: context.Cause(ctx)}
		case <-t.C:
		}
	}
}
