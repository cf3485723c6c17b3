// Command genrule renders kinsta_exporter's alerting rules from their template,
// deploy/prometheus/rules.tmpl.yml, with the selector and thresholds of
// deploy/prometheus/rules.values.yml.
//
// Without flags it rewrites the checked-in generated files: rules.yml, the
// kustomize PrometheusRule (deploy/kubernetes/prometheusrule.yaml) and the Helm
// chart's copy of the template (deploy/helm/kinsta-exporter/files/rules.tmpl.yml).
// With -values it writes a rules file for your own Prometheus instead, with
// the defaults overridden by your values files (same keys, only those you change).
//
//	cd deploy/manifests_test && go run ./cmd/genrule          # regenerate
//	cd deploy/manifests_test && go run ./cmd/genrule -check   # exit 1 if stale
//	cd deploy/manifests_test && go run ./cmd/genrule -values my-values.yml -out my-rules.yml
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kinsta-exporter/kinsta_exporter/deploy/manifests_test/internal/rulegen"
)

// stringList is a repeatable flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	deploy := flag.String("deploy", "..", "the repository's deploy/ directory")
	check := flag.Bool("check", false, "do not write; exit 1 if a generated file is not up to date")
	var values stringList
	flag.Var(&values, "values", "your values file overriding rules.values.yml (repeatable; later files win); writes -out only")
	out := flag.String("out", "-", "with -values: the rules file to write (- for standard output)")
	flag.Parse()
	var err error
	switch {
	case flag.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", flag.Arg(0))
	case len(values) > 0 && *check:
		err = errors.New("-check and -values exclude each other")
	case len(values) > 0:
		err = renderUser(*deploy, values, *out)
	default:
		err = regenerate(*deploy, *check)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genrule:", err)
		os.Exit(1)
	}
}

// regenerate writes (or with check, compares) every checked-in generated file.
func regenerate(deploy string, check bool) error {
	outs, err := rulegen.Outputs(deploy)
	if err != nil {
		return err
	}
	var stale []string
	for _, o := range outs {
		path := filepath.Join(deploy, o.Path)
		cur, err := os.ReadFile(path)
		if err != nil && !(errors.Is(err, os.ErrNotExist) && !check) {
			return err
		}
		if bytes.Equal(cur, o.Data) {
			continue
		}
		if check {
			stale = append(stale, path)
			continue
		}
		if err := os.WriteFile(path, o.Data, 0o644); err != nil {
			return err
		}
		fmt.Printf("genrule: wrote %s\n", path)
	}
	if len(stale) > 0 {
		return fmt.Errorf("out of date: %s; run: %s", strings.Join(stale, ", "), rulegen.Command)
	}
	return nil
}

// renderUser writes the rules made with the user's values files.
func renderUser(deploy string, valuesFiles []string, out string) error {
	tmpl, err := os.ReadFile(filepath.Join(deploy, rulegen.TemplatePath))
	if err != nil {
		return err
	}
	defaults, err := os.ReadFile(filepath.Join(deploy, rulegen.DefaultsPath))
	if err != nil {
		return err
	}
	var overrides [][]byte
	for _, f := range valuesFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		overrides = append(overrides, b)
	}
	vals, err := rulegen.LoadValues(defaults, overrides...)
	if err != nil {
		return fmt.Errorf("%w (values files in order: %s)", err, strings.Join(valuesFiles, ", "))
	}
	rules, err := rulegen.Render(tmpl, vals, rulegen.UserHeader(valuesFiles))
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = os.Stdout.Write(rules)
		return err
	}
	if err := os.WriteFile(out, rules, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "genrule: wrote %s\n", out)
	return nil
}
