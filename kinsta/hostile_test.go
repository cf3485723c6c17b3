package kinsta

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// TestSitesHostileBodiesBoundedHeap reads the large hostile GET /sites
// bodies of the fake, within the default 64 MiB cap, and checks the most
// heap a refresh held. json.Decoder held 117 MB for 60 MB of white space
// (and took a minute), 164 MB for a 60 MB string or number, and 4.7 GB for
// 60 MB of empty sites.
func TestSitesHostileBodiesBoundedHeap(t *testing.T) {
	if testing.Short() {
		t.Skip("reads several bodies of up to 60 MB")
	}
	for _, tc := range []struct {
		name   string
		kind   kinstatest.HostileKind
		bytes  int64
		fails  bool   // the refresh fails (bad_response), as it should
		most   uint64 // heap bound
		reason string
	}{
		{"white space", kinstatest.HostileWhitespace, 60 << 20, false, 4 << 20, "white space is never buffered"},
		{"long string", kinstatest.HostileLongString, 60 << 20, true, 8 << 20, "a string over 1 MiB fails"},
		{"long number", kinstatest.HostileLongNumber, 8 << 20, true, 8 << 20, "a number over 1 MiB fails"},
		{"big label", kinstatest.HostileBigLabel, 8 << 20, false, 4 << 20, "a skipped member is never held"},
		{"tiny sites", kinstatest.HostileTinySites, 60 << 20, true, 40 << 20, "the decoded sites may take half the cap (32 MiB)"},
	} {
		c := hostileSitesClient(t, kinstatest.Hostile{Kind: tc.kind, Bytes: tc.bytes})
		var err error
		peak := heapHighWater(func() { _, err = c.Sites(context.Background(), testCompany) })
		t.Logf("%s, %d MiB: peak heap %.1f MiB, err %v", tc.name, tc.bytes>>20, float64(peak)/(1<<20), err)
		if (err != nil) != tc.fails || (err != nil && !IsKind(err, KindBadResponse)) {
			t.Errorf("%s: err %v, want failure %v", tc.name, err, tc.fails)
		}
		if peak > tc.most {
			t.Errorf("%s: peak heap %d bytes, want at most %d: %s", tc.name, peak, tc.most, tc.reason)
		}
	}
}

// TestSitesDropped reads the fake's real sites with malformed elements
// added (HostileBadElements): each costs only itself and is counted.
func TestSitesDropped(t *testing.T) {
	company := kinstatest.GenerateCompany(testCompany, 5, 2, 2)
	fake := kinstatest.New(testKey, company)
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	c := newTestClient(t, srv.URL)
	good, err := c.Sites(context.Background(), testCompany)
	if err != nil || len(good) != 5 {
		t.Fatalf("%d sites, %v", len(good), err)
	}

	fake.SetFault(kinstatest.RouteSites, kinstatest.Fault{Hostile: kinstatest.Hostile{Kind: kinstatest.HostileBadElements}})
	res, err := c.SitesWithDropped(context.Background(), testCompany)
	if err != nil {
		t.Fatal(err)
	}
	want := append(good,
		Site{ID: "bad-environments", Name: "bad-environments"},
		Site{ID: "bad-labels", Labels: []Label{{ID: "l1", Name: "good"}, {ID: "l2", Name: "also good"}}},
		Site{ID: "bad-environment", Environments: []Environment{
			{ID: "bad-environment-live", Name: "live"}, {ID: "bad-environment-staging", Name: "staging"}}})
	if !reflect.DeepEqual(res.Sites, want) {
		t.Errorf("sites\n%+v\nwant\n%+v", res.Sites[5:], want[5:])
	}
	// Two sites that are not objects; environments that is an object, and
	// one environment that is a string; a string and a number among labels.
	if wantDropped := (Dropped{Sites: 2, Environments: 2, Labels: 2}); res.Dropped != wantDropped || res.Dropped.Total() != 6 {
		t.Errorf("dropped %+v, want %+v", res.Dropped, wantDropped)
	}
	sites, err := c.Sites(context.Background(), testCompany)
	if err != nil || !reflect.DeepEqual(sites, res.Sites) {
		t.Errorf("Sites: %d sites, %v", len(sites), err)
	}
}

// TestSitesDroppedCounts checks the counting rules on small bodies.
func TestSitesDroppedCounts(t *testing.T) {
	for _, tc := range []struct {
		body  string
		sites int
		want  Dropped
	}{
		{`{"company":{"sites":[null,1,"s",true,[],{}]}}`, 1, Dropped{Sites: 5}},
		{`{"company":{"sites":[{"environments":null,"siteLabels":null,"site_labels":null}]}}`, 1, Dropped{}},
		{`{"company":{"sites":[{"environments":"x","siteLabels":{},"site_labels":7}]}}`, 1, Dropped{Environments: 1, Labels: 2}},
		{`{"company":{"sites":[{"environments":[null,{"id":"e"},[]],"siteLabels":[{"id":"l"},null]}]}}`, 1, Dropped{Environments: 2, Labels: 1}},
		// A repeated sites key: the last wins, with its own count.
		{`{"company":{"sites":[1,2],"sites":[{"id":"s"},3]}}`, 1, Dropped{Sites: 1}},
	} {
		c := clientFor(t, serve(200, []byte(tc.body)))
		res, err := c.SitesWithDropped(context.Background(), testCompany)
		if err != nil || len(res.Sites) != tc.sites || res.Dropped != tc.want {
			t.Errorf("%s: %d sites, dropped %+v, err %v; want %d, %+v", tc.body, len(res.Sites), res.Dropped, err, tc.sites, tc.want)
		}
	}
}
