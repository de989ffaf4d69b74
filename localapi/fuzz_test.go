package localapi_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/localapi"
)

// fuzzRoutes are the API's requests with a JSON body, each on an ID the
// fakes know so a good body gets past the lookup.
var fuzzRoutes = []string{
	"/v1/payments",
	"/v1/payments/pay_1/cancel",
	"/v1/payments/pay_1/void",
	"/v1/payments/pay_1/reprint",
	"/v1/payments/pay_1/refunds",
	"/v1/refunds/ref_1/reprint",
	"/v1/payments/lookup",
	"/v1/outbox/op_1/retry",
	"/v1/outbox/op_1/resolve",
}

// readmeBodies are the request bodies of the README's examples
// (`curl -d '...'`): the API's worked examples.
func readmeBodies(f *testing.F) []string {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		f.Fatal(err)
	}
	var out []string
	for _, m := range regexp.MustCompile(`-d '([^']*)'`).FindAllStringSubmatch(string(b), -1) {
		out = append(out, m[1])
	}
	if len(out) == 0 {
		f.Fatal("the README has no curl -d example: the seeds are gone")
	}
	return out
}

// FuzzRequestBodies: whatever the body of a POST, the API answers a
// success or an RFC 9457 problem of its own list (never a panic, never a
// 500), and a refused body reaches none of the services behind it (bad
// input changes nothing).
func FuzzRequestBodies(f *testing.F) {
	seeds := append(readmeBodies(f),
		`{"amount":1291,"currency":"CNY","auth_code":"134567890123456789","reference":"order-1"}`,
		`{"amount":100,"currency":"CNY","method":"qr","wallet":"wechat"}`,
		`{"amount":300,"reason":"returned"}`, `{"kinds":["payment-customer"]}`,
		`{"out_trade_id":"MP1","payment_no":"P1","gateway":"hipopay"}`,
		`{"outcome":"reversed","reason":"acquirer confirmed by phone","by":"ops"}`,
		`{"amount":1,"amount":2}`, `{"AMOUNT":1}`, `{}`, ``, `[]`, `null`, `{"amount":1e400}`)
	for i := range fuzzRoutes {
		for _, s := range seeds {
			f.Add(uint8(i), []byte(s), "application/json")
		}
	}
	f.Add(uint8(0), []byte("amount=100"), "application/x-www-form-urlencoded")
	known := map[string]bool{}
	// The problem types of localapi/problem.go, less "internal" (a bug).
	for _, typ := range []string{"malformed-request", "unauthorized", "forbidden", "not-found", "method-not-allowed", "conflict",
		"payment-waiting", "idempotency-key-reused", "payload-too-large", "unsupported-media-type", "invalid-field",
		"rate-limited", "unavailable", "declined", "outcome-unknown"} {
		known["urn:posagent:problem:"+typ] = true
	}
	f.Fuzz(func(t *testing.T, route uint8, body []byte, contentType string) {
		rec, rf, lk, ob := &recorder{}, &fakeRefunds{}, &lookups{}, newFakeOutbox()
		extra := localapi.OutboxHandlers(ob)
		maps.Copy(extra, map[string]http.Handler{localapi.LookupPattern: localapi.LookupHandler(lk)})
		s, err := localapi.New(localapi.Options{Payments: rec, Token: token, MaxWait: 10 * time.Millisecond, CreateWait: time.Millisecond,
			Refunds: rf, Receipts: &fakeRefundReceipts{}, Extra: extra, RateLimit: -1})
		if err != nil {
			t.Fatal(err)
		}
		path := fuzzRoutes[int(route)%len(fuzzRoutes)]
		req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8417"+path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable && w.Code != http.StatusGatewayTimeout {
			t.Fatalf("POST %s %q: %d %s", path, body, w.Code, w.Body)
		}
		if w.Code < 400 {
			return
		}
		var pb localapi.Problem
		if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Fatalf("POST %s %q: %d with Content-Type %q", path, body, w.Code, ct)
		}
		if err := json.Unmarshal(w.Body.Bytes(), &pb); err != nil || pb.Status != w.Code || !known[pb.Type] || pb.Detail == "" {
			t.Fatalf("POST %s %q: %d, problem %s", path, body, w.Code, w.Body)
		}
		if w.Code < 500 && w.Code != http.StatusNotFound && w.Code != http.StatusConflict &&
			(len(rec.started) > 0 || len(rf.asked) > 0 || len(lk.got) > 0 || len(ob.retried) > 0 || len(ob.resolved) > 0) {
			t.Fatalf("POST %s %q was refused (%d) but reached the service behind it", path, body, w.Code)
		}
	})
}
