package kinstatest

import (
	"bytes"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDemoCompanyInvariants(t *testing.T) {
	c := DemoCompany(testNow)
	if !reflect.DeepEqual(c, DemoCompany(testNow)) {
		t.Error("DemoCompany is not deterministic")
	}
	if len(c.Sites) < 30 || len(c.Sites) > 40 {
		t.Errorf("%d sites, want about 36", len(c.Sites))
	}
	ids := map[string]bool{}
	unique := func(kind, id string) {
		if id == "" || ids[id] {
			t.Errorf("%s id %q empty or duplicate", kind, id)
		}
		ids[id] = true
	}
	backupIDs := map[int64]bool{}
	var nonLive, blocked, premiumStaging, staleLive, noLabels, numericLabels, vulnerable, updates int
	spacedLabel := false
	wp, php, backupTypes := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, s := range c.Sites {
		unique("site", s.ID)
		if s.Status != "live" {
			nonLive++
		}
		if s.Visits <= 0 || s.BandwidthBytes <= 0 || s.CDNBandwidthBytes <= 0 {
			t.Errorf("%s: no usage", s.DisplayName)
		}
		if len(s.Labels) == 0 {
			noLabels++
		}
		for _, l := range s.Labels {
			spacedLabel = spacedLabel || strings.Contains(l.Name, " ")
			if l.NumericID > 0 {
				numericLabels++
			}
		}
		if len(s.Environments) == 0 || s.Environments[0].Name != "live" {
			t.Errorf("%s: no live environment first", s.DisplayName)
		}
		for _, e := range s.Environments {
			unique("environment", e.ID)
			if e.IsBlocked {
				blocked++
			}
			if e.IsPremium && e.Name == "staging" {
				premiumStaging++
			}
			wp[e.WordPressVersion] = true
			php[e.PHPVersion] = true
			if e.DiskBytes <= 0 {
				t.Errorf("%s %s: no disk bytes", s.DisplayName, e.Name)
			}
			var newest time.Time
			for _, b := range e.Backups {
				if backupIDs[b.ID] {
					t.Errorf("duplicate backup id %d", b.ID)
				}
				backupIDs[b.ID] = true
				backupTypes[b.Type] = true
				if b.CreatedAt.After(newest) {
					newest = b.CreatedAt
				}
			}
			if e.Name == "live" {
				switch age := testNow.Sub(newest); {
				case age >= 71*time.Hour && age <= 73*time.Hour:
					staleLive++
				case age > 24*time.Hour:
					t.Errorf("%s live: newest backup %v old", s.DisplayName, age)
				}
			}
			for _, x := range slices.Concat(e.Plugins, e.Themes) {
				if x.Vulnerable {
					vulnerable++
				}
				if x.Update == "available" {
					updates++
				}
			}
		}
	}
	for name, check := range map[string]bool{
		">= 3 non-live sites":                    nonLive >= 3,
		"exactly one blocked environment":        blocked == 1,
		"a premium staging environment":          premiumStaging > 0,
		"exactly one live env with a 72h backup": staleLive == 1,
		"a site without labels":                  noLabels > 0,
		"numeric site_labels":                    numericLabels > 0,
		"a label with spaces":                    spacedLabel,
		"exactly one vulnerable install":         vulnerable == 1,
		"updates available":                      updates > 0,
		"WordPress 6.4 to 6.7 and a null":        wp["6.4.5"] && wp["6.5.5"] && wp["6.6.2"] && wp["6.7.1"] && wp[""],
		"PHP 8.1 to 8.3":                         php["8.1"] && php["8.2"] && php["8.3"],
		"manual, scheduled and system backups":   backupTypes["manual"] && backupTypes["scheduled"] && backupTypes["system"],
	} {
		if !check {
			t.Errorf("demo company lacks %s", name)
		}
	}
	failed := 0
	for _, a := range c.Activities {
		if a.HasFailed {
			failed++
		}
	}
	if len(c.Activities) < 3 || failed != 1 {
		t.Errorf("%d activities, %d failed; want a few with one failed", len(c.Activities), failed)
	}
	if c.KeyExpiresAt.IsZero() || c.KeyName == "" {
		t.Error("demo key has no name or expiry")
	}
	for i, st := range demoNonLive {
		t.Logf("non-live site %d: %s %q %s", i, c.Sites[i].ID, c.Sites[i].DisplayName, st)
	}
}

func TestGenerateCompany(t *testing.T) {
	start := time.Now()
	c := GenerateCompany("bench", 10_000, 2, 2)
	built := time.Since(start)
	t.Logf("GenerateCompany(10000, 2, 2) took %v", built)
	if built > 5*time.Second { // "well under a second" without -race; generous for -race
		t.Errorf("GenerateCompany took %v", built)
	}
	if len(c.Sites) != 10_000 {
		t.Fatalf("%d sites", len(c.Sites))
	}
	paused := 0
	for _, s := range c.Sites {
		if len(s.Environments) != 2 || len(s.Labels) != 2 || s.Labels[0].Name == s.Labels[1].Name {
			t.Fatalf("site %s: %d environments, labels %v", s.ID, len(s.Environments), s.Labels)
		}
		if s.Status != "live" {
			paused++
		}
	}
	if paused != 100 {
		t.Errorf("%d non-live sites, want 100", paused)
	}
	// Site i depends only on the company id, i and the per-site counts.
	if again := GenerateCompany("bench", 1235, 2, 2); !reflect.DeepEqual(c.Sites[1234], again.Sites[1234]) {
		t.Error("not deterministic")
	}
	if other := GenerateCompany("other", 1, 1, 0); other.Sites[0].ID == c.Sites[0].ID {
		t.Error("ids do not depend on the company id")
	}
	if c3 := GenerateCompany("c3", 2, 3, 0); !c3.Sites[1].Environments[2].IsPremium || c3.Sites[1].Environments[1].Name != "staging" {
		t.Errorf("third environment: %+v", c3.Sites[1].Environments[2])
	}

	// Serving, counted on the raw bytes (decoding 21 MB under -race takes seconds).
	// Under -race the environments variant is served for 1,000 sites only.
	served := c
	if raceEnabled {
		served = GenerateCompany("bench", 1_000, 2, 2)
	}
	n := len(served.Sites)
	f, srv := serve(t, served)
	for range 2 {
		start = time.Now()
		r := get(t, srv, "/sites?include_environments=true&company=bench")
		t.Logf("GET /sites (%d sites, %d environments, %d bytes) took %v", n, 2*n, len(r.body), time.Since(start))
		for key, want := range map[string]int{`"display_name":"Site `: n, `"environments":[`: n,
			`"ssh_connection":`: 2 * n, `"name":"group:`: 2 * n} {
			if got := bytes.Count(r.body, []byte(key)); got != want {
				t.Errorf("%d times %s, want %d", got, key, want)
			}
		}
	}
	site := func(i int) string {
		return `{"id":"` + c.Sites[i].ID + `","name":"` + c.Sites[i].Name + `","display_name":"` + c.Sites[i].DisplayName + `","status":"`
	}
	f.SetSiteStatus("bench", c.Sites[0].ID, "suspended")
	for _, q := range []string{"", "&include_environments=true"} {
		body := get(t, srv, "/sites?company=bench"+q).body
		if !bytes.Contains(body, []byte(site(0)+`suspended"`)) || !bytes.Contains(body, []byte(site(1)+`live"`)) {
			t.Errorf("%q: SetSiteStatus not served", q)
		}
	}
}

func nonLiveSites(f *Fake) []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	for _, s := range f.companies[0].Sites {
		if s.Status != "live" {
			out = append(out, s.DisplayName+"="+s.Status)
		}
	}
	return out
}

func TestChurnAlternates(t *testing.T) {
	f := New(testKey, DemoCompany(testNow))
	start := nonLiveSites(f)
	if len(start) != 3 {
		t.Fatalf("start: %v", start)
	}
	f.churnOnce() // down: the first live site
	down := nonLiveSites(f)
	if len(down) != 4 || !slices.Contains(down, "Acme Bakery=paused") {
		t.Errorf("after a down tick: %v", down)
	}
	f.churnOnce() // up: the site that has waited longest
	up := nonLiveSites(f)
	if len(up) != 3 || slices.Contains(up, "Greenleaf Landscaping=suspended") {
		t.Errorf("after an up tick: %v", up)
	}
	for range 200 {
		f.churnOnce()
		if n := len(nonLiveSites(f)); n < 3 || n > 4 {
			t.Fatalf("%d non-live sites", n)
		}
	}
}

func TestStartDemoChurn(t *testing.T) {
	t.Parallel() // mostly waiting
	demo := DemoCompany(testNow)
	f, srv := serve(t, demo)
	body := func() string { return string(get(t, srv, "/sites?company="+demo.ID).body) }
	before := body()
	ctx, cancel := context.WithCancel(context.Background())
	f.StartDemoChurn(ctx, 5*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for body() == before {
		if time.Now().After(deadline) {
			t.Fatal("no status changed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	time.Sleep(100 * time.Millisecond) // let a tick in flight finish
	stopped := body()
	time.Sleep(50 * time.Millisecond)
	if body() != stopped {
		t.Error("statuses still change after ctx ended")
	}
	f.StartDemoChurn(context.Background(), 0) // no-op, must not panic
}
