package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/posagent/posagent/store"
)

func TestStats(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	s, err := db.Stats(ctx)
	if err != nil || len(s.Payments) != 0 || s.Outbox != 0 || !s.OldestOutbox.IsZero() || s.Bytes == 0 {
		t.Fatalf("empty journal: %+v %v", s, err)
	}
	for i := range 3 {
		c := create(samplePayment(fmt.Sprintf("pay_stats_%d", i)))
		if i == 1 {
			c.Enqueue = []store.Op{{Kind: store.OpQuery, NotBefore: t0.Add(5 * time.Second)}, {Kind: store.OpReverse, NotBefore: t0.Add(time.Minute)}}
		}
		mustAppend(t, db, c)
	}
	s, err = db.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p := samplePayment("x")
	if len(s.Payments) != 1 || s.Payments[0].N != 3 || s.Payments[0].Gateway != p.Gateway || s.Payments[0].State != string(p.State) {
		t.Errorf("payments = %+v, want 3 of %s/%s", s.Payments, p.Gateway, p.State)
	}
	if s.Outbox != 2 || s.OldestOutbox.IsZero() {
		t.Errorf("outbox = %d oldest %v, want 2 with a time", s.Outbox, s.OldestOutbox)
	}
}
