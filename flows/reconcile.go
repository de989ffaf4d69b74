package flows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/store"
)

// Reconciliation: one acquirer day of the journal against the acquirer's
// bill of that day, matched by order number (and refund number).
//
// Decisions written down here:
//   - The day is the acquirer's (BillZone; UTC+8 for a gateway without a
//     bill, the zone of every acquirer posagent speaks to). The journal's
//     side is the payments and refunds created in that day; a bill line
//     about an order of another day (paid after midnight) is matched
//     against the journal by number all the same.
//   - What each journal state expects of the bill: succeeded (or charged
//     late) a payment line of the same amount and no void; reversed
//     either nothing (never charged) or a payment line and its void;
//     failed and pending nothing. A succeeded refund expects a refund line
//     of its amount; any other refund state none. A void of a sale (a
//     refund record with method void) is the bill's void of its order: a
//     succeeded payment with a succeeded void expects its payment line and
//     a void line of the void's amount; with a void not succeeded, no void.
//   - A refund line is matched by our refund number, or, when the bill
//     does not carry it (HipoPay's report), by the acquirer's refund
//     number against the journal's GatewayRefundID.
//   - Issues are of four kinds, for payments and refunds alike:
//     not_in_journal (in the bill, not here), not_in_bill (here, not in the
//     bill), amount, state. Any issue, or a bill that could not be had,
//     makes the report not OK (the CLI exits non-zero).
//   - A gateway whose acquirer offers no bill is reported so, with the
//     journal's day listed; that is not a mismatch.

// Issue kinds of a reconciliation.
const (
	IssueNotInJournal = "not_in_journal"
	IssueNotInBill    = "not_in_bill"
	IssueAmount       = "amount"
	IssueState        = "state"
)

// ReconIssue is one thing that does not add up.
type ReconIssue struct {
	Kind          string // IssueNotInJournal, IssueNotInBill, IssueAmount, IssueState
	Refund        bool   // about a refund rather than a payment
	PaymentID     string
	RefundID      string
	OutTradeNo    string
	OutRefundNo   string
	JournalState  string
	JournalAmount pos.Money
	BillAmount    pos.Money
	BillType      string
	Message       string
}

// ReconLine is one payment or refund of the journal's day.
type ReconLine struct {
	PaymentID   string
	RefundID    string
	OutTradeNo  string
	OutRefundNo string
	State       string
	Amount      pos.Money
	CreatedAt   time.Time
}

// Report is the reconciliation of one gateway's day.
type Report struct {
	Gateway string
	// Date is the acquirer's day, YYYY-MM-DD; Zone its zone ("UTC+8");
	// From and To bound it as instants.
	Date     string
	Zone     string
	From, To time.Time
	// HasBill: the bill was downloaded and matched. NoBill says why not
	// (the gateway offers none, or the download failed: Error).
	HasBill bool
	NoBill  string
	Error   string
	// BillLines counts the bill's lines; Matched the journal's payments
	// and refunds the bill agrees with.
	BillLines int
	Matched   int
	Issues    []ReconIssue
	// Day is the journal's day: every payment and refund of the gateway.
	Day []ReconLine
	// Provisional: the acquirer's day had not ended when it was
	// reconciled, so its bill (a simulator's, SameDayBills) lists what
	// moved so far. A real acquirer serves a day's bill from the next day.
	Provisional bool
	// Totals sums the day per currency as the journal and as the bill
	// have it (the bill side only with HasBill); on a day that adds up
	// their nets agree.
	Totals []ReconTotals
}

// ReconSide is one side's sums of a day in one currency.
type ReconSide struct {
	// Payments counts what was charged: the journal's payments that are
	// succeeded (or charged late and not reversed), the bill's payment
	// lines; Paid sums them.
	Payments int
	Paid     pos.Money
	// Reversals counts the bill's voids of paid orders (the journal has a
	// reversed payment as not charged); Reversed sums them.
	Reversals int
	Reversed  pos.Money
	// Refunds counts the succeeded refunds (the bill's refund lines);
	// Refunded sums them.
	Refunds  int
	Refunded pos.Money
	// Net is Paid - Reversed - Refunded.
	Net pos.Money
}

// ReconTotals is one currency of a day, both sides.
type ReconTotals struct {
	Currency pos.Currency
	Journal  ReconSide
	Bill     ReconSide
}

// OK reports whether the day adds up: a bill was matched, or there is none
// to match, and nothing disagrees.
func (r Report) OK() bool { return r.Error == "" && len(r.Issues) == 0 }

// ReconcileOptions configures a Reconciler. Journal and Gateways are
// required; Refunds (the journal's refunds) may be nil.
type ReconcileOptions struct {
	Journal  store.Journal
	Refunds  store.RefundJournal
	Gateways map[string]gateways.Gateway
	// Now says whether a day has ended (Report.Provisional); default
	// time.Now.
	Now func() time.Time
}

// Reconciler matches journal days against acquirers' bills.
type Reconciler struct{ o ReconcileOptions }

// NewReconciler validates o.
func NewReconciler(o ReconcileOptions) (*Reconciler, error) {
	if o.Journal == nil || len(o.Gateways) == 0 {
		return nil, errors.New("flows: ReconcileOptions needs a journal and gateways")
	}
	if o.Refunds == nil {
		o.Refunds, _ = o.Journal.(store.RefundJournal)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Reconciler{o: o}, nil
}

// acquirerZone is the day of a gateway without a bill.
var acquirerZone = time.FixedZone("UTC+8", 8*3600)

// Reconcile reconciles date (YYYY-MM-DD, the acquirer's day) for gateway,
// or for every configured gateway when gateway is empty (by name).
func (rc *Reconciler) Reconcile(ctx context.Context, date, gateway string) ([]Report, error) {
	const op = "flows.Reconcile"
	if _, err := time.Parse("2006-01-02", date); err != nil {
		return nil, pos.Errorf(pos.Invalid, op, "date %q is not YYYY-MM-DD", date)
	}
	names := []string{gateway}
	if gateway == "" {
		names = names[:0]
		for n := range rc.o.Gateways {
			names = append(names, n)
		}
		sort.Strings(names)
	} else if _, ok := rc.o.Gateways[gateway]; !ok {
		return nil, pos.Errorf(pos.Invalid, op, "gateway %q is not configured", gateway)
	}
	var out []Report
	for _, n := range names {
		r, err := rc.one(ctx, date, n)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (rc *Reconciler) one(ctx context.Context, date, name string) (Report, error) {
	g := rc.o.Gateways[name]
	src, hasBill := g.(gateways.BillSource)
	zone := acquirerZone
	if hasBill {
		zone = src.BillZone()
	}
	day, _ := time.ParseInLocation("2006-01-02", date, zone)
	rep := Report{Gateway: name, Date: date, Zone: zone.String(), From: day, To: day.AddDate(0, 0, 1)}
	rep.Provisional = rc.o.Now().Before(rep.To)
	pays, err := rc.o.Journal.PaymentsBetween(ctx, rep.From, rep.To)
	if err != nil {
		return rep, fmt.Errorf("flows: reconcile: %w", err)
	}
	pays = slices.DeleteFunc(pays, func(p pos.Payment) bool { return p.Gateway != name })
	var refs []pos.Refund
	if rc.o.Refunds != nil {
		all, err := rc.o.Refunds.RefundsBetween(ctx, rep.From, rep.To)
		if err != nil {
			return rep, fmt.Errorf("flows: reconcile: %w", err)
		}
		byID := map[string]pos.Payment{}
		for _, r := range all {
			p, ok := byID[r.PaymentID]
			if !ok {
				if p, err = rc.o.Journal.Payment(ctx, r.PaymentID); err != nil {
					return rep, fmt.Errorf("flows: reconcile: %w", err)
				}
				byID[r.PaymentID] = p
			}
			if p.Gateway == name {
				refs = append(refs, r)
			}
		}
	}
	for _, p := range pays {
		rep.Day = append(rep.Day, ReconLine{PaymentID: p.ID, OutTradeNo: p.OutTradeNo, State: string(p.State), Amount: p.Amount, CreatedAt: p.CreatedAt})
	}
	for _, r := range refs {
		rep.Day = append(rep.Day, ReconLine{PaymentID: r.PaymentID, RefundID: r.ID, OutRefundNo: r.OutRefundNo, State: string(r.State), Amount: r.Amount, CreatedAt: r.CreatedAt})
	}
	tot := totals{}
	for _, p := range pays {
		if p.State == pos.StateSucceeded || (p.ChargedLate && p.State != pos.StateReversed) {
			j := &tot.of(p.Amount.Currency).Journal
			j.Payments++
			j.Paid.Minor += p.Amount.Minor
		}
	}
	for _, r := range refs {
		if r.State != pos.RefundSucceeded {
			continue
		}
		j := &tot.of(r.Amount.Currency).Journal
		if r.Method == pos.RefundByVoid {
			// A void of the sale is the bill's void of the order.
			j.Reversals++
			j.Reversed.Minor += r.Amount.Minor
			continue
		}
		j.Refunds++
		j.Refunded.Minor += r.Amount.Minor
	}
	if !hasBill {
		rep.NoBill = fmt.Sprintf("gateway %s (%s): the acquirer offers no bill to download; the journal's day is listed", name, g.Kind())
		rep.Totals = tot.list()
		return rep, nil
	}
	bill, err := src.DailyBill(ctx, day)
	if err != nil {
		rep.NoBill = "the bill could not be downloaded"
		rep.Error = errMessage(err)
		rep.Totals = tot.list()
		return rep, nil
	}
	rep.HasBill = true
	rep.BillLines = len(bill.Lines)
	for _, l := range bill.Lines {
		b := &tot.of(l.Amount.Currency).Bill
		switch l.Kind {
		case gateways.BillPayment:
			b.Payments++
			b.Paid.Minor += l.Amount.Minor
		case gateways.BillReversal:
			b.Reversals++
			b.Reversed.Minor += l.Amount.Minor
		case gateways.BillRefund:
			b.Refunds++
			b.Refunded.Minor += l.Amount.Minor
		}
	}
	rep.Totals = tot.list()
	rc.match(ctx, &rep, name, bill, pays, refs)
	return rep, nil
}

// totals builds Report.Totals, one entry per currency in order of first
// appearance.
type totals struct {
	order []pos.Currency
	by    map[pos.Currency]*ReconTotals
}

func (t *totals) of(c pos.Currency) *ReconTotals {
	if t.by == nil {
		t.by = map[pos.Currency]*ReconTotals{}
	}
	x := t.by[c]
	if x == nil {
		x = &ReconTotals{Currency: c}
		t.by[c] = x
		t.order = append(t.order, c)
	}
	return x
}

func (t *totals) list() []ReconTotals {
	var out []ReconTotals
	for _, c := range t.order {
		x := *t.by[c]
		for _, s := range []*ReconSide{&x.Journal, &x.Bill} {
			s.Paid.Currency, s.Reversed.Currency, s.Refunded.Currency = c, c, c
			s.Net = pos.Money{Minor: s.Paid.Minor - s.Reversed.Minor - s.Refunded.Minor, Currency: c}
		}
		out = append(out, x)
	}
	return out
}

// billOrder is what the bill says of one order.
type billOrder struct {
	pay, void   *gateways.BillLine
	payN, voidN int
}

func (rc *Reconciler) match(ctx context.Context, rep *Report, name string, bill gateways.Bill, pays []pos.Payment, refs []pos.Refund) {
	orders := map[string]*billOrder{}
	var order []string
	var refundLines []gateways.BillLine
	for i := range bill.Lines {
		l := &bill.Lines[i]
		if l.Kind == gateways.BillRefund {
			refundLines = append(refundLines, *l)
			continue
		}
		o := orders[l.OutTradeNo]
		if o == nil {
			o = &billOrder{}
			orders[l.OutTradeNo] = o
			order = append(order, l.OutTradeNo)
		}
		if l.Kind == gateways.BillReversal {
			o.void, o.voidN = l, o.voidN+1
		} else {
			o.pay, o.payN = l, o.payN+1
		}
	}
	byNo := map[string]pos.Payment{}
	for _, p := range pays {
		byNo[p.OutTradeNo] = p
	}
	// Voids of a sale (refund records with method void) are the bill's
	// voids of their orders, matched with the payment, not refund lines.
	voids := map[string]pos.Refund{} // by payment
	refs = slices.DeleteFunc(slices.Clone(refs), func(r pos.Refund) bool {
		if r.Method == pos.RefundByVoid {
			voids[r.PaymentID] = r
			return true
		}
		return false
	})
	issue := func(i ReconIssue) { rep.Issues = append(rep.Issues, i) }
	voidIssue := func(v pos.Refund, no, kind, msg string, bill *gateways.BillLine) {
		i := ReconIssue{Kind: kind, Refund: true, PaymentID: v.PaymentID, RefundID: v.ID, OutTradeNo: no, OutRefundNo: v.OutRefundNo,
			JournalState: string(v.State), JournalAmount: v.Amount, Message: msg}
		if bill != nil {
			i.BillAmount, i.BillType = bill.Amount, bill.Type
		}
		issue(i)
	}
	for _, no := range order {
		o := orders[no]
		p, ok := byNo[no]
		if !ok {
			// An order of another day (paid after midnight) is still ours.
			if q, err := rc.o.Journal.PaymentByOutTradeNo(ctx, no); err == nil && q.Gateway == name {
				p, ok = q, true
			}
		}
		if !ok {
			for _, l := range []*gateways.BillLine{o.pay, o.void} {
				if l != nil {
					issue(ReconIssue{Kind: IssueNotInJournal, OutTradeNo: no, BillAmount: l.Amount, BillType: l.Type,
						Message: fmt.Sprintf("the bill has a %s of %s %s for order %s, which the journal does not know", l.Kind, l.Amount.Decimal(), l.Amount.Currency, no)})
				}
			}
			continue
		}
		delete(byNo, no)
		base := ReconIssue{PaymentID: p.ID, OutTradeNo: no, JournalState: string(p.State), JournalAmount: p.Amount}
		charged := p.State == pos.StateSucceeded || (p.ChargedLate && p.State != pos.StateReversed)
		if v, ok := voids[p.ID]; ok && charged {
			// A sale the till voided: the bill has its payment (unless
			// paid on another day) and, once the void went through, its
			// void.
			delete(voids, p.ID)
			switch {
			case o.pay != nil && o.pay.Amount != p.Amount:
				i := base
				i.Kind, i.BillAmount, i.BillType = IssueAmount, o.pay.Amount, o.pay.Type
				i.Message = fmt.Sprintf("payment %s: the journal has %s %s, the bill %s %s", p.ID, p.Amount.Decimal(), p.Amount.Currency, o.pay.Amount.Decimal(), o.pay.Amount.Currency)
				issue(i)
			case v.State == pos.RefundSucceeded && o.void == nil:
				voidIssue(v, no, IssueNotInBill, fmt.Sprintf("void %s of payment %s succeeded here, but the bill does not void the order", v.ID, p.ID), nil)
			case v.State == pos.RefundSucceeded && o.void.Amount != v.Amount:
				voidIssue(v, no, IssueAmount, fmt.Sprintf("void %s: the journal has %s %s, the bill voids %s %s", v.ID, v.Amount.Decimal(), v.Amount.Currency, o.void.Amount.Decimal(), o.void.Amount.Currency), o.void)
			case v.State != pos.RefundSucceeded && o.void != nil:
				voidIssue(v, no, IssueState, fmt.Sprintf("void %s is %s here, but the bill voids the order", v.ID, v.State), o.void)
			case o.pay == nil:
				rep.Matched++ // the void of a sale of another day
			default:
				rep.Matched += 2 // the sale and its void (or no void, as the journal has it)
			}
			continue
		}
		switch {
		case o.pay != nil && o.pay.Amount != p.Amount:
			i := base
			i.Kind, i.BillAmount, i.BillType = IssueAmount, o.pay.Amount, o.pay.Type
			i.Message = fmt.Sprintf("payment %s: the journal has %s %s, the bill %s %s", p.ID, p.Amount.Decimal(), p.Amount.Currency, o.pay.Amount.Decimal(), o.pay.Amount.Currency)
			issue(i)
		case charged && o.void != nil:
			i := base
			i.Kind, i.BillAmount, i.BillType = IssueState, o.void.Amount, o.void.Type
			i.Message = fmt.Sprintf("payment %s is %s here, but the bill voids it", p.ID, p.State)
			issue(i)
		case charged && o.pay == nil:
			// Paid on another day (its void is here): not this day's line.
			rep.Matched++
		case charged:
			rep.Matched++
		case p.State == pos.StateReversed && o.pay != nil && o.void == nil:
			i := base
			i.Kind, i.BillAmount, i.BillType = IssueState, o.pay.Amount, o.pay.Type
			i.Message = fmt.Sprintf("payment %s is reversed here, but the bill charges it with no void", p.ID)
			issue(i)
		case p.State == pos.StateReversed:
			rep.Matched++
		default:
			i := base
			i.Kind = IssueState
			if o.pay != nil {
				i.BillAmount, i.BillType = o.pay.Amount, o.pay.Type
			}
			i.Message = fmt.Sprintf("payment %s is %s here, but the bill has it", p.ID, p.State)
			issue(i)
		}
	}
	for _, v := range voids {
		// A void whose order has no line in this day's bill.
		if v.State == pos.RefundSucceeded {
			voidIssue(v, "", IssueNotInBill, fmt.Sprintf("void %s of payment %s succeeded here, but the bill does not void the order", v.ID, v.PaymentID), nil)
			continue
		}
		rep.Matched++
	}
	for _, p := range pays {
		if _, left := byNo[p.OutTradeNo]; !left {
			continue
		}
		if p.State == pos.StateSucceeded || (p.ChargedLate && p.State != pos.StateReversed) {
			issue(ReconIssue{Kind: IssueNotInBill, PaymentID: p.ID, OutTradeNo: p.OutTradeNo, JournalState: string(p.State), JournalAmount: p.Amount,
				Message: fmt.Sprintf("payment %s (%s %s) succeeded here, but the bill does not have it", p.ID, p.Amount.Decimal(), p.Amount.Currency)})
			continue
		}
		rep.Matched++ // nothing charged, nothing billed
	}
	// Refunds, by refund number.
	refByNo := map[string]pos.Refund{}
	for _, r := range refs {
		refByNo[r.OutRefundNo] = r
	}
	for _, l := range refundLines {
		// A line names the refund by our number, or (a bill that does not
		// carry it: HipoPay's) by the acquirer's, which the journal keeps
		// as GatewayRefundID.
		same := func(x pos.Refund) bool {
			if l.OutRefundNo != "" {
				return x.OutRefundNo == l.OutRefundNo
			}
			return l.RefundID != "" && x.GatewayRefundID == l.RefundID
		}
		var r pos.Refund
		ok := false
		if l.OutRefundNo != "" {
			r, ok = refByNo[l.OutRefundNo]
		} else {
			for _, x := range refs {
				if _, left := refByNo[x.OutRefundNo]; left && same(x) {
					r, ok = x, true
					break
				}
			}
		}
		if !ok && rc.o.Refunds != nil {
			if p, err := rc.o.Journal.PaymentByOutTradeNo(ctx, l.OutTradeNo); err == nil {
				rs, _ := rc.o.Refunds.RefundsOf(ctx, p.ID)
				for _, x := range rs {
					if same(x) {
						r, ok = x, true
					}
				}
			}
		}
		if !ok {
			name := l.OutRefundNo
			if name == "" {
				name = l.RefundID
			}
			issue(ReconIssue{Kind: IssueNotInJournal, Refund: true, OutTradeNo: l.OutTradeNo, OutRefundNo: l.OutRefundNo, BillAmount: l.Amount, BillType: l.Type,
				Message: fmt.Sprintf("the bill has a refund %s of %s %s of order %s, which the journal does not know", name, l.Amount.Decimal(), l.Amount.Currency, l.OutTradeNo)})
			continue
		}
		delete(refByNo, r.OutRefundNo)
		base := ReconIssue{Refund: true, PaymentID: r.PaymentID, RefundID: r.ID, OutTradeNo: l.OutTradeNo, OutRefundNo: r.OutRefundNo,
			JournalState: string(r.State), JournalAmount: r.Amount, BillAmount: l.Amount, BillType: l.Type}
		switch {
		case l.Amount != r.Amount:
			base.Kind = IssueAmount
			base.Message = fmt.Sprintf("refund %s: the journal has %s %s, the bill %s %s", r.ID, r.Amount.Decimal(), r.Amount.Currency, l.Amount.Decimal(), l.Amount.Currency)
			issue(base)
		case r.State != pos.RefundSucceeded:
			base.Kind = IssueState
			base.Message = fmt.Sprintf("refund %s is %s here, but the bill has it refunded", r.ID, r.State)
			issue(base)
		default:
			rep.Matched++
		}
	}
	for _, r := range refs {
		if _, left := refByNo[r.OutRefundNo]; !left {
			continue
		}
		if r.State == pos.RefundSucceeded {
			issue(ReconIssue{Kind: IssueNotInBill, Refund: true, PaymentID: r.PaymentID, RefundID: r.ID, OutRefundNo: r.OutRefundNo,
				JournalState: string(r.State), JournalAmount: r.Amount,
				Message: fmt.Sprintf("refund %s (%s %s) succeeded here, but the bill does not have it", r.ID, r.Amount.Decimal(), r.Amount.Currency)})
			continue
		}
		rep.Matched++
	}
	sort.SliceStable(rep.Issues, func(i, j int) bool {
		return strings.Compare(rep.Issues[i].Kind, rep.Issues[j].Kind) < 0
	})
}
