package collector

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// scope is what one work item of a collector covers.
type scope int

const (
	scopeKey             scope = iota // the API key: one item, whatever the companies
	scopeCompany                      // one item per company
	scopeSite                         // one item per site
	scopeEnvironment                  // one item per environment
	scopeLiveEnvironment              // one item per live environment (isLiveEnvironment)
)

// itemCollector is one switchable collector.
type itemCollector interface {
	// scope is the collector's item granularity; fallback is true while a
	// collector with a fallback (fallbackCollector) uses it.
	scope(fallback bool) scope
	// refresh calls the API for one item and builds the item's series.
	refresh(ctx context.Context, req *request) (result, error)
}

// fallbackCollector is a collector that, when its company-wide endpoint
// answers 404, can fall back to per-environment endpoints.
type fallbackCollector interface {
	itemCollector
	fallbackDescription() string
}

// target identifies a work item.
type target struct {
	collector string
	company   string // "" for scopeKey
	siteID    string
	envID     string
}

// request is what a collector's refresh gets.
type request struct {
	target
	inv      *inventory // the company's sites; nil for scopeKey
	state    any        // result.state of the item's last success; nil at first
	fallback bool
	start    time.Time // the refresher's clock when the refresh started
	since    time.Time // when the refresher was created: the exporter's start
	limits   Limits
}

// result is a successful refresh: the item's series until the next success,
// and state the collector wants back next time (activity's watermark).
type result struct {
	series  series
	state   any
	company string    // scopeKey: the company the API key belongs to
	hits    limitHits // what the collector's own limits left out (activity types)
}

// inventory is a company's sites from the last good GET /sites, with
// duplicate and empty ids dropped: their ids and which environment is the
// live one, all a work item needs, so that it keeps no other text of the
// answer alive.
type inventory struct {
	sites   []inventorySite
	envSite map[string]string // environment id -> site id
}

// inventorySite is a site's id and its environments', a few dozen bytes
// rather than a whole kinsta.Site per site.
type inventorySite struct {
	id   string
	envs []inventoryEnv
}

type inventoryEnv struct {
	id   string
	live bool // isLiveEnvironment
}

func newInventory(sites []kinsta.Site) *inventory {
	inv := &inventory{envSite: map[string]string{}}
	seenSites := map[string]bool{}
	for _, s := range sites {
		if s.ID == "" || seenSites[s.ID] {
			continue
		}
		seenSites[s.ID] = true
		envs := make([]inventoryEnv, 0, len(s.Environments))
		for _, env := range s.Environments {
			if env.ID == "" {
				continue
			}
			if _, dup := inv.envSite[env.ID]; dup {
				continue
			}
			inv.envSite[env.ID] = s.ID
			envs = append(envs, inventoryEnv{id: env.ID, live: isLiveEnvironment(env)})
		}
		inv.sites = append(inv.sites, inventorySite{id: s.ID, envs: envs})
	}
	return inv
}

// equal reports whether o has the same sites and environments, in order.
func (inv *inventory) equal(o *inventory) bool {
	if inv == nil || o == nil {
		return inv == o
	}
	return slices.EqualFunc(inv.sites, o.sites, func(a, b inventorySite) bool {
		return a.id == b.id && slices.Equal(a.envs, b.envs)
	})
}

func (inv *inventory) targets(collector, company string, sc scope) []target {
	switch sc {
	case scopeCompany:
		return []target{{collector: collector, company: company}}
	case scopeSite:
		out := make([]target, 0, len(inv.sites))
		for _, s := range inv.sites {
			out = append(out, target{collector: collector, company: company, siteID: s.id})
		}
		return out
	case scopeEnvironment, scopeLiveEnvironment:
		out := make([]target, 0, len(inv.envSite))
		for _, s := range inv.sites {
			for _, env := range s.envs {
				if sc == scopeLiveEnvironment && !env.live {
					continue
				}
				out = append(out, target{collector: collector, company: company, siteID: s.id, envID: env.id})
			}
		}
		return out
	}
	return nil
}

// isLiveEnvironment tells a site's live environment from its staging and
// premium ones. Kinsta names the live environment "live" (its display name
// is "Live"; staging ones are "staging" or a name the user chose), so the
// name, without regard to case or surrounding space, is the test, as the
// alert rules' environment_name="live". GET /sites sends no other marker.
func isLiveEnvironment(env kinsta.Environment) bool {
	return strings.EqualFold(strings.TrimSpace(env.Name), "live")
}

// item is one work item and its cache. series is replaced whole on success.
// There are tens of thousands (four per site at the default flags), so its
// size counts: added, read only for never-fetched items, is kept in Unix
// nanoseconds rather than as a time.Time, which keeps an item in the
// 256-byte size class instead of the 288-byte one.
type item struct {
	target
	reg    *registered
	index  int       // position in the queue; -1 while being refreshed
	seq    uint64    // creation order, to break ties
	added  int64     // Unix nanoseconds
	next   time.Time // due at; zero for never fetched (most overdue of all)
	state  refreshState
	series series
	data   any
}

// isDue reports whether the item waits in the queue and its time has come.
func (it *item) isDue(now time.Time) bool { return it.index >= 0 && !it.next.After(now) }

// dueSince is when the item became due, for the lag metric.
func (it *item) dueSince() time.Time {
	if it.next.IsZero() {
		return time.Unix(0, it.added)
	}
	return it.next
}
