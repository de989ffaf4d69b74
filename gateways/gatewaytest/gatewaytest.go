// Package gatewaytest is the contract suite every gateway adapter passes
// against its own simulator, over real HTTP. One suite, every
// implementation (the wtf/litestream pattern): an adapter is done when
//
//	func TestContract(t *testing.T) { gatewaytest.Run(t, harness) }
//
// passes. The suite exercises every operation the gateway declares in its
// Capabilities (and implements), for every wallet it declares, against
// every outcome class: success; user paying then success; user paying then
// reversed; declined (StatusFailed with a Reason); no answer, HTTP 5xx,
// malformed body, wrong response signature and a redirect to another URL
// (a pos.Unknown error, never followed, never
// StatusFailed); connection refused before sending (pos.Unavailable).
// It also covers query of an unknown order (pos.NotFound), reverse, close,
// partial refunds, and, for Notifiers, verified, duplicate, forged and
// early notifications.
//
// Outcomes are chosen through the simulator: magic amounts (gateways/sim)
// and per-order scripts (sim.Behaviour) set through the Controller.
package gatewaytest

import (
	"net/http"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/sim"
)

// Controller is the suite's handle on the simulator behind one gateway.
type Controller interface {
	// Script sets the behaviour of the order with this out_trade_no; the
	// suite calls it before submitting the order, or before the operation
	// the behaviour's fault is aimed at.
	Script(outTradeNo string, b sim.Behaviour)
	// Notification builds the asynchronous notification the acquirer would
	// POST for a paid order: its headers and body. With sim.BadSignature it
	// is well formed but signed with the wrong key.
	Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error)
	// Stop makes the simulator refuse connections from now on, so the next
	// call fails before anything is sent.
	Stop()
}

// Config is what the suite asks of a new gateway and simulator pair.
type Config struct {
	// NotifyURL is where the simulator posts payment notifications; the
	// gateway should also send it where the wire carries a notify URL.
	// Empty when the subtest does not listen.
	NotifyURL string
}

// Harness builds gateway and simulator pairs for the suite.
type Harness struct {
	// New returns a fresh gateway talking over real HTTP to a fresh
	// simulator, and the simulator's controller; cleanup goes to t.Cleanup.
	// Both must use fast timings: Timing().PollInterval and ReverseAfter
	// at most a second, and the simulator's rules no stricter than the
	// gateway's Timing.
	New func(t *testing.T, cfg Config) (gateways.Gateway, Controller)
	// Codes overrides the payment code used per wallet for micropay;
	// missing wallets use DefaultCodes.
	Codes map[pos.Wallet]string
	// Currency of the test amounts; empty means CNY.
	Currency pos.Currency
}

// DefaultCodes are well-formed payment codes (pos.ParseAuthCode accepts
// them) for every wallet that has customer-presented codes.
var DefaultCodes = map[pos.Wallet]string{
	pos.WeChatPay: "134567890123456789",
	pos.Alipay:    "284567890123456789",
	pos.UnionPay:  "6212345678901234567",
	pos.QQWallet:  "910123456789012345",
	pos.JDPay:     "181234567890123456",
}
