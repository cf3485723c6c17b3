// Package grafana holds the "Kinsta fleet" Grafana dashboard of
// kinsta_exporter. The dashboard is built in Go (internal/fleet, with the
// grafana-foundation-sdk) and committed as dashboards/kinsta.json; the tests
// in this package keep the two in sync.
//
// Import DashboardJSON together with the queries package to run the
// dashboard's PromQL against a real Prometheus.
package grafana

import _ "embed"

//go:generate go run ./generate

// DashboardJSON is the committed dashboards/kinsta.json.
//
//go:embed dashboards/kinsta.json
var DashboardJSON []byte
