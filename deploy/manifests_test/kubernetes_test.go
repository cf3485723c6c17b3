package manifests

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"

	"github.com/kinsta-exporter/kinsta_exporter/deploy/manifests_test/internal/rulegen"
)

// Paths relative to this module's directory (go test runs tests there).
const (
	repoRoot  = "../.."
	deployDir = ".."
	k8sDir    = "../kubernetes"
	rulesFile = "../prometheus/rules.yml"

	wantPort     = 10055
	wantPortName = "http-metrics"
	wantID       = int64(65534) // uid and gid, as in the Dockerfile's USER
	appName      = "kinsta-exporter"
	keyFlag      = "--kinsta.api-key-file="
)

// readFile returns a file's bytes or stops the test.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return b
}

// decodeStrict decodes a one-document YAML file into v, rejecting unknown and
// duplicate fields, and stops the test on any error.
func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b := readFile(t, path)
	if n := documents(b); n != 1 {
		t.Fatalf("%s: %d YAML documents, want exactly 1 (extra documents would be ignored by this test)", path, n)
	}
	if err := strictUnmarshal(b, v); err != nil {
		t.Fatalf("%s: strict decode into %T: %v", path, v, err)
	}
}

// documents counts the non-empty YAML documents of a file.
func documents(b []byte) int {
	n, content := 0, false
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimRight(l, " \t\r") == "---" {
			if content {
				n++
			}
			content = false
			continue
		}
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			content = true
		}
	}
	if content {
		n++
	}
	return n
}

func checkMeta(t *testing.T, file string, tm metav1.TypeMeta, om metav1.ObjectMeta, apiVersion, kind string) {
	t.Helper()
	if tm.APIVersion != apiVersion || tm.Kind != kind {
		t.Errorf("%s: apiVersion/kind %s/%s, want %s/%s", file, tm.APIVersion, tm.Kind, apiVersion, kind)
	}
	if om.Name != appName {
		t.Errorf("%s: metadata.name %q, want %q", file, om.Name, appName)
	}
	if errs := validation.IsDNS1123Subdomain(om.Name); len(errs) > 0 {
		t.Errorf("%s: metadata.name: %v", file, errs)
	}
	if om.Namespace != "" {
		t.Errorf("%s: metadata.namespace %q: manifests must be namespace-less (set it in kustomization.yaml)", file, om.Namespace)
	}
	if om.Labels["app.kubernetes.io/name"] != appName {
		t.Errorf("%s: label app.kubernetes.io/name = %q, want %q", file, om.Labels["app.kubernetes.io/name"], appName)
	}
	for k, v := range om.Labels {
		if errs := validation.IsQualifiedName(k); len(errs) > 0 {
			t.Errorf("%s: label key %q: %v", file, k, errs)
		}
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			t.Errorf("%s: label %s value %q: %v", file, k, v, errs)
		}
	}
}

func loadDeployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	var d appsv1.Deployment
	decodeStrict(t, filepath.Join(k8sDir, "deployment.yaml"), &d)
	return &d
}

func loadService(t *testing.T) *corev1.Service {
	t.Helper()
	var s corev1.Service
	decodeStrict(t, filepath.Join(k8sDir, "service.yaml"), &s)
	return &s
}

func loadSecret(t *testing.T) *corev1.Secret {
	t.Helper()
	var s corev1.Secret
	decodeStrict(t, filepath.Join(k8sDir, "secret.example.yaml"), &s)
	return &s
}

func exporterContainer(t *testing.T, d *appsv1.Deployment) *corev1.Container {
	t.Helper()
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("deployment: %d containers, want 1", n)
	}
	return &d.Spec.Template.Spec.Containers[0]
}

func TestDeployment(t *testing.T) {
	d := loadDeployment(t)
	const f = "deployment.yaml"
	checkMeta(t, f, d.TypeMeta, d.ObjectMeta, "apps/v1", "Deployment")

	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("%s: replicas %s, want 1 (every replica polls the Kinsta API)", f, show(d.Spec.Replicas))
	}
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		t.Fatalf("%s: selector: %v", f, err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("%s: selector %v does not match the pod template labels %v", f, sel, d.Spec.Template.Labels)
	}

	pod := d.Spec.Template.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("%s: automountServiceAccountToken should be false: the exporter never calls the Kubernetes API", f)
	}
	psc := pod.SecurityContext
	if psc == nil {
		t.Fatalf("%s: no pod securityContext", f)
	}
	if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod runAsNonRoot must be true", f)
	}
	if psc.RunAsUser == nil || *psc.RunAsUser != wantID {
		t.Errorf("%s: pod runAsUser %s, want %d", f, show(psc.RunAsUser), wantID)
	}
	if psc.RunAsGroup == nil || *psc.RunAsGroup != wantID {
		t.Errorf("%s: pod runAsGroup %s, want %d", f, show(psc.RunAsGroup), wantID)
	}
	// Secret files are root:root without an fsGroup: unreadable for uid 65534.
	if psc.FSGroup == nil || *psc.FSGroup != wantID {
		t.Errorf("%s: pod fsGroup %s, want %d, or the API key file is unreadable for the exporter", f, show(psc.FSGroup), wantID)
	}
	if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccompProfile must be RuntimeDefault", f)
	}

	c := exporterContainer(t, d)
	if c.Image == "" || !strings.Contains(c.Image[strings.LastIndex(c.Image, "/")+1:], ":") || strings.HasSuffix(c.Image, ":latest") {
		t.Errorf("%s: image %q must carry a version tag", f, c.Image)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatalf("%s: no container securityContext", f)
	}
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
		t.Errorf("%s: container runAsNonRoot must be true", f)
	}
	if sc.RunAsUser != nil && *sc.RunAsUser != wantID {
		t.Errorf("%s: container runAsUser %d, want %d", f, *sc.RunAsUser, wantID)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem must be true", f)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation must be false", f)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: privileged must not be true", f)
	}
	if sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: capabilities must be drop [ALL] and add nothing, got %+v", f, sc.Capabilities)
	}
	if sc.SeccompProfile != nil && sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: container seccompProfile %q overrides the pod's RuntimeDefault", f, sc.SeccompProfile.Type)
	}

	// Port.
	var port *corev1.ContainerPort
	for i := range c.Ports {
		if c.Ports[i].Name == wantPortName {
			port = &c.Ports[i]
		}
	}
	if port == nil || port.ContainerPort != wantPort || (port.Protocol != "" && port.Protocol != corev1.ProtocolTCP) {
		t.Errorf("%s: want container port %s = %d/TCP, got %+v", f, wantPortName, wantPort, c.Ports)
	}
	if errs := validation.IsValidPortName(wantPortName); len(errs) > 0 {
		t.Errorf("port name %q: %v", wantPortName, errs)
	}

	// Probes.
	checkProbe := func(name string, p *corev1.Probe, path string) {
		t.Helper()
		if p == nil || p.HTTPGet == nil {
			t.Errorf("%s: %s must be an httpGet probe", f, name)
			return
		}
		if p.HTTPGet.Path != path {
			t.Errorf("%s: %s path %q, want %q", f, name, p.HTTPGet.Path, path)
		}
		if p.HTTPGet.Port != intstr.FromString(wantPortName) && p.HTTPGet.Port != intstr.FromInt32(wantPort) {
			t.Errorf("%s: %s port %v, want %s", f, name, p.HTTPGet.Port.String(), wantPortName)
		}
		if p.TimeoutSeconds > 0 && p.PeriodSeconds > 0 && p.TimeoutSeconds > p.PeriodSeconds {
			t.Errorf("%s: %s timeoutSeconds %d > periodSeconds %d", f, name, p.TimeoutSeconds, p.PeriodSeconds)
		}
	}
	checkProbe("livenessProbe", c.LivenessProbe, "/-/healthy")
	checkProbe("readinessProbe", c.ReadinessProbe, "/-/ready")

	// Resources: requests and limits for cpu and memory, requests <= limits.
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, okReq := c.Resources.Requests[r]
		lim, okLim := c.Resources.Limits[r]
		if !okReq || !okLim {
			t.Errorf("%s: resources.requests and resources.limits must both set %s", f, r)
			continue
		}
		if req.Cmp(lim) > 0 {
			t.Errorf("%s: %s request %s exceeds limit %s", f, r, req.String(), lim.String())
		}
	}

	// The API key: the flag's path is the Secret volume's file.
	keyPath := ""
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, keyFlag); ok {
			keyPath = v
		}
	}
	if keyPath == "" {
		t.Fatalf("%s: args %q lack %s<path>", f, c.Args, keyFlag)
	}
	if keyPath != "/etc/kinsta/api-key" {
		t.Errorf("%s: key file %q, want /etc/kinsta/api-key", f, keyPath)
	}
	for _, e := range c.Env {
		if e.Name == "KINSTA_API_KEY" {
			t.Errorf("%s: the key must come from the mounted file, not the KINSTA_API_KEY env var", f)
		}
	}
	secret := loadSecret(t)
	found := false
	for _, m := range c.VolumeMounts {
		rel, err := filepath.Rel(m.MountPath, keyPath)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue
		}
		if !m.ReadOnly {
			t.Errorf("%s: volumeMount %s must be readOnly", f, m.Name)
		}
		if m.SubPath != "" {
			t.Errorf("%s: volumeMount %s uses subPath, which stops Secret updates from reaching the pod", f, m.Name)
		}
		var vol *corev1.Volume
		for i := range pod.Volumes {
			if pod.Volumes[i].Name == m.Name {
				vol = &pod.Volumes[i]
			}
		}
		if vol == nil || vol.Secret == nil {
			t.Fatalf("%s: %s is not mounted from a secret volume", f, keyPath)
		}
		found = true
		if vol.Secret.SecretName != secret.Name {
			t.Errorf("%s: secretName %q, but secret.example.yaml names %q", f, vol.Secret.SecretName, secret.Name)
		}
		if vol.Secret.DefaultMode == nil || *vol.Secret.DefaultMode != 0o400 {
			t.Errorf("%s: secret defaultMode %s, want 0400", f, showMode(vol.Secret.DefaultMode))
		}
		if vol.Secret.Optional != nil && *vol.Secret.Optional {
			t.Errorf("%s: the key secret must not be optional", f)
		}
		itemFound := false
		for _, it := range vol.Secret.Items {
			if it.Path == rel {
				itemFound = true
				if _, ok := secret.StringData[it.Key]; !ok {
					t.Errorf("%s: secret key %q is not in secret.example.yaml (keys %v)", f, it.Key, keys(secret.StringData))
				}
				if it.Key != "api-key" {
					t.Errorf("%s: secret key %q, want api-key", f, it.Key)
				}
			}
		}
		if !itemFound {
			t.Errorf("%s: no item of secret volume %s lands at %s (items %+v)", f, m.Name, keyPath, vol.Secret.Items)
		}
	}
	if !found {
		t.Errorf("%s: no volumeMount holds %s", f, keyPath)
	}
}

// show prints an optional value.
func show[T any](p *T) string {
	if p == nil {
		return "<unset>"
	}
	return fmt.Sprint(*p)
}

func showMode(p *int32) string {
	if p == nil {
		return "<unset>"
	}
	return fmt.Sprintf("%#o", *p)
}

func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestService(t *testing.T) {
	s := loadService(t)
	d := loadDeployment(t)
	const f = "service.yaml"
	checkMeta(t, f, s.TypeMeta, s.ObjectMeta, "v1", "Service")
	if s.Spec.Type != "" && s.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("%s: type %s, want ClusterIP", f, s.Spec.Type)
	}
	if len(s.Spec.Selector) == 0 || !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
		t.Errorf("%s: selector %v does not select the deployment's pods %v", f, s.Spec.Selector, d.Spec.Template.Labels)
	}
	if len(s.Spec.Ports) != 1 {
		t.Fatalf("%s: %d ports, want 1", f, len(s.Spec.Ports))
	}
	p := s.Spec.Ports[0]
	if p.Name != wantPortName || p.Port != wantPort || p.TargetPort != intstr.FromString(wantPortName) {
		t.Errorf("%s: port %+v, want name %s port %d targetPort %s", f, p, wantPortName, wantPort, wantPortName)
	}
}

func TestSecretExample(t *testing.T) {
	s := loadSecret(t)
	const f = "secret.example.yaml"
	checkMeta(t, f, s.TypeMeta, s.ObjectMeta, "v1", "Secret")
	if s.Type != "" && s.Type != corev1.SecretTypeOpaque {
		t.Errorf("%s: type %s, want Opaque", f, s.Type)
	}
	if len(s.Data) > 0 {
		t.Errorf("%s: use stringData for the placeholder, not data", f)
	}
	if v := s.StringData["api-key"]; v == "" || !strings.Contains(strings.ToUpper(v), "REPLACE") {
		t.Errorf("%s: stringData.api-key should be an obvious placeholder, got %q", f, v)
	}
}

// Minimal Prometheus Operator types (monitoring.coreos.com/v1), so that strict
// decoding rejects misspelt fields without the operator's heavy module. Fields
// not listed here are rejected too: add them when a manifest starts to use them.
type (
	serviceMonitor struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Spec              struct {
			JobLabel          string               `json:"jobLabel,omitempty"`
			Selector          metav1.LabelSelector `json:"selector"`
			NamespaceSelector *struct {
				Any        bool     `json:"any,omitempty"`
				MatchNames []string `json:"matchNames,omitempty"`
			} `json:"namespaceSelector,omitempty"`
			Endpoints []smEndpoint `json:"endpoints"`
		} `json:"spec"`
	}
	smEndpoint struct {
		Port              string          `json:"port,omitempty"`
		Path              string          `json:"path,omitempty"`
		Scheme            string          `json:"scheme,omitempty"`
		Interval          string          `json:"interval,omitempty"`
		ScrapeTimeout     string          `json:"scrapeTimeout,omitempty"`
		HonorLabels       bool            `json:"honorLabels,omitempty"`
		Relabelings       []relabelConfig `json:"relabelings,omitempty"`
		MetricRelabelings []relabelConfig `json:"metricRelabelings,omitempty"`
	}
	relabelConfig struct {
		SourceLabels []string `json:"sourceLabels,omitempty"`
		Separator    *string  `json:"separator,omitempty"`
		TargetLabel  string   `json:"targetLabel,omitempty"`
		Regex        string   `json:"regex,omitempty"`
		Modulus      uint64   `json:"modulus,omitempty"`
		Replacement  *string  `json:"replacement,omitempty"`
		Action       string   `json:"action,omitempty"`
	}
	prometheusRule struct {
		metav1.TypeMeta   `json:",inline"`
		metav1.ObjectMeta `json:"metadata"`
		Spec              struct {
			Groups []ruleGroup `json:"groups"`
		} `json:"spec"`
	}
	ruleGroup struct {
		Name                    string            `json:"name"`
		Labels                  map[string]string `json:"labels,omitempty"`
		Interval                string            `json:"interval,omitempty"`
		QueryOffset             string            `json:"query_offset,omitempty"`
		Rules                   []rule            `json:"rules"`
		PartialResponseStrategy string            `json:"partial_response_strategy,omitempty"`
		Limit                   *int              `json:"limit,omitempty"`
	}
	rule struct {
		Record        string             `json:"record,omitempty"`
		Alert         string             `json:"alert,omitempty"`
		Expr          intstr.IntOrString `json:"expr"`
		For           string             `json:"for,omitempty"`
		KeepFiringFor string             `json:"keep_firing_for,omitempty"`
		Labels        map[string]string  `json:"labels,omitempty"`
		Annotations   map[string]string  `json:"annotations,omitempty"`
	}
)

// promDuration parses a Prometheus duration such as 30s, 1m or 1h30m.
func promDuration(s string) (time.Duration, error) {
	if !regexp.MustCompile(`^([0-9]+(ms|s|m|h|d|w|y))+$`).MatchString(s) {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	var total time.Duration
	for _, m := range regexp.MustCompile(`([0-9]+)(ms|s|m|h|d|w|y)`).FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[1])
		unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
			"d": 24 * time.Hour, "w": 7 * 24 * time.Hour, "y": 365 * 24 * time.Hour}[m[2]]
		total += time.Duration(n) * unit
	}
	return total, nil
}

// rulesJob is the job name the alert rules match (job="...") in the
// exporter's series (up and kinsta_*); blackbox_exporter's probe_* series
// of the sites' domains come from a job of their own.
func rulesJob(t *testing.T) string {
	t.Helper()
	ms := regexp.MustCompile(`\b(?:up|kinsta_\w+)\{[^}]*\bjob="([^"{}$]+)"`).FindAllSubmatch(readFile(t, rulesFile), -1)
	if len(ms) == 0 {
		t.Fatalf("%s: no job=\"...\" matcher found", rulesFile)
	}
	job := string(ms[0][1])
	for _, m := range ms {
		if string(m[1]) != job {
			t.Fatalf("%s: rules match several jobs: %q and %q", rulesFile, job, m[1])
		}
	}
	return job
}

func TestServiceMonitor(t *testing.T) {
	var sm serviceMonitor
	const f = "servicemonitor.yaml"
	decodeStrict(t, filepath.Join(k8sDir, f), &sm)
	checkMeta(t, f, sm.TypeMeta, sm.ObjectMeta, "monitoring.coreos.com/v1", "ServiceMonitor")
	svc := loadService(t)
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil {
		t.Fatalf("%s: selector: %v", f, err)
	}
	if sel.Empty() || !sel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("%s: selector %v does not match the Service's labels %v", f, sel, svc.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("%s: %d endpoints, want 1", f, len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != svc.Spec.Ports[0].Name {
		t.Errorf("%s: endpoint port %q is not the Service's port name %q", f, ep.Port, svc.Spec.Ports[0].Name)
	}
	if ep.Path != "" && ep.Path != "/metrics" {
		t.Errorf("%s: path %q, want /metrics", f, ep.Path)
	}
	if ep.Interval != "60s" || ep.ScrapeTimeout != "30s" {
		t.Errorf("%s: interval %q scrapeTimeout %q, want 60s and 30s", f, ep.Interval, ep.ScrapeTimeout)
	}
	iv, err1 := promDuration(ep.Interval)
	to, err2 := promDuration(ep.ScrapeTimeout)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: %v %v", f, err1, err2)
	}
	if to > iv {
		t.Errorf("%s: scrapeTimeout %s exceeds interval %s (Prometheus rejects that)", f, to, iv)
	}
	if to <= 15*time.Second+500*time.Millisecond {
		t.Errorf("%s: scrapeTimeout %s should exceed --kinsta.timeout (15s) + --timeout-offset (0.5s)", f, to)
	}

	// The alert rules match job="<job>": the ServiceMonitor must produce that job
	// label (the operator's default would be the Service's name).
	want := rulesJob(t)
	got := svc.Name
	if sm.Spec.JobLabel != "" {
		got = svc.Labels[sm.Spec.JobLabel]
	}
	for _, r := range ep.Relabelings {
		if r.TargetLabel == "job" && (r.Action == "" || r.Action == "replace") && len(r.SourceLabels) == 0 && r.Replacement != nil {
			got = *r.Replacement
		}
	}
	if got != want {
		t.Errorf("%s: scraped series get job=%q, but %s matches job=%q", f, got, rulesFile, want)
	}
}

func TestPrometheusRule(t *testing.T) {
	const f = "prometheusrule.yaml"
	path := filepath.Join(k8sDir, f)
	var pr prometheusRule
	decodeStrict(t, path, &pr) // every group and rule field is one the CRD knows
	checkMeta(t, f, pr.TypeMeta, pr.ObjectMeta, "monitoring.coreos.com/v1", "PrometheusRule")

	seen := map[string]bool{}
	for _, g := range pr.Spec.Groups {
		if g.Name == "" || seen[g.Name] {
			t.Errorf("%s: group name %q empty or repeated", f, g.Name)
		}
		seen[g.Name] = true
		if len(g.Rules) == 0 {
			t.Errorf("%s: group %s has no rules", f, g.Name)
		}
		for i, r := range g.Rules {
			if (r.Alert == "") == (r.Record == "") {
				t.Errorf("%s: group %s rule %d must have exactly one of alert and record", f, g.Name, i)
			}
			if r.Expr.Type != intstr.String || strings.TrimSpace(r.Expr.StrVal) == "" {
				t.Errorf("%s: group %s rule %d (%s%s): empty expr", f, g.Name, i, r.Alert, r.Record)
			}
			if r.For != "" {
				if _, err := promDuration(r.For); err != nil {
					t.Errorf("%s: %s: for: %v", f, r.Alert, err)
				}
			}
		}
	}

	// spec.groups must be exactly rules.yml's groups.
	rules := readFile(t, rulesFile)
	want, err := rulegen.Groups(rules)
	if err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	manifest := readFile(t, path)
	got, err := rulegen.SpecGroups(manifest)
	if err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	if !reflect.DeepEqual(got, want) {
		gj, _ := yaml.Marshal(got)
		wj, _ := yaml.Marshal(want)
		t.Errorf("%s: spec.groups differ from %s's groups; regenerate with: %s\n--- prometheusrule.yaml spec.groups\n%s\n--- rules.yml groups\n%s",
			f, rulesFile, rulegen.Command, gj, wj)
	}
	// And the file is what the generator writes now (comments included).
	gen, err := rulegen.Generate(rules)
	if err != nil {
		t.Fatalf("generate from %s: %v", rulesFile, err)
	}
	if !bytes.Equal(gen, manifest) {
		t.Errorf("%s is not what the generator makes from %s; run: %s", f, rulesFile, rulegen.Command)
	}
}

func TestRulegenRejectsDrift(t *testing.T) {
	if _, err := rulegen.Generate([]byte("groups: []\n")); err == nil {
		t.Error("Generate accepted a rules file without groups")
	}
	if _, err := rulegen.Generate([]byte("foo: 1\ngroups:\n  - name: a\n    rules: []\n")); err == nil {
		t.Error("Generate accepted a rules file with another top-level key")
	}
	in := []byte("# c\ngroups:\n  - name: a\n    rules:\n      - alert: A\n        expr: |\n          up == 0\n\n          # not a comment\n")
	out, err := rulegen.Generate(in)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	g, err := rulegen.SpecGroups(out)
	if err != nil {
		t.Fatal(err)
	}
	expr := g[0].(map[string]any)["rules"].([]any)[0].(map[string]any)["expr"]
	if expr != "up == 0\n\n# not a comment\n" {
		t.Errorf("block scalar changed in generation: %q", expr)
	}
}

type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace,omitempty"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

func TestKustomization(t *testing.T) {
	var k kustomization
	const f = "kustomization.yaml"
	decodeStrict(t, filepath.Join(k8sDir, f), &k)
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("%s: apiVersion/kind %s/%s", f, k.APIVersion, k.Kind)
	}
	entries, err := os.ReadDir(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	var manifests []string
	for _, e := range entries {
		n := e.Name()
		if (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) && n != f && n != "secret.example.yaml" {
			manifests = append(manifests, n)
		}
	}
	listed := slices.Sorted(slices.Values(k.Resources))
	if !slices.Equal(listed, manifests) {
		t.Errorf("%s: resources %v, want every manifest except the secret example: %v", f, listed, manifests)
	}
	if slices.Contains(k.Resources, "secret.example.yaml") {
		t.Errorf("%s must not apply the placeholder secret", f)
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join(k8sDir, r)); err != nil {
			t.Errorf("%s: resource %s: %v", f, r, err)
		}
	}
	// The images override must name the deployment's image, or it silently does nothing.
	c := exporterContainer(t, loadDeployment(t))
	name := c.Image
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	if len(k.Images) != 1 || k.Images[0].Name != name {
		t.Errorf("%s: images should have one entry named %q (the deployment's image), got %+v", f, name, k.Images)
	}
}

// The flags and endpoints the deployment files use must exist in main.go
// and server/server.go (the routes).
func TestFlagsAndEndpointsExist(t *testing.T) {
	src := string(readFile(t, filepath.Join(repoRoot, "main.go")))
	for _, flag := range []string{"kinsta.api-key-file", "demo"} {
		if !strings.Contains(src, `Flag("`+flag+`"`) {
			t.Errorf("main.go defines no flag %q, used by the deployment files", flag)
		}
	}
	// The routes are in server/server.go (newRoutes).
	routes := string(readFile(t, filepath.Join(repoRoot, "server", "server.go")))
	for _, p := range []string{"/-/healthy", "/-/ready", "/sd/domains"} {
		if !strings.Contains(routes, `"`+p+`"`) {
			t.Errorf("server/server.go serves no %s, used by the deployment files", p)
		}
	}
	if !strings.Contains(src, strconv.Itoa(wantPort)) {
		t.Errorf("main.go does not mention the default port %d", wantPort)
	}
}

// The Dockerfile's user and port must be what the manifests assume.
func TestDockerfile(t *testing.T) {
	df := string(readFile(t, filepath.Join(repoRoot, "Dockerfile")))
	var user, expose, entry string
	for _, l := range strings.Split(df, "\n") {
		switch f := strings.Fields(l); {
		case len(f) == 0:
		case f[0] == "USER":
			user = strings.Join(f[1:], " ")
		case f[0] == "EXPOSE":
			expose = strings.Join(f[1:], " ")
		case f[0] == "ENTRYPOINT":
			entry = strings.Join(f[1:], " ")
		}
	}
	if user != fmt.Sprintf("%d:%d", wantID, wantID) {
		t.Errorf("Dockerfile USER %q, want %d:%d (numeric, matching runAsUser)", user, wantID, wantID)
	}
	if expose != strconv.Itoa(wantPort) {
		t.Errorf("Dockerfile EXPOSE %q, want %d", expose, wantPort)
	}
	if entry != `["/bin/kinsta_exporter"]` {
		t.Errorf("Dockerfile ENTRYPOINT %s, want exec form [\"/bin/kinsta_exporter\"]", entry)
	}
	if strings.Contains(df, "HEALTHCHECK") {
		t.Error("Dockerfile: no HEALTHCHECK: the run image has no shell or curl")
	}
}
