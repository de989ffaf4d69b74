package localapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// Idempotency-Key (every creating call: payments, refunds, cancel,
// reprint). The first call with a key runs; its answer (status and body)
// is journaled. A later call with the same key and the same request
// (method, path and body, byte for byte) gets that first answer again,
// with Idempotent-Replayed: true, and does nothing; the same key with
// another request is 409 idempotency-key-reused. Only answers that did
// something (2xx) are kept: a refused call did nothing, so repeating it
// runs it again.
//
// A payment's or refund's key is journaled in the same write as the
// payment or refund (so a till that lost the answer and retries can never
// create a second one, even across a crash between the write and the
// answer); should the process die before the answer is recorded, a retry
// answers with the payment or refund as it stands. A cancel's and a
// reprint's key is journaled right after their own write.

const maxKey = 255

type keyCtx struct{}

// keyOf returns the Idempotency-Key record of the call being served, if the
// till sent one: handlers pass it to the write that creates.
func keyOf(ctx context.Context) *store.IdempotencyKey {
	k, _ := ctx.Value(keyCtx{}).(*store.IdempotencyKey)
	return k
}

// keyLocks serialises calls that carry the same key, so a retry that
// overtakes its first call waits for it instead of running twice.
type keyLocks struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (l *keyLocks) lock(key string) func() {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*keyLock{}
	}
	kl := l.m[key]
	if kl == nil {
		kl = &keyLock{}
		l.m[key] = kl
	}
	kl.refs++
	l.mu.Unlock()
	kl.mu.Lock()
	return func() {
		kl.mu.Unlock()
		l.mu.Lock()
		kl.refs--
		if kl.refs == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
}

// recorder keeps a copy of what a handler answered.
type answerRecorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (a *answerRecorder) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
	a.ResponseWriter.WriteHeader(code)
}

func (a *answerRecorder) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	a.body.Write(b)
	return a.ResponseWriter.Write(b)
}

func (a *answerRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// idempotent wraps a creating handler.
func (s *Server) idempotent(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		if key == "" {
			h(w, r)
			return
		}
		if len(key) > maxKey || !printableASCII(key) {
			writeError(w, problemf("malformed-request", "Idempotency-Key", "Idempotency-Key must be 1 to %d printable ASCII characters", maxKey))
			return
		}
		if s.opts.Keys == nil {
			writeError(w, problemf("unavailable", "Idempotency-Key", "this daemon's journal does not keep Idempotency-Keys"))
			return
		}
		body, err := readBody(r)
		if err != nil {
			writeError(w, err)
			return
		}
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), bytes.TrimSpace(body)...))
		fp := hex.EncodeToString(sum[:])
		unlock := s.keys.lock(key)
		defer unlock()
		ctx := r.Context()
		prev, err := s.opts.Keys.IdempotencyKey(ctx, key)
		switch {
		case err == nil:
			s.replay(w, r, prev, fp)
			return
		case !pos.Match(pos.NotFound, err):
			writeError(w, err)
			return
		}
		rec := &store.IdempotencyKey{Key: key, Fingerprint: fp, CreatedAt: time.Now()}
		ar := &answerRecorder{ResponseWriter: w}
		h(ar, r.WithContext(context.WithValue(ctx, keyCtx{}, rec)))
		if ar.status < 200 || ar.status > 299 {
			return
		}
		ctx = context.WithoutCancel(ctx)
		// The creating write recorded the key (payments, refunds); for
		// the others record it now.
		if _, err := s.opts.Keys.IdempotencyKey(ctx, key); pos.Match(pos.NotFound, err) {
			if err := s.opts.Keys.SaveIdempotencyKey(ctx, *rec); err != nil {
				s.opts.Logger.Error("recording Idempotency-Key failed", "err", err)
				return
			}
		}
		if err := s.opts.Keys.RecordAnswer(ctx, key, ar.status, stripCodeURL(ar.body.Bytes())); err != nil {
			s.opts.Logger.Error("recording the answer to an Idempotency-Key failed", "err", err)
		}
	}
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request, prev store.IdempotencyKey, fp string) {
	if prev.Fingerprint != fp {
		writeError(w, problemf("idempotency-key-reused", "Idempotency-Key", "Idempotency-Key %q was sent with another request (method, path or body differ); use a new key for a new request", prev.Key))
		return
	}
	w.Header().Set("Idempotent-Replayed", "true")
	if prev.Status != 0 {
		body := prev.Response
		if prev.PaymentID != "" && prev.RefundID == "" {
			if p, err := s.opts.Payments.Get(r.Context(), prev.PaymentID); err == nil && !p.State.Final() && p.CodeURL != "" {
				body = withCodeURL(body, p.CodeURL.Reveal())
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(prev.Status)
		_, _ = w.Write(body)
		return
	}
	// The first call's write is journaled but its answer is not (the
	// process died in between): answer with what it created, as it is.
	ctx := r.Context()
	switch {
	case prev.RefundID != "" && s.opts.Refunds != nil:
		ref, err := s.opts.Refunds.GetRefund(ctx, prev.RefundID)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, refundJSON(ref))
	case prev.PaymentID != "":
		p, err := s.opts.Payments.Get(ctx, prev.PaymentID)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusCreated, s.paymentJSON(p))
	default:
		writeError(w, problemf("conflict", "Idempotency-Key", "the call with Idempotency-Key %q has no recorded answer", prev.Key))
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// stripCodeURL removes a merchant QR's payload (a bearer link) from an
// answer before it is journaled: the journal forgets the payload once the
// payment is final, and the recorded answer must not keep it longer. A
// replay puts back the payment's current one while it is open.
func stripCodeURL(body []byte) []byte {
	if !bytes.Contains(body, []byte(`"code_url"`)) {
		return body
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return body
	}
	delete(m, "code_url")
	return encodeAnswer(m, body)
}

// withCodeURL adds code_url to a recorded answer.
func withCodeURL(body []byte, url string) []byte {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return body
	}
	v, _ := json.Marshal(url)
	m["code_url"] = v
	return encodeAnswer(m, body)
}

func encodeAnswer(m map[string]json.RawMessage, orig []byte) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return orig
	}
	return buf.Bytes()
}
