package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"syscall"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/hw/display/termdisplay"
	"github.com/posagent/posagent/hw/display/webdisplay"
)

// displaySetup is the configured customer display, read and checked
// before anything listens (so `serve --check` checks it) and started once
// the state directory's lock is held.
type displaySetup struct {
	terminal bool
	web      *webdisplay.Options // nil: no web display
}

// displayKinds are the values of display.kind.
const displayKinds = "terminal, web, both, none"

// parseDisplay reads the display section. kind terminal writes screens to
// stderr; web serves them as a page (options: webdisplay.Options, title
// defaulting to receipt.merchant_name); both does the two at once, with
// the web options; none, or no section, shows nothing.
func parseDisplay(cfg *configs.Config) (displaySetup, error) {
	if cfg.Display == nil {
		return displaySetup{}, nil
	}
	var s displaySetup
	switch cfg.Display.Kind {
	case "none":
		return s, nil
	case "terminal":
		s.terminal = true
		return s, nil
	case "web", "both":
		s.terminal = cfg.Display.Kind == "both"
	default:
		return s, fmt.Errorf("display.kind %q is not one of %s", cfg.Display.Kind, displayKinds)
	}
	var o webdisplay.Options
	if err := cfg.Display.Decode(&o); err != nil {
		return s, fmt.Errorf("display.options: %w", err)
	}
	if err := o.Validate(); err != nil {
		return s, fmt.Errorf("display.options: %w", err)
	}
	if o.Title == "" {
		o.Title = cfg.Receipt.MerchantName
	}
	s.web = &o
	return s, nil
}

// start builds the displays; the web display's server, when there is one,
// is returned to be closed and announced.
func (s displaySetup) start(stderr io.Writer, log *slog.Logger) (display.Display, *webdisplay.Server, error) {
	var term display.Display
	if s.terminal {
		term = termdisplay.New(stderr, "")
	}
	if s.web == nil {
		return term, nil, nil
	}
	o := *s.web
	o.Logger = log.With("component", "display")
	web, err := webdisplay.Start(o)
	if err != nil {
		return nil, nil, fmt.Errorf("display: %w", err)
	}
	log.Info("customer display", "url", web.URL())
	return display.Multi(term, web), web, nil
}

// startDemoDisplay runs the demo's displays: the terminal one and a web
// page on listen ("" or "none": no page). When listen is the default and
// that port is taken (another demo, a test), the page moves to a free
// loopback port rather than failing the demo; an address given on the
// command line must be free.
func startDemoDisplay(listen string, explicit bool, title string, stderr io.Writer, log *slog.Logger) (display.Display, *webdisplay.Server, error) {
	if listen == "" || listen == "none" {
		return termdisplay.New(stderr, ""), nil, nil
	}
	o := webdisplay.Options{Listen: listen, Title: title}
	s := displaySetup{terminal: true, web: &o}
	d, web, err := s.start(stderr, log)
	if err != nil && !explicit && errors.Is(err, syscall.EADDRINUSE) {
		log.Warn("customer display port taken; using a free one", "listen", listen)
		o.Listen = "127.0.0.1:0"
		d, web, err = s.start(stderr, log)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--display-listen: %w", err)
	}
	return d, web, nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
