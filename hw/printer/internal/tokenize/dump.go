package tokenize

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Dump writes b as annotated hex, one command per line ("1b 40 ; ESC @"),
// long data wrapped at 32 bytes a line. It is the format of the golden
// files: exact bytes, readable diffs. Bytes that do not parse are dumped
// after a "; unparsed" line, so a broken stream still has a golden.
func Dump(b []byte) string {
	cmds, err := Parse(b)
	var s strings.Builder
	end := 0
	for _, c := range cmds {
		if c.Op == Raster {
			// The header on one line, then each row on its own: the golden
			// file shows the image.
			writeHex(&s, b[c.Off:c.Off+8], 0)
			fmt.Fprintf(&s, " ; %s\n", c)
			for y := 0; y < c.Args[2]; y++ {
				s.WriteString("   ")
				writeHex(&s, c.Data[y*c.Args[1]:(y+1)*c.Args[1]], 0)
				s.WriteByte('\n')
			}
			end = c.Off + c.Len
			continue
		}
		writeHex(&s, b[c.Off:c.Off+c.Len], 32)
		fmt.Fprintf(&s, " ; %s\n", c)
		end = c.Off + c.Len
	}
	if err != nil {
		fmt.Fprintf(&s, "; unparsed: %v\n", err)
		writeHex(&s, b[end:], 32)
		s.WriteByte('\n')
	}
	return s.String()
}

// writeHex writes b as hex, wrapped every wrap bytes (never when 0).
func writeHex(s *strings.Builder, b []byte, wrap int) {
	for i := 0; i < len(b); i++ {
		if i > 0 {
			if wrap > 0 && i%wrap == 0 {
				s.WriteString("\n   ")
			}
			s.WriteByte(' ')
		}
		s.WriteString(hex.EncodeToString(b[i : i+1]))
	}
}

// Undump reads Dump's format back: hex bytes, ignoring everything from a
// ';' to the end of its line.
func Undump(text string) ([]byte, error) {
	var out []byte
	for n, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		for _, f := range strings.Fields(line) {
			v, err := hex.DecodeString(f)
			if err != nil {
				return nil, fmt.Errorf("line %d: %v", n+1, err)
			}
			out = append(out, v...)
		}
	}
	return out, nil
}
