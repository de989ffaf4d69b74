// Package chromiumtest drives a real headless Chromium over the DevTools
// protocol on a pipe, for tests of posagent's web pages (the support page,
// the customer display). It is test support: only tests import it. Tests
// skip when no Chromium is installed (.ci/run installs Debian's).
package chromiumtest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Path returns the Chromium binary, or skips the test.
func Path(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install chromium): the real-browser test is skipped")
	return ""
}

// Browser is one headless Chromium with a fresh profile, commands in on
// fd 3 and answers out on fd 4 (--remote-debugging-pipe), each message
// ending in a NUL byte.
type Browser struct {
	t       testing.TB
	w       *os.File
	mu      sync.Mutex
	next    int
	waiting map[int]chan message
	session string
	exited  chan struct{}
}

type message struct {
	ID     int             `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// Options shape the browser's window. The zero value is a 1280×1000
// window with scrollbars.
type Options struct {
	Width, Height int
	// HideScrollbars keeps scrollbars out of screenshots and layout (the
	// customer display's tests measure the page against the viewport).
	HideScrollbars bool
}

// Start runs Chromium with a 1280×1000 window until the test ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith runs Chromium with the window o asks for until the test ends.
func StartWith(t testing.TB, o Options) *Browser {
	t.Helper()
	if o.Width == 0 || o.Height == 0 {
		o.Width, o.Height = 1280, 1000
	}
	bin := Path(t)
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		fmt.Sprintf("--window-size=%d,%d", o.Width, o.Height), "--force-device-scale-factor=1"}
	if o.HideScrollbars {
		args = append(args, "--hide-scrollbars")
	}
	cmd := exec.Command(bin, append(args, "--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")...)
	cmd.ExtraFiles = []*os.File{inR, outW}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	inR.Close()
	outW.Close()
	b := &Browser{t: t, w: inW, waiting: map[int]chan message{}, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(b.exited) }()
	go b.read(outR)
	t.Cleanup(func() {
		_, _ = b.Call("Browser.close", nil)
		select {
		case <-b.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the process group of our own Chromium
			<-b.exited
		}
		inW.Close()
		outR.Close()
		if t.Failed() {
			t.Logf("chromium stderr:\n%s", stderr.Bytes())
		}
	})
	return b
}

func (b *Browser) read(r *os.File) {
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m message
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil || m.ID == 0 {
			continue // an event: not asked for
		}
		b.mu.Lock()
		ch := b.waiting[m.ID]
		delete(b.waiting, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// Call sends one DevTools command (to the attached page, once there is
// one) and returns its result.
func (b *Browser) Call(method string, params any) (json.RawMessage, error) {
	if params == nil {
		params = map[string]any{}
	}
	b.mu.Lock()
	b.next++
	id := b.next
	ch := make(chan message, 1)
	b.waiting[id] = ch
	msg := map[string]any{"id": id, "method": method, "params": params}
	if b.session != "" && !strings.HasPrefix(method, "Target.") && !strings.HasPrefix(method, "Browser.") {
		msg["sessionId"] = b.session
	}
	b.mu.Unlock()
	raw, _ := json.Marshal(msg)
	if _, err := b.w.Write(append(raw, 0)); err != nil {
		return nil, err
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		return m.Result, nil
	case <-b.exited:
		return nil, fmt.Errorf("%s: chromium exited", method)
	case <-time.After(30 * time.Second):
		return nil, fmt.Errorf("%s: no answer in 30s", method)
	}
}

// Open opens url in a new tab and attaches to it; later calls go to it.
func (b *Browser) Open(url string) {
	b.t.Helper()
	res, err := b.Call("Target.createTarget", map[string]any{"url": url})
	if err != nil {
		b.t.Fatal(err)
	}
	var target struct{ TargetID string }
	_ = json.Unmarshal(res, &target)
	res, err = b.Call("Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true})
	if err != nil {
		b.t.Fatal(err)
	}
	var att struct{ SessionID string }
	_ = json.Unmarshal(res, &att)
	b.mu.Lock()
	b.session = att.SessionID
	b.mu.Unlock()
}

// Eval evaluates a JavaScript expression in the page and returns its value
// as a string.
func (b *Browser) Eval(expr string) (string, error) {
	res, err := b.Call("Runtime.evaluate", map[string]any{"expression": "String(" + expr + ")", "returnByValue": true})
	if err != nil {
		return "", err
	}
	var r struct {
		Result struct {
			Value string `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception *struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return "", err
	}
	if e := r.ExceptionDetails; e != nil {
		if e.Exception != nil {
			return "", fmt.Errorf("evaluating %s: %s", expr, e.Exception.Description)
		}
		return "", fmt.Errorf("evaluating %s: %s", expr, e.Text)
	}
	return r.Result.Value, nil
}

// MustEval is Eval that fails the test on an error.
func (b *Browser) MustEval(expr string) string {
	b.t.Helper()
	v, err := b.Eval(expr)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// WaitEval polls expr until it evaluates to want (a page navigating in
// between is fine) and fails the test when it does not within the time
// given: a bound on waiting, not a measurement.
func (b *Browser) WaitEval(expr, want string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	var got string
	var err error
	for time.Now().Before(deadline) {
		if got, err = b.Eval(expr); err == nil && got == want {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.t.Fatalf("the page's %s is %q (err %v), want %q within %v", expr, got, err, want, within)
}

// Screenshot captures the attached page as an image.
func (b *Browser) Screenshot() image.Image {
	b.t.Helper()
	res, err := b.Call("Page.captureScreenshot", map[string]any{"format": "png"})
	if err != nil {
		b.t.Fatal(err)
	}
	var r struct{ Data string }
	if err := json.Unmarshal(res, &r); err != nil {
		b.t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(r.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatal(err)
	}
	return img
}
