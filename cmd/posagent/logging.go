package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
)

// newLogger builds the process's logger: format "text" (logfmt, for a
// terminal) or "json" (one object per line, for journald and log
// shippers). Secrets redact themselves in both (slog.LogValuer), and no key
// appears twice on a line (uniqueAttrs).
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	o := &slog.HandlerOptions{Level: l}
	var h slog.Handler
	switch format {
	case "", "text":
		h = slog.NewTextHandler(w, o)
	case "json":
		h = slog.NewJSONHandler(w, o)
	default:
		return nil, fmt.Errorf("log format %q: want text or json", format)
	}
	return slog.New(&uniqueAttrs{inner: h}), nil
}

// uniqueAttrs drops an attribute whose key the line already has, so that a
// logger passed down with With("gateway", name) to a package that adds its
// own With("gateway", kind) does not print "gateway=a gateway=b" (which a
// JSON reader would resolve to either). The outermost value wins: the
// wiring names things, libraries refine.
type uniqueAttrs struct {
	inner  slog.Handler
	seen   map[string]bool // keys added by With, qualified by group
	prefix string          // the open groups, "a.b."
}

func (h *uniqueAttrs) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *uniqueAttrs) WithAttrs(as []slog.Attr) slog.Handler {
	seen := maps.Clone(h.seen)
	if seen == nil {
		seen = map[string]bool{}
	}
	keep := make([]slog.Attr, 0, len(as))
	for _, a := range as {
		k := h.prefix + a.Key
		if seen[k] {
			continue
		}
		seen[k] = true
		keep = append(keep, a)
	}
	return &uniqueAttrs{inner: h.inner.WithAttrs(keep), seen: seen, prefix: h.prefix}
}

func (h *uniqueAttrs) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &uniqueAttrs{inner: h.inner.WithGroup(name), seen: h.seen, prefix: h.prefix + name + "."}
}

func (h *uniqueAttrs) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	line := map[string]bool{}
	r.Attrs(func(a slog.Attr) bool {
		k := h.prefix + a.Key
		if !h.seen[k] && !line[k] {
			line[k] = true
			out.AddAttrs(a)
		}
		return true
	})
	return h.inner.Handle(ctx, out)
}
