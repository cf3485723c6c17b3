// Package manifests holds the tests of kinsta_exporter's deployment files:
// deploy/kubernetes (strictly decoded into the real Kubernetes API types),
// the Helm chart deploy/helm/kinsta-exporter (rendered by a real Helm v4,
// linted, and every object strictly decoded into the Kubernetes and Prometheus
// Operator types), the alert rules generated from
// deploy/prometheus/rules.tmpl.yml, deploy/docker-compose.yml with
// deploy/compose, and deploy/systemd.
//
// It is a separate module so that k8s.io/api stays out of the exporter's go.mod.
// Helm comes from deploy/helm/tools/helm.sh (or $HELM); a missing Helm fails.
//
//	cd deploy/manifests_test && go test ./...
//	cd deploy/manifests_test && go run ./cmd/genrule   # after editing rules.tmpl.yml or rules.values.yml
package manifests
