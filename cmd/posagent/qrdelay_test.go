package main

import (
	"log/slog"
	"testing"

	gwsim "github.com/posagent/posagent/gateways/sim"
)

// TestEverySimulatorDelaysMerchantQR: the demo can give every simulator's
// customer time to look at the QR (--qr-paid-after), so none pays it at
// the first query.
func TestEverySimulatorDelaysMerchantQR(t *testing.T) {
	for kind, s := range simulatedKinds {
		h, err := s.handler(t.TempDir(), "", slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if _, ok := h.(interface{ Ledger() *gwsim.Ledger }); !ok {
			t.Errorf("the %s simulator (%T) has no ledger to set the QR delay on", kind, h)
		}
		if c, ok := h.(interface{ Close() error }); ok {
			_ = c.Close()
		}
	}
	if DefaultQRPaidAfter.Seconds() < 8 || tourQRPaidAfter.Seconds() > 2 {
		t.Errorf("QR delays: demo %v (want about 10 s, to look at the QR), tour %v (want short)", DefaultQRPaidAfter, tourQRPaidAfter)
	}
}
