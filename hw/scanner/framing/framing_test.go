package framing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// chunk is bytes arriving after a gap since the previous chunk.
type chunk struct {
	gap  time.Duration
	data string
}

// got is a frame reduced to what a test compares.
type got struct {
	Data, Sym string
	Err       error
}

func run(t *testing.T, opts Options, chunks []chunk, end time.Duration) []got {
	t.Helper()
	f, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	var out []got
	collect := func(frs []Frame) {
		for _, fr := range frs {
			out = append(out, got{fr.Data, fr.Symbology, fr.Err})
		}
	}
	for _, c := range chunks {
		now = now.Add(c.gap)
		collect(f.Feed([]byte(c.data), now))
	}
	collect(f.Expire(now.Add(end)))
	return out
}

func TestFramer(t *testing.T) {
	code := "134567890123456789"
	ms := time.Millisecond
	tests := []struct {
		name   string
		opts   Options
		chunks []chunk
		end    time.Duration // silence after the last chunk
		want   []got
	}{
		{"cr", Options{}, []chunk{{0, code + "\r"}}, 0, []got{{Data: code}}},
		{"cr split across reads", Options{}, []chunk{{0, code[:5]}, {ms, code[5:]}, {ms, "\r"}}, 0, []got{{Data: code}}},
		{"two codes in one read", Options{}, []chunk{{0, "111\r222\r"}}, 0, []got{{Data: "111"}, {Data: "222"}}},
		{"lf", Options{Suffix: SuffixLF}, []chunk{{0, code + "\n"}}, 0, []got{{Data: code}}},
		// suffix auto (the default): CR, LF or CRLF end a code; a CR LF
		// pair is one terminator; never an empty or a joined scan.
		{"auto cr", Options{Suffix: SuffixAuto}, []chunk{{0, code + "\r"}}, 0, []got{{Data: code}}},
		{"auto lf", Options{Suffix: SuffixAuto}, []chunk{{0, code + "\n"}}, 0, []got{{Data: code}}},
		{"auto crlf", Options{Suffix: SuffixAuto}, []chunk{{0, code + "\r\n"}}, 0, []got{{Data: code}}},
		{"auto crlf split between reads", Options{Suffix: SuffixAuto}, []chunk{{0, code + "\r"}, {50 * ms, "\n"}, {ms, "222\r\n"}}, 0, []got{{Data: code}, {Data: "222"}}},
		{"auto mixed terminators", Options{Suffix: SuffixAuto}, []chunk{{0, "111\r222\n333\r\n444\n\r555\r"}}, 0,
			[]got{{Data: "111"}, {Data: "222"}, {Data: "333"}, {Data: "444"}, {Data: "555"}}},
		{"auto blank lines are nothing", Options{Suffix: SuffixAuto}, []chunk{{0, "\r\n\r\n\n\r"}}, 0, nil},
		{"auto unterminated is dropped", Options{Suffix: SuffixAuto}, []chunk{{0, code}}, 200 * ms, []got{{Err: ErrNoSuffix}}},
		{"auto too long", Options{Suffix: SuffixAuto, MaxLen: 10}, []chunk{{0, code + "\r\n111\r"}}, 0, []got{{Err: ErrTooLong}, {Data: "111"}}},
		{"default is auto", Options{}, []chunk{{0, "111\n222\r\n"}}, 0, []got{{Data: "111"}, {Data: "222"}}},
		{"crlf", Options{Suffix: SuffixCRLF}, []chunk{{0, code + "\r\n" + "42\r\n"}}, 0, []got{{Data: code}, {Data: "42"}}},
		{"crlf set, cr alone is not a suffix", Options{Suffix: SuffixCRLF}, []chunk{{0, "12\r34\r\n"}}, 0, []got{{Data: "12\r34"}}},
		{"tab", Options{Suffix: SuffixTab}, []chunk{{0, code + "\t"}}, 0, []got{{Data: code}}},
		{"cr set, scanner sends crlf", Options{}, []chunk{{0, code + "\r\n"}, {time.Second, "99\r\n"}}, time.Second, []got{{Data: code}, {Data: "99"}}},
		{"lf set, scanner sends crlf", Options{Suffix: SuffixLF}, []chunk{{0, code + "\r\n"}}, 0, []got{{Data: code}}},
		{"bare terminators are ignored", Options{}, []chunk{{0, "\r\r\n\r"}}, time.Second, nil},
		{"none: silence ends the code", Options{Suffix: SuffixNone}, []chunk{{0, code[:9]}, {10 * ms, code[9:]}}, 100 * ms, []got{{Data: code}}},
		{"none: silence separates two codes", Options{Suffix: SuffixNone}, []chunk{{0, "111"}, {200 * ms, "222"}}, 150 * ms, []got{{Data: "111"}, {Data: "222"}}},
		{"none: not yet silent", Options{Suffix: SuffixNone}, []chunk{{0, code}}, 99 * ms, nil},
		{"suffix set, missing suffix is dropped not glued", Options{}, []chunk{{0, "1345678"}, {time.Second, code + "\r"}}, 0,
			[]got{{Err: ErrNoSuffix}, {Data: code}}},
		{"suffix set, trailing partial dropped", Options{}, []chunk{{0, "1345678"}}, time.Second, []got{{Err: ErrNoSuffix}}},
		{"aim stripped", Options{StripAIM: true}, []chunk{{0, "]E04006381333931\r"}}, 0, []got{{Data: "4006381333931", Sym: "]E0"}}},
		{"aim absent", Options{StripAIM: true}, []chunk{{0, code + "\r"}}, 0, []got{{Data: code}}},
		{"aim kept when not asked", Options{}, []chunk{{0, "]Q1" + code + "\r"}}, 0, []got{{Data: "]Q1" + code}}},
		{"only aim", Options{StripAIM: true}, []chunk{{0, "]Q1\r"}}, 0, []got{{Err: ErrEmptyCode}}},
		{"prefix and suffix stripped", Options{StripPrefix: "\x02", StripSuffix: "\x03"}, []chunk{{0, "\x02" + code + "\x03\r"}}, 0, []got{{Data: code}}},
		{"aim then prefix", Options{StripAIM: true, StripPrefix: "P:"}, []chunk{{0, "]C1P:42\r"}}, 0, []got{{Data: "42", Sym: "]C1"}}},
		{"at max length", Options{MaxLen: 18}, []chunk{{0, code + "\r"}}, 0, []got{{Data: code}}},
		{"over max length dropped whole", Options{MaxLen: 17}, []chunk{{0, code + "\r"}}, 0, []got{{Err: ErrTooLong}}},
		{"far over max length, next code fine", Options{MaxLen: 20}, []chunk{{0, strings.Repeat("9", 5000) + "\r" + code + "\r"}}, 0,
			[]got{{Err: ErrTooLong}, {Data: code}}},
		{"none: far over max length", Options{Suffix: SuffixNone, MaxLen: 20}, []chunk{{0, strings.Repeat("9", 500)}}, time.Second, []got{{Err: ErrTooLong}}},
		{"crlf: overlong with suffix split at the cut", Options{Suffix: SuffixCRLF, MaxLen: 4}, []chunk{{0, strings.Repeat("9", 40) + "\r"}, {ms, "\n1\r\n"}}, 0,
			[]got{{Err: ErrTooLong}, {Data: "1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := run(t, tt.opts, tt.chunks, tt.end)
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) || errors.Is(b, a) })); diff != "" {
				t.Errorf("frames (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPoisonAndAbort(t *testing.T) {
	f, _ := New(Options{})
	now := t0
	f.Feed([]byte("12"), now)
	f.Poison("unmapped key 0x3a")
	frs := f.Feed([]byte("34\r56\r"), now)
	if len(frs) != 2 || !errors.Is(frs[0].Err, ErrGarbled) || frs[0].Data != "" || frs[1].Data != "56" {
		t.Fatalf("poisoned frame: got %+v", frs)
	}
	f.Feed([]byte("78"), now)
	if frs := f.Abort(); len(frs) != 1 || !errors.Is(frs[0].Err, ErrCutShort) {
		t.Fatalf("abort: got %+v", frs)
	}
	if frs := f.Abort(); frs != nil {
		t.Fatalf("abort with nothing pending: got %+v", frs)
	}
	// Poison with nothing pending starts a frame that is dropped.
	f.Poison("rollover")
	if frs := f.Feed([]byte("9\r"), now); len(frs) != 1 || !errors.Is(frs[0].Err, ErrGarbled) {
		t.Fatalf("poison first: got %+v", frs)
	}
}

func TestDeadlineAndTouch(t *testing.T) {
	f, _ := New(Options{Suffix: SuffixNone, InterCharTimeout: 50 * time.Millisecond})
	if !f.Deadline().IsZero() {
		t.Fatal("deadline with nothing pending")
	}
	f.Feed([]byte("1"), t0)
	if got, want := f.Deadline(), t0.Add(50*time.Millisecond); !got.Equal(want) {
		t.Fatalf("deadline %v, want %v", got, want)
	}
	f.Touch(t0.Add(40 * time.Millisecond))
	if frs := f.Expire(t0.Add(60 * time.Millisecond)); frs != nil {
		t.Fatalf("expired despite touch: %+v", frs)
	}
	if frs := f.Expire(t0.Add(90 * time.Millisecond)); len(frs) != 1 || frs[0].Data != "1" {
		t.Fatalf("expire: %+v", frs)
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := []Options{
		{Suffix: "semicolon"},
		{InterCharTimeout: time.Microsecond},
		{InterCharTimeout: time.Minute},
		{MaxLen: -1},
		{MaxLen: 1 << 20},
	}
	for _, o := range bad {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v): no error", o)
		}
	}
	f, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{Suffix: SuffixAuto, InterCharTimeout: 100 * time.Millisecond, MaxLen: 128}
	if diff := cmp.Diff(want, f.Options()); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	for _, s := range []string{"CR", "lf", "CrLf", "tab", "none", "Auto"} {
		if _, err := ParseSuffix(s); err != nil {
			t.Errorf("ParseSuffix(%q): %v", s, err)
		}
	}
}

// FuzzFramer feeds arbitrary bytes, cut into chunks at arbitrary gaps, to
// framers of every kind. It must not panic, and every code it emits must be a
// contiguous run of the input no longer than MaxLen.
func FuzzFramer(f *testing.F) {
	f.Add([]byte("134567890123456789\r"), []byte{0}, uint8(0))
	f.Add([]byte("]E04006381333931\r\n12\r"), []byte{3, 200}, uint8(2))
	f.Add([]byte("\x02abc\x03\t"), []byte{1, 1, 1}, uint8(3))
	f.Add([]byte("1111111111222222222233333"), []byte{10, 0, 255}, uint8(4))
	f.Fuzz(func(t *testing.T, data, gaps []byte, kind uint8) {
		suffixes := []Suffix{SuffixCR, SuffixLF, SuffixCRLF, SuffixTab, SuffixNone}
		opts := Options{
			Suffix:           suffixes[int(kind)%len(suffixes)],
			InterCharTimeout: 20 * time.Millisecond,
			StripAIM:         kind&0x08 != 0,
			MaxLen:           1 + int(kind>>4)*3,
		}
		if kind&0x80 != 0 {
			opts.StripPrefix, opts.StripSuffix = "\x02", "\x03"
		}
		fr, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		check := func(frs []Frame) {
			for _, x := range frs {
				if x.Err != nil {
					if x.Data != "" {
						t.Fatalf("dropped frame carries data %q", x.Data)
					}
					continue
				}
				if x.Data == "" || len(x.Data) > opts.MaxLen {
					t.Fatalf("bad code %q (max %d)", x.Data, opts.MaxLen)
				}
				if !strings.Contains(string(data), x.Data) {
					t.Fatalf("emitted %q, not in input %q", x.Data, data)
				}
			}
		}
		now := t0
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := 1 + i%7
			if i < len(gaps) {
				n = 1 + int(gaps[i]%16)
				now = now.Add(time.Duration(gaps[i]) * time.Millisecond / 4)
			}
			n = min(n, len(rest))
			check(fr.Feed(rest[:n], now))
			rest = rest[n:]
			if i%5 == 4 {
				check(fr.Expire(now.Add(5 * time.Millisecond)))
			}
		}
		check(fr.Expire(now.Add(time.Second)))
		check(fr.Abort())
	})
}
