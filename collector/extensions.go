package collector

import (
	"context"
	"slices"
	"strings"

	"github.com/kinsta-exporter/kinsta_exporter/kinsta"
)

// PluginsSource is what the plugins collector needs; *kinsta.Client has it.
type PluginsSource interface {
	CompanyPlugins(ctx context.Context, companyID string) (kinsta.CompanyExtensions, error)
	EnvironmentPlugins(ctx context.Context, envID string) ([]kinsta.EnvironmentExtension, error)
}

// ThemesSource is what the themes collector needs; *kinsta.Client has it.
type ThemesSource interface {
	CompanyThemes(ctx context.Context, companyID string) (kinsta.CompanyExtensions, error)
	EnvironmentThemes(ctx context.Context, envID string) ([]kinsta.EnvironmentExtension, error)
}

// extensionDescs are the series of the plugins or the themes collector.
type extensionDescs struct {
	envByStatus, envUpdates, envVulnerable *gaugeFamily
	installs, vulnerableInstalls, updates  *gaugeFamily
	lastUpdated                            *gaugeFamily
}

// newExtensionDescs builds the descriptors for kind "plugin" or "theme".
func newExtensionDescs(kind string) extensionDescs {
	kinds := kind + "s"
	company := "GET /company/{id}/wp-" + kinds
	env := "GET /sites/environments/{env_id}/" + kinds
	cached := ", cached by the " + kinds + " collector"
	envLabels := []string{"company", "site_id", "environment_id"}
	nameLabels := []string{"company", kind}
	return extensionDescs{
		envByStatus: newGaugeFamily("kinsta_environment_"+kinds,
			"WordPress "+kinds+" installed in the environment, by status (active, inactive, ...; "+company+", or "+env+" when the company endpoint is not available"+cached+").",
			append(envLabels, "status")...),
		envUpdates: newGaugeFamily("kinsta_environment_"+kind+"_updates_available",
			"WordPress "+kinds+" of the environment with an update available ("+company+" or "+env+cached+").",
			envLabels...),
		envVulnerable: newGaugeFamily("kinsta_environment_"+kinds+"_vulnerable",
			"WordPress "+kinds+" of the environment whose installed version Kinsta reports as vulnerable ("+company+cached+"); absent while the collector uses the per-environment endpoint, which has no vulnerability data.",
			envLabels...),
		installs: newGaugeFamily("kinsta_"+kind+"_installs",
			"Environments of the company that have this WordPress "+kind+" installed ("+company+cached+").",
			nameLabels...),
		vulnerableInstalls: newGaugeFamily("kinsta_"+kind+"_vulnerable_installs",
			"Environments of the company where the installed version of this WordPress "+kind+" is vulnerable ("+company+cached+").",
			nameLabels...),
		updates: newGaugeFamily("kinsta_"+kind+"_updates_available",
			"Environments of the company where this WordPress "+kind+" has an update available ("+company+cached+").",
			nameLabels...),
		lastUpdated: newGaugeFamily("kinsta_"+kinds+"_last_updated_timestamp_seconds",
			"Unix time at which Kinsta last updated the company's "+kind+" data ("+company+" last_updated_at"+cached+"); Kinsta refreshes it at most every ~12h.",
			[]string{"company"}...),
	}
}

var (
	pluginDescs = newExtensionDescs("plugin")
	themeDescs  = newExtensionDescs("theme")
)

// extensionsCollector is the plugins or the themes collector: one call for
// the company (GET /company/{id}/wp-plugins), or, when Kinsta answers that
// with 404, one call per environment.
type extensionsCollector struct {
	kinds       string
	d           extensionDescs
	company     func(ctx context.Context, companyID string) (kinsta.CompanyExtensions, error)
	environment func(ctx context.Context, envID string) ([]kinsta.EnvironmentExtension, error)
}

func newPluginsCollector(api API) itemCollector {
	return &extensionsCollector{kinds: "plugins", d: pluginDescs, company: api.CompanyPlugins, environment: api.EnvironmentPlugins}
}

func newThemesCollector(api API) itemCollector {
	return &extensionsCollector{kinds: "themes", d: themeDescs, company: api.CompanyThemes, environment: api.EnvironmentThemes}
}

func (c *extensionsCollector) scope(fallback bool) scope {
	if fallback {
		return scopeEnvironment
	}
	return scopeCompany
}

func (c *extensionsCollector) fallbackDescription() string {
	return "using one GET /sites/environments/{env_id}/" + c.kinds + " per environment instead (no vulnerability data)"
}

func (c *extensionsCollector) refresh(ctx context.Context, req *request) (result, error) {
	if req.fallback {
		list, err := c.environment(ctx, req.envID)
		if err != nil {
			return result{}, err
		}
		return result{series: c.environmentSeries(req, list)}, nil
	}
	inv, err := c.company(ctx, req.company)
	if err != nil {
		return result{}, err
	}
	return result{series: c.companySeries(req, inv)}, nil
}

func updateAvailable(update string) bool { return strings.EqualFold(update, "available") }

// envCounts are one environment's counts. An environment has a status or
// two (active, inactive), and a company inventory counts every environment
// of the company at once: slices, not a map per environment.
type envCounts struct {
	statuses   []string // in order of appearance
	byStatus   []int    // the count of each of statuses
	updates    int
	vulnerable int
}

func (e *envCounts) add(status, update string, vulnerable bool) {
	status = orUnknown(strings.ToLower(status))
	i := slices.Index(e.statuses, status)
	if i < 0 {
		i = len(e.statuses)
		e.statuses, e.byStatus = append(e.statuses, status), append(e.byStatus, 0)
	}
	e.byStatus[i]++
	if updateAvailable(update) {
		e.updates++
	}
	if vulnerable {
		e.vulnerable++
	}
}

func (c *extensionsCollector) environmentSeries(req *request, list []kinsta.EnvironmentExtension) series {
	var counts envCounts
	seen := map[string]bool{}
	for _, x := range list {
		if seen[x.Name] { // a plugin is installed once; a repeat is an API glitch
			continue
		}
		seen[x.Name] = true
		counts.add(x.Status, x.Update, false)
	}
	var m series
	for i, st := range counts.statuses {
		m.gauge(c.d.envByStatus, float64(counts.byStatus[i]), req.company, req.siteID, req.envID, st)
	}
	m.gauge(c.d.envUpdates, float64(counts.updates), req.company, req.siteID, req.envID)
	return m
}

// companySeries builds the per-name series and, for every environment of the
// inventory, the per-environment ones (0 updates and 0 vulnerable where
// nothing is installed).
func (c *extensionsCollector) companySeries(req *request, inv kinsta.CompanyExtensions) series {
	var m series
	var envs map[string]*envCounts
	if req.inv != nil {
		envs = make(map[string]*envCounts, len(req.inv.envSite))
		counts := make([]envCounts, len(req.inv.envSite)) // one allocation, not one per environment
		i := 0
		for env := range req.inv.envSite {
			envs[env] = &counts[i]
			i++
		}
	}
	seenNames := map[string]bool{}
	for _, x := range inv.Items {
		if x.Name == "" || seenNames[x.Name] {
			continue
		}
		seenNames[x.Name] = true
		installs, vulnerable, updates := x.EnvironmentCount, 0, x.UpdateCount
		if len(x.Installs) > 0 {
			installs, updates = 0, 0
			seenEnvs := map[string]bool{}
			for _, in := range x.Installs {
				if in.EnvironmentID != "" {
					if seenEnvs[in.EnvironmentID] {
						continue
					}
					seenEnvs[in.EnvironmentID] = true
				}
				installs++
				if in.Vulnerable {
					vulnerable++
				}
				if updateAvailable(in.Update) {
					updates++
				}
				if e := envs[in.EnvironmentID]; e != nil {
					e.add(in.Status, in.Update, in.Vulnerable)
				}
			}
		}
		m.gauge(c.d.installs, float64(installs), req.company, x.Name)
		m.gauge(c.d.vulnerableInstalls, float64(vulnerable), req.company, x.Name)
		m.gauge(c.d.updates, float64(updates), req.company, x.Name)
	}
	if req.inv != nil {
		// Every environment's rows, tens of thousands: stored once, exactly.
		statuses := 0
		for _, e := range envs {
			statuses += len(e.statuses)
		}
		if statuses > 0 {
			m.reserve(c.d.envByStatus, statuses)
		}
		if len(envs) > 0 {
			m.reserve(c.d.envUpdates, len(envs))
			m.reserve(c.d.envVulnerable, len(envs))
		}
		for _, s := range req.inv.sites {
			for _, env := range s.envs {
				e := envs[env.id]
				for i, st := range e.statuses {
					m.gauge(c.d.envByStatus, float64(e.byStatus[i]), req.company, s.id, env.id, st)
				}
				m.gauge(c.d.envUpdates, float64(e.updates), req.company, s.id, env.id)
				m.gauge(c.d.envVulnerable, float64(e.vulnerable), req.company, s.id, env.id)
			}
		}
	}
	if !inv.LastUpdatedAt.IsZero() {
		m.gauge(c.d.lastUpdated, unixSeconds(inv.LastUpdatedAt), req.company)
	}
	return m
}
