// Package localapi is posagent's HTTP API for the till software: JSON over
// loopback TCP with a bearer token, or over a unix socket whose peers are
// checked by uid/gid. It owns the one map from pos.Kind to HTTP status and
// the problem types of error answers (problem.go), and it refuses requests
// that a web page could forge: any Origin or Referer header, and a Host
// that is not loopback (DNS rebinding), with 403.
//
// The routes are those of the OpenAPI document served at /v1/openapi.json
// (openapi.json in this directory; a test checks that the two agree):
//
//	GET  /healthz, /readyz               alive; ready (journal open, recovery done, gateways configured)
//	POST /v1/payments                    start a payment (201; Idempotency-Key, ?wait= / Prefer: wait=N)
//	GET  /v1/payments                    list, newest first, with filters and a cursor
//	GET  /v1/payments/{id}[?wait=10s]    one payment; long-polls for a change
//	GET  /v1/payments/{id}/events        its journaled history
//	POST /v1/payments/{id}/cancel        cancel or reverse it (202)
//	POST /v1/payments/{id}/void          void it the same day, or refund it (201)
//	POST /v1/payments/{id}/reprint       queue its receipts again (202)
//	GET  /v1/payments/{id}/receipts      its receipts, printed or pending
//	POST /v1/payments/{id}/refunds       refund it, in part or in full (201)
//	GET  /v1/payments/{id}/refunds       its refunds and what is left to refund
//	GET  /v1/refunds/{id}[?wait=10s]     one refund; long-polls for a change
//	GET  /v1/refunds/{id}/receipts       its receipts
//	POST /v1/refunds/{id}/reprint        queue its receipts again (202)
//	GET  /v1/events                      Server-Sent Events of every payment and refund change
//	POST /v1/drawer/open                 open the cash drawer (204)
//	GET  /v1/summary, POST /v1/summary/print, GET /v1/devices, GET /v1/openapi.json
//	POST /v1/payments/lookup             adopt an order placed outside the till (HipoPay), by its number
//	GET  /v1/outbox                      gateway operations still owed; POST …/{id}/retry, …/{id}/resolve
//	GET  /v1/reconcile?date=             an acquirer day of the journal against the acquirer's bill
//	GET  /support                        the support page (support.go; a login form, then a session cookie)
//
// Creating answers within about a second (Options.CreateWait) with the
// payment as journaled: pending, with its detail, while the gateway call
// goes on behind. ?wait=30s (or Prefer: wait=30) answers when the payment
// is final or after that long instead.
package localapi

import (
	"context"
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/store"
)

// Payments is what the API needs from flows (flows.Runner implements it).
type Payments interface {
	Create(ctx context.Context, req flows.StartRequest) (pos.Payment, error)
	Get(ctx context.Context, id string) (pos.Payment, error)
	Wait(ctx context.Context, id string, seen pos.State) (pos.Payment, error)
	WaitActivity(ctx context.Context, id string, seen pos.State, seenRefusals int) (pos.Payment, error)
	ScanRefusals(id string) []flows.ScanRefusal
	Cancel(ctx context.Context, id string) (pos.Payment, error)
	Recent(ctx context.Context, limit int) ([]pos.Payment, error)
	Events(ctx context.Context, id string) ([]pos.Event, error)
}

// DeviceLister reports device health for GET /v1/devices.
type DeviceLister interface {
	Devices(ctx context.Context) any
}

// DrawerOpener opens the cash drawer (POST /v1/drawer/open).
type DrawerOpener interface {
	OpenDrawer(ctx context.Context) error
}

// Options configures the API server.
type Options struct {
	Payments Payments
	// Token is the bearer token every /v1 request over TCP must carry.
	Token pos.Secret
	// Devices answers GET /v1/devices; nil answers with an empty object.
	Devices DeviceLister
	Logger  *slog.Logger
	// MaxWait caps a long-poll (?wait=); default 60 s.
	MaxWait time.Duration
	// CreateWait is how long a create waits for the payment to become
	// final when the request does not say (?wait=, Prefer: wait=N);
	// default 1 s, negative: not at all.
	CreateWait time.Duration
	// Receipts serves reprints and receipt listings; nil answers them with
	// 503 (no printer configured).
	Receipts Receipts
	// Summaries serves the end-of-day summary; nil answers 503.
	Summaries Summaries
	// Refunds serves refunds; nil answers 503.
	Refunds Refunds
	// Keys keeps Idempotency-Keys; nil refuses requests that carry one.
	Keys store.Idempotency
	// Lister lists payments with filters; nil: GET /v1/payments lists the
	// newest without filters.
	Lister store.PaymentLister
	// Feed and Changed serve GET /v1/events; nil Feed answers 503.
	// Changed returns a channel closed at the next journaled change.
	Feed    store.EventFeed
	Changed func() <-chan struct{}
	// Ready reports whether the daemon can take payments (GET /readyz);
	// nil is always ready.
	Ready func(ctx context.Context) error
	// Drawer opens the cash drawer; nil answers 503.
	Drawer DrawerOpener
	// RateLimit is how many requests a second one client may make
	// (bursts of RateBurst); default 100 and 200, negative: no limit.
	RateLimit float64
	RateBurst int
	// Peers, when set, is consulted for requests that came over the unix
	// socket (their peer credentials are in the request's context, see
	// PeerCredContext): true lets the request in without a token.
	Peers func(PeerCred) bool
	// Extra mounts further handlers under the same guards; keys are
	// ServeMux patterns.
	Extra map[string]http.Handler
	// Support, when set, serves the support page at /support (support.go).
	Support *SupportOptions
}

// Server is the local API.
type Server struct {
	opts   Options
	mux    *http.ServeMux
	keys   keyLocks
	limit  *rateLimiter
	routes []string
	// support is the support page's state; nil without Options.Support.
	support *support
}

// New returns the API server. Token must be at least 16 characters.
func New(opts Options) (*Server, error) {
	if opts.Payments == nil {
		return nil, errors.New("localapi: Options.Payments is required")
	}
	if len(opts.Token.Reveal()) < 16 {
		return nil, errors.New("localapi: token must be at least 16 characters")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxWait == 0 {
		opts.MaxWait = 60 * time.Second
	}
	if opts.CreateWait == 0 {
		opts.CreateWait = time.Second
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 100
	}
	if opts.RateBurst == 0 {
		opts.RateBurst = 200
	}
	s := &Server{opts: opts, mux: http.NewServeMux()}
	if opts.RateLimit > 0 {
		s.limit = newRateLimiter(opts.RateLimit, opts.RateBurst)
	}
	handle := func(pattern string, h http.HandlerFunc) {
		s.routes = append(s.routes, pattern)
		s.mux.Handle(pattern, h)
	}
	handle("GET /healthz", s.healthz)
	handle("GET /readyz", s.readyz)
	handle("GET /v1/openapi.json", s.auth(s.openapi))
	handle("POST /v1/payments", s.auth(s.idempotent(s.createPayment)))
	handle("GET /v1/payments", s.auth(s.listPayments))
	handle("GET /v1/payments/{id}", s.auth(s.getPayment))
	handle("GET /v1/payments/{id}/events", s.auth(s.paymentEvents))
	handle("POST /v1/payments/{id}/cancel", s.auth(s.idempotent(s.cancelPayment)))
	handle("POST /v1/payments/{id}/void", s.auth(s.idempotent(s.voidPayment)))
	handle("POST /v1/payments/{id}/reprint", s.auth(s.idempotent(s.reprint)))
	handle("GET /v1/payments/{id}/receipts", s.auth(s.paymentReceipts))
	handle("POST /v1/payments/{id}/refunds", s.auth(s.idempotent(s.createRefund)))
	handle("GET /v1/payments/{id}/refunds", s.auth(s.paymentRefunds))
	handle("GET /v1/refunds/{id}", s.auth(s.getRefund))
	handle("GET /v1/refunds/{id}/receipts", s.auth(s.refundReceipts))
	handle("POST /v1/refunds/{id}/reprint", s.auth(s.idempotent(s.reprintRefund)))
	handle("GET /v1/events", s.auth(s.events))
	handle("POST /v1/drawer/open", s.auth(s.openDrawer))
	handle("GET /v1/summary", s.auth(s.getSummary))
	handle("POST /v1/summary/print", s.auth(s.printSummary))
	handle("GET /v1/devices", s.auth(s.devices))
	for pattern, h := range opts.Extra {
		handle(pattern, s.auth(h.ServeHTTP))
	}
	if opts.Support != nil {
		s.support = newSupport(*opts.Support)
		s.mountSupport(handle)
	}
	return s, nil
}

// Routes lists the mux's patterns, for the test that holds them against the
// OpenAPI document.
func (s *Server) Routes() []string { return append([]string(nil), s.routes...) }

// ServeHTTP applies the browser guards and the rate limit, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.support != nil && isSupportPath(r.URL.Path) {
		// The support page is a web page: same-origin only (support.go).
		if err := sameOrigin(r); err != nil {
			s.refuse(w, err)
			return
		}
	} else if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		s.refuse(w, problemf("forbidden", "Origin", "requests from web pages are refused (Origin or Referer present)"))
		return
	}
	if !loopbackHost(r.Host) {
		s.refuse(w, problemf("forbidden", "Host", "Host %q is not a loopback address", r.Host))
		return
	}
	if s.limit != nil && !s.limit.allow(clientOf(r)) {
		s.refuse(w, problemf("rate-limited", "", "too many requests from this client; slow down"))
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		// The mux would answer 404 or 405 in plain text; answer a problem.
		if allowed := s.allowedMethods(r); allowed != "" {
			w.Header().Set("Allow", allowed)
			writeError(w, problemf("method-not-allowed", "", "%s is not allowed here (allowed: %s)", r.Method, allowed))
			return
		}
		writeError(w, problemf("not-found", "", "no route %s", r.URL.Path))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// refuse answers a request that will not be served and closes the
// connection, without reading its body: a client that sends a slow body
// must not hold a connection it has no right to.
func (s *Server) refuse(w http.ResponseWriter, err error) {
	w.Header().Set("Connection", "close")
	writeError(w, err)
}

func (s *Server) allowedMethods(r *http.Request) string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" {
			out = append(out, m)
		}
	}
	return strings.Join(out, ", ")
}

func loopbackHost(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	want := []byte("Bearer " + s.opts.Token.Reveal())
	return func(w http.ResponseWriter, r *http.Request) {
		if pc, ok := PeerCredFrom(r.Context()); ok {
			// Over the unix socket the kernel says who is calling.
			if s.opts.Peers == nil || !s.opts.Peers(pc) {
				s.refuse(w, problemf("unauthorized", "", "peer uid %d gid %d is not allowed on this socket", pc.UID, pc.GID))
				return
			}
			h(w, r)
			return
		}
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			s.refuse(w, problemf("unauthorized", "Authorization", "missing or wrong bearer token"))
			return
		}
		h(w, r)
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Ready != nil {
		if err := s.opts.Ready(r.Context()); err != nil {
			writeError(w, problemf("unavailable", "", "not ready: %v", messageOf(err)))
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// createRequest is the body of POST /v1/payments. Amount is in minor units.
type createRequest struct {
	Amount      json.RawMessage `json:"amount"`
	Currency    string          `json:"currency"`
	Method      string          `json:"method"`
	AuthCode    string          `json:"auth_code"`
	Gateway     string          `json:"gateway"`
	Wallet      string          `json:"wallet"`
	Description string          `json:"description"`
	Reference   string          `json:"reference"`
	Lane        string          `json:"lane"`
	// Replace cancels a payment waiting for a scan in the lane instead of
	// being refused because of it.
	Replace bool `json:"replace"`
}

func (s *Server) createPayment(w http.ResponseWriter, r *http.Request) {
	wait, applied, err := s.waitOf(r, -1)
	if err != nil {
		writeError(w, err)
		return
	}
	explicit := wait >= 0
	if !explicit {
		wait = s.opts.CreateWait
	}
	var req createRequest
	if err := decodeBody(r, &req, true); err != nil {
		writeError(w, err)
		return
	}
	start, err := parseCreate(req)
	if err != nil {
		writeError(w, err)
		return
	}
	start.Idempotency = keyOf(r.Context())
	p, err := s.opts.Payments.Create(r.Context(), start)
	if err != nil {
		s.opts.Logger.Warn("payment refused", "err", err)
		writeError(w, createField(err))
		return
	}
	switch {
	case wait > 0 && explicit:
		p = s.untilFinal(r.Context(), p, wait)
	case wait > 0:
		// By default only the gateway's first answer is waited for:
		// a payment waiting for a scan, or for the customer, is
		// answered as it stands.
		p = s.untilAnswered(r.Context(), p, wait)
	}
	if applied != "" {
		w.Header().Set("Preference-Applied", applied)
	}
	w.Header().Set("Location", "/v1/payments/"+p.ID)
	writeJSON(w, http.StatusCreated, s.paymentJSON(p))
}

// createField names the field a refusal from flows is about, where it is
// plain which.
func createField(err error) error {
	if !pos.Match(pos.Invalid, err) {
		return err
	}
	msg := messageOf(err)
	for _, f := range []struct{ word, field string }{
		{"gateway", "gateway"}, {"lane", "lane"}, {"reference", "reference"}, {"amount", "amount"},
		{"codes", "auth_code"}, {"merchant QR", "wallet"}, {"accept", "currency"},
	} {
		if strings.Contains(msg, f.word) {
			if f.word == "gateway" && strings.Contains(msg, "does not accept") {
				return atField("currency", err)
			}
			if f.word == "gateway" && strings.Contains(msg, "payment codes") {
				return atField("auth_code", err)
			}
			if f.word == "gateway" && strings.Contains(msg, "merchant QR") {
				return atField("wallet", err)
			}
			return atField(f.field, err)
		}
	}
	return err
}

// untilFinal waits up to d for p to be final.
func (s *Server) untilFinal(ctx context.Context, p pos.Payment, d time.Duration) pos.Payment {
	wctx, cancel := context.WithTimeout(ctx, min(d, s.opts.MaxWait))
	defer cancel()
	for !p.State.Final() && wctx.Err() == nil {
		next, err := s.opts.Payments.Wait(wctx, p.ID, p.State)
		if err != nil {
			break
		}
		p = next
	}
	return p
}

// untilAnswered waits up to d while p is being submitted.
func (s *Server) untilAnswered(ctx context.Context, p pos.Payment, d time.Duration) pos.Payment {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	for p.State == pos.StateSubmitting && !p.CancelRequested && wctx.Err() == nil {
		next, err := s.opts.Payments.Wait(wctx, p.ID, p.State)
		if err != nil {
			break
		}
		p = next
	}
	return p
}

// waitOf reads ?wait=DURATION or Prefer: wait=SECONDS (RFC 7240); def when
// neither is sent. applied is the Preference-Applied value to answer.
func (s *Server) waitOf(r *http.Request, def time.Duration) (d time.Duration, applied string, err error) {
	if q := r.URL.Query().Get("wait"); q != "" {
		d, err := time.ParseDuration(q)
		if err != nil || d < 0 {
			if n, err2 := strconv.Atoi(q); err2 == nil && n >= 0 {
				return time.Duration(n) * time.Second, "", nil
			}
			return 0, "", problemf("malformed-request", "wait", "wait must be a duration like 10s")
		}
		return d, "", nil
	}
	for _, pref := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(pref, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if !strings.EqualFold(strings.TrimSpace(k), "wait") {
				continue
			}
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil || n < 0 {
				return 0, "", problemf("malformed-request", "Prefer", "Prefer: wait= takes whole seconds")
			}
			return time.Duration(n) * time.Second, "wait=" + strconv.Itoa(n), nil
		}
	}
	return def, "", nil
}

func parseCreate(req createRequest) (flows.StartRequest, error) {
	const op = "localapi.create"
	var out flows.StartRequest
	raw := strings.TrimSpace(string(req.Amount))
	if raw == "" || raw == "null" {
		return out, atField("amount", pos.Errorf(pos.Invalid, op, "amount is required (integer, minor units: 1291 for 12.91 CNY)"))
	}
	minor, err := parseMinor(op, raw)
	if err != nil {
		return out, atField("amount", err)
	}
	if req.Currency == "" {
		return out, atField("currency", pos.Errorf(pos.Invalid, op, "currency is required (ISO 4217, e.g. CNY)"))
	}
	m, err := pos.NewMoney(minor, req.Currency)
	if err != nil {
		field := "amount"
		if strings.Contains(err.Error(), "currency") {
			field = "currency"
		}
		return out, atField(field, err)
	}
	out.Amount = m
	method := req.Method
	if method == "" {
		method = string(pos.Micropay)
	}
	if out.Method, err = pos.ParseMethod(method); err != nil {
		return out, atField("method", err)
	}
	switch out.Method {
	case pos.Micropay:
		if req.Wallet != "" {
			return out, atField("wallet", pos.Errorf(pos.Invalid, op, "wallet is for method qr; a micropay's wallet comes from its code"))
		}
		if req.AuthCode != "" {
			if out.Code, err = pos.ParseAuthCode(req.AuthCode); err != nil {
				return out, atField("auth_code", err)
			}
		}
	case pos.MerchantQR:
		if req.AuthCode != "" {
			return out, atField("auth_code", pos.Errorf(pos.Invalid, op, "auth_code is for method micropay"))
		}
		if req.Wallet == "" {
			return out, atField("wallet", pos.Errorf(pos.Invalid, op, "wallet is required for method qr"))
		}
		if out.Wallet, err = pos.ParseWallet(req.Wallet); err != nil {
			return out, atField("wallet", err)
		}
	}
	if len(req.Description) > 64 {
		return out, atField("description", pos.Errorf(pos.Invalid, op, "description longer than 64 bytes"))
	}
	if len(req.Reference) > flows.MaxReference || !printableASCIIOrEmpty(req.Reference) {
		return out, atField("reference", pos.Errorf(pos.Invalid, op, "reference must be at most %d printable ASCII characters", flows.MaxReference))
	}
	out.Gateway = req.Gateway
	out.Description = req.Description
	out.Reference = req.Reference
	out.Lane = req.Lane
	out.Replace = req.Replace
	return out, nil
}

func printableASCIIOrEmpty(s string) bool { return s == "" || printableASCII(s) }

// publicStates are the states the API shows (pos.State.Status).
var publicStates = []string{"pending", "succeeded", "failed", "reversed"}

func isPublic(s string) bool {
	for _, p := range publicStates {
		if p == s {
			return true
		}
	}
	return false
}

// getPayment answers one payment; with ?wait= it long-polls until the
// payment's state differs from ?state= (a public state: pending,
// succeeded, ...; or a detail: awaiting_code, user_paying, ...; default
// the state now), or it refused more scans than ?refusals=, or it is final.
func (s *Server) getPayment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	q := r.URL.Query()
	if q.Get("wait") == "" {
		p, err := s.opts.Payments.Get(ctx, id)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, s.paymentJSON(p))
		return
	}
	d, _, err := s.waitOf(r, 0)
	if err != nil {
		writeError(w, err)
		return
	}
	seen := q.Get("state")
	if seen != "" && !isPublic(seen) && !pos.State(seen).Valid() {
		writeError(w, problemf("malformed-request", "state", "unknown state %q (public: %s; or a detail such as awaiting_code)", seen, strings.Join(publicStates, ", ")))
		return
	}
	refusals := -1
	if v := q.Get("refusals"); v != "" {
		if refusals, err = strconv.Atoi(v); err != nil || refusals < 0 {
			writeError(w, problemf("malformed-request", "refusals", "refusals must be a count"))
			return
		}
	}
	p, err := s.opts.Payments.Get(ctx, id)
	if err != nil {
		writeError(w, err)
		return
	}
	if seen == "" {
		seen = string(p.State)
	}
	if refusals < 0 {
		refusals = len(s.opts.Payments.ScanRefusals(id))
	}
	wctx, cancel := context.WithTimeout(ctx, min(d, s.opts.MaxWait))
	defer cancel()
	same := func(p pos.Payment) bool {
		if isPublic(seen) {
			return p.State.Status() == seen
		}
		return string(p.State) == seen
	}
	for same(p) && !p.State.Final() && len(s.opts.Payments.ScanRefusals(id)) <= refusals && wctx.Err() == nil {
		next, err := s.opts.Payments.WaitActivity(wctx, id, p.State, refusals)
		if err != nil {
			writeError(w, err)
			return
		}
		p = next
	}
	writeJSON(w, http.StatusOK, s.paymentJSON(p))
}

func (s *Server) paymentEvents(w http.ResponseWriter, r *http.Request) {
	evs, err := s.opts.Payments.Events(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]eventJSON, 0, len(evs))
	for _, e := range evs {
		out = append(out, eventJSON{Seq: e.Seq, At: e.At, From: string(e.From), To: string(e.To), Reason: e.Reason, Detail: e.Detail, Flag: string(e.Flag)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

type eventJSON struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Flag   string    `json:"flag,omitempty"` // mismatch, alert, charged_late
}

func (s *Server) cancelPayment(w http.ResponseWriter, r *http.Request) {
	var empty struct{}
	if err := decodeBody(r, &empty, false); err != nil {
		writeError(w, err)
		return
	}
	p, err := s.opts.Payments.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, s.paymentJSON(p))
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	if s.opts.Devices == nil {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	writeJSON(w, http.StatusOK, s.opts.Devices.Devices(r.Context()))
}

func (s *Server) openDrawer(w http.ResponseWriter, r *http.Request) {
	var empty struct{}
	if err := decodeBody(r, &empty, false); err != nil {
		writeError(w, err)
		return
	}
	if s.opts.Drawer == nil {
		writeError(w, problemf("unavailable", "", "no cash drawer is configured (it hangs on an ESC/POS printer)"))
		return
	}
	if err := s.opts.Drawer.OpenDrawer(r.Context()); err != nil {
		writeError(w, err)
		return
	}
	s.opts.Logger.Info("cash drawer opened", "by", "api")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// Payment is the API's view of a payment.
type Payment struct {
	ID            string `json:"id"`
	State         string `json:"state"`  // pending, succeeded, failed, reversed
	Detail        string `json:"detail"` // the internal state: user_paying, reversing, ...
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	Method        string `json:"method"`
	Wallet        string `json:"wallet,omitempty"`
	Gateway       string `json:"gateway"`
	OutTradeNo    string `json:"out_trade_no"`
	TransactionID string `json:"transaction_id,omitempty"`
	Code          string `json:"code,omitempty"` // masked
	CodeURL       string `json:"code_url,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Reference     string `json:"reference,omitempty"`
	Lane          string `json:"lane,omitempty"`
	// External: placed outside the till (a mini-program) and adopted
	// when verified paid (POST /v1/payments/lookup, notifications).
	External bool `json:"external,omitempty"`
	// ChargedLate: the gateway said the customer paid after the till had
	// ended the payment failed or reversed; refund it (POST
	// /v1/payments/{id}/refunds accepts it, for at most its amount).
	ChargedLate bool `json:"charged_late,omitempty"`
	// Alert is what the operator must look at (a gateway alert, an answer
	// that contradicted the journal); empty when all is well.
	Alert     string    `json:"alert,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// ScanRefusals are the scans the payment refused while it waited, for
	// the cashier (kept while the daemon runs).
	ScanRefusals []scanRefusalJSON `json:"scan_refusals,omitempty"`
}

type scanRefusalJSON struct {
	At      time.Time `json:"at"`
	Message string    `json:"message"`
}

func (s *Server) paymentJSON(p pos.Payment) Payment {
	out := paymentJSON(p)
	for _, rf := range s.opts.Payments.ScanRefusals(p.ID) {
		out.ScanRefusals = append(out.ScanRefusals, scanRefusalJSON{At: rf.At, Message: rf.Message})
	}
	return out
}

func paymentJSON(p pos.Payment) Payment {
	out := Payment{
		ID: p.ID, State: p.State.Status(), Detail: string(p.State),
		Amount: p.Amount.Minor, Currency: string(p.Amount.Currency), Method: string(p.Method),
		Wallet: string(p.Wallet), Gateway: p.Gateway, OutTradeNo: p.OutTradeNo,
		TransactionID: p.TransactionID, Code: p.CodeMasked, Reason: p.Reason,
		Reference: p.Reference, Lane: p.Lane, External: p.External,
		ChargedLate: p.ChargedLate, Alert: p.Alert,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if !p.State.Final() {
		// The till may render the QR itself; once final it is useless.
		out.CodeURL = p.CodeURL.Reveal()
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
