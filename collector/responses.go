package collector

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// ResponsesSource is what the responses collector needs; *kinsta.Client has it.
type ResponsesSource interface {
	ResponseCodes(ctx context.Context, companyID, envID string) (kinsta.ResponseCodes, error)
}

var envResponsesFamily = newGaugeFamily("kinsta_environment_http_responses",
	"Responses the live environment served in the last 24 hours, by HTTP status code: the buckets of GET /sites/environments/{env_id}/analytics/response-codes?time_span=24_hours summed (cached by the responses collector). A sliding 24-hour window, not a counter: it falls as old responses leave the window, so use it as it is, never with rate() or increase(). A code Kinsta stops listing is 0 (for up to 7 days after it was last listed).",
	[]string{"company", "site_id", "environment_id", "code"}...)

const (
	// maxCodesPerEnvironment bounds the code label of one environment. Real
	// traffic has a dozen or two distinct codes in a day; an answer with
	// more is not one the exporter understands (made-up codes would each
	// become a series), so it fails the item rather than being cut.
	maxCodesPerEnvironment = 64
	// zeroCodeKept is how long a code Kinsta stopped listing is served as
	// 0: long enough that graphs and the 5xx share see it drop to 0 rather
	// than vanish, short enough that a code seen once does not stay a
	// series for the exporter's lifetime.
	zeroCodeKept = 7 * 24 * time.Hour
	// responseCodesEndpoint is the route of the call, for errors.
	responseCodesEndpoint = "/sites/environments/{env_id}/analytics/response-codes"
)

// codesListed is the responses collector's state of one environment: when
// Kinsta last listed each code the item serves.
type codesListed map[string]time.Time

// responsesCollector reads the response codes of every live environment
// (scopeLiveEnvironment): staging environments have little traffic and are
// not what visitors see, and each would cost one more call per interval.
type responsesCollector struct{ src ResponsesSource }

func newResponsesCollector(api API) itemCollector { return responsesCollector{api} }

func (responsesCollector) scope(bool) scope { return scopeLiveEnvironment }

func (c responsesCollector) refresh(ctx context.Context, req *request) (result, error) {
	rc, err := c.src.ResponseCodes(ctx, req.company, req.envID)
	if err != nil {
		return result{}, err
	}
	if len(rc.Counts) > maxCodesPerEnvironment {
		return result{}, &kinsta.Error{Kind: kinsta.KindBadResponse, Endpoint: responseCodesEndpoint,
			Message: fmt.Sprintf("%d distinct response codes, more than the %d the exporter serves per environment", len(rc.Counts), maxCodesPerEnvironment)}
	}
	prev, _ := req.state.(codesListed)
	listed := nextCodesListed(prev, rc.Counts, req.start)
	var m series
	for _, code := range slices.Sorted(maps.Keys(listed)) {
		m.gauge(envResponsesFamily, rc.Counts[code], req.company, req.siteID, req.envID, code) // 0 when not listed
	}
	return result{series: m, state: listed}, nil
}

// nextCodesListed returns the codes to serve after an answer listing counts
// at now: every listed one, then the previously served ones Kinsta no longer
// lists, most recently listed first, while they are younger than
// zeroCodeKept and there is room under maxCodesPerEnvironment.
func nextCodesListed(prev codesListed, counts map[string]float64, now time.Time) codesListed {
	next := make(codesListed, len(counts))
	for code := range counts {
		next[code] = now
	}
	var gone []string
	for code, at := range prev {
		if _, listed := counts[code]; !listed && now.Sub(at) < zeroCodeKept {
			gone = append(gone, code)
		}
	}
	slices.SortFunc(gone, func(a, b string) int {
		return cmp.Or(prev[b].Compare(prev[a]), cmp.Compare(a, b))
	})
	for _, code := range gone {
		if len(next) >= maxCodesPerEnvironment {
			break
		}
		next[code] = prev[code]
	}
	return next
}
