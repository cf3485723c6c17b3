package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/go-kit/log/level"

	"github.com/kinsta-exporter/kinsta_exporter/collector"
	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
)

// maxSDDomainTargets bounds one /sd/domains answer: 10,000 sites with their
// live and staging environments and a few domains each fit; more asks for
// ?company= (or the default, primary domains only). Answering an error
// rather than a cut list keeps Prometheus on its last good list instead of
// silently dropping probes.
const maxSDDomainTargets = 100_000

// sdDomainsHandler lists the domains of the configured companies'
// environments for Prometheus' http_sd_configs, one target per domain, to
// probe with blackbox_exporter (deploy/prometheus/prometheus.yml shows the
// relabelling). It serves the inventory of each company's last good GET
// /sites and never calls the API: it works the same with
// --web.probe-only, and a company not refreshed yet has no domains.
//
//	?domains=primary (default)  the primary domain of each live environment
//	                            (name "live") of each live site
//	?domains=all                every domain of every environment and site,
//	                            except those Kinsta reports inactive
//	?company=<id>               only these companies (repeatable, or a comma list)
type sdDomainsHandler struct {
	o   Options
	max int // targets in one answer: maxSDDomainTargets
}

// sdDomainGroup is one target of /sd/domains.
type sdDomainGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// sdCompanyDomains are one company's environments with domains.
type sdCompanyDomains struct {
	id, name string
	envs     []collector.EnvironmentDomains
}

func (h sdDomainsHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	all, ids, err := parseSDDomainsQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	companies, err := h.companies(ids)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if n := countSDDomains(companies, all); n > h.max {
		level.Warn(h.o.Logger).Log("msg", "Refusing /sd/domains: too many targets", "targets", n, "limit", h.max)
		http.Error(w, fmt.Sprintf("%d domains is more than the %d one answer may list: narrow it with ?company=", n, h.max),
			http.StatusUnprocessableEntity)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := writeSDDomains(w, companies, all); err != nil {
		level.Debug(h.o.Logger).Log("msg", "Writing /sd/domains failed", "err", err)
	}
}

// parseSDDomainsQuery reads ?domains= and ?company=; any other parameter
// is an error, so that a typo does not silently list everything.
func parseSDDomainsQuery(r *http.Request) (all bool, ids []string, err error) {
	q := r.URL.Query()
	for name := range q {
		if name != "domains" && name != "company" {
			return false, nil, fmt.Errorf("unknown parameter %q: /sd/domains takes domains=primary|all and company=<id>", name)
		}
	}
	switch v := q["domains"]; {
	case len(v) == 0 || len(v) == 1 && (v[0] == "" || v[0] == "primary"):
	case len(v) == 1 && v[0] == "all":
		all = true
	default:
		return false, nil, fmt.Errorf("domains=%s: want domains=primary (the default) or domains=all, once", strings.Join(v, ","))
	}
	for _, v := range q["company"] {
		for id := range strings.SplitSeq(v, ",") {
			if id = strings.TrimSpace(id); id != "" && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	return all, ids, nil
}

// companies returns the named companies' domains, or every configured
// company's when ids is empty; an id that is not configured is an error.
func (h sdDomainsHandler) companies(ids []string) ([]sdCompanyDomains, error) {
	var out []sdCompanyDomains
	if len(ids) == 0 {
		for _, ref := range h.o.Companies.Companies() {
			if target, ok := h.o.Companies.Lookup(ref.ID); ok {
				out = append(out, companyDomains(target))
			}
		}
		return out, nil
	}
	for _, id := range ids {
		target, ok := h.o.Companies.Lookup(id)
		if !ok {
			return nil, fmt.Errorf("company %q is not configured (--config.file or --kinsta.company)", id)
		}
		out = append(out, companyDomains(target))
	}
	return out, nil
}

func companyDomains(t *fleet.Target) sdCompanyDomains {
	_, envs := t.Exporter().Domains()
	return sdCompanyDomains{id: t.ID, name: t.Name, envs: envs}
}

// probed reports whether a domain is listed: with all, every domain Kinsta
// does not report inactive; else the primary domain of a live site's live
// environment.
func probed(env *collector.EnvironmentDomains, d collector.Domain, all bool) bool {
	if d.Inactive() {
		return false
	}
	return all || d.Primary && env.EnvironmentName == "live" && env.SiteStatus == "live"
}

func countSDDomains(companies []sdCompanyDomains, all bool) int {
	n := 0
	for _, c := range companies {
		for i := range c.envs {
			for _, d := range c.envs[i].Domains {
				if probed(&c.envs[i], d, all) {
					n++
				}
			}
		}
	}
	return n
}

// writeSDDomains streams the target groups: one JSON array, a group at a
// time, so that a large answer is never held whole.
func writeSDDomains(w http.ResponseWriter, companies []sdCompanyDomains, all bool) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	enc := json.NewEncoder(bw)
	sep := "["
	for _, c := range companies {
		for i := range c.envs {
			env := &c.envs[i]
			for _, d := range env.Domains {
				if !probed(env, d, all) {
					continue
				}
				if _, err := bw.WriteString(sep); err != nil {
					return err
				}
				sep = ","
				if err := enc.Encode(sdDomainGroup{Targets: []string{d.Name}, Labels: sdDomainLabels(c, env, d)}); err != nil {
					return err
				}
			}
		}
	}
	if sep == "[" {
		_, _ = bw.WriteString("[")
	}
	_, _ = bw.WriteString("]\n")
	return bw.Flush()
}

// sdDomainLabels are the __meta_kinsta_ labels of one domain target, for
// relabelling into target labels (company, site_id, display_name, ...).
func sdDomainLabels(c sdCompanyDomains, env *collector.EnvironmentDomains, d collector.Domain) map[string]string {
	active := ""
	if d.ActiveSent {
		active = boolText(d.Active)
	}
	return map[string]string{
		"__meta_kinsta_company_id":               c.id,
		"__meta_kinsta_company_name":             c.name,
		"__meta_kinsta_site_id":                  env.SiteID,
		"__meta_kinsta_site_name":                env.SiteName,
		"__meta_kinsta_site_display_name":        env.SiteDisplayName,
		"__meta_kinsta_site_status":              env.SiteStatus,
		"__meta_kinsta_environment_id":           env.EnvironmentID,
		"__meta_kinsta_environment_name":         env.EnvironmentName,
		"__meta_kinsta_environment_display_name": env.EnvironmentDisplayName,
		"__meta_kinsta_domain":                   d.Name,
		"__meta_kinsta_domain_primary":           boolText(d.Primary),
		"__meta_kinsta_domain_active":            active,
	}
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
