package virtual

import (
	"testing"

	"github.com/posagent/posagent/hw/printer/escpos"
	"github.com/posagent/posagent/hw/printer/printertest"
)

// FuzzRender: the virtual printer interprets any byte stream into a paper
// image of the profile's width, or refuses it; it never panics.
func FuzzRender(f *testing.F) {
	for _, n := range printertest.Receipts()[:2] {
		e := escpos.NewEncoder(escpos.Profile80)
		e.Initialize()
		e.Text(n.Name + "\n")
		e.Cut(false)
		f.Add(e.Bytes())
	}
	f.Add([]byte{0x1d, 0x76, 0x30, 0x00, 0xff, 0x00, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 1<<16 {
			return
		}
		img, err := Render(b, escpos.Profile80)
		if err != nil {
			return
		}
		if got, want := img.Bounds().Dx(), escpos.Profile80.Dots+2*margin; got != want {
			t.Fatalf("width %d, want %d", got, want)
		}
	})
}
