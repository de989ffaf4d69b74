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
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
)

// fakeReceipts answers like flows.Spool: pay_1 is final, pay_pending is
// not, anything else is unknown.
type fakeReceipts struct {
	asked []string // kinds of the last reprint
}

var jobAt = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

func (f *fakeReceipts) Reprint(ctx context.Context, id string, kinds ...string) ([]store.PrintJob, error) {
	switch id {
	case "pay_pending":
		return nil, pos.Errorf(pos.Conflict, "test", "payment %s is user_paying; its receipts print when it is final", id)
	case "pay_1":
	default:
		return nil, pos.Errorf(pos.NotFound, "test", "no payment %s", id)
	}
	f.asked = kinds
	if len(kinds) == 0 {
		kinds = []string{store.ReceiptMerchant, store.ReceiptCustomer}
	}
	var out []store.PrintJob
	for i, k := range kinds {
		out = append(out, store.PrintJob{ID: int64(10 + i), PaymentID: id, Kind: k, Reprint: true, CreatedAt: jobAt})
	}
	return out, nil
}

func (f *fakeReceipts) Jobs(ctx context.Context, id string) ([]store.PrintJob, error) {
	if id != "pay_1" {
		return nil, pos.Errorf(pos.NotFound, "test", "no payment %s", id)
	}
	return []store.PrintJob{
		{ID: 1, PaymentID: id, Kind: store.ReceiptCustomer, CreatedAt: jobAt, PrintedAt: jobAt.Add(time.Second)},
		{ID: 2, PaymentID: id, Kind: store.ReceiptCustomer, Reprint: true, CreatedAt: jobAt, Attempts: 2, LastError: "printer not ready: paper out"},
	}, nil
}

func newServerWithReceipts(t *testing.T, rc localapi.Receipts) http.Handler {
	t.Helper()
	s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token, Receipts: rc})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestReprint(t *testing.T) {
	rc := &fakeReceipts{}
	h := newServerWithReceipts(t, rc)
	tests := []struct {
		name, id, body string
		status         int
		want           string // in the body
	}{
		{"final payment, its copies", "pay_1", "", http.StatusAccepted, `"kind": "payment-merchant"`},
		{"one copy", "pay_1", `{"kinds":["payment-customer"]}`, http.StatusAccepted, `"kind": "payment-customer"`},
		{"pending payment", "pay_pending", "", http.StatusConflict, "when it is final"},
		{"unknown payment", "pay_nobody", "", http.StatusNotFound, "no payment pay_nobody"},
		{"unknown field", "pay_1", `{"copies":2}`, http.StatusBadRequest, "unknown field"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := do(h, "POST", "/v1/payments/"+tc.id+"/reprint", tc.body, nil)
			if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
				t.Fatalf("got %d %s, want %d containing %q", w.Code, w.Body, tc.status, tc.want)
			}
		})
	}
	if diff := cmp.Diff([]string{store.ReceiptCustomer}, rc.asked); diff != "" {
		t.Errorf("kinds passed to Reprint (-want +got):\n%s", diff)
	}

	w := do(h, "POST", "/v1/payments/pay_1/reprint", "", nil)
	var got struct {
		PaymentID string              `json:"payment_id"`
		Jobs      []localapi.PrintJob `json:"jobs"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []localapi.PrintJob{
		{ID: 10, PaymentID: "pay_1", Kind: store.ReceiptMerchant, State: "pending", Reprint: true, CreatedAt: jobAt},
		{ID: 11, PaymentID: "pay_1", Kind: store.ReceiptCustomer, State: "pending", Reprint: true, CreatedAt: jobAt},
	}
	if diff := cmp.Diff(want, got.Jobs); got.PaymentID != "pay_1" || diff != "" {
		t.Errorf("reprint answer for %s (-want +got):\n%s", got.PaymentID, diff)
	}

	// A reprint is a write: the browser guards and the token apply.
	if w := do(h, "POST", "/v1/payments/pay_1/reprint", "", map[string]string{"Origin": "http://evil.example"}); w.Code != http.StatusForbidden {
		t.Errorf("with Origin: %d", w.Code)
	}
	if w := do(h, "POST", "/v1/payments/pay_1/reprint", "", map[string]string{"Authorization": ""}); w.Code != http.StatusUnauthorized {
		t.Errorf("without token: %d", w.Code)
	}
}

func TestPaymentReceipts(t *testing.T) {
	h := newServerWithReceipts(t, &fakeReceipts{})
	w := do(h, "GET", "/v1/payments/pay_1/receipts", "", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var got struct{ Jobs []localapi.PrintJob }
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	printed := jobAt.Add(time.Second)
	want := []localapi.PrintJob{
		{ID: 1, PaymentID: "pay_1", Kind: store.ReceiptCustomer, State: "printed", CreatedAt: jobAt, PrintedAt: &printed},
		{ID: 2, PaymentID: "pay_1", Kind: store.ReceiptCustomer, State: "pending", Reprint: true, CreatedAt: jobAt, Attempts: 2, LastError: "printer not ready: paper out"},
	}
	if diff := cmp.Diff(want, got.Jobs); diff != "" {
		t.Errorf("receipts (-want +got):\n%s", diff)
	}
	if w := do(h, "GET", "/v1/payments/pay_x/receipts", "", nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown payment: %d", w.Code)
	}
}

func TestReprintWithoutPrinter(t *testing.T) {
	_, h := newServer(t)
	w := do(h, "POST", "/v1/payments/pay_1/reprint", "", nil)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "no printer is configured") {
		t.Errorf("got %d %s", w.Code, w.Body)
	}
}

// fakeRefundReceipts also reprints refunds: ref_1 is final.
type fakeRefundReceipts struct{ fakeReceipts }

func (f *fakeRefundReceipts) ReprintRefund(ctx context.Context, id string, kinds ...string) ([]store.PrintJob, error) {
	if id != "ref_1" {
		return nil, pos.Errorf(pos.NotFound, "test", "no refund %s", id)
	}
	if len(kinds) == 0 {
		kinds = []string{store.ReceiptRefundMerchant, store.ReceiptRefundCustomer}
	}
	var out []store.PrintJob
	for i, k := range kinds {
		out = append(out, store.PrintJob{ID: int64(20 + i), PaymentID: "pay_1", RefundID: id, Kind: k, Reprint: true, CreatedAt: jobAt})
	}
	return out, nil
}

func TestReprintRefund(t *testing.T) {
	h := newServerWithReceipts(t, &fakeRefundReceipts{})
	w := do(h, "POST", "/v1/refunds/ref_1/reprint", `{"kinds":["refund-customer"]}`, nil)
	if w.Code != http.StatusAccepted || !strings.Contains(w.Body.String(), `"refund_id": "ref_1"`) || !strings.Contains(w.Body.String(), `"kind": "refund-customer"`) {
		t.Fatalf("reprint of a refund: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/v1/refunds/ref_nobody/reprint", "", nil); w.Code != http.StatusNotFound {
		t.Errorf("unknown refund: %d %s", w.Code, w.Body)
	}
	if w := do(h, "POST", "/v1/refunds/ref_1/reprint", "", map[string]string{"Authorization": ""}); w.Code != http.StatusUnauthorized {
		t.Errorf("without token: %d", w.Code)
	}
	// A spool that cannot reprint refunds says so.
	if w := do(newServerWithReceipts(t, &fakeReceipts{}), "POST", "/v1/refunds/ref_1/reprint", "", nil); w.Code != http.StatusServiceUnavailable {
		t.Errorf("no refund reprints: %d %s", w.Code, w.Body)
	}
}
