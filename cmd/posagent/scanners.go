package main

import (
	"fmt"
	"log/slog"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/serialscan"
)

// buildScanners opens every configured scanner. They reconnect by
// themselves, so a scanner unplugged at start is not an error.
func buildScanners(cfg *configs.Config, log *slog.Logger) ([]scanner.Scanner, error) {
	var out []scanner.Scanner
	for i, sc := range cfg.Scanners {
		field := fmt.Sprintf("scanners[%d] (%s)", i, sc.Name)
		switch sc.Kind {
		case "serial":
			var o serialscan.Options
			if err := sc.Decode(&o); err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			o.Name = sc.Name
			o.Logger = log.With("scanner", sc.Name)
			s, err := serialscan.New(o)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			out = append(out, s)
		default:
			return nil, fmt.Errorf("%s: kind %q is not one of: serial", field, sc.Kind)
		}
	}
	return out, nil
}
