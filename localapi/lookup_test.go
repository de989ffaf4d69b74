package localapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
)

type lookups struct{ got []flows.LookupRequest }

func (l *lookups) Lookup(_ context.Context, req flows.LookupRequest) (pos.Payment, error) {
	l.got = append(l.got, req)
	if req.OutTradeNo == "MISSING" {
		return pos.Payment{}, pos.Errorf(pos.NotFound, "test", "no such order")
	}
	return pos.Payment{ID: "pay_1", OutTradeNo: "MP1", External: true, State: pos.StateSucceeded, Amount: pos.Money{Minor: 2000, Currency: "HKD"}, Method: pos.MerchantQR}, nil
}

// POST /v1/payments/lookup, behind the token, passes the order's numbers
// to the flows and shows the payment (external); it refuses a body naming
// no order and maps "not found" to 404.
func TestLookupEndpoint(t *testing.T) {
	l := &lookups{}
	s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token, MaxWait: 50 * time.Millisecond,
		Extra: map[string]http.Handler{localapi.LookupPattern: localapi.LookupHandler(l)}})
	if err != nil {
		t.Fatal(err)
	}
	w := do(s, http.MethodPost, "/v1/payments/lookup", `{"out_trade_id":"MP1","payment_no":"P1","gateway":"hipopay"}`, nil)
	var p localapi.Payment
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &p) != nil || !p.External || p.ID != "pay_1" || p.State != "succeeded" {
		t.Fatalf("lookup = %d %s", w.Code, w.Body)
	}
	if len(l.got) != 1 || l.got[0] != (flows.LookupRequest{Gateway: "hipopay", OutTradeNo: "MP1", TransactionID: "P1"}) {
		t.Errorf("flows got %+v", l.got)
	}
	for body, want := range map[string]int{`{}`: 422, `{"out_trade_id":"MISSING"}`: 404, `{"out_trade_id":"MP1","extra":1}`: 400} {
		if w := do(s, http.MethodPost, "/v1/payments/lookup", body, nil); w.Code != want {
			t.Errorf("%s: %d %s, want %d", body, w.Code, w.Body, want)
		}
	}
	if w := do(s, http.MethodPost, "/v1/payments/lookup", `{"out_trade_id":"MP1"}`, map[string]string{"Authorization": ""}); w.Code != http.StatusUnauthorized {
		t.Errorf("without the token: %d", w.Code)
	}
}
