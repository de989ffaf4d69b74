package escpos

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent/hw/printer"
)

// TestParseStatus reads answers as recorded from printers (DLE EOT 1, 2, 4).
func TestParseStatus(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want printer.Status
	}{
		{"ready", []byte{0x12, 0x12, 0x12}, printer.Status{Online: true}},
		{"drawer pin high is not a problem", []byte{0x16, 0x12, 0x12}, printer.Status{Online: true}},
		{"cover open", []byte{0x1a, 0x16, 0x12}, printer.Status{CoverOpen: true, Detail: "offline, cover open"}},
		{"paper near end", []byte{0x12, 0x12, 0x1e}, printer.Status{Online: true, PaperNearEnd: true, Detail: "paper near end"}},
		{"paper out", []byte{0x1a, 0x32, 0x7e}, printer.Status{PaperOut: true, PaperNearEnd: true, Detail: "offline, paper out, paper near end"}},
		{"roll sensor says out while still online", []byte{0x12, 0x12, 0x72}, printer.Status{Online: true, PaperOut: true, Detail: "paper out"}},
		{"error", []byte{0x1a, 0x52, 0x12}, printer.Status{Error: true, Detail: "offline, error"}},
		{"feed button", []byte{0x1a, 0x1a, 0x12}, printer.Status{Detail: "offline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatus(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if got.Ready() != (tt.want.Online && !tt.want.CoverOpen && !tt.want.PaperOut && !tt.want.Error) {
				t.Errorf("Ready() = %v", got.Ready())
			}
		})
	}
}

func TestParseStatusRefusesNoise(t *testing.T) {
	for _, in := range [][]byte{{0x12, 0x12}, {0xff, 0x12, 0x12}, {0x12, 0x00, 0x12}, {0x12, 0x12, 0x13}} {
		if _, err := ParseStatus(in); err == nil {
			t.Errorf("ParseStatus(% x): no error", in)
		}
	}
}
