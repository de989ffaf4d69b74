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
	for state, want := range map[string]gateways.Status{
		"SUCCESS":    gateways.StatusSucceeded,
		"PROCESSING": gateways.StatusUserPaying,
		"FAIL":       gateways.StatusFailed,
		"CHANGE":     gateways.StatusFailed,
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
		name     string
		c        opClass
		f        Fields
		want     gateways.Status
		notFound bool
	}{
		{"create ok", classCreate, ok("code_url", "weixin://x"), gateways.StatusUserPaying, false},
		{"create refused", classCreate, refused("INVALID_FEE"), gateways.StatusFailed, false},
		{"create unknown code", classCreate, refused("SOMETHING_NEW"), gateways.StatusFailed, false},
		{"create order exists", classCreate, refused("Order exists"), gateways.StatusUnknown, false},
		{"create system error", classCreate, refused("SYSTEMERROR"), gateways.StatusUnknown, false},
		{"create internal error", classCreate, refused("Internal error"), gateways.StatusUnknown, false},
		{"create no err_code", classCreate, refused(""), gateways.StatusUnknown, false},
		{"create no result_code", classCreate, Fields{"status": "0"}, gateways.StatusUnknown, false},
		{"query paid", classQuery, ok("trade_state", "SUCCESS"), gateways.StatusSucceeded, false},
		{"query refunded", classQuery, ok("trade_state", "REFUND"), gateways.StatusSucceeded, false},
		{"query notpay", classQuery, ok("trade_state", "NOTPAY"), gateways.StatusUserPaying, false},
		{"query paying", classQuery, ok("trade_state", "USERPAYING"), gateways.StatusUserPaying, false},
		{"query closed", classQuery, ok("trade_state", "CLOSED"), gateways.StatusFailed, false},
		{"query revoked", classQuery, ok("trade_state", "REVOKED"), gateways.StatusFailed, false},
		{"query payerror", classQuery, ok("trade_state", "PAYERROR"), gateways.StatusFailed, false},
		{"query new state", classQuery, ok("trade_state", "ACCEPTED"), gateways.StatusUnknown, false},
		{"query no state", classQuery, ok(), gateways.StatusUnknown, false},
		{"query not found", classQuery, refused("Order not exists"), gateways.StatusUnknown, true},
		{"query not found, WeChat spelling", classQuery, refused("ORDERNOTEXIST"), gateways.StatusUnknown, true},
		{"query not found, Alipay spelling", classQuery, refused("TRADE_NOT_EXIST"), gateways.StatusUnknown, true},
		{"query refused", classQuery, refused("INVALID_FEE"), gateways.StatusUnknown, false},
		{"close ok", classClose, ok(), gateways.StatusSucceeded, false},
		{"close paid", classClose, refused("ORDERPAID"), gateways.StatusFailed, false},
		{"close too early", classClose, refused("CLOSE_TOO_EARLY"), gateways.StatusFailed, false},
		{"close already closed", classClose, refused("ORDERCLOSED"), gateways.StatusSucceeded, false},
		{"close not found", classClose, refused("Order not exists"), gateways.StatusUnknown, true},
		{"close system error", classClose, refused("SYSTEMERROR"), gateways.StatusUnknown, false},
		{"refund ok", classRefund, ok("refund_id", "50"), gateways.StatusSucceeded, false},
		{"refund amount", classRefund, refused("REFUND_FEE_INVALID"), gateways.StatusFailed, false},
		{"refund not paid", classRefund, refused("TRADE_STATUS_ERROR"), gateways.StatusFailed, false},
		{"refund exists", classRefund, refused("Refund exists"), gateways.StatusUnknown, false},
		{"refund unknown code", classRefund, refused("SOMETHING_NEW"), gateways.StatusUnknown, false},
		{"refund order not found", classRefund, refused("Order not exists"), gateways.StatusUnknown, true},
		{"refund query not found", classRefundQuery, refused("Refund not exists"), gateways.StatusUnknown, true},
		{"refund query refused", classRefundQuery, refused("INVALID_FEE"), gateways.StatusUnknown, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := classify(c.c, c.f)
			if v.status != c.want || v.notFound != c.notFound {
				t.Fatalf("classify = %+v, want %s notFound=%v", v, c.want, c.notFound)
			}
			if v.status == gateways.StatusFailed && v.reason == "" {
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
		return Fields{"status": "0", "result_code": "0", "mch_id": "7551000001", "trade_state": "SUCCESS", "out_trade_no": "PA1"}
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
		{"other merchant", func(f Fields) Fields { r := paid(f); r["mch_id"] = "1"; return r }, good, "not ours"},
		{"other order", func(f Fields) Fields { r := paid(f); r["out_trade_no"] = "PA2"; return r }, good, "not \"PA1\""},
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
	t.Run("trusted", func(t *testing.T) {
		res, err := answering(t, paid, good).Query(context.Background(), gateways.OrderRef{OutTradeNo: "PA1"})
		if err != nil || res.Status != gateways.StatusSucceeded {
			t.Fatalf("Query = %+v, %v", res, err)
		}
	})
}

func TestQueryRefundPicksItsEntry(t *testing.T) {
	s := mustSigner(t, MD5, exampleKey)
	cl := answering(t, func(Fields) Fields {
		return Fields{"status": "0", "result_code": "0", "mch_id": "7551000001", "out_trade_no": "PA1", "fee_type": "HKD",
			"refund_count":    "3",
			"out_refund_no_0": "RF0", "refund_id_0": "500", "refund_fee_0": "10", "refund_status_0": "SUCCESS",
			"out_refund_no_1": "RF1", "refund_id_1": "501", "refund_fee_1": "20", "refund_status_1": "CHANGE",
			"out_refund_no_2": "RF2", "refund_id_2": "502", "refund_fee_2": "30", "refund_status_2": "PROCESSING"}
	}, s)
	for no, want := range map[string]gateways.Status{"RF0": gateways.StatusSucceeded, "RF1": gateways.StatusFailed, "RF2": gateways.StatusUserPaying} {
		res, err := cl.QueryRefund(context.Background(), gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1"}, OutRefundNo: no})
		if err != nil || res.Status != want || res.RefundID == "" || res.Amount.Minor == 0 {
			t.Errorf("QueryRefund(%s) = %+v, %v; want %s", no, res, err, want)
		}
	}
	if _, err := cl.QueryRefund(context.Background(), gateways.RefundRequest{Order: gateways.OrderRef{OutTradeNo: "PA1"}, OutRefundNo: "RF9"}); !pos.Match(pos.NotFound, err) {
		t.Errorf("QueryRefund of a refund not listed = %v, want NotFound", err)
	}
}
