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
	"github.com/posagent/posagent/gateways/swiftpass"
)

// Notification builds the payment notification (§6.2.1) of a paid order,
// as the platform would POST it. With sim.BadSignature it is signed with a
// key that is not the platform's.
func (s *Server) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	o, ok := s.ledger.Get(outTradeNo)
	if !ok || o.Tombstone {
		return nil, nil, fmt.Errorf("swiftpasssim: no order %s", outTradeNo)
	}
	if o.State != sim.Success && o.State != sim.Refunded {
		return nil, nil, fmt.Errorf("swiftpasssim: order %s is %s; only paid orders are notified", outTradeNo, o.State)
	}
	return s.notification(o, f == sim.BadSignature)
}

func (s *Server) notification(o sim.Order, badSign bool) (http.Header, []byte, error) {
	f := swiftpass.Fields{
		"version":            swiftpass.Version,
		"charset":            swiftpass.Charset,
		"sign_type":          string(s.signer.Type()),
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
		"time_end":           o.PaidAt.In(zone).Format(swiftpass.TimeLayout),
	}
	signer := s.signer
	if badSign {
		signer = s.wrong
	}
	sig, err := signer.Sign(f)
	if err != nil {
		return nil, nil, err
	}
	f[swiftpass.SignField] = sig
	h := http.Header{}
	h.Set("Content-Type", "text/xml; charset=UTF-8")
	return h, f.Marshal(), nil
}

func (s *Server) notifyURL(o sim.Order) string {
	if s.o.NotifyURL != "" {
		return s.o.NotifyURL
	}
	return o.NotifyURL
}

// notifyPaid pushes the notification of an order that has just been paid,
// in the background, following the resend schedule; twice when f is
// NotifyDuplicate.
func (s *Server) notifyPaid(o sim.Order, f sim.Fault) {
	url := s.notifyURL(o)
	if url == "" {
		return
	}
	copies := 1
	if f == sim.NotifyDuplicate {
		copies = 2
	}
	for range copies {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.deliver(o, url)
		}()
	}
}

// deliver follows the resend schedule until the receiver answers success.
func (s *Server) deliver(o sim.Order, url string) {
	for _, wait := range s.o.NotifySchedule {
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if s.deliverOnce(s.ctx, o, url) {
			return
		}
	}
}

// deliverOnce posts the notification once and reports whether it was
// acknowledged: the pure string "success", in any case (§7 note 4).
func (s *Server) deliverOnce(ctx context.Context, o sim.Order, url string) bool {
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
	ok := err == nil && strings.EqualFold(strings.TrimSpace(string(ack)), swiftpass.AckOK)
	s.log.Info("notification", "outTradeNo", o.OutTradeNo, "acked", ok)
	if ok {
		s.mu.Lock()
		s.acked[o.OutTradeNo] = true
		s.mu.Unlock()
	}
	return ok
}
