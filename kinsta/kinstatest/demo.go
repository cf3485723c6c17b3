package kinstatest

import (
	"fmt"
	"strings"
	"time"
)

// DemoCompanyID is the id of the company DemoCompany builds.
const DemoCompanyID = "5d0e7a1c-3b9f-4c2e-8a6d-1f4b2c9e7a30"

var demoSiteNames = [...]string{
	"Acme Bakery", "Blue Harbor Dental", "Cedar & Pine Realty", "Northwind Traders",
	"Brightside Yoga", "Copper Kettle Café", "Summit Legal Partners", "Greenleaf Landscaping",
	"Harbor Lights Marina", "Pixel Forge Studio", "Riverbend Vet Clinic", "Maple Street Books",
	"Ironclad Fitness", "Sunny Side Daycare", "Urban Sprout Market", "Oakridge Accounting",
	"Lighthouse Community Church", "Nova Dental Care", "Red Fern Photography", "Silverline Plumbing",
	"Tidewater Kayaks", "Wildflower Weddings", "Golden Gate Tutoring", "Blackbird Coffee Roasters",
	"Evergreen Senior Living", "Fox & Hound Pub", "Granite Peak Outfitters", "Hearth & Home Interiors",
	"Juniper Skincare", "Kestrel Aviation", "Lumen Eye Center", "Mosaic Arts Festival",
	"Orchard Hill Winery", "Prairie Wind Energy", "Quill & Ink Publishing", "Starlight Cinema",
}

// Demo sites that are not live; "live" is the only documented status, the others are
// this simulation's guesses.
var demoNonLive = map[int]string{7: "suspended", 19: "paused", 26: "migrating"}

const (
	demoBlockedSite    = 13 // its staging environment is blocked
	demoStaleSite      = 4  // its live environment's newest backup is ~72h old
	demoVulnerableSite = 10 // its live environment runs a vulnerable plugin version
	demoNullWPSite     = 9  // its staging environment has wordpress_version null
)

func slug(name string) string {
	name = strings.NewReplacer("&", "and", "é", "e").Replace(strings.ToLower(name))
	var b strings.Builder
	for _, r := range name {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// DemoCompany returns a realistic agency company of 36 sites, with timestamps
// relative to now:
//   - sites 7 "suspended", 19 "paused" and 26 "migrating" are not live (the rest are);
//   - every site has a live environment; most have staging, some premium (is_premium),
//     four have a premium "development" environment; exactly one environment (the
//     staging of site 13, "Sunny Side Daycare") is blocked;
//   - labels "client:<name>", "tier:gold|silver|bronze", "env:prod", and the
//     spaced "Do not remove" / "Maintenance plan"; three sites send numeric
//     "site_labels", three have no labels;
//   - WordPress 6.4 to 6.7 (one null), PHP 8.1 to 8.3;
//   - "scheduled", "system" and "manual" backups; the live environment of site 4
//     ("Brightside Yoga") has its newest backup 72h old; development environments
//     have none;
//   - plugins and themes with updates available, one vulnerable plugin
//     (really-simple-ssl on site 10, "Riverbend Vet Clinic");
//   - usage, disk space and eight activity log entries, one failed;
//   - domains, HTTP response codes and API keys as addDemoReach describes.
//
// Domain names are under the reserved .example top-level domain.
func DemoCompany(now time.Time) *Company {
	c := &Company{
		ID:                 DemoCompanyID,
		KeyName:            "prometheus-exporter-demo",
		KeyExpiresAt:       now.Add(45 * 24 * time.Hour),
		InventoryUpdatedAt: now.Add(-3 * time.Hour),
	}
	labelIDs := map[string]int{} // label name -> numeric id, in order of first use
	label := func(name string, numeric bool) Label {
		n, ok := labelIDs[name]
		if !ok {
			n = 100 + len(labelIDs)
			labelIDs[name] = n
		}
		l := Label{ID: uuidFor(DemoCompanyID, "label", name), Name: name}
		if numeric {
			l.NumericID = n
		}
		return l
	}
	backupID := int64(412_000_000)
	backup := func(slug, typ, note string, at time.Time) Backup {
		backupID++
		return Backup{ID: backupID, Name: fmt.Sprintf("%s-%d-%s", slug, at.Unix(), typ),
			Type: typ, Note: note, CreatedAt: at}
	}
	wpVersions := [...]string{"6.7.1", "6.6.2", "6.5.5", "6.4.5", "6.7.1", "6.6.2"}
	phpVersions := [...]string{"8.3", "8.2", "8.1", "8.3", "8.2"}
	tiers := [...]string{"tier:gold", "tier:silver", "tier:bronze"}

	for i, display := range demoSiteNames {
		sl := slug(display)
		s := Site{
			ID:                uuidFor(DemoCompanyID, "site", sl),
			Name:              sl,
			DisplayName:       display,
			Status:            "live",
			Visits:            float64(1500 + (i*7919)%48000),
			BandwidthBytes:    float64(int64(2+i%9)<<30 + int64(i)*12_345_678),
			CDNBandwidthBytes: float64(int64(1+i%5)<<30 + int64(i)*7_654_321),
		}
		if st, ok := demoNonLive[i]; ok {
			s.Status = st
		}

		// Labels.
		if i%12 != 11 {
			numeric := i%6 == 5
			client := strings.ToLower(strings.Fields(display)[0])
			s.Labels = append(s.Labels, label("client:"+slug(client), numeric), label(tiers[i%3], numeric))
			if s.Status == "live" {
				s.Labels = append(s.Labels, label("env:prod", numeric))
			}
			if i%7 == 0 {
				s.Labels = append(s.Labels, label("Do not remove", numeric))
			}
			if i%5 == 0 {
				s.Labels = append(s.Labels, label("Maintenance plan", numeric))
			}
		}

		plugins := demoPlugins(i)
		themes := demoThemes(i)
		diskLive := float64(int64((0.6 + float64((i*37)%100)/20) * (1 << 30)))

		// Live environment.
		live := Environment{
			ID: uuidFor(DemoCompanyID, "env", sl, "live"), Name: "live", DisplayName: "Live",
			PrimaryDomain: "www." + sl + ".example", PHPVersion: phpVersions[i%5],
			WordPressVersion: wpVersions[i%6], Plugins: plugins, Themes: themes, DiskBytes: diskLive,
		}
		if s.Status == "migrating" {
			live.PrimaryDomain = "" // no domain attached yet: primaryDomain null
		}
		newest := now.Add(-3*time.Hour - time.Duration(i)*2*time.Minute)
		if i == demoStaleSite {
			newest = now.Add(-72 * time.Hour)
		}
		for k := range 7 {
			live.Backups = append(live.Backups, backup(sl, "scheduled", "Daily Auto Backup", newest.Add(-time.Duration(k)*24*time.Hour)))
		}
		if i != demoStaleSite {
			live.Backups = append(live.Backups, backup(sl, "system", "", now.Add(-26*time.Hour-time.Duration(i)*time.Minute)))
			if i%4 == 1 {
				live.Backups = append(live.Backups, backup(sl, "manual", "Before plugin update", now.Add(-50*time.Hour)))
			}
		}
		if i == demoVulnerableSite {
			live.Plugins = append(live.Plugins, Extension{Name: "really-simple-ssl", Title: "Really Simple Security",
				Status: "active", Version: "9.1.1", Update: "available", UpdateVersion: "9.1.2", Vulnerable: true})
		}
		s.Environments = append(s.Environments, live)

		// Staging environment (most sites).
		if i%8 != 3 {
			stg := Environment{
				ID: uuidFor(DemoCompanyID, "env", sl, "staging"), Name: "staging", DisplayName: "Staging",
				IsPremium: i%4 == 0, IsBlocked: i == demoBlockedSite,
				PrimaryDomain: "stg-" + sl + "-staging.kinsta.cloud.example", PHPVersion: phpVersions[i%5],
				WordPressVersion: wpVersions[i%6], Plugins: stagingExtensions(plugins),
				Themes: stagingExtensions(themes), DiskBytes: float64(int64(diskLive / 3)),
			}
			if i%2 == 0 {
				stg.PHPVersion, stg.WordPressVersion = "8.3", "6.7.1" // testing the upgrade
			}
			if i == demoNullWPSite {
				stg.WordPressVersion = ""
			}
			stg.Backups = append(stg.Backups, backup(sl, "manual", "Before plugin update",
				now.Add(-time.Duration(i%5+1)*24*time.Hour-5*time.Hour)))
			if i%2 == 0 {
				stg.Backups = append(stg.Backups, backup(sl, "system", "", now.Add(-8*24*time.Hour)))
			}
			s.Environments = append(s.Environments, stg)
		}

		// Premium development environment (a few sites), no backups yet.
		if i%10 == 2 {
			s.Environments = append(s.Environments, Environment{
				ID: uuidFor(DemoCompanyID, "env", sl, "development"), Name: "development",
				DisplayName: "Development", IsPremium: true, PrimaryDomain: "dev-" + sl + ".kinsta.cloud.example",
				PHPVersion: "8.3", WordPressVersion: "6.7.1", Plugins: stagingExtensions(plugins),
				Themes: stagingExtensions(themes), DiskBytes: float64(int64(diskLive / 4)),
			})
		}
		c.Sites = append(c.Sites, s)
	}

	siteID := func(i int) string { return c.Sites[i].ID }
	c.Activities = []Activity{
		{ID: 34181967, SiteID: siteID(1), Type: "createManualBackup", Description: `Create manual backup of "Blue Harbor Dental" (Live)`,
			CreatedAt: now.Add(-20 * time.Minute), IsDone: true, IPAddress: "203.0.113.42", InitiatedBy: "Jane Smith"},
		{ID: 34181966, SiteID: siteID(2), Type: "clearCache", Description: `Clear cache of "Cedar & Pine Realty" (Live)`,
			CreatedAt: now.Add(-45 * time.Minute), IsDone: true},
		{ID: 34181965, SiteID: siteID(demoBlockedSite), Type: "pushEnvironment",
			Description: `Push "Sunny Side Daycare" Staging to Live`, CreatedAt: now.Add(-70 * time.Minute),
			IsDone: true, HasFailed: true, IPAddress: "198.51.100.7", InitiatedBy: "Omar Haddad",
			PublicError: "The environment is blocked by another process. Please try again a bit later."},
		{ID: 34181964, SiteID: siteID(0), Type: "updatePlugins", Description: `Update 3 plugins on "Acme Bakery" (Live)`,
			CreatedAt: now.Add(-2 * time.Hour), IsDone: true, HasWarning: true, IPAddress: "203.0.113.42", InitiatedBy: "Jane Smith"},
		{ID: 34181963, SiteID: siteID(5), Type: "restartPHP", Description: `Restart PHP of "Copper Kettle Café" (Live)`,
			CreatedAt: now.Add(-3 * time.Hour), IsDone: true},
		{ID: 34181962, SiteID: siteID(8), Type: "changePHPVersion", Description: `Change PHP version of "Harbor Lights Marina" to 8.3`,
			CreatedAt: now.Add(-5 * time.Hour), IsDone: true, IPAddress: "198.51.100.7", InitiatedBy: "Omar Haddad"},
		{ID: 34181961, SiteID: siteID(20), Type: "addDomain", Description: `Add domain shop.tidewaterkayaks.example`,
			CreatedAt: now.Add(-9 * time.Hour), IsDone: true, IPAddress: "203.0.113.42", InitiatedBy: "Jane Smith"},
		{ID: 34181960, Type: "inviteUser", Description: "Invite user to the company",
			CreatedAt: now.Add(-26 * time.Hour), IsDone: true, IPAddress: "203.0.113.42", InitiatedBy: "Jane Smith"},
	}
	addDemoReach(c, now)
	return c
}

func demoPlugins(i int) []Extension {
	when := func(cond bool, v string) (string, string) {
		if cond {
			return "available", v
		}
		return "", ""
	}
	var ps []Extension
	add := func(name, title, version string, hasUpdate bool, updateVersion string) {
		u, uv := when(hasUpdate, updateVersion)
		ps = append(ps, Extension{Name: name, Title: title, Status: "active", Version: version, Update: u, UpdateVersion: uv})
	}
	add("akismet", "Akismet Anti-Spam: Spam Protection", "5.3.3", i%3 == 0, "5.3.5")
	add("wordpress-seo", "Yoast SEO", "23.6", i%4 == 0, "23.8")
	add("contact-form-7", "Contact Form 7", "5.9.8", false, "")
	add("wordfence", "Wordfence Security – Firewall, Malware Scan, and Login Security", "7.11.7", i%5 == 2, "8.0.0")
	switch i % 3 {
	case 1:
		add("woocommerce", "WooCommerce", "9.3.3", i%2 == 0, "9.4.2")
	case 2:
		add("elementor", "Elementor Website Builder", "3.24.7", i%2 == 1, "3.25.4")
	}
	return ps
}

func demoThemes(i int) []Extension {
	ts := []Extension{{Name: "twentytwentyfour", Title: "Twenty Twenty-Four", Status: "inactive", Version: "1.2"}}
	if i%2 == 0 {
		ts[0].Update, ts[0].UpdateVersion = "available", "1.3"
	}
	switch i % 3 {
	case 0:
		t := Extension{Name: "astra", Title: "Astra", Status: "active", Version: "4.8.3"}
		if i%5 == 0 {
			t.Update, t.UpdateVersion = "available", "4.8.4"
		}
		ts = append(ts, t)
	case 1:
		t := Extension{Name: "kadence", Title: "Kadence", Status: "active", Version: "1.2.9"}
		if i%7 == 1 {
			t.Update, t.UpdateVersion = "available", "1.2.10"
		}
		ts = append(ts, t)
	case 2:
		ts = append(ts, Extension{Name: "generatepress", Title: "GeneratePress", Status: "active", Version: "3.5.1"})
	}
	return ts
}

// stagingExtensions copies the live list for a non-live environment, where
// contact-form-7 is deactivated (no mail from staging).
func stagingExtensions(list []Extension) []Extension {
	out := make([]Extension, len(list))
	copy(out, list)
	for i := range out {
		if out[i].Name == "contact-form-7" {
			out[i].Status = "inactive"
		}
	}
	return out
}

// GenerateCompany returns a deterministic company of the given size for
// benchmarks: site i is "paused" when i%100 == 99 and "live" otherwise; its
// environments are "live", "staging", then premium "premium-N"; labels come from a
// company-wide pool of max(25, labelsPerSite) names ("group:NN"); each environment
// has one scheduled backup, two plugins and one theme. Timestamps are fixed (2026).
func GenerateCompany(id string, sites, envsPerSite, labelsPerSite int) *Company {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := &Company{ID: id, KeyName: "generated-" + id, InventoryUpdatedAt: base, Sites: make([]Site, sites)}
	pool := make([]Label, max(25, labelsPerSite))
	for j := range pool {
		name := fmt.Sprintf("group:%02d", j)
		pool[j] = Label{ID: uuidFor(id, "label", name), Name: name}
	}
	for i := range c.Sites {
		sl := fmt.Sprintf("site%05d", i)
		s := &c.Sites[i]
		*s = Site{
			ID: uuidFor(id, "site", sl), Name: sl, DisplayName: fmt.Sprintf("Site %05d", i), Status: "live",
			Labels:       make([]Label, labelsPerSite),
			Environments: make([]Environment, envsPerSite),
			Visits:       float64(1000 + i%5000), BandwidthBytes: float64(int64(1+i%7) << 30),
			CDNBandwidthBytes: float64(int64(1+i%3) << 29),
		}
		if i%100 == 99 {
			s.Status = "paused"
		}
		for j := range s.Labels {
			s.Labels[j] = pool[(i+j)%len(pool)]
		}
		for j := range s.Environments {
			name, display, premium := "live", "Live", false
			switch {
			case j == 1:
				name, display = "staging", "Staging"
			case j > 1:
				name, display, premium = fmt.Sprintf("premium-%d", j), fmt.Sprintf("Premium %d", j), true
			}
			at := base.Add(-time.Duration(i+j) * time.Minute)
			s.Environments[j] = Environment{
				ID: uuidFor(id, "env", sl, name), Name: name, DisplayName: display, IsPremium: premium,
				PrimaryDomain: name + "-" + sl + ".example.com", PHPVersion: "8." + string(rune('1'+(i+j)%3)),
				WordPressVersion: "6." + string(rune('4'+(i+j)%4)) + ".1",
				Backups: []Backup{{ID: int64(i*envsPerSite + j + 1), Name: fmt.Sprintf("%s-%d-scheduled", sl, at.Unix()),
					Type: "scheduled", Note: "Daily Auto Backup", CreatedAt: at}},
				Plugins: []Extension{
					{Name: "akismet", Title: "Akismet Anti-Spam: Spam Protection", Status: "active", Version: "5.3.3"},
					{Name: "wordpress-seo", Title: "Yoast SEO", Status: "active", Version: "23.6", Update: "available", UpdateVersion: "23.8"},
				},
				Themes:    []Extension{{Name: "twentytwentyfour", Title: "Twenty Twenty-Four", Status: "active", Version: "1.2"}},
				DiskBytes: float64(int64(1+(i+j)%10) << 28),
			}
		}
	}
	for k := range min(sites, 20) {
		c.Activities = append(c.Activities, Activity{ID: int64(k + 1), SiteID: c.Sites[k].ID, Type: "clearCache",
			Description: "Clear cache", CreatedAt: base.Add(-time.Duration(k) * time.Hour), IsDone: true,
			HasFailed: k == 3})
	}
	return c
}
