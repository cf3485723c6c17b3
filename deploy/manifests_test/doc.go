// Package manifests holds the tests of kinsta_exporter's deployment files:
// deploy/kubernetes (strictly decoded into the real Kubernetes API types),
// deploy/docker-compose.yml with deploy/compose, and deploy/systemd.
//
// It is a separate module so that k8s.io/api stays out of the exporter's go.mod.
//
//	cd deploy/manifests_test && go test ./...
//	cd deploy/manifests_test && go run ./cmd/genrule   # after editing deploy/prometheus/rules.yml
package manifests
