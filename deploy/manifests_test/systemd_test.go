package manifests

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const unitFile = "../systemd/kinsta_exporter.service"

// unit parses a systemd unit file into section -> key -> values (a key may repeat).
func unit(t *testing.T) map[string]map[string][]string {
	t.Helper()
	u := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(readFile(t, unitFile)))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = l[1 : len(l)-1]
			u[section] = map[string][]string{}
		case strings.HasSuffix(l, `\`):
			t.Fatalf("%s:%d: continuation lines are not supported by this test", unitFile, n)
		default:
			k, v, ok := strings.Cut(l, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not key=value in a section: %q", unitFile, n, l)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func TestSystemdUnit(t *testing.T) {
	u := unit(t)
	svc := u["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	want := map[string]string{
		"DynamicUser":             "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"NoNewPrivileges":         "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"ProtectKernelTunables":   "yes",
		"ProtectKernelModules":    "yes",
		"ProtectKernelLogs":       "yes",
		"ProtectControlGroups":    "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"RestrictNamespaces":      "yes",
		"LockPersonality":         "yes",
		"MemoryDenyWriteExecute":  "yes",
		"SystemCallFilter":        "@system-service",
		"CapabilityBoundingSet":   "",
		"Restart":                 "on-failure",
		"LoadCredential":          "api-key:/etc/kinsta_exporter/api-key",
		"EnvironmentFile":         "-/etc/default/kinsta_exporter",
	}
	for k, v := range want {
		got, ok := svc[k]
		if !ok || got[0] != v {
			t.Errorf("[Service] %s=%q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"User", "Group", "AmbientCapabilities"} {
		if vs := svc[k]; len(vs) > 0 && vs[0] != "" {
			t.Errorf("[Service] %s=%v: DynamicUser provides the user and no capability is needed", k, vs)
		}
	}
	execStart := svc["ExecStart"]
	if len(execStart) != 1 {
		t.Fatalf("[Service] ExecStart %v, want one", execStart)
	}
	args := strings.Fields(execStart[0])
	if args[0] != "/usr/local/bin/kinsta_exporter" {
		t.Errorf("ExecStart binary %s, want /usr/local/bin/kinsta_exporter", args[0])
	}
	// The key file flag reads the credential that LoadCredential provides.
	cred, _, _ := strings.Cut(svc["LoadCredential"][0], ":")
	if !strings.Contains(execStart[0], keyFlag+"${CREDENTIALS_DIRECTORY}/"+cred) {
		t.Errorf("ExecStart %q lacks %s${CREDENTIALS_DIRECTORY}/%s", execStart[0], keyFlag, cred)
	}
	if strings.Contains(execStart[0], "--demo") {
		t.Error("ExecStart must not run the demo")
	}
	// The exporter reloads its key and configuration files on SIGHUP.
	if got := svc["ExecReload"]; len(got) != 1 || got[0] != "/bin/kill -HUP $MAINPID" {
		t.Errorf("[Service] ExecReload=%q, want /bin/kill -HUP $MAINPID", got)
	}
	if got := u["Install"]["WantedBy"]; len(got) != 1 || got[0] != "multi-user.target" {
		t.Errorf("[Install] WantedBy=%v, want multi-user.target", got)
	}
	if !strings.Contains(strings.Join(u["Unit"]["After"], " "), "network-online.target") {
		t.Error("[Unit] should be After=network-online.target: the exporter calls the Kinsta API")
	}
}

// TestSystemdAnalyzeVerify runs systemd-analyze verify when it is installed, on a
// copy whose ExecStart points at an existing executable (verify checks that).
func TestSystemdAnalyzeVerify(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		skipOutsideCI(t, "systemd-analyze not installed (Debian package systemd)")
	}
	bin, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to stand in for the binary")
	}
	dir := t.TempDir()
	copyUnit := filepath.Join(dir, "kinsta_exporter.service")
	b := bytes.ReplaceAll(readFile(t, unitFile), []byte("/usr/local/bin/kinsta_exporter"), []byte(bin))
	if err := os.WriteFile(copyUnit, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(sa, "verify", copyUnit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: err=%v\n%s", err, out)
	}
}

// skipOutsideCI skips on a developer's machine that lacks a tool, but fails in
// CI (CI=true), where a missing tool means a missing install step.
func skipOutsideCI(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}
