//go:build soak

package soak

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The exporter under soak: the real binary, built once, on a loopback port.

// exporter is the real binary on a loopback port.
type exporter struct {
	url    string
	cmd    *exec.Cmd
	stderr *lockedBuffer
	exited chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// buildExporter builds the binary, or returns SOAK_BIN when set (another
// build, for a before-and-after comparison).
func buildExporter(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("SOAK_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "kinsta_exporter")
	args := []string{"build", "-o", bin}
	if os.Getenv("SOAK_RACE") == "1" {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// noCollectors are the --no-collector.<name> flags of every switchable
// collector, from --help.
func noCollectors(t *testing.T, bin string) []string {
	t.Helper()
	out, _ := exec.Command(bin, "--help").CombinedOutput()
	var flags []string
	for _, f := range strings.Fields(string(out)) {
		if name, ok := strings.CutPrefix(f, "--[no-]collector."); ok {
			flags = append(flags, "--no-collector."+name)
		}
	}
	return flags
}

func startExporter(t *testing.T, bin, apiURL string) *exporter {
	t.Helper()
	addr := freeAddr(t)
	args := []string{
		"--web.listen-address=" + addr,
		"--kinsta.api-url=" + apiURL,
		"--kinsta.company=" + companyID,
		"--kinsta.cache-ttl=1s",
		"--kinsta.rate-limit=" + strconv.Itoa(rateLimit),
		"--kinsta.max-response-size=4MiB",
		"--kinsta.timeout=5s",
		"--log.level=warn",
	}
	// SOAK_COLLECTORS=1 keeps the switchable collectors (on by default in the
	// exporter); the soak's default is the site series alone.
	if os.Getenv("SOAK_COLLECTORS") != "1" {
		for _, f := range noCollectors(t, bin) {
			if f != "--no-collector.activity" {
				args = append(args, f)
			}
		}
	}
	// The activity collector reads a log of thousands of operation types.
	args = append(args, "--collector.activity", "--collector.activity.interval=1m")
	t.Logf("kinsta_exporter %s", strings.Join(args, " "))
	return runExporter(t, execExporter(bin, args...), addr)
}

// execExporter is the command of the binary with the soak's key.
func execExporter(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "KINSTA_API_KEY=" + apiKey}
	return cmd
}

// runExporter starts cmd, listening on addr, and waits until it answers.
func runExporter(t *testing.T, cmd *exec.Cmd, addr string) *exporter {
	t.Helper()
	e := &exporter{url: "http://" + addr, cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = e.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(e.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-e.exited
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp, err := http.Get(e.url + "/-/healthy"); err == nil {
			resp.Body.Close()
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter did not start:\n%s", e.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sample reads go_goroutines from /metrics and VmRSS from /proc.
func (e *exporter) sample(t *testing.T) (goroutines int, rssKB int) {
	t.Helper()
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			goroutines, _ = strconv.Atoi(v)
		}
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			rssKB, _ = strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return goroutines, rssKB
}
