package kinsta

import (
	"context"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// demoClient returns a client of the fake API serving the demo company, and
// the demo data it serves.
func demoClient(t *testing.T, mod func(*kinstatest.Company)) (*Client, *kinstatest.Company) {
	t.Helper()
	now := time.Now()
	demo := kinstatest.DemoCompany(now)
	if mod != nil {
		mod(demo)
	}
	fake := kinstatest.New(testKey, demo)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	return newTestClient(t, srv.URL), demo
}

// TestReachAgainstTheFake reads every new endpoint of the demo through the
// client over HTTP: all wire variants decode to what the demo holds.
func TestReachAgainstTheFake(t *testing.T) {
	c, demo := demoClient(t, nil)
	ctx := context.Background()
	sites, err := c.Sites(ctx, demo.ID)
	if err != nil {
		t.Fatal(err)
	}
	var unsetActive, wildcards int
	for i, s := range sites {
		model := demo.Sites[i]
		for j, e := range s.Environments {
			me := model.Environments[j]
			if e.PrimaryDomain != me.PrimaryDomain {
				t.Errorf("%s: primary %q, want %q", e.ID, e.PrimaryDomain, me.PrimaryDomain)
			}
			want := len(me.Domains)
			if me.PrimaryDomain != "" {
				want++
			}
			if len(e.Domains) != want {
				t.Errorf("%s: %d domains, want %d: %s", e.ID, len(e.Domains), want, domainsText(e.Domains))
			}
			for _, d := range e.Domains {
				if d.IsActive == nil {
					unsetActive++
				}
				if d.Name[0] == '*' {
					wildcards++
				}
			}
			exp := e.ExportableDomains()
			if me.PrimaryDomain != "" && (len(exp) == 0 || !exp[0].IsPrimary || exp[0].Name != me.PrimaryDomain) {
				t.Errorf("%s: exportable %s", e.ID, domainsText(exp))
			}
			if me.ResponseCodes != nil {
				checkResponseCodes(t, c, demo.ID, e.ID, me.ResponseCodes)
			}
		}
	}
	if unsetActive == 0 || wildcards == 0 {
		t.Errorf("%d domains without is_active, %d wildcards: the variants are not exercised", unsetActive, wildcards)
	}

	keys, err := c.APIKeys(ctx, demo.ID)
	if err != nil || len(keys) != len(demo.APIKeys) {
		t.Fatalf("%d keys, %v", len(keys), err)
	}
	for i, k := range keys {
		m := demo.APIKeys[i]
		if k.Name != m.Name || !k.ExpiresAt.Equal(m.ExpiresAt.Truncate(time.Millisecond)) || k.ID == "" || k.Status == "" {
			t.Errorf("key %+v, demo %+v", k, m)
		}
	}
}

func checkResponseCodes(t *testing.T, c *Client, companyID, envID string, want map[int]int64) {
	t.Helper()
	rc, err := c.ResponseCodes(context.Background(), companyID, envID)
	if err != nil {
		t.Fatalf("%s: %v", envID, err)
	}
	n := 0
	for code, v := range want {
		if v > 0 {
			n++
			if rc.Counts[strconv.Itoa(code)] != float64(v) {
				t.Errorf("%s: %d: %v, want %d", envID, code, rc.Counts[strconv.Itoa(code)], v)
			}
		}
	}
	if len(rc.Counts) != n || rc.LastBucket.Sub(rc.FirstBucket) != 23*time.Hour {
		t.Errorf("%s: %v from %v to %v", envID, rc.Counts, rc.FirstBucket, rc.LastBucket)
	}
}

func TestAPIKeysDeniedByTheFake(t *testing.T) {
	c, demo := demoClient(t, func(c *kinstatest.Company) { c.APIKeysDenied = true })
	_, err := c.APIKeys(context.Background(), demo.ID)
	if !IsKind(err, KindNotFound) {
		t.Errorf("err = %v, want not_found", err)
	}
	rc, err := c.ResponseCodes(context.Background(), demo.ID, demo.Sites[1].Environments[1].ID) // a staging environment
	if err != nil || len(rc.Counts) != 0 || !rc.FirstBucket.IsZero() {
		t.Errorf("no traffic: %+v, %v", rc, err)
	}
}
