package collector

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// DebugRefresh is the log of one refresh of a company's sites that a person
// asked for (/probe?debug=true): each API call, and the outcome.
type DebugRefresh struct {
	Company string
	Started time.Time
	Calls   []APICall
	Dropped int // calls not logged, past the log's bound
	// Finished: the refresh ended before the caller's deadline; otherwise
	// it goes on in the background and Calls are those made so far.
	Finished bool
	Duration time.Duration // of the refresh, when Finished
	Sites    int           // in the answer, when it succeeded
	ErrKind  string        // kinsta.Kind of the failure; "" on success
	Err      string        // the client's error text (never the key); "" on success
}

// ErrCompanyUnknown: the key's company is not known yet (GET /validate has
// not named it), so there are no sites to refresh.
var ErrCompanyUnknown = errors.New("the API key's company is not known yet")

// DebugRefresh refreshes the company's sites now, whatever the cache's age,
// through the same client (its rate limit and 429 back-off) and the same
// single flight as scrapes, stores the result as any refresh does, and
// returns the log of its API calls once it is done or ctx ends. A refresh
// of a scrape already under way is waited for first, since its calls are
// not this one's. Callers bound how often they ask: each costs an API call.
// The calls are logged by the client's transport: one wrapped by
// InstrumentTransport, as main.go builds it.
func (e *Exporter) DebugRefresh(ctx context.Context) (DebugRefresh, error) {
	company := e.Company()
	if company == "" {
		return DebugRefresh{}, ErrCompanyUnknown
	}
	trace := &callTrace{}
	d := DebugRefresh{Company: company, Started: e.cfg.Now()}
	for {
		var ran atomic.Bool
		ch := e.flight.DoChan("sites", func() (any, error) {
			ran.Store(true)
			return e.fetchSites(withCalls(context.Background(), e.calls, trace))
		})
		if !wait(ctx, ch) {
			d.Calls, d.Dropped = trace.snapshot()
			return d, nil
		}
		if ran.Load() {
			break
		}
	}
	d.Calls, d.Dropped = trace.snapshot()
	d.Finished = true
	e.mu.RLock()
	defer e.mu.RUnlock()
	d.Duration = e.state.lastDuration
	if err := e.state.lastErr; err != nil {
		d.ErrKind, d.Err = kinsta.KindOf(err).String(), err.Error()
		markFailedCall(d.Calls, err)
	} else {
		d.Sites = e.snapshot.sites()
	}
	return d, nil
}

// markFailedCall gives the call the refresh failed on (the last one of the
// error's route and status) the failure's kind.
func markFailedCall(calls []APICall, err error) {
	var ke *kinsta.Error
	if !errors.As(err, &ke) {
		return
	}
	for i := len(calls) - 1; i >= 0; i-- {
		if calls[i].Endpoint == ke.Endpoint && calls[i].Status == ke.StatusCode {
			calls[i].Kind = ke.Kind.String()
			return
		}
	}
}

// sites is the number of sites of a snapshot.
func (s *siteRows) sites() int {
	if s == nil {
		return 0
	}
	return len(s[rowSiteInfo].values)
}
