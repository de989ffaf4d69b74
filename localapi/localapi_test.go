package localapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
)

// recorder is a Payments that records what reached it. The handler tests
// check what the HTTP layer lets through; the end-to-end tests in
// cmd/posagent run the same requests against the real runner and journal.
type recorder struct {
	started []flows.StartRequest
}

func (r *recorder) Start(ctx context.Context, req flows.StartRequest) (pos.Payment, error) {
	r.started = append(r.started, req)
	return pos.Payment{ID: "pay_1", State: pos.StateSucceeded, Amount: req.Amount, Method: req.Method, Wallet: req.Code.Wallet(), CodeMasked: req.Code.Masked(), Gateway: "mmsp", OutTradeNo: "PA1", Reference: req.Reference, CreatedAt: time.Now(), UpdatedAt: time.Now()}, nil
}
func (r *recorder) Create(ctx context.Context, req flows.StartRequest) (pos.Payment, error) {
	return r.Start(ctx, req)
}
func (r *recorder) WaitActivity(ctx context.Context, id string, seen pos.State, n int) (pos.Payment, error) {
	return r.Wait(ctx, id, seen)
}
func (r *recorder) ScanRefusals(id string) []flows.ScanRefusal { return nil }
func (r *recorder) Get(ctx context.Context, id string) (pos.Payment, error) {
	if id != "pay_1" {
		return pos.Payment{}, pos.Errorf(pos.NotFound, "test", "no payment %s", id)
	}
	return pos.Payment{ID: id, State: pos.StateUserPaying, Amount: pos.Money{Minor: 1000, Currency: "CNY"}, Method: pos.Micropay, Gateway: "mmsp", OutTradeNo: "PA1", CreatedAt: time.Now(), UpdatedAt: time.Now()}, nil
}
func (r *recorder) Wait(ctx context.Context, id string, seen pos.State) (pos.Payment, error) {
	<-ctx.Done()
	return r.Get(context.Background(), id)
}
func (r *recorder) Cancel(ctx context.Context, id string) (pos.Payment, error) {
	return pos.Payment{}, pos.Errorf(pos.Conflict, "test", "payment %s is already succeeded", id)
}
func (r *recorder) Recent(ctx context.Context, limit int) ([]pos.Payment, error) { return nil, nil }
func (r *recorder) Events(ctx context.Context, id string) ([]pos.Event, error)   { return nil, nil }

const token = "0123456789abcdef0123456789abcdef"

func newServer(t *testing.T) (*recorder, http.Handler) {
	t.Helper()
	rec := &recorder{}
	s, err := localapi.New(localapi.Options{Payments: rec, Token: token, MaxWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return rec, s
}

func do(h http.Handler, method, path, body string, hdr map[string]string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, "http://127.0.0.1:8417"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	if h := hdr["Host"]; h != "" {
		req.Host = h
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func TestCreateRejectsBadInput(t *testing.T) {
	big := `{"amount":100,"currency":"CNY","description":"` + strings.Repeat("x", 17<<10) + `"}`
	tests := []struct {
		name, body string
		hdr        map[string]string
		status     int
		typ, field string
		msg        string
	}{
		{"unknown field", `{"amount":1200,"currency":"CNY","tip":5}`, nil, 400, "malformed-request", "tip", "unknown field"},
		{"duplicate field", `{"amount":1200,"amount":1500,"currency":"CNY"}`, nil, 400, "malformed-request", "amount", "twice"},
		{"fields differing in case", `{"amount":1200,"AMOUNT":1500,"currency":"CNY"}`, nil, 400, "malformed-request", "AMOUNT", "differ only in case"},
		{"field in another case", `{"AMOUNT":1200,"currency":"CNY"}`, nil, 400, "malformed-request", "AMOUNT", "spelled"},
		{"negative amount", `{"amount":-5,"currency":"CNY","auth_code":"134567890123456789"}`, nil, 422, "invalid-field", "amount", "positive"},
		{"zero amount", `{"amount":0,"currency":"CNY"}`, nil, 422, "invalid-field", "amount", "positive"},
		{"decimal amount", `{"amount":12.91,"currency":"CNY"}`, nil, 422, "invalid-field", "amount", "minor units"},
		{"amount as string", `{"amount":"1291","currency":"CNY"}`, nil, 422, "invalid-field", "amount", "not a string"},
		{"missing amount", `{"currency":"CNY"}`, nil, 422, "invalid-field", "amount", "amount is required"},
		{"unsupported currency", `{"amount":100,"currency":"XAU"}`, nil, 422, "invalid-field", "currency", "unsupported currency"},
		{"missing currency", `{"amount":100}`, nil, 422, "invalid-field", "currency", "currency is required"},
		{"EAN-13 code", `{"amount":100,"currency":"CNY","auth_code":"6901234567892"}`, nil, 422, "invalid-field", "auth_code", "EAN-13"},
		{"short code", `{"amount":100,"currency":"CNY","auth_code":"1345"}`, nil, 422, "invalid-field", "auth_code", "too short"},
		{"letters in code", `{"amount":100,"currency":"CNY","auth_code":"13456789012345678X"}`, nil, 422, "invalid-field", "auth_code", "digits"},
		{"unknown method", `{"amount":100,"currency":"CNY","method":"cash"}`, nil, 422, "invalid-field", "method", "unknown method"},
		{"qr without wallet", `{"amount":100,"currency":"CNY","method":"qr"}`, nil, 422, "invalid-field", "wallet", "wallet is required"},
		{"long reference", `{"amount":100,"currency":"CNY","reference":"` + strings.Repeat("r", 65) + `"}`, nil, 422, "invalid-field", "reference", "at most 64"},
		{"trailing data", `{"amount":100,"currency":"CNY"} {}`, nil, 400, "malformed-request", "", "bad JSON"},
		{"labelled JSON, is not", `amount=100`, nil, 400, "malformed-request", "", "bad JSON"},
		{"a form, not JSON", `amount=100`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "unsupported-media-type", "Content-Type", "not JSON"},
		{"empty body", ``, nil, 400, "malformed-request", "", "empty body"},
		{"oversize body", big, nil, 413, "payload-too-large", "", "bytes"},
		{"bad wait", `{"amount":100,"currency":"CNY"}`, map[string]string{"Prefer": "wait=soon"}, 400, "malformed-request", "Prefer", "whole seconds"},
		{"missing token", `{"amount":100,"currency":"CNY"}`, map[string]string{"Authorization": ""}, 401, "unauthorized", "Authorization", "token"},
		{"wrong token", `{"amount":100,"currency":"CNY"}`, map[string]string{"Authorization": "Bearer nope"}, 401, "unauthorized", "Authorization", "token"},
		{"from a web page", `{"amount":100,"currency":"CNY"}`, map[string]string{"Origin": "http://evil.example"}, 403, "forbidden", "Origin", "Origin"},
		{"with a referer", `{"amount":100,"currency":"CNY"}`, map[string]string{"Referer": "http://evil.example/x"}, 403, "forbidden", "Origin", "Referer"},
		{"rebound host", `{"amount":100,"currency":"CNY"}`, map[string]string{"Host": "evil.example:8417"}, 403, "forbidden", "Host", "loopback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, h := newServer(t)
			w := do(h, "POST", "/v1/payments", tt.body, tt.hdr)
			if w.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("Content-Type %q", ct)
			}
			var pb localapi.Problem
			if err := json.Unmarshal(w.Body.Bytes(), &pb); err != nil {
				t.Fatalf("error body is not JSON: %s", w.Body)
			}
			if pb.Type != "urn:posagent:problem:"+tt.typ || pb.Status != tt.status || pb.Field != tt.field || pb.Title == "" || !strings.Contains(pb.Detail, tt.msg) {
				t.Fatalf("problem = %+v, want type %s field %q containing %q", pb, tt.typ, tt.field, tt.msg)
			}
			if len(rec.started) != 0 {
				t.Fatalf("a refused request reached the runner: %+v", rec.started)
			}
		})
	}
}

// A JSON body is accepted whatever it is labelled: curl -d sends a form
// Content-Type.
func TestCreateAcceptsJSONWithoutJSONContentType(t *testing.T) {
	for _, ct := range []string{"application/x-www-form-urlencoded", "text/plain", ""} {
		rec, h := newServer(t)
		w := do(h, "POST", "/v1/payments", `{"amount":1291,"currency":"CNY","auth_code":"284567890123456789"}`, map[string]string{"Content-Type": ct})
		if w.Code != http.StatusCreated || len(rec.started) != 1 {
			t.Errorf("Content-Type %q: %d %s", ct, w.Code, w.Body)
		}
	}
}

func TestCreateAccepts(t *testing.T) {
	rec, h := newServer(t)
	w := do(h, "POST", "/v1/payments", `{"amount":1291,"currency":"CNY","auth_code":"284567890123456789"}`, nil)
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if len(rec.started) != 1 {
		t.Fatalf("runner got %d requests", len(rec.started))
	}
	got := rec.started[0]
	if got.Amount != (pos.Money{Minor: 1291, Currency: "CNY"}) || got.Method != pos.Micropay || got.Code.Wallet() != pos.Alipay {
		t.Fatalf("runner got %+v", got)
	}
	var p localapi.Payment
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.State != "succeeded" || p.Amount != 1291 || p.Currency != "CNY" || p.Wallet != "alipay" {
		t.Fatalf("answer %+v", p)
	}
	if strings.Contains(w.Body.String(), "284567890123456789") {
		t.Fatalf("the answer holds the full payment code: %s", w.Body)
	}
}

func TestStatusMapping(t *testing.T) {
	_, h := newServer(t)
	if w := do(h, "GET", "/v1/payments/pay_nope", "", nil); w.Code != 404 {
		t.Errorf("unknown payment: %d", w.Code)
	}
	if w := do(h, "POST", "/v1/payments/pay_1/cancel", "", nil); w.Code != 409 {
		t.Errorf("cancel of a final payment: %d", w.Code)
	}
	if w := do(h, "GET", "/v1/payments/pay_1?wait=nonsense", "", nil); w.Code != 400 {
		t.Errorf("bad wait: %d", w.Code)
	}
	w := do(h, "GET", "/v1/payments/pay_1?wait=10s", "", nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"state": "pending"`) || !strings.Contains(w.Body.String(), `"detail": "user_paying"`) {
		t.Errorf("long-poll: %d %s", w.Code, w.Body)
	}
	if w := do(h, "GET", "/healthz", "", map[string]string{"Authorization": ""}); w.Code != 200 {
		t.Errorf("healthz without token: %d", w.Code)
	}
}
