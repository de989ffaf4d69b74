package escpos

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/posagent/posagent/hw/printer/internal/tokenize"
)

// TestCrosscheck compares every command in the golden files that
// @point-of-sale/receipt-printer-encoder also emits with what it emits, and
// records the outcome in testdata/crosscheck.txt. It needs Node and
// `npm install` in scripts/escpos-crosscheck, so it runs only with
// POSAGENT_CROSSCHECK=1; CI relies on the committed goldens.
func TestCrosscheck(t *testing.T) {
	if os.Getenv("POSAGENT_CROSSCHECK") == "" {
		t.Skip("set POSAGENT_CROSSCHECK=1 (and npm install in scripts/escpos-crosscheck) to run")
	}
	dir, _ := filepath.Abs("../../../scripts/escpos-crosscheck")

	type job struct {
		ID     string `json:"id"`
		Op     string `json:"op"`
		W      int    `json:"w,omitempty"`
		H      int    `json:"h,omitempty"`
		Data   string `json:"data,omitempty"`
		Size   int    `json:"size,omitempty"`
		Level  int    `json:"level,omitempty"`
		Width  int    `json:"width,omitempty"`
		Height int    `json:"height,omitempty"`
		Bits   string `json:"bits,omitempty"`
		Align  string `json:"align,omitempty"`
		Part   bool   `json:"partial,omitempty"`
		Name   string `json:"name,omitempty"`
		Text   string `json:"text,omitempty"`
		HRI    bool   `json:"hri,omitempty"`
	}
	ours := map[string][]byte{} // job id -> our bytes, expected inside theirs
	var jobs []job
	add := func(j job, b []byte) {
		if _, dup := ours[j.ID]; dup {
			return
		}
		ours[j.ID] = bytes.Clone(b)
		jobs = append(jobs, j)
	}
	only := map[tokenize.Op]bool{} // commands of ours the other encoder lacks

	files, _ := filepath.Glob("testdata/golden/*.hex")
	for _, f := range files {
		text, _ := os.ReadFile(f)
		stream, err := tokenize.Undump(string(text))
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := tokenize.Parse(stream)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(cmds); i++ {
			c := cmds[i]
			raw := stream[c.Off : c.Off+c.Len]
			switch c.Op {
			case tokenize.Init:
				add(job{ID: "ESC @", Op: "initialize"}, raw)
			case tokenize.Bold:
				add(job{ID: fmt.Sprintf("ESC E %d", c.Args[0]), Op: "bold"}, raw)
			case tokenize.Underline:
				add(job{ID: fmt.Sprintf("ESC - %d", c.Args[0]), Op: "underline"}, raw)
			case tokenize.Size:
				w, h := c.Args[0]>>4+1, c.Args[0]&7+1
				if w == 1 && h == 1 {
					w, h = 2, 2 // it emits GS ! 0 only when leaving a size
				}
				add(job{ID: fmt.Sprintf("GS ! %d", c.Args[0]), Op: "size", W: w, H: h}, raw)
			case tokenize.QR:
				// The five functions from model to print are one job.
				if c.Args[1] != 65 || i+4 >= len(cmds) {
					continue
				}
				last := cmds[i+4]
				group := stream[c.Off : last.Off+last.Len]
				add(job{ID: "GS ( k " + string(cmds[i+3].Data), Op: "qr", Data: string(cmds[i+3].Data), Size: cmds[i+1].Args[2], Level: cmds[i+2].Args[2]}, group)
				i += 4
			case tokenize.Raster:
				if c.Args[2]%8 != 0 {
					// The other encoder pads images to a multiple of 8 rows.
					only[c.Op+" (height not a multiple of 8)"] = true
					continue
				}
				add(job{ID: fmt.Sprintf("GS v 0 %dx%d %s", c.Args[1]*8, c.Args[2], f), Op: "raster", Width: c.Args[1] * 8, Height: c.Args[2], Bits: hex.EncodeToString(c.Data)}, raw)
			case tokenize.Align:
				if i+1 < len(cmds) && cmds[i+1].Op == tokenize.Raster {
					name := []string{"left", "center", "right"}[c.Args[0]]
					add(job{ID: "ESC a " + name + " (image)", Op: "alignImage", Align: name}, raw)
				} else {
					only[c.Op+" (text: the other encoder pads with spaces)"] = true
				}
			case tokenize.Cut:
				only["GS V 65/66 n (feed and cut)"] = true
			case tokenize.CodePage:
				// Compared below on its own, with a character from the page.
			default:
				only[c.Op] = true
			}
		}
	}
	// Commands the receipts do not use but the encoder has.
	e := NewEncoder(Profile80)
	e.Cut(false)
	add(job{ID: "GS V 0", Op: "cut"}, e.Bytes())
	e.Reset()
	e.Cut(true)
	add(job{ID: "GS V 1", Op: "cut", Part: true}, e.Bytes())
	e.Reset()
	_ = e.KickDrawer(0, 25, 250)
	add(job{ID: "ESC p 0 25 250", Op: "pulse"}, e.Bytes())
	for _, tc := range []struct{ name, text string }{{"cp437", "é"}, {"windows1252", "€"}} {
		e.Reset()
		e.chinese = modeOff
		e.Text(tc.text)
		add(job{ID: "ESC t + " + tc.name, Op: "codepage", Name: tc.name, Text: tc.text}, e.Bytes())
	}
	e.Reset()
	_ = e.Code128("PA2025", BarcodeOptions{Height: 80, Module: 3, HRI: true})
	add(job{ID: "GS k CODE128 PA2025", Op: "barcode", Data: "PA2025", Height: 80, Width: 3, HRI: true}, e.Bytes())

	in, _ := json.Marshal(jobs)
	cmd := exec.Command("node", "crosscheck.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node crosscheck.mjs: %v (did you npm install in %s?)", err, dir)
	}
	var report []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var r struct{ ID, Hex, Error string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		id := r.ID
		if i := strings.Index(id, " testdata/"); i >= 0 {
			id = id[:i] // one line per image size is enough in the record
		}
		if r.Error != "" {
			t.Errorf("%s: %s", r.ID, r.Error)
			continue
		}
		theirs, _ := hex.DecodeString(r.Hex)
		verdict := "same bytes"
		if !bytes.Contains(theirs, ours[r.ID]) {
			verdict = "DIFFERENT: ours " + hex.EncodeToString(ours[r.ID]) + ", theirs " + r.Hex
			if r.ID == "GS k CODE128 PA2025" {
				// Known: it maps width 3 to GS w 4 (its own scale); the
				// command shape and data are the reference's.
				verdict = "differs as expected (module width scale): ours " + hex.EncodeToString(ours[r.ID]) + ", theirs " + r.Hex
			} else {
				t.Errorf("%s: ours % x not in theirs % x", r.ID, ours[r.ID], theirs)
			}
		}
		report = append(report, fmt.Sprintf("%-32s %s", id, verdict))
	}
	sort.Strings(report)
	report = dedupe(report)
	var onlyOurs []string
	for op := range only {
		onlyOurs = append(onlyOurs, "  "+string(op))
	}
	sort.Strings(onlyOurs)
	rec := "# Golden ESC/POS commands checked against @point-of-sale/receipt-printer-encoder 4.0.1\n" +
		"# (POSAGENT_CROSSCHECK=1 go test -run Crosscheck ./hw/printer/escpos). Our command bytes\n" +
		"# must appear exactly in its output for the same command.\n\n" +
		strings.Join(report, "\n") + "\n\n# Not compared (the other encoder does not emit them, or not this way):\n" +
		strings.Join(onlyOurs, "\n") + "\n"
	if err := os.WriteFile("testdata/crosscheck.txt", []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
