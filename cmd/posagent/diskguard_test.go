package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/hw/display/poledisplay"
	"github.com/posagent/posagent/hw/display/termdisplay"
	"github.com/posagent/posagent/hw/display/webdisplay"
)

func TestDiskGuardRefusesNewPaymentsWhenFull(t *testing.T) {
	reached := 0
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++; w.WriteHeader(201) })
	free := uint64(10 << 20)
	h := withDiskGuard(api, "/state", minFreeJournal, func(string) (uint64, error) { return free, nil }, nil, slog.New(slog.DiscardHandler))
	do := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(`{}`)))
		return rec
	}
	for _, path := range []string{"/v1/payments", "/v1/payments/pay_1/refunds"} {
		rec := do("POST", path)
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != 503 || !strings.Contains(string(body), "urn:posagent:problem:unavailable") || !strings.Contains(string(body), "10 MiB free") {
			t.Errorf("POST %s with 10 MiB free: %d %s", path, rec.Code, body)
		}
	}
	if reached != 0 {
		t.Fatalf("a refused create reached the API %d times", reached)
	}
	// Reads, cancels and the payments under way go on.
	for _, r := range [][2]string{{"GET", "/v1/payments"}, {"POST", "/v1/payments/pay_1/cancel"}} {
		if rec := do(r[0], r[1]); rec.Code != 201 {
			t.Errorf("%s %s refused while the disk is full: %d", r[0], r[1], rec.Code)
		}
	}
	free = 1 << 30
	if rec := do("POST", "/v1/payments"); rec.Code != 201 {
		t.Errorf("with room again: %d", rec.Code)
	}
	// The real file system answers.
	if n, err := freeBytes(t.TempDir()); err != nil || n == 0 {
		t.Errorf("freeBytes: %d %v", n, err)
	}
}

// TestDiskGuardTellsTheCustomer: a payment refused for disk shows the
// display's own "pay another way" sentence on every kind of customer
// display at once (two web pages in the three languages, a pole display on
// a pseudo-terminal, the terminal display), through the same
// display.Display the runner uses; a refused refund and a payment taken
// show nothing.
func TestDiskGuardTellsTheCustomer(t *testing.T) {
	ctx := context.Background()
	webA, err := webdisplay.New(webdisplay.Options{Languages: []string{"en", "zh-Hans"}})
	if err != nil {
		t.Fatal(err)
	}
	webB, err := webdisplay.New(webdisplay.Options{Languages: []string{"zh-Hant"}})
	if err != nil {
		t.Fatal(err)
	}
	srvA, srvB := httptest.NewServer(webA), httptest.NewServer(webB)
	defer srvA.Close()
	defer srvB.Close()
	m, s, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	defer m.Close()
	defer s.Close()
	poleBytes := &syncBuffer{}
	go func() { _, _ = io.Copy(poleBytes, m) }()
	pole, err := poledisplay.New(poledisplay.Options{Port: s.Name()})
	if err != nil {
		t.Fatal(err)
	}
	defer pole.Close()
	var term strings.Builder
	disp := display.Multi(webA, webB, pole, termdisplay.New(&term, ""))

	reached := 0
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached++; w.WriteHeader(201) })
	free := uint64(1 << 20)
	h := withDiskGuard(api, "/state", minFreeJournal, func(string) (uint64, error) { return free, nil }, disp, slog.New(slog.DiscardHandler))
	post := func(path string) int {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(`{}`)).WithContext(ctx))
		return rec.Code
	}
	texts := func(base string) string {
		resp, err := http.Get(base + "/state")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct {
			Kind  string
			Texts []struct{ Lang, Heading, Message string }
		}
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatal(err)
		}
		out := v.Kind
		for _, x := range v.Texts {
			out += "|" + x.Lang + ":" + x.Heading + ":" + x.Message
		}
		return out
	}

	// A refund refused for disk is the cashier's business, not the customer's.
	if code := post("/v1/payments/pay_1/refunds"); code != 503 {
		t.Fatalf("refund with 1 MiB free: %d", code)
	}
	if got := texts(srvA.URL); !strings.HasPrefix(got, "idle|") {
		t.Errorf("a refused refund changed the customer display: %s", got)
	}

	if code := post("/v1/payments"); code != 503 {
		t.Fatalf("payment with 1 MiB free: %d", code)
	}
	if reached != 0 {
		t.Fatalf("a refused payment reached the API")
	}
	for base, want := range map[string][]string{
		srvA.URL: {"rejected|", "en:Cannot take payments:This till cannot take payments right now. Please pay another way.", "zh-Hans:暂停收款:本收银台暂时无法收款，请换一种方式支付。"},
		srvB.URL: {"rejected|", "zh-Hant:暫停收款:本收銀台暫時無法收款，請改用其他方式付款。"},
	} {
		got := texts(base)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("web display shows %s; want %q", got, w)
			}
		}
	}
	if got := term.String(); !strings.Contains(got, "Cannot take payments: This till cannot take payments right now. Please pay another way.") || strings.Contains(got, "Amount due") {
		t.Errorf("terminal display shows %q", got)
	}
	want := "\x1f\x24\x01\x01Pay another way     \x1f\x24\x01\x02                    "
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(poleBytes.String(), want) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := poleBytes.String(); !strings.Contains(got, want) {
		t.Errorf("pole display got %q, want it to end with %q", got, want)
	}

	// With room again the payment goes through and the guard shows nothing
	// (the runner's screens take over).
	free = 1 << 30
	before := term.Len()
	if code := post("/v1/payments"); code != 201 || reached != 1 {
		t.Errorf("with room again: %d (reached %d)", code, reached)
	}
	if term.Len() != before {
		t.Errorf("the guard drew on the display for a payment it let through: %q", term.String()[before:])
	}
}
