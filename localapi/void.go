package localapi

import (
	"net/http"

	"github.com/posagent/posagent/flows"
)

// voidPayment takes a succeeded payment back in full: by a void of the
// sale where its gateway offers one now (Allinpay *_CANCEL, the same
// acquirer day, nothing refunded yet), else by a refund of all that is
// left. Either way it is a refund record (its method says which), journaled
// before the gateway is called and followed like any refund; the answer's
// "method" says which it did.
func (s *Server) voidPayment(w http.ResponseWriter, r *http.Request) {
	var empty struct{}
	if err := decodeBody(r, &empty, false); err != nil {
		writeError(w, err)
		return
	}
	rf, err := s.refunds()
	if err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	ref, err := rf.Refund(r.Context(), flows.RefundRequest{PaymentID: id, Reason: "void", Idempotency: keyOf(r.Context()), Void: true})
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := s.opts.Payments.Get(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"method": string(ref.Method.OrRefund()), "payment": s.paymentJSON(p), "refund": refundJSON(ref)})
}
