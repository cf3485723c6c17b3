package kinstatest

import (
	"strings"
	"testing"
	"time"
)

func TestDemoReach(t *testing.T) {
	c := DemoCompany(testNow)
	var wildcards, inactive, repeated, recorded, noZone, status200, withCodes int
	for i, s := range c.Sites {
		for _, e := range s.Environments {
			names := map[string]bool{}
			all := append([]Domain{{Name: e.PrimaryDomain}}, e.Domains...)
			if e.PrimaryDomain == "" {
				all = e.Domains
			}
			if len(all) == 0 {
				t.Errorf("%s %s: no domain", s.DisplayName, e.Name)
			}
			for _, d := range all {
				if !strings.HasSuffix(d.Name, ".example") {
					t.Errorf("%s: %q is not under .example", s.DisplayName, d.Name)
				}
				switch {
				case strings.HasPrefix(d.Name, "*."):
					wildcards++
				case d.Inactive:
					inactive++
				case names[d.Name]:
					repeated++
				}
				names[d.Name] = true
			}
			if e.Wire&WireDomainsRecorded != 0 {
				recorded++
			}
			if e.Wire&(WirePrimaryDomainName|WirePrimaryDomainSnake) != 0 {
				t.Errorf("%s %s: a variant no source shows", s.DisplayName, e.Name)
			}
			if e.Name == "live" && s.Status == "live" {
				if len(e.ResponseCodes) == 0 {
					t.Errorf("%s: no response codes", s.DisplayName)
				}
				withCodes++
				if e.Wire&WireBucketKeysNoZone != 0 {
					noZone++
				}
				if e.Wire&WireResponseCodes200 != 0 {
					status200++
				}
			} else if e.ResponseCodes != nil {
				t.Errorf("%s %s: response codes off a live site's live environment", s.DisplayName, e.Name)
			}
			if share := errorShare(e.ResponseCodes); (i == demoBurstSite && e.Name == "live") != (share > 0.10) {
				t.Errorf("%s %s: 5xx share %.3f", s.DisplayName, e.Name, share)
			}
		}
	}
	if wildcards < 30 || inactive == 0 || repeated == 0 || recorded == 0 || noZone == 0 || status200 == 0 || withCodes < 30 {
		t.Errorf("wildcards %d, inactive %d, repeated %d, recorded %d, no-Z %d, 200s %d, with codes %d",
			wildcards, inactive, repeated, recorded, noZone, status200, withCodes)
	}
	if q := c.Sites[demoQuietSite].Environments[0].ResponseCodes; q[500] != 2 || sum(q) != 40 {
		t.Errorf("quiet site: %v", q)
	}

	soon, never, revoked, expired := 0, 0, 0, 0
	for _, k := range c.APIKeys {
		switch {
		case k.Status == "revoked":
			revoked++
		case k.Status == "expired" || !k.ExpiresAt.IsZero() && k.ExpiresAt.Before(testNow):
			expired++
		case k.ExpiresAt.IsZero():
			never++
		case k.ExpiresAt.Sub(testNow) < 14*24*time.Hour:
			soon++
		}
	}
	if soon != 1 || never != 1 || revoked != 1 || expired != 1 || len(c.APIKeys) < 5 || c.APIKeys[0].Name != c.KeyName {
		t.Errorf("keys: %+v", c.APIKeys)
	}
}

func sum(codes map[int]int64) int64 {
	var n int64
	for _, v := range codes {
		n += v
	}
	return n
}

// errorShare is the 5xx part of the responses; 0 without responses.
func errorShare(codes map[int]int64) float64 {
	var errs int64
	for code, v := range codes {
		if code >= 500 {
			errs += v
		}
	}
	if total := sum(codes); total > 0 {
		return float64(errs) / float64(total)
	}
	return 0
}
