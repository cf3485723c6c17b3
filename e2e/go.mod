module github.com/kinsta-exporter/kinsta_exporter/e2e

go 1.26.0

require (
	github.com/kinsta-exporter/kinsta_exporter v0.0.0
	github.com/kinsta-exporter/kinsta_exporter/grafana v0.0.0
)

replace github.com/kinsta-exporter/kinsta_exporter => ../

replace github.com/kinsta-exporter/kinsta_exporter/grafana => ../grafana
