// Package fleet runs the exporter for many Kinsta companies, each possibly
// with its own API key, and swaps the set of companies on a configuration
// reload without losing the caches of the companies that stay.
//
// Every company has its own collector.Exporter (its own cache, refresh state
// and background refresher); exporters of companies that share an API key
// share one kinsta.Client, so that Kinsta's back-off for that key applies to
// all of them, and all clients share the process-wide rate limit and
// instrumented transport that the caller's NewClient builds in. A reload
// keeps the exporter of every company whose id and key did not change.
package fleet

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/go-kit/log"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// apiKeyCollector is the switchable collector that reads GET /validate: it
// describes the key, so only one exporter per key runs it.
const apiKeyCollector = "apikey"

const (
	companyInfoName = "kinsta_company_info"
	companyInfoHelp = "A Kinsta company the exporter is configured to export (--config.file or --kinsta.company), with its name from the configuration file (empty when none is given); always 1."
)

var companyInfoLabels = []string{"company", "name"}

// Company is one company to export and the API key to export it with.
type Company struct {
	// ID is the Kinsta company id. "" asks GET /validate for the key's
	// company (--kinsta.api-key-file without --kinsta.company); such a
	// company must be the only one.
	ID   string
	Name string
	// Key is the API key; it is never logged. Companies with the same key
	// share a client.
	Key string
}

// Options configure a Fleet.
type Options struct {
	// NewClient returns the client of one API key. It is called once per
	// distinct key, and again only when a key appears anew in a reload.
	NewClient func(key string) (*kinsta.Client, error)
	// Collector is the configuration of every company's exporter; its
	// Company field is ignored.
	Collector collector.Config
	Logger    log.Logger
}

// Fleet is the set of exporters of the configured companies. All methods are
// safe for concurrent use.
type Fleet struct {
	opts  Options
	mu    sync.Mutex // serialises Apply and Start
	ctx   context.Context
	state atomic.Pointer[state]
	gens  sync.Map // part -> *genMemo, for Generation
}

// keyHash identifies an API key without keeping a second copy of it.
type keyHash [sha256.Size]byte

// identity is what an exporter was built from: a reload that keeps all of it
// keeps the exporter, with its cache.
type identity struct {
	id     string
	key    keyHash
	apiKey bool // runs the apikey collector
}

type runner struct {
	identity
	client *kinsta.Client
	exp    *collector.Exporter
	cancel context.CancelFunc // nil until started
}

type entry struct {
	id, name string
	run      *runner
}

// state is one configuration's exporters; it is replaced whole by Apply.
type state struct {
	epoch   uint64
	entries []entry // in configuration order
	byID    map[string]*entry
}

// New returns an empty fleet; Apply sets its companies.
func New(opts Options) *Fleet {
	if opts.Logger == nil {
		opts.Logger = log.NewNopLogger()
	}
	f := &Fleet{opts: opts}
	f.state.Store(&state{byID: map[string]*entry{}})
	return f
}

// Changes summarises what an Apply did, for the log.
type Changes struct {
	Added, Removed, Kept, Renamed []string
	// Restarted are companies that stay but got a new exporter, and so an
	// empty cache, because their API key changed.
	Restarted []string
}

// Apply makes companies the fleet's companies. A company whose id and key
// are unchanged keeps its exporter, and with it its cached data, refresh
// times and background work; others get a new exporter, and exporters of
// companies no longer listed are stopped. On error nothing changes.
func (f *Fleet) Apply(companies []Company) (Changes, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := check(companies); err != nil {
		return Changes{}, err
	}
	old := f.state.Load()
	oldRunners := map[identity]*runner{}
	clients := map[keyHash]*kinsta.Client{}
	for _, e := range old.entries {
		oldRunners[e.run.identity] = e.run
		clients[e.run.key] = e.run.client
	}

	next := &state{epoch: old.epoch + 1, byID: make(map[string]*entry, len(companies))}
	var ch Changes
	var created []*runner
	reused := map[*runner]bool{}
	newClients := map[keyHash]*kinsta.Client{}
	hashes := make([]keyHash, len(companies))
	for i, c := range companies {
		hashes[i] = sha256.Sum256([]byte(c.Key))
	}
	// One company per key runs the apikey collector: the one that ran it
	// before if it stays with that key; else, since the collector is part
	// of an exporter's identity, a company that gets a new exporter anyway
	// (new, or with a new key), so that no kept company loses its caches to
	// take it over; else the first with the key.
	keyOwner := map[keyHash]string{}
	for i, c := range companies {
		if oe := old.byID[c.ID]; oe != nil && oe.run.identity == (identity{c.ID, hashes[i], true}) {
			keyOwner[hashes[i]] = c.ID
		}
	}
	for i, c := range companies {
		oe := old.byID[c.ID]
		if _, ok := keyOwner[hashes[i]]; !ok && (oe == nil || oe.run.key != hashes[i]) {
			keyOwner[hashes[i]] = c.ID
		}
	}
	for i, c := range companies {
		if _, ok := keyOwner[hashes[i]]; !ok {
			keyOwner[hashes[i]] = c.ID
		}
	}
	for i, c := range companies {
		h := hashes[i]
		id := identity{id: c.ID, key: h, apiKey: keyOwner[h] == c.ID}
		run := oldRunners[id]
		if run != nil {
			reused[run] = true
			ch.Kept = append(ch.Kept, c.ID)
			if oe := old.byID[c.ID]; oe != nil && oe.name != c.Name {
				ch.Renamed = append(ch.Renamed, c.ID)
			}
		} else {
			client := clients[h]
			if client == nil {
				client = newClients[h]
			}
			if client == nil {
				var err error
				if client, err = f.opts.NewClient(c.Key); err != nil {
					return Changes{}, fmt.Errorf("company %q: %w", c.ID, err)
				}
				newClients[h] = client
			}
			exp, err := collector.New(client, f.exporterConfig(id), f.opts.Logger)
			if err != nil {
				return Changes{}, fmt.Errorf("company %q: %w", c.ID, err)
			}
			run = &runner{identity: id, client: client, exp: exp}
			created = append(created, run)
			if _, existed := old.byID[c.ID]; existed {
				ch.Restarted = append(ch.Restarted, c.ID)
			} else {
				ch.Added = append(ch.Added, c.ID)
			}
		}
		next.entries = append(next.entries, entry{id: c.ID, name: c.Name, run: run})
	}
	for i := range next.entries {
		next.byID[next.entries[i].id] = &next.entries[i]
	}
	for _, e := range old.entries {
		if !reused[e.run] {
			if e.run.cancel != nil {
				e.run.cancel()
			}
			if _, stays := next.byID[e.id]; !stays {
				ch.Removed = append(ch.Removed, e.id)
			}
		}
	}
	if sameEntries(old.entries, next.entries) {
		next.epoch = old.epoch // nothing Gauges hands over changed
	}
	if f.ctx != nil {
		for _, run := range created {
			f.start(run)
		}
	}
	f.state.Store(next)
	return ch, nil
}

// check refuses what the configuration packages already refuse, for callers
// that build companies otherwise.
func check(companies []Company) error {
	seen := map[string]bool{}
	for _, c := range companies {
		switch {
		case c.Key == "":
			return fmt.Errorf("company %q: no API key", c.ID)
		case c.ID == "" && len(companies) > 1:
			return errors.New("a company without id (found by GET /validate) must be the only one")
		case seen[c.ID]:
			return fmt.Errorf("company %q listed twice", c.ID)
		}
		seen[c.ID] = true
	}
	return nil
}

func (f *Fleet) exporterConfig(id identity) collector.Config {
	cfg := f.opts.Collector
	cfg.Company = id.id
	if !id.apiKey {
		cfg.Collectors = maps.Clone(cfg.Collectors)
		delete(cfg.Collectors, apiKeyCollector)
	}
	return cfg
}

// Start runs the background refreshers of the companies' exporters, those
// of later Apply calls included, until ctx ends.
func (f *Fleet) Start(ctx context.Context) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ctx = ctx
	for _, e := range f.state.Load().entries {
		if e.run.cancel == nil {
			f.start(e.run)
		}
	}
}

func (f *Fleet) start(run *runner) {
	ctx, cancel := context.WithCancel(f.ctx)
	run.cancel = cancel
	run.exp.Start(ctx)
}
