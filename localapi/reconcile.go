package localapi

import (
	"context"
	"net/http"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
)

// Reconciler reconciles an acquirer day (flows.Reconciler implements it).
type Reconciler interface {
	Reconcile(ctx context.Context, date, gateway string) ([]flows.Report, error)
}

// ReconcilePattern is where ReconcileHandler is mounted (Options.Extra).
const ReconcilePattern = "GET /v1/reconcile"

// ReconcileAnswer is the answer of GET /v1/reconcile?date=YYYY-MM-DD[&gateway=NAME]:
// one report per gateway; OK is false when any of them has a mismatch or
// its bill could not be had.
type ReconcileAnswer struct {
	OK      bool              `json:"ok"`
	Reports []ReconcileReport `json:"reports"`
}

// ReconcileReport is one gateway's day; see flows.Report.
type ReconcileReport struct {
	Gateway   string           `json:"gateway"`
	Date      string           `json:"date"`
	Zone      string           `json:"zone"`
	From      time.Time        `json:"from"`
	To        time.Time        `json:"to"`
	OK        bool             `json:"ok"`
	HasBill   bool             `json:"has_bill"`
	NoBill    string           `json:"no_bill,omitempty"`
	Error     string           `json:"error,omitempty"`
	BillLines int              `json:"bill_lines"`
	Matched   int              `json:"matched"`
	Issues    []ReconcileIssue `json:"issues"`
	Day       []ReconcileLine  `json:"day"`
	// Provisional: the day had not ended (a simulator's same-day bill).
	Provisional bool `json:"provisional"`
	// Totals sums the day per currency, journal and bill side.
	Totals []ReconcileTotals `json:"totals"`
}

// ReconcileTotals is one currency of the day; amounts in minor units.
type ReconcileTotals struct {
	Currency string        `json:"currency"`
	Journal  ReconcileSide `json:"journal"`
	Bill     ReconcileSide `json:"bill"`
}

// ReconcileSide is one side's sums; see flows.ReconSide.
type ReconcileSide struct {
	Payments  int   `json:"payments"`
	Paid      int64 `json:"paid"`
	Reversals int   `json:"reversals"`
	Reversed  int64 `json:"reversed"`
	Refunds   int   `json:"refunds"`
	Refunded  int64 `json:"refunded"`
	Net       int64 `json:"net"`
}

func sideOf(s flows.ReconSide) ReconcileSide {
	return ReconcileSide{Payments: s.Payments, Paid: s.Paid.Minor, Reversals: s.Reversals, Reversed: s.Reversed.Minor,
		Refunds: s.Refunds, Refunded: s.Refunded.Minor, Net: s.Net.Minor}
}

// ReconcileIssue is one mismatch; amounts in minor units.
type ReconcileIssue struct {
	Kind          string `json:"kind"` // not_in_journal, not_in_bill, amount, state
	Refund        bool   `json:"refund"`
	PaymentID     string `json:"payment_id,omitempty"`
	RefundID      string `json:"refund_id,omitempty"`
	OutTradeNo    string `json:"out_trade_no,omitempty"`
	OutRefundNo   string `json:"out_refund_no,omitempty"`
	JournalState  string `json:"journal_state,omitempty"`
	JournalAmount *int64 `json:"journal_amount,omitempty"`
	BillAmount    *int64 `json:"bill_amount,omitempty"`
	Currency      string `json:"currency,omitempty"`
	BillType      string `json:"bill_type,omitempty"`
	Message       string `json:"message"`
}

// ReconcileLine is one payment or refund of the journal's day.
type ReconcileLine struct {
	PaymentID   string    `json:"payment_id"`
	RefundID    string    `json:"refund_id,omitempty"`
	OutTradeNo  string    `json:"out_trade_no,omitempty"`
	OutRefundNo string    `json:"out_refund_no,omitempty"`
	State       string    `json:"state"`
	Amount      int64     `json:"amount"`
	Currency    string    `json:"currency"`
	CreatedAt   time.Time `json:"created_at"`
}

func minorOf(m pos.Money) *int64 {
	if m.Currency == "" && m.Minor == 0 {
		return nil
	}
	v := m.Minor
	return &v
}

// ReconcileHandler answers GET /v1/reconcile. A bad date or an unknown
// gateway is 400; a mismatch is an answer (200, ok false), not an error.
func ReconcileHandler(rc Reconciler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		date := q.Get("date")
		if date == "" {
			writeError(w, problemf("malformed-request", "date", "date is required (YYYY-MM-DD, the acquirer's day)"))
			return
		}
		reps, err := rc.Reconcile(r.Context(), date, q.Get("gateway"))
		if err != nil {
			if pos.Match(pos.Invalid, err) {
				writeError(w, problemf("malformed-request", "", "%s", messageOf(err)))
				return
			}
			writeError(w, err)
			return
		}
		out := ReconcileAnswer{OK: true, Reports: reconcileReportsJSON(reps)}
		for _, jr := range out.Reports {
			out.OK = out.OK && jr.OK
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func reconcileReportsJSON(reps []flows.Report) []ReconcileReport {
	out := []ReconcileReport{}
	for _, rp := range reps {
		jr := ReconcileReport{Gateway: rp.Gateway, Date: rp.Date, Zone: rp.Zone, From: rp.From, To: rp.To, OK: rp.OK(),
			HasBill: rp.HasBill, NoBill: rp.NoBill, Error: rp.Error, BillLines: rp.BillLines, Matched: rp.Matched,
			Issues: []ReconcileIssue{}, Day: []ReconcileLine{}, Provisional: rp.Provisional, Totals: []ReconcileTotals{}}
		for _, t := range rp.Totals {
			jr.Totals = append(jr.Totals, ReconcileTotals{Currency: string(t.Currency), Journal: sideOf(t.Journal), Bill: sideOf(t.Bill)})
		}
		for _, i := range rp.Issues {
			cur := i.JournalAmount.Currency
			if cur == "" {
				cur = i.BillAmount.Currency
			}
			jr.Issues = append(jr.Issues, ReconcileIssue{Kind: i.Kind, Refund: i.Refund, PaymentID: i.PaymentID, RefundID: i.RefundID,
				OutTradeNo: i.OutTradeNo, OutRefundNo: i.OutRefundNo, JournalState: i.JournalState, JournalAmount: minorOf(i.JournalAmount),
				BillAmount: minorOf(i.BillAmount), Currency: string(cur), BillType: i.BillType, Message: i.Message})
		}
		for _, l := range rp.Day {
			jr.Day = append(jr.Day, ReconcileLine{PaymentID: l.PaymentID, RefundID: l.RefundID, OutTradeNo: l.OutTradeNo, OutRefundNo: l.OutRefundNo,
				State: l.State, Amount: l.Amount.Minor, Currency: string(l.Amount.Currency), CreatedAt: l.CreatedAt})
		}
		out = append(out, jr)
	}
	return out
}
