package fleet

import (
	"context"
	"testing"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// TestStatusInConfigurationOrder: every company's state, with its
// configured name, in configuration order; a company found by GET
// /validate is listed under its id once found.
func TestStatusInConfigurationOrder(t *testing.T) {
	a := newAPI(t, map[string]*kinstatest.Company{"key-a": company("company-a", "s1", "s2"), "key-b": company("company-b", "s")})
	clk := &clock{time.Unix(1_700_000_000, 0)}
	f, _ := newFleet(t, a, clk, nil)
	if _, err := f.Apply([]Company{{ID: "company-b", Name: "B", Key: "key-b"}, {ID: "company-a", Key: "key-a"}}); err != nil {
		t.Fatal(err)
	}
	f.Refresh(context.Background())
	st, n := f.Status(10, 10)
	if one, _ := f.Status(1, 10); len(one) != 1 || n != 2 {
		t.Fatalf("%d of %d companies with a cap of 1", len(one), n)
	}
	if len(st) != 2 || st[0].ID != "company-b" || st[0].Name != "B" || st[1].ID != "company-a" || st[1].Name != "" {
		t.Fatalf("status %+v", st)
	}
	if !st[0].Up || st[0].Sites != 1 || !st[1].Up || st[1].Sites != 2 {
		t.Fatalf("status %+v", st)
	}

	discovered, _ := newFleet(t, a, clk, nil)
	if _, err := discovered.Apply([]Company{{Key: "key-a"}}); err != nil {
		t.Fatal(err)
	}
	if st, _ := discovered.Status(10, 10); len(st) != 1 || st[0].ID != "" || st[0].Attempted {
		t.Fatalf("before GET /validate: %+v", st)
	}
	discovered.Discover(context.Background())
	if st, _ := discovered.Status(10, 10); len(st) != 1 || st[0].ID != "company-a" || st[0].Company != "company-a" {
		t.Fatalf("after GET /validate: %+v", st)
	}
}
