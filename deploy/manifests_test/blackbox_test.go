package manifests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

// The sites' domains are probed by blackbox_exporter with the targets of
// kinsta_exporter's /sd/domains. One relabelling, written four times (plain,
// sharded, compose, Kubernetes): these tests hold the copies to the plain
// one, and the module they name to deploy/blackbox/blackbox.yml.

const (
	blackboxFile  = "../blackbox/blackbox.yml"
	blackboxK8s   = "../kubernetes/blackbox"
	domainsJob    = "kinsta-domains"
	blackboxPort  = "9115"
	blackboxK8sNm = "kinsta-blackbox"
)

type blackboxConfig struct {
	Modules map[string]struct {
		Prober  string `json:"prober"`
		Timeout string `json:"timeout"`
		HTTP    struct {
			ValidStatusCodes    []int  `json:"valid_status_codes"`
			FollowRedirects     *bool  `json:"follow_redirects"`
			FailIfNotSSL        bool   `json:"fail_if_not_ssl"`
			PreferredIPProtocol string `json:"preferred_ip_protocol"`
			TLSConfig           struct {
				InsecureSkipVerify bool `json:"insecure_skip_verify"`
			} `json:"tls_config"`
		} `json:"http"`
	} `json:"modules"`
}

// promRelabel is a Prometheus relabel_config, as written in the files.
type promRelabel struct {
	SourceLabels []string `json:"source_labels,omitempty"`
	TargetLabel  string   `json:"target_label,omitempty"`
	Regex        string   `json:"regex,omitempty"`
	Replacement  *string  `json:"replacement,omitempty"`
	Action       string   `json:"action,omitempty"`
}

type promScrapeConfig struct {
	JobName       string              `json:"job_name"`
	MetricsPath   string              `json:"metrics_path"`
	Params        map[string][]string `json:"params"`
	ScrapeTimeout string              `json:"scrape_timeout"`
	HTTPSDConfigs []struct {
		URL string `json:"url"`
	} `json:"http_sd_configs"`
	RelabelConfigs []promRelabel `json:"relabel_configs"`
}

// domainsJobOf returns the kinsta-domains job of a Prometheus config.
func domainsJobOf(t *testing.T, path string) promScrapeConfig {
	t.Helper()
	var cfg struct {
		ScrapeConfigs []promScrapeConfig `json:"scrape_configs"`
	}
	if err := yaml.Unmarshal(readFile(t, path), &cfg); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, sc := range cfg.ScrapeConfigs {
		if sc.JobName == domainsJob {
			return sc
		}
	}
	t.Fatalf("%s: no job %s", path, domainsJob)
	return promScrapeConfig{}
}

// probeModule checks a job's module against blackbox.yml and returns it.
func probeModule(t *testing.T, file string, params map[string][]string) string {
	t.Helper()
	var bb blackboxConfig
	if err := yaml.Unmarshal(readFile(t, blackboxFile), &bb); err != nil {
		t.Fatalf("%s: %v", blackboxFile, err)
	}
	if len(params["module"]) != 1 {
		t.Fatalf("%s: params.module %v, want one module", file, params["module"])
	}
	name := params["module"][0]
	m, ok := bb.Modules[name]
	if !ok {
		t.Fatalf("%s: module %q is not in %s", file, name, blackboxFile)
	}
	return name + " " + m.Prober
}

// splitAddress returns the relabelling without its last rule, which must
// send the probe to blackbox_exporter, and that rule's address.
func splitAddress(t *testing.T, file string, rs []promRelabel) ([]promRelabel, string) {
	t.Helper()
	if len(rs) == 0 {
		t.Fatalf("%s: no relabelling", file)
	}
	last := rs[len(rs)-1]
	if last.TargetLabel != "__address__" || len(last.SourceLabels) != 0 || last.Replacement == nil {
		t.Fatalf("%s: the last relabelling %+v must set __address__ to blackbox_exporter", file, last)
	}
	return rs[:len(rs)-1], *last.Replacement
}

// TestBlackboxModule: the module probes https with verification and
// redirects, and blackbox_exporter itself accepts the file (its own check
// is strict; the decoding here reads only the fields it tests).
func TestBlackboxModule(t *testing.T) {
	var bb blackboxConfig
	if err := yaml.Unmarshal(readFile(t, blackboxFile), &bb); err != nil {
		t.Fatalf("%s: %v", blackboxFile, err)
	}
	m, ok := bb.Modules["https_2xx"]
	switch {
	case !ok:
		t.Fatalf("%s: no module https_2xx", blackboxFile)
	case m.Prober != "http" || !m.HTTP.FailIfNotSSL || m.HTTP.TLSConfig.InsecureSkipVerify ||
		m.HTTP.FollowRedirects == nil || !*m.HTTP.FollowRedirects || len(m.HTTP.ValidStatusCodes) != 0:
		t.Errorf("%s: https_2xx %+v: want prober http, fail_if_not_ssl, verified TLS, redirects followed, 2xx", blackboxFile, m)
	}
	if k8s := filepath.Join(blackboxK8s, "blackbox.yml"); !bytes.Equal(readFile(t, k8s), readFile(t, blackboxFile)) {
		t.Errorf("%s differs from %s: copy it (cp deploy/blackbox/blackbox.yml deploy/kubernetes/blackbox/)", k8s, blackboxFile)
	}
	bin, err := exec.LookPath("prometheus-blackbox-exporter")
	if err != nil {
		skipOutsideCI(t, "prometheus-blackbox-exporter not installed (Debian: apt-get install prometheus-blackbox-exporter; .ci/install-deps)")
	}
	if out, err := exec.Command(bin, "--config.file="+blackboxFile, "--config.check").CombinedOutput(); err != nil {
		t.Fatalf("blackbox_exporter --config.check: %v\n%s", err, out)
	}
}

// TestDomainsJobs: the kinsta-domains jobs of the plain, sharded and compose
// configurations read /sd/domains, use the module, and relabel alike; only
// the blackbox_exporter address differs.
func TestDomainsJobs(t *testing.T) {
	plainFile := filepath.Join(deployDir, "prometheus/prometheus.yml")
	plain := domainsJobOf(t, plainFile)
	want, _ := splitAddress(t, plainFile, plain.RelabelConfigs)
	wantTargets := map[string]string{
		"__param_target": "__address__", "instance": "__address__", "domain": "__meta_kinsta_domain",
		"company": "__meta_kinsta_company_id", "site_id": "__meta_kinsta_site_id", "name": "__meta_kinsta_site_name",
		"display_name": "__meta_kinsta_site_display_name", "environment_id": "__meta_kinsta_environment_id",
		"environment_name": "__meta_kinsta_environment_name", "primary": "__meta_kinsta_domain_primary",
	}
	got := map[string]string{}
	for _, r := range want {
		got[r.TargetLabel] = strings.Join(r.SourceLabels, ",")
	}
	if !reflect.DeepEqual(got, wantTargets) {
		t.Errorf("%s: relabelling sets %v, want %v", plainFile, got, wantTargets)
	}
	if r := want[0]; r.TargetLabel != "__param_target" || r.Replacement == nil || *r.Replacement != "https://${1}" {
		t.Errorf("%s: the first relabelling %+v must make the target https://<domain>", plainFile, r)
	}

	c := loadCompose(t)
	for file, wantAddr := range map[string]string{
		plainFile: "localhost:" + blackboxPort,
		filepath.Join(deployDir, "prometheus/prometheus-sharded.yml"): "blackbox-exporter:" + blackboxPort,
		filepath.Join(deployDir, "compose/prometheus.yml"):            "blackbox:" + blackboxPort,
	} {
		job := domainsJobOf(t, file)
		probeModule(t, file, job.Params)
		if job.MetricsPath != "/probe" || job.ScrapeTimeout == "" {
			t.Errorf("%s: metrics_path %q scrape_timeout %q, want /probe and a timeout", file, job.MetricsPath, job.ScrapeTimeout)
		}
		if len(job.HTTPSDConfigs) == 0 {
			t.Errorf("%s: job %s has no http_sd_configs", file, domainsJob)
		}
		for _, sd := range job.HTTPSDConfigs {
			if !strings.HasSuffix(sd.URL, ":10055/sd/domains") {
				t.Errorf("%s: http_sd url %q, want the exporter's /sd/domains", file, sd.URL)
			}
		}
		rs, addr := splitAddress(t, file, job.RelabelConfigs)
		if !reflect.DeepEqual(rs, want) {
			t.Errorf("%s: relabelling differs from %s's", file, plainFile)
		}
		if addr != wantAddr {
			t.Errorf("%s: probes go to %q, want %q", file, addr, wantAddr)
		}
	}
	// Compose: the blackbox service mounts the module file and the exporter
	// serves /sd/domains at the URL.
	bb := c.Services["blackbox"]
	if bb == nil {
		t.Fatal("docker-compose.yml: no blackbox service")
	}
	m := findMount(mounts(t, "blackbox", bb), "/etc/blackbox_exporter/blackbox.yml")
	if m == nil || filepath.Clean(bindSource(*m)) != filepath.Clean(blackboxFile) {
		t.Errorf("docker-compose.yml: service blackbox must mount %s at /etc/blackbox_exporter/blackbox.yml", blackboxFile)
	}
	if cmd, _ := bb["command"].([]any); !slices.Contains(cmd, any("--config.file=/etc/blackbox_exporter/blackbox.yml")) {
		t.Errorf("docker-compose.yml: service blackbox command %v must load the mounted file", bb["command"])
	}
	for _, sd := range domainsJobOf(t, filepath.Join(deployDir, "compose/prometheus.yml")).HTTPSDConfigs {
		checkServiceTarget(t, c, "compose/prometheus.yml", strings.TrimSuffix(strings.TrimPrefix(sd.URL, "http://"), "/sd/domains"))
	}
}

// TestDomainsRulesMatchTheJob: the reachability rules select the job the
// configurations name.
func TestDomainsRulesMatchTheJob(t *testing.T) {
	ms := regexp.MustCompile(`\bprobe_\w+\{[^}]*\bjob="([^"%]+)"`).FindAllSubmatch(readFile(t, rulesFile), -1)
	if len(ms) < 3 {
		t.Fatalf("%s: found %d probe_* selectors with a job, want the reachability rules'", rulesFile, len(ms))
	}
	for _, m := range ms {
		if string(m[1]) != domainsJob {
			t.Errorf("%s: %s, want job=%q", rulesFile, m[0], domainsJob)
		}
	}
}

// Minimal monitoring.coreos.com/v1alpha1 ScrapeConfig, for strict decoding.
type scrapeConfigCRD struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec struct {
		MetricsPath    string              `json:"metricsPath"`
		Params         map[string][]string `json:"params"`
		ScrapeInterval string              `json:"scrapeInterval"`
		ScrapeTimeout  string              `json:"scrapeTimeout"`
		HTTPSDConfigs  []struct {
			URL             string `json:"url"`
			RefreshInterval string `json:"refreshInterval"`
		} `json:"httpSDConfigs"`
		Relabelings []relabelConfig `json:"relabelings"`
	} `json:"spec"`
}

// TestKubernetesBlackbox: the optional kustomization runs blackbox_exporter
// with the module and a ScrapeConfig relabelling as the plain job does.
func TestKubernetesBlackbox(t *testing.T) {
	var k struct {
		kustomization      `json:",inline"`
		ConfigMapGenerator []struct {
			Name    string   `json:"name"`
			Files   []string `json:"files"`
			Options struct {
				Labels map[string]string `json:"labels"`
			} `json:"options"`
		} `json:"configMapGenerator"`
	}
	decodeStrict(t, filepath.Join(blackboxK8s, "kustomization.yaml"), &k)
	entries, err := os.ReadDir(blackboxK8s)
	if err != nil {
		t.Fatal(err)
	}
	var manifests []string
	for _, e := range entries {
		if n := e.Name(); strings.HasSuffix(n, ".yaml") && n != "kustomization.yaml" {
			manifests = append(manifests, n)
		}
	}
	if listed := slices.Sorted(slices.Values(k.Resources)); !slices.Equal(listed, manifests) {
		t.Errorf("blackbox/kustomization.yaml: resources %v, want %v", listed, manifests)
	}
	if len(k.ConfigMapGenerator) != 1 || !slices.Equal(k.ConfigMapGenerator[0].Files, []string{"blackbox.yml"}) {
		t.Fatalf("blackbox/kustomization.yaml: configMapGenerator %+v, want one from blackbox.yml", k.ConfigMapGenerator)
	}

	var d appsv1.Deployment
	var s corev1.Service
	decodeStrict(t, filepath.Join(blackboxK8s, "deployment.yaml"), &d)
	decodeStrict(t, filepath.Join(blackboxK8s, "service.yaml"), &s)
	if len(d.Spec.Template.Spec.Containers) != 1 || len(d.Spec.Template.Spec.Volumes) != 1 {
		t.Fatalf("blackbox deployment: want one container and one volume")
	}
	ctr := d.Spec.Template.Spec.Containers[0]
	vol := d.Spec.Template.Spec.Volumes[0]
	if vol.ConfigMap == nil || vol.ConfigMap.Name != k.ConfigMapGenerator[0].Name {
		t.Errorf("blackbox deployment: volume %+v, want the generated ConfigMap %s", vol, k.ConfigMapGenerator[0].Name)
	}
	if len(ctr.VolumeMounts) != 1 || !slices.Contains(ctr.Args, "--config.file="+ctr.VolumeMounts[0].MountPath+"/blackbox.yml") {
		t.Errorf("blackbox deployment: args %v must load blackbox.yml from the mounted ConfigMap", ctr.Args)
	}
	sc := ctr.SecurityContext
	if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.Capabilities == nil ||
		!slices.Contains(sc.Capabilities.Drop, "ALL") || d.Spec.Template.Spec.SecurityContext.RunAsNonRoot == nil {
		t.Error("blackbox deployment: run as non-root, read-only root filesystem, all capabilities dropped")
	}
	if !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) || len(s.Spec.Ports) != 1 ||
		s.Spec.Ports[0].Port != 9115 || s.Name != blackboxK8sNm {
		t.Errorf("blackbox service: must be %s:9115 selecting the deployment's pods", blackboxK8sNm)
	}

	var crd scrapeConfigCRD
	decodeStrict(t, filepath.Join(blackboxK8s, "scrapeconfig.yaml"), &crd)
	if crd.APIVersion != "monitoring.coreos.com/v1alpha1" || crd.Kind != "ScrapeConfig" || crd.Spec.MetricsPath != "/probe" {
		t.Errorf("scrapeconfig.yaml: %s %s path %q", crd.APIVersion, crd.Kind, crd.Spec.MetricsPath)
	}
	probeModule(t, "scrapeconfig.yaml", crd.Spec.Params)
	if len(crd.Spec.HTTPSDConfigs) != 1 || crd.Spec.HTTPSDConfigs[0].URL != "http://"+appName+":10055/sd/domains" {
		t.Errorf("scrapeconfig.yaml: httpSDConfigs %+v, want the %s Service's /sd/domains", crd.Spec.HTTPSDConfigs, appName)
	}
	// The relabelling is the plain job's, then blackbox's address, then the job name.
	plainFile := filepath.Join(deployDir, "prometheus/prometheus.yml")
	want := domainsJobOf(t, plainFile).RelabelConfigs
	rs := crd.Spec.Relabelings
	if len(rs) != len(want)+1 {
		t.Fatalf("scrapeconfig.yaml: %d relabelings, want %s's %d and the job", len(rs), plainFile, len(want))
	}
	for i, w := range want[:len(want)-1] {
		if g := rs[i]; !slices.Equal(g.SourceLabels, w.SourceLabels) || g.TargetLabel != w.TargetLabel ||
			!reflect.DeepEqual(g.Replacement, w.Replacement) || g.Regex != w.Regex || g.Action != w.Action {
			t.Errorf("scrapeconfig.yaml: relabeling %d %+v differs from %s's %+v", i, g, plainFile, w)
		}
	}
	if a := rs[len(want)-1]; a.TargetLabel != "__address__" || a.Replacement == nil || *a.Replacement != blackboxK8sNm+":9115" {
		t.Errorf("scrapeconfig.yaml: probes must go to %s:9115, got %+v", blackboxK8sNm, a)
	}
	if j := rs[len(want)]; j.TargetLabel != "job" || j.Replacement == nil || *j.Replacement != domainsJob {
		t.Errorf("scrapeconfig.yaml: the last relabeling must set job=%s (the rules match it), got %+v", domainsJob, j)
	}
}
