package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-kit/log"
)

type reloaderFunc func(string) error

func (f reloaderFunc) Reload(trigger string) error { return f(trigger) }

func TestReloadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		reloader Reloader
		code     int
		body     string
	}{
		{"nothing to reload", nil, 200, "Nothing to reload"},
		{"no file", reloaderFunc(func(string) error { return ErrNothingToReload }), 200, "Nothing to reload"},
		{"in progress", reloaderFunc(func(string) error { return ErrReloadInProgress }), 503, "in progress"},
		{"failed", reloaderFunc(func(string) error { return errors.New("bad file") }), 500, "previous configuration"},
		{"reloaded", reloaderFunc(func(string) error { return nil }), 200, "Reloaded"},
	} {
		w := httptest.NewRecorder()
		reloadHandler{tc.reloader, log.NewNopLogger()}.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) {
			t.Errorf("%s: %d %q, want %d and %q", tc.name, w.Code, w.Body, tc.code, tc.body)
		}
	}
}
