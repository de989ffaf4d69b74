package ptyscan

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/framing"
)

const code = "134567890123456789"

func read(t *testing.T, s *Scanner) scanner.Scan {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	sc, err := s.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return sc
}

func newScanner(t *testing.T, opts Options) *Scanner {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// The demo's promise: echo a code into Path() and it is scanned.
func TestEchoIntoPath(t *testing.T) {
	s := newScanner(t, Options{})
	if !strings.HasPrefix(s.Path(), "/dev/pts/") {
		t.Fatalf("Path() = %q", s.Path())
	}
	if st := s.Status(); !st.Connected || st.Path != s.Path() || st.Kind != "virtual" || st.Name != "virtual" {
		t.Fatalf("status %+v", st)
	}
	out, err := exec.Command("sh", "-c", "echo "+code+" > "+s.Path()).CombinedOutput()
	if err != nil {
		t.Fatalf("echo: %v %s", err, out)
	}
	if sc := read(t, s); sc.Data != code || sc.Source != "virtual" {
		t.Fatalf("scan %+v", sc)
	}
	// A second writer after the first has gone: the terminal survives.
	f, err := os.OpenFile(s.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("281234567890123456\r\n") // a CRLF writer is fine too
	f.Close()
	if sc := read(t, s); sc.Data != "281234567890123456" {
		t.Fatalf("scan %+v", sc)
	}
}

func TestSend(t *testing.T) {
	s := newScanner(t, Options{Name: "demo", Framing: framing.Options{Suffix: framing.SuffixCR}})
	for _, c := range []string{code, "6212345678901234567"} {
		if err := s.Send(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []string{code, "6212345678901234567"} {
		if sc := read(t, s); sc.Data != c || sc.Source != "demo" {
			t.Fatalf("scan %+v, want %s", sc, c)
		}
	}
	if s.Status().LastScan.IsZero() {
		t.Error("no last scan time")
	}
}

func TestSilenceFraming(t *testing.T) {
	s := newScanner(t, Options{Framing: framing.Options{Suffix: framing.SuffixNone, InterCharTimeout: 20 * time.Millisecond}})
	if err := s.Send(code); err != nil {
		t.Fatal(err)
	}
	if sc := read(t, s); sc.Data != code {
		t.Fatalf("scan %+v", sc)
	}
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func TestCloseEndsRead(t *testing.T) {
	var logs logBuf
	s := newScanner(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	res := make(chan error)
	go func() { _, err := s.Read(context.Background()); res <- err }()
	time.Sleep(10 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-res:
		if pos.KindOf(err) != pos.Unavailable {
			t.Fatalf("Read after Close: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Read still blocked after Close")
	}
	if strings.Contains(logs.String(), "disconnected") {
		t.Errorf("Close logged as a disconnect:\n%s", logs.String())
	}
}

func TestBadOptions(t *testing.T) {
	if _, err := New(Options{Framing: framing.Options{Suffix: "eot"}}); pos.KindOf(err) != pos.Invalid {
		t.Fatalf("err %v", err)
	}
}

// TestSuffixAutoOnThePTY: with the default suffix, CR, LF and CRLF written
// to the pseudo-terminal each end one code, and blank lines are nothing:
// never an empty or a joined scan.
func TestSuffixAutoOnThePTY(t *testing.T) {
	s := newScanner(t, Options{})
	f, err := os.OpenFile(s.Path(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	codes := []string{"134567890123456789", "281234567890123456", "6212345678901234567", "134567890123456780"}
	if _, err := f.WriteString(codes[0] + "\r" + codes[1] + "\n" + "\r\n\r\n" + codes[2] + "\r\n" + codes[3] + "\r"); err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if sc := read(t, s); sc.Data != c {
			t.Fatalf("scan %q, want %q", sc.Data, c)
		}
	}
	if err := s.Send("111222333444555666"); err != nil {
		t.Fatal(err)
	}
	if sc := read(t, s); sc.Data != "111222333444555666" {
		t.Fatalf("scan after Send %q: the scan before it left something behind", sc.Data)
	}
}
