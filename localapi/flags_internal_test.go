package localapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/posagent/posagent"
)

// TestPaymentJSONShowsFlags: a payment charged after the till gave up, and
// one with an alert, say so in the API; a refund needing attention too. A
// journal that cannot be written refuses new payments with 503.
func TestPaymentJSONShowsFlags(t *testing.T) {
	p := pos.Payment{ID: "pay_1", State: pos.StateFailed, Amount: pos.Money{Minor: 100, Currency: "CNY"}, ChargedLate: true, Alert: "paid after the till gave up"}
	b, _ := json.Marshal(paymentJSON(p))
	if !strings.Contains(string(b), `"charged_late":true`) || !strings.Contains(string(b), `"alert":"paid after the till gave up"`) {
		t.Errorf("payment JSON %s lacks the flags", b)
	}
	ok, _ := json.Marshal(paymentJSON(pos.Payment{ID: "pay_2", State: pos.StateSucceeded}))
	if strings.Contains(string(ok), "charged_late") || strings.Contains(string(ok), "alert") {
		t.Errorf("payment without flags shows them: %s", ok)
	}
	r := pos.Refund{ID: "ref_1", State: pos.RefundAttention, Alert: "refund the customer offline", Amount: pos.Money{Minor: 50, Currency: "CNY"}}
	rb, _ := json.Marshal(refundJSON(r))
	if !strings.Contains(string(rb), `"state":"attention"`) || !strings.Contains(string(rb), `"alert":"refund the customer offline"`) {
		t.Errorf("refund JSON %s lacks its state or alert", rb)
	}
	if got := statusFor(pos.Unavailable); got != http.StatusServiceUnavailable {
		t.Errorf("Unavailable maps to %d, want 503", got)
	}
}
