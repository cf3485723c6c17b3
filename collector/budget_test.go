package collector

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// simulation is a simulated clock for the refresher, driven by the
// refresher itself: its waits jump the clock forward, and the scrapes that
// fall due during a jump run at their instant, on the refresher's goroutine,
// before the wait returns. Everything happens on one goroutine (plus the
// HTTP server answering while the clock stands still), so a run is exactly
// reproducible.
type simulation struct {
	mu         sync.Mutex
	now        time.Time
	end        time.Time
	nextScrape time.Time
	every      time.Duration
	scrape     func(now time.Time)
	stop       context.CancelFunc
}

func (s *simulation) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// after jumps the clock to now+d, or to the next scrape if that comes first
// (the refresher goes by the clock, so a wait cut short continues).
func (s *simulation) after(d time.Duration) (<-chan time.Time, func() bool) {
	s.mu.Lock()
	target := s.now.Add(d)
	scrapeNow := !s.nextScrape.After(target)
	if scrapeNow {
		target = s.nextScrape
		s.nextScrape = s.nextScrape.Add(s.every)
	}
	s.now = target
	over := !s.now.Before(s.end)
	s.mu.Unlock()
	if over {
		s.stop()
	} else if scrapeNow {
		s.scrape(target)
	}
	ch := make(chan time.Time, 1)
	ch <- target
	return ch, func() bool { return false }
}

// simPacer paces requests on the simulated clock, on the goroutine that
// makes them (the refresher's): it reserves a token at the simulation's now
// and waits through the simulation's timer until the clock reaches the
// reservation, so that the refresher's requests keep to the budget and a
// scrape due meanwhile runs at its instant.
type simPacer struct {
	sim   *simulation
	limit *rate.Limiter
}

func (p simPacer) wait(ctx context.Context) error {
	now := p.sim.Now()
	res := p.limit.ReserveN(now, 1)
	if !res.OK() {
		return fmt.Errorf("test rate limit: burst below 1")
	}
	until := now.Add(res.DelayFrom(now))
	for p.sim.Now().Before(until) {
		timer, _ := p.sim.after(until.Sub(p.sim.Now()))
		<-timer
		if err := ctx.Err(); err != nil {
			res.CancelAt(p.sim.Now())
			return err
		}
	}
	return ctx.Err()
}

// pacedSource is inventorySource with the refresher's calls (backups and
// disk) paced on the simulated clock.
type pacedSource struct {
	*inventorySource
	pacer simPacer
}

func (s *pacedSource) Backups(ctx context.Context, envID string) ([]kinsta.Backup, error) {
	if err := s.pacer.wait(ctx); err != nil {
		return nil, err
	}
	return s.inventorySource.Backups(ctx, envID)
}

func (s *pacedSource) DiskUsage(ctx context.Context, companyID, envID string) (kinsta.DiskUsage, error) {
	if err := s.pacer.wait(ctx); err != nil {
		return kinsta.DiskUsage{}, err
	}
	return s.inventorySource.DiskUsage(ctx, companyID, envID)
}

// kinstaBudget is the API as the test sees it: a request limit on the
// simulated clock (429 beyond it) and a log of every request.
type kinstaBudget struct {
	sim     *simulation
	next    http.Handler
	limit   *rate.Limiter
	mu      sync.Mutex
	perSec  map[int64]int
	byPath  map[string][]time.Time
	tooMany int
}

func (k *kinstaBudget) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := k.sim.Now()
	k.mu.Lock()
	k.perSec[now.Unix()]++
	ok := k.limit.AllowN(now, 1)
	if !ok {
		k.tooMany++
	}
	k.byPath[r.URL.Path] = append(k.byPath[r.URL.Path], now)
	k.mu.Unlock()
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"status":429,"message":"Too many requests, please try again later."}`)
		return
	}
	k.next.ServeHTTP(w, r)
}

type budgetRun struct {
	start      time.Time
	envs       []string // environment ids
	api        *kinstaBudget
	scrapes    int
	dueSamples map[time.Duration]float64 // sum of due items of all collectors, by time since start
	lagSamples map[time.Duration]float64 // seconds behind (from the oldest-due timestamps)
	// slowestScrape is the longest real time a scrape's Refresh took.
	slowestScrape time.Duration
}

// runBudget simulates an exporter over a company of 250 sites with two
// environments each (500 environments), the backups and disk collectors at
// interval, a budget of 1 request/s (burst 1), a scrape every 30s, for span.
func runBudget(t *testing.T, interval, span time.Duration) *budgetRun {
	t.Helper()
	company := kinstatest.GenerateCompany("c1", 250, 2, 1)
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	sim := &simulation{now: start, end: start.Add(span), nextScrape: start, every: 30 * time.Second}
	fake := kinstatest.New("test-key", company)
	api := &kinstaBudget{sim: sim, next: fake, limit: rate.NewLimiter(1, 1),
		perSec: map[int64]int{}, byPath: map[string][]time.Time{}}
	srv := httptest.NewServer(api)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	client, err := kinsta.New(kinsta.Config{BaseURL: srv.URL, APIKey: "test-key", Now: sim.Now})
	if err != nil {
		t.Fatal(err)
	}
	// The inventory comes from memory: GET /sites is the scrape's, not the
	// refresher's, and is not what this test measures.
	src := &pacedSource{inventorySource: &inventorySource{Client: client},
		pacer: simPacer{sim: sim, limit: rate.NewLimiter(1, 1)}}
	run := &budgetRun{start: start, api: api, dueSamples: map[time.Duration]float64{}, lagSamples: map[time.Duration]float64{}}
	var sites []kinsta.Site
	for _, s := range company.Sites {
		site := kinsta.Site{ID: s.ID, Name: s.Name, Status: s.Status}
		for _, env := range s.Environments {
			site.Environments = append(site.Environments, kinsta.Environment{ID: env.ID, Name: env.Name})
			run.envs = append(run.envs, env.ID)
		}
		sites = append(sites, site)
	}
	src.set(company.ID, sites)

	cfg := Config{Company: company.ID, CacheTTL: time.Minute, RefreshTimeout: 10 * time.Second,
		MaxStaleness: time.Hour, Now: sim.Now,
		Collectors: map[string]time.Duration{"backups": interval, "disk": interval},
		after:      sim.after}
	e := newExporter(t, src, cfg, log.NewNopLogger())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sim.stop = cancel
	sim.scrape = func(now time.Time) {
		run.scrapes++
		// The scrape runs on the refresher's own goroutine, in the middle of
		// its wait: if Refresh waited for any refresher work it would wait
		// for itself, until the deadline. The deadline is generous only so
		// that a loaded CI machine does not fail the test.
		sctx, scancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer scancel()
		began := time.Now()
		e.Refresh(sctx)
		if sctx.Err() != nil {
			t.Fatalf("scrape at +%s waited for its deadline", now.Sub(start))
		}
		run.slowestScrape = max(run.slowestScrape, time.Since(began))
		// The scrape answers from the cache: every series is there.
		sum := summarize(t, e)
		if sum.sites != 250 {
			t.Fatalf("scrape at +%s: %d sites", now.Sub(start), sum.sites)
		}
		if run.scrapes%20 == 1 { // a full pedantic gather now and then
			if _, err := testutil.GatherAndCount(pedantic(allSeries(e))); err != nil {
				t.Fatalf("scrape at +%s: %v", now.Sub(start), err)
			}
		}
		if run.scrapes%10 == 1 {
			run.dueSamples[now.Sub(start)] = sum.due
			if !sum.oldestDue.IsZero() {
				run.lagSamples[now.Sub(start)] = now.Sub(sum.oldestDue).Seconds()
			}
		}
	}
	e.ref.run(ctx) // returns when the simulated span is over
	return run
}

type summary struct {
	sites     int
	due       float64   // items due, all collectors
	oldestDue time.Time // the oldest of the oldest-due timestamps
}

// summarize reads what a scrape would serve of e, cheaply: the site series
// are counted, the queue series gathered.
func summarize(t *testing.T, e *Exporter) summary {
	t.Helper()
	var s summary
	e.Gauges(SitesPart, "", func(name, _ string, _ []string, rows Rows) bool {
		values := rows.Values
		if name == "kinsta_site_info" {
			s.sites += len(values)
		}
		return true
	})
	families, err := pedantic(LiveCollector(e)).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.Metric {
			switch f.GetName() {
			case "kinsta_exporter_refresh_queue_due_items":
				s.due += m.GetGauge().GetValue()
			case "kinsta_exporter_refresh_queue_oldest_due_timestamp_seconds":
				if ts := time.Unix(0, int64(m.GetGauge().GetValue()*1e9)); s.oldestDue.IsZero() || ts.Before(s.oldestDue) {
					s.oldestDue = ts
				}
			}
		}
	}
	return s
}

// check asserts the budget: at most one request in any simulated second, no
// 429, and returns the refresh times of every environment by collector.
func (r *budgetRun) check(t *testing.T) map[string]map[string][]time.Duration {
	t.Helper()
	if r.api.tooMany != 0 {
		t.Errorf("%d requests over the budget were answered 429", r.api.tooMany)
	}
	maxPerSec, total := 0, 0
	for _, n := range r.api.perSec {
		maxPerSec = max(maxPerSec, n)
		total += n
	}
	if maxPerSec > 1 {
		t.Errorf("%d requests in one simulated second; the budget is 1", maxPerSec)
	}
	t.Logf("%d requests in %d distinct simulated seconds, %d scrapes (slowest Refresh %s real time)",
		total, len(r.api.perSec), r.scrapes, r.slowestScrape)
	refreshed := map[string]map[string][]time.Duration{"backups": {}, "analytics/diskspace": {}}
	for path, times := range r.api.byPath {
		for suffix, m := range refreshed {
			if strings.HasSuffix(path, "/"+suffix) {
				env := strings.TrimSuffix(strings.TrimPrefix(path, "/sites/environments/"), "/"+suffix)
				for _, at := range times {
					m[env] = append(m[env], at.Sub(r.start))
				}
			}
		}
	}
	return refreshed
}

// TestBudget500Environments: 500 environments, backups and disk every 30
// minutes (1,000 requests per interval), a budget of 1 request/s.
func TestBudget500Environments(t *testing.T) {
	const interval = 30 * time.Minute
	span := 3*interval + 1100*time.Second
	run := runBudget(t, interval, span)
	refreshed := run.check(t)

	// 1,000 items at 1/s: the first pass ends after 1,000s; every interval
	// the pass repeats. Four passes fit in the span.
	var lastFirst time.Duration
	for what, byEnv := range refreshed {
		if len(byEnv) != len(run.envs) {
			t.Fatalf("%s: %d environments refreshed, want %d", what, len(byEnv), len(run.envs))
		}
		for _, env := range run.envs {
			times := byEnv[env]
			if len(times) != 4 {
				t.Fatalf("%s of %s: refreshed %d times (%v), want 4", what, env, len(times), times)
			}
			lastFirst = max(lastFirst, times[0])
			for i := 1; i < len(times); i++ {
				if gap := times[i] - times[i-1]; gap < interval-2*time.Second || gap > interval+2*time.Second {
					t.Fatalf("%s of %s: refreshed %s after the previous time, want about %s", what, env, gap, interval)
				}
			}
		}
	}
	if lastFirst > 1001*time.Second {
		t.Errorf("the first pass over 1,000 items took %s at 1 request/s", lastFirst)
	}
	t.Logf("first pass complete after %s", lastFirst)
	// Behind during the first pass, caught up between passes.
	if d := run.dueSamples[5*time.Minute]; d < 600 || d > 800 {
		t.Errorf("5 minutes in: %v items due, want about 700", d)
	}
	if d := run.dueSamples[20*time.Minute]; d != 0 {
		t.Errorf("20 minutes in (between passes): %v items due, want 0", d)
	}
}

// TestBudgetOverloaded: the same fleet every 15 minutes needs 1.1 requests/s;
// the budget holds, the refresher falls behind evenly and says so.
func TestBudgetOverloaded(t *testing.T) {
	const interval = 15 * time.Minute
	span := 5000 * time.Second
	run := runBudget(t, interval, span)
	refreshed := run.check(t)
	for what, byEnv := range refreshed {
		for _, env := range run.envs {
			times := byEnv[env]
			// One pass takes 1,000s, so each item gets 4 or 5 refreshes in 5,000s.
			if len(times) < 4 || len(times) > 5 {
				t.Fatalf("%s of %s: refreshed %d times, want 4 or 5", what, env, len(times))
			}
			for i := 1; i < len(times); i++ {
				if gap := times[i] - times[i-1]; gap > 1002*time.Second {
					t.Fatalf("%s of %s: %s between refreshes, want at most one pass (1,000s)", what, env, gap)
				}
			}
		}
	}
	// Late in the run it is behind, and the lag metric shows by how much
	// (at most one pass minus the interval, 100s, plus a little).
	var lag, due float64
	for at, l := range run.lagSamples {
		if at > span-10*time.Minute {
			lag = max(lag, l)
			due = max(due, run.dueSamples[at])
		}
	}
	if due == 0 || lag == 0 || lag > 150 {
		t.Errorf("late in an overloaded run: %v items due, %vs behind; want some, at most 150s", due, lag)
	}
	t.Logf("overloaded: up to %v items due, %vs behind", due, lag)
}
