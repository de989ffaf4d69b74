package sqlite

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// An Idempotency-Key journaled with its payment survives a reopen, is
// refused a second time, and keeps only its first answer.
func TestIdempotencyKeyWithThePayment(t *testing.T) {
	path := t.TempDir() + "/j.db"
	db := must(Open(path, Options{}))
	p := samplePayment("pay_idem")
	c := create(p)
	c.Idempotency = &store.IdempotencyKey{Key: "k-1", Fingerprint: "fp", CreatedAt: t0}
	mustAppend(t, db, c)

	// The same key on another payment: the whole write is refused.
	q := samplePayment("pay_other")
	c2 := create(q)
	c2.Idempotency = &store.IdempotencyKey{Key: "k-1", Fingerprint: "fp2", CreatedAt: t0}
	err := db.Append(t.Context(), c2)
	if !pos.Match(pos.Conflict, err) || !errors.Is(err, store.ErrKeyUsed) {
		t.Fatalf("second use of the key: %v, want Conflict wrapping ErrKeyUsed", err)
	}
	if _, err := db.Payment(t.Context(), "pay_other"); !pos.Match(pos.NotFound, err) {
		t.Fatalf("the refused write journaled its payment: %v", err)
	}
	if err := db.RecordAnswer(t.Context(), "k-1", 201, []byte(`{"first":true}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordAnswer(t.Context(), "k-1", 200, []byte(`{"second":true}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.RecordAnswer(t.Context(), "nope", 200, nil); !pos.Match(pos.NotFound, err) {
		t.Errorf("answer for an unknown key: %v", err)
	}
	db.Close()

	db = must(Open(path, Options{}))
	defer db.Close()
	k, err := db.IdempotencyKey(t.Context(), "k-1")
	if err != nil {
		t.Fatal(err)
	}
	want := store.IdempotencyKey{Key: "k-1", Fingerprint: "fp", PaymentID: "pay_idem", Status: 201, Response: []byte(`{"first":true}`), CreatedAt: t0.UTC()}
	if diff := cmp.Diff(want, k); diff != "" {
		t.Errorf("key after reopen (-want +got):\n%s", diff)
	}
	if err := db.SaveIdempotencyKey(t.Context(), store.IdempotencyKey{Key: "k-1", Fingerprint: "x", CreatedAt: t0}); !errors.Is(err, store.ErrKeyUsed) {
		t.Errorf("saving a used key: %v", err)
	}
	if err := db.SaveIdempotencyKey(t.Context(), store.IdempotencyKey{Key: "", Fingerprint: "x", CreatedAt: t0}); !pos.Match(pos.Invalid, err) {
		t.Errorf("empty key: %v", err)
	}
}

func TestIdempotencyKeyWithTheRefund(t *testing.T) {
	db := must(Open(t.TempDir()+"/j.db", Options{}))
	defer db.Close()
	p := succeededPayment(t, db, "pay_r", 1000)
	r := newRefund(p, 100)
	c := createRefund(r)
	c.Idempotency = &store.IdempotencyKey{Key: "rk", Fingerprint: "fp", CreatedAt: t0}
	mustAppendRefund(t, db, c)
	k, err := db.IdempotencyKey(t.Context(), "rk")
	if err != nil || k.RefundID != r.ID || k.PaymentID != p.ID || k.Status != 0 {
		t.Fatalf("refund key: %+v %v", k, err)
	}
	r2 := newRefund(p, 100)
	r2.ID, r2.OutRefundNo = "ref_2", "orn_2"
	c = createRefund(r2)
	c.Idempotency = &store.IdempotencyKey{Key: "rk", Fingerprint: "fp", CreatedAt: t0}
	if err := db.AppendRefund(t.Context(), c); !errors.Is(err, store.ErrKeyUsed) {
		t.Fatalf("second refund with the key: %v", err)
	}
	if _, err := db.Refund(t.Context(), "ref_2"); !pos.Match(pos.NotFound, err) {
		t.Fatalf("refused refund was journaled: %v", err)
	}
}

func TestListPayments(t *testing.T) {
	db := must(Open(t.TempDir()+"/j.db", Options{}))
	defer db.Close()
	var all []string
	for i, spec := range []struct {
		ref    string
		method pos.Method
		wallet pos.Wallet
		gw     string
		state  pos.State
	}{
		{"A", pos.Micropay, pos.WeChatPay, "mmsp", pos.StateSubmitting},
		{"B", pos.MerchantQR, pos.Alipay, "swift", pos.StateUserPaying},
		{"A", pos.Micropay, pos.Alipay, "mmsp", pos.StateSubmitting},
		{"C", pos.Micropay, pos.WeChatPay, "mmsp", pos.StateAwaitingCode},
		{"", pos.Micropay, pos.WeChatPay, "mmsp", pos.StateSubmitting},
	} {
		p := samplePayment("pay_" + string(rune('a'+i)))
		p.Reference, p.Method, p.Wallet, p.Gateway, p.State = spec.ref, spec.method, spec.wallet, spec.gw, spec.state
		p.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		if p.Method == pos.MerchantQR {
			p.CodeMasked, p.CodeHash = "", ""
		}
		mustAppend(t, db, create(p))
		all = append([]string{p.ID}, all...)
	}
	list := func(f store.PaymentFilter) []string {
		t.Helper()
		if f.Limit == 0 {
			f.Limit = 10
		}
		ps, err := db.ListPayments(t.Context(), f)
		if err != nil {
			t.Fatal(err)
		}
		return ids(ps)
	}
	for _, tc := range []struct {
		name string
		f    store.PaymentFilter
		want []string
	}{
		{"all, newest first", store.PaymentFilter{}, all},
		{"reference", store.PaymentFilter{Reference: "A"}, []string{"pay_c", "pay_a"}},
		{"method", store.PaymentFilter{Method: pos.MerchantQR}, []string{"pay_b"}},
		{"wallet", store.PaymentFilter{Wallet: pos.Alipay}, []string{"pay_c", "pay_b"}},
		{"gateway", store.PaymentFilter{Gateway: "swift"}, []string{"pay_b"}},
		{"states", store.PaymentFilter{States: []pos.State{pos.StateAwaitingCode, pos.StateUserPaying}}, []string{"pay_d", "pay_b"}},
		{"created range", store.PaymentFilter{CreatedFrom: t0.Add(time.Minute), CreatedTo: t0.Add(3 * time.Minute)}, []string{"pay_c", "pay_b"}},
		{"page 1", store.PaymentFilter{Limit: 2}, []string{"pay_e", "pay_d"}},
		{"page 2", store.PaymentFilter{Limit: 2, After: &store.PaymentCursor{CreatedAt: t0.Add(3 * time.Minute), ID: "pay_d"}}, []string{"pay_c", "pay_b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, list(tc.f)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := db.ListPayments(t.Context(), store.PaymentFilter{}); !pos.Match(pos.Invalid, err) {
		t.Errorf("zero limit: %v", err)
	}
	if _, err := db.ListPayments(t.Context(), store.PaymentFilter{Limit: 1, States: []pos.State{"pending"}}); !pos.Match(pos.Invalid, err) {
		t.Errorf("a public state is not a journal state: %v", err)
	}
}

func TestEventsAfter(t *testing.T) {
	db := must(Open(t.TempDir()+"/j.db", Options{}))
	defer db.Close()
	p := samplePayment("pay_ev")
	mustAppend(t, db, create(p))
	mustAppend(t, db, move(p, pos.StateUserPaying, t0.Add(time.Second)))
	evs, err := db.EventsAfter(t.Context(), 0, 10)
	if err != nil || len(evs) != 2 || evs[0].Seq >= evs[1].Seq || evs[1].To != pos.StateUserPaying {
		t.Fatalf("events: %+v %v", evs, err)
	}
	rest, err := db.EventsAfter(t.Context(), evs[0].Seq, 10)
	if err != nil || len(rest) != 1 || rest[0].Seq != evs[1].Seq {
		t.Fatalf("after the first: %+v %v", rest, err)
	}
	sp := succeededPayment(t, db, "pay_rf", 500)
	mustAppendRefund(t, db, createRefund(newRefund(sp, 100)))
	revs, err := db.RefundEventsAfter(t.Context(), 0, 10)
	if err != nil || len(revs) != 1 {
		t.Fatalf("refund events: %+v %v", revs, err)
	}
}
