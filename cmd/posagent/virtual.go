package main

import (
	"log/slog"

	"github.com/posagent/posagent/hw/scanner/ptyscan"
)

// newVirtualScanner is the demo's scanner: a pseudo-terminal whose path the
// demo prints, so `echo CODE > PATH` scans a code.
func newVirtualScanner(log *slog.Logger) (*ptyscan.Scanner, error) {
	return ptyscan.New(ptyscan.Options{Name: "virtual", Logger: log})
}
