package poledisplay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
)

// cable is a pseudo-terminal standing in for the display: the Display opens
// the slave as its serial port; the test reads what reached the display
// from the master. Closing the master is pulling the cable.
type cable struct {
	master *os.File
	slave  string
	mu     sync.Mutex
	got    bytes.Buffer
}

func newCable(t *testing.T) *cable {
	t.Helper()
	m, s, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	c := &cable{master: m, slave: s.Name()}
	// The test keeps the slave open too: a master whose slave is closed
	// reads EIO, and the reader below would stop before the Display opens.
	t.Cleanup(func() { s.Close() })
	go func() {
		buf := make([]byte, 256)
		for {
			n, err := m.Read(buf)
			c.mu.Lock()
			c.got.Write(buf[:n])
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { m.Close() })
	return c
}

// expect waits until exactly want has reached the display (and fails on
// anything else), then forgets it.
func (c *cable) expect(t *testing.T, what string, want []byte) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c.mu.Lock()
		got := append([]byte(nil), c.got.Bytes()...)
		c.mu.Unlock()
		if len(got) >= len(want) || time.Now().After(deadline) {
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: the display got\n%q\nwant\n%q", what, got, want)
			}
			c.mu.Lock()
			c.got.Reset()
			c.mu.Unlock()
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func money(t *testing.T, minor int64, cur string) pos.Money {
	t.Helper()
	m, err := pos.NewMoney(minor, cur)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func cat(parts ...any) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b.WriteString(v)
		case []byte:
			b.Write(v)
		default:
			panic(fmt.Sprintf("cat: %T", p))
		}
	}
	return b.Bytes()
}

// Epson ESC/POS customer display commands.
var (
	epsonInit437 = []byte{0x1b, 0x40, 0x1b, 0x74, 0x00, 0x1f, 0x01, 0x1f, 0x43, 0x00, 0x0c}
	row1         = []byte{0x1f, 0x24, 0x01, 0x01}
	row2         = []byte{0x1f, 0x24, 0x01, 0x02}
)

func open(t *testing.T, opts Options, c *cable) *Display {
	t.Helper()
	opts.Port = c.slave
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func TestEpsonProfileExactBytes(t *testing.T) {
	c := newCable(t)
	d := open(t, Options{Title: "Tea House"}, c)
	c.expect(t, "connect", cat(epsonInit437, row1, "Welcome             ", row2, "Tea House           "))

	ctx := context.Background()
	steps := []struct {
		s      display.Screen
		l1, l2 string
	}{
		{display.Screen{Kind: display.ScanPrompt, Amount: money(t, 1292, "CNY")}, "Amount due          ", "           CNY 12.92"},
		{display.Screen{Kind: display.ShowQR, Amount: money(t, 1292, "CNY"), Wallet: pos.WeChatPay}, "Scan QR to pay      ", "           CNY 12.92"},
		{display.Screen{Kind: display.Processing, Amount: money(t, 1292, "CNY"), State: pos.StateUserPaying}, "Confirm on phone    ", "           CNY 12.92"},
		{display.Screen{Kind: display.Result, Amount: money(t, 1292, "CNY"), State: pos.StateSucceeded}, "Paid - thank you    ", "           CNY 12.92"},
		// The flows' message (a gateway's error) never reaches the display.
		{display.Screen{Kind: display.Result, Amount: money(t, 1292, "CNY"), State: pos.StateFailed, Message: "Payment failed: dial tcp 10.1.1.1:443"}, "Failed: not charged ", "           CNY 12.92"},
		{display.Screen{Kind: display.Refunded, Amount: money(t, 500, "CNY")}, "Refund complete     ", "            CNY 5.00"},
		{display.Screen{Kind: display.ScanPrompt, Amount: money(t, 99999999999, "HKD")}, "Amount due          ", "    HKD 999999999.99"},
		{display.Screen{Kind: display.Idle}, "Welcome             ", "Tea House           "},
	}
	for _, st := range steps {
		if err := d.Show(ctx, st.s); err != nil {
			t.Fatal(err)
		}
		c.expect(t, string(st.s.Kind), cat(row1, st.l1, row2, st.l2))
	}
}

func TestCD5220ProfileExactBytes(t *testing.T) {
	c := newCable(t)
	d := open(t, Options{Profile: ProfileCD5220, Title: "Café Zürich"}, c)
	// No code table: the title is transliterated.
	c.expect(t, "connect", cat([]byte{0x1b, 0x40, 0x0c}, "\x1bQA", "Welcome             ", "\r", "\x1bQB", "Cafe Zurich         ", "\r"))
	if err := d.Show(context.Background(), display.Screen{Kind: display.ScanPrompt, Amount: money(t, 1800, "CNY")}); err != nil {
		t.Fatal(err)
	}
	c.expect(t, "amount due", cat("\x1bQA", "Amount due          ", "\r", "\x1bQB", "           CNY 18.00", "\r"))
}

func TestTextIsCleanedEncodedAndTruncatedNeverWrapped(t *testing.T) {
	c := newCable(t)
	// pc858: é is 0x82, ü 0x81, € 0xD5; Chinese has no form and is left
	// out; the control characters go (the ESC's harmless '@' stays).
	title := "Café Zürich\r\n\x1b@\x0c 金龙 € Golden Dragon Tea House"
	d := open(t, Options{CodePage: "pc858", Idle: "Willkommen\tbei uns", Title: title}, c)
	init858 := []byte{0x1b, 0x40, 0x1b, 0x74, 19, 0x1f, 0x01, 0x1f, 0x43, 0x00, 0x0c}
	c.expect(t, "connect", cat(init858, row1, "Willkommen bei uns  ", row2, "Caf\x82 Z\x81rich @ \xd5 Gold"))
	_ = d
	// Without a code table the same text is transliterated.
	c2 := newCable(t)
	open(t, Options{CodePage: "ascii", Title: title}, c2)
	c2.expect(t, "connect ascii", cat([]byte{0x1b, 0x40, 0x1f, 0x01, 0x1f, 0x43, 0x00, 0x0c}, row1, "Welcome             ", row2, "Cafe Zurich @ EUR Go"))
}

// TestReconnectAfterUnplug: the cable is pulled; the next Show fails;
// once a display answers again it is initialised and shows the latest
// screen without anyone calling Show.
func TestReconnectAfterUnplug(t *testing.T) {
	first, second := newCable(t), newCable(t)
	var mu sync.Mutex
	opened := []string{}
	plugged := first
	opener := func(path string, baud int) (Port, error) {
		mu.Lock()
		defer mu.Unlock()
		opened = append(opened, path)
		if plugged == nil {
			return nil, errors.New("no such device")
		}
		return OpenSerial(plugged.slave, baud)
	}
	d, err := NewWithOpener(Options{Port: "/dev/ttyUSB9", Title: "Tea House", Reconnect: 10 * time.Millisecond}, opener)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	first.expect(t, "connect", cat(epsonInit437, row1, "Welcome             ", row2, "Tea House           "))

	mu.Lock()
	plugged = nil
	mu.Unlock()
	first.master.Close() // unplugged
	ctx := context.Background()
	due := display.Screen{Kind: display.ScanPrompt, Amount: money(t, 1292, "CNY")}
	var showErr error
	for range 50 { // the first write after the unplug may still be buffered
		if showErr = d.Show(ctx, due); showErr != nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !pos.Match(pos.Unavailable, showErr) {
		t.Fatalf("Show on an unplugged display: %v, want Unavailable", showErr)
	}
	mu.Lock()
	plugged = second
	mu.Unlock()
	second.expect(t, "reconnect", cat(epsonInit437, row1, "Amount due          ", row2, "           CNY 12.92"))
	if err := d.Show(ctx, display.Screen{Kind: display.Result, Amount: money(t, 1292, "CNY"), State: pos.StateSucceeded}); err != nil {
		t.Fatalf("Show after the reconnect: %v", err)
	}
	second.expect(t, "after reconnect", cat(row1, "Paid - thank you    ", row2, "           CNY 12.92"))
	mu.Lock()
	defer mu.Unlock()
	for _, p := range opened {
		if p != "/dev/ttyUSB9" {
			t.Errorf("opened %q, want the configured port", p)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, bad := range []Options{
		{},
		{Port: "/dev/ttyUSB0", Profile: "vfd9000"},
		{Port: "/dev/ttyUSB0", CodePage: "shift-jis"},
		{Port: "/dev/ttyUSB0", Profile: ProfileCD5220, CodePage: "pc858"},
		{Port: "/dev/ttyUSB0", Columns: 200},
		{Port: "/dev/ttyUSB0", Baud: -1},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
}

func TestTransliterate(t *testing.T) {
	for in, want := range map[string]string{
		"Café":         "Cafe",
		"Straße":       "Strasse",
		"Ñandú":        "Nandu",
		"支付成功":         "",
		"Ｔｅａ":          "Tea", // full-width letters
		"a\u00a0b":     "a b",
		"Crème brûlée": "Creme brulee",
	} {
		if got := Transliterate(in); got != want {
			t.Errorf("Transliterate(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Clean("refund\r\nreason\x1b[2J\x07"); strings.ContainsAny(got, "\r\n\x1b\x07") {
		t.Errorf("Clean left control characters: %q", got)
	}
}
