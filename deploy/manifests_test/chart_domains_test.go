package manifests

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The chart's domainProbes: the kinsta-domains job of prometheus.yml as a
// ScrapeConfig, relabelling alike, reading /sd/domains from the Service or,
// sharded, from every replica.
func TestChartDomainProbes(t *testing.T) {
	const bb = "kinsta-blackbox.monitoring.svc:9115"
	name := chartPrefix + "-domains"
	set := []string{"domainProbes.enabled=true", "domainProbes.blackboxAddress=" + bb,
		"domainProbes.additionalLabels.release=kube-prometheus-stack"}

	r := render(t, []string{ciValues("default-values.yaml")}, set...)
	r.wantObjects(t, "Secret/"+chartPrefix, "Service/"+chartPrefix, "Deployment/"+chartPrefix, "ScrapeConfig/"+name)
	checkDomainsScrapeConfig(t, r, name, bb, fmt.Sprintf("http://%s.%s.svc:%d/sd/domains", chartPrefix, namespace, wantPort))
	if r.scrapes[name].Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("ScrapeConfig labels %v: want the additional release label", r.scrapes[name].Labels)
	}

	r = render(t, []string{ciValues("sharded-values.yaml")}, append(set, "domainProbes.allDomains=true")...)
	var urls []string
	for i := range 3 {
		urls = append(urls, fmt.Sprintf("http://%s-%d.%s.%s.svc:%d/sd/domains?domains=all", chartPrefix, i, chartPrefix, namespace, wantPort))
	}
	checkDomainsScrapeConfig(t, r, name, bb, urls...)

	_, errOut, err := helm(t, templateArgs([]string{ciValues("default-values.yaml")}, "domainProbes.enabled=true")...)
	if err == nil || !strings.Contains(errOut, "domainProbes.blackboxAddress") {
		t.Errorf("domainProbes without blackboxAddress rendered (err %v): %s", err, errOut)
	}
}

func checkDomainsScrapeConfig(t *testing.T, r *rendered, name, blackbox string, urls ...string) {
	t.Helper()
	sc, ok := r.scrapes[name]
	if !ok {
		t.Fatalf("no ScrapeConfig %s", name)
	}
	s := sc.Spec
	if s.JobName == nil || *s.JobName != domainsJob || s.MetricsPath == nil || *s.MetricsPath != "/probe" {
		t.Errorf("ScrapeConfig %s: job %v path %v, want %s and /probe", name, show(s.JobName), show(s.MetricsPath), domainsJob)
	}
	probeModule(t, name, s.Params)
	var got []string
	for _, sd := range s.HTTPSDConfigs {
		got = append(got, string(sd.URL))
	}
	if !slices.Equal(got, urls) {
		t.Errorf("ScrapeConfig %s: httpSDConfigs %v, want %v", name, got, urls)
	}
	plainFile := filepath.Join(deployDir, "prometheus/prometheus.yml")
	want, _ := splitAddress(t, plainFile, domainsJobOf(t, plainFile).RelabelConfigs)
	rs := s.RelabelConfigs
	if len(rs) != len(want)+1 {
		t.Fatalf("ScrapeConfig %s: %d relabelings, want %s's %d", name, len(rs), plainFile, len(want)+1)
	}
	for i, w := range want {
		g := rs[i]
		var src []string
		for _, l := range g.SourceLabels {
			src = append(src, string(l))
		}
		if !slices.Equal(src, w.SourceLabels) || g.TargetLabel != w.TargetLabel || !reflect.DeepEqual(g.Replacement, w.Replacement) {
			t.Errorf("ScrapeConfig %s: relabeling %d %+v differs from %s's %+v", name, i, g, plainFile, w)
		}
	}
	if a := rs[len(want)]; a.TargetLabel != "__address__" || a.Replacement == nil || *a.Replacement != blackbox {
		t.Errorf("ScrapeConfig %s: probes must go to %s, got %+v", name, blackbox, a)
	}
}
