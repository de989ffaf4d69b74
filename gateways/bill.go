package gateways

import (
	"context"
	"time"

	"github.com/posagent/posagent"
)

// BillKind says what a line of an acquirer's daily bill records.
type BillKind string

const (
	BillPayment  BillKind = "payment"  // money taken for an order
	BillReversal BillKind = "reversal" // a payment reversed (撤销, void)
	BillRefund   BillKind = "refund"   // money returned by a refund
)

// BillLine is one line of an acquirer's daily bill, normalised: which
// order (our OutTradeNo) and, for a refund, which refund (our OutRefundNo)
// it is about, and the amount as a positive Money whatever sign the file
// writes it with.
type BillLine struct {
	Kind        BillKind
	OutTradeNo  string
	OutRefundNo string
	Amount      pos.Money
	At          time.Time
	// Type is the acquirer's own name of the line's transaction type, for
	// the report.
	Type string
	// TransactionID is the acquirer's number of the order, and RefundID
	// of the refund, where the bill writes them. A refund line without
	// OutRefundNo (HipoPay's report need not carry our number) is matched
	// by RefundID against the refund's journaled GatewayRefundID.
	TransactionID string
	RefundID      string
}

// Bill is one acquirer day's bill.
type Bill struct {
	// Day is midnight of the bill's day in the acquirer's zone.
	Day   time.Time
	Lines []BillLine
}

// BillSource is an extra of a gateway whose acquirer offers a daily
// reconciliation file (found by type assertion). The day is the
// acquirer's: BillZone says in which zone it runs.
type BillSource interface {
	// DailyBill downloads and parses the bill of the acquirer day that
	// holds day. A bill not (yet) available is pos.NotFound or
	// pos.Unavailable.
	DailyBill(ctx context.Context, day time.Time) (Bill, error)
	// BillZone is the zone of the acquirer's day.
	BillZone() *time.Location
}
