package localapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/localapi/openapitest"
	"github.com/posagent/posagent/store"
)

type fakeLister struct{}

func (fakeLister) ListPayments(ctx context.Context, f store.PaymentFilter) ([]pos.Payment, error) {
	return []pos.Payment{{ID: "pay_1", State: pos.StateSucceeded, Amount: pos.Money{Minor: 100, Currency: "CNY"}, Method: pos.Micropay, Gateway: "mmsp", OutTradeNo: "PA1", CreatedAt: time.Now(), UpdatedAt: time.Now()}}, nil
}

type fakeFeed struct{}

func (fakeFeed) EventsAfter(ctx context.Context, after int64, limit int) ([]pos.Event, error) {
	if after > 0 {
		return nil, nil
	}
	return []pos.Event{{Seq: 1, PaymentID: "pay_1", At: time.Now(), To: pos.StateSubmitting, Reason: "created"}}, nil
}
func (fakeFeed) RefundEventsAfter(ctx context.Context, after int64, limit int) ([]pos.RefundEvent, error) {
	return nil, nil
}

type fakeDrawer struct{ opened int }

func (d *fakeDrawer) OpenDrawer(ctx context.Context) error { d.opened++; return nil }

func fullServer(t *testing.T) *localapi.Server {
	t.Helper()
	s, err := localapi.New(localapi.Options{
		Payments: &recorder{}, Token: token, MaxWait: 50 * time.Millisecond,
		Refunds: &fakeRefunds{}, Receipts: &fakeReceipts{},
		Lister: fakeLister{}, Feed: fakeFeed{}, Drawer: &fakeDrawer{},
		Extra: extraRoutes(), Support: &localapi.SupportOptions{Outbox: newFakeOutbox()},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func loadDoc(t *testing.T) *openapitest.Doc {
	t.Helper()
	d, err := openapitest.Load(localapi.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Every route of the mux is in the document, and every operation of the
// document is a route.
func TestOpenAPIListsEveryRoute(t *testing.T) {
	d := loadDoc(t)
	var doc, mux []string
	for _, op := range d.Operations() {
		doc = append(doc, op.Method+" "+op.Path)
	}
	for _, r := range fullServer(t).Routes() {
		mux = append(mux, r)
	}
	sort.Strings(doc)
	sort.Strings(mux)
	if diff := cmp.Diff(mux, doc); diff != "" {
		t.Errorf("routes of the mux (-) and operations of openapi.json (+) differ:\n%s", diff)
	}
}

// Every documented operation answers (no 404 for want of a route, no 405),
// with a documented status and a body that matches its schema.
func TestOpenAPIEveryOperationAnswers(t *testing.T) {
	d := loadDoc(t)
	s := fullServer(t)
	bodies := map[string]string{
		"POST /v1/payments":              `{"amount":1291,"currency":"CNY","auth_code":"284567890123456789","reference":"till-7"}`,
		"POST /v1/payments/{id}/refunds": `{"amount":100}`,
		"POST /v1/payments/{id}/reprint": ``,
		"POST /v1/payments/{id}/cancel":  ``,
		"POST /v1/payments/{id}/void":    ``,
		"POST /v1/drawer/open":           ``,
		"POST /v1/outbox/{id}/resolve":   `{"outcome":"failed","reason":"confirmed with the acquirer: not charged","by":"ops"}`,
		"POST /v1/payments/lookup":       `{"out_trade_id":"MP1","payment_no":"P1","gateway":"hipopay"}`,
	}
	for _, op := range d.Operations() {
		t.Run(op.Method+" "+op.Path, func(t *testing.T) {
			path := strings.ReplaceAll(op.Path, "{id}", "pay_1")
			if strings.HasPrefix(op.Path, "/v1/refunds/") {
				path = strings.ReplaceAll(op.Path, "{id}", "ref_1")
			}
			if strings.HasPrefix(op.Path, "/v1/outbox/") {
				path = strings.ReplaceAll(op.Path, "{id}", "op_1")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			req := httptest.NewRequest(op.Method, "http://127.0.0.1:8417"+path, strings.NewReader(bodies[op.Method+" "+op.Path])).WithContext(ctx)
			req.Header.Set("Authorization", "Bearer "+token)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code == http.StatusNotFound && strings.Contains(w.Body.String(), "no route") || w.Code == http.StatusMethodNotAllowed {
				t.Fatalf("documented operation has no route: %d %s", w.Code, w.Body)
			}
			if err := d.CheckAnswer(op.Method, path, w.Code, w.Header().Get("Content-Type"), w.Body.Bytes()); err != nil {
				t.Errorf("%v\n%s", err, w.Body)
			}
		})
	}
}

// The validator itself: a schema violation is found.
func TestOpenAPIValidatorFindsViolations(t *testing.T) {
	d := loadDoc(t)
	for _, tc := range []struct{ name, body string }{
		{"missing required", `{"id":"pay_1"}`},
		{"unknown property", `{"id":"p","state":"pending","detail":"submitting","amount":1,"currency":"CNY","method":"micropay","gateway":"g","out_trade_no":"o","created_at":"2026-12-01T00:00:00Z","updated_at":"2026-12-01T00:00:00Z","extra":1}`},
		{"bad enum", `{"id":"p","state":"maybe","detail":"submitting","amount":1,"currency":"CNY","method":"micropay","gateway":"g","out_trade_no":"o","created_at":"2026-12-01T00:00:00Z","updated_at":"2026-12-01T00:00:00Z"}`},
		{"not an integer", `{"id":"p","state":"pending","detail":"submitting","amount":1.5,"currency":"CNY","method":"micropay","gateway":"g","out_trade_no":"o","created_at":"2026-12-01T00:00:00Z","updated_at":"2026-12-01T00:00:00Z"}`},
		{"bad time", `{"id":"p","state":"pending","detail":"submitting","amount":1,"currency":"CNY","method":"micropay","gateway":"g","out_trade_no":"o","created_at":"yesterday","updated_at":"2026-12-01T00:00:00Z"}`},
	} {
		if err := d.CheckAnswer("GET", "/v1/payments/pay_1", 200, "application/json", []byte(tc.body)); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	if err := d.CheckAnswer("GET", "/v1/payments/pay_1", 418, "application/json", []byte(`{}`)); err == nil {
		t.Errorf("undocumented status accepted")
	}
	if err := d.CheckAnswer("GET", "/v1/nowhere", 200, "application/json", []byte(`{}`)); err == nil {
		t.Errorf("undocumented path accepted")
	}
}

// The document is served.
func TestOpenAPIServed(t *testing.T) {
	w := do(fullServer(t), "GET", "/v1/openapi.json", "", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"openapi": "3.1.0"`) {
		t.Fatalf("%d %.200s", w.Code, w.Body)
	}
}

// A concrete path belongs to its literal template before a parameter one,
// as in the mux: /v1/payments/lookup is not /v1/payments/{id} (the paths
// are a map, so a wrong choice shows on some of the tries).
func TestOpenAPIMatchPrefersLiteralSegments(t *testing.T) {
	d := loadDoc(t)
	for range 20 {
		if tmpl, ok := d.Match("/v1/payments/lookup"); !ok || tmpl != "/v1/payments/lookup" {
			t.Fatalf("Match(/v1/payments/lookup) = %q, %v", tmpl, ok)
		}
	}
	if tmpl, ok := d.Match("/v1/payments/pay_1"); !ok || tmpl != "/v1/payments/{id}" {
		t.Errorf("Match(/v1/payments/pay_1) = %q, %v", tmpl, ok)
	}
}
