package hipopay

import (
	"testing"

	"github.com/posagent/posagent/gateways"
)

const (
	succeeded = gateways.StatusSucceeded
	paying    = gateways.StatusUserPaying
	failed    = gateways.StatusFailed
	unknown   = gateways.StatusUnknown
)

// Spec "Payment Order Status".
func TestPaymentStatus(t *testing.T) {
	for s, want := range map[string]gateways.Status{
		"PAID": succeeded, "INIT": paying, "USERPAYING": paying, "FAIL": failed, "EXPIRED": failed,
		"": unknown, "paid": unknown, "REFUND": unknown, "CLOSED": unknown, "SUCCESS": unknown,
	} {
		if got := PaymentStatus(s); got != want {
			t.Errorf("PaymentStatus(%q) = %s, want %s", s, got, want)
		}
	}
}

// Spec "Refund Status" and "Refund Code".
func TestRefundStatus(t *testing.T) {
	cases := []struct {
		status, code string
		want         gateways.Status
	}{
		{"SUCCESS", "0000", succeeded},
		{"SUCCESS", "", succeeded},
		{"PROCESSING", "0000", paying},
		{"FAIL", "0011", failed}, // the spec's example: settled balance not enough
		{"FAIL", "0004", failed}, // not paid yet
		{"FAIL", "0006", failed}, // fully refunded
		{"FAIL", "0008", failed}, // refundable not enough
		{"FAIL", "0101", failed}, // NOTENOUGH
		{"FAIL", "0206", failed}, // RETURN_AMOUNT_EXCEED
		{"FAIL", "", failed},
		{"FAIL", "0000", unknown}, // "Refund Processing" beside FAIL
		{"FAIL", "0001", unknown}, // already exists: maybe our own
		{"FAIL", "0099", unknown},
		{"FAIL", "0104", unknown}, // need retry
		{"FAIL", "0205", unknown}, // repeated request
		{"FAIL", "0299", unknown},
		{"", "0000", unknown},
		{"REFUNDED", "0000", unknown},
	}
	for _, c := range cases {
		if got := RefundStatus(c.status, c.code); got != c.want {
			t.Errorf("RefundStatus(%q, %q) = %s, want %s", c.status, c.code, got, c.want)
		}
	}
}

func TestRefundRefusal(t *testing.T) {
	for code, want := range map[string]gateways.Status{
		ErrRefundAmountInvalid: failed, ErrIllegalSecurity: failed, ErrPaymentNotFound: failed,
		"": unknown, "SYSTEM_ERROR": unknown, ErrRefundNotFound: unknown,
	} {
		if got := RefundRefusal(code); got != want {
			t.Errorf("RefundRefusal(%q) = %s, want %s", code, got, want)
		}
	}
}
