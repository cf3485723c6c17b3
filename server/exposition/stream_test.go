package exposition

import (
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

// TestOddFormatsOfLargeFamilies: 3,000 sites, families of 3,000 to 6,000
// series. Delimited protobuf, written one metric at a time, decodes to
// promhttp's families exactly, gzip or not; the protobuf text forms carry
// every series in messages of at most textChunk metrics.
func TestOddFormatsOfLargeFamilies(t *testing.T) {
	f := newFixture(t, generatedSites(t, 3000))
	h := Handler(f.live, f.caches, HandlerOpts{})
	delimited := "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
	want := get(t, f.reference, "/metrics", "Accept", delimited)
	format := expfmt.Format(want.header.Get("Content-Type"))
	w := decodeProto(t, want.body, format)
	for _, ae := range []string{"", "gzip"} {
		got := get(t, h, "/metrics", "Accept", delimited, "Accept-Encoding", ae)
		g := decodeProto(t, got.body, format)
		if len(g) != len(w) {
			t.Fatalf("gzip %q: %d families, promhttp %d", ae, len(g), len(w))
		}
		for i := range g {
			if g[i].GetName() == "promhttp_metric_handler_errors_total" {
				continue
			}
			if !proto.Equal(g[i], w[i]) {
				t.Fatalf("gzip %q: family %s differs from promhttp's", ae, g[i].GetName())
			}
		}
	}

	compact := get(t, h, "/metrics", "Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=compact-text")
	messages, metrics := 0, 0
	for _, line := range strings.Split(string(compact.body), "\n") {
		line = strings.ReplaceAll(line, " ", "") // prototext varies its spacing on purpose
		if strings.HasPrefix(line, `name:"kinsta_site_info"`) {
			messages++
			metrics += strings.Count(line, "metric:")
		}
	}
	if messages != 3 || metrics != 3000 {
		t.Errorf("compact text: kinsta_site_info in %d messages of %d metrics in all, want 3 and 3000", messages, metrics)
	}
	if f.cache.Renders() != 0 {
		t.Errorf("odd requests rendered %d kept variants", f.cache.Renders())
	}
}
