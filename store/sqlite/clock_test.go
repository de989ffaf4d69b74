package sqlite

import (
	"testing"
	"time"
)

func TestLatestTime(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	if got, err := db.LatestTime(ctx); err != nil || !got.IsZero() {
		t.Fatalf("empty journal: %v %v, want zero", got, err)
	}
	p := samplePayment("pay_clock")
	mustAppend(t, db, create(p))
	at := p.CreatedAt.Add(3 * time.Hour)
	mustAppend(t, db, move(mustPayment(t, db, p.ID), "failed", at))
	got, err := db.LatestTime(ctx)
	if err != nil || !got.Equal(at) {
		t.Errorf("LatestTime = %v %v, want %v", got, err, at)
	}
}
