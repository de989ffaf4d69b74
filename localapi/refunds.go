package localapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/store"
)

// Refunds is what the API needs for refunds (flows.RefundRunner
// implements it).
type Refunds interface {
	Refund(ctx context.Context, req flows.RefundRequest) (pos.Refund, error)
	GetRefund(ctx context.Context, id string) (pos.Refund, error)
	WaitRefund(ctx context.Context, id string, seen pos.RefundState) (pos.Refund, error)
	PaymentRefunds(ctx context.Context, paymentID string) (flows.RefundBalance, error)
	// RefundJobs lists a refund's receipts, printed or pending.
	RefundJobs(ctx context.Context, id string) ([]store.PrintJob, error)
}

// Refund is the API's view of a refund.
type Refund struct {
	ID        string `json:"id"`
	PaymentID string `json:"payment_id"`
	State     string `json:"state"`  // pending, succeeded, failed, attention
	Detail    string `json:"detail"` // the internal state: submitting, processing, unknown, ...
	Amount    int64  `json:"amount"` // minor units
	Currency  string `json:"currency"`
	// Reason is the cashier's; Outcome what the gateway last said (why it
	// failed, or why it is still pending).
	Reason          string `json:"reason,omitempty"`
	Outcome         string `json:"outcome,omitempty"`
	OutRefundNo     string `json:"out_refund_no"`
	GatewayRefundID string `json:"gateway_refund_id,omitempty"`
	// Alert is what the operator must do (state attention: e.g. refund
	// the customer offline); its amount stays held.
	Alert string `json:"alert,omitempty"`
	// Method is how the money goes back: "refund", or "void" (the
	// gateway cancelled the sale, POST /v1/payments/{id}/void).
	Method    string    `json:"method"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func refundJSON(r pos.Refund) Refund {
	return Refund{
		ID: r.ID, PaymentID: r.PaymentID, State: r.State.Status(), Detail: string(r.State),
		Amount: r.Amount.Minor, Currency: string(r.Amount.Currency), Reason: r.Reason, Outcome: r.Outcome,
		OutRefundNo: r.OutRefundNo, GatewayRefundID: r.GatewayRefundID, Alert: r.Alert, Method: string(r.Method.OrRefund()),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// refundRequest is the optional body of POST /v1/payments/{id}/refunds.
// Amount is in minor units of the payment's currency; absent, everything
// left to refund is refunded.
type refundRequest struct {
	Amount json.RawMessage `json:"amount"`
	Reason string          `json:"reason"`
}

func (s *Server) refunds() (Refunds, error) {
	if s.opts.Refunds == nil {
		return nil, pos.Errorf(pos.Unavailable, "localapi.refunds", "refunds are not available in this daemon")
	}
	return s.opts.Refunds, nil
}

// createRefund answers 201 with the refund as it stands after the
// gateway's answer: succeeded, failed, or pending (follow it with GET
// /v1/refunds/{id}?wait=). 404 for an unknown payment, 409 for one that is
// not succeeded or an amount above what is left, 400 for bad input.
func (s *Server) createRefund(w http.ResponseWriter, r *http.Request) {
	const op = "localapi.createRefund"
	rf, err := s.refunds()
	if err != nil {
		writeError(w, err)
		return
	}
	var req refundRequest
	if err := decodeBody(r, &req, false); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	bal, err := rf.PaymentRefunds(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	fr := flows.RefundRequest{PaymentID: id, Reason: req.Reason, Idempotency: keyOf(r.Context())}
	if len(req.Reason) > flows.MaxRefundReason {
		writeError(w, atField("reason", pos.Errorf(pos.Invalid, op, "reason is longer than %d bytes", flows.MaxRefundReason)))
		return
	}
	if raw := strings.TrimSpace(string(req.Amount)); raw != "" && raw != "null" {
		minor, err := parseMinor(op, raw)
		if err != nil {
			writeError(w, atField("amount", err))
			return
		}
		if fr.Amount, err = pos.NewMoney(minor, string(bal.Payment.Amount.Currency)); err != nil {
			writeError(w, atField("amount", err))
			return
		}
	}
	ref, err := rf.Refund(r.Context(), fr)
	if err != nil {
		s.opts.Logger.Warn("refund refused", "payment", id, "err", err)
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, refundJSON(ref))
}

// parseMinor reads a JSON integer amount in minor units.
func parseMinor(op, raw string) (int64, error) {
	if raw[0] == '"' {
		return 0, pos.Errorf(pos.Invalid, op, "amount must be a JSON number in minor units (500 for 5.00 CNY), not a string")
	}
	if strings.ContainsAny(raw, ".eE") {
		return 0, pos.Errorf(pos.Invalid, op, "amount must be an integer in minor units (500 for 5.00 CNY), got %s", raw)
	}
	minor, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, pos.Errorf(pos.Invalid, op, "amount %s is not a whole number", raw)
	}
	return minor, nil
}

// refundList is GET /v1/payments/{id}/refunds: the refunds and the
// balance, in minor units of the payment's currency.
type refundList struct {
	PaymentID string   `json:"payment_id"`
	Currency  string   `json:"currency"`
	Paid      int64    `json:"paid"`
	Refunded  int64    `json:"refunded"`   // succeeded refunds
	Pending   int64    `json:"pending"`    // refunds not final yet
	Attention int64    `json:"attention"`  // refunds the operator must settle (held)
	Left      int64    `json:"refundable"` // what may still be refunded
	Refunds   []Refund `json:"refunds"`
}

func (s *Server) paymentRefunds(w http.ResponseWriter, r *http.Request) {
	rf, err := s.refunds()
	if err != nil {
		writeError(w, err)
		return
	}
	bal, err := rf.PaymentRefunds(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	out := refundList{PaymentID: bal.Payment.ID, Currency: string(bal.Payment.Amount.Currency), Paid: bal.Payment.Amount.Minor,
		Refunded: bal.Refunded.Minor, Pending: bal.Pending.Minor, Attention: bal.Attention.Minor, Left: bal.Left.Minor, Refunds: []Refund{}}
	if !pos.Refundable(bal.Payment) {
		out.Paid = 0 // nothing was charged, or it was reversed
	}
	for _, ref := range bal.Refunds {
		out.Refunds = append(out.Refunds, refundJSON(ref))
	}
	writeJSON(w, http.StatusOK, out)
}

// refundReceipts answers GET /v1/refunds/{id}/receipts.
func (s *Server) refundReceipts(w http.ResponseWriter, r *http.Request) {
	rf, err := s.refunds()
	if err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	jobs, err := rf.RefundJobs(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"refund_id": id, "jobs": printJobsJSON(jobs)})
}

// getRefund answers GET /v1/refunds/{id}; with ?wait=30s it long-polls
// until the state differs from ?state= (default: the state now) or is
// final.
func (s *Server) getRefund(w http.ResponseWriter, r *http.Request) {
	rf, err := s.refunds()
	if err != nil {
		writeError(w, err)
		return
	}
	id, ctx := r.PathValue("id"), r.Context()
	wait := r.URL.Query().Get("wait")
	if wait == "" {
		ref, err := rf.GetRefund(ctx, id)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, refundJSON(ref))
		return
	}
	d, _, err := s.waitOf(r, 0)
	if err != nil {
		writeError(w, err)
		return
	}
	seen := pos.RefundState(r.URL.Query().Get("state"))
	if seen != "" && !seen.Valid() {
		writeError(w, problemf("malformed-request", "state", "unknown refund state %q", seen))
		return
	}
	if seen == "" {
		ref, err := rf.GetRefund(ctx, id)
		if err != nil {
			writeError(w, err)
			return
		}
		seen = ref.State
	}
	wctx, cancel := context.WithTimeout(ctx, min(d, s.opts.MaxWait))
	defer cancel()
	ref, err := rf.WaitRefund(wctx, id, seen)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, refundJSON(ref))
}
