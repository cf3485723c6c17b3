package kinsta

import (
	"context"
	"errors"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ResponseCodes is the HTTP status code breakdown of one environment's
// responses over the last 24 hours, as Kinsta's analytics count them.
type ResponseCodes struct {
	// Counts maps each status code Kinsta lists, as it spells it ("200",
	// "404"), to the sum of the values of all its buckets. Kinsta lists only
	// the codes that had responses (no source shows a zero series), so a
	// code absent here had none. Never nil on success.
	Counts map[string]float64
	// FirstBucket and LastBucket are the earliest and latest bucket keys
	// (keys without a zone are read as UTC); zero when no bucket has a
	// readable key. Whether buckets are hours or days for a 24-hour span is
	// not documented; these tell what the sum covered.
	FirstBucket, LastBucket time.Time
}

// responseCodesSpan is the one window the exporter asks for.
const responseCodesSpan = "24_hours"

// maxResponseCodes bounds the distinct codes of one answer: HTTP has 500
// (100-599). A runaway list of made-up codes must not become a label each.
const maxResponseCodes = 600

// ResponseCodes returns the HTTP status code breakdown of an environment
// over the last 24 hours:
// GET /sites/environments/{env_id}/analytics/response-codes?company_id=..&time_span=24_hours.
// No time_zone is sent (no client sends one for this endpoint). Kinsta
// answers analytics with 202; 200 is accepted too (any 2xx is).
//
// The shape differs from the other analytics: each element of
// analytics.analytics_response.data has a response_code and its own inner
// data (or, as the other analytics spell it, dataset) of {key, value}
// buckets, values being numbers in strings, and no total. A value of null is
// counted as 0. Anything else unknown (a missing wrapper or inner list, a
// series without a code, a code that is not 1-16 letters or digits led by a
// digit, a value that is not a non-negative number, over 600 distinct codes)
// is a KindBadResponse naming the place, never a partial count. An empty
// data list is an environment without responses: no codes, no error.
func (c *Client) ResponseCodes(ctx context.Context, companyID, envID string) (ResponseCodes, error) {
	if envID == "" || companyID == "" {
		return ResponseCodes{}, errors.New("kinsta: ResponseCodes: empty company or environment id")
	}
	q := url.Values{"company_id": {companyID}, "time_span": {responseCodesSpan}}
	var out ResponseCodes
	err := c.get(ctx, envCall(envID, "/analytics/response-codes", q), func(body []byte) error {
		var err error
		out, err = decodeResponseCodes(body)
		return err
	})
	return out, err
}

type wireResponseCodes struct {
	Analytics *struct {
		Response *struct {
			Data *[]wireCodeSeries `json:"data"`
		} `json:"analytics_response"`
	} `json:"analytics"`
}

type wireCodeSeries struct {
	Code    flexString    `json:"response_code"` // a string; a number is taken too
	Data    *[]wireBucket `json:"data"`
	Dataset *[]wireBucket `json:"dataset"`
}

type wireBucket struct {
	Key   flexTime   `json:"key"`
	Value countValue `json:"value"`
}

// countValue is a bucket value: a non-negative number or numeric string
// (ok), null (ok, 0), or anything else (not ok). Absent is not ok either: a
// renamed field must not read as no traffic.
type countValue struct {
	v  float64
	ok bool
}

func (c *countValue) UnmarshalJSON(b []byte) error {
	*c = countValue{}
	if string(b) == "null" {
		c.ok = true
		return nil
	}
	var f optFloat
	if err := f.UnmarshalJSON(b); err != nil {
		return err
	}
	*c = countValue{v: f.v, ok: f.ok && f.v >= 0}
	return nil
}

func decodeResponseCodes(body []byte) (ResponseCodes, error) {
	var w *wireResponseCodes
	if err := decodeJSON(body, &w); err != nil {
		return ResponseCodes{}, err
	}
	if w == nil || w.Analytics == nil || w.Analytics.Response == nil || w.Analytics.Response.Data == nil {
		return ResponseCodes{}, missing("analytics.analytics_response.data")
	}
	out := ResponseCodes{Counts: map[string]float64{}}
	for i, s := range *w.Analytics.Response.Data {
		path := "analytics.analytics_response.data[" + strconv.Itoa(i) + "]"
		code, err := s.code(path)
		if err != nil {
			return ResponseCodes{}, err
		}
		sum, err := out.addBuckets(s, path)
		if err != nil {
			return ResponseCodes{}, err
		}
		out.Counts[code] += sum
		if math.IsInf(out.Counts[code], 0) {
			return ResponseCodes{}, &shapeError{path: path, problem: "sums to more than a float64 holds"}
		}
		if len(out.Counts) > maxResponseCodes {
			return ResponseCodes{}, &shapeError{path: "analytics.analytics_response.data",
				problem: "has over " + strconv.Itoa(maxResponseCodes) + " distinct response codes"}
		}
	}
	return out, nil
}

// code returns the series' status code, trimmed: 1-16 ASCII letters or
// digits, a digit first ("200"; a grouped "5xx" would pass).
func (s *wireCodeSeries) code(path string) (string, error) {
	code := strings.TrimSpace(string(s.Code))
	if code == "" || len(code) > 16 {
		return "", &shapeError{path: path + ".response_code", problem: "is missing, empty or too long"}
	}
	if code[0] < '0' || code[0] > '9' {
		return "", &shapeError{path: path + ".response_code", problem: "is not a status code"}
	}
	for _, r := range code {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return "", &shapeError{path: path + ".response_code", problem: "is not a status code"}
		}
	}
	return code, nil
}

// addBuckets sums the series' bucket values and widens the bucket range.
func (rc *ResponseCodes) addBuckets(s wireCodeSeries, path string) (float64, error) {
	buckets, name := s.Data, ".data"
	if buckets == nil {
		buckets, name = s.Dataset, ".dataset"
	}
	if buckets == nil {
		return 0, missing(path + ".data")
	}
	var sum float64
	for j, b := range *buckets {
		if !b.Value.ok {
			return 0, &shapeError{path: path + name + "[" + strconv.Itoa(j) + "].value",
				problem: "is missing or not a non-negative number"}
		}
		sum += b.Value.v
		if at := b.Key.time(); !at.IsZero() {
			if rc.FirstBucket.IsZero() || at.Before(rc.FirstBucket) {
				rc.FirstBucket = at
			}
			if at.After(rc.LastBucket) {
				rc.LastBucket = at
			}
		}
	}
	return sum, nil
}
