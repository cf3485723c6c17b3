package exposition

import (
	"bytes"
	"math"
	"strconv"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The exporter's company series are tens of thousands of gauges with a few
// labels each. expfmt encodes them generically (an escaping pass over every
// family, a strings.Replacer per label value); appendGauges writes the same
// bytes several times faster, for the families it can do exactly, and the
// caller falls back to expfmt for everything else. The tests compare both
// byte for byte.

// fastFormat reports whether appendGauges can write format, and whether as
// OpenMetrics (1.0.0 and 0.0.1 are encoded alike).
func fastFormat(format expfmt.Format) (ok, om bool) {
	switch format.FormatType() {
	case expfmt.TypeTextPlain:
		return true, false
	case expfmt.TypeOpenMetrics:
		v := format.Version()
		return v == expfmt.OpenMetricsVersion_1_0_0 || v == expfmt.OpenMetricsVersion_0_0_1, true
	}
	return false, false
}

// appendGauges appends mf to b as expfmt's text (om false) or OpenMetrics 1.0
// encoder would, and reports true; or leaves b alone and reports false when
// mf is not a plain gauge family: another type, a unit, timestamps, or a name
// or label name that is not a legacy Prometheus name (the only case in which
// the escaping scheme would change the output).
func appendGauges(b []byte, mf *dto.MetricFamily, om bool) ([]byte, bool) {
	name := mf.GetName()
	if mf.GetType() != dto.MetricType_GAUGE || len(mf.Metric) == 0 || mf.Unit != nil ||
		!model.LegacyValidation.IsValidMetricName(name) {
		return b, false
	}
	var checked []*dto.LabelPair // label names of the last metric checked
	for _, m := range mf.Metric {
		if m.Gauge == nil || m.TimestampMs != nil {
			return b, false
		}
		for i, lp := range m.Label {
			// Const metrics of one family share their label names: check each once.
			if i < len(checked) && lp.GetName() == checked[i].GetName() {
				continue
			}
			if n := lp.GetName(); !legacyLabelName(n) || n == model.MetricNameLabel {
				return b, false
			}
		}
		checked = m.Label
	}

	if mf.Help != nil {
		b = append(b, "# HELP "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = appendEscaped(b, mf.GetHelp(), om)
		b = append(b, '\n')
	}
	b = append(b, "# TYPE "...)
	b = append(b, name...)
	b = append(b, " gauge\n"...)
	for _, m := range mf.Metric {
		b = append(b, name...)
		for i, lp := range m.Label {
			if i == 0 {
				b = append(b, '{')
			} else {
				b = append(b, ',')
			}
			b = append(b, lp.GetName()...)
			b = append(b, '=', '"')
			b = appendEscaped(b, lp.GetValue(), true)
			b = append(b, '"')
		}
		if len(m.Label) > 0 {
			b = append(b, '}')
		}
		b = append(b, ' ')
		b = appendFloat(b, m.Gauge.GetValue(), om)
		b = append(b, '\n')
	}
	return b, true
}

// legacyLabelName is model.LegacyValidation.IsValidLabelName without the
// indirection: [a-zA-Z_][a-zA-Z0-9_]*.
func legacyLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// appendEscaped escapes backslash and newline, and the double quote when
// quote is set, as expfmt's escapers do. Almost no value needs escaping,
// and looking for a byte that does is most of the cost of writing rows as
// text, so that test goes eight bytes at a time (plainText) before any
// byte-wise work.
func appendEscaped(b []byte, s string, quote bool) []byte {
	if plainText(s, quote) {
		return append(b, s...)
	}
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' && c != '\n' && (c != '"' || !quote) {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '"':
			b = append(b, '\\', '"')
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainText reports whether s has no backslash, no newline, and, when
// quote is set, no double quote. Eight bytes at a time: maybeZero flags a
// word that may hold one of them (never missing one), and only such a word
// is looked at byte by byte.
func plainText(s string, quote bool) bool {
	third := uint64(ones * '\\') // without quote, the backslash test again
	if quote {
		third = ones * '"'
	}
	if len(s) < 8 {
		return plainBytes(s, quote)
	}
	// Words at 0, 8, ..., and one more ending at the end (overlapping the
	// one before it unless the length is a multiple of eight).
	for i := 0; ; i += 8 {
		if i > len(s)-8 {
			i = len(s) - 8
		}
		t := s[i : i+8]
		w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
			uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
		if maybeZero(w^(ones*'\\'))|maybeZero(w^(ones*'\n'))|maybeZero(w^third) != 0 && !plainBytes(t, quote) {
			return false
		}
		if i == len(s)-8 {
			return true
		}
	}
}

func plainBytes(s string, quote bool) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\\' || c == '\n' || c == '"' && quote {
			return false
		}
	}
	return true
}

// maybeZero has a high bit set in w if a byte of w is zero (and may have
// some where none is: the word is then checked byte by byte).
func maybeZero(w uint64) uint64 {
	return (w - ones) & ^w & highs
}

// appendFloat formats a sample value as expfmt's writeFloat (text) or
// writeOpenMetricsFloat (OpenMetrics: integral values get ".0").
func appendFloat(b []byte, f float64, om bool) []byte {
	switch {
	case f == 1:
		if om {
			return append(b, "1.0"...)
		}
		return append(b, '1')
	case f == 0: // -0 too
		if om {
			return append(b, "0.0"...)
		}
		return append(b, '0')
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, f, 'g', -1, 64)
	if om && !bytes.ContainsAny(b[start:], "e.") {
		b = append(b, '.', '0')
	}
	return b
}
