package localapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
)

// fakeOutbox holds one payment item op_1 and one refund item rop_2.
type fakeOutbox struct {
	items    []flows.OutboxItem
	retried  []string
	resolved []flows.Resolution
}

func newFakeOutbox() *fakeOutbox {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	return &fakeOutbox{items: []flows.OutboxItem{
		{ID: "op_1", PaymentID: "pay_1", Kind: "reverse", Attempts: 7, LastError: "reverse: error: timeout", NextTry: at, CreatedAt: at, PendingSince: at,
			State: "reversing", Gateway: "allinpay", OutTradeNo: "PA1", Amount: pos.Money{Minor: 1291, Currency: "CNY"}, Alert: true},
		{ID: "rop_2", PaymentID: "pay_2", RefundID: "ref_2", Kind: "refund_query", NextTry: at, CreatedAt: at, PendingSince: at,
			State: "unknown", Gateway: "allinpay", OutTradeNo: "PA2", OutRefundNo: "RF2", Amount: pos.Money{Minor: 100, Currency: "CNY"}},
	}}
}

func (f *fakeOutbox) List(ctx context.Context) ([]flows.OutboxItem, error) { return f.items, nil }
func (f *fakeOutbox) AlertAfter() time.Duration                            { return 5 * time.Minute }
func (f *fakeOutbox) find(id string) (flows.OutboxItem, error) {
	for _, it := range f.items {
		if it.ID == id {
			return it, nil
		}
	}
	return flows.OutboxItem{}, pos.Errorf(pos.NotFound, "fake", "no outbox item %s", id)
}
func (f *fakeOutbox) Retry(ctx context.Context, id string) (flows.OutboxItem, error) {
	it, err := f.find(id)
	if err == nil {
		f.retried = append(f.retried, id)
	}
	return it, err
}
func (f *fakeOutbox) Resolve(ctx context.Context, id string, res flows.Resolution) (flows.Resolved, error) {
	if _, err := f.find(id); err != nil {
		return flows.Resolved{}, err
	}
	if res.Outcome != "failed" {
		return flows.Resolved{}, pos.Errorf(pos.Invalid, "fake", "reversing cannot become %s", res.Outcome)
	}
	f.resolved = append(f.resolved, res)
	p := pos.Payment{ID: "pay_1", State: pos.StateFailed, Amount: pos.Money{Minor: 1291, Currency: "CNY"}, Method: pos.Micropay, Gateway: "allinpay", OutTradeNo: "PA1"}
	return flows.Resolved{Payment: &p}, nil
}

// The outbox routes are behind the token, list the items with their
// flags, pass retry and resolve through, and answer refusals with the
// API's problem statuses.
func TestOutboxRoutes(t *testing.T) {
	f := newFakeOutbox()
	s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token, Extra: localapi.OutboxHandlers(f)})
	if err != nil {
		t.Fatal(err)
	}
	if w := do(s, "GET", "/v1/outbox", "", map[string]string{"Authorization": ""}); w.Code != http.StatusUnauthorized {
		t.Fatalf("without token: %d", w.Code)
	}
	w := do(s, "GET", "/v1/outbox", "", nil)
	var list localapi.OutboxList
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 {
		t.Fatalf("%d %s %v", w.Code, w.Body, err)
	}
	if len(list.Items) != 2 || list.Alerts != 1 || list.AlertAfter != "5m0s" || !list.Items[0].Alert || list.Items[0].Attempts != 7 ||
		list.Items[0].LastError == "" || list.Items[1].RefundID != "ref_2" || list.Items[1].Kind != "refund_query" {
		t.Errorf("list = %+v", list)
	}
	if w := do(s, "POST", "/v1/outbox/op_1/retry", "", nil); w.Code != http.StatusAccepted || len(f.retried) != 1 {
		t.Errorf("retry = %d %s (retried %v)", w.Code, w.Body, f.retried)
	}
	if w := do(s, "POST", "/v1/outbox/op_9/retry", "", nil); w.Code != http.StatusNotFound {
		t.Errorf("retry unknown = %d", w.Code)
	}
	w = do(s, "POST", "/v1/outbox/op_1/resolve", `{"outcome":"failed","reason":"confirmed: not charged","by":"ops-ana"}`, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"state": "failed"`) || len(f.resolved) != 1 || f.resolved[0].By != "ops-ana" || f.resolved[0].Reason != "confirmed: not charged" {
		t.Errorf("resolve = %d %s %+v", w.Code, w.Body, f.resolved)
	}
	for body, want := range map[string]int{
		`{"outcome":"reversed","reason":"x","by":"y"}`: http.StatusUnprocessableEntity,
		``:                           http.StatusBadRequest,
		`{"outcome":"failed","x":1}`: http.StatusBadRequest,
	} {
		if w := do(s, "POST", "/v1/outbox/op_1/resolve", body, nil); w.Code != want {
			t.Errorf("resolve %q = %d %s, want %d", body, w.Code, w.Body, want)
		}
	}
}
