package flows

import (
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// WalletRule is what a wallet's own rules add to its gateway's timing. The
// wallet table lives in flows, not in pos or in each adapter: the rules
// are the wallets' (WeChat's reverse API, QQ Wallet, Alipay's cancel), the
// same whichever acquirer carries the payment, and they only matter to the
// follow-up that flows decides. Each gateway's own Timing minimums apply on
// top: the stricter of the two wins.
type WalletRule struct {
	// ReverseAfter is the earliest a micropay may be reversed after the
	// pay's answer came back.
	ReverseAfter time.Duration
	// MinPayTimeout is the least time a micropay is followed by queries,
	// without reversing, after its answer: a wallet that refuses early
	// reverses gets at least that long to complete.
	MinPayTimeout time.Duration
	// CancelWithin, when not zero, is how long after the pay's answer a
	// reverse (cancel) is still allowed; after it the payment is only
	// queried until final (a paid one is refunded, not cancelled).
	CancelWithin time.Duration
	// Source cites where the rule comes from.
	Source string
}

// WalletRules maps a wallet to its rule; a wallet without an entry adds
// nothing to its gateway's timing.
type WalletRules map[pos.Wallet]WalletRule

// DefaultWalletRules is the wallets' published rules, used when
// Options.WalletRules is nil. The demo and the tests run the simulators
// with an empty table, as they run them with short gateway timings.
func DefaultWalletRules() WalletRules {
	return WalletRules{
		pos.WeChatPay: {ReverseAfter: 15 * time.Second,
			Source: "WeChat Pay micropay, 撤销订单 (pay.weixin.qq.com/wiki/doc/api/micropay.php?chapter=9_11): " +
				"\"调用支付接口后请勿立即调用撤销订单API，建议支付后至少15s后再调用撤销订单接口\"; MMSP §10.4 repeats it"},
		pos.QQWallet: {ReverseAfter: 5 * time.Minute, MinPayTimeout: 5 * time.Minute,
			Source: "QQ Wallet: do not reverse within 5 minutes of paying (issue 7 research, review M7); the MMSP spec is silent"},
		pos.Alipay: {CancelWithin: 24 * time.Hour,
			Source: "Alipay alipay.trade.cancel: a cancel is for a payment whose result is unknown, within 24 hours of it; later, refund"},
	}
}

// Policy is what Decide knows about a payment's gateway and wallet.
type Policy struct {
	Timing gateways.Timing
	Caps   gateways.Capabilities
	// Wallets is the wallet table; nil adds nothing.
	Wallets WalletRules
}

// rule returns the wallet's rule merged with the gateway's timing.
func (pol Policy) rule(w pos.Wallet) WalletRule {
	r := pol.Wallets[w]
	r.ReverseAfter = max(r.ReverseAfter, pol.Timing.ReverseAfter)
	return r
}

// payTimeout is how long a micropay of wallet w is followed before it is
// reversed: the gateway's pay timeout, at least the wallet's minimum.
func (pol Policy) payTimeout(w pos.Wallet) time.Duration {
	t := pol.Timing.WithDefaults()
	return max(t.PayTimeout, pol.Wallets[w].MinPayTimeout)
}
