package kinstatest

import "time"

const (
	demoBurstSite = 14 // "Urban Sprout Market": its live environment answers a burst of 5xx
	demoQuietSite = 29 // "Kestrel Aviation": 40 responses a day, two of them 500s
	demoShopSite  = 20 // "Tidewater Kayaks": the activity log added shop.tidewaterkayaks.example
)

// addDemoReach gives the demo company what the reachability features read:
//   - domains: every live environment has its www primary, the apex, a
//     wildcard "*.<site>.example" and on most sites a "<site>.kinsta.cloud.example"
//     name; some have a shop subdomain, an inactive old domain or a repeated
//     entry; some staging environments a custom domain; the migrating site
//     (no primary domain yet) only its kinsta.cloud.example name;
//   - every fifth site (3, 8, 13, ...) sends its domains in the recorded
//     shape, without is_active; response codes come with or without "Z" in
//     their keys and with 202 or 200, by site;
//   - response codes of the last 24 hours for the live environment of every
//     live site, mostly 200/304/301 with a few 404s and the odd 500; site 14
//     has a burst of 5xx (about 16% of its responses) and site 29 two 500s in
//     40 responses;
//   - six API keys: the exporter's own (as /validate), a deploy pipeline's
//     expiring in 9 days, one that never expires, one valid for 200 days, a
//     revoked one and an expired one.
func addDemoReach(c *Company, now time.Time) {
	for i := range c.Sites {
		s := &c.Sites[i]
		for j := range s.Environments {
			e := &s.Environments[j]
			e.Domains = demoDomains(i, s.Name, e)
			e.Wire = demoWire(i)
			if e.Name == "live" && s.Status == "live" {
				e.ResponseCodes = demoResponseCodes(i)
			}
		}
	}
	day := 24 * time.Hour
	c.APIKeys = []APIKey{
		{Name: c.KeyName, ExpiresAt: c.KeyExpiresAt},
		{Name: "deploy-pipeline", ExpiresAt: now.Add(9 * day)},
		{Name: "wp-cli-automation"},
		{Name: "status-dashboard", ExpiresAt: now.Add(200 * day)},
		{Name: "old-ci-runner", Status: "revoked", ExpiresAt: now.Add(100 * day)},
		{Name: "legacy-backup-script", Status: "expired", ExpiresAt: now.Add(-20 * day)},
	}
}

// demoDomains returns the domains of site i's environment e besides its
// primary one.
func demoDomains(i int, slug string, e *Environment) []Domain {
	apex := slug + ".example"
	switch {
	case e.Name == "live" && e.PrimaryDomain == "": // not attached yet
		return []Domain{{Name: slug + ".kinsta.cloud.example"}}
	case e.Name == "live":
		ds := []Domain{{Name: apex}, {Name: "*." + apex}}
		if i%2 == 0 {
			ds = append(ds, Domain{Name: slug + ".kinsta.cloud.example"})
		}
		if i%6 == 1 || i == demoShopSite {
			ds = append(ds, Domain{Name: "shop." + apex})
		}
		if i%9 == 4 {
			ds = append(ds, Domain{Name: "old-" + apex, Inactive: true})
		}
		if i%11 == 5 {
			ds = append(ds, Domain{Name: e.PrimaryDomain}) // listed twice
		}
		return ds
	case e.Name == "staging" && i%3 == 0:
		return []Domain{{Name: "staging." + apex}}
	}
	return nil
}

func demoWire(i int) WireVariant {
	var w WireVariant
	if i%5 == 3 {
		w |= WireDomainsRecorded
	}
	if i%2 == 1 {
		w |= WireBucketKeysNoZone
	}
	if i%4 == 2 {
		w |= WireResponseCodes200
	}
	return w
}

// demoResponseCodes returns a day of responses of site i's live environment.
func demoResponseCodes(i int) map[int]int64 {
	if i == demoQuietSite {
		return map[int]int64{200: 30, 301: 4, 404: 4, 500: 2}
	}
	n := int64(3000 + (i*7919)%40000)
	codes := map[int]int64{
		200: n * 80 / 100,
		304: n * 7 / 100,
		301: n * 4 / 100,
		404: n * 3 / 100,
	}
	if i%3 == 0 {
		codes[302] = n / 100
		codes[500] = n / 2000
	}
	if i%4 == 1 {
		codes[403] = n * 3 / 1000
	}
	if i%7 == 0 {
		codes[503] = 1
	}
	if i == demoBurstSite {
		codes[500] = n * 8 / 100
		codes[502] = n * 5 / 100
		codes[503] = n * 4 / 100
		codes[504] = n / 100
	}
	return codes
}
