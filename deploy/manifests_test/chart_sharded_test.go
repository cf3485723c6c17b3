package manifests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
)

// scrapeConfig is the part of a Prometheus scrape config the sharded mode
// relies on; decoded strictly, so any other field fails the test.
type scrapeConfig struct {
	JobName        string `json:"job_name"`
	ScrapeInterval string `json:"scrape_interval,omitempty"`
	ScrapeTimeout  string `json:"scrape_timeout,omitempty"`
	HTTPSDConfigs  []struct {
		URL             string `json:"url"`
		RefreshInterval string `json:"refresh_interval,omitempty"`
	} `json:"http_sd_configs,omitempty"`
	StaticConfigs []struct {
		Targets []string `json:"targets"`
	} `json:"static_configs,omitempty"`
	RelabelConfigs []struct {
		SourceLabels []string `json:"source_labels,omitempty"`
		Modulus      int      `json:"modulus,omitempty"`
		Action       string   `json:"action,omitempty"`
		TargetLabel  string   `json:"target_label,omitempty"`
		Replacement  string   `json:"replacement,omitempty"`
	} `json:"relabel_configs,omitempty"`
}

func TestChartSharded(t *testing.T) {
	r := render(t, []string{ciValues("sharded-values.yaml")})
	scrapeSecret := chartPrefix + "-scrape-config"
	r.wantObjects(t, "Secret/"+chartPrefix, "ConfigMap/"+chartPrefix, "Service/"+chartPrefix, "StatefulSet/"+chartPrefix,
		"Secret/"+scrapeSecret, "ScrapeConfig/"+chartPrefix, "ServiceMonitor/"+chartPrefix, "PrometheusRule/"+chartPrefix)
	ss := r.statefulSets[chartPrefix]
	if ss.Spec.Replicas == nil || *ss.Spec.Replicas != 3 {
		t.Errorf("StatefulSet replicas %s, want 3", show(ss.Spec.Replicas))
	}
	svc := r.services[chartPrefix]
	if ss.Spec.ServiceName != svc.Name {
		t.Errorf("StatefulSet serviceName %q, want the headless Service %q", ss.Spec.ServiceName, svc.Name)
	}
	checkService(t, svc, &ss.Spec.Template, true)
	c := checkPod(t, &ss.Spec.Template, ss.Spec.Selector)
	wantArgs(t, c, "--config.file="+configPath, "--web.probe-only")
	files := mountedSecretFiles(t, &ss.Spec.Template.Spec, c)
	cfg := checkConfig(t, r, &ss.Spec.Template.Spec, c, files, chartPrefix)
	if len(cfg.Companies) != 3 || cfg.Companies[1].Name != "Client A: shop" {
		t.Errorf("configured companies %+v, want the 3 of the values file", cfg.Companies)
	}

	// Every bucket of hashmod must name a replica: <pod>.<headless service>.
	replica := func(i int) string {
		return fmt.Sprintf("%s-%d.%s.%s.svc:%d", ss.Name, i, svc.Name, namespace, wantPort)
	}
	sd := fmt.Sprintf("http://%s.%s.svc:%d/sd", svc.Name, namespace, wantPort)
	jobs := scrapeConfigs(t, r.secrets[scrapeSecret])
	if len(jobs) != 1 { // serviceMonitor.enabled: the replicas' own series are the ServiceMonitor's
		t.Fatalf("%d scrape configs, want 1 (the companies' job)", len(jobs))
	}
	j := jobs[0]
	if j.JobName != "kinsta" || len(j.HTTPSDConfigs) != 1 || j.HTTPSDConfigs[0].URL != sd || len(j.RelabelConfigs) != 2 {
		t.Fatalf("scrape config %+v: want job kinsta, one http_sd_config %s, two relabelings", j, sd)
	}
	hm, addr := j.RelabelConfigs[0], j.RelabelConfigs[1]
	if hm.Action != "hashmod" || hm.Modulus != 3 || !slices.Equal(hm.SourceLabels, []string{"__meta_kinsta_company_id"}) ||
		addr.TargetLabel != "__address__" || !slices.Equal(addr.SourceLabels, []string{hm.TargetLabel}) {
		t.Errorf("relabelings %+v: want hashmod 3 of the company id, then __address__ from the bucket", j.RelabelConfigs)
	}
	for i := range 3 {
		if got := strings.ReplaceAll(addr.Replacement, "${1}", fmt.Sprint(i)); got != replica(i) {
			t.Errorf("bucket %d -> %s, want replica %s", i, got, replica(i))
		}
	}

	sc := r.scrapes[chartPrefix].Spec
	if sc.JobName == nil || *sc.JobName != j.JobName || len(sc.HTTPSDConfigs) != 1 || string(sc.HTTPSDConfigs[0].URL) != sd ||
		len(sc.RelabelConfigs) != 2 || sc.RelabelConfigs[0].Action != "HashMod" || sc.RelabelConfigs[0].Modulus != 3 ||
		sc.RelabelConfigs[1].Replacement == nil || *sc.RelabelConfigs[1].Replacement != addr.Replacement {
		t.Errorf("ScrapeConfig spec %+v does not match the scrape config Secret", sc)
	}
	if r.scrapes[chartPrefix].Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("ScrapeConfig labels %v: want the additional release label", r.scrapes[chartPrefix].Labels)
	}
	checkServiceMonitor(t, r, "kinsta-exporter")
	checkRulesEqualDefaults(t, r.rules[chartPrefix])
}

// Without a ServiceMonitor the scrape config Secret also scrapes every
// replica's /metrics, like deploy/prometheus/prometheus-sharded.yml, and
// promtool accepts the whole configuration.
func TestChartShardedScrapeConfigPromtool(t *testing.T) {
	r := render(t, []string{ciValues("sharded-values.yaml")}, "serviceMonitor.enabled=false", "sharding.replicas=2")
	jobs := scrapeConfigs(t, r.secrets[chartPrefix+"-scrape-config"])
	if len(jobs) != 2 || jobs[1].JobName != "kinsta-exporter" || len(jobs[1].StaticConfigs) != 1 {
		t.Fatalf("scrape configs %+v: want the companies' job and kinsta-exporter with static targets", jobs)
	}
	want := []string{chartPrefix + "-0." + chartPrefix + ".kinsta.svc:10055", chartPrefix + "-1." + chartPrefix + ".kinsta.svc:10055"}
	if got := jobs[1].StaticConfigs[0].Targets; !slices.Equal(got, want) {
		t.Errorf("replica targets %v, want %v", got, want)
	}
	if jobs[0].RelabelConfigs[0].Modulus != 2 {
		t.Errorf("modulus %d, want 2 (sharding.replicas)", jobs[0].RelabelConfigs[0].Modulus)
	}
	body := r.secrets[chartPrefix+"-scrape-config"].StringData["scrape-configs.yaml"]
	prom := "global:\n  scrape_interval: 60s\nscrape_configs:\n" + indent(body, "  ")
	file := filepath.Join(t.TempDir(), "prometheus.yml")
	if err := os.WriteFile(file, []byte(prom), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool(t), "check", "config", file).CombinedOutput(); err != nil {
		t.Errorf("promtool check config: %v\n%s\n%s", err, out, prom)
	}
}

// scrapeConfigs decodes the scrape config list of the sharded mode's Secret.
func scrapeConfigs(t *testing.T, s *corev1.Secret) []scrapeConfig {
	t.Helper()
	if s == nil {
		t.Fatal("no scrape config Secret")
	}
	body, ok := s.StringData["scrape-configs.yaml"]
	if !ok {
		t.Fatalf("Secret %s has no scrape-configs.yaml", s.Name)
	}
	var jobs []scrapeConfig
	if err := strictUnmarshal([]byte(body), &jobs); err != nil {
		t.Fatalf("scrape configs: %v\n%s", err, body)
	}
	return jobs
}

// checkServiceMonitor checks the ServiceMonitor scrapes the Service's port
// with the job label given and returns it.
func checkServiceMonitor(t *testing.T, r *rendered, job string) *monitoringv1.ServiceMonitor {
	t.Helper()
	sm := r.monitors[chartPrefix]
	svc := r.services[chartPrefix]
	if sm == nil || svc == nil {
		t.Fatal("no ServiceMonitor or Service")
	}
	if sm.Labels["release"] == "" && len(sm.Labels) == 0 {
		t.Error("ServiceMonitor without labels")
	}
	if !labelsMatch(sm.Spec.Selector.MatchLabels, svc.Labels) {
		t.Errorf("ServiceMonitor selector %v does not match the Service's labels %v", sm.Spec.Selector.MatchLabels, svc.Labels)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("%d endpoints, want 1", len(sm.Spec.Endpoints))
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != svc.Spec.Ports[0].Name || ep.Path != "/metrics" {
		t.Errorf("endpoint port %q path %q, want %q /metrics", ep.Port, ep.Path, svc.Spec.Ports[0].Name)
	}
	got := ""
	for _, rc := range ep.RelabelConfigs {
		if rc.TargetLabel == "job" && rc.Replacement != nil {
			got = *rc.Replacement
		}
	}
	if got != job {
		t.Errorf("ServiceMonitor sets job=%q, want %q", got, job)
	}
	return sm
}

func labelsMatch(sel, lbls map[string]string) bool {
	for k, v := range sel {
		if lbls[k] != v {
			return false
		}
	}
	return len(sel) > 0
}

// indent prefixes every non-empty line.
func indent(s, prefix string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// promtool returns promtool's path or fails the test.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not installed (Debian: apt-get install prometheus; make deps)")
	}
	return p
}
