package main

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/store/sqlite"
)

// fixedLatest is a journal whose latest event is at t.
type fixedLatest time.Time

func (f fixedLatest) LatestTime(context.Context) (time.Time, error) { return time.Time(f), nil }

func TestClockBehindTheJournalIsReported(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name   string
		latest time.Time
		behind bool
	}{
		{"empty journal", time.Time{}, false},
		{"journal in the past", now.Add(-time.Hour), false},
		{"within the slack", now.Add(30 * time.Second), false},
		{"stepped back a day", now.Add(24 * time.Hour), true},
	} {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		if got := checkClock(context.Background(), fixedLatest(c.latest), now, log); got != c.behind {
			t.Errorf("%s: behind = %v, want %v", c.name, got, c.behind)
		}
		if logged := strings.Contains(buf.String(), "level=ERROR") && strings.Contains(buf.String(), "behindBy=24h0m0s"); logged != c.behind {
			t.Errorf("%s: logged %q", c.name, buf.String())
		}
	}
	// And against a real, empty journal.
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if checkClock(context.Background(), db, now, slog.New(slog.DiscardHandler)) {
		t.Error("an empty journal reported a clock step")
	}
}

func TestWallStep(t *testing.T) {
	for _, c := range []struct {
		mono, wall, want time.Duration
	}{
		{10 * time.Second, 10 * time.Second, 0},
		{10 * time.Second, 10*time.Second - time.Hour, -time.Hour},
		{10 * time.Second, 10*time.Second + 90*time.Second, 90 * time.Second},
	} {
		if got := wallStep(c.mono, c.wall); got != c.want {
			t.Errorf("wallStep(%v, %v) = %v, want %v", c.mono, c.wall, got, c.want)
		}
	}
	// Real readings of an undisturbed clock show no step.
	a := time.Now()
	time.Sleep(20 * time.Millisecond)
	b := time.Now()
	if s := wallStep(b.Sub(a), b.Round(0).Sub(a.Round(0))); s > clockStep || s < -clockStep {
		t.Errorf("an undisturbed clock stepped %v", s)
	}
}
