package exposition

import (
	"bytes"
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"google.golang.org/protobuf/proto"
)

func gaugeFamily(name, help string, value float64, labels ...string) *dto.MetricFamily {
	m := &dto.Metric{Gauge: &dto.Gauge{Value: proto.Float64(value)}}
	for i := 0; i+1 < len(labels); i += 2 {
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(labels[i]), Value: proto.String(labels[i+1])})
	}
	return &dto.MetricFamily{Name: proto.String(name), Help: proto.String(help), Type: dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{m, {Gauge: &dto.Gauge{Value: proto.Float64(-value)}, Label: m.Label}}}
}

// checkAppendGauges compares appendGauges with expfmt in both formats; it
// reports whether the fast path took the family.
func checkAppendGauges(t *testing.T, mf *dto.MetricFamily) bool {
	t.Helper()
	took := false
	for _, om := range []bool{false, true} {
		var want bytes.Buffer
		format := expfmt.FmtText
		if om {
			format = expfmt.FmtOpenMetrics_1_0_0
		}
		format += "; escaping=underscores"
		if err := expfmt.NewEncoder(&want, format).Encode(mf); err != nil {
			if _, ok := appendGauges(nil, mf, om); ok {
				t.Fatalf("expfmt fails (%v), appendGauges does not", err)
			}
			continue
		}
		got, ok := appendGauges([]byte("prefix"), mf, om)
		if !ok {
			if string(got) != "prefix" {
				t.Fatal("appendGauges changed the buffer when declining")
			}
			continue
		}
		took = true
		if string(got[len("prefix"):]) != want.String() {
			t.Fatalf("om=%v:\n%q\nexpfmt:\n%q", om, got[len("prefix"):], want.String())
		}
	}
	return took
}

func TestAppendGaugesMatchesExpfmt(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 2, 0.5, 1e21, 1e-7, 123456789012, 1.7e9, math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1)} {
		if !checkAppendGauges(t, gaugeFamily("a_b:c", "help \\ with\nnewline and \"quotes\"", v, "l", `v "q" \ nl
x`, "z_9", "ünïcode")) {
			t.Fatalf("%v: fast path declined", v)
		}
	}
	noLabels := gaugeFamily("plain", "", 3)
	noLabels.Help = nil
	if !checkAppendGauges(t, noLabels) {
		t.Fatal("fast path declined a gauge without labels or help")
	}
	declined := []*dto.MetricFamily{
		gaugeFamily("bad-name", "h", 1),
		gaugeFamily("ok", "h", 1, "bad.label", "v"),
		gaugeFamily("ok", "h", 1, "__name__", "x"),
		gaugeFamily("ok", "h", 1, "9lead", "v"),
		{Name: proto.String("c_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{Counter: &dto.Counter{Value: proto.Float64(1)}}}},
		{Name: proto.String("empty"), Type: dto.MetricType_GAUGE.Enum()},
	}
	withTS := gaugeFamily("ts", "h", 1)
	withTS.Metric[0].TimestampMs = proto.Int64(5)
	withUnit := gaugeFamily("u_seconds", "h", 1)
	withUnit.Unit = proto.String("seconds")
	declined = append(declined, withTS, withUnit)
	for _, mf := range declined {
		if checkAppendGauges(t, mf) {
			t.Fatalf("fast path took %s", mf.GetName())
		}
	}
}

func FuzzAppendGauges(f *testing.F) {
	f.Add("name", "help", "label", "value", 1.5)
	f.Add("a:b", "x\\y\n\"", "l_1", "\"\\\n\xff", math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, name, help, label, value string, v float64) {
		checkAppendGauges(t, gaugeFamily(name, help, v, label, value, "second", value+help))
	})
}

// TestAppendEscaped compares the word-at-a-time escaping with expfmt's
// replacers' rules, for every special byte at every position of a word and
// around it, and for bytes next to the special ones (a word test that
// confused them would pass '[' or '#' through the slow path, or worse, miss
// a quote).
func TestAppendEscaped(t *testing.T) {
	label := strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	help := strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	for _, special := range []byte{'\\', '\n', '"', '[', ']', '#', '!', 0, 0x80, 0xdc, 0xff, 'a'} {
		for n := 0; n <= 19; n++ {
			for at := 0; at < n; at++ {
				b := []byte(strings.Repeat("x", n))
				b[at] = special
				s := string(b)
				if got, want := string(appendEscaped(nil, s, true)), label.Replace(s); got != want {
					t.Fatalf("label %q: %q, want %q", s, got, want)
				}
				if got, want := string(appendEscaped(nil, s, false)), help.Replace(s); got != want {
					t.Fatalf("help %q: %q, want %q", s, got, want)
				}
				if plain := plainText(s, true); plain != (label.Replace(s) == s) {
					t.Fatalf("plainText(%q) = %v", s, plain)
				}
			}
		}
	}
}
