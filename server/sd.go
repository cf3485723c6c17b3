package server

import (
	"context"
	"encoding/json"
	"net"
	"net/http"

	"github.com/go-kit/log/level"
)

// sdTargetGroup is one entry of Prometheus' HTTP service discovery.
type sdTargetGroup struct {
	Targets []string          `json:"targets"`
	Labels  map[string]string `json:"labels"`
}

// sdHandler lists the configured companies for Prometheus' http_sd_configs:
// one target per company, this exporter as the request reached it (its
// Host), scraped at /probe?company=<id>. The instance label is the company
// id, so that series keep their identity whichever replica probes the
// company; __meta_kinsta_company_id and _name are there for relabelling
// (hashmod sharding, keeping a name label).
type sdHandler struct{ o Options }

func (h sdHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	companies := h.o.Companies
	if companies.Undiscovered() {
		ctx, cancel := context.WithTimeout(r.Context(), h.o.RefreshTimeout)
		companies.Discover(ctx)
		cancel()
	}
	host := r.Host
	if host == "" {
		host = h.fallbackHost()
	}
	groups := []sdTargetGroup{}
	for _, co := range companies.Companies() {
		groups = append(groups, sdTargetGroup{
			Targets: []string{host},
			Labels: map[string]string{
				"__metrics_path__":           "/probe",
				"__param_company":            co.ID,
				"instance":                   co.ID,
				"__meta_kinsta_company_id":   co.ID,
				"__meta_kinsta_company_name": co.Name,
			},
		})
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(groups); err != nil {
		level.Debug(h.o.Logger).Log("msg", "Writing /sd failed", "err", err)
	}
}

// fallbackHost is the exporter's address for a request that named no host
// (HTTP/1.0): the first address it listens on, with localhost for an
// unspecified or empty host part.
func (h sdHandler) fallbackHost() string {
	addr := ""
	if len(h.o.ListenAddresses) > 0 {
		addr = h.o.ListenAddresses[0]
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "localhost"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}
