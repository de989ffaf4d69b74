package allinpay

import (
	"context"
	"strings"
	"time"

	"github.com/posagent/posagent/gateways"
)

var _ gateways.BillSource = (*Client)(nil)

// BillZone is the platform's day: UTC+8.
func (c *Client) BillZone() *time.Location { return platformZone }

// DailyBill downloads the day's reconciliation file (DownloadBill) and
// normalises its lines. The transaction type says what a line is (§1.8.2):
// *_CANCEL is a void (a reversal), *_RETURN a refund, any other a payment
// (VOID and REFUND are read the same way, as some files write them). A
// void or refund line names the payment in its original order number and
// itself in its order number; amounts are taken without their sign.
func (c *Client) DailyBill(ctx context.Context, day time.Time) (gateways.Bill, error) {
	b, err := c.DownloadBill(ctx, day)
	if err != nil {
		return gateways.Bill{}, err
	}
	y, m, d := day.In(platformZone).Date()
	out := gateways.Bill{Day: time.Date(y, m, d, 0, 0, 0, 0, platformZone)}
	for _, r := range b.Records {
		l := gateways.BillLine{Kind: gateways.BillPayment, OutTradeNo: r.OrderNo, Amount: r.Amount, At: r.Time, Type: r.TransType}
		if l.Amount.Minor < 0 {
			l.Amount.Minor = -l.Amount.Minor
		}
		t := strings.ToUpper(r.TransType)
		switch {
		case strings.HasSuffix(t, "_CANCEL") || t == "VOID":
			l.Kind, l.OutTradeNo = gateways.BillReversal, r.OriOrderNo
		case strings.HasSuffix(t, "_RETURN") || t == "REFUND":
			l.Kind, l.OutTradeNo, l.OutRefundNo = gateways.BillRefund, r.OriOrderNo, r.OrderNo
		}
		out.Lines = append(out.Lines, l)
	}
	return out, nil
}
