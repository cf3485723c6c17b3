package collector

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"unsafe"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// There are tens of thousands of work items at 10,000 sites (six per site
// at the default flags): an item that grows past the 128-byte size class
// costs 16 bytes more each, about 1 MB there.
func TestItemSizeClass(t *testing.T) {
	if size := unsafe.Sizeof(item{}); size > 128 {
		t.Errorf("item is %d bytes, over the 128-byte size class", size)
	}
}

// A refresh's series end up in one array of label values and one of
// values, exactly as long as the rows, whatever append left in capacity.
func TestSeriesCompact(t *testing.T) {
	a := newGaugeFamily("test_a", "A.", "x", "y")
	b := newGaugeFamily("test_b", "B.", "z")
	var s series
	for i := range 5 {
		s.gauge(a, float64(i), "x", string(rune('a'+i)))
		s.gauge(b, float64(i), string(rune('a'+i)))
	}
	before := s.len()
	s.limit(1<<10, budget{maxSeries: 100, maxBytes: 1 << 20})
	if s.len() != before {
		t.Fatalf("%d series after limit, want %d", s.len(), before)
	}
	ga, gb := s.gauges[0].rows, s.gauges[1].rows
	if cap(ga.labels) != 10 || cap(ga.values) != 5 || cap(gb.labels) != 5 || cap(gb.values) != 5 {
		t.Fatalf("capacities %d %d %d %d, want the lengths 10 5 5 5", cap(ga.labels), cap(ga.values), cap(gb.labels), cap(gb.values))
	}
	if unsafe.Add(unsafe.Pointer(unsafe.SliceData(ga.labels)), len(ga.labels)*int(unsafe.Sizeof(""))) != unsafe.Pointer(unsafe.SliceData(gb.labels)) {
		t.Error("the families' label values are not in one array")
	}
	if ga.labels[9] != "e" || gb.labels[4] != "e" || ga.values[4] != 4 || gb.values[0] != 0 {
		t.Errorf("rows changed: %q %v %q %v", ga.labels, ga.values, gb.labels, gb.values)
	}
}

// A GET /sites that finds the same sites and environments leaves the work
// items alone: reconciling builds a set of every item's target, tens of
// megabytes at 10,000 sites, and nothing would change.
func TestSameInventoryIsNotReconciled(t *testing.T) {
	r := newDiskRefresher(t, newFakeClock())
	sites := []kinsta.Site{{ID: "s1", Environments: []kinsta.Environment{{ID: "e1", Name: "live"}, {ID: "e2", Name: "staging"}}}}
	r.setInventory("c1", sites)
	r.mu.Lock()
	r.reconcile(r.now())
	r.mu.Unlock()
	writes := r.mu.writes.Load()
	r.setInventory("c1", []kinsta.Site{{ID: "s1", Environments: []kinsta.Environment{{ID: "e1", Name: "Live"}, {ID: "e2", Name: "staging"}}}})
	if r.dirty || r.mu.writes.Load() != writes {
		t.Fatal("the same inventory was stored again")
	}
	r.setInventory("c1", append(sites, kinsta.Site{ID: "s2"}))
	if !r.dirty {
		t.Fatal("a new site was not stored")
	}
}

// An item's company is the refresher's: when the inventory's company
// changes, the other company's items and their series go at once, and the
// new company's come with the next reconcile.
func TestCompanyChangeReplacesItems(t *testing.T) {
	r := newDiskRefresher(t, newFakeClock())
	sites := []kinsta.Site{{ID: "s1", Environments: []kinsta.Environment{{ID: "e1", Name: "live"}}}}
	r.setInventory("c1", sites)
	r.mu.Lock()
	r.reconcile(r.now())
	it := r.byName["disk"].items[itemKey{siteID: "s1", envID: "e1"}]
	r.mu.Unlock()
	if it == nil || it.target(r).company != "c1" {
		t.Fatalf("item %+v, want one of c1", it)
	}
	r.setInventory("c2", sites)
	r.mu.Lock()
	defer r.mu.Unlock()
	if n := len(r.byName["disk"].items); n != 0 || it.index >= 0 && len(r.queue) > 0 && r.queue[it.index] == it {
		t.Fatalf("%d items of c1 left after the company changed", n)
	}
	r.reconcile(r.now())
	if it := r.byName["disk"].items[itemKey{siteID: "s1", envID: "e1"}]; it == nil || it.target(r).company != "c2" {
		t.Fatalf("item %+v after reconcile, want one of c2", it)
	}
}

// A GET /sites that repeats the served sites stores no second copy of
// their rows or domains: the new build is the served one, array for array.
// One that differs builds rows equal to a build from scratch.
func TestSameSitesReuseRows(t *testing.T) {
	all := benchSites(t, 51)
	sites := all[:50:50]
	first, err := buildSiteRows("c1", sites, Limits{}, siteBuildPrev{})
	if err != nil {
		t.Fatal(err)
	}
	prev := siteBuildPrev{snapshot: first.rows, domains: first.domains}
	again, err := buildSiteRows("c1", sites, Limits{}, prev)
	if err != nil {
		t.Fatal(err)
	}
	for i := range again.rows {
		if len(first.rows[i].values) > 0 && (unsafe.SliceData(again.rows[i].labels) != unsafe.SliceData(first.rows[i].labels) ||
			unsafe.SliceData(again.rows[i].values) != unsafe.SliceData(first.rows[i].values)) {
			t.Errorf("%s: rows stored again", siteFamilies[i].name)
		}
	}
	if len(first.domains) == 0 || unsafe.SliceData(again.domains) != unsafe.SliceData(first.domains) {
		t.Error("domains stored again")
	}

	for name, change := range map[string]func([]kinsta.Site) []kinsta.Site{
		"renamed": func(s []kinsta.Site) []kinsta.Site { s[20].Name = "renamed"; return s },
		"status":  func(s []kinsta.Site) []kinsta.Site { s[49].Status = "suspended"; return s },
		"fewer":   func(s []kinsta.Site) []kinsta.Site { return s[:30] },
		"more": func(s []kinsta.Site) []kinsta.Site {
			return append(s, all[50])
		},
		"domain": func(s []kinsta.Site) []kinsta.Site {
			s[7].Environments = slices.Clone(s[7].Environments)
			s[7].Environments[0].Domains = append(slices.Clone(s[7].Environments[0].Domains), kinsta.Domain{Name: "new.example.com"})
			return s
		},
	} {
		changed := change(slices.Clone(sites))
		got, err := buildSiteRows("c1", changed, Limits{}, prev)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := buildSiteRows("c1", changed, Limits{}, siteBuildPrev{})
		if !got.rows.equal(want.rows) || !reflect.DeepEqual(got.domains, want.domains) {
			t.Errorf("%s: the build next to the served one differs from one from scratch", name)
		}
		if got.rows.equal(first.rows) {
			t.Errorf("%s: the change was lost", name)
		}
	}
}

// Rows stored exactly (reserve), as a company-wide item stores every
// environment's, are not copied again by compact; rows with room to spare
// are.
func TestReservedRowsStayInPlace(t *testing.T) {
	a := newGaugeFamily("test_a", "A.", "x")
	b := newGaugeFamily("test_b", "B.", "y")
	var s series
	for _, v := range []string{"p", "q", "r"} {
		s.gauge(b, 1, v) // grown by append: room to spare
	}
	s.reserve(a, 3)
	for i := range 3 {
		s.gauge(a, float64(i), string(rune('a'+i)))
	}
	exact := unsafe.SliceData(s.gauges[1].rows.labels)
	s.limit(1<<10, budget{maxSeries: 100, maxBytes: 1 << 20})
	if unsafe.SliceData(s.gauges[1].rows.labels) != exact {
		t.Error("compact copied rows stored exactly")
	}
	if g := s.gauges[0].rows; cap(g.labels) != 3 || cap(g.values) != 3 {
		t.Errorf("rows with room to spare kept capacities %d and %d", cap(g.labels), cap(g.values))
	}
	if got := s.gauges[1].rows.labels; !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("reserved rows %q", got)
	}
}

// Rows say they are plain (no label value a text format escapes) only when
// none is, whichever way they were built: added, repeated from the served
// rows, or compacted.
func TestRowsPlain(t *testing.T) {
	for _, v := range []string{`back\slash`, `a "quote"`, "new\nline"} {
		var r gaugeRows
		r.add(1, "plain")
		r.add(1, v)
		r.add(1, "plain again")
		if r.plain {
			t.Errorf("rows with %q say they are plain", v)
		}
	}
	sites := benchSites(t, 3)
	sites[1].Name = `the "best" site`
	built, err := buildSiteRows("c1", sites, Limits{}, siteBuildPrev{})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := buildSiteRows("c1", sites, Limits{}, siteBuildPrev{snapshot: built.rows})
	fewer, _ := buildSiteRows("c1", sites[:1], Limits{}, siteBuildPrev{snapshot: built.rows})
	for i, f := range siteFamilies {
		for _, b := range []*siteBuild{built, again} {
			if want := f != siteInfo; len(b.rows[i].values) > 0 && b.rows[i].plain != want {
				t.Errorf("%s: plain %v, want %v", f.name, b.rows[i].plain, want)
			}
		}
		if len(fewer.rows[i].values) > 0 && fewer.rows[i].plain != (f != siteInfo) {
			t.Errorf("%s, first site of the served rows: plain %v", f.name, fewer.rows[i].plain)
		}
	}
	var s series
	fam := newGaugeFamily("test_a", "A.", "x")
	for _, v := range []string{"a", "b", "c"} {
		s.gauge(fam, 1, v)
	}
	s.limit(1<<10, budget{maxSeries: 100, maxBytes: 1 << 20})
	if !s.gauges[0].rows.plain {
		t.Error("compacted plain rows lost their flag")
	}
}

// An item removed while it is being refreshed (the company changed) does
// not come back into the queue with its result.
func TestItemRemovedWhileRefreshedStaysOut(t *testing.T) {
	r := newDiskRefresher(t, newFakeClock())
	sites := []kinsta.Site{{ID: "s1", Environments: []kinsta.Environment{{ID: "e1", Name: "live"}}}}
	r.setInventory("c1", sites)
	r.scraped()
	it, reg, _ := r.next()
	if it == nil {
		t.Fatal("no item due")
	}
	r.setInventory("c2", sites)
	r.refreshItem(context.Background(), it, reg)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, q := range r.queue {
		if q == it {
			t.Fatal("the removed item is back in the queue")
		}
	}
	if it.lastAttempt != 0 {
		t.Error("the removed item's refresh was recorded")
	}
}

// inventory.lists says yes only where newInventory would build the same
// inventory; where the answer repeats an id that newInventory drops, no.
func TestInventoryLists(t *testing.T) {
	env := func(id, name string) kinsta.Environment { return kinsta.Environment{ID: id, Name: name} }
	base := []kinsta.Site{
		{ID: "a", Environments: []kinsta.Environment{env("e1", "live"), env("e2", "staging")}},
		{ID: "b", Environments: []kinsta.Environment{env("e3", "Live")}},
	}
	inv := newInventory(base)
	for name, tc := range map[string]struct {
		sites []kinsta.Site
		want  bool
	}{
		"the same":          {base, true},
		"an empty id more":  {append([]kinsta.Site{{}}, base...), true},
		"a site repeated":   {append(slices.Clone(base), base[0]), false},
		"a site less":       {base[:1], false},
		"another live env":  {[]kinsta.Site{base[0], {ID: "b", Environments: []kinsta.Environment{env("e3", "staging")}}}, false},
		"an env repeated":   {[]kinsta.Site{base[0], {ID: "b", Environments: []kinsta.Environment{env("e3", "live"), env("e1", "live")}}}, false},
		"another order":     {[]kinsta.Site{base[1], base[0]}, false},
		"an env without id": {[]kinsta.Site{base[0], {ID: "b", Environments: []kinsta.Environment{env("", "x"), env("e3", "live")}}}, true},
	} {
		if got := inv.lists(tc.sites); got != tc.want {
			t.Errorf("%s: lists %v, want %v", name, got, tc.want)
		}
		if inv.lists(tc.sites) && !reflect.DeepEqual(newInventory(tc.sites), inv) {
			t.Errorf("%s: lists says yes, but newInventory builds another", name)
		}
	}
	var none *inventory
	if none.lists(base) {
		t.Error("no inventory lists sites")
	}
}
