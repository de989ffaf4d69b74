package mmspsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/sim"
)

// AckOK is the acknowledgement §10.8 asks for ("打印一个SUCCESS").
const AckOK = "SUCCESS"

// Notification builds the 2324 payment notification for a paid order, as
// the platform would POST it. With sim.BadSignature it is signed with a
// wrong key. The Body's AMT is a JSON number, as §10.8 types it (int(20)),
// so receivers must verify numbers unquoted.
func (s *Server) Notification(outTradeNo string, f sim.Fault) (http.Header, []byte, error) {
	o, ok := s.Ledger().Get(outTradeNo)
	if !ok || o.Tombstone {
		return nil, nil, fmt.Errorf("mmspsim: no order %s", outTradeNo)
	}
	if o.State != sim.Success && o.State != sim.Refunded {
		return nil, nil, fmt.Errorf("mmspsim: order %s is %s; only paid orders are notified (§10.8)", outTradeNo, o.State)
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json; charset=utf-8")
	return hdr, s.notification(o, f == sim.BadSignature), nil
}

// notification is §10.8's message: AMT, ORDERNO, TRDETIME (sic), PAYTIME,
// STATUS 1, TRADETYPE, MERORDERID, signed like any message.
func (s *Server) notification(o sim.Order, badSign bool) []byte {
	bd := body{
		"AMT":        json.Number(strconv.FormatInt(o.Amount, 10)),
		"ORDERNO":    o.TransactionID,
		"TRDETIME":   o.CreatedAt.In(cst).Format(timeLayout),
		"PAYTIME":    o.PaidAt.In(cst).Format(timeLayout),
		"STATUS":     "1",
		"TRADETYPE":  walletTradeType[pos.Wallet(o.Wallet)],
		"MERORDERID": o.OutTradeNo,
	}
	canonical, _ := bd.canonical()
	key := s.key
	if badSign {
		key += "-wrong"
	}
	h := header{CommandID: cmdNotify, SeqID: 1, NodeType: 3, NodeID: "openplat",
		AgentNo: s.o.AgentNo, MerNo: s.o.MerchantNo, TermNo: s.o.TerminalNo}
	return encodeMessage(h, canonical, sign(canonical, key, s.o.SignSlashes))
}

// notifyPaid pushes the notification of an order that has just been paid:
// before returning when f is NotifyBeforeResponse (the answer waits for the
// acknowledgement), else in the background on the resend schedule; twice
// when f is NotifyDuplicate.
func (s *Server) notifyPaid(o sim.Order, f sim.Fault) {
	url := s.notifyURL(o)
	if url == "" {
		return
	}
	deliver := func(ctx context.Context) bool {
		ack, err := sim.PostNotification(ctx, s.o.HTTPClient, url, "application/json; charset=utf-8", s.notification(o, false))
		return err == nil && string(ack) == AckOK
	}
	if f == sim.NotifyBeforeResponse {
		s.NotifyNow(context.Background(), o.OutTradeNo, deliver)
		return
	}
	s.Notify(o.OutTradeNo, deliver)
	if f == sim.NotifyDuplicate {
		s.Notify(o.OutTradeNo, deliver)
	}
}
