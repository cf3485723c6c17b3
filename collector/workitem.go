package collector

import (
	"context"
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

// lists reports whether newInventory(sites) would be inv, without building
// it. It may say no where the answer repeats a site or an environment that
// newInventory drops (then a caller builds the inventory anyway), never
// yes where they differ: ids are unique in inv, so a repeat in sites meets
// an id inv has elsewhere.
func (inv *inventory) lists(sites []kinsta.Site) bool {
	if inv == nil {
		return false
	}
	i := 0
	for _, s := range sites {
		if s.ID == "" {
			continue
		}
		if i >= len(inv.sites) || inv.sites[i].id != s.ID {
			return false
		}
		envs, j := inv.sites[i].envs, 0
		for _, env := range s.Environments {
			if env.ID == "" {
				continue
			}
			if j >= len(envs) || envs[j] != (inventoryEnv{id: env.ID, live: isLiveEnvironment(env)}) {
				return false
			}
			j++
		}
		if j != len(envs) {
			return false
		}
		i++
	}
	return i == len(inv.sites)
}

// keys are the items a collector of scope sc has for the inventory.
func (inv *inventory) keys(sc scope) []itemKey {
	switch sc {
	case scopeCompany:
		return []itemKey{{}}
	case scopeSite:
		out := make([]itemKey, 0, len(inv.sites))
		for _, s := range inv.sites {
			out = append(out, itemKey{siteID: s.id})
		}
		return out
	case scopeEnvironment, scopeLiveEnvironment:
		out := make([]itemKey, 0, len(inv.envSite))
		for _, s := range inv.sites {
			for _, env := range s.envs {
				if sc == scopeLiveEnvironment && !env.live {
					continue
				}
				out = append(out, itemKey{siteID: s.id, envID: env.id})
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
// There are tens of thousands (six per site at the default flags, most of
// them never fetched yet), so it holds only what the refresher cannot
// derive: the collector is reg's, the company the refresher's (items of the
// API key's scope have none, see company), and times are stamps. It fits
// the 128-byte size class (TestItemSizeClass), half of what a target and
// four time.Times took.
type item struct {
	reg         *registered
	key         itemKey
	series      *series // nil until the first success
	data        any     // result.state of the last success
	lastErr     error   // of the last attempt; nil after a success
	index       int32   // position in the queue; -1 while being refreshed
	seq         uint64  // creation order, to break ties
	added       stamp   // read only while never fetched
	next        stamp   // due at; zero for never fetched (most overdue of all)
	lastAttempt stamp
	lastSuccess stamp
}

// itemKey identifies an item among its collector's: the site or
// environment it covers, empty for a company-wide or key-wide item.
type itemKey struct{ siteID, envID string }

// company is the company of the item's requests: the refresher's, or "" for
// the API key's items, whose series carry the key's company (companyLabel).
func (it *item) company(r *refresher) string {
	if it.reg.keyScope {
		return ""
	}
	return r.company
}

// target is what the item covers, for its request.
func (it *item) target(r *refresher) target {
	return target{collector: it.reg.name, company: it.company(r), siteID: it.key.siteID, envID: it.key.envID}
}

// isDue reports whether the item waits in the queue and its time has come.
func (it *item) isDue(now stamp) bool { return it.index >= 0 && it.next <= now }

// dueSince is when the item became due, for the lag metric.
func (it *item) dueSince() stamp {
	if it.next == 0 {
		return it.added
	}
	return it.next
}

// stamp is an instant of the refresher's clock in 8 bytes, where a
// time.Time takes 24: nanoseconds since the clock's epoch, a second before
// the refresher started, so that every instant the refresher records (none
// is before its start) is positive and 0 can mean "never", as a zero
// time.Time does. Differences are taken on the clock's monotonic reading
// when it has one, as time.Time's Sub does.
type stamp int64

// stampEpoch is how long before the refresher's start its stamps count from.
const stampEpoch = time.Second

// stamp returns t as a stamp: at least 1, so that it is never "never".
func (r *refresher) stamp(t time.Time) stamp {
	return stamp(max(t.Sub(r.epoch), 1))
}

// time returns s as a time (the zero time for 0).
func (r *refresher) time(s stamp) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return r.epoch.Add(time.Duration(s))
}
