package main

import (
	"bytes"
	"encoding/json"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-logfmt/logfmt"
)

// TestOneLogFormat: every line of a start-up and of a failing refresh, the
// exporter-toolkit's included, is in the format --log.format asks for, with
// level, ts, caller and msg once each, the caller a real call site; and one
// failure (the API unreachable) gives one warning.
func TestOneLogFormat(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			p := startExporter(t, []string{"KINSTA_API_KEY=key-0123456789"}, "--log.format="+format,
				"--kinsta.api-url="+unreachable, "--kinsta.company=c1")
			p.get(t, "/metrics")
			time.Sleep(300 * time.Millisecond) // the background collectors' first attempts
			lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
			if len(lines) < 4 {
				t.Fatalf("only %d lines:\n%s", len(lines), p.stderr)
			}
			warnings := 0
			for _, line := range lines {
				keys := logKeys(t, format, line)
				for _, k := range []string{"level", "ts", "caller", "msg"} {
					if keys[k] != 1 {
						t.Errorf("%q %d times in %s", k, keys[k], line)
					}
				}
				for k, n := range keys {
					if n > 1 {
						t.Errorf("key %q repeated in %s", k, line)
					}
				}
				if keys["time"] > 0 {
					t.Errorf("a second timestamp in %s", line)
				}
				if !callSite.MatchString(line) {
					t.Errorf("no call site as caller in %s", line)
				}
				if strings.Contains(line, "warn") {
					warnings++
				}
			}
			if warnings != 1 {
				t.Errorf("%d warnings for one unreachable API, want 1:\n%s", warnings, p.stderr)
			}
		})
	}
}

// callSite matches a caller of the form file.go:line that is not a logging
// bridge's own.
var callSite = regexp.MustCompile(`caller"?[=:]"?(main|companies|exporter|failure|tls_config|server)\.go:\d+`)

// logKeys counts the keys of one log line.
func logKeys(t *testing.T, format, line string) map[string]int {
	t.Helper()
	keys := map[string]int{}
	if format == "json" {
		dec := json.NewDecoder(strings.NewReader(line))
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("not a JSON object: %s", line)
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatalf("%v: %s", err, line)
			}
			keys[k.(string)]++
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				t.Fatalf("%v: %s", err, line)
			}
		}
		return keys
	}
	dec := logfmt.NewDecoder(bytes.NewReader([]byte(line)))
	for dec.ScanRecord() {
		for dec.ScanKeyval() {
			keys[string(dec.Key())]++
		}
	}
	if err := dec.Err(); err != nil {
		t.Fatalf("%v: %s", err, line)
	}
	return keys
}
