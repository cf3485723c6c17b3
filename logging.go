package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/go-kit/log"
	"github.com/go-kit/log/level"
)

// newLogger returns the exporter's go-kit logger and, for libraries that
// log through log/slog (exporter-toolkit, net/http's error log), a
// *slog.Logger writing through the same one: every line of the process
// comes in one format with level, ts, caller and msg once each, in that
// order, the caller being the real call site.
func newLogger(format, lvl string) (log.Logger, *slog.Logger) {
	var base log.Logger
	if format == "json" {
		base = log.NewJSONLogger(log.NewSyncWriter(os.Stderr))
	} else {
		base = log.NewLogfmtLogger(log.NewSyncWriter(os.Stderr))
	}
	filtered := level.NewFilter(base, level.Allow(level.ParseDefault(lvl, level.InfoValue())))
	logger := log.With(filtered, "ts", log.DefaultTimestampUTC, "caller", log.DefaultCaller)
	return logger, slog.New(&slogHandler{next: filtered})
}

// slogHandler is a slog.Handler over a go-kit logger that has no ts or
// caller of its own: it writes them from the record, as the exporter's own
// lines have them. (A generic bridge writes the bridge's own call site and
// both the record's time and go-kit's.)
type slogHandler struct {
	next   log.Logger
	attrs  []any // key-value pairs of WithAttrs, keys already prefixed
	prefix string
}

// Enabled leaves the decision to the go-kit level filter.
func (h *slogHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *slogHandler) Handle(_ context.Context, r slog.Record) error {
	kv := make([]any, 0, 8+len(h.attrs)+2*r.NumAttrs())
	kv = append(kv, level.Key(), levelValue(r.Level), "ts", r.Time.UTC().Format(time.RFC3339Nano),
		"caller", caller(r.PC), "msg", r.Message)
	kv = append(kv, h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		kv = appendAttr(kv, h.prefix, a)
		return true
	})
	return h.next.Log(kv...)
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]any(nil), h.attrs...)
	for _, a := range attrs {
		c.attrs = appendAttr(c.attrs, h.prefix, a)
	}
	return &c
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix = h.prefix + name + "."
	return &c
}

func appendAttr(kv []any, prefix string, a slog.Attr) []any {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, g := range v.Group() {
			kv = appendAttr(kv, prefix+a.Key+".", g)
		}
		return kv
	}
	if a.Key == "" {
		return kv
	}
	return append(kv, prefix+a.Key, v.Any())
}

func levelValue(l slog.Level) level.Value {
	switch {
	case l >= slog.LevelError:
		return level.ErrorValue()
	case l >= slog.LevelWarn:
		return level.WarnValue()
	case l >= slog.LevelInfo:
		return level.InfoValue()
	}
	return level.DebugValue()
}

// caller is file:line of pc, as go-kit's log.DefaultCaller writes it.
func caller(pc uintptr) string {
	if pc == 0 {
		return "unknown"
	}
	f, _ := runtime.CallersFrames([]uintptr{pc}).Next()
	return filepath.Base(f.File) + ":" + strconv.Itoa(f.Line)
}
