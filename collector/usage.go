package collector

import (
	"context"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// UsageSource is what the usage collector needs; *kinsta.Client has it.
type UsageSource interface {
	SiteUsageThisMonth(ctx context.Context, siteID string, kind kinsta.UsageKind) (float64, error)
}

var (
	siteVisitsFamily = newGaugeFamily("kinsta_site_visits_this_month",
		"Visits to the site this month as Kinsta counts them for the plan (GET /sites/{site_id}/usage/visits/this-month, cached by the usage collector).",
		[]string{"company", "site_id"}...)
	siteBandwidthFamily = newGaugeFamily("kinsta_site_bandwidth_this_month_bytes",
		"Bandwidth the site used this month, in bytes (GET /sites/{site_id}/usage/bandwidth/this-month; Kinsta does not document the unit, every client reads bytes; cached by the usage collector).",
		[]string{"company", "site_id"}...)
	siteCDNBandwidthFamily = newGaugeFamily("kinsta_site_cdn_bandwidth_this_month_bytes",
		"CDN bandwidth the site used this month, in bytes (GET /sites/{site_id}/usage/cdn-bandwidth/this-month; cached by the usage collector).",
		[]string{"company", "site_id"}...)
)

// usageKinds are the three calls of one usage item, with their series.
var usageKinds = [...]struct {
	kind   kinsta.UsageKind
	family *gaugeFamily
}{
	{kinsta.UsageVisits, siteVisitsFamily},
	{kinsta.UsageBandwidth, siteBandwidthFamily},
	{kinsta.UsageCDNBandwidth, siteCDNBandwidthFamily},
}

type usageCollector struct{ src UsageSource }

func newUsageCollector(api API) itemCollector {
	return usageCollector{api}
}

func (usageCollector) scope(bool) scope { return scopeSite }

// refresh makes the three calls of a site; if one fails the site keeps its
// last good numbers for all three.
func (c usageCollector) refresh(ctx context.Context, req *request) (result, error) {
	var m series
	for _, u := range usageKinds {
		v, err := c.src.SiteUsageThisMonth(ctx, req.siteID, u.kind)
		if err != nil {
			return result{}, err
		}
		m.gauge(u.family, v, req.company, req.siteID)
	}
	return result{series: m}, nil
}
