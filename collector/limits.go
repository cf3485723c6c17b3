package collector

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// Limits bound what an API answer can make the exporter hold and serve.
// Label values are user text (site and label names) or API text, and every
// count in an answer is the API's to choose; growth is length x count, so a
// 151 KB answer once rendered 200 MB. Each limit is a flag (main.go); zero
// fields mean the default. A refresh that hits one drops or cuts what is
// over it, logs one line and counts it (kinsta_exporter_limited_elements_total).
// A count more than HardLimitFactor times its limit is not a large company
// but a broken or hostile answer: the refresh fails as bad_response and the
// last good data stays, as for any other bad answer.
type Limits struct {
	// LabelValueLength is the longest label value, in bytes; longer ones
	// are cut at a UTF-8 boundary. Cutting costs nothing but the tail, so
	// it has no hard limit.
	LabelValueLength int
	// LabelsPerSite is the most site labels exported per site; the first
	// ones are kept.
	LabelsPerSite int
	// DomainsPerEnvironment is the most domains exported per environment
	// (series and /sd/domains), the primary first.
	DomainsPerEnvironment int
	// SeriesPerCompany is the most site series (GET /sites) of one company,
	// and BytesPerCompany the most bytes of their text exposition (about:
	// escapes not counted); whole sites past either are left out, in the
	// API's order. Both bound the exposition: the count for Prometheus'
	// sake, the bytes for the exporter's memory, since long label values
	// times many series is what grows it.
	SeriesPerCompany int
	BytesPerCompany  int
	// SeriesPerCollector and BytesPerCollector are the same for the series
	// of one background collector for one company; an item's series past
	// them are left out.
	SeriesPerCollector int
	BytesPerCollector  int
	// ActivityTypes is the most operation types the activity counters
	// keep per company; entries of further types are counted as type
	// "other". Folding bounds them, so there is no hard limit.
	ActivityTypes int
}

// HardLimitFactor: a count over HardLimitFactor times its limit fails the
// refresh as bad_response.
const HardLimitFactor = 10

// MaxExpansion and MinExpansionBytes lower BytesPerCompany for a small
// answer: the site series of a GET /sites answer may take at most
// MaxExpansion times its bytes, and at least MinExpansionBytes. A real
// answer becomes about as many bytes of series as it has (the benchmark's
// 21.5 MB of JSON become 25 MB; a site of a hundred short labels, each a
// row repeating the company and site id, about seven times); an answer
// built to amplify, long ids repeated on many labels, thirty times, and it
// would otherwise fill the byte limit from a megabyte.
const (
	MaxExpansion      = 8
	MinExpansionBytes = 1 << 20
)

// forAnswer is l for a GET /sites answer of bodyBytes (0: unknown, the
// limits as they are; see MaxExpansion).
func (l Limits) forAnswer(bodyBytes int64) Limits {
	l = l.withDefaults()
	if bodyBytes > 0 {
		l.BytesPerCompany = int(min(int64(l.BytesPerCompany), max(MinExpansionBytes, MaxExpansion*bodyBytes)))
	}
	return l
}

// The defaults of Limits. The series limits leave room for twice the
// 10,000-site company the benchmark measures (about 136,000 site series
// with their domains, 25 MB of text); the byte limits for about 13,000 such
// sites, which is also how far an answer built to fill them gets.
const (
	DefaultLabelValueLength      = 1024
	DefaultLabelsPerSite         = 100
	DefaultDomainsPerEnvironment = 100
	DefaultSeriesPerCompany      = 200_000
	DefaultBytesPerCompany       = 32 << 20
	DefaultSeriesPerCollector    = 200_000
	DefaultBytesPerCollector     = 32 << 20
	DefaultActivityTypes         = 100
)

// otherActivityType is the type of activity entries past ActivityTypes.
const otherActivityType = "other"

// withDefaults fills the zero fields with the defaults.
func (l Limits) withDefaults() Limits {
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.LabelValueLength, DefaultLabelValueLength)
	set(&l.LabelsPerSite, DefaultLabelsPerSite)
	set(&l.DomainsPerEnvironment, DefaultDomainsPerEnvironment)
	set(&l.SeriesPerCompany, DefaultSeriesPerCompany)
	set(&l.BytesPerCompany, DefaultBytesPerCompany)
	set(&l.SeriesPerCollector, DefaultSeriesPerCollector)
	set(&l.BytesPerCollector, DefaultBytesPerCollector)
	set(&l.ActivityTypes, DefaultActivityTypes)
	return l
}

// limit names a limit: the value of the limit label.
type limit int

const (
	limitNone limit = iota
	limitLabelValueLength
	limitLabelsPerSite
	limitDomainsPerEnvironment
	limitSeriesPerCompany
	limitBytesPerCompany
	limitSeriesPerCollector
	limitBytesPerCollector
	limitActivityTypes
	numLimits
)

var limitNames = [numLimits]string{
	limitLabelValueLength:      "label_value_length",
	limitLabelsPerSite:         "labels_per_site",
	limitDomainsPerEnvironment: "domains_per_environment",
	limitSeriesPerCompany:      "series_per_company",
	limitBytesPerCompany:       "bytes_per_company",
	limitSeriesPerCollector:    "series_per_collector",
	limitBytesPerCollector:     "bytes_per_collector",
	limitActivityTypes:         "activity_types",
}

func (l limit) String() string { return limitNames[l] }

// limitHits counts what one refresh dropped or cut, per limit.
type limitHits [numLimits]int

func (h *limitHits) any() bool { return *h != limitHits{} }

func (h *limitHits) add(o limitHits) {
	for i, n := range o {
		h[i] += n
	}
}

// logValues are the hits as key-value pairs for the one log line of a
// refresh that hit limits.
func (h *limitHits) logValues() []any {
	var kv []any
	for i, n := range h {
		if n > 0 {
			kv = append(kv, limit(i).String(), n)
		}
	}
	return kv
}

// overHardLimit is the error of a refresh whose answer has more of
// something than HardLimitFactor times its limit: a bad response.
func overHardLimit(endpoint, what string, n, max int) error {
	return &kinsta.Error{Kind: kinsta.KindBadResponse, Endpoint: endpoint,
		Message: fmt.Sprintf("%d %s, over %d times the limit of %d; keeping the last good data", n, what, HardLimitFactor, max)}
}

// overHard reports whether n is over the hard limit of max.
func overHard(n, max int) bool { return n > HardLimitFactor*max }

// budget counts series and their bytes against two limits, the count and
// the bytes of one part, and says which one a series would pass.
type budget struct {
	series, bytes       int
	maxSeries, maxBytes int
}

// fits reports whether n more series of b bytes fit, and if not which
// limit they would pass (series or bytes).
func (u *budget) fits(n, b int, series, bytes limit) (bool, limit) {
	switch {
	case u.series+n > u.maxSeries:
		return false, series
	case u.bytes+b > u.maxBytes:
		return false, bytes
	}
	return true, limitNone
}

func (u *budget) take(n, b int) { u.series, u.bytes = u.series+n, u.bytes+b }

// cutLabel returns v made valid UTF-8 and at most max bytes long, cut at a
// rune boundary, and whether it was cut.
func cutLabel(v string, max int) (string, bool) {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	if len(v) <= max {
		return v, false
	}
	i := max
	for i > 0 && !utf8.RuneStart(v[i]) {
		i--
	}
	// A copy: the cut value must not keep the long one alive.
	return strings.Clone(v[:i]), true
}

// quoteShort quotes an API value for an error message, cut short.
func quoteShort(s string) string {
	s, cut := cutLabel(s, 40)
	if cut {
		return fmt.Sprintf("%q…", s)
	}
	return fmt.Sprintf("%q", s)
}

var limitedDesc = prometheus.NewDesc("kinsta_exporter_limited_elements_total",
	"Elements of Kinsta API answers that a limit left out or cut short since the exporter started, by limit: label values cut (label_value_length), "+
		"site labels, domains, site series or a collector's series left out (labels_per_site, domains_per_environment, series_per_company, bytes_per_company, series_per_collector, bytes_per_collector), "+
		"activity log entries counted as type \"other\" (activity_types). See --limit.* flags. Absent until a limit is hit.",
	[]string{"company", "collector", "limit"}, nil)

// limitCounters are the counters of limitedDesc of one exporter.
type limitCounters struct {
	mu     sync.Mutex
	counts map[limitKey]float64
}

type limitKey struct {
	company, collector string
	limit              limit
}

func (c *limitCounters) add(company, collector string, hits limitHits) {
	if !hits.any() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[limitKey]float64{}
	}
	for i, n := range hits {
		if n > 0 {
			c.counts[limitKey{company, collector, limit(i)}] += float64(n)
		}
	}
}

func (c *limitCounters) collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, n := range c.counts {
		ch <- prometheus.MustNewConstMetric(limitedDesc, prometheus.CounterValue, n, k.company, k.collector, k.limit.String())
	}
}

// checkKeyCompany checks the company GET /validate named for the API key
// with kinsta.CheckCompanyID, the one check of company ids: it goes into
// every series' company label and into request paths, so a hostile answer
// must not name ".." or a megabyte of text. The client refuses such an
// answer already; this keeps the collector safe over any SitesSource.
func checkKeyCompany(id string) error {
	if id == "" {
		return errors.New("GET /validate named no company; set --kinsta.company")
	}
	if err := kinsta.CheckCompanyID(id); err != nil {
		return &kinsta.Error{Kind: kinsta.KindBadResponse, Endpoint: "/validate", Message: "the key's company", Err: err}
	}
	return nil
}
