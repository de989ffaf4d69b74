package main

import (
	"bufio"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// displayState is the web display's GET /state.
type displayState struct {
	Kind      string `json:"kind"`
	Title     string `json:"title"`
	PaymentID string `json:"payment_id"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	Wallet    string `json:"wallet"`
	State     string `json:"state"`
	Message   string `json:"message"`
	QR        string `json:"qr"`
	ExpiresIn int64  `json:"expires_in_ms"`
}

func getDisplayState(t *testing.T, base string) displayState {
	t.Helper()
	resp, err := http.Get(base + "/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s displayState
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// waitDisplay polls the display until cond holds.
func waitDisplay(t *testing.T, base string, within time.Duration, cond func(displayState) bool) displayState {
	t.Helper()
	deadline := time.Now().Add(within)
	var s displayState
	for time.Now().Before(deadline) {
		if s = getDisplayState(t, base); cond(s) {
			return s
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the display did not get there within %v; it shows %+v", within, s)
	return s
}

// startDemoWithDisplay runs `posagent demo --display-listen DISPLAY` and
// waits for its API and its display page.
func startDemoWithDisplay(t *testing.T, displayAddr string, args ...string) *agent {
	t.Helper()
	state, addr := t.TempDir(), freePort(t)
	cmd := exec.Command(binary(t), append([]string{"demo", "--state", state, "--listen", addr, "--display-listen", displayAddr, "--log-level", "debug"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Env = os.Environ()
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &agent{t: t, cmd: cmd, addr: addr, state: state, out: out, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(a.exited) }()
	t.Cleanup(func() {
		a.kill()
		if t.Failed() {
			t.Logf("posagent output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "posagent demo is running.") {
		select {
		case <-a.exited:
			t.Fatalf("posagent exited before it was ready:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("posagent not ready after 30s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return a
}

// TestDemoWebDisplayShowsTheMerchantQR is the web display end to end: the
// demo serves it where --display-listen says and names it in its help; a
// merchant-QR payment made through the API appears on it with its amount,
// and the PNG it serves decodes to exactly the payment's code_url; when
// the payment ends the QR is gone.
func TestDemoWebDisplayShowsTheMerchantQR(t *testing.T) {
	displayAddr := freePort(t)
	base := "http://" + displayAddr
	a := startDemoWithDisplay(t, displayAddr)
	if want := "display      " + base + "/"; !strings.Contains(a.out.String(), want) {
		t.Errorf("the demo's help lacks %q", want)
	}
	if s := getDisplayState(t, base); s.Kind != "idle" || s.Title != "posagent demo store" {
		t.Errorf("before any payment the display shows %+v, want the demo store's welcome", s)
	}
	// The page follows along: its event stream is open from the start.
	resp, err := http.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()

	// 92: the simulated customer never pays, so the QR stays up.
	code, p, err := a.call("POST", "/v1/payments", `{"amount":1292,"currency":"CNY","method":"qr","wallet":"wechat"}`)
	if err != nil || code != 200 && code != 201 && code != 202 {
		t.Fatalf("creating the QR payment: %d %v %v", code, p, err)
	}
	id, _ := p["id"].(string)
	p = a.waitFor(id, 15*time.Second, func(p map[string]any) bool { return p["code_url"] != nil && p["code_url"] != "" })
	codeURL := p["code_url"].(string)

	s := waitDisplay(t, base, 10*time.Second, func(s displayState) bool { return s.Kind == "show_qr" && s.PaymentID == id })
	if s.Amount != "12.92" || s.Currency != "CNY" || s.Wallet != "WeChat Pay · 微信支付" || s.State != "user_paying" || s.ExpiresIn <= 0 {
		t.Errorf("the QR screen shows %+v, want 12.92 CNY, WeChat Pay in English and Chinese, user_paying, and a countdown to the order's expiry", s)
	}
	if strings.Contains(a.out.String(), codeURL) {
		t.Errorf("the code_url reached the demo's output (logs or help)")
	}
	qr, err := http.Get(base + s.QR)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(qr.Body)
	qr.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: %v", s.QR, err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("the display's QR does not decode: %v", err)
	}
	if res.GetText() != codeURL {
		t.Fatalf("the display's QR decodes to %q, want the payment's code_url %q", res.GetText(), codeURL)
	}
	if !eventsReach(t, resp.Body, id) {
		t.Errorf("the event stream never carried the payment's QR screen")
	}

	// The cashier cancels: the order is closed, the result replaces the QR.
	if code, m, err := a.call("POST", "/v1/payments/"+id+"/cancel", ""); err != nil || code >= 300 {
		t.Fatalf("cancel: %d %v %v", code, m, err)
	}
	waitDisplay(t, base, 20*time.Second, func(s displayState) bool { return s.Kind == "result" && s.PaymentID == id })
	gone, err := http.Get(base + s.QR)
	if err != nil {
		t.Fatal(err)
	}
	gone.Body.Close()
	if gone.StatusCode != http.StatusNotFound {
		t.Errorf("the QR of a finished payment answered %s, want 404", gone.Status)
	}
}

// eventsReach reads the event stream until a show_qr screen for payment
// id, or 10 s.
func eventsReach(t *testing.T, body io.Reader, id string) bool {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.Contains(data, `"kind":"show_qr"`) && strings.Contains(data, `"payment_id":"`+id+`"`) {
				found <- true
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		return ok
	case <-time.After(10 * time.Second):
		return false
	}
}

// TestCancelledUnclosableQRLeavesTheWebDisplayE2E (issues 8, 9): on every
// gateway whose merchant-QR order cannot be closed or voided once the
// cashier cancels (Swiftpass and Allinpay UnionPay; AllPay without
// void_qr), the demo's web display leaves the QR as soon as the till
// cancels and asks the customer, in its languages, not to pay, while the
// payment stays pending and is polled to its end; the QR's PNG is gone.
func TestCancelledUnclosableQRLeavesTheWebDisplayE2E(t *testing.T) {
	for _, tc := range []struct{ gateway, currency, wallet string }{
		{"swiftpass", "HKD", "unionpay"},
		{"allinpay", "HKD", "unionpay"},
		{"allpay", "USD", "wechat"},
	} {
		t.Run(tc.gateway, func(t *testing.T) {
			displayAddr := freePort(t)
			base := "http://" + displayAddr
			a := startDemoWithDisplay(t, displayAddr, "--gateway", tc.gateway)
			// ..92: the simulated customer never pays by itself.
			code, p, err := a.call("POST", "/v1/payments", `{"amount":1292,"currency":"`+tc.currency+`","method":"qr","wallet":"`+tc.wallet+`"}`)
			if err != nil || code != 201 {
				t.Fatalf("creating the QR payment: %d %v %v", code, p, err)
			}
			id, _ := p["id"].(string)
			qr := waitDisplay(t, base, 15*time.Second, func(s displayState) bool { return s.Kind == "show_qr" && s.PaymentID == id })
			if code, p, err := a.call("POST", "/v1/payments/"+id+"/cancel", ""); err != nil || code != 202 && code != 200 {
				t.Fatalf("cancel: %d %v %v", code, p, err)
			}
			s := waitDisplay(t, base, 10*time.Second, func(s displayState) bool { return s.PaymentID == id && s.Kind != "show_qr" })
			if s.Kind != "withdrawn" || s.QR != "" {
				t.Fatalf("after the cancel the display shows %+v, want the withdrawn screen without a QR", s)
			}
			resp, err := http.Get(base + "/state")
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{"Please do not scan or pay this order.", "请勿扫码或支付此订单。"} {
				if !strings.Contains(string(page), want) {
					t.Errorf("the withdrawn screen lacks %q: %s", want, page)
				}
			}
			if resp, err := http.Get(base + qr.QR); err != nil || resp.StatusCode != 404 {
				t.Errorf("the cancelled QR's PNG: %v %v, want 404", resp.StatusCode, err)
			} else {
				resp.Body.Close()
			}
			_, p, _ = a.call("GET", "/v1/payments/"+id, "")
			if p["state"] != "pending" {
				t.Errorf("the unclosable order is %v (%v) right after the cancel, want pending, polled to its end", p["state"], p["detail"])
			}
		})
	}
}
