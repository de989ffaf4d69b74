// Package localapi is posagent's HTTP API for the till software: JSON over
// loopback with a bearer token. It owns the one map from pos.Kind to HTTP
// status, and it refuses requests that a web page could forge: any Origin
// or Referer header, and a Host that is not loopback (DNS rebinding).
//
// Routes (all but /healthz need the token):
//
//	POST /v1/payments                  start a payment (201)
//	GET  /v1/payments                  the newest payments
//	GET  /v1/payments/{id}[?wait=10s]  one payment; long-polls for a change
//	GET  /v1/payments/{id}/events      its journaled history
//	POST /v1/payments/{id}/cancel      cancel or reverse it (202)
//	POST /v1/payments/{id}/reprint     queue its receipts again (202), body
//	                                   optional: {"kinds":["payment-customer"]}
//	GET  /v1/payments/{id}/receipts    its receipts, printed or pending
//	POST /v1/payments/{id}/refunds     refund it, in part or in full (201),
//	                                   body optional: {"amount":500,"reason":"…"}
//	GET  /v1/payments/{id}/refunds     its refunds and what is left to refund
//	GET  /v1/refunds/{id}[?wait=10s]   one refund; long-polls for a change
//	GET  /v1/refunds/{id}/receipts     its receipts, printed or pending
//	GET  /v1/devices                   scanner and printer health
package localapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
)

// Payments is what the API needs from flows (flows.Runner implements it).
type Payments interface {
	Start(ctx context.Context, req flows.StartRequest) (pos.Payment, error)
	Get(ctx context.Context, id string) (pos.Payment, error)
	Wait(ctx context.Context, id string, seen pos.State) (pos.Payment, error)
	Cancel(ctx context.Context, id string) (pos.Payment, error)
	Recent(ctx context.Context, limit int) ([]pos.Payment, error)
	Events(ctx context.Context, id string) ([]pos.Event, error)
}

// DeviceLister reports device health for GET /v1/devices.
type DeviceLister interface {
	Devices(ctx context.Context) any
}

// Options configures the API server.
type Options struct {
	Payments Payments
	// Token is the bearer token every /v1 request must carry.
	Token pos.Secret
	// Devices answers GET /v1/devices; nil answers with an empty object.
	Devices DeviceLister
	Logger  *slog.Logger
	// MaxWait caps a long-poll (?wait=); default 60 s.
	MaxWait time.Duration
	// Receipts serves reprints and receipt listings; nil answers them with
	// 503 (no printer configured).
	Receipts Receipts
	// Summaries serves the end-of-day summary; nil answers 503.
	Summaries Summaries
	// Refunds serves refunds; nil answers 503.
	Refunds Refunds
	// Extra mounts further handlers (receipts, display) under the same
	// guards; keys are ServeMux patterns.
	Extra map[string]http.Handler
}

// Server is the local API.
type Server struct {
	opts Options
	mux  *http.ServeMux
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
	s := &Server{opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("POST /v1/payments", s.auth(s.createPayment))
	s.mux.Handle("GET /v1/payments", s.auth(s.listPayments))
	s.mux.Handle("GET /v1/payments/{id}", s.auth(s.getPayment))
	s.mux.Handle("GET /v1/payments/{id}/events", s.auth(s.paymentEvents))
	s.mux.Handle("POST /v1/payments/{id}/cancel", s.auth(s.cancelPayment))
	s.mux.Handle("POST /v1/payments/{id}/reprint", s.auth(s.reprint))
	s.mux.Handle("GET /v1/payments/{id}/receipts", s.auth(s.paymentReceipts))
	s.mux.Handle("POST /v1/payments/{id}/refunds", s.auth(s.createRefund))
	s.mux.Handle("GET /v1/payments/{id}/refunds", s.auth(s.paymentRefunds))
	s.mux.Handle("GET /v1/refunds/{id}", s.auth(s.getRefund))
	s.mux.Handle("GET /v1/refunds/{id}/receipts", s.auth(s.refundReceipts))
	s.mux.Handle("GET /v1/summary", s.auth(s.getSummary))
	s.mux.Handle("POST /v1/summary/print", s.auth(s.printSummary))
	s.mux.Handle("GET /v1/devices", s.auth(s.devices))
	for pattern, h := range opts.Extra {
		s.mux.Handle(pattern, s.auth(h.ServeHTTP))
	}
	return s, nil
}

// ServeHTTP applies the browser guards, then routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Origin") != "" || r.Header.Get("Referer") != "" {
		writeError(w, pos.Errorf(pos.Unauthorized, "localapi", "requests from web pages are refused (Origin/Referer present)"))
		return
	}
	if !loopbackHost(r.Host) {
		writeError(w, pos.Errorf(pos.Unauthorized, "localapi", "Host %q is not a loopback address", r.Host))
		return
	}
	s.mux.ServeHTTP(w, r)
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
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="posagent"`)
			writeError(w, pos.Errorf(pos.Unauthorized, "localapi", "missing or wrong bearer token"))
			return
		}
		h(w, r)
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
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
}

func (s *Server) createPayment(w http.ResponseWriter, r *http.Request) {
	var req createRequest
	if err := decodeStrict(r, &req); err != nil {
		writeError(w, err)
		return
	}
	start, err := parseCreate(req)
	if err != nil {
		writeError(w, err)
		return
	}
	p, err := s.opts.Payments.Start(r.Context(), start)
	if err != nil {
		s.opts.Logger.Warn("payment refused", "err", err)
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, paymentJSON(p))
}

func parseCreate(req createRequest) (flows.StartRequest, error) {
	const op = "localapi.create"
	var out flows.StartRequest
	raw := strings.TrimSpace(string(req.Amount))
	if raw == "" || raw == "null" {
		return out, pos.Errorf(pos.Invalid, op, "amount is required (integer, minor units: 1291 for 12.91 CNY)")
	}
	if raw[0] == '"' {
		return out, pos.Errorf(pos.Invalid, op, "amount must be a JSON number in minor units (1291 for 12.91 CNY), not a string")
	}
	if strings.ContainsAny(raw, ".eE") {
		return out, pos.Errorf(pos.Invalid, op, "amount must be an integer in minor units (1291 for 12.91 CNY), got %s", raw)
	}
	minor, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return out, pos.Errorf(pos.Invalid, op, "amount %s is not a whole number", raw)
	}
	if req.Currency == "" {
		return out, pos.Errorf(pos.Invalid, op, "currency is required (ISO 4217, e.g. CNY)")
	}
	m, err := pos.NewMoney(minor, req.Currency)
	if err != nil {
		return out, err
	}
	out.Amount = m
	method := req.Method
	if method == "" {
		method = string(pos.Micropay)
	}
	if out.Method, err = pos.ParseMethod(method); err != nil {
		return out, err
	}
	switch out.Method {
	case pos.Micropay:
		if req.Wallet != "" {
			return out, pos.Errorf(pos.Invalid, op, "wallet is for method qr; a micropay's wallet comes from its code")
		}
		if req.AuthCode != "" {
			if out.Code, err = pos.ParseAuthCode(req.AuthCode); err != nil {
				return out, err
			}
		}
	case pos.MerchantQR:
		if req.AuthCode != "" {
			return out, pos.Errorf(pos.Invalid, op, "auth_code is for method micropay")
		}
		if req.Wallet == "" {
			return out, pos.Errorf(pos.Invalid, op, "wallet is required for method qr")
		}
		if out.Wallet, err = pos.ParseWallet(req.Wallet); err != nil {
			return out, err
		}
	}
	if len(req.Description) > 64 {
		return out, pos.Errorf(pos.Invalid, op, "description longer than 64 bytes")
	}
	out.Gateway = req.Gateway
	out.Description = req.Description
	return out, nil
}

func (s *Server) getPayment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx := r.Context()
	if wait := r.URL.Query().Get("wait"); wait != "" {
		d, err := time.ParseDuration(wait)
		if err != nil || d < 0 {
			writeError(w, pos.Errorf(pos.Invalid, "localapi.getPayment", "wait must be a duration like 10s"))
			return
		}
		seen := pos.State(r.URL.Query().Get("state"))
		if seen != "" && !seen.Valid() {
			writeError(w, pos.Errorf(pos.Invalid, "localapi.getPayment", "unknown state %q", seen))
			return
		}
		if seen == "" {
			p, err := s.opts.Payments.Get(ctx, id)
			if err != nil {
				writeError(w, err)
				return
			}
			seen = p.State
		}
		wctx, cancel := context.WithTimeout(ctx, min(d, s.opts.MaxWait))
		defer cancel()
		p, err := s.opts.Payments.Wait(wctx, id, seen)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, paymentJSON(p))
		return
	}
	p, err := s.opts.Payments.Get(ctx, id)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, paymentJSON(p))
}

func (s *Server) listPayments(w http.ResponseWriter, r *http.Request) {
	ps, err := s.opts.Payments.Recent(r.Context(), 50)
	if err != nil {
		writeError(w, err)
		return
	}
	out := make([]Payment, 0, len(ps))
	for _, p := range ps {
		out = append(out, paymentJSON(p))
	}
	writeJSON(w, http.StatusOK, map[string]any{"payments": out})
}

func (s *Server) paymentEvents(w http.ResponseWriter, r *http.Request) {
	evs, err := s.opts.Payments.Events(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	type event struct {
		At     time.Time `json:"at"`
		From   string    `json:"from"`
		To     string    `json:"to"`
		Reason string    `json:"reason,omitempty"`
		Detail string    `json:"detail,omitempty"`
	}
	out := make([]event, 0, len(evs))
	for _, e := range evs {
		out = append(out, event{e.At, string(e.From), string(e.To), e.Reason, e.Detail})
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": out})
}

func (s *Server) cancelPayment(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		var empty struct{}
		if err := decodeStrict(r, &empty); err != nil {
			writeError(w, err)
			return
		}
	}
	p, err := s.opts.Payments.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, paymentJSON(p))
}

func (s *Server) devices(w http.ResponseWriter, r *http.Request) {
	if s.opts.Devices == nil {
		writeJSON(w, http.StatusOK, map[string]any{})
		return
	}
	writeJSON(w, http.StatusOK, s.opts.Devices.Devices(r.Context()))
}

// Payment is the API's view of a payment.
type Payment struct {
	ID            string    `json:"id"`
	State         string    `json:"state"`  // pending, succeeded, failed, reversed
	Detail        string    `json:"detail"` // the internal state: user_paying, reversing, ...
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	Method        string    `json:"method"`
	Wallet        string    `json:"wallet,omitempty"`
	Gateway       string    `json:"gateway"`
	OutTradeNo    string    `json:"out_trade_no"`
	TransactionID string    `json:"transaction_id,omitempty"`
	Code          string    `json:"code,omitempty"` // masked
	CodeURL       string    `json:"code_url,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func paymentJSON(p pos.Payment) Payment {
	out := Payment{
		ID: p.ID, State: p.State.Status(), Detail: string(p.State),
		Amount: p.Amount.Minor, Currency: string(p.Amount.Currency), Method: string(p.Method),
		Wallet: string(p.Wallet), Gateway: p.Gateway, OutTradeNo: p.OutTradeNo,
		TransactionID: p.TransactionID, Code: p.CodeMasked, Reason: p.Reason,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
	if !p.State.Final() {
		// The till may render the QR itself; once final it is useless.
		out.CodeURL = p.CodeURL.Reveal()
	}
	if p.State == pos.StateSucceeded {
		out.Reason = "" // a success carries no failure reason
		if p.Reason != "" {
			out.Reason = p.Reason // except the rare "paid, reverse refused"
		}
	}
	return out
}

// maxBody bounds request bodies; a payment request is a few hundred bytes.
const maxBody = 16 << 10

func decodeStrict(r *http.Request, v any) error {
	const op = "localapi.decode"
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return pos.Errorf(pos.Invalid, op, "Content-Type must be application/json, got %q", ct)
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return pos.Errorf(pos.Invalid, op, "empty body; send a JSON object")
		}
		return pos.Errorf(pos.Invalid, op, "bad JSON: %v", err)
	}
	if dec.More() {
		return pos.Errorf(pos.Invalid, op, "trailing data after the JSON object")
	}
	return nil
}

// statusFor is the one map from error kind to HTTP status.
func statusFor(k pos.Kind) int {
	switch k {
	case pos.Invalid:
		return http.StatusBadRequest
	case pos.Unauthorized:
		return http.StatusUnauthorized
	case pos.NotFound:
		return http.StatusNotFound
	case pos.Conflict:
		return http.StatusConflict
	case pos.Unavailable:
		return http.StatusServiceUnavailable
	case pos.Declined:
		return http.StatusPaymentRequired
	case pos.Unknown:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// ErrorBody is the JSON of every error answer.
type ErrorBody struct {
	Error struct {
		Kind    string `json:"kind"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeError(w http.ResponseWriter, err error) {
	k := pos.KindOf(err)
	var body ErrorBody
	body.Error.Kind = k.String()
	var pe *pos.Error
	if errors.As(err, &pe) {
		body.Error.Message = pe.Message()
	} else {
		body.Error.Message = err.Error()
	}
	if k == pos.Other || k == pos.Internal {
		body.Error.Kind = pos.Internal.String()
		body.Error.Message = fmt.Sprintf("internal error: %v", err)
	}
	writeJSON(w, statusFor(k), body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
