package kinstatest

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// wireResponseCodes is the body of analytics/response-codes, as the one
// recorded payload has it (kinsta-api-supplement.md §1): per code its own
// inner "data" of buckets, no "total", codes and values as strings.
type wireResponseCodes struct {
	Analytics struct {
		AnalyticsResponse struct {
			Key  string           `json:"key"`
			Data []wireCodeSeries `json:"data"`
		} `json:"analytics_response"`
	} `json:"analytics"`
}

type wireCodeSeries struct {
	ResponseCode string          `json:"response_code"`
	Data         []wireDatapoint `json:"data"`
}

// responseCodeSpans maps time_span to the buckets served: hourly over a day
// (the granularity Kinsta uses for 24_hours is not documented; hours are
// this fake's guess), daily otherwise. No time_span is the clients' default,
// 7_days. from/to are not interpreted.
var responseCodeSpans = map[string]struct {
	n    int
	step time.Duration
}{
	"24_hours": {24, time.Hour},
	"":         {7, 24 * time.Hour},
	"7_days":   {7, 24 * time.Hour},
	"30_days":  {30, 24 * time.Hour},
	"60_days":  {60, 24 * time.Hour},
}

// responseCodes serves Environment.ResponseCodes. Over 24_hours the buckets
// of a code add up to its count exactly; over the longer spans every day
// repeats the count. It answers 202 like the other analytics (200 with
// WireResponseCodes200).
func (f *Fake) responseCodes(r *http.Request, envID string) reply {
	q := r.URL.Query()
	companyID := q.Get("company_id")
	span, ok := responseCodeSpans[q.Get("time_span")]
	if companyID == "" || !ok {
		return statusReply(http.StatusBadRequest)
	}
	ref, found := f.envsByID[envID]
	if !found || ref.c.ID != companyID {
		return statusReply(http.StatusNotFound)
	}
	e := ref.env()
	layout := "2006-01-02T15:04:05.000Z"
	if e.Wire&WireBucketKeysNoZone != 0 {
		layout = "2006-01-02T15:04:05"
	}
	last := f.now().UTC().Truncate(span.step)
	codes := slices.Sorted(maps.Keys(e.ResponseCodes))
	var w wireResponseCodes
	w.Analytics.AnalyticsResponse.Key = "responseCode"
	w.Analytics.AnalyticsResponse.Data = []wireCodeSeries{}
	for _, code := range codes {
		count := e.ResponseCodes[code]
		if count <= 0 {
			continue
		}
		s := wireCodeSeries{ResponseCode: strconv.Itoa(code), Data: make([]wireDatapoint, span.n)}
		for i := range span.n {
			v := count
			if span.step == time.Hour {
				v = hourShare(count, i, span.n)
			}
			at := last.Add(-time.Duration(span.n-1-i) * span.step)
			s.Data[i] = wireDatapoint{Key: at.Format(layout), Value: strconv.FormatInt(v, 10)}
		}
		w.Analytics.AnalyticsResponse.Data = append(w.Analytics.AnalyticsResponse.Data, s)
	}
	status := http.StatusAccepted
	if e.Wire&WireResponseCodes200 != 0 {
		status = http.StatusOK
	}
	return jsonReply(status, w)
}

// hourShare is bucket i's part of count spread over n buckets: equal parts,
// the remainder going to the latest buckets, so the parts sum to count.
func hourShare(count int64, i, n int) int64 {
	v := count / int64(n)
	if int64(i) >= int64(n)-count%int64(n) {
		v++
	}
	return v
}
