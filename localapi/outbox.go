package localapi

import (
	"context"
	"net/http"
	"time"

	"github.com/posagent/posagent/flows"
)

// Outboxer is the operator's outbox (flows.Outbox implements it).
type Outboxer interface {
	List(ctx context.Context) ([]flows.OutboxItem, error)
	Retry(ctx context.Context, id string) (flows.OutboxItem, error)
	Resolve(ctx context.Context, id string, res flows.Resolution) (flows.Resolved, error)
	AlertAfter() time.Duration
}

// The outbox's routes, mounted with OutboxHandlers through Options.Extra
// (behind the token like every API route):
//
//	GET  /v1/outbox                 every gateway operation still owed
//	POST /v1/outbox/{id}/retry      make it due now (202)
//	POST /v1/outbox/{id}/resolve    end it by hand: {"outcome", "reason", "by"}
const (
	OutboxPattern        = "GET /v1/outbox"
	OutboxRetryPattern   = "POST /v1/outbox/{id}/retry"
	OutboxResolvePattern = "POST /v1/outbox/{id}/resolve"
)

// OutboxItem is the API's view of an owed gateway operation.
type OutboxItem struct {
	ID           string    `json:"id"`
	PaymentID    string    `json:"payment_id"`
	RefundID     string    `json:"refund_id,omitempty"`
	Kind         string    `json:"kind"` // query, reverse, close, refund_query
	Attempts     int       `json:"attempts"`
	LastError    string    `json:"last_error,omitempty"`
	NextTry      time.Time `json:"next_try"`
	CreatedAt    time.Time `json:"created_at"`
	PendingSince time.Time `json:"pending_since"`
	State        string    `json:"state"` // the payment's or refund's detailed state
	Gateway      string    `json:"gateway"`
	OutTradeNo   string    `json:"out_trade_no"`
	OutRefundNo  string    `json:"out_refund_no,omitempty"`
	Amount       int64     `json:"amount"`
	Currency     string    `json:"currency"`
	// Alert: owed longer than outbox.alert_after; an operator should look.
	Alert bool `json:"alert"`
}

func outboxItemJSON(it flows.OutboxItem) OutboxItem {
	return OutboxItem{
		ID: it.ID, PaymentID: it.PaymentID, RefundID: it.RefundID, Kind: it.Kind, Attempts: it.Attempts,
		LastError: it.LastError, NextTry: it.NextTry, CreatedAt: it.CreatedAt, PendingSince: it.PendingSince,
		State: it.State, Gateway: it.Gateway, OutTradeNo: it.OutTradeNo, OutRefundNo: it.OutRefundNo,
		Amount: it.Amount.Minor, Currency: string(it.Amount.Currency), Alert: it.Alert,
	}
}

func outboxListJSON(items []flows.OutboxItem, alertAfter time.Duration) OutboxList {
	out := OutboxList{Items: []OutboxItem{}, AlertAfter: alertAfter.String()}
	for _, it := range items {
		out.Items = append(out.Items, outboxItemJSON(it))
		if it.Alert {
			out.Alerts++
		}
	}
	return out
}

// OutboxList is the answer of GET /v1/outbox.
type OutboxList struct {
	Items []OutboxItem `json:"items"`
	// Alerts counts the flagged items; AlertAfter is the threshold.
	Alerts     int    `json:"alerts"`
	AlertAfter string `json:"alert_after"`
}

// ResolveRequest is the body of POST /v1/outbox/{id}/resolve: the final
// state the payment (refund) is in, as confirmed with the acquirer; why;
// and who says so. All three are required and journaled.
type ResolveRequest struct {
	Outcome string `json:"outcome"`
	Reason  string `json:"reason"`
	By      string `json:"by"`
}

// ResolveAnswer is the answer of a resolution: the item and the payment
// or refund after it.
type ResolveAnswer struct {
	Resolved string   `json:"resolved"`
	Payment  *Payment `json:"payment,omitempty"`
	Refund   *Refund  `json:"refund,omitempty"`
}

// OutboxHandlers returns the outbox's handlers by pattern, for
// Options.Extra.
func OutboxHandlers(o Outboxer) map[string]http.Handler {
	return map[string]http.Handler{
		OutboxPattern: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			items, err := o.List(r.Context())
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, http.StatusOK, outboxListJSON(items, o.AlertAfter()))
		}),
		OutboxRetryPattern: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var empty struct{}
			if err := decodeBody(r, &empty, false); err != nil {
				writeError(w, err)
				return
			}
			it, err := o.Retry(r.Context(), r.PathValue("id"))
			if err != nil {
				writeError(w, err)
				return
			}
			writeJSON(w, http.StatusAccepted, outboxItemJSON(it))
		}),
		OutboxResolvePattern: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var req ResolveRequest
			if err := decodeBody(r, &req, true); err != nil {
				writeError(w, err)
				return
			}
			res, err := o.Resolve(r.Context(), r.PathValue("id"), flows.Resolution{Outcome: req.Outcome, Reason: req.Reason, By: req.By})
			if err != nil {
				writeError(w, err)
				return
			}
			out := ResolveAnswer{Resolved: r.PathValue("id")}
			if res.Payment != nil {
				p := paymentJSON(*res.Payment)
				out.Payment = &p
			}
			if res.Refund != nil {
				rf := refundJSON(*res.Refund)
				out.Refund = &rf
			}
			writeJSON(w, http.StatusOK, out)
		}),
	}
}
