package manifests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	monitoringv1alpha1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The Helm chart, rendered by a real Helm v4 (deploy/helm/tools/helm.sh builds
// it once from the Go module proxy) and strictly decoded into the Kubernetes
// and Prometheus Operator API types.
const (
	chartDir    = "../helm/kinsta-exporter"
	helmScript  = "../helm/tools/helm.sh"
	release     = "kinsta"
	namespace   = "kinsta"
	chartPrefix = "kinsta-kinsta-exporter" // the resources' name: <release>-<chart>
)

var (
	helmOnce sync.Once
	helmPath string
	helmErr  error
)

// helmBinary returns Helm: $HELM, or the binary helm.sh builds and caches. A
// missing Helm fails the test (the chart would otherwise go unchecked).
func helmBinary(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		if p := os.Getenv("HELM"); p != "" {
			helmPath = p
			return
		}
		var stderr bytes.Buffer
		cmd := exec.Command(helmScript, "--print-path")
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			helmErr = fmt.Errorf("%s --print-path: %v\n%s", helmScript, err, stderr.String())
			return
		}
		helmPath = strings.TrimSpace(string(out))
	})
	if helmErr != nil {
		t.Fatalf("no Helm to render the chart with: %v", helmErr)
	}
	return helmPath
}

// helm runs Helm with its state in a temporary directory and returns its
// standard output and error.
func helm(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(helmBinary(t), args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home+"/cache", "HELM_CONFIG_HOME="+home+"/config",
		"HELM_DATA_HOME="+home+"/data", "KUBECONFIG="+home+"/kubeconfig")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// ciValues is a values file of the chart's ci/ directory.
func ciValues(name string) string { return filepath.Join(chartDir, "ci", name) }

// templateArgs are `helm template` arguments for the values files and --set pairs.
func templateArgs(valuesFiles []string, set ...string) []string {
	args := []string{"template", release, chartDir, "--namespace", namespace}
	for _, f := range valuesFiles {
		args = append(args, "--values", f)
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return args
}

// rendered is a chart rendering decoded: every object by kind and name.
type rendered struct {
	deployments  map[string]*appsv1.Deployment
	statefulSets map[string]*appsv1.StatefulSet
	services     map[string]*corev1.Service
	secrets      map[string]*corev1.Secret
	configMaps   map[string]*corev1.ConfigMap
	monitors     map[string]*monitoringv1.ServiceMonitor
	rules        map[string]*monitoringv1.PrometheusRule
	scrapes      map[string]*monitoringv1alpha1.ScrapeConfig
	raw          map[string][]byte // "Kind/name" -> the document
	kinds        []string          // "Kind/name" in order
}

// render runs `helm template` and decodes every document strictly.
func render(t *testing.T, valuesFiles []string, set ...string) *rendered {
	t.Helper()
	out, errOut, err := helm(t, templateArgs(valuesFiles, set...)...)
	if err != nil {
		t.Fatalf("helm template %v %v: %v\n%s", valuesFiles, set, err, errOut)
	}
	r := &rendered{
		deployments: map[string]*appsv1.Deployment{}, statefulSets: map[string]*appsv1.StatefulSet{},
		services: map[string]*corev1.Service{}, secrets: map[string]*corev1.Secret{},
		configMaps: map[string]*corev1.ConfigMap{}, monitors: map[string]*monitoringv1.ServiceMonitor{},
		rules: map[string]*monitoringv1.PrometheusRule{}, scrapes: map[string]*monitoringv1alpha1.ScrapeConfig{},
		raw: map[string][]byte{},
	}
	for _, doc := range splitDocuments(out) {
		r.add(t, doc)
	}
	return r
}

var sourceComment = regexp.MustCompile(`(?m)^# Source: (.*)$`)

// splitDocuments splits a multi-document YAML stream, dropping empty documents.
func splitDocuments(s string) []string {
	var docs []string
	for _, d := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(s, -1) {
		if documents([]byte(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

// add decodes one document strictly into the type of its kind.
func (r *rendered) add(t *testing.T, doc string) {
	t.Helper()
	src := "?"
	if m := sourceComment.FindStringSubmatch(doc); m != nil {
		src = m[1]
	}
	var meta struct {
		metav1.TypeMeta `json:",inline"`
		Metadata        struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
		t.Fatalf("%s: %v\n%s", src, err, doc)
	}
	if meta.Metadata.Namespace == "" {
		t.Errorf("%s: %s/%s has no namespace (helm template output is applied with kubectl too)", src, meta.Kind, meta.Metadata.Name)
	}
	type target struct {
		apiVersion string
		into       any
	}
	name := meta.Metadata.Name
	targets := map[string]func() target{
		"Deployment":  func() target { v := &appsv1.Deployment{}; r.deployments[name] = v; return target{"apps/v1", v} },
		"StatefulSet": func() target { v := &appsv1.StatefulSet{}; r.statefulSets[name] = v; return target{"apps/v1", v} },
		"Service":     func() target { v := &corev1.Service{}; r.services[name] = v; return target{"v1", v} },
		"Secret":      func() target { v := &corev1.Secret{}; r.secrets[name] = v; return target{"v1", v} },
		"ConfigMap":   func() target { v := &corev1.ConfigMap{}; r.configMaps[name] = v; return target{"v1", v} },
		"ServiceMonitor": func() target {
			v := &monitoringv1.ServiceMonitor{}
			r.monitors[name] = v
			return target{"monitoring.coreos.com/v1", v}
		},
		"PrometheusRule": func() target {
			v := &monitoringv1.PrometheusRule{}
			r.rules[name] = v
			return target{"monitoring.coreos.com/v1", v}
		},
		"ScrapeConfig": func() target {
			v := &monitoringv1alpha1.ScrapeConfig{}
			r.scrapes[name] = v
			return target{"monitoring.coreos.com/v1alpha1", v}
		},
	}
	mk, ok := targets[meta.Kind]
	if !ok {
		t.Fatalf("%s: kind %q is not one this test decodes; add it", src, meta.Kind)
	}
	tg := mk()
	if meta.APIVersion != tg.apiVersion {
		t.Errorf("%s: %s apiVersion %q, want %q", src, meta.Kind, meta.APIVersion, tg.apiVersion)
	}
	if err := strictUnmarshal([]byte(doc), tg.into); err != nil {
		t.Fatalf("%s: strict decode into %T: %v\n%s", src, tg.into, err, doc)
	}
	key := meta.Kind + "/" + name
	if _, dup := r.raw[key]; dup {
		t.Errorf("%s: %s rendered twice", src, key)
	}
	r.raw[key] = []byte(doc)
	r.kinds = append(r.kinds, key)
}

// wantObjects fails unless the rendering holds exactly these Kind/name objects.
func (r *rendered) wantObjects(t *testing.T, want ...string) {
	t.Helper()
	got := slices.Sorted(slices.Values(r.kinds))
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rendered objects %v, want %v", got, want)
	}
}

func TestChartLint(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join(chartDir, "ci"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), "-values.yaml") {
			continue
		}
		n++
		out, errOut, err := helm(t, "lint", "--strict", chartDir, "--values", ciValues(e.Name()))
		if err != nil || !strings.Contains(out, "0 chart(s) failed") {
			t.Errorf("helm lint --strict with %s: %v\n%s%s", e.Name(), err, out, errOut)
		}
		// NOTES.txt is rendered by install only; --dry-run=client needs no cluster.
		out, errOut, err = helm(t, "install", release, chartDir, "--namespace", namespace, "--dry-run=client",
			"--values", ciValues(e.Name()))
		if err != nil || !strings.Contains(out, "NOTES:\nkinsta_exporter ") {
			t.Errorf("helm install --dry-run=client with %s: %v\n%s%s", e.Name(), err, out, errOut)
		}
	}
	if n < 3 {
		t.Errorf("%d ci/*-values.yaml files, want at least 3 (default, sharded, existing secret + config)", n)
	}
}
