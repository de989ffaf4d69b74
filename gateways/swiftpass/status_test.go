package swiftpass

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

func TestTradeStatus(t *testing.T) {
	for state, want := range map[string]gateways.Status{
		"SUCCESS":    gateways.StatusSucceeded,
		"REFUND":     gateways.StatusSucceeded,
		"NOTPAY":     gateways.StatusUserPaying,
		"USERPAYING": gateways.StatusUserPaying,
		"CLOSED":     gateways.StatusFailed,
		"REVOKED":    gateways.StatusFailed,
		"PAYERROR":   gateways.StatusFailed,
		"":           gateways.StatusUnknown,
		"success":    gateways.StatusUnknown,
		"ACCEPT":     gateways.StatusUnknown,
	} {
		if got := TradeStatus(state); got != want {
			t.Errorf("TradeStatus(%q) = %s, want %s", state, got, want)
		}
	}
	// CHANGE moved the money to the merchant's account (refund offline):
	// never Failed, which would free the amount for a second refund.
	// NOTSURE is sent again.
	for state, want := range map[string]gateways.Status{
		"SUCCESS":    gateways.StatusSucceeded,
		"PROCESSING": gateways.StatusUserPaying,
		"FAIL":       gateways.StatusFailed,
		"CHANGE":     gateways.StatusUnknown,
		"NOTSURE":    gateways.StatusUnknown,
		"":           gateways.StatusUnknown,
	} {
		if got := RefundStatus(state); got != want {
			t.Errorf("RefundStatus(%q) = %s, want %s", state, got, want)
		}
	}
}

// TestClassify reads answers in the spec's order: result_code, then
// err_code per operation, then trade_state.
func TestClassify(t *testing.T) {
	ok := func(extra ...string) Fields {
		f := Fields{"status": "0", "result_code": "0"}
		for i := 0; i < len(extra); i += 2 {
			f[extra[i]] = extra[i+1]
		}
		return f
	}
	refused := func(code string) Fields {
		return Fields{"status": "0", "result_code": "1", "err_code": code, "err_msg": "msg"}
	}
	cases := []struct {
		name string
		op   Operation
		f    Fields
		want Outcome
	}{
		{"create ok", OpCreate, ok("code_url", "weixin://x"), UserPaying},
		{"create refused", OpCreate, refused("INVALID_FEE"), Failed},
		{"create system error: no code_url, nobody can pay", OpCreate, refused("SYSTEMERROR"), Failed},
		{"create internal error", OpCreate, refused("Internal error"), Failed},
		{"create unlisted code", OpCreate, refused("SOMETHING_NEW"), Unknown},
		{"create order exists", OpCreate, refused("Order exists"), Unknown},
		{"create order paid", OpCreate, refused("ORDERPAID"), Unknown},
		{"create no err_code", OpCreate, refused(""), Unknown},
		{"create no result_code", OpCreate, Fields{"status": "0"}, Unknown},
		{"query paid", OpQuery, ok("trade_state", "SUCCESS"), Succeeded},
		{"query refunded", OpQuery, ok("trade_state", "REFUND"), Succeeded},
		{"query notpay", OpQuery, ok("trade_state", "NOTPAY"), UserPaying},
		{"query paying", OpQuery, ok("trade_state", "USERPAYING"), UserPaying},
		{"query closed", OpQuery, ok("trade_state", "CLOSED"), Failed},
		{"query revoked", OpQuery, ok("trade_state", "REVOKED"), Failed},
		{"query payerror", OpQuery, ok("trade_state", "PAYERROR"), Failed},
		{"query new state", OpQuery, ok("trade_state", "ACCEPTED"), Unknown},
		{"query no state", OpQuery, ok(), Unknown},
		{"query not found", OpQuery, refused("Order not exists"), NotFound},
		{"query not found, Alipay spelling", OpQuery, refused("TRADE_NOT_EXIST"), NotFound},
		{"query refused", OpQuery, refused("INVALID_FEE"), Unknown},
		{"close ok", OpClose, ok(), Succeeded},
		{"close paid", OpClose, refused("ORDERPAID"), Failed},
		{"close refused, listed", OpClose, refused("400"), Failed},
		{"close unlisted (too early has no documented code)", OpClose, refused("CLOSE_TOO_EARLY"), Unknown},
		{"close already closed", OpClose, refused("ORDERCLOSED"), Succeeded},
		{"close already closed, Alipay", OpClose, refused("TRADE_HAS_CLOSE"), Succeeded},
		{"close not found", OpClose, refused("Order not exists"), NotFound},
		{"close system error", OpClose, refused("SYSTEMERROR"), Unknown},
		{"refund accepted", OpRefund, ok("refund_id", "50"), UserPaying},
		{"refund amount", OpRefund, refused("REFUND_FEE_INVALID"), Failed},
		{"refund not paid", OpRefund, refused("TRADE_STATUS_ERROR"), Failed},
		{"refund exists", OpRefund, refused("Refund exists"), Unknown},
		{"refund system error", OpRefund, refused("SYSTEMERROR"), Unknown},
		{"refund unlisted code", OpRefund, refused("SOMETHING_NEW"), Unknown},
		{"refund order not found", OpRefund, refused("Order not exists"), NotFound},
		{"refund query not found", OpRefundQuery, refused("Refund not exists"), NotFound},
		{"refund query refused", OpRefundQuery, refused("INVALID_FEE"), Unknown},
		{"notification refused", OpNotification, refused("PAYMENT_FAIL"), Unknown},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := classify(c.op, c.f)
			if v.outcome != c.want {
				t.Fatalf("classify = %+v, want %s", v, c.want)
			}
			if v.status() == gateways.StatusFailed && v.reason == "" {
				t.Fatal("Failed without a reason")
			}
		})
	}
}

// answering is a fake platform that answers every request with body.
func answering(t *testing.T, body func(req Fields) Fields, s Signer) *Client {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw := make([]byte, 1<<16)
		n, _ := r.Body.Read(raw)
		req, _ := ParseXML(raw[:n])
		f := body(req)
		if f["status"] == "0" {
			sig, _ := s.Sign(f)
			f[SignField] = sig
		}
		_, _ = w.Write(f.Marshal())
	}))
	t.Cleanup(ts.Close)
	o := testOptions()
	o.Endpoint = ts.URL
	return testClient(t, o, http.DefaultTransport)
}

// TestUntrustedAnswers: an answer nobody can vouch for is a pos.Unknown
// error, never a failure.
func TestUntrustedAnswers(t *testing.T) {
	good := mustSigner(t, MD5, exampleKey)
	paid := func(Fields) Fields {
		return Fields{"status": "0", "result_code": "0", "mch_id": "7551000001", "trade_state": "SUCCESS", "out_trade_no": "PA1",
			"total_fee": "1990", "fee_type": "HKD", "transaction_id": "42x", "time_end": "20240102110500"}
	}
	cases := []struct {
		name string
		body func(Fields) Fields
		s    Signer
		want string
	}{
		{"protocol error", func(Fields) Fields { return Fields{"status": "400", "message": "Order do not exist"} }, good, "protocol error"},
		{"protocol error signed", func(Fields) Fields {
			return Fields{"status": "500", "message": "SYSERR", "result_code": "1", "err_code": "INVALID_FEE"}
		}, good, "protocol error"},
		{"wrong key", paid, mustSigner(t, MD5, "other"), "not trusted"},
		{"downgraded sign_type", func(f Fields) Fields { r := paid(f); r["sign_type"] = "SHA256"; return r }, mustSigner(t, SHA256, exampleKey), "not trusted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := answering(t, c.body, c.s)
			res, err := cl.Query(context.Background(), gateways.OrderRef{OutTradeNo: "PA1"})
			if !pos.Match(pos.Unknown, err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Query = %+v, %v; want an Unknown error containing %q", res, err, c.want)
			}
		})
	}
	// Signed, but about another merchant or order, or without what §6.3.3
	// requires with SUCCESS: a Mismatch, Unknown, never adopted.
	for name, mutate := range map[string]func(Fields){
		"other merchant": func(f Fields) { f["mch_id"] = "1" },
		"no merchant":    func(f Fields) { delete(f, "mch_id") },
		"other order":    func(f Fields) { f["out_trade_no"] = "PA2" },
		"no order":       func(f Fields) { delete(f, "out_trade_no") },
		"no total_fee":   func(f Fields) { delete(f, "total_fee") },
		"other amount":   func(f Fields) { f["total_fee"] = "1" },
		"other currency": func(f Fields) { f["fee_type"] = "USD" },
	} {
		t.Run(name, func(t *testing.T) {
			cl := answering(t, func(req Fields) Fields { r := paid(req); mutate(r); return r }, good)
			res, err := cl.Query(context.Background(), gateways.OrderRef{OutTradeNo: "PA1", Amount: hkd(t, 1990)})
			if err != nil || res.Status != gateways.StatusUnknown || res.Mismatch == "" {
				t.Fatalf("Query = %+v, %v; want Unknown with a Mismatch", res, err)
			}
		})
	}
	t.Run("trusted", func(t *testing.T) {
		res, err := answering(t, paid, good).Query(context.Background(), gateways.OrderRef{OutTradeNo: "PA1", Amount: hkd(t, 1990)})
		if err != nil || res.Status != gateways.StatusSucceeded || res.OutTradeNo != "PA1" || res.Amount != hkd(t, 1990) || res.Mismatch != "" {
			t.Fatalf("Query = %+v, %v", res, err)
		}
	})
}

func TestQueryRefundPicksItsEntry(t *testing.T) {
	s := mustSigner(t, MD5, exampleKey)
	cl := answering(t, func(Fields) Fields {
		return Fields{"status": "0", "result_code": "0", "mch_id": "7551000001", "out_trade_no": "PA1", "fee_type": "HKD",
			"refund_count":    "5",
			"out_refund_no_0": "RF0", "refund_id_0": "500", "refund_fee_0": "10", "refund_status_0": "SUCCESS",
			"out_refund_no_1": "RF1", "refund_id_1": "501", "refund_fee_1": "20", "refund_status_1": "CHANGE",
			"out_refund_no_2": "RF2", "refund_id_2": "502", "refund_fee_2": "30", "refund_status_2": "PROCESSING",
			"out_refund_no_3": "RF3", "refund_id_3": "503", "refund_fee_3": "40", "refund_status_3": "NOTSURE",
			"out_refund_no_4": "RF4", "refund_id_4": "504", "refund_fee_4": "50", "refund_status_4": "FAIL"}
	}, s)
	for _, c := range []struct {
		no            string
		amount        int64
		want          gateways.Status
		resend, alert bool
	}{
		{"RF0", 10, gateways.StatusSucceeded, false, false},
		{"RF1", 20, gateways.StatusUnknown, false, true},
		{"RF2", 30, gateways.StatusUserPaying, false, false},
		{"RF3", 40, gateways.StatusUnknown, true, false},
		{"RF4", 50, gateways.StatusFailed, false, false},
	} {
		req := gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1", Amount: hkd(t, 100)}, OutRefundNo: c.no, Amount: hkd(t, c.amount)}
		res, err := cl.QueryRefund(context.Background(), req)
		if err != nil || res.Status != c.want || res.Resend != c.resend || (res.Alert != "") != c.alert || res.RefundID == "" ||
			res.OutRefundNo != c.no || res.OutTradeNo != "PA1" || res.RefundAmount != hkd(t, c.amount) || res.Mismatch != "" {
			t.Errorf("QueryRefund(%s) = %+v, %v; want %s resend=%v alert=%v", c.no, res, err, c.want, c.resend, c.alert)
		}
	}
	// The entry of our number with another amount is not ours to adopt.
	res, err := cl.QueryRefund(context.Background(), gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1"}, OutRefundNo: "RF0", Amount: hkd(t, 11)})
	if err != nil || res.Status != gateways.StatusUnknown || res.Mismatch == "" {
		t.Errorf("QueryRefund with another refund_fee = %+v, %v; want a Mismatch", res, err)
	}
	if _, err := cl.QueryRefund(context.Background(), gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1"}, OutRefundNo: "RF9"}); !pos.Match(pos.NotFound, err) {
		t.Errorf("QueryRefund of a refund not listed = %v, want NotFound", err)
	}
}
