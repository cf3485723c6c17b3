package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"
)

func parseCollectorFlags(args ...string) (map[string]time.Duration, error) {
	app := kingpin.New("test", "")
	f := RegisterFlags(app)
	if _, err := app.Parse(args); err != nil {
		return nil, err
	}
	return f.Collectors(), nil
}

func TestCollectorFlags(t *testing.T) {
	got, err := parseCollectorFlags()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"apikey": time.Hour, "apikeys": time.Hour, "backups": time.Hour, "plugins": time.Hour,
		"themes": time.Hour, "usage": time.Hour, "disk": 6 * time.Hour, "responses": time.Hour}
	if len(got) != len(want) {
		t.Fatalf("defaults: %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("default %s = %v, want %v", k, got[k], v)
		}
	}

	got, err = parseCollectorFlags("--no-collector.backups", "--collector.activity", "--collector.disk.interval=30m")
	if err != nil {
		t.Fatal(err)
	}
	if _, on := got["backups"]; on {
		t.Error("--no-collector.backups left backups on")
	}
	if got["activity"] != 15*time.Minute || got["disk"] != 30*time.Minute {
		t.Errorf("got %v", got)
	}

	for _, tc := range []struct{ arg, want string }{
		{"--collector.disk.interval=30s", "--collector.disk.interval=30s: must be between 1m0s and 24h0m0s"},
		{"--collector.usage.interval=25h", "--collector.usage.interval=25h: must be between"},
		{"--collector.apikey.interval=soon", `--collector.apikey.interval="soon"`},
	} {
		if _, err := parseCollectorFlags(tc.arg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.arg, err, tc.want)
		}
	}
}
