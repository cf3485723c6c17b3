// Command genrule writes deploy/kubernetes/prometheusrule.yaml from
// deploy/prometheus/rules.yml, so that the PrometheusRule's spec.groups are
// exactly the rules file's groups.
//
//	cd deploy/manifests_test && go run ./cmd/genrule          # regenerate
//	cd deploy/manifests_test && go run ./cmd/genrule -check   # exit 1 if stale
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/kinsta-exporter/kinsta_exporter/deploy/manifests_test/internal/rulegen"
)

func main() {
	rules := flag.String("rules", "../prometheus/rules.yml", "Prometheus rules file to read")
	out := flag.String("out", "../kubernetes/prometheusrule.yaml", "PrometheusRule manifest to write")
	check := flag.Bool("check", false, "do not write; exit 1 if the manifest is not up to date")
	flag.Parse()
	if err := run(*rules, *out, *check); err != nil {
		fmt.Fprintln(os.Stderr, "genrule:", err)
		os.Exit(1)
	}
}

func run(rulesPath, outPath string, check bool) error {
	rules, err := os.ReadFile(rulesPath)
	if err != nil {
		return err
	}
	manifest, err := rulegen.Generate(rules)
	if err != nil {
		return fmt.Errorf("%s: %w", rulesPath, err)
	}
	if check {
		cur, err := os.ReadFile(outPath)
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, manifest) {
			return fmt.Errorf("%s is out of date with %s; run: %s", outPath, rulesPath, rulegen.Command)
		}
		return nil
	}
	if err := os.WriteFile(outPath, manifest, 0o644); err != nil {
		return err
	}
	fmt.Printf("genrule: wrote %s from %s\n", outPath, rulesPath)
	return nil
}
