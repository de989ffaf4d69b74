package webdisplay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	gzqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
)

const codeURL = "weixin://wxpay/bizpayurl?pr=Xy12AbCdEfG"

func money(t *testing.T, minor int64, cur string) pos.Money {
	t.Helper()
	m, err := pos.NewMoney(minor, cur)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func qrScreen(t *testing.T) display.Screen {
	return display.Screen{Kind: display.ShowQR, PaymentID: "pay_1", Amount: money(t, 1292, "CNY"), Wallet: pos.WeChatPay,
		State: pos.StateUserPaying, QR: codeURL, Message: "Scan to pay with WeChat Pay"}
}

func newDisplay(t *testing.T, opts Options) (*Display, *httptest.Server) {
	t.Helper()
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(d)
	t.Cleanup(func() { _ = d.Close(); srv.Close() })
	return d, srv
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func state(t *testing.T, base string) view {
	t.Helper()
	resp, b := get(t, base+"/state")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /state: %s %s", resp.Status, b)
	}
	var v view
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("GET /state: %v in %s", err, b)
	}
	return v
}

// decodeQR reads the one QR code in img.
func decodeQR(t *testing.T, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := gzqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("no QR code decodes: %v", err)
	}
	return res.GetText()
}

func TestPageShowsTheCurrentScreen(t *testing.T) {
	d, srv := newDisplay(t, Options{Title: "Tea House"})
	resp, b := get(t, srv.URL+"/")
	page := string(b)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{`<title>Tea House</title>`, `data-kind="idle"`, `id="heading"><span class="l0" lang="en">Tea House</span></h1>`, `<span class="l1" lang="zh-Hans">欢迎光临</span>`, `new EventSource('/events')`} {
		if !strings.Contains(page, want) {
			t.Errorf("the idle page lacks %q", want)
		}
	}
	// Self-contained: nothing is loaded from anywhere else.
	for _, bad := range []string{"http://", "https://", "//cdn", "<link"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page refers to an outside resource (%q)", bad)
		}
	}
	if err := d.Show(context.Background(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	_, b = get(t, srv.URL+"/")
	page = string(b)
	v := state(t, srv.URL)
	for _, want := range []string{`data-kind="show_qr"`, `<span id="amount">12.92</span>`, `<span id="currency">CNY</span>`, `WeChat Pay · 微信支付`, `Scan the QR code with WeChat Pay to pay`, `请用微信支付扫码支付`, `src="` + v.QR + `"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the show_qr page lacks %q", want)
		}
	}
	if strings.Contains(page, codeURL) || strings.Contains(page, "bizpayurl") {
		t.Errorf("the page carries the QR payload itself; it must carry only its PNG's path")
	}
}

func TestHeadersForbidCachingAndOutsideCode(t *testing.T) {
	d, srv := newDisplay(t, Options{})
	if err := d.Show(context.Background(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	v := state(t, srv.URL)
	for _, path := range []string{"/", "/state", v.QR} {
		resp, _ := get(t, srv.URL+path)
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, got)
		}
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q, want no-referrer", path, got)
		}
	}
	resp, _ := get(t, srv.URL+"/")
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'sha256-") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("page CSP %q: want default-src 'none' and the script allowed only by hash", csp)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/state", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /state: %v %v, want 405: the display is read-only", resp.Status, err)
	}
}

func TestQRPNGDecodesToTheCodeURLAndOnlyWhileShown(t *testing.T) {
	d, srv := newDisplay(t, Options{})
	if err := d.Show(context.Background(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	v := state(t, srv.URL)
	if !strings.HasPrefix(v.QR, "/qr/") || len(v.QR) < len("/qr/.png")+32 {
		t.Fatalf("QR path %q: want /qr/ and a 128-bit token", v.QR)
	}
	resp, b := get(t, srv.URL+v.QR)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("GET %s: %s %s", v.QR, resp.Status, resp.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got := decodeQR(t, img); got != codeURL {
		t.Fatalf("the QR decodes to %q, want %q", got, codeURL)
	}
	if w := img.Bounds().Dx(); w < 300 {
		t.Errorf("QR PNG is %d px wide; want it big enough to scan off a screen", w)
	}
	// A guessed token, and the real one once the screen moved on, find nothing.
	if resp, _ := get(t, srv.URL+"/qr/00112233445566778899aabbccddeeff.png"); resp.StatusCode != 404 {
		t.Errorf("a guessed QR token answered %s", resp.Status)
	}
	if err := d.Show(context.Background(), display.Screen{Kind: display.Processing, Amount: money(t, 1292, "CNY"), Wallet: pos.WeChatPay, State: pos.StateUserPaying}); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, srv.URL+v.QR); resp.StatusCode != 404 {
		t.Errorf("the QR of a screen no longer shown answered %s, want 404", resp.Status)
	}
	if v := state(t, srv.URL); v.QR != "" {
		t.Errorf("a processing screen still names a QR: %q", v.QR)
	}
	// A new QR screen gets a new token.
	if err := d.Show(context.Background(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	if v2 := state(t, srv.URL); v2.QR == v.QR || v2.QR == "" {
		t.Errorf("second QR screen's path %q, want a fresh one (first %q)", v2.QR, v.QR)
	}
}

func TestTheQRPayloadNeverReachesTheLog(t *testing.T) {
	var logs bytes.Buffer
	d, srv := newDisplay(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err := d.Show(context.Background(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	// A browser that drops its stream is logged at debug.
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := d.Show(context.Background(), display.Screen{Kind: display.ShowQR, QR: pos.Secret(strings.Repeat("x", 5000))}); err == nil {
		t.Errorf("a QR too long to encode: Show returned no error")
	} else if strings.Contains(err.Error(), "xxxx") {
		t.Errorf("Show's error carries the payload: %v", err)
	}
	if strings.Contains(logs.String(), "bizpayurl") {
		t.Errorf("the QR payload reached the log:\n%s", logs.String())
	}
}

// events reads a display's event stream.
type events struct {
	t    *testing.T
	body io.ReadCloser
	r    *bufio.Reader
}

func openEvents(t *testing.T, base string) *events {
	t.Helper()
	resp, err := http.Get(base + "/events")
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("GET /events: Content-Type %q", ct)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return &events{t: t, body: resp.Body, r: bufio.NewReader(resp.Body)}
}

// next returns the next screen event, skipping pings and retry hints.
func (e *events) next() view {
	e.t.Helper()
	type result struct {
		v   view
		err error
	}
	c := make(chan result, 1)
	go func() {
		var name, data string
		for {
			line, err := e.r.ReadString('\n')
			if err != nil {
				c <- result{err: err}
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data = strings.TrimPrefix(line, "data: ")
			case line == "" && name == "screen":
				var v view
				c <- result{v: v, err: json.Unmarshal([]byte(data), &v)}
				return
			case line == "":
				name, data = "", ""
			}
		}
	}()
	select {
	case r := <-c:
		if r.err != nil {
			e.t.Fatalf("event stream: %v", r.err)
		}
		return r.v
	case <-time.After(5 * time.Second):
		e.t.Fatal("no screen event within 5s")
	}
	return view{}
}

func TestEventStreamCarriesEveryScreenChange(t *testing.T) {
	d, srv := newDisplay(t, Options{Title: "Tea House"})
	ev := openEvents(t, srv.URL)
	if v := ev.next(); v.Kind != "idle" || v.Heading != "Tea House" {
		t.Fatalf("first event %+v, want the idle screen with the title", v)
	}
	steps := []struct {
		s                                  display.Screen
		kind, heading, amount, wallet, msg string
	}{
		{display.Screen{Kind: display.ScanPrompt, Amount: money(t, 1800, "CNY"), State: pos.StateAwaitingCode, Message: "Please show your payment code"},
			"scan_prompt", "Amount due", "18.00", "", "Please show your payment code"},
		{qrScreen(t), "show_qr", "Amount due", "12.92", "WeChat Pay · 微信支付", "Scan the QR code with WeChat Pay to pay"},
		{display.Screen{Kind: display.Processing, Amount: money(t, 1292, "CNY"), Wallet: pos.Alipay, State: pos.StateUserPaying, Message: "Please confirm the payment on your phone"},
			"processing", "Confirm on your phone", "12.92", "Alipay · 支付宝", "Please confirm the payment on your phone"},
		// The flows' message (here a scanner detail) is not the customer's:
		// the display says what happened in its own words.
		{display.Screen{Kind: display.Rejected, Amount: money(t, 1292, "CNY"), Message: "that is a product barcode — please scan again"},
			"rejected", "Code not accepted", "12.92", "", "That is not a payment code. Please show your payment code again."},
		{display.Screen{Kind: display.Result, Amount: money(t, 1292, "JPY"), Wallet: pos.Alipay, State: pos.StateSucceeded, Message: "Payment successful. Thank you!"},
			"result", "Payment successful", "1292", "Alipay · 支付宝", "Thank you!"},
	}
	for _, st := range steps {
		if err := d.Show(context.Background(), st.s); err != nil {
			t.Fatal(err)
		}
		v := ev.next()
		if v.Kind != st.kind || v.Heading != st.heading || v.Amount != st.amount || v.Wallet != st.wallet || v.Message != st.msg {
			t.Errorf("after Show(%s): event %+v, want kind %s heading %q amount %q wallet %q message %q", st.s.Kind, v, st.kind, st.heading, st.amount, st.wallet, st.msg)
		}
		if (v.QR != "") != (st.kind == "show_qr") {
			t.Errorf("%s event: QR path %q", st.kind, v.QR)
		}
	}
	// A second browser joining now gets the current screen at once.
	if v := openEvents(t, srv.URL).next(); v.Kind != "result" {
		t.Errorf("a new stream starts with %s, want the current result screen", v.Kind)
	}
}

func TestShowNeverWaitsForABrowserAndTheLatestScreenWins(t *testing.T) {
	d, srv := newDisplay(t, Options{})
	// A browser that opened the stream and reads nothing.
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	for i := range 20000 {
		s := display.Screen{Kind: display.Processing, Amount: money(t, int64(i+1), "CNY"), Message: strings.Repeat("long message ", 20)}
		if err := d.Show(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Show(context.Background(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("20001 Shows took %v with a browser not reading", el)
	}
	// A browser reading now skips to the latest screen.
	ev := openEvents(t, srv.URL)
	if v := ev.next(); v.Kind != "show_qr" || v.Amount != "12.92" {
		t.Errorf("a fresh stream got %s %s, want the latest screen", v.Kind, v.Amount)
	}
	r := bufio.NewReader(resp.Body)
	var last view
	deadline := time.Now().Add(5 * time.Second)
	for last.Kind != "show_qr" && time.Now().Before(deadline) {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if data, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "data: "); ok && data != "" {
			if err := json.Unmarshal([]byte(data), &last); err != nil {
				t.Fatal(err)
			}
		}
	}
	if last.Kind != "show_qr" {
		t.Errorf("the slow browser never caught up with the latest screen; last %+v", last)
	}
}

func TestTextIsEscaped(t *testing.T) {
	evil := `<img src=x onerror=alert(1)><script>alert("x")</script> & "quotes"`
	d, srv := newDisplay(t, Options{Title: `Tom & Jerry's <Café>` + evil})
	if err := d.Show(context.Background(), display.Screen{Kind: display.Result, Amount: money(t, 1293, "CNY"), State: pos.StateFailed, Message: evil}); err != nil {
		t.Fatal(err)
	}
	_, b := get(t, srv.URL+"/")
	page := string(b)
	for _, bad := range []string{"<img src=x", `<script>alert`, "<Café>"} {
		if strings.Contains(page, bad) {
			t.Errorf("the page carries %q unescaped", bad)
		}
	}
	for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;", "Tom &amp; Jerry&#39;s &lt;Café&gt;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks the escaped text %q", want)
		}
	}
	// The events carry JSON with <, > and & escaped, and the page sets
	// only textContent: the text arrives intact and inert.
	ev := openEvents(t, srv.URL)
	if v := ev.next(); v.Title != `Tom & Jerry's <Café>`+evil {
		t.Errorf("event title %q, want %q", v.Title, `Tom & Jerry's <Café>`+evil)
	}
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	n, _ := io.ReadAtLeast(resp.Body, buf, 200)
	if strings.Contains(string(buf[:n]), "<script>") {
		t.Errorf("the event stream carries raw markup: %s", buf[:n])
	}
	if strings.Contains(pageJS, "innerHTML") || strings.Contains(pageJS, "insertAdjacentHTML") || strings.Contains(pageJS, "document.write") {
		t.Errorf("page.js writes HTML; it must set textContent only")
	}
}

func TestResultReturnsToIdle(t *testing.T) {
	d, srv := newDisplay(t, Options{Title: "Tea House", IdleAfter: 150 * time.Millisecond})
	ev := openEvents(t, srv.URL)
	ev.next() // idle
	if err := d.Show(context.Background(), display.Screen{Kind: display.Result, Amount: money(t, 1200, "CNY"), State: pos.StateSucceeded}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if v := ev.next(); v.Kind != "result" {
		t.Fatalf("got %s, want result", v.Kind)
	}
	v := ev.next()
	if v.Kind != "idle" || v.Amount != "" || v.Heading != "Tea House" {
		t.Errorf("after the result: %+v, want the welcome screen", v)
	}
	if el := time.Since(start); el < 100*time.Millisecond {
		t.Errorf("back to idle after %v, want about 150ms", el)
	}
	// A screen shown before the timer fires wins over it.
	if err := d.Show(context.Background(), display.Screen{Kind: display.Result, State: pos.StateSucceeded}); err != nil {
		t.Fatal(err)
	}
	ev.next()
	if err := d.Show(context.Background(), display.Screen{Kind: display.ScanPrompt, Amount: money(t, 500, "CNY")}); err != nil {
		t.Fatal(err)
	}
	ev.next()
	time.Sleep(300 * time.Millisecond)
	if v := state(t, srv.URL); v.Kind != "scan_prompt" {
		t.Errorf("the idle timer of an old result replaced a newer screen: now %s", v.Kind)
	}
	// Negative IdleAfter: the result stays.
	d2, srv2 := newDisplay(t, Options{IdleAfter: -1})
	if err := d2.Show(context.Background(), display.Screen{Kind: display.Result, State: pos.StateFailed}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if v := state(t, srv2.URL); v.Kind != "result" {
		t.Errorf("IdleAfter<0: now %s, want the result to stay", v.Kind)
	}
}

func TestRefusesForeignHostsUnlessRemoteIsAllowed(t *testing.T) {
	d, _ := newDisplay(t, Options{})
	for host, want := range map[string]int{"127.0.0.1:8418": 200, "localhost:8418": 200, "[::1]:8418": 200, "evil.example:8418": 403, "192.168.1.20:8418": 403} {
		req := httptest.NewRequest("GET", "/state", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		d.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
	remote, _ := newDisplay(t, Options{AllowRemote: true})
	req := httptest.NewRequest("GET", "/state", nil)
	req.Host = "till-display.local:8418"
	rec := httptest.NewRecorder()
	remote.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("AllowRemote: Host %s got %d", req.Host, rec.Code)
	}
}

func TestStartListensOnLoopbackOnly(t *testing.T) {
	if _, err := Start(Options{Listen: "0.0.0.0:0"}); err == nil {
		t.Error("Start on 0.0.0.0 without AllowRemote: no error")
	}
	if _, err := New(Options{QRPixels: 100}); err == nil {
		t.Error("QRPixels 100: no error")
	}
	s, err := Start(Options{Listen: ":0"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %s: a bare :0 should listen on 127.0.0.1", s.URL())
	}
	ev := openEvents(t, strings.TrimSuffix(s.URL(), "/"))
	ev.next()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Close hangs on an open event stream")
	}
}

func TestLanguagesRatesAndCountdown(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	d, srv := newDisplay(t, Options{Title: "Tea House", Languages: []string{"zh-Hans", "en"},
		WalletLanguages: map[string]string{"alipay": "zh-Hant"},
		Rates:           []RateOption{{Currency: "HKD", CNY: "0.92", At: now.Add(-2 * time.Hour)}},
		Now:             func() time.Time { return now }})
	if err := d.Show(context.Background(), display.Screen{Kind: display.ShowQR, Amount: money(t, 10000, "HKD"), Wallet: pos.Alipay,
		State: pos.StateUserPaying, QR: codeURL, Expires: now.Add(90 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	v := state(t, srv.URL)
	if len(v.Texts) != 2 || v.Texts[0].Lang != "zh-Hant" || v.Texts[1].Lang != "en" {
		t.Fatalf("texts %+v: want Traditional (Alipay's override) first, then English", v.Texts)
	}
	if v.Texts[0].Message != "請用支付寶掃碼付款" || v.Wallet != "支付寶 · Alipay" {
		t.Errorf("Traditional words %q, wallet %q", v.Texts[0].Message, v.Wallet)
	}
	if v.Equiv != "≈ CNY 92.00" || !strings.Contains(v.RateLine, "0.92") || !strings.Contains(v.RateLine, now.Add(-2*time.Hour).Local().Format("15:04")) {
		t.Errorf("equivalent %q rate %q: want CNY 92.00 at 0.92 with the rate's time", v.Equiv, v.RateLine)
	}
	if v.ExpiresIn != 90000 || v.Clock != "1:30" || v.TimeLeft != "剩餘時間 Time left" {
		t.Errorf("countdown %d ms %q %q, want 90000 1:30", v.ExpiresIn, v.Clock, v.TimeLeft)
	}
	now = now.Add(30 * time.Second)
	if v := state(t, srv.URL); v.Clock != "1:00" {
		t.Errorf("30 s later the countdown says %q, want 1:00", v.Clock)
	}
	for _, bad := range []Options{
		{Languages: []string{"fr"}},
		{Languages: []string{"en", "zh-Hans", "zh-Hant"}},
		{WalletLanguages: map[string]string{"alipay": "klingon"}},
		{Rates: []RateOption{{Currency: "HKD", CNY: "-1", At: now}}},
		{Rates: []RateOption{{Currency: "HKD", CNY: "0.9"}}},
		{Rates: []RateOption{{Currency: "XXX", CNY: "0.9", At: now}}},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("options %+v accepted", bad)
		}
	}
}

// TestWithdrawnTakesTheQROff: when the cashier cancels an order that
// stays payable (the gateway cannot close it), the page drops the QR (its
// PNG is gone too) and asks the customer, in the display's languages, not
// to pay.
func TestWithdrawnTakesTheQROff(t *testing.T) {
	d, srv := newDisplay(t, Options{Languages: []string{"en", "zh-Hant"}})
	if err := d.Show(context.Background(), qrScreen(t)); err != nil {
		t.Fatal(err)
	}
	qr := state(t, srv.URL).QR
	if qr == "" {
		t.Fatal("the QR screen names no QR")
	}
	w := display.Screen{Kind: display.Withdrawn, PaymentID: "pay_1", Amount: money(t, 1292, "CNY"), Wallet: pos.WeChatPay, State: pos.StateUserPaying,
		Expires: time.Now().Add(time.Minute)}
	if err := d.Show(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	v := state(t, srv.URL)
	if v.QR != "" || v.Kind != string(display.Withdrawn) {
		t.Errorf("after the cancel the page is %q with QR %q, want withdrawn and no QR", v.Kind, v.QR)
	}
	if resp, _ := get(t, srv.URL+qr); resp.StatusCode != 404 {
		t.Errorf("the withdrawn QR's PNG answered %s, want 404", resp.Status)
	}
	var text strings.Builder
	for _, lt := range v.Texts {
		text.WriteString(lt.Heading + " " + lt.Message + " ")
	}
	for _, want := range []string{"Please do not scan or pay this order.", "請勿掃碼或支付此訂單。"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the withdrawn page lacks %q: %s", want, text.String())
		}
	}
	if v.Tone != "bad" {
		t.Errorf("tone %q, want bad (a warning)", v.Tone)
	}
}
