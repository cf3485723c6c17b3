package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type reloaderFunc func(string) error

func (f reloaderFunc) Reload(trigger string) error { return f(trigger) }

func TestReloadAnswers(t *testing.T) {
	secret := errors.New(`config "/etc/kinsta_exporter/kinsta.yml": companies[1] (id "acme-1234"): api_key_file "/root/.ssh/id_rsa": permission denied`)
	for _, tc := range []struct {
		name     string
		reloader Reloader
		code     int
		body     string
	}{
		{"nothing to reload", nil, 200, "Nothing to reload"},
		{"no file", reloaderFunc(func(string) error { return ErrNothingToReload }), 200, "Nothing to reload"},
		{"in progress", reloaderFunc(func(string) error { return ErrReloadInProgress }), 503, "in progress"},
		{"failed", reloaderFunc(func(string) error { return secret }), 500, "previous configuration stays in use. The exporter's log says why.\n"},
		{"reloaded", reloaderFunc(func(string) error { return nil }), 200, "Reloaded"},
	} {
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			w := httptest.NewRecorder()
			reloadHandler{tc.reloader, true}.ServeHTTP(w, httptest.NewRequest(method, "/-/reload", nil))
			if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) {
				t.Errorf("%s %s: %d %q, want %d and %q", method, tc.name, w.Code, w.Body, tc.code, tc.body)
			}
			// The failure's details stay in the log: no path, no company id.
			for _, leak := range []string{"/etc", "/root", "acme-1234", "kinsta.yml", "permission"} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("%s %s: the answer shows %q: %q", method, tc.name, leak, w.Body)
				}
			}
		}
	}
}

// TestReloadNeedsLifecycle: without --web.enable-lifecycle /-/reload
// answers 403 as Prometheus does, and never reloads.
func TestReloadNeedsLifecycle(t *testing.T) {
	reloads := 0
	r := reloaderFunc(func(string) error { reloads++; return nil })
	for _, method := range []string{http.MethodPost, http.MethodPut} {
		w := httptest.NewRecorder()
		reloadHandler{r, false}.ServeHTTP(w, httptest.NewRequest(method, "/-/reload", nil))
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "--web.enable-lifecycle") ||
			strings.Count(strings.TrimSpace(w.Body.String()), "\n") != 0 {
			t.Errorf("%s without the flag: %d %q, want 403 and one line naming --web.enable-lifecycle", method, w.Code, w.Body)
		}
	}
	w := httptest.NewRecorder()
	reloadHandler{r, false}.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/-/reload", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", w.Code)
	}
	if reloads != 0 {
		t.Errorf("%d reloads without the flag", reloads)
	}
}
