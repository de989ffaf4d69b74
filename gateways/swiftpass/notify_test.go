package swiftpass

import (
	"net/http"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

func signedNote(t testing.TB, s Signer, f Fields) []byte {
	t.Helper()
	sig, err := s.Sign(f)
	if err != nil {
		t.Fatal(err)
	}
	f[SignField] = sig
	return f.Marshal()
}

func paidNote() Fields {
	return Fields{"version": "2.0", "charset": "UTF-8", "sign_type": "MD5", "status": "0", "result_code": "0",
		"mch_id": "7551000001", "nonce_str": "n1", "trade_type": ServiceAlipayQR, "pay_result": "0",
		"transaction_id": "4220240102", "out_transaction_id": "2024x", "out_trade_no": "PA1",
		"total_fee": "1990", "fee_type": "HKD", "time_end": "20240102110500"}
}

func TestParseNotification(t *testing.T) {
	c := testClient(t, testOptions(), http.DefaultTransport)
	s := mustSigner(t, MD5, exampleKey)
	n, err := c.ParseNotification(http.Header{}, signedNote(t, s, paidNote()))
	if err != nil {
		t.Fatal(err)
	}
	if n.ID != "swiftpass:4220240102:0" || n.OutTradeNo != "PA1" || n.Result.Status != gateways.StatusSucceeded ||
		n.Result.Amount != hkd(t, 1990) || n.Result.Wallet != pos.Alipay || n.Result.PaidAt.IsZero() {
		t.Fatalf("notification = %+v", n)
	}
	// A resend has a new nonce (and so a new signature) but the same ID.
	again := paidNote()
	again["nonce_str"] = "n2"
	if n2, err := c.ParseNotification(http.Header{}, signedNote(t, s, again)); err != nil || n2.ID != n.ID {
		t.Fatalf("resend = %+v, %v; want ID %s", n2, err, n.ID)
	}
	failed := paidNote()
	failed["pay_result"], failed["pay_info"] = "1", "declined"
	if n, err := c.ParseNotification(http.Header{}, signedNote(t, s, failed)); err != nil || n.Result.Status != gateways.StatusUnknown || n.Result.Reason != "declined" {
		t.Fatalf("pay_result 1 = %+v, %v; want Unknown (query it), never Failed", n, err)
	}
	// Another merchant's, or one without a field §6.2.1 requires with a
	// payment: never adopted (Mismatch, Unknown).
	for name, mutate := range map[string]func(Fields){
		"other merchant": func(f Fields) { f["mch_id"] = "1" },
		"no merchant":    func(f Fields) { delete(f, "mch_id") },
		"no total_fee":   func(f Fields) { delete(f, "total_fee") },
	} {
		f := paidNote()
		mutate(f)
		n, err := c.ParseNotification(http.Header{}, signedNote(t, s, f))
		if err != nil || n.Result.Status != gateways.StatusUnknown || n.Result.Mismatch == "" {
			t.Errorf("%s: %+v, %v; want Unknown with a Mismatch", name, n, err)
		}
	}
	// The amount and order it names are filled for the flows to compare
	// with the journal (§6.2.1), in fee_type's currency.
	usd := paidNote()
	usd["fee_type"], usd["total_fee"] = "USD", "1"
	if n, err := c.ParseNotification(http.Header{}, signedNote(t, s, usd)); err != nil || n.Result.OutTradeNo != "PA1" ||
		n.Result.Amount.Currency != "USD" || n.Result.Amount.Minor != 1 {
		t.Errorf("USD notification = %+v, %v; want its own amount and currency reported", n, err)
	}
	for name, mutate := range map[string]func(Fields){
		"no order":        func(f Fields) { delete(f, "out_trade_no") },
		"bad order":       func(f Fields) { f["out_trade_no"] = "PA 1" },
		"protocol status": func(f Fields) { f["status"] = "500" },
	} {
		f := paidNote()
		mutate(f)
		if n, err := c.ParseNotification(http.Header{}, signedNote(t, s, f)); !pos.Match(pos.Unknown, err) {
			t.Errorf("%s: %+v, %v; want an Unknown error", name, n, err)
		}
	}
	if ct, ok := c.NotificationAck(true); string(ok) != "success" || ct == "" {
		t.Errorf("ack = %q", ok)
	}
	if _, notOK := c.NotificationAck(false); string(notOK) == "success" {
		t.Error("a refusal acknowledges")
	}
}
