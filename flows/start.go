package flows

import (
	"context"

	"fmt"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/hw/display"
)

// This file holds what the till's API needs from the runner beyond the
// payment state machine: creating without waiting for the gateway, lanes
// (one payment waits for a scan per lane), and the scans a waiting payment
// refused.

// MaxReference is the longest till reference a payment keeps.
const MaxReference = 64

// WaitingError refuses a payment while another waits for a scan in the
// same lane. It is a pos.Conflict; PaymentID names the waiting payment, so
// the till can cancel it, or ask again with Replace.
type WaitingError struct {
	PaymentID string
	Lane      string
}

func (e *WaitingError) Error() string {
	return fmt.Sprintf("payment %s is waiting for a scan in this lane; cancel it, or ask again with replace", e.PaymentID)
}

func waitingErr(id, lane string) error {
	return pos.E(pos.Conflict, "flows.Start", &WaitingError{PaymentID: id, Lane: lane})
}

// Create is Start without waiting for the gateway: it validates req,
// journals the payment and returns it as journaled (submitting, or
// awaiting a code), while the submit goes on behind. A caller that wants
// the outcome waits for it (Wait). Invalid requests are refused before
// anything is journaled, as in Start.
func (r *Runner) Create(ctx context.Context, req StartRequest) (pos.Payment, error) {
	p, submit, err := r.begin(ctx, req)
	if err != nil || submit == nil {
		return p, err
	}
	r.bg.Add(1)
	go func() {
		defer r.bg.Done()
		if _, err := submit(context.WithoutCancel(ctx)); err != nil {
			r.log.Error("submitting payment failed", "payment", p.ID, "err", err)
		}
	}()
	return p, nil
}

// chooseGateway picks the gateway for req: the one it names, else the
// first routing rule that matches its method and wallet, else the default.
func (r *Runner) chooseGateway(req StartRequest) (string, gateways.Gateway, error) {
	if req.Gateway == "" && r.opts.Route != nil {
		wallet := req.Wallet
		if req.Method == pos.Micropay && !req.Code.IsZero() {
			wallet = req.Code.Wallet()
		}
		if name := r.opts.Route(req.Method, wallet); name != "" {
			return r.gateway(name)
		}
	}
	return r.gateway(req.Gateway)
}

// begin validates and journals a new payment. For one that goes to the
// gateway now it returns the continuation that submits it; nil for one that
// waits for a scan.
func (r *Runner) begin(ctx context.Context, req StartRequest) (pos.Payment, func(context.Context) (pos.Payment, error), error) {
	const op = "flows.Start"
	name, g, err := r.chooseGateway(req)
	if err != nil {
		return pos.Payment{}, nil, err
	}
	if err := r.pending.blocked(op, "payments"); err != nil {
		return pos.Payment{}, nil, err
	}
	if !req.Amount.Currency.Valid() || req.Amount.Minor <= 0 {
		return pos.Payment{}, nil, pos.Errorf(pos.Invalid, op, "amount must be positive, in a supported currency")
	}
	if len(req.Reference) > MaxReference {
		return pos.Payment{}, nil, pos.Errorf(pos.Invalid, op, "reference is longer than %d bytes", MaxReference)
	}
	if !r.knownLane(req.Lane) {
		return pos.Payment{}, nil, pos.Errorf(pos.Invalid, op, "unknown lane %q", req.Lane)
	}
	caps := g.Capabilities()
	if !caps.Accepts(req.Amount.Currency) {
		return pos.Payment{}, nil, pos.Errorf(pos.Invalid, op, "gateway %s does not accept %s", name, req.Amount.Currency)
	}
	// Everything that can refuse the request without the journal is
	// checked before the lane is looked at, so a bad request never
	// cancels a waiting payment.
	switch req.Method {
	case pos.Micropay:
		if _, ok := g.(gateways.Micropayer); !ok || len(caps.Micropay) == 0 {
			return pos.Payment{}, nil, pos.Errorf(pos.Invalid, op, "gateway %s cannot take customer-presented codes (micropay)", name)
		}
		if !req.Code.IsZero() && !caps.Supports(pos.Micropay, req.Code.Wallet()) {
			return pos.Payment{}, nil, pos.Errorf(pos.Invalid, op, "gateway %s does not take %s payment codes", name, req.Code.Wallet().DisplayName())
		}
	case pos.MerchantQR:
		if _, ok := g.(gateways.QRCreator); !ok || !caps.Supports(pos.MerchantQR, req.Wallet) {
			return pos.Payment{}, nil, pos.Errorf(pos.Invalid, op, "gateway %s cannot create %s merchant QR codes", name, req.Wallet.DisplayName())
		}
	default:
		return pos.Payment{}, nil, pos.Errorf(pos.Invalid, op, "unknown method %q", req.Method)
	}

	// One payment per lane waits for a scan: the lane is checked and the
	// new payment journaled under one lock, so two creates cannot both
	// pass the check. Only a payment that would wait for a scan itself is
	// refused: one with its code, or a merchant QR, needs no scanner and
	// cannot take the waiting payment's scan.
	r.laneMu.Lock()
	defer r.laneMu.Unlock()
	waits := req.Method == pos.Micropay && req.Code.IsZero()
	if w, ok := r.waitingIn(ctx, req.Lane); ok && waits {
		if !req.Replace {
			return pos.Payment{}, nil, waitingErr(w.ID, req.Lane)
		}
		if _, err := r.apply(ctx, w.ID, Input{Kind: CancelRequested}, nil); err != nil {
			return pos.Payment{}, nil, fmt.Errorf("flows: cancelling the replaced payment %s: %w", w.ID, err)
		}
		r.log.Info("waiting payment replaced", "payment", w.ID, "lane", req.Lane)
	}

	id := newPaymentID()
	now := r.tl.begin(id)
	p := pos.Payment{
		ID:          id,
		OutTradeNo:  newOutTradeNo(r.opts.NumberPrefix, now),
		Gateway:     name,
		Method:      req.Method,
		Amount:      req.Amount,
		CreatedAt:   now,
		UpdatedAt:   now,
		Description: req.Description,
		Reference:   req.Reference,
		Lane:        req.Lane,
	}
	if p.Description == "" {
		p.Description = "POS purchase"
	}
	switch req.Method {
	case pos.Micropay:
		if req.Code.IsZero() {
			p.State = pos.StateAwaitingCode
			p.Deadline = now.Add(r.opts.AwaitCodeTimeout)
			if err := r.createKeyed(ctx, &p, "waiting for a payment code to be scanned", req); err != nil {
				return pos.Payment{}, nil, err
			}
			r.addAwaiting(p.ID)
			r.mu.Lock()
			// It waits from its creation: a scan read since then is
			// its own, however the journal write and this line raced it.
			r.since[p.ID] = p.CreatedAt
			if req.Gateway == "" {
				r.routed[p.ID] = true
			}
			r.mu.Unlock()
			r.show(ctx, display.Screen{Kind: display.ScanPrompt, PaymentID: p.ID, Amount: p.Amount, State: p.State, Message: "Please show your payment code"})
			return p, nil, nil
		}
		r.stampCode(&p, req.Code)
		p.State = pos.StateSubmitting
		p.SubmittedAt = now
		p.Deadline = now.Add(r.policy(g).payTimeout(p.Wallet))
		if err := r.createKeyed(ctx, &p, "submitting "+req.Code.Wallet().DisplayName()+" micropay", req); err != nil {
			return pos.Payment{}, nil, err
		}
		code := req.Code
		return p, func(ctx context.Context) (pos.Payment, error) { return r.submitMicropay(ctx, g, p, code) }, nil
	default: // pos.MerchantQR, checked above
		qc := g.(gateways.QRCreator)
		p.Wallet = req.Wallet
		p.State = pos.StateSubmitting
		p.SubmittedAt = now
		p.Deadline = now.Add(timing(g).QRTimeout)
		if err := r.createKeyed(ctx, &p, "creating "+req.Wallet.DisplayName()+" merchant QR order", req); err != nil {
			return pos.Payment{}, nil, err
		}
		r.call(p.ID, true) // until the create's answer is journaled
		return p, func(ctx context.Context) (pos.Payment, error) {
			defer r.call(p.ID, false)
			res, err := callWithTimeout(ctx, g, func(ctx context.Context) (gateways.Result, error) {
				return qc.CreateQR(ctx, gateways.QRRequest{OutTradeNo: p.OutTradeNo, Amount: p.Amount, Wallet: p.Wallet, Description: p.Description, Expires: p.Deadline})
			})
			return r.apply(ctx, p.ID, Input{Kind: Submitted, Result: res, Err: err}, nil)
		}, nil
	}
}

// createKeyed journals a new payment with the request's Idempotency-Key in
// the same write.
func (r *Runner) createKeyed(ctx context.Context, p *pos.Payment, reason string, req StartRequest) error {
	if req.Idempotency == nil {
		return r.create(ctx, p, reason)
	}
	k := *req.Idempotency
	if k.CreatedAt.IsZero() {
		k.CreatedAt = p.CreatedAt
	}
	k.PaymentID = ""
	return r.createWith(ctx, p, reason, &k)
}

func (r *Runner) knownLane(lane string) bool {
	if lane == "" {
		return true
	}
	for _, l := range r.opts.Lanes {
		if l == lane {
			return true
		}
	}
	return false
}

// waitingIn returns the payment waiting for a scan in lane, if any.
func (r *Runner) waitingIn(ctx context.Context, lane string) (pos.Payment, bool) {
	var best pos.Payment
	found := false
	for _, id := range r.awaitingIDs() {
		p, err := r.opts.Journal.Payment(ctx, id)
		if err != nil || p.State != pos.StateAwaitingCode {
			if err == nil || pos.Match(pos.NotFound, err) {
				r.removeAwaiting(id)
			}
			continue
		}
		if p.Lane != lane {
			continue
		}
		// One at a time per lane; should a journal from before lanes
		// hold several, the newest is the one the till last asked for.
		if !found || p.CreatedAt.After(best.CreatedAt) {
			best, found = p, true
		}
	}
	return best, found
}

// routeScanned re-routes a payment that waited for its code once the
// code's wallet is known: a rule for that wallet wins over the gateway
// chosen at creation, unless the till named the gateway. The switch is
// journaled with the scan (the out_trade_no suits every gateway).
func (r *Runner) routeScanned(p pos.Payment, w pos.Wallet) (pos.Payment, gateways.Gateway) {
	r.mu.Lock()
	routed := r.routed[p.ID]
	r.mu.Unlock()
	if routed && r.opts.Route != nil {
		if name := r.opts.Route(pos.Micropay, w); name != "" && name != p.Gateway {
			if g, ok := r.opts.Gateways[name]; ok && g.Capabilities().Supports(pos.Micropay, w) {
				r.log.Info("payment routed by wallet", "payment", p.ID, "wallet", w, "from", p.Gateway, "to", name)
				p.Gateway = name
				return p, g
			}
		}
	}
	return p, r.opts.Gateways[p.Gateway]
}

// laneOf is the lane a scanner belongs to.
func (r *Runner) laneOf(source string) string {
	if r.opts.LaneOf == nil {
		return ""
	}
	return r.opts.LaneOf(source)
}

// heldTooLong reports whether a scan is too old for p: a scan read before
// p began waiting in this process (held by the hub, or from before a
// restart) goes only to a payment created after the scan, never to one
// that was already waiting then.
func (r *Runner) heldTooLong(p pos.Payment, scanAt time.Time) bool {
	if scanAt.IsZero() {
		return false
	}
	r.mu.Lock()
	since, ok := r.since[p.ID]
	r.mu.Unlock()
	if !ok || !scanAt.Before(since) {
		return false
	}
	return !p.CreatedAt.After(scanAt)
}

// ScanRefusal is a scan a waiting payment refused, and why, in words for
// the cashier.
type ScanRefusal struct {
	At      time.Time
	Message string
}

// maxRefusals bounds the refusals kept per payment.
const maxRefusals = 20

func (r *Runner) refuseScan(id, msg string) {
	r.mu.Lock()
	rs := append(r.refusals[id], ScanRefusal{At: r.opts.Clock.Now(), Message: msg})
	if len(rs) > maxRefusals {
		rs = rs[len(rs)-maxRefusals:]
	}
	r.refusals[id] = rs
	r.mu.Unlock()
	r.notify()
}

// ScanRefusals returns the scans payment id refused while it waited, oldest
// first. They are kept in memory only, while the process lives.
func (r *Runner) ScanRefusals(id string) []ScanRefusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ScanRefusal(nil), r.refusals[id]...)
}

// WaitActivity is Wait that also returns when the payment has refused more
// than seenRefusals scans.
func (r *Runner) WaitActivity(ctx context.Context, id string, seen pos.State, seenRefusals int) (pos.Payment, error) {
	for {
		r.mu.Lock()
		ch := r.changed
		n := len(r.refusals[id])
		r.mu.Unlock()
		p, err := r.opts.Journal.Payment(ctx, id)
		if err != nil || p.State != seen || p.State.Final() || n > seenRefusals {
			return p, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return r.opts.Journal.Payment(context.WithoutCancel(ctx), id)
		}
	}
}

// Changed returns a channel closed at the next journaled change (or scan
// refusal), for readers that follow the journal (the API's event stream).
func (r *Runner) Changed() <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.changed
}

// Recovered reports whether Run has resumed every payment the journal
// holds pending, so the runner is ready for new ones.
func (r *Runner) Recovered() bool { return r.recovered.Load() }
