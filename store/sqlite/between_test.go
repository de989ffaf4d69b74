package sqlite

import (
	"context"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

func TestPaymentsBetween(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	day := time.Date(2026, 3, 14, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))
	at := []time.Duration{-time.Nanosecond, 0, 12 * time.Hour, 24*time.Hour - time.Nanosecond, 24 * time.Hour}
	for i, d := range at {
		p := samplePayment(string(rune('a' + i)))
		p.CreatedAt = day.Add(d)
		mustAppend(t, db, create(p))
	}
	got, err := db.PaymentsBetween(ctx, day, day.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var ids string
	for _, p := range got {
		ids += p.ID
	}
	// The day includes its first nanosecond and excludes the next day's.
	if ids != "bcd" {
		t.Fatalf("payments of the day: %q, want bcd", ids)
	}
	if _, err := db.PaymentsBetween(ctx, day, day); !pos.Match(pos.Invalid, err) {
		t.Fatalf("empty period: %v", err)
	}
}
