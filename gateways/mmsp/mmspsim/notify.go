package mmspsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/sim"
)

// Notification builds the 2324 payment notification for a paid order, as
// the platform would POST it. With sim.BadSignature it is signed with a
// wrong key. The body's AMT is a JSON number, as §10.8 types it (int), so
// receivers must verify numbers unquoted.
func (s *Server) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	o, ok := s.ledger.Get(outTradeNo)
	if !ok || o.Tombstone {
		return nil, nil, fmt.Errorf("mmspsim: no order %s", outTradeNo)
	}
	if o.State != sim.Success && o.State != sim.Refunded {
		return nil, nil, fmt.Errorf("mmspsim: order %s is %s; only paid orders are notified", outTradeNo, o.State)
	}
	return s.notification(o, f == sim.BadSignature)
}

func (s *Server) notification(o sim.Order, badSign bool) (http.Header, []byte, error) {
	fields := map[string]json.RawMessage{
		"AMT":        json.RawMessage(strconv.FormatInt(o.Amount, 10)),
		"ORDERNO":    quote(o.TransactionID),
		"TRDETIME":   quote(o.CreatedAt.In(cst).Format(mmsp.TimeLayout)), // sic, §10.8
		"PAYTIME":    quote(o.PaidAt.In(cst).Format(mmsp.TimeLayout)),
		"STATUS":     quote("1"),
		"TRADETYPE":  quote(walletTradeType[pos.Wallet(o.Wallet)]),
		"MERORDERID": quote(o.OutTradeNo),
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, nil, err
	}
	body, err := mmsp.CanonicalBody(raw)
	if err != nil {
		return nil, nil, err
	}
	key := s.key
	if badSign {
		key += "-wrong"
	}
	h := mmsp.Header{CommandID: mmsp.CmdNotify, SeqID: 1, NodeType: mmsp.DefaultNodeType, NodeID: mmsp.DefaultNodeID,
		AgentNo: s.o.AgentNo, MerNo: s.o.MerchantNo, TermNo: s.o.TerminalNo}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	return hdr, mmsp.Marshal(h, body, mmsp.Sign(body, key, s.o.SignSlashes)), nil
}

func quote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// maybeNotify pushes an order paid at its submit only when a script asks
// (the platform does not push immediate micropay successes).
func (s *Server) maybeNotify(o sim.Order, f sim.Fault) {
	if f == sim.NotifyBeforeResponse || f == sim.NotifyDuplicate {
		s.notifyPaid(o, f)
	}
}

// notifyPaid pushes the notification of an order that has just been paid:
// before returning when f is NotifyBeforeResponse (the answer waits for the
// acknowledgement), else in the background; twice when f is NotifyDuplicate.
func (s *Server) notifyPaid(o sim.Order, f sim.Fault) {
	url := s.o.NotifyURL
	if url == "" {
		url = o.NotifyURL
	}
	if url == "" {
		return
	}
	copies := 1
	if f == sim.NotifyDuplicate {
		copies = 2
	}
	if f == sim.NotifyBeforeResponse {
		s.deliverOnce(o, url)
		return
	}
	for range copies {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.deliver(o, url)
		}()
	}
}

// deliver follows the resend schedule until the receiver answers SUCCESS.
func (s *Server) deliver(o sim.Order, url string) {
	for _, wait := range s.o.NotifySchedule {
		t := time.NewTimer(wait)
		select {
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if s.deliverOnce(o, url) {
			return
		}
	}
}

func (s *Server) deliverOnce(o sim.Order, url string) bool {
	_, body, err := s.notification(o, false)
	if err != nil {
		return false
	}
	ack, err := sim.PostNotification(s.ctx, s.o.HTTPClient, url, "application/json; charset=utf-8", body)
	ok := err == nil && string(ack) == mmsp.AckOK
	s.log.Info("notification", "outTradeNo", o.OutTradeNo, "acked", ok)
	if ok {
		s.mu.Lock()
		s.acked[o.OutTradeNo] = true
		s.mu.Unlock()
	}
	return ok
}
