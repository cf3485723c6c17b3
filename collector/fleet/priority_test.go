package fleet

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/go-kit/log"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// TestSitesRefreshBeatsBackgroundWork: 20 companies, each with its own key
// and so its own client and background refresher, all on one limiter of 2
// requests/s. With every refresher busy (400 backup items, 200 s of work at
// that rate), a GET /sites refresh must not queue behind them: before
// background work yielded, the 20 refreshers kept about 20 reservations
// (10 s) in the limiter's queue, and a /sites call failed at once with
// "would exceed context deadline", setting kinsta_up to 0.
func TestSitesRefreshBeatsBackgroundWork(t *testing.T) {
	const n = 20
	companies := map[string]*kinstatest.Company{}
	var list []Company
	for i := range n {
		key, id := fmt.Sprintf("key-%02d", i), fmt.Sprintf("company-%02d", i)
		companies[key] = kinstatest.GenerateCompany(id, 10, 2, 1)
		list = append(list, Company{ID: id, Key: key})
	}
	a := newAPI(t, companies)
	backups := func() (total int) {
		for _, f := range a.fakes {
			total += f.Requests(kinstatest.RouteBackups)
		}
		return total
	}
	limiter := rate.NewLimiter(2, n) // a burst for the first round of /sites, then 2/s
	f := New(Options{
		NewClient: func(key string) (*kinsta.Client, error) {
			return kinsta.New(kinsta.Config{BaseURL: a.url, APIKey: key, Limiter: limiter})
		},
		Collector: collector.Config{CacheTTL: time.Second, RefreshTimeout: 5 * time.Second,
			MaxStaleness: time.Hour, Collectors: map[string]time.Duration{"backups": time.Hour}},
		Logger: log.NewNopLogger(),
	})
	if _, err := f.Apply(list); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx)

	// The first /sites of every company, from the burst; it gives each
	// refresher its inventory and starts it.
	f.Refresh(ctx)
	if up := upCount(t, f); up != n {
		t.Fatalf("first refresh: kinsta_up 1 for %d of %d companies", up, n)
	}
	// Wait until the refreshers are at work.
	for backups() < 2 {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}

	busy := backups()
	for round := range 2 {
		time.Sleep(1100 * time.Millisecond) // the TTL has passed: /sites is due again
		picked := []Company{list[round], list[n-1-round]}
		before := make([]int, len(picked))
		var wg sync.WaitGroup
		for i, c := range picked {
			before[i] = a.fakes[c.Key].Requests(kinstatest.RouteSites)
			target, ok := f.Lookup(c.ID)
			if !ok {
				t.Fatalf("%s not found", c.ID)
			}
			wg.Go(func() {
				// The scrape's deadline is the refresh timeout, as without
				// X-Prometheus-Scrape-Timeout-Seconds.
				sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
				defer scancel()
				target.exp.Sync(sctx) // and wait for the refresh

			})
		}
		wg.Wait()
		for i, c := range picked {
			if got := a.fakes[c.Key].Requests(kinstatest.RouteSites) - before[i]; got != 1 {
				t.Errorf("round %d, %s: %d GET /sites answered, want 1", round, c.ID, got)
			}
			if up := companyUp(t, f, c.ID); up != 1 {
				t.Errorf("round %d, %s: kinsta_up %v after a /sites refresh while the refreshers were busy", round, c.ID, up)
			}
		}
	}
	if got := backups() - busy; got < 2 {
		t.Errorf("the background refreshers made %d backup requests meanwhile; they should keep working on spare capacity", got)
	}
}

// upCount is the number of companies with kinsta_up 1.
func upCount(t *testing.T, f *Fleet) int {
	t.Helper()
	up := 0
	for _, v := range kinstaUp(t, f) {
		if v == 1 {
			up++
		}
	}
	return up
}

func companyUp(t *testing.T, f *Fleet, id string) float64 {
	t.Helper()
	v, ok := kinstaUp(t, f)[id]
	if !ok {
		t.Fatalf("no kinsta_up for %s", id)
	}
	return v
}

// kinstaUp is kinsta_up by company.
func kinstaUp(t *testing.T, f *Fleet) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector.LiveCollector(f))
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, fam := range fams {
		if fam.GetName() != "kinsta_up" {
			continue
		}
		for _, m := range fam.Metric {
			for _, l := range m.Label {
				if l.GetName() == "company" {
					out[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	return out
}
