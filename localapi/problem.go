package localapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/store"
)

// Every error answer is an RFC 9457 problem document
// (application/problem+json) whose type is one of these stable URIs, one
// per kind of problem; a till switches on type, never on the text.
const problemBase = "urn:posagent:problem:"

// Problem types, with the HTTP status each is always sent with.
var problemStatus = map[string]int{
	"malformed-request":      http.StatusBadRequest,            // not parseable: bad JSON, duplicate or unknown field, bad query parameter
	"unauthorized":           http.StatusUnauthorized,          // missing or wrong bearer token, or a socket peer not allowed
	"forbidden":              http.StatusForbidden,             // Origin or Referer present, or a Host that is not loopback
	"not-found":              http.StatusNotFound,              // no such payment, refund or route
	"method-not-allowed":     http.StatusMethodNotAllowed,      // the route exists, not with this method
	"conflict":               http.StatusConflict,              // contradicts the current state (cancel a succeeded payment)
	"payment-waiting":        http.StatusConflict,              // another payment waits for a scan in the lane (waiting_payment)
	"idempotency-key-reused": http.StatusConflict,              // same Idempotency-Key, another request
	"payload-too-large":      http.StatusRequestEntityTooLarge, // body above 16 KiB
	"unsupported-media-type": http.StatusUnsupportedMediaType,  // a body that is not JSON
	"invalid-field":          http.StatusUnprocessableEntity,   // well-formed, but a value is not acceptable (field names it)
	"rate-limited":           http.StatusTooManyRequests,       // too many requests from this client (Retry-After)
	"unavailable":            http.StatusServiceUnavailable,    // not ready, or a service this needs is not configured
	"declined":               http.StatusPaymentRequired,       // the gateway refused definitively
	"outcome-unknown":        http.StatusGatewayTimeout,        // sent, no trustworthy answer yet
	"internal":               http.StatusInternalServerError,   // a bug
}

// Problem is the body of every error answer (RFC 9457).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	// Field names the request field (or query parameter, or header) at
	// fault, when one is.
	Field string `json:"field,omitempty"`
	// Kind is posagent's error kind (pos.Kind), for logs and old clients.
	Kind string `json:"kind"`
	// WaitingPayment names the payment waiting for a scan (payment-waiting).
	WaitingPayment string `json:"waiting_payment,omitempty"`
}

// apiError is an error the HTTP layer classifies itself: a problem type
// and the field at fault.
type apiError struct {
	typ   string
	field string
	err   error
}

func (e *apiError) Error() string { return e.err.Error() }
func (e *apiError) Unwrap() error { return e.err }

// problemf builds an apiError of type typ about field.
func problemf(typ, field, format string, args ...any) error {
	return &apiError{typ: typ, field: field, err: fmt.Errorf(format, args...)}
}

// atField marks err (a validation error) as being about field.
func atField(field string, err error) error {
	if err == nil {
		return nil
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return err
	}
	return &apiError{typ: typeForKind(pos.KindOf(err)), field: field, err: err}
}

func typeForKind(k pos.Kind) string {
	switch k {
	case pos.Invalid:
		return "invalid-field"
	case pos.Unauthorized:
		return "unauthorized"
	case pos.NotFound:
		return "not-found"
	case pos.Conflict:
		return "conflict"
	case pos.Unavailable:
		return "unavailable"
	case pos.Declined:
		return "declined"
	case pos.Unknown:
		return "outcome-unknown"
	}
	return "internal"
}

// statusFor is the one map from error kind to HTTP status.
func statusFor(k pos.Kind) int { return problemStatus[typeForKind(k)] }

// problemFor classifies err.
func problemFor(err error) Problem {
	var p Problem
	k := pos.KindOf(err)
	typ := typeForKind(k)
	var ae *apiError
	if errors.As(err, &ae) {
		typ, p.Field = ae.typ, ae.field
	}
	var we *flows.WaitingError
	if errors.As(err, &we) {
		typ, p.WaitingPayment = "payment-waiting", we.PaymentID
	}
	if errors.Is(err, store.ErrKeyUsed) {
		typ, p.Field = "idempotency-key-reused", "Idempotency-Key"
	}
	var pe *pos.Error
	switch {
	case typ == "internal":
		p.Detail = fmt.Sprintf("internal error: %v", err)
	case ae != nil:
		p.Detail = messageOf(ae.err)
	case errors.As(err, &pe):
		p.Detail = pe.Message()
	default:
		p.Detail = err.Error()
	}
	p.Type = problemBase + typ
	p.Title = titles[typ]
	p.Status = problemStatus[typ]
	p.Kind = kindNames[typ]
	if p.Kind == "" {
		p.Kind = k.String()
	}
	return p
}

func messageOf(err error) string {
	var pe *pos.Error
	if errors.As(err, &pe) {
		return pe.Message()
	}
	return err.Error()
}

var titles = map[string]string{
	"malformed-request":      "The request cannot be read",
	"unauthorized":           "Not authorised",
	"forbidden":              "Requests from web pages and foreign hosts are refused",
	"not-found":              "Not found",
	"method-not-allowed":     "Method not allowed",
	"conflict":               "The request contradicts the current state",
	"payment-waiting":        "Another payment is waiting for a scan",
	"idempotency-key-reused": "The Idempotency-Key was used for another request",
	"payload-too-large":      "The body is too large",
	"unsupported-media-type": "The body is not JSON",
	"invalid-field":          "A field's value is not acceptable",
	"rate-limited":           "Too many requests",
	"unavailable":            "Unavailable",
	"declined":               "Declined",
	"outcome-unknown":        "Outcome unknown",
	"internal":               "Internal error",
}

// kindNames keeps the old error kinds beside the types.
var kindNames = map[string]string{
	"malformed-request": "invalid", "invalid-field": "invalid", "payload-too-large": "invalid",
	"unsupported-media-type": "invalid", "unauthorized": "unauthorized", "forbidden": "unauthorized",
	"not-found": "not_found", "method-not-allowed": "invalid", "conflict": "conflict",
	"payment-waiting": "conflict", "idempotency-key-reused": "conflict", "rate-limited": "unavailable",
	"unavailable": "unavailable", "declined": "declined", "outcome-unknown": "unknown", "internal": "internal",
}

func writeError(w http.ResponseWriter, err error) {
	p := problemFor(err)
	if p.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="posagent"`)
	}
	writeProblem(w, p)
}

func writeProblem(w http.ResponseWriter, p Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", "") // set below
	b, _ := json.MarshalIndent(p, "", "  ")
	b = append(b, '\n')
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(p.Status)
	_, _ = w.Write(b)
}
