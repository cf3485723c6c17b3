package server

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNothingToReload is what a Reloader returns when the configuration has
// no file to read again.
var ErrNothingToReload = errors.New("nothing to reload: no --config.file and no --kinsta.api-key-file")

// ErrReloadInProgress is what a Reloader returns while another reload runs.
var ErrReloadInProgress = errors.New("a reload is in progress")

// reloadHandler is POST (or PUT) /-/reload, as Prometheus': off unless
// --web.enable-lifecycle (403 then, as Prometheus answers), since any
// caller, or a browser through a cross-site form, could trigger it; 200 when
// the new configuration is in use, 500 when the old one stays. The failure
// body is the same whatever failed: the reason names files and companies and
// would tell a caller which files exist, so it goes to the log only (the
// Reloader logs it).
type reloadHandler struct {
	reloader Reloader
	enabled  bool
}

func (h reloadHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "Method not allowed: use POST or PUT", http.StatusMethodNotAllowed)
		return
	}
	if !h.enabled {
		http.Error(w, "Lifecycle API is not enabled: start the exporter with --web.enable-lifecycle to reload over HTTP, or send it SIGHUP.", http.StatusForbidden)
		return
	}
	err := ErrNothingToReload
	if h.reloader != nil {
		err = h.reloader.Reload(fmt.Sprintf("%s /-/reload", r.Method))
	}
	switch {
	case errors.Is(err, ErrNothingToReload):
		fmt.Fprintln(w, "Nothing to reload: the exporter was started without --config.file or --kinsta.api-key-file.")
	case errors.Is(err, ErrReloadInProgress):
		http.Error(w, "A reload is in progress; try again when it is done.", http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, "Reloading failed; the previous configuration stays in use. The exporter's log says why.", http.StatusInternalServerError)
	default:
		fmt.Fprintln(w, "Reloaded")
	}
}
