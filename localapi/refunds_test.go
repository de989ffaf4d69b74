package localapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
)

// fakeRefunds answers like flows.RefundRunner over two payments: pay_1
// succeeded with 12.00 CNY, 3.00 of it refunded; pay_failed failed.
type fakeRefunds struct {
	asked []flows.RefundRequest
}

var refundAt = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func (f *fakeRefunds) payment(id string) (pos.Payment, error) {
	switch id {
	case "pay_1":
		return pos.Payment{ID: id, State: pos.StateSucceeded, Amount: pos.Money{Minor: 1200, Currency: "CNY"}}, nil
	case "pay_failed":
		return pos.Payment{ID: id, State: pos.StateFailed, Amount: pos.Money{Minor: 1200, Currency: "CNY"}}, nil
	}
	return pos.Payment{}, pos.Errorf(pos.NotFound, "test", "no payment %s", id)
}

func (f *fakeRefunds) Refund(ctx context.Context, req flows.RefundRequest) (pos.Refund, error) {
	p, err := f.payment(req.PaymentID)
	if err != nil {
		return pos.Refund{}, err
	}
	if p.State != pos.StateSucceeded {
		return pos.Refund{}, pos.Errorf(pos.Conflict, "test", "payment %s is failed; only a succeeded payment can be refunded", p.ID)
	}
	amount := req.Amount
	if amount.Minor == 0 {
		amount = pos.Money{Minor: 900, Currency: "CNY"}
	}
	if amount.Minor > 900 {
		return pos.Refund{}, pos.Errorf(pos.Conflict, "test", "refund of %s exceeds what is left to refund of payment %s: 9.00 CNY", amount, p.ID)
	}
	f.asked = append(f.asked, req)
	return pos.Refund{ID: "ref_2", PaymentID: p.ID, OutRefundNo: "RF20260314120000" + "0002", Amount: amount, Reason: req.Reason,
		State: pos.RefundSucceeded, GatewayRefundID: "50002", CreatedAt: refundAt, UpdatedAt: refundAt}, nil
}

func (f *fakeRefunds) GetRefund(ctx context.Context, id string) (pos.Refund, error) {
	if id != "ref_1" {
		return pos.Refund{}, pos.Errorf(pos.NotFound, "test", "no refund %s", id)
	}
	return pos.Refund{ID: id, PaymentID: "pay_1", OutRefundNo: "RF202603141200000001", Amount: pos.Money{Minor: 300, Currency: "CNY"},
		State: pos.RefundUnknown, Outcome: "no answer to the refund", CreatedAt: refundAt, UpdatedAt: refundAt}, nil
}

func (f *fakeRefunds) WaitRefund(ctx context.Context, id string, seen pos.RefundState) (pos.Refund, error) {
	r, err := f.GetRefund(ctx, id)
	if err == nil && seen == r.State {
		r.State, r.Outcome, r.GatewayRefundID = pos.RefundSucceeded, "", "50001"
	}
	return r, err
}

func (f *fakeRefunds) PaymentRefunds(ctx context.Context, id string) (flows.RefundBalance, error) {
	p, err := f.payment(id)
	if err != nil {
		return flows.RefundBalance{}, err
	}
	r, _ := f.GetRefund(ctx, "ref_1")
	cny := func(m int64) pos.Money { return pos.Money{Minor: m, Currency: "CNY"} }
	return flows.RefundBalance{Payment: p, Refunds: []pos.Refund{r}, Refunded: cny(0), Pending: cny(300), Held: cny(300), Left: cny(900)}, nil
}

func (f *fakeRefunds) RefundJobs(ctx context.Context, id string) ([]store.PrintJob, error) {
	if id != "ref_1" {
		return nil, pos.Errorf(pos.NotFound, "test", "no refund %s", id)
	}
	return []store.PrintJob{{ID: 3, PaymentID: "pay_1", RefundID: id, Kind: store.ReceiptRefundCustomer, CreatedAt: refundAt, PrintedAt: refundAt}}, nil
}

func newRefundServer(t *testing.T, rf localapi.Refunds) http.Handler {
	t.Helper()
	s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token, Refunds: rf})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCreateRefund(t *testing.T) {
	tests := []struct {
		name, id, body string
		status         int
		want           string // in the body
		asked          *flows.RefundRequest
	}{
		{"part", "pay_1", `{"amount":500,"reason":"one item returned"}`, http.StatusCreated, `"state": "succeeded"`,
			&flows.RefundRequest{PaymentID: "pay_1", Amount: pos.Money{Minor: 500, Currency: "CNY"}, Reason: "one item returned"}},
		{"all that is left, no body", "pay_1", "", http.StatusCreated, `"amount": 900`, &flows.RefundRequest{PaymentID: "pay_1"}},
		{"all that is left, no amount", "pay_1", `{"reason":"void sale"}`, http.StatusCreated, `"amount": 900`, &flows.RefundRequest{PaymentID: "pay_1", Reason: "void sale"}},
		{"over-refund", "pay_1", `{"amount":901}`, http.StatusConflict, "exceeds what is left", nil},
		{"not succeeded", "pay_failed", `{"amount":100}`, http.StatusConflict, "only a succeeded payment", nil},
		{"unknown payment", "pay_nobody", `{"amount":100}`, http.StatusNotFound, "no payment pay_nobody", nil},
		{"decimal amount", "pay_1", `{"amount":5.00}`, http.StatusUnprocessableEntity, "integer in minor units", nil},
		{"string amount", "pay_1", `{"amount":"500"}`, http.StatusUnprocessableEntity, "not a string", nil},
		{"zero amount", "pay_1", `{"amount":0}`, http.StatusUnprocessableEntity, "positive", nil},
		{"negative amount", "pay_1", `{"amount":-5}`, http.StatusUnprocessableEntity, "positive", nil},
		{"unknown field", "pay_1", `{"amount":500,"currency":"CNY"}`, http.StatusBadRequest, "unknown field", nil},
		{"reason too long", "pay_1", `{"reason":"` + strings.Repeat("x", 81) + `"}`, http.StatusUnprocessableEntity, "reason is longer", nil},
		{"not JSON", "pay_1", `amount=500`, http.StatusBadRequest, "bad JSON", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rf := &fakeRefunds{}
			w := do(newRefundServer(t, rf), "POST", "/v1/payments/"+tc.id+"/refunds", tc.body, nil)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("got %d %s, want %d containing %q", w.Code, w.Body, tc.status, tc.want)
			}
			var asked []flows.RefundRequest
			if tc.asked != nil {
				asked = []flows.RefundRequest{*tc.asked}
			}
			if tc.status != http.StatusCreated {
				asked = nil
			}
			if diff := cmp.Diff(asked, rf.asked); diff != "" {
				t.Errorf("refunds asked of flows (-want +got):\n%s", diff)
			}
		})
	}
}

func TestListAndGetRefunds(t *testing.T) {
	h := newRefundServer(t, &fakeRefunds{})
	w := do(h, "GET", "/v1/payments/pay_1/refunds", "", nil)
	var list struct {
		PaymentID  string            `json:"payment_id"`
		Paid       int64             `json:"paid"`
		Pending    int64             `json:"pending"`
		Refundable int64             `json:"refundable"`
		Refunds    []localapi.Refund `json:"refunds"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 {
		t.Fatalf("list: %d %s %v", w.Code, w.Body, err)
	}
	if list.Paid != 1200 || list.Pending != 300 || list.Refundable != 900 || len(list.Refunds) != 1 || list.Refunds[0].State != "pending" || list.Refunds[0].Detail != "unknown" {
		t.Errorf("list: %+v", list)
	}
	if w := do(h, "GET", "/v1/payments/pay_nobody/refunds", "", nil); w.Code != http.StatusNotFound {
		t.Errorf("list of an unknown payment: %d %s", w.Code, w.Body)
	}

	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/v1/refunds/ref_1", 200, `"state": "pending"`},
		{"/v1/refunds/ref_1?wait=5s", 200, `"state": "succeeded"`},
		{"/v1/refunds/ref_1?wait=5s&state=processing", 200, `"detail": "unknown"`},
		{"/v1/refunds/ref_1?wait=soon", 400, "duration"},
		{"/v1/refunds/ref_1?wait=1s&state=refunding", 400, "unknown refund state"},
		{"/v1/refunds/ref_nobody", 404, "no refund ref_nobody"},
		{"/v1/refunds/ref_1/receipts", 200, `"refund_id": "ref_1"`},
		{"/v1/refunds/ref_nobody/receipts", 404, "no refund ref_nobody"},
	}
	for _, tc := range tests {
		if w := do(h, "GET", tc.path, "", nil); w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("GET %s: %d %s, want %d containing %q", tc.path, w.Code, w.Body, tc.status, tc.want)
		}
	}
}

func TestRefundsNeedTokenAndService(t *testing.T) {
	h := newRefundServer(t, &fakeRefunds{})
	if w := do(h, "POST", "/v1/payments/pay_1/refunds", `{"amount":500}`, map[string]string{"Authorization": ""}); w.Code != http.StatusUnauthorized {
		t.Errorf("no token: %d", w.Code)
	}
	if w := do(h, "POST", "/v1/payments/pay_1/refunds", `{"amount":500}`, map[string]string{"Origin": "http://evil.example"}); w.Code != http.StatusForbidden {
		t.Errorf("from a web page: %d", w.Code)
	}
	s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	if w := do(s, "GET", "/v1/refunds/ref_1", "", nil); w.Code != http.StatusServiceUnavailable {
		t.Errorf("without refunds: %d %s", w.Code, w.Body)
	}
}
