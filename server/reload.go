package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/go-kit/log"
)

// ErrNothingToReload is what a Reloader returns when the configuration has
// no file to read again.
var ErrNothingToReload = errors.New("nothing to reload: no --config.file and no --kinsta.api-key-file")

// ErrReloadInProgress is what a Reloader returns while another reload runs.
var ErrReloadInProgress = errors.New("a reload is in progress")

// reloadHandler is POST /-/reload, as Prometheus': 200 when the new
// configuration is in use, 500 with the reason when the old one stays.
type reloadHandler struct {
	reloader Reloader
	logger   log.Logger
}

func (h reloadHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "Method not allowed: use POST", http.StatusMethodNotAllowed)
		return
	}
	err := ErrNothingToReload
	if h.reloader != nil {
		err = h.reloader.Reload("POST /-/reload")
	}
	switch {
	case errors.Is(err, ErrNothingToReload):
		fmt.Fprintln(w, "Nothing to reload: the exporter was started without --config.file or --kinsta.api-key-file.")
	case errors.Is(err, ErrReloadInProgress):
		http.Error(w, "A reload is in progress; try again when it is done.", http.StatusServiceUnavailable)
	case err != nil:
		http.Error(w, fmt.Sprintf("Reloading failed, the previous configuration stays in use: %v", err), http.StatusInternalServerError)
	default:
		fmt.Fprintln(w, "Reloaded")
	}
}
