package kinsta

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The flexible leaf types below let one odd field (a number where the spec
// says string, a null, a boolean as a string) degrade to a zero value instead
// of failing the decoding of a whole company's inventory. Kinsta's sources
// disagree on types (ssh_port, label ids, expires_at), and every field of the
// reference is treated as optional. Only the wrappers that lead to the data
// (company.sites, ...) are checked strictly; see shapeError.
//
// encoding/json has validated the token before UnmarshalJSON runs, so these
// only need to look at its first byte.

// flexString accepts a string, a number or a boolean (kept as its JSON text),
// and treats null, objects and arrays as "".
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		*s = ""
	case b[0] == '"':
		str, err := unquote(b)
		if err != nil {
			return err
		}
		*s = flexString(str)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9') || b[0] == 't' || b[0] == 'f':
		*s = flexString(b)
	default: // null, object, array
		*s = ""
	}
	return nil
}

// unquote decodes a JSON string token. The fast path avoids the reflection
// of json.Unmarshal for the common string without escapes.
func unquote(b []byte) (string, error) {
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// flexBool accepts true/false, the strings "true"/"false"/"1"/"0" and numbers
// (non-zero is true); anything else, null included, is false.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		*v = false
	case b[0] == 't':
		*v = true
	case b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		p, _ := strconv.ParseBool(strings.TrimSpace(s))
		*v = flexBool(p)
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		f, _ := strconv.ParseFloat(string(b), 64)
		*v = f != 0
	default:
		*v = false
	}
	return nil
}

// optFloat accepts a number or a numeric string (Kinsta sends analytics
// values as strings). ok is false for null, "", non-numeric strings and other
// types, so a caller can tell "absent" from 0.
type optFloat struct {
	v  float64
	ok bool
}

func (o *optFloat) UnmarshalJSON(b []byte) error {
	*o = optFloat{}
	if len(b) == 0 {
		return nil
	}
	text := string(b)
	if b[0] == '"' {
		s, err := unquote(b)
		if err != nil {
			return err
		}
		text = strings.TrimSpace(s)
	} else if b[0] != '-' && (b[0] < '0' || b[0] > '9') {
		return nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	*o = optFloat{v: f, ok: true}
	return nil
}

// int returns the value as an int, saturating instead of overflowing.
func (o optFloat) int() int {
	switch {
	case !o.ok:
		return 0
	case o.v >= math.MaxInt32:
		return math.MaxInt32
	case o.v <= math.MinInt32:
		return math.MinInt32
	}
	return int(o.v)
}

// flexTime accepts the timestamp styles the reference lists: epoch
// milliseconds as a number or a digit string (backups, /validate), and
// ISO-8601 strings with or without a zone (plugins, analytics keys). A
// timestamp without a zone is UTC, because the exporter asks for time_zone
// 00:00. Null, "", 0 and anything unparsable are the zero time.
type flexTime time.Time

func (t *flexTime) UnmarshalJSON(b []byte) error {
	*t = flexTime{}
	if len(b) == 0 {
		return nil
	}
	switch {
	case b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		*t = flexTime(parseTimeString(strings.TrimSpace(s)))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		*t = flexTime(parseEpochMillis(string(b)))
	}
	return nil
}

func (t flexTime) time() time.Time { return time.Time(t) }

// timeLayouts are tried in order for string timestamps.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05",
	"2006-01-02",
}

func parseTimeString(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:T ") {
		return parseEpochMillis(s)
	}
	for _, layout := range timeLayouts {
		if ts, err := time.Parse(layout, s); err == nil {
			return ts.UTC()
		}
	}
	return time.Time{}
}

// maxEpochMillis (year 9999) keeps absurd numbers from wrapping around.
const maxEpochMillis = 253402300799999

func parseEpochMillis(s string) time.Time {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > maxEpochMillis {
		return time.Time{}
	}
	return time.UnixMilli(int64(f)).UTC()
}
