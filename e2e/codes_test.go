package e2e

import (
	"fmt"
	"strings"
	"time"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta/kinstatest"
)

// The expectations of the responses and apikeys collectors' alerts, from the
// fake's data, by the thresholds of rules.yml.

// serverErrorSites are the sites (site_id -> display name) whose live
// environment has at least 5% 5xx of at least 100 responses:
// KinstaSiteServerErrors must fire for exactly these.
func serverErrorSites(c *kinstatest.Company) map[string]string {
	out := map[string]string{}
	for _, s := range c.Sites {
		for _, env := range s.Environments {
			if env.Name != "live" {
				continue
			}
			var total, fiveXX int64
			for code, n := range env.ResponseCodes {
				total += n
				if code >= 500 && code <= 599 {
					fiveXX += n
				}
			}
			if total >= 100 && fiveXX*20 >= total {
				out[s.ID] = s.DisplayName
			}
		}
	}
	return out
}

// expiringKeys are the names of the company's active keys, other than the
// exporter's own, that expire within 14 days of now:
// KinstaAPIKeyExpiringSoon{key="other"} must fire for exactly these.
func expiringKeys(c *kinstatest.Company, now time.Time) map[string]string {
	out := map[string]string{}
	for _, k := range c.APIKeys {
		active := k.Status == "" || k.Status == "active"
		if active && k.Name != c.KeyName && !k.ExpiresAt.IsZero() && k.ExpiresAt.Sub(now) < 14*24*time.Hour {
			out[k.Name] = "other"
		}
	}
	if !c.KeyExpiresAt.IsZero() && c.KeyExpiresAt.Sub(now) < 14*24*time.Hour {
		out[c.KeyName] = "" // the exporter's own key: the rule without a key label
	}
	return out
}

// firingAlerts returns label -> other label of the firing alerts named name
// of job "kinsta", and an error naming any that is still pending.
func (e *env) firingAlerts(name, key, value string) (map[string]string, error) {
	alerts, err := e.promAlerts()
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	var pending []string
	for _, a := range alerts {
		if a.Labels["alertname"] != name || a.Labels["job"] != "kinsta" {
			continue
		}
		if a.State != "firing" {
			pending = append(pending, a.Labels[key])
			continue
		}
		got[a.Labels[key]] = a.Labels[value]
	}
	if len(pending) > 0 {
		return got, fmt.Errorf("%s still %s for %s", name, "pending", strings.Join(pending, ", "))
	}
	return got, nil
}
