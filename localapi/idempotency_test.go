package localapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
)

// memKeys is an in-memory store.Idempotency; the journal's own is tested in
// store/sqlite and end to end in cmd/posagent.
type memKeys struct {
	mu sync.Mutex
	m  map[string]store.IdempotencyKey
}

func (k *memKeys) IdempotencyKey(ctx context.Context, key string) (store.IdempotencyKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	if !ok {
		return v, pos.Errorf(pos.NotFound, "mem", "no key %s", key)
	}
	return v, nil
}

func (k *memKeys) SaveIdempotencyKey(ctx context.Context, v store.IdempotencyKey) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[v.Key]; ok {
		return pos.E(pos.Conflict, "mem", store.ErrKeyUsed)
	}
	k.m[v.Key] = v
	return nil
}

func (k *memKeys) RecordAnswer(ctx context.Context, key string, status int, body []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	v, ok := k.m[key]
	if !ok {
		return pos.Errorf(pos.NotFound, "mem", "no key %s", key)
	}
	if v.Status == 0 {
		v.Status, v.Response = status, append([]byte(nil), body...)
		k.m[key] = v
	}
	return nil
}

// slowCreates records creates, journals their keys as the runner does, and
// takes a while, so concurrent retries overlap the first call.
type slowCreates struct {
	recorder
	keys  *memKeys
	mu    sync.Mutex
	calls int
}

func (s *slowCreates) Create(ctx context.Context, req flows.StartRequest) (pos.Payment, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	if req.Idempotency != nil {
		k := *req.Idempotency
		k.PaymentID = "pay_1"
		if err := s.keys.SaveIdempotencyKey(ctx, k); err != nil {
			return pos.Payment{}, err
		}
	}
	return s.recorder.Start(ctx, req)
}

func TestIdempotencyKeyReplays(t *testing.T) {
	keys := &memKeys{m: map[string]store.IdempotencyKey{}}
	pay := &slowCreates{keys: keys}
	s, err := localapi.New(localapi.Options{Payments: pay, Token: token, Keys: keys, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"amount":1291,"currency":"CNY","auth_code":"284567890123456789"}`
	hdr := map[string]string{"Idempotency-Key": "k1"}
	// Ten tills' retries at once: one create, ten identical answers.
	var wg sync.WaitGroup
	answers := make([]string, 10)
	codes := make([]int, 10)
	for i := range answers {
		wg.Go(func() {
			w := do(s, "POST", "/v1/payments?wait=0s", body, hdr)
			codes[i], answers[i] = w.Code, w.Body.String()
		})
	}
	wg.Wait()
	if pay.calls != 1 {
		t.Fatalf("%d creates for one key", pay.calls)
	}
	for i := range answers {
		if codes[i] != http.StatusCreated || answers[i] != answers[0] {
			t.Fatalf("answer %d: %d %s, want the first %s", i, codes[i], answers[i], answers[0])
		}
	}
	// Same key, another body, or another path: 409.
	if w := do(s, "POST", "/v1/payments", `{"amount":1292,"currency":"CNY"}`, hdr); w.Code != 409 {
		t.Errorf("other body: %d %s", w.Code, w.Body)
	}
	if w := do(s, "POST", "/v1/payments/pay_1/cancel", "", hdr); w.Code != 409 {
		t.Errorf("other path: %d %s", w.Code, w.Body)
	}
	// A refused call keeps no answer: fixed, the same key runs.
	bad := map[string]string{"Idempotency-Key": "k2"}
	if w := do(s, "POST", "/v1/payments", `{"amount":0,"currency":"CNY"}`, bad); w.Code != 422 {
		t.Fatalf("bad request: %d", w.Code)
	}
	if w := do(s, "POST", "/v1/payments?wait=0s", `{"amount":5,"currency":"CNY"}`, bad); w.Code != 201 {
		t.Errorf("the key of a refused call, with a good body: %d %s", w.Code, w.Body)
	}
	// A key that is not printable ASCII, or too long, is refused.
	if w := do(s, "POST", "/v1/payments", body, map[string]string{"Idempotency-Key": "ключ"}); w.Code != 400 {
		t.Errorf("non-ASCII key: %d", w.Code)
	}
}

// Without a store for keys, a request with one is refused rather than run
// without the promise.
func TestIdempotencyKeyWithoutStore(t *testing.T) {
	_, h := newServer(t)
	if w := do(h, "POST", "/v1/payments", `{"amount":1,"currency":"CNY"}`, map[string]string{"Idempotency-Key": "k"}); w.Code != 503 {
		t.Errorf("%d %s", w.Code, w.Body)
	}
}

// A merchant QR's payload is not kept in the recorded answer; a replay
// while the payment is open carries the current one.
func TestIdempotencyAnswerForgetsTheQRPayload(t *testing.T) {
	keys := &memKeys{m: map[string]store.IdempotencyKey{}}
	pay := &qrCreates{slowCreates: slowCreates{keys: keys}}
	s, err := localapi.New(localapi.Options{Payments: pay, Token: token, Keys: keys, RateLimit: -1})
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{"Idempotency-Key": "qr-1"}
	body := `{"amount":1200,"currency":"CNY","method":"qr","wallet":"wechat"}`
	first := do(s, "POST", "/v1/payments?wait=0s", body, hdr)
	if first.Code != 201 || !strings.Contains(first.Body.String(), "weixin://wxpay/bizpayurl?pr=secret") {
		t.Fatalf("first: %d %s", first.Code, first.Body)
	}
	if rec := keys.m["qr-1"]; strings.Contains(string(rec.Response), "weixin://") || rec.Status != 201 {
		t.Fatalf("the recorded answer keeps the QR payload: %s", rec.Response)
	}
	again := do(s, "POST", "/v1/payments?wait=0s", body, hdr)
	if again.Code != 201 || !strings.Contains(again.Body.String(), "weixin://wxpay/bizpayurl?pr=secret") {
		t.Fatalf("replay while open: %d %s", again.Code, again.Body)
	}
}

// qrCreates answers creates and gets with an open merchant QR payment.
type qrCreates struct{ slowCreates }

func (q *qrCreates) Create(ctx context.Context, req flows.StartRequest) (pos.Payment, error) {
	if _, err := q.slowCreates.Create(ctx, req); err != nil {
		return pos.Payment{}, err
	}
	return q.Get(ctx, "pay_1")
}

func (q *qrCreates) Get(ctx context.Context, id string) (pos.Payment, error) {
	return pos.Payment{ID: "pay_1", State: pos.StateUserPaying, Amount: pos.Money{Minor: 1200, Currency: "CNY"}, Method: pos.MerchantQR, Wallet: pos.WeChatPay, Gateway: "mmsp", OutTradeNo: "PA1", CodeURL: "weixin://wxpay/bizpayurl?pr=secret", CreatedAt: time.Now(), UpdatedAt: time.Now()}, nil
}
