package webdisplay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
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
type cdp struct {
	t       *testing.T
	cmd     *exec.Cmd
	w       *os.File
	mu      sync.Mutex
	nextID  int
	waiting map[int]chan cdpMessage
	session string
	exited  chan struct{}
}

type cdpMessage struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

func startCDP(t *testing.T) *cdp {
	t.Helper()
	bin := chromiumPath(t)
	toChrome, ourW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ourR, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, chromiumArgs(t, "--remote-debugging-pipe", "about:blank")...)
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fd 3, fd 4
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	toChrome.Close()
	fromChrome.Close()
	c := &cdp{t: t, cmd: cmd, w: ourW, waiting: map[int]chan cdpMessage{}, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	go func() {
		r := bufio.NewReader(ourR)
		for {
			b, err := r.ReadBytes(0)
			if err != nil {
				return
			}
			var m cdpMessage
			if json.Unmarshal(b[:len(b)-1], &m) != nil || m.ID == 0 {
				continue // an event
			}
			c.mu.Lock()
			ch := c.waiting[m.ID]
			delete(c.waiting, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m
			}
		}
	}()
	t.Cleanup(func() {
		_, _ = c.call("Browser.close", nil)
		select {
		case <-c.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // our own Chromium's process group
			<-c.exited
		}
		ourW.Close()
		ourR.Close()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", stderr.Bytes())
		}
	})
	return c
}

// call sends one command (to the attached page once there is one) and
// returns its result.
func (c *cdp) call(method string, params any) (json.RawMessage, error) {
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	ch := make(chan cdpMessage, 1)
	c.waiting[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if params == nil {
		msg["params"] = map[string]any{}
	}
	if c.session != "" && !strings.HasPrefix(method, "Target.") && !strings.HasPrefix(method, "Browser.") {
		msg["sessionId"] = c.session
	}
	c.mu.Unlock()
	b, _ := json.Marshal(msg)
	if _, err := c.w.Write(append(b, 0)); err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-c.exited:
		return nil, fmt.Errorf("%s: chromium exited", method)
	case <-time.After(20 * time.Second):
		return nil, fmt.Errorf("%s: no answer in 20s", method)
	}
}

// open opens url in a new page and attaches to it.
func (c *cdp) open(url string) {
	c.t.Helper()
	res, err := c.call("Target.createTarget", map[string]any{"url": url})
	if err != nil {
		c.t.Fatal(err)
	}
	var target struct{ TargetID string }
	_ = json.Unmarshal(res, &target)
	res, err = c.call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		c.t.Fatal(err)
	}
	var att struct{ SessionID string }
	_ = json.Unmarshal(res, &att)
	c.mu.Lock()
	c.session = att.SessionID
	c.mu.Unlock()
	if _, err := c.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 800, "height": 1000, "deviceScaleFactor": 1, "mobile": false}); err != nil {
		c.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression in the page and returns its
// value as a string.
func (c *cdp) eval(expr string) (string, error) {
	res, err := c.call("Runtime.evaluate", map[string]any{"expression": "String(" + expr + ")", "returnByValue": true})
	if err != nil {
		return "", err
	}
	var r struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return "", err
	}
	if r.ExceptionDetails != nil {
		return "", fmt.Errorf("evaluating %s: %s", expr, r.ExceptionDetails.Text)
	}
	return r.Result.Value, nil
}

// waitEval polls expr until it evaluates to want (the page reloading in
// between is fine).
func (c *cdp) waitEval(expr, want string, within time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(within)
	var got string
	var err error
	for time.Now().Before(deadline) {
		if got, err = c.eval(expr); err == nil && got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.t.Fatalf("the page's %s is %q (err %v), want %q within %v", expr, got, err, want, within)
}

func (c *cdp) screenshot() image.Image {
	c.t.Helper()
	res, err := c.call("Page.captureScreenshot", map[string]any{"format": "png"})
	if err != nil {
		c.t.Fatal(err)
	}
	var r struct{ Data string }
	_ = json.Unmarshal(res, &r)
	b, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		c.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	return img
}

func TestChromiumPageFollowsShowAndSurvivesARestart(t *testing.T) {
	chromiumPath(t)
	s, err := Start(Options{Listen: "127.0.0.1:0", Title: "Tea House"})
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	defer func() { _ = s.Close() }()
	c := startCDP(t)
	c.open(s.URL())
	c.waitEval("document.body.dataset.live", "1", 15*time.Second)
	c.waitEval("document.getElementById('heading').textContent", "Tea House", time.Second)

	// The page follows Show without reloading.
	if _, err := c.eval("window.notReloaded = true"); err != nil {
		t.Fatal(err)
	}
	if err := s.Show(t.Context(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	c.waitEval("document.body.dataset.kind + ' ' + document.getElementById('amount').textContent + ' ' + document.getElementById('currency').textContent", "show_qr 12.92 CNY", 10*time.Second)
	c.waitEval("(function(q){return !q.hidden && q.complete && q.naturalWidth > 0})(document.getElementById('qr'))", "true", 10*time.Second)
	if got, _ := c.eval("window.notReloaded === true"); got != "true" {
		t.Errorf("the page reloaded to show the new screen; it should update in place")
	}
	img := c.screenshot()
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
	c.waitEval("document.querySelector('#message .l0').textContent", "You have not been charged. Please try again or pay another way.", 10*time.Second)
	if got, _ := c.eval("document.querySelector('main').innerHTML.indexOf('onerror') + ' ' + (document.body.dataset.pwned || 'no')"); got != "-1 no" {
		t.Errorf("the gateway's message reached the page: %s", got)
	}
	c.waitEval("document.getElementById('qr').hidden", "true", time.Second)

	// The daemon restarts on the same address: the page notices, says so,
	// reconnects by itself and shows the new daemon's screens.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.waitEval("document.body.dataset.live", "0", 10*time.Second)
	c.waitEval("document.getElementById('conn').hidden", "false", time.Second)
	time.Sleep(1500 * time.Millisecond) // down for a while, as a real restart is
	s2, err := Start(Options{Listen: addr, Title: "Tea House"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s2.Close() }()
	if err := s2.Show(t.Context(), display.Screen{Kind: display.ScanPrompt, Amount: money(t, 1800, "CNY"), State: pos.StateAwaitingCode, Message: "Please show your payment code"}); err != nil {
		t.Fatal(err)
	}
	c.waitEval("document.body.dataset.kind + ' ' + document.getElementById('amount').textContent", "scan_prompt 18.00", 20*time.Second)
	c.waitEval("document.getElementById('conn').hidden", "true", 5*time.Second)
}
