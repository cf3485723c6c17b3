package exposition

import (
	"net/http"
	"strconv"
	"strings"
)

// acceptsGzip reports whether promhttp would answer req with gzip: of the
// offers identity and gzip (in that order), the one with the highest q value
// in Accept-Encoding wins ("*" matches both; a tie goes to the first offer,
// identity; no header means identity). That is promhttp's
// NegotiateContentEncoding; unlike it, codings compare case-insensitively and
// parameters other than q are ignored instead of ending the header's parsing,
// as RFC 9110 says.
func acceptsGzip(req *http.Request) bool {
	best, bestQ := "identity", -1.0
	specs := parseAcceptEncoding(req.Header.Values("Accept-Encoding"))
	for _, offer := range []string{"identity", "gzip"} {
		for _, s := range specs {
			if s.q > bestQ && (s.coding == "*" || strings.EqualFold(s.coding, offer)) {
				best, bestQ = offer, s.q
			}
		}
	}
	return best == "gzip" && bestQ > 0
}

type encodingSpec struct {
	coding string
	q      float64
}

func parseAcceptEncoding(values []string) []encodingSpec {
	var specs []encodingSpec
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			coding = strings.TrimSpace(coding)
			if coding == "" {
				continue
			}
			s := encodingSpec{coding: coding, q: 1}
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
					continue
				}
				q, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil || q < 0 || q > 1 {
					q = -1 // malformed: never chosen
				}
				s.q = q
			}
			specs = append(specs, s)
		}
	}
	return specs
}
