package webdisplay

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/internal/chromiumtest"
)

// The tests in this file run the page in a real headless Chromium: once
// through its command line (--screenshot, --dump-dom), as a kiosk would
// load it, and once driven over the DevTools protocol on a pipe, to watch
// the page follow Show and survive a daemon restart. They skip only when
// no Chromium is installed (.ci/run installs Debian's).

func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install chromium): the real-browser tests of the web display are skipped")
	return ""
}

// chromiumArgs are the flags for a headless run as root in a container,
// with a fresh profile and nothing phoning home.
func chromiumArgs(t *testing.T, extra ...string) []string {
	return append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--window-size=800,1000", "--force-device-scale-factor=1",
		"--user-data-dir=" + t.TempDir(),
	}, extra...)
}

// runChromium runs one command-line Chromium to completion.
func runChromium(t *testing.T, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromiumPath(t), chromiumArgs(t, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.Bytes())
	}
	return out
}

// zbarDecode decodes img with zbarimg when it is installed: a second,
// independent reader of the QR the customer's phone sees.
func zbarDecode(t *testing.T, img image.Image, want string) {
	t.Helper()
	bin, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Log("zbarimg not installed; decoding with gozxing only")
		return
	}
	path := filepath.Join(t.TempDir(), "shot.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(bin, "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", path).Output()
	if err != nil {
		t.Fatalf("zbarimg found no QR code in the screenshot: %v", err)
	}
	if got := strings.TrimSuffix(string(out), "\n"); got != want {
		t.Errorf("zbarimg read %q, want %q", got, want)
	}
}

func TestChromiumScreenshotShowsTheScannableQR(t *testing.T) {
	chromiumPath(t)
	s, err := Start(Options{Listen: "127.0.0.1:0", Title: "Tea House"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Show(t.Context(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(t.TempDir(), "display.png")
	runChromium(t, "--screenshot="+shot, s.URL())
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, img); got != codeURL {
		t.Fatalf("the QR in the screenshot decodes to %q, want %q", got, codeURL)
	}
	zbarDecode(t, img, codeURL)

	dom := string(runChromium(t, "--dump-dom", s.URL()))
	for _, want := range []string{`<span id="amount">12.92</span>`, `<span id="currency">CNY</span>`, `WeChat Pay · 微信支付`, `Scan the QR code with WeChat Pay to pay`} {
		if !strings.Contains(dom, want) {
			t.Errorf("the DOM Chromium built lacks %q:\n%s", want, dom)
		}
	}
}

// cdp is a Chromium driven over the DevTools protocol on a pipe
// (--remote-debugging-pipe: commands in on fd 3, answers out on fd 4, each
// message ending in a NUL byte).
// startPage runs Chromium (internal/chromiumtest) with an 800×1000
// viewport, as the display tests expect, and opens url in it.
func startPage(t *testing.T, url string) *chromiumtest.Browser {
	t.Helper()
	c := chromiumtest.StartWith(t, chromiumtest.Options{Width: 800, Height: 1000, HideScrollbars: true})
	c.Open(url)
	if _, err := c.Call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 800, "height": 1000, "deviceScaleFactor": 1, "mobile": false}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChromiumPageFollowsShowAndSurvivesARestart(t *testing.T) {
	chromiumPath(t)
	s, err := Start(Options{Listen: "127.0.0.1:0", Title: "Tea House"})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	defer func() { _ = s.Close() }()
	c := startPage(t, s.URL())
	c.WaitEval("document.body.dataset.live", "1", 15*time.Second)
	c.WaitEval("document.getElementById('heading').textContent", "Tea House", time.Second)

	// The page follows Show without reloading.
	if _, err := c.Eval("window.notReloaded = true"); err != nil {
		t.Fatal(err)
	}
	if err := s.Show(t.Context(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	c.WaitEval("document.body.dataset.kind + ' ' + document.getElementById('amount').textContent + ' ' + document.getElementById('currency').textContent", "show_qr 12.92 CNY", 10*time.Second)
	c.WaitEval("(function(q){return !q.hidden && q.complete && q.naturalWidth > 0})(document.getElementById('qr'))", "true", 10*time.Second)
	if got, _ := c.Eval("window.notReloaded === true"); got != "true" {
		t.Errorf("the page reloaded to show the new screen; it should update in place")
	}
	img := c.Screenshot()
	if got := decodeQR(t, img); got != codeURL {
		t.Fatalf("the QR on the live page decodes to %q, want %q", got, codeURL)
	}
	zbarDecode(t, img, codeURL)

	// A gateway's reason with markup in it never reaches the customer's
	// screen: the display says what happened in its own words.
	evil := `Payment failed: <img src=x onerror="document.body.dataset.pwned=1"> <b>bold</b>`
	if err := s.Show(t.Context(), display.Screen{Kind: display.Result, Amount: money(t, 1293, "CNY"), State: pos.StateFailed, Message: evil}); err != nil {
		t.Fatal(err)
	}
	c.WaitEval("document.querySelector('#message .l0').textContent", "You have not been charged. Please try again or pay another way.", 10*time.Second)
	if got, _ := c.Eval("document.querySelector('main').innerHTML.indexOf('onerror') + ' ' + (document.body.dataset.pwned || 'no')"); got != "-1 no" {
		t.Errorf("the gateway's message reached the page: %s", got)
	}
	c.WaitEval("document.getElementById('qr').hidden", "true", time.Second)

	// The daemon restarts on the same address: the page notices, says so,
	// reconnects by itself and shows the new daemon's screens.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.WaitEval("document.body.dataset.live", "0", 10*time.Second)
	c.WaitEval("document.getElementById('conn').hidden", "false", time.Second)
	time.Sleep(1500 * time.Millisecond) // down for a while, as a real restart is
	s2, err := Start(Options{Listen: addr, Title: "Tea House"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s2.Close() }()
	if err := s2.Show(t.Context(), display.Screen{Kind: display.ScanPrompt, Amount: money(t, 1800, "CNY"), State: pos.StateAwaitingCode, Message: "Please show your payment code"}); err != nil {
		t.Fatal(err)
	}
	c.WaitEval("document.body.dataset.kind + ' ' + document.getElementById('amount').textContent", "scan_prompt 18.00", 20*time.Second)
	c.WaitEval("document.getElementById('conn').hidden", "true", 5*time.Second)
}
