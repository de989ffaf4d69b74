package localapi

import (
	"context"
	"net/http"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/store"
)

// refundAll asks for a refund of everything left, the fallback of a void.
func refundAll(id string, key *store.IdempotencyKey) flows.RefundRequest {
	return flows.RefundRequest{PaymentID: id, Reason: "void", Idempotency: key}
}

// Voider takes back a succeeded payment: voided the same day where its
// gateway offers a void, else refunded in full. Method says which.
//
// No implementation is wired today: a void would move a final payment
// (succeeded to reversed), which the state table forbids by design, or be
// a refund record whose gateway call is the void, which the refund flows
// do not have yet. Without one, every void is a full refund (method
// "refund"), which is correct for every gateway, if not the cheapest.
type Voider interface {
	Void(ctx context.Context, paymentID string, key *store.IdempotencyKey) (VoidResult, error)
}

// VoidResult is what a void did.
type VoidResult struct {
	// Method is "void" (the gateway cancelled the sale) or "refund".
	Method  string
	Payment pos.Payment
	Refund  *pos.Refund
}

func (s *Server) voidPayment(w http.ResponseWriter, r *http.Request) {
	var empty struct{}
	if err := decodeBody(r, &empty, false); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	if s.opts.Voids == nil {
		// No gateway here can void: a void is a full refund.
		if s.opts.Refunds == nil {
			writeError(w, problemf("unavailable", "", "refunds are not available in this daemon"))
			return
		}
		req := refundAll(id, keyOf(r.Context()))
		ref, err := s.opts.Refunds.Refund(r.Context(), req)
		if err != nil {
			writeError(w, err)
			return
		}
		p, _ := s.opts.Payments.Get(r.Context(), id)
		rj := refundJSON(ref)
		writeJSON(w, http.StatusCreated, map[string]any{"method": "refund", "payment": s.paymentJSON(p), "refund": rj})
		return
	}
	res, err := s.opts.Voids.Void(r.Context(), id, keyOf(r.Context()))
	if err != nil {
		writeError(w, err)
		return
	}
	out := map[string]any{"method": res.Method, "payment": s.paymentJSON(res.Payment)}
	if res.Refund != nil {
		out["refund"] = refundJSON(*res.Refund)
	}
	writeJSON(w, http.StatusCreated, out)
}
