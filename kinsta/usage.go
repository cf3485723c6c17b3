package kinsta

import (
	"context"
	"errors"
	"net/url"
)

// SiteUsageThisMonth returns one this-month usage counter of a site:
// GET /sites/{site_id}/usage/{kind}/this-month. Visits are a count;
// bandwidths are bytes according to every client we know (Kinsta does not
// document the unit). A missing or null value is a KindBadResponse rather
// than 0, so a changed API does not read as "no traffic".
func (c *Client) SiteUsageThisMonth(ctx context.Context, siteID string, kind UsageKind) (float64, error) {
	switch kind {
	case UsageVisits, UsageBandwidth, UsageCDNBandwidth:
	default:
		return 0, errors.New("kinsta: SiteUsageThisMonth: unknown usage kind " + string(kind))
	}
	if siteID == "" {
		return 0, errors.New("kinsta: SiteUsageThisMonth: empty site id")
	}
	// The kind is part of the template: three values, no cardinality risk,
	// and each has its own rate behaviour at Kinsta.
	suffix := "/usage/" + string(kind) + "/this-month"
	cl := call{endpoint: "/sites/{site_id}" + suffix, path: "/sites/" + url.PathEscape(siteID) + suffix}
	var v float64
	err := c.get(ctx, cl, func(body []byte) error {
		var err error
		v, err = decodeUsage(body, kind)
		return err
	})
	return v, err
}

type wireUsageCounters struct {
	Visits    optFloat `json:"visits"`
	Bandwidth optFloat `json:"bandwidth"`
}

type wireUsage struct {
	Site *struct {
		ThisMonth    *wireUsageCounters `json:"this_month_usage"`
		ThisMonthCDN *wireUsageCounters `json:"this_month_cdn_usage"` // only the CDN endpoint uses this key
	} `json:"site"`
}

func decodeUsage(body []byte, kind UsageKind) (float64, error) {
	var w *wireUsage
	if err := decodeJSON(body, &w); err != nil {
		return 0, err
	}
	if w == nil || w.Site == nil {
		return 0, missing("site")
	}
	counters, path := w.Site.ThisMonth, "site.this_month_usage"
	if kind == UsageCDNBandwidth {
		counters, path = w.Site.ThisMonthCDN, "site.this_month_cdn_usage"
	}
	if counters == nil {
		return 0, missing(path)
	}
	v, field := counters.Bandwidth, "bandwidth"
	if kind == UsageVisits {
		v, field = counters.Visits, "visits"
	}
	if !v.ok {
		return 0, &shapeError{path: path + "." + field, problem: "is missing, null or not a number"}
	}
	return v.v, nil
}
