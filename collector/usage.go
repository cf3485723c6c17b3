package collector

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// UsageSource is what the usage collector needs; *kinsta.Client has it.
type UsageSource interface {
	SiteUsageThisMonth(ctx context.Context, siteID string, kind kinsta.UsageKind) (float64, error)
}

var (
	siteVisitsDesc = prometheus.NewDesc("kinsta_site_visits_this_month",
		"Visits to the site this month as Kinsta counts them for the plan (GET /sites/{site_id}/usage/visits/this-month, cached by the usage collector).",
		[]string{"company", "site_id"}, nil)
	siteBandwidthDesc = prometheus.NewDesc("kinsta_site_bandwidth_this_month_bytes",
		"Bandwidth the site used this month, in bytes (GET /sites/{site_id}/usage/bandwidth/this-month; Kinsta does not document the unit, every client reads bytes; cached by the usage collector).",
		[]string{"company", "site_id"}, nil)
	siteCDNBandwidthDesc = prometheus.NewDesc("kinsta_site_cdn_bandwidth_this_month_bytes",
		"CDN bandwidth the site used this month, in bytes (GET /sites/{site_id}/usage/cdn-bandwidth/this-month; cached by the usage collector).",
		[]string{"company", "site_id"}, nil)
)

// usageKinds are the three calls of one usage item, with their series.
var usageKinds = [...]struct {
	kind kinsta.UsageKind
	desc *prometheus.Desc
}{
	{kinsta.UsageVisits, siteVisitsDesc},
	{kinsta.UsageBandwidth, siteBandwidthDesc},
	{kinsta.UsageCDNBandwidth, siteCDNBandwidthDesc},
}

type usageCollector struct{ src UsageSource }

func newUsageCollector(src SitesSource) (itemCollector, error) {
	s, ok := src.(UsageSource)
	if !ok {
		return nil, errors.New("the API source has no SiteUsageThisMonth method")
	}
	return usageCollector{s}, nil
}

func (usageCollector) scope(bool) scope { return scopeSite }

func (usageCollector) descs() []*prometheus.Desc {
	return []*prometheus.Desc{siteVisitsDesc, siteBandwidthDesc, siteCDNBandwidthDesc}
}

// refresh makes the three calls of a site; if one fails the site keeps its
// last good numbers for all three.
func (c usageCollector) refresh(ctx context.Context, req *request) (result, error) {
	var m series
	for _, u := range usageKinds {
		if err := req.pace(ctx); err != nil {
			return result{}, err
		}
		v, err := c.src.SiteUsageThisMonth(ctx, req.siteID, u.kind)
		if err != nil {
			return result{}, err
		}
		m.gauge(u.desc, v, req.company, req.siteID)
	}
	return result{metrics: m}, nil
}
