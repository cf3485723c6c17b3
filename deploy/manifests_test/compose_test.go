package manifests

import (
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// No container engine is available to CI, so docker-compose.yml is checked
// structurally: services, build context, mounts (sources exist), ports, and the
// Prometheus and Grafana configs it mounts point at the compose service names.

type composeFile struct {
	Services map[string]map[string]any
	Volumes  map[string]any
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var doc map[string]any
	b := readFile(t, filepath.Join(deployDir, "docker-compose.yml"))
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	var c composeFile
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	for k := range doc {
		if !slices.Contains([]string{"name", "services", "volumes", "networks", "secrets", "configs"}, k) {
			t.Errorf("docker-compose.yml: unexpected top-level key %q", k)
		}
	}
	return c
}

// mount is a short-syntax bind or volume mount: SOURCE:TARGET[:MODE].
type mount struct{ source, target, mode string }

func mounts(t *testing.T, svc string, s map[string]any) []mount {
	t.Helper()
	raw, _ := s["volumes"].([]any)
	var ms []mount
	for _, r := range raw {
		str, ok := r.(string)
		if !ok {
			t.Errorf("service %s: use the short volume syntax, got %v", svc, r)
			continue
		}
		p := strings.Split(str, ":")
		if len(p) < 2 || len(p) > 3 {
			t.Errorf("service %s: volume %q is not SOURCE:TARGET[:MODE]", svc, str)
			continue
		}
		m := mount{source: p[0], target: p[1]}
		if len(p) == 3 {
			m.mode = p[2]
		}
		ms = append(ms, m)
	}
	return ms
}

// bindSource returns the host path of a bind mount relative to this module, or
// "" for a named volume.
func bindSource(m mount) string {
	if strings.HasPrefix(m.source, ".") || strings.HasPrefix(m.source, "/") {
		return filepath.Join(deployDir, m.source)
	}
	return ""
}

func findMount(ms []mount, target string) *mount {
	for i := range ms {
		if ms[i].target == target {
			return &ms[i]
		}
	}
	return nil
}

func TestCompose(t *testing.T) {
	c := loadCompose(t)
	for _, name := range []string{"exporter", "prometheus", "alertmanager", "grafana"} {
		if c.Services[name] == nil {
			t.Fatalf("docker-compose.yml: no service %q", name)
		}
	}

	for name, s := range c.Services {
		// Images are pinned.
		if img, ok := s["image"].(string); ok && s["build"] == nil {
			tag := img[strings.LastIndex(img, "/")+1:]
			if !strings.Contains(tag, ":") || strings.HasSuffix(tag, ":latest") {
				t.Errorf("service %s: image %q must be pinned to a version tag", name, img)
			}
		}
		// Ports on loopback only: the demo stack has default credentials.
		ports, _ := s["ports"].([]any)
		for _, p := range ports {
			ps, ok := p.(string)
			if !ok || !strings.HasPrefix(ps, "127.0.0.1:") {
				t.Errorf("service %s: port %v must be published on 127.0.0.1 only", name, p)
			}
		}
		// Bind mount sources exist; named volumes are declared.
		for _, m := range mounts(t, name, s) {
			if src := bindSource(m); src != "" {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("service %s: mount source %s: %v", name, m.source, err)
				}
				if m.mode != "ro" {
					t.Errorf("service %s: bind mount %s should be read-only (:ro)", name, m.source)
				}
			} else if _, ok := c.Volumes[m.source]; !ok {
				t.Errorf("service %s: named volume %q is not declared under volumes:", name, m.source)
			}
		}
		deps, _ := s["depends_on"].([]any)
		for _, d := range deps {
			if c.Services[d.(string)] == nil {
				t.Errorf("service %s depends on unknown service %v", name, d)
			}
		}
	}

	// exporter: built from the repository's Dockerfile, demo mode by default.
	ex := c.Services["exporter"]
	build, _ := ex["build"].(map[string]any)
	if build == nil {
		t.Fatal("service exporter: no build section")
	}
	ctx, _ := build["context"].(string)
	dockerfile, _ := build["dockerfile"].(string)
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	abs, _ := filepath.Abs(filepath.Join(deployDir, ctx))
	root, _ := filepath.Abs(repoRoot)
	if abs != root {
		t.Errorf("service exporter: build context %q is %s, want the repository root %s", ctx, abs, root)
	}
	if _, err := os.Stat(filepath.Join(deployDir, ctx, dockerfile)); err != nil {
		t.Errorf("service exporter: dockerfile: %v", err)
	}
	if cmd, _ := ex["command"].([]any); !slices.Equal(cmd, []any{"--demo"}) {
		t.Errorf("service exporter: command %v, want [--demo]", ex["command"])
	}
	env, _ := ex["environment"].(map[string]any)
	if v, ok := env["KINSTA_API_KEY"].(string); !ok || !strings.Contains(v, "${KINSTA_API_KEY") {
		t.Errorf("service exporter: environment.KINSTA_API_KEY should be interpolated from .env, got %v", env["KINSTA_API_KEY"])
	}
	if ro, _ := ex["read_only"].(bool); !ro {
		t.Error("service exporter: read_only should be true")
	}

	// prometheus: its config scrapes the exporter service as job kinsta, alerts
	// to the alertmanager service, and loads the mounted rules.yml.
	pms := mounts(t, "prometheus", c.Services["prometheus"])
	cfgMount := findMount(pms, "/etc/prometheus/prometheus.yml")
	if cfgMount == nil {
		t.Fatal("service prometheus: nothing mounted at /etc/prometheus/prometheus.yml")
	}
	rulesMount := findMount(pms, "/etc/prometheus/rules.yml")
	if rulesMount == nil || filepath.Clean(bindSource(*rulesMount)) != filepath.Clean(rulesFile) {
		t.Errorf("service prometheus: %s must be mounted at /etc/prometheus/rules.yml", rulesFile)
	}
	var prom struct {
		RuleFiles []string `json:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `json:"targets"`
				} `json:"static_configs"`
			} `json:"alertmanagers"`
		} `json:"alerting"`
		ScrapeConfigs []struct {
			JobName       string `json:"job_name"`
			StaticConfigs []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	promPath := bindSource(*cfgMount)
	if err := yaml.Unmarshal(readFile(t, promPath), &prom); err != nil {
		t.Fatalf("%s: %v", promPath, err)
	}
	for _, rf := range prom.RuleFiles {
		if !path.IsAbs(rf) {
			rf = path.Join("/etc/prometheus", rf)
		}
		if findMount(pms, rf) == nil {
			t.Errorf("%s: rule file %s is not mounted into the prometheus service", promPath, rf)
		}
	}
	job := rulesJob(t)
	var kinstaTargets []string
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				checkServiceTarget(t, c, promPath, tg)
				if sc.JobName == job {
					kinstaTargets = append(kinstaTargets, tg)
				}
			}
		}
	}
	if !slices.Equal(kinstaTargets, []string{"exporter:10055"}) {
		t.Errorf("%s: job %q targets %v, want [exporter:10055]", promPath, job, kinstaTargets)
	}
	var amTargets []string
	for _, am := range prom.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			amTargets = append(amTargets, st.Targets...)
		}
	}
	if !slices.Equal(amTargets, []string{"alertmanager:9093"}) {
		t.Errorf("%s: alertmanager targets %v, want [alertmanager:9093]", promPath, amTargets)
	}

	// alertmanager: the shared example config.
	ams := mounts(t, "alertmanager", c.Services["alertmanager"])
	if m := findMount(ams, "/etc/alertmanager/alertmanager.yml"); m == nil ||
		filepath.Clean(bindSource(*m)) != filepath.Clean(filepath.Join(deployDir, "prometheus/alertmanager.yml")) {
		t.Error("service alertmanager: deploy/prometheus/alertmanager.yml must be mounted at /etc/alertmanager/alertmanager.yml")
	}

	// grafana: provisioning and dashboards from ../grafana; the datasource URL
	// names the prometheus service and the dashboard provider path the mount.
	gms := mounts(t, "grafana", c.Services["grafana"])
	prov := findMount(gms, "/etc/grafana/provisioning")
	dash := findMount(gms, "/var/lib/grafana/dashboards")
	if prov == nil || dash == nil {
		t.Fatal("service grafana: ../grafana/provisioning and ../grafana/dashboards must be mounted")
	}
	if filepath.Clean(bindSource(*prov)) != filepath.Join(repoRoot, "grafana/provisioning") ||
		filepath.Clean(bindSource(*dash)) != filepath.Join(repoRoot, "grafana/dashboards") {
		t.Errorf("service grafana: mounts %s and %s, want ../grafana/provisioning and ../grafana/dashboards", prov.source, dash.source)
	}
	dsFiles, _ := filepath.Glob(filepath.Join(bindSource(*prov), "datasources", "*.y*ml"))
	if len(dsFiles) == 0 {
		t.Errorf("no Grafana datasource provisioning files under %s", prov.source)
	}
	for _, fn := range dsFiles {
		var ds struct {
			Datasources []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"datasources"`
		}
		if err := yaml.Unmarshal(readFile(t, fn), &ds); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		for _, d := range ds.Datasources {
			u, err := url.Parse(d.URL)
			if err != nil {
				t.Errorf("%s: url %q: %v", fn, d.URL, err)
				continue
			}
			checkServiceTarget(t, c, fn, u.Host)
			if d.Type == "prometheus" && u.Host != "prometheus:9090" {
				t.Errorf("%s: prometheus datasource url %q, want host prometheus:9090", fn, d.URL)
			}
		}
	}
	provFiles, _ := filepath.Glob(filepath.Join(bindSource(*prov), "dashboards", "*.y*ml"))
	for _, fn := range provFiles {
		var p struct {
			Providers []struct {
				Options struct {
					Path string `json:"path"`
				} `json:"options"`
			} `json:"providers"`
		}
		if err := yaml.Unmarshal(readFile(t, fn), &p); err != nil {
			t.Fatalf("%s: %v", fn, err)
		}
		for _, pr := range p.Providers {
			if pr.Options.Path != dash.target {
				t.Errorf("%s: dashboards path %q, but compose mounts the dashboards at %s", fn, pr.Options.Path, dash.target)
			}
		}
	}
	if js, _ := filepath.Glob(filepath.Join(bindSource(*dash), "*.json")); len(js) == 0 {
		t.Errorf("no dashboards in %s", dash.source)
	}
}

// checkServiceTarget checks that host:port names a service of the compose file.
func checkServiceTarget(t *testing.T, c composeFile, file, hostport string) {
	t.Helper()
	host, _, ok := strings.Cut(hostport, ":")
	if !ok || c.Services[host] == nil {
		t.Errorf("%s: target %q is not <compose service>:<port>", file, hostport)
	}
}

// TestComposePrometheusConfig runs promtool on the compose Prometheus config
// (with rules.yml beside it, as mounted) when promtool is installed.
func TestComposePrometheusConfig(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		skipOutsideCI(t, "promtool not installed (Debian: apt-get install prometheus; .ci/install-deps)")
	}
	dir := t.TempDir()
	for src, dst := range map[string]string{
		filepath.Join(deployDir, "compose/prometheus.yml"): "prometheus.yml",
		rulesFile: "rules.yml",
	} {
		if err := os.WriteFile(filepath.Join(dir, dst), readFile(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(promtool, "check", "config", filepath.Join(dir, "prometheus.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check config: %v\n%s", err, out)
	}
}
