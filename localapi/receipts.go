package localapi

import (
	"context"
	"net/http"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// Receipts is what the API needs from the print spool (flows.Spool
// implements it).
type Receipts interface {
	// Reprint queues fresh copies of a final payment's receipts; no kinds
	// means the copies it got at first.
	Reprint(ctx context.Context, paymentID string, kinds ...string) ([]store.PrintJob, error)
	// Jobs lists a payment's receipts, printed or pending.
	Jobs(ctx context.Context, paymentID string) ([]store.PrintJob, error)
}

// RefundReprinter is a Receipts that also reprints refund receipts
// (flows.Spool is one).
type RefundReprinter interface {
	// ReprintRefund queues fresh copies of a final refund's receipts; no
	// kinds means the copies it got at first.
	ReprintRefund(ctx context.Context, refundID string, kinds ...string) ([]store.PrintJob, error)
}

// PrintJob is the API's view of a receipt owed to, or taken by, the
// printer.
type PrintJob struct {
	ID        int64      `json:"id"`
	PaymentID string     `json:"payment_id,omitempty"`
	RefundID  string     `json:"refund_id,omitempty"`
	Kind      string     `json:"kind"`  // payment-customer, payment-merchant, void
	State     string     `json:"state"` // pending, printed
	Reprint   bool       `json:"reprint,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error,omitempty"`
	PrintedAt *time.Time `json:"printed_at,omitempty"`
}

func printJobsJSON(jobs []store.PrintJob) []PrintJob {
	out := make([]PrintJob, 0, len(jobs))
	for _, j := range jobs {
		v := PrintJob{ID: j.ID, PaymentID: j.PaymentID, RefundID: j.RefundID, Kind: j.Kind, State: "pending", Reprint: j.Reprint,
			CreatedAt: j.CreatedAt, Attempts: j.Attempts, LastError: j.LastError}
		if j.Printed() {
			at := j.PrintedAt
			v.State, v.PrintedAt = "printed", &at
		}
		out = append(out, v)
	}
	return out
}

// reprintRequest is the optional body of POST /v1/payments/{id}/reprint.
type reprintRequest struct {
	// Kinds chooses the receipts: payment-customer, payment-merchant,
	// void. Empty: the copies the payment got when it became final.
	Kinds []string `json:"kinds"`
}

func (s *Server) receipts() (Receipts, error) {
	if s.opts.Receipts == nil {
		return nil, pos.Errorf(pos.Unavailable, "localapi.receipts", "no printer is configured")
	}
	return s.opts.Receipts, nil
}

// reprint answers 202 with the jobs queued: printing follows, when the
// printer is ready.
func (s *Server) reprint(w http.ResponseWriter, r *http.Request) {
	rc, err := s.receipts()
	if err != nil {
		writeError(w, err)
		return
	}
	var req reprintRequest
	if err := decodeBody(r, &req, false); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	jobs, err := rc.Reprint(r.Context(), id, req.Kinds...)
	if err != nil {
		writeError(w, err)
		return
	}
	s.opts.Logger.Info("reprint requested", "payment", id, "jobs", len(jobs))
	writeJSON(w, http.StatusAccepted, map[string]any{"payment_id": id, "jobs": printJobsJSON(jobs)})
}

// reprintRefund answers POST /v1/refunds/{id}/reprint: 202 with the jobs
// queued.
func (s *Server) reprintRefund(w http.ResponseWriter, r *http.Request) {
	rc, err := s.receipts()
	if err != nil {
		writeError(w, err)
		return
	}
	rr, ok := rc.(RefundReprinter)
	if !ok {
		writeError(w, pos.Errorf(pos.Unavailable, "localapi.reprintRefund", "this printer setup cannot reprint refund receipts"))
		return
	}
	var req reprintRequest
	if err := decodeBody(r, &req, false); err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	jobs, err := rr.ReprintRefund(r.Context(), id, req.Kinds...)
	if err != nil {
		writeError(w, err)
		return
	}
	s.opts.Logger.Info("refund reprint requested", "refund", id, "jobs", len(jobs))
	writeJSON(w, http.StatusAccepted, map[string]any{"refund_id": id, "jobs": printJobsJSON(jobs)})
}

func (s *Server) paymentReceipts(w http.ResponseWriter, r *http.Request) {
	rc, err := s.receipts()
	if err != nil {
		writeError(w, err)
		return
	}
	id := r.PathValue("id")
	jobs, err := rc.Jobs(r.Context(), id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"payment_id": id, "jobs": printJobsJSON(jobs)})
}
