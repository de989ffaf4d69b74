package localapi

import (
	"context"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
)

// Lookuper finds orders placed outside the till (flows.Runner implements
// it).
type Lookuper interface {
	Lookup(ctx context.Context, req flows.LookupRequest) (pos.Payment, error)
}

// LookupRequest is the body of POST /v1/payments/lookup: an order placed
// outside the till (a HipoPay mini-program), by the merchant's number
// (out_trade_id) or the platform's (payment_no); gateway defaults to the
// configured default.
type LookupRequest struct {
	Gateway    string `json:"gateway,omitempty"`
	OutTradeID string `json:"out_trade_id,omitempty"`
	PaymentNo  string `json:"payment_no,omitempty"`
}

// LookupPattern is where LookupHandler is mounted (Options.Extra, which
// puts it behind the token like every API route).
const LookupPattern = "POST /v1/payments/lookup"

// LookupHandler answers POST /v1/payments/lookup: the order as a payment
// (200), adopted into the journal as an external payment the first time
// it is found paid, so the till can show, refund and reprint it and it
// counts in the summary. Errors take the API's one status map: an order
// the gateway does not know is not found, one not paid a conflict, a
// gateway that takes no external orders or a request naming no order
// invalid.
func LookupHandler(l Lookuper) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req LookupRequest
		if err := decodeBody(r, &req, true); err != nil {
			writeError(w, err)
			return
		}
		if req.OutTradeID == "" && req.PaymentNo == "" {
			writeError(w, pos.Errorf(pos.Invalid, "localapi.lookup", "out_trade_id or payment_no is required"))
			return
		}
		p, err := l.Lookup(r.Context(), flows.LookupRequest{Gateway: req.Gateway, OutTradeNo: req.OutTradeID, TransactionID: req.PaymentNo})
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, paymentJSON(p))
	})
}
