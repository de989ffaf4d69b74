package allpaysim

import (
	"context"
	"fmt"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/sim"
)

// AckOK is what the merchant answers a notification it took (§4.2.3).
const AckOK = "OK"

// Notification builds the JSON payment notification (§4.2.3) the platform
// POSTs to backURL for a paid order. With sim.BadSignature it is signed
// with a wrong key.
func (s *Server) Notification(orderNum string, f sim.Fault) (http.Header, []byte, error) {
	o, ok := s.Ledger().Get(orderNum)
	if !ok || o.Tombstone {
		return nil, nil, fmt.Errorf("allpaysim: no order %s", orderNum)
	}
	if o.State != sim.Success && o.State != sim.Refunded {
		return nil, nil, fmt.Errorf("allpaysim: order %s is %s; only paid orders are notified", orderNum, o.State)
	}
	body, err := s.notification(o, f == sim.BadSignature)
	if err != nil {
		return nil, nil, err
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=UTF-8")
	return h, body, nil
}

// notification is §4.2.3's table, every M field, signed.
func (s *Server) notification(o sim.Order, badSign bool) ([]byte, error) {
	m, err := pos.NewMoney(o.Amount, o.Currency)
	if err != nil {
		return nil, err
	}
	schema := "WX"
	if pos.Wallet(o.Wallet) == pos.Alipay {
		schema = "AP"
	}
	f := fields{
		"version":       "VER000000005",
		"charSet":       "UTF-8",
		"transType":     "PURC",
		"orderNum":      o.OutTradeNo,
		"orderAmount":   m.Decimal(),
		"orderCurrency": o.Currency,
		"merID":         s.o.MerID,
		"acqID":         s.o.AcqID,
		"paymentSchema": schema,
		"RespCode":      "00",
		"RespMsg":       "Success",
		"transID":       o.TransactionID,
		"GWTime":        gwTime(o.PaidAt),
		"transTime":     gwTime(o.CreatedAt),
		"signType":      s.o.SignType,
	}
	key := s.key
	if badSign {
		key += "-wrong"
	}
	sign(f, key)
	return jsonBody(f), nil
}

// notifyPaid pushes the notification of an order just paid: before
// returning when f is NotifyBeforeResponse (the answer waits for the
// acknowledgement), else in the background along the schedule (Base.Notify);
// twice when f is NotifyDuplicate.
func (s *Server) notifyPaid(o sim.Order, f sim.Fault) {
	url := s.o.NotifyURL
	if url == "" {
		url = o.NotifyURL
	}
	if url == "" {
		return
	}
	deliver := func(ctx context.Context) bool {
		body, err := s.notification(o, false)
		if err != nil {
			return false
		}
		ack, err := sim.PostNotification(ctx, s.o.HTTPClient, url, "application/json; charset=UTF-8", body)
		return err == nil && string(ack) == AckOK
	}
	if f == sim.NotifyBeforeResponse {
		s.NotifyNow(context.Background(), o.OutTradeNo, deliver)
		return
	}
	copies := 1
	if f == sim.NotifyDuplicate {
		copies = 2
	}
	for range copies {
		s.Notify(o.OutTradeNo, deliver)
	}
}
