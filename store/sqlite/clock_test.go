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

// TestLatestTimeAfterAStepBack: an event written after the clock went
// back does not hide the later time written before it.
func TestLatestTimeAfterAStepBack(t *testing.T) {
	db := openTest(t)
	ctx := t.Context()
	p := samplePayment("pay_step")
	mustAppend(t, db, create(p))
	late := p.CreatedAt.Add(5 * time.Hour)
	mustAppend(t, db, move(mustPayment(t, db, p.ID), "user_paying", late))
	mustAppend(t, db, move(mustPayment(t, db, p.ID), "failed", p.CreatedAt.Add(time.Hour)))
	if got, err := db.LatestTime(ctx); err != nil || !got.Equal(late) {
		t.Errorf("LatestTime = %v %v, want %v", got, err, late)
	}
}
