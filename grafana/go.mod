module github.com/kinsta-exporter/kinsta_exporter/grafana

go 1.26

require github.com/grafana/grafana-foundation-sdk/go v0.0.22
