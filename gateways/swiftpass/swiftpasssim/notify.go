package swiftpasssim

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/sim"
)

// Notification builds the payment notification (§6.2.1) of a paid order,
// as the platform would POST it. With sim.BadSignature it is signed with a
// key that is not the platform's.
func (s *Server) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	o, ok := s.Ledger().Get(outTradeNo)
	if !ok || o.Tombstone {
		return nil, nil, fmt.Errorf("swiftpasssim: no order %s", outTradeNo)
	}
	if !o.Charged() {
		return nil, nil, fmt.Errorf("swiftpasssim: order %s is %s; only paid orders are notified", outTradeNo, o.State)
	}
	return s.notification(o, f == sim.BadSignature)
}

func (s *Server) notification(o sim.Order, badSign bool) (http.Header, []byte, error) {
	m := Message{
		"version":            "2.0",
		"charset":            "UTF-8",
		"sign_type":          s.signer.typ,
		"status":             "0",
		"result_code":        "0",
		"mch_id":             s.o.MchID,
		"nonce_str":          nonce(),
		"trade_type":         walletService[pos.Wallet(o.Wallet)],
		"pay_result":         "0",
		"transaction_id":     o.TransactionID,
		"out_transaction_id": "4200" + o.TransactionID,
		"out_trade_no":       o.OutTradeNo,
		"total_fee":          strconv.FormatInt(o.Amount, 10),
		"fee_type":           o.Currency,
		"time_end":           o.PaidAt.In(zone).Format(timeLayout),
	}
	sg := s.signer
	if badSign {
		sg = s.wrong
	}
	sig, err := sg.sign(m)
	if err != nil {
		return nil, nil, err
	}
	m["sign"] = sig
	h := http.Header{}
	h.Set("Content-Type", "text/xml; charset=UTF-8")
	return h, m.marshal(), nil
}

func (s *Server) notifyURL(o sim.Order) string {
	if s.o.NotifyURL != "" {
		return s.o.NotifyURL
	}
	return o.NotifyURL
}

// notifyPaid pushes the notification of an order that has just been paid,
// in the background, following the resend schedule (§5); twice when f is
// NotifyDuplicate.
func (s *Server) notifyPaid(o sim.Order, f sim.Fault) {
	if s.notifyURL(o) == "" {
		return
	}
	copies := 1
	if f == sim.NotifyDuplicate {
		copies = 2
	}
	for range copies {
		s.Notify(o.OutTradeNo, func(ctx context.Context) bool { return s.deliverOnce(ctx, o) })
	}
}

// deliverNow posts the notification once, before the submit's answer.
func (s *Server) deliverNow(ctx context.Context, o sim.Order) {
	s.NotifyNow(ctx, o.OutTradeNo, func(ctx context.Context) bool { return s.deliverOnce(ctx, o) })
}

// deliverOnce posts the notification once and reports whether it was
// acknowledged: the pure string "success", in any case (§7 note 4).
func (s *Server) deliverOnce(ctx context.Context, o sim.Order) bool {
	url := s.notifyURL(o)
	if url == "" {
		return false
	}
	_, body, err := s.notification(o, false)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	ack, err := sim.PostNotification(ctx, s.o.HTTPClient, url, "text/xml; charset=UTF-8", body)
	return err == nil && strings.EqualFold(strings.TrimSpace(string(ack)), "success")
}
