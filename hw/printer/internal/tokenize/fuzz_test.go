package tokenize

import (
	"testing"

	"github.com/posagent/posagent/hw/printer/escpos"
)

// FuzzParse: the tokenizer reads any byte stream without panicking, and a
// stream it accepts is accounted for byte by byte by its commands, in
// order.
func FuzzParse(f *testing.F) {
	e := escpos.NewEncoder(escpos.Profile80)
	e.Initialize()
	e.Text("Example Tea House\n")
	e.Cut(false)
	f.Add(e.Bytes())
	f.Add([]byte{0x1b, 0x40, 0x1d, 0x56, 0x00})
	f.Add([]byte{0x1d, 0x28, 0x6b, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		cmds, err := Parse(b)
		if err != nil {
			return
		}
		off := 0
		for _, c := range cmds {
			if c.Off != off || c.Len <= 0 {
				t.Fatalf("command at %d (len %d), want one starting at %d", c.Off, c.Len, off)
			}
			off += c.Len
		}
		if off != len(b) {
			t.Fatalf("commands cover %d of %d bytes", off, len(b))
		}
	})
}
