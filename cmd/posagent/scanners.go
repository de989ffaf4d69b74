package main

import (
	"fmt"
	"log/slog"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/evdevscan"
	"github.com/posagent/posagent/hw/scanner/hidscan"
	"github.com/posagent/posagent/hw/scanner/serialscan"
)

// scannerKinds builds one configured scanner by kind. Each implementation
// tags its own log lines with the scanner's name.
var scannerKinds = map[string]func(sc configs.Section, log *slog.Logger) (scanner.Scanner, error){
	"serial": func(sc configs.Section, log *slog.Logger) (scanner.Scanner, error) {
		var o serialscan.Options
		if err := sc.Decode(&o); err != nil {
			return nil, err
		}
		o.Name, o.Logger = sc.Name, log
		return serialscan.New(o)
	},
	"hid": func(sc configs.Section, log *slog.Logger) (scanner.Scanner, error) {
		var o hidscan.Options
		if err := sc.Decode(&o); err != nil {
			return nil, err
		}
		o.Name, o.Logger = sc.Name, log
		return hidscan.New(o)
	},
	"evdev": func(sc configs.Section, log *slog.Logger) (scanner.Scanner, error) {
		var o evdevscan.Options
		if err := sc.Decode(&o); err != nil {
			return nil, err
		}
		o.Name, o.Logger = sc.Name, log
		return evdevscan.New(o)
	},
}

// buildScanners opens every configured scanner. They reconnect by
// themselves, so a scanner unplugged at start is not an error; a bad
// option is.
func buildScanners(cfg *configs.Config, log *slog.Logger) ([]scanner.Scanner, error) {
	// Said at every start, so a build without cgo (no libusb) is plain
	// from the log even before an HID scanner is configured.
	if hidscan.Supported() {
		log.Info("USB-HID scanners supported (libusb)")
	} else {
		log.Warn("USB-HID scanners unavailable in this build (built without cgo); use serial or evdev scanners")
	}
	var out []scanner.Scanner
	for i, sc := range cfg.Scanners {
		build, ok := scannerKinds[sc.Kind]
		if !ok {
			closeAll(out)
			return nil, fmt.Errorf("scanners[%d] (%s): kind %q is not one of serial, hid, evdev", i, sc.Name, sc.Kind)
		}
		s, err := build(sc, log)
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("scanners[%d] (%s): %w", i, sc.Name, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func closeAll(ss []scanner.Scanner) {
	for _, s := range ss {
		_ = s.Close()
	}
}
