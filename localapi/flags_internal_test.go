package localapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

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

// TestServerTimeoutDefaults: a server built without options gets the
// documented 5 s header, 10 s body and 30 s idle limits (ARCHITECTURE.md,
// "Connections cannot starve the till"); TestServerTimeouts proves each
// limit disconnects.
func TestServerTimeoutDefaults(t *testing.T) {
	o := ServerOptions{}.withDefaults()
	if o.ReadHeaderTimeout != 5*time.Second || o.BodyTimeout != 10*time.Second || o.IdleTimeout != 30*time.Second {
		t.Errorf("defaults: header %v, body %v, idle %v; want 5s, 10s, 30s", o.ReadHeaderTimeout, o.BodyTimeout, o.IdleTimeout)
	}
	srv, _ := NewHTTPServer(http.NotFoundHandler(), ServerOptions{})
	if srv.ReadHeaderTimeout != 5*time.Second || srv.IdleTimeout != 30*time.Second {
		t.Errorf("server: header %v, idle %v; want 5s, 30s", srv.ReadHeaderTimeout, srv.IdleTimeout)
	}
	if srv.ReadTimeout != 0 || srv.WriteTimeout != 0 {
		t.Errorf("server: ReadTimeout %v, WriteTimeout %v; want none (they would cut off long-polls and event streams)", srv.ReadTimeout, srv.WriteTimeout)
	}
}
