package server

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/go-kit/log/level"

	"github.com/kinsta-exporter/kinsta_exporter/collector/fleet"
)

// The status page at /, in the spirit of blackbox_exporter's landing page:
// each company's state in plain words, its background collectors' progress
// and its sites that are not live, from the companies' status snapshot
// (fleet.Status; no API call). Server-rendered with html/template, which
// escapes every name and message; bounded by the caps below.

const (
	// maxStatusCompanies and maxNotLiveListed bound the page: a fleet of
	// hundreds of companies or a company of thousands of suspended sites
	// lists the first ones and counts the rest.
	maxStatusCompanies = 200
	maxNotLiveListed   = 100
)

//go:embed status.html
var statusFS embed.FS

var statusTemplate = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"ago":   ago,
	"utc":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"sub":   func(a, b int) int { return a - b },
	"short": shortDuration,
}).ParseFS(statusFS, "status.html"))

// statusPage serves the status page.
type statusPage struct{ o Options }

// statusData is what the template renders.
type statusData struct {
	Name, Version string
	Links         []statusLink
	Now           time.Time
	Companies     []statusCompany
	More          int // companies not listed
}

type statusLink struct{ Address, Text string }

type statusCompany struct {
	fleet.CompanyStatus
	Now time.Time
}

func (p statusPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "Method not allowed: use GET", http.StatusMethodNotAllowed)
		return
	}
	now := time.Now()
	data := statusData{Name: p.o.Name, Version: p.o.Version, Now: now, Links: []statusLink{
		{p.o.TelemetryPath, "Metrics"},
		{"/-/healthy", "Health"},
		{"/-/ready", "Readiness"},
		{"/sd", "Companies (Prometheus HTTP service discovery)"},
		{"/sd/domains", "Domains of live sites, for blackbox_exporter (Prometheus HTTP service discovery)"},
	}}
	companies, total := p.o.Companies.Status(maxStatusCompanies, maxNotLiveListed)
	data.More = total - len(companies)
	for _, c := range companies {
		data.Companies = append(data.Companies, statusCompany{c, now})
	}
	var buf bytes.Buffer
	if err := statusTemplate.Execute(&buf, data); err != nil {
		level.Error(p.o.Logger).Log("msg", "Rendering the status page failed", "err", err)
		http.Error(w, "Rendering the status page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// shortDuration drops a duration's zero tail: 1h, 15m, 1m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// ago says how long ago t was, in plain words, to the second.
func ago(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	switch {
	case d < 0:
		return "in " + (-d).String()
	case d < time.Second:
		return "just now"
	}
	return fmt.Sprintf("%s ago", d)
}
