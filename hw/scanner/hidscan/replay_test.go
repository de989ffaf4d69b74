package hidscan

import (
	"bufio"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent/hw/scanner/framing"
)

// A recording (testdata/*.txt) is a scanner's report sequence and what it
// must produce:
//
//	protocol keyboard|hidpos     header lines configure the scanner
//	reportid N | suffix S | strip_aim | max_length N
//	r 00 00 1e 00 00 00 00 00    one input report, hex
//	gap 200ms                    silence
//	unplug                       the device fails (read error)
//	=> scan DATA [SYMBOLOGY]     expected, in order
//	=> drop REASON               a dropped code whose reason contains REASON
type recording struct {
	name  string
	opts  Options
	steps []step
	want  []string
}

type step struct {
	report []byte
	gap    time.Duration
	unplug bool
}

func loadRecordings(t *testing.T) []recording {
	t.Helper()
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recordings: %v", err)
	}
	var out []recording
	for _, f := range files {
		out = append(out, parseRecording(t, f))
	}
	return out
}

func parseRecording(t *testing.T, file string) recording {
	t.Helper()
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rec := recording{name: strings.TrimSuffix(filepath.Base(file), ".txt")}
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		word, arg, _ := strings.Cut(line, " ")
		bad := func(err error) {
			if err != nil {
				t.Fatalf("%s:%d: %v", file, n, err)
			}
		}
		switch word {
		case "", "#":
		case "protocol":
			rec.opts.Protocol = Protocol(arg)
		case "reportid":
			v, err := strconv.ParseUint(arg, 0, 8)
			bad(err)
			rec.opts.ReportID = byte(v)
		case "suffix":
			s, err := framing.ParseSuffix(arg)
			bad(err)
			rec.opts.Framing.Suffix = s
		case "strip_aim":
			rec.opts.Framing.StripAIM = true
		case "max_length":
			v, err := strconv.Atoi(arg)
			bad(err)
			rec.opts.Framing.MaxLen = v
		case "r":
			b, err := hex.DecodeString(strings.ReplaceAll(arg, " ", ""))
			bad(err)
			rec.steps = append(rec.steps, step{report: b})
		case "gap":
			d, err := time.ParseDuration(arg)
			bad(err)
			rec.steps = append(rec.steps, step{gap: d})
		case "unplug":
			rec.steps = append(rec.steps, step{unplug: true})
		case "=>":
			rec.want = append(rec.want, arg)
		default:
			if !strings.HasPrefix(line, "#") {
				t.Fatalf("%s:%d: unknown line %q", file, n, line)
			}
		}
	}
	if rec.opts.Protocol == "" {
		rec.opts.Protocol = Keyboard
	}
	return rec
}

// describe renders a frame as a recording's expectation line.
func describe(f framing.Frame) string {
	if f.Err != nil {
		return "drop " + f.Err.Error()
	}
	if f.Symbology != "" {
		return "scan " + f.Data + " " + f.Symbology
	}
	return "scan " + f.Data
}

// matches compares results with expectations: scans exactly, drops by
// substring of the reason.
func matches(want, got []string) bool {
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if strings.HasPrefix(want[i], "drop ") {
			if !strings.HasPrefix(got[i], "drop ") || !strings.Contains(got[i], strings.TrimPrefix(want[i], "drop ")) {
				return false
			}
		} else if want[i] != got[i] {
			return false
		}
	}
	return true
}

// TestRecordingsDecoders replays every recording through the decoders and
// the framer on a synthetic clock, a report a millisecond.
func TestRecordingsDecoders(t *testing.T) {
	for _, rec := range loadRecordings(t) {
		t.Run(rec.name, func(t *testing.T) {
			opts := rec.opts.withDefaults()
			fr, err := framing.New(opts.Framing)
			if err != nil {
				t.Fatal(err)
			}
			kb := &KeyboardDecoder{ReportID: opts.ReportID}
			pd := &POSDecoder{ReportID: opts.ReportID, MaxLen: fr.Options().MaxLen}
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			var got []string
			add := func(frs ...framing.Frame) {
				for _, f := range frs {
					got = append(got, describe(f))
				}
			}
			for _, st := range rec.steps {
				now = now.Add(time.Millisecond)
				switch {
				case st.gap > 0:
					now = now.Add(st.gap)
					add(fr.Expire(now)...)
				case st.unplug:
					add(fr.Abort()...)
					if f, ok := pd.Reset(); ok {
						add(f)
					}
					kb.Reset()
				case opts.Protocol == POS:
					if f, ok := pd.Decode(st.report); ok {
						add(f)
					}
				default:
					add(decodeKeys(kb, fr, st.report, now)...)
				}
			}
			add(fr.Expire(now.Add(time.Hour))...)
			if !matches(rec.want, got) {
				t.Errorf("%s:\n%s", rec.name, cmp.Diff(rec.want, got))
			}
		})
	}
}
