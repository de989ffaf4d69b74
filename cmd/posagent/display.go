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
	"github.com/posagent/posagent/hw/display/poledisplay"
	"github.com/posagent/posagent/hw/display/termdisplay"
	"github.com/posagent/posagent/hw/display/webdisplay"
)

// displaySetup is the configured customer displays, read and checked
// before anything listens (so `serve --check` checks them) and started
// once the state directory's lock is held.
type displaySetup struct {
	terminal bool
	web      *webdisplay.Options // nil: no web display
	poles    []poledisplay.Options
}

// displayKinds are the values of display.kind.
const displayKinds = "terminal, web, pole, both, none"

// parseDisplay reads the display sections. kind terminal writes screens to
// stderr; web serves them as a page (options: webdisplay.Options, title
// defaulting to receipt.merchant_name); pole drives a serial pole display
// (poledisplay.Options, title likewise); both is terminal and web, with
// the web options; none, or no section, shows nothing. Several sections
// show every screen on each; one web page at most (it has one address).
func parseDisplay(cfg *configs.Config) (displaySetup, error) {
	var s displaySetup
	for i, sec := range cfg.Display {
		field := "display"
		if len(cfg.Display) > 1 {
			field = fmt.Sprintf("display[%d]", i)
		}
		switch sec.Kind {
		case "none":
			continue
		case "terminal":
			s.terminal = true
			continue
		case "pole":
			var o poledisplay.Options
			if err := sec.Decode(&o); err != nil {
				return s, fmt.Errorf("%s.options: %w", field, err)
			}
			if err := o.Validate(); err != nil {
				return s, fmt.Errorf("%s.options: %w", field, err)
			}
			if o.Title == "" {
				o.Title = cfg.Receipt.MerchantName
			}
			s.poles = append(s.poles, o)
			continue
		case "web", "both":
			s.terminal = s.terminal || sec.Kind == "both"
		default:
			return s, fmt.Errorf("%s.kind %q is not one of %s", field, sec.Kind, displayKinds)
		}
		if s.web != nil {
			return s, fmt.Errorf("%s.kind %s: a second web display (one page serves every browser)", field, sec.Kind)
		}
		var o webdisplay.Options
		if err := sec.Decode(&o); err != nil {
			return s, fmt.Errorf("%s.options: %w", field, err)
		}
		if err := o.Validate(); err != nil {
			return s, fmt.Errorf("%s.options: %w", field, err)
		}
		if o.Title == "" {
			o.Title = cfg.Receipt.MerchantName
		}
		s.web = &o
	}
	return s, nil
}

// start builds the displays; the web display's server, when there is one,
// is returned to be closed and announced. Pole displays are closed with
// the process.
func (s displaySetup) start(stderr io.Writer, log *slog.Logger) (display.Display, *webdisplay.Server, error) {
	var ds []display.Display
	if s.terminal {
		ds = append(ds, termdisplay.New(stderr, ""))
	}
	for _, o := range s.poles {
		o.Logger = log.With("component", "display", "port", o.Port)
		p, err := poledisplay.New(o)
		if err != nil {
			return nil, nil, fmt.Errorf("display: %w", err)
		}
		ds = append(ds, p)
	}
	if s.web == nil {
		return display.Multi(ds...), nil, nil
	}
	o := *s.web
	o.Logger = log.With("component", "display")
	web, err := webdisplay.Start(o)
	if err != nil {
		return nil, nil, fmt.Errorf("display: %w", err)
	}
	log.Info("customer display", "url", web.URL())
	return display.Multi(append(ds, web)...), web, nil
}

// startDemoDisplay runs the demo's displays: the terminal one and a web
// page on listen ("" or "none": no page). When listen is the default and
// that port is taken (another demo, a test), the page moves to a free
// loopback port rather than failing the demo; an address given on the
// command line must be free.
func startDemoDisplay(listen string, explicit bool, title string, rates display.Rates, stderr io.Writer, log *slog.Logger) (display.Display, *webdisplay.Server, error) {
	if listen == "" || listen == "none" {
		return termdisplay.New(stderr, ""), nil, nil
	}
	o := webdisplay.Options{Listen: listen, Title: title, RateSource: rates}
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
