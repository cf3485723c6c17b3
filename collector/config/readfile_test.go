package config

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// hangLimit is how long a read may take before the test calls it hung:
// a hang detector, not a speed check.
const hangLimit = 10 * time.Second

// returnsAtOnce runs read and fails the test if it has not returned within
// hangLimit; it returns read's error.
func returnsAtOnce(t *testing.T, what string, read func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- read() }()
	select {
	case err := <-done:
		return err
	case <-time.After(hangLimit):
		t.Fatalf("%s: still blocked after %s", what, hangLimit)
		return nil
	}
}

func mkfifo(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	return p
}

// TestReadKeyFileRefusesFIFO: opening a FIFO without a writer blocked
// ReadKeyFile (and a reload, holding its lock) for ever.
func TestReadKeyFileRefusesFIFO(t *testing.T) {
	fifo := mkfifo(t, t.TempDir(), "key.fifo")
	err := returnsAtOnce(t, "ReadKeyFile of a FIFO", func() error {
		_, err := ReadKeyFile(fifo)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), fifo+" is not a regular file but a named pipe (FIFO)") {
		t.Fatalf("err = %v", err)
	}
}

// TestLoadRefusesSpecialFiles: a configuration file or a key file that is a
// FIFO, a device or a directory is an error at once. os.ReadFile of
// /dev/zero never ended.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	keyFIFO := mkfifo(t, dir, "key.fifo")
	cfgFIFO := mkfifo(t, dir, "cfg.fifo")
	writeFile(t, dir, "good.key", "good-key", 0o600)
	withKey := func(key string) string {
		return writeFile(t, dir, "cfg-"+filepath.Base(key)+".yml", "companies:\n  - {id: a, api_key_file: "+key+"}\n", 0o600)
	}
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Fatalf("this test needs /dev/zero: %v", err)
	}
	for _, tc := range []struct {
		name, config, want string
	}{
		{"config file FIFO", cfgFIFO, "is not a regular file but a named pipe (FIFO)"},
		{"config file /dev/zero", "/dev/zero", "/dev/zero is not a regular file but a character device"},
		{"config file directory", dir, "is not a regular file but a directory"},
		{"key file FIFO", withKey(keyFIFO), `companies[0] (id "a"): api_key_file: ` + keyFIFO + " is not a regular file but a named pipe (FIFO)"},
		{"key file /dev/zero", withKey("/dev/zero"), "/dev/zero is not a regular file but a character device"},
	} {
		err := returnsAtOnce(t, tc.name, func() error {
			_, err := Load(tc.config)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestLoadRefusesLargeConfigFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "k", "key", 0o600)
	big := "api_key_file: k\ncompanies:\n  - id: a\n" + strings.Repeat("# padding\n", MaxConfigFileBytes/10)
	cfg := writeFile(t, dir, "big.yml", big, 0o600)
	if _, err := Load(cfg); err == nil || !strings.Contains(err.Error(), "larger than 1048576 bytes") {
		t.Fatalf("err = %v", err)
	}
}

// TestReadKeyFileFollowsSymlinks: a key mounted as a symbolic link (as
// Kubernetes mounts secrets) is a regular file.
func TestReadKeyFileFollowsSymlinks(t *testing.T) {
	dir := t.TempDir()
	target := writeFile(t, dir, "real.key", "linked-key\n", 0o600)
	link := filepath.Join(dir, "link.key")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if key, err := ReadKeyFile(link); err != nil || key != "linked-key" {
		t.Fatalf("err = %v", err)
	}
}
