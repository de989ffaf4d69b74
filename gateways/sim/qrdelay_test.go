package sim

import (
	"testing"
	"time"
)

// TestQRPayDelay: with a delay the simulated customer scans the QR only
// after it: queries before see NOTPAY, the first one after sees it paid.
// Other scenarios are untouched.
func TestQRPayDelay(t *testing.T) {
	l, err := OpenLedger("")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l.SetClock(func() time.Time { return now })
	l.SetQRPayDelay(10 * time.Second)
	if _, err := l.NewOrder(Order{OutTradeNo: "QR1", Method: "qr", Amount: 1200, Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	for _, after := range []time.Duration{time.Second, 5 * time.Second, 9 * time.Second} {
		now = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Add(after)
		if o, err := l.Query("QR1"); err != nil || o.State != NotPay {
			t.Fatalf("%v after creation: %s %v, want NOTPAY (the customer is still looking at the QR)", after, o.State, err)
		}
	}
	now = time.Date(2026, 12, 1, 10, 0, 10, 0, time.UTC)
	if o, err := l.Query("QR1"); err != nil || o.State != Success {
		t.Fatalf("10 s after creation: %s %v, want SUCCESS", o.State, err)
	}
	// Micropay is paid at once whatever the QR delay.
	if o, err := l.NewOrder(Order{OutTradeNo: "MP1", Method: "micropay", Amount: 1200, Currency: "CNY"}); err != nil || o.State != Success {
		t.Fatalf("micropay: %s %v", o.State, err)
	}
	// Without a delay a QR is paid by its first query.
	l.SetQRPayDelay(0)
	if _, err := l.NewOrder(Order{OutTradeNo: "QR2", Method: "qr", Amount: 1200, Currency: "CNY"}); err != nil {
		t.Fatal(err)
	}
	if o, _ := l.Query("QR2"); o.State != Success {
		t.Fatalf("no delay: %s, want SUCCESS at the first query", o.State)
	}
}
