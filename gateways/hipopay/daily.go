package hipopay

import (
	"context"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// BillZone is the platform's day: UTC+8 (review H8).
func (c *Client) BillZone() *time.Location { return PlatformZone }

// DailyBill downloads the report of the platform's day holding day
// (DownloadBill: the date taken in UTC+8; the report's signature checked
// as any answer's, required with Options.RequireSignedAnswers) and
// normalises its lines for reconciliation (gateways.BillSource):
//
//   - "Collection via …" is a payment of the order in "External order No."
//     (our out_trade_id), its "Order No." the payment_no, for its
//     Transaction Amount (not the Credit, which is net of the fee).
//   - "Refund" is a refund of the order in "External Refund Order No."
//     (whose payment_no is in "Refund Order"), for its Refund Amount (or,
//     without one, its Debit); "Order No." is the refund_no, and "External
//     order No." our out_refund_id when the platform writes it (the spec's
//     example leaves it empty: the reconciliation then matches the
//     refund_no).
//   - A line of another type that names no order (a withdrawal, a currency
//     conversion) moves the balance, not an order: left out. One of another
//     type that names an order is an error: this reading does not know what
//     it did to the order, and guessing would hide a mismatch.
//
// A body without the report's header line is an error (pos.Unknown), not
// a day without sales; a header with no lines is an empty day.
func (c *Client) DailyBill(ctx context.Context, day time.Time) (gateways.Bill, error) {
	const op = "hipopay.DailyBill"
	b, err := c.DownloadBill(ctx, day)
	if err != nil {
		return gateways.Bill{}, err
	}
	if !b.HasHeader {
		return gateways.Bill{}, pos.Errorf(pos.Unknown, op, "the report is empty (no header line): not read as a day without sales")
	}
	y, m, d := day.In(PlatformZone).Date()
	out := gateways.Bill{Day: time.Date(y, m, d, 0, 0, 0, 0, PlatformZone)}
	for i, r := range b.Records {
		l := gateways.BillLine{At: r.Time, Type: r.Type}
		switch t := strings.ToLower(r.Type); {
		case strings.HasPrefix(t, "collection"):
			l.Kind, l.OutTradeNo, l.TransactionID, l.Amount = gateways.BillPayment, r.OutTradeID, r.PaymentNo, r.Amount
		case strings.HasPrefix(t, "refund"):
			l.Kind, l.OutTradeNo, l.TransactionID = gateways.BillRefund, r.OutRefundID, r.RefundOrder
			l.OutRefundNo, l.RefundID, l.Amount = r.OutTradeID, r.PaymentNo, r.RefundAmount
			if l.Amount.Currency == "" {
				l.Amount = r.Debit
			}
		case r.OutTradeID == "" && r.RefundOrder == "" && r.OutRefundID == "":
			continue
		default:
			return gateways.Bill{}, pos.Errorf(pos.Unknown, op, "report line %d: transaction type %q about order %s is not one this reading knows", i+1, r.Type, r.OutTradeID+r.OutRefundID)
		}
		if l.Amount.Currency == "" {
			return gateways.Bill{}, pos.Errorf(pos.Unknown, op, "report line %d (%s): no amount", i+1, r.Type)
		}
		if l.Amount.Minor < 0 {
			l.Amount.Minor = -l.Amount.Minor
		}
		if l.OutTradeNo == "" && l.TransactionID == "" {
			return gateways.Bill{}, pos.Errorf(pos.Unknown, op, "report line %d (%s): names no order", i+1, r.Type)
		}
		out.Lines = append(out.Lines, l)
	}
	return out, nil
}

var _ gateways.BillSource = (*Client)(nil)
