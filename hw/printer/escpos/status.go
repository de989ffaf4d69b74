package escpos

import (
	"fmt"
	"strings"

	"github.com/posagent/posagent/hw/printer"
)

// StatusQuery asks for the three real-time statuses Status reads, in one
// write: DLE EOT 1 (printer), DLE EOT 2 (offline cause), DLE EOT 4 (paper
// roll sensor). The printer answers one byte each, in order, even when it
// is offline or out of paper.
var StatusQuery = []byte{DLE, EOT, 1, DLE, EOT, 2, DLE, EOT, 4}

// The bits of the real-time status bytes (Epson DLE EOT).
const (
	stOffline      = 0x08 // n=1: bit 3, offline
	stCoverOpen    = 0x04 // n=2: bit 2, cover open
	stPaperStop    = 0x20 // n=2: bit 5, printing stopped by paper end
	stError        = 0x40 // n=2: bit 6, an error occurred
	stNearEnd      = 0x0c // n=4: bits 2 and 3, roll near-end sensor
	stPaperOut     = 0x60 // n=4: bits 5 and 6, roll end sensor
	stFixedMask    = 0x93 // bits 0, 1, 4, 7
	stFixedPattern = 0x12 // bits 1 and 4 set, 0 and 7 clear
)

// ParseStatus reads the answers to StatusQuery. A byte whose fixed bits
// are wrong is not a status answer (noise, or automatic status back
// interleaved) and is an error rather than a guess.
func ParseStatus(b []byte) (printer.Status, error) {
	if len(b) != 3 {
		return printer.Status{}, fmt.Errorf("escpos: status answer of %d bytes, want 3", len(b))
	}
	for i, n := range []int{1, 2, 4} {
		if b[i]&stFixedMask != stFixedPattern {
			return printer.Status{}, fmt.Errorf("escpos: DLE EOT %d answer %#02x is not a status byte", n, b[i])
		}
	}
	st := printer.Status{
		Online:       b[0]&stOffline == 0,
		CoverOpen:    b[1]&stCoverOpen != 0,
		PaperOut:     b[1]&stPaperStop != 0 || b[2]&stPaperOut == stPaperOut,
		PaperNearEnd: b[2]&stNearEnd == stNearEnd,
		Error:        b[1]&stError != 0,
	}
	st.Detail = strings.Join(st.Problems(), ", ")
	return st, nil
}
