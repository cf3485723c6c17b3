package server

import "testing"

// TestSDFallbackHost: a request that names no host gets the address the
// exporter listens on, not a fixed default.
func TestSDFallbackHost(t *testing.T) {
	for _, tc := range []struct {
		listen []string
		want   string
	}{
		{[]string{":10055"}, "localhost:10055"},
		{[]string{"0.0.0.0:9999"}, "localhost:9999"},
		{[]string{"[::]:9999"}, "localhost:9999"},
		{[]string{"127.0.0.2:8080", ":1"}, "127.0.0.2:8080"},
		{[]string{"exporter.internal:7000"}, "exporter.internal:7000"},
		{nil, "localhost"},
	} {
		if got := (sdHandler{Options{ListenAddresses: tc.listen}}).fallbackHost(); got != tc.want {
			t.Errorf("listening on %q: %q, want %q", tc.listen, got, tc.want)
		}
	}
}
