package manifests

import (
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/kinsta-exporter/kinsta_exporter/collector/config"
)

const (
	keysDir    = "/etc/kinsta/keys"
	configPath = "/etc/kinsta/config/kinsta.yml"
)

func TestChartDefault(t *testing.T) {
	r := render(t, []string{ciValues("default-values.yaml")})
	r.wantObjects(t, "Secret/"+chartPrefix, "Service/"+chartPrefix, "Deployment/"+chartPrefix)
	d := r.deployments[chartPrefix]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Errorf("replicas %s, want 1", show(d.Spec.Replicas))
	}
	c := checkPod(t, &d.Spec.Template, d.Spec.Selector)
	if want := "kinsta_exporter:" + strings.TrimSpace(string(readFile(t, "../../VERSION"))); c.Image != want {
		t.Errorf("image %q, want %q (tag: the chart's appVersion, the VERSION file)", c.Image, want)
	}
	wantArgs(t, c, keyFlag+keysDir+"/api-key")
	files := mountedSecretFiles(t, &d.Spec.Template.Spec, c)
	checkKeyFile(t, r, files, keysDir+"/api-key", chartPrefix)
	checkService(t, r.services[chartPrefix], &d.Spec.Template, false)
}

func TestChartDemo(t *testing.T) {
	r := render(t, []string{ciValues("demo-values.yaml")})
	r.wantObjects(t, "Service/"+chartPrefix, "Deployment/"+chartPrefix,
		"ServiceMonitor/"+chartPrefix, "PrometheusRule/"+chartPrefix)
	d := r.deployments[chartPrefix]
	c := checkPod(t, &d.Spec.Template, d.Spec.Selector)
	wantArgs(t, c, "--demo")
	if len(d.Spec.Template.Spec.Volumes) > 0 || len(c.VolumeMounts) > 0 {
		t.Errorf("demo: volumes %v mounts %v, want none", d.Spec.Template.Spec.Volumes, c.VolumeMounts)
	}
	checkServiceMonitor(t, r, "kinsta")
	checkRulesEqualDefaults(t, r.rules[chartPrefix])
}

func TestChartExistingSecretWithConfig(t *testing.T) {
	file := ciValues("existing-secret-config-values.yaml")
	r := render(t, []string{file})
	r.wantObjects(t, "ConfigMap/"+chartPrefix, "Service/"+chartPrefix, "Deployment/"+chartPrefix,
		"ServiceMonitor/"+chartPrefix, "PrometheusRule/"+chartPrefix)
	d := r.deployments[chartPrefix]
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %s, want 2", show(d.Spec.Replicas))
	}
	c := checkPod(t, &d.Spec.Template, d.Spec.Selector)
	if c.Image != "registry.example.com/kinsta_exporter:0.1.0-rc.1" {
		t.Errorf("image %q", c.Image)
	}
	wantArgs(t, c, "--config.file="+configPath, "--collector.backups", "--log.level=debug")
	files := mountedSecretFiles(t, &d.Spec.Template.Spec, c)
	cfg := checkConfig(t, r, &d.Spec.Template.Spec, c, files, "kinsta-api-keys")
	want := map[string]string{ // company id -> key file
		"54fb80af-576c-4fdc-ba4f-b596c83f15a1": keysDir + "/agency", // existingSecret.key: the default
		"7c5e4a8f-1e47-4a43-9f0c-1a2b3c4d5e6f": keysDir + "/client-a",
	}
	for _, co := range cfg.Companies {
		if want[co.ID] != co.APIKeyFile {
			t.Errorf("company %s: key file %s, want %s", co.ID, co.APIKeyFile, want[co.ID])
		}
	}
	if len(cfg.Companies) != len(want) {
		t.Errorf("%d companies in the configuration, want %d", len(cfg.Companies), len(want))
	}
	sm := checkServiceMonitor(t, r, "kinsta-prod")
	if sm.Namespace != "monitoring" || len(sm.Spec.Endpoints[0].MetricRelabelConfigs) != 1 {
		t.Errorf("ServiceMonitor: namespace %q, metricRelabelings %v", sm.Namespace, sm.Spec.Endpoints[0].MetricRelabelConfigs)
	}
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
		t.Errorf("ServiceMonitor in another namespace must select the release's: %v", sm.Spec.NamespaceSelector)
	}
	pr := r.rules[chartPrefix]
	if pr.Namespace != "monitoring" || pr.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("PrometheusRule: namespace %q labels %v", pr.Namespace, pr.Labels)
	}
	checkRulesEqualGenerated(t, pr, file)
}

// checkPod checks what every pod of the chart must be: selected by the
// workload, non-root on a read-only root, no capabilities, RuntimeDefault
// seccomp, probes on /-/healthy and /-/ready; it returns the exporter container.
func checkPod(t *testing.T, tmpl *corev1.PodTemplateSpec, selector *metav1.LabelSelector) *corev1.Container {
	t.Helper()
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(tmpl.Labels)) {
		t.Errorf("selector %v (%v) does not match the pod labels %v", selector, err, tmpl.Labels)
	}
	pod := &tmpl.Spec
	if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Error("automountServiceAccountToken should be false: the exporter never calls the Kubernetes API")
	}
	psc := pod.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || show(psc.RunAsUser) != "65534" ||
		show(psc.RunAsGroup) != "65534" || show(psc.FSGroup) != "65534" ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v: want non-root 65534:65534, fsGroup 65534, seccomp RuntimeDefault", psc)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Containers))
	}
	c := &pod.Containers[0]
	sc := c.SecurityContext
	if sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
		sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || (sc.Privileged != nil && *sc.Privileged) ||
		sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("container securityContext %+v: want non-root, read-only root, no privilege escalation, drop ALL", sc)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != wantPortName || c.Ports[0].ContainerPort != wantPort {
		t.Errorf("ports %+v, want %s %d", c.Ports, wantPortName, wantPort)
	}
	for name, p := range map[string]*corev1.Probe{"/-/healthy": c.LivenessProbe, "/-/ready": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != name || p.HTTPGet.Port.String() != wantPortName {
			t.Errorf("probe %s: %+v", name, p)
		}
	}
	if c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
		t.Errorf("resources %+v: want memory requests and limits", c.Resources)
	}
	return c
}

// wantArgs fails unless the container's arguments are exactly these.
func wantArgs(t *testing.T, c *corev1.Container, want ...string) {
	t.Helper()
	if !slices.Equal(c.Args, want) || len(c.Command) > 0 {
		t.Errorf("command %q args %q, want args %q", c.Command, c.Args, want)
	}
}

// secretFile is a file a Secret volume puts in the container.
type secretFile struct{ secret, key string }

// mountedSecretFiles returns the files the container sees from Secret volumes.
func mountedSecretFiles(t *testing.T, pod *corev1.PodSpec, c *corev1.Container) map[string]secretFile {
	t.Helper()
	files := map[string]secretFile{}
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 {
			t.Errorf("volumeMount %s: no such volume", m.Name)
			continue
		}
		s := pod.Volumes[i].Secret
		if s == nil {
			continue
		}
		if !m.ReadOnly || s.DefaultMode == nil || *s.DefaultMode != 0o400 || (s.Optional != nil && *s.Optional) {
			t.Errorf("secret volume %s: want a read-only mount, defaultMode 0400, not optional", m.Name)
		}
		for _, it := range s.Items {
			if errs := validation.IsConfigMapKey(it.Key); len(errs) > 0 {
				t.Errorf("secret key %q: %v", it.Key, errs)
			}
			files[path.Join(m.MountPath, it.Path)] = secretFile{s.SecretName, it.Key}
		}
	}
	return files
}

// checkKeyFile checks that a key file is mounted from the Secret named, and,
// when the chart makes that Secret, that it holds the key.
func checkKeyFile(t *testing.T, r *rendered, files map[string]secretFile, file, secret string) {
	t.Helper()
	f, ok := files[file]
	if !ok {
		t.Errorf("no Secret volume puts a file at %s (mounted: %v)", file, files)
		return
	}
	if f.secret != secret {
		t.Errorf("%s comes from Secret %s, want %s", file, f.secret, secret)
	}
	if s, made := r.secrets[f.secret]; made {
		if len(s.Data[f.key]) == 0 {
			t.Errorf("%s: the chart's Secret %s has no key %q (keys %v)", file, f.secret, f.key, keys(s.Data))
		}
	}
}

// checkConfig parses the ConfigMap's configuration file with the exporter's own
// parser and checks that it is mounted where --config.file points and that
// every company's key file is mounted from the Secret.
func checkConfig(t *testing.T, r *rendered, pod *corev1.PodSpec, c *corev1.Container, files map[string]secretFile, secret string) *config.File {
	t.Helper()
	cm := r.configMaps[chartPrefix]
	data, ok := cm.Data[path.Base(configPath)]
	if !ok {
		t.Fatalf("ConfigMap has no %s (keys %v)", path.Base(configPath), keys(cm.Data))
	}
	cfg, err := config.Parse(configPath, []byte(data))
	if err != nil {
		t.Fatalf("the exporter rejects the chart's configuration file: %v\n%s", err, data)
	}
	mounted := false
	for _, m := range c.VolumeMounts {
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i >= 0 && pod.Volumes[i].ConfigMap != nil && pod.Volumes[i].ConfigMap.Name == cm.Name && m.MountPath == path.Dir(configPath) {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("ConfigMap %s is not mounted at %s", cm.Name, path.Dir(configPath))
	}
	for _, co := range cfg.Companies {
		checkKeyFile(t, r, files, co.APIKeyFile, secret)
	}
	return cfg
}

// checkService checks the Service selects the pods on the exporter's port.
func checkService(t *testing.T, s *corev1.Service, pods *corev1.PodTemplateSpec, headless bool) {
	t.Helper()
	if s == nil {
		t.Fatal("no Service")
	}
	if (s.Spec.ClusterIP == corev1.ClusterIPNone) != headless {
		t.Errorf("Service clusterIP %q, headless %v wanted", s.Spec.ClusterIP, headless)
	}
	if !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(pods.Labels)) || len(s.Spec.Selector) == 0 {
		t.Errorf("Service selector %v does not select the pods %v", s.Spec.Selector, pods.Labels)
	}
	if len(s.Spec.Ports) != 1 || s.Spec.Ports[0].Name != wantPortName || s.Spec.Ports[0].Port != wantPort ||
		s.Spec.Ports[0].TargetPort.String() != wantPortName {
		t.Errorf("Service ports %+v, want %s %d -> %s", s.Spec.Ports, wantPortName, wantPort, wantPortName)
	}
}
