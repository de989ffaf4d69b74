package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/posagent/posagent/flows"
)

// TestNumbersUniquePerMerchant: two tills (two state directories) of one
// merchant draw order and refund numbers that never collide, even all in
// the same second, and every number fits every gateway's order and refund
// number rules in shared/specs.
func TestNumbersUniquePerMerchant(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	a, err := loadOrCreateNumberPrefix(filepath.Join(dirA, "number-prefix"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := loadOrCreateNumberPrefix(filepath.Join(dirB, "number-prefix"))
	if err != nil {
		t.Fatal(err)
	}
	// The prefix is the install's: the same after a restart.
	if again, err := loadOrCreateNumberPrefix(filepath.Join(dirA, "number-prefix")); err != nil || again != a {
		t.Fatalf("prefix after a restart: %q %v, want %q", again, err, a)
	}
	for a == b { // 1 in 2^20: draw B again rather than test a degenerate pair
		os.Remove(filepath.Join(dirB, "number-prefix"))
		if b, err = loadOrCreateNumberPrefix(filepath.Join(dirB, "number-prefix")); err != nil {
			t.Fatal(err)
		}
	}

	// Each gateway's rule for order and refund numbers.
	rules := []struct {
		name string
		max  int
		re   *regexp.Regexp
	}{
		{"MMSP MERORDERID / REFUND_MERORDERID string(20)", 20, regexp.MustCompile(`^[0-9A-Za-z]+$`)},
		{"Swiftpass out_trade_no / out_refund_no String(32), number, letter or underscore", 32, regexp.MustCompile(`^[0-9A-Za-z_]+$`)},
		{"Allinpay outTransNo AS/ANx 32", 32, regexp.MustCompile(`^[0-9A-Za-z]+$`)},
		{"AllPay orderNum String(60)", 60, regexp.MustCompile(`^[0-9A-Za-z]+$`)},
		{"HipoPay out_trade_id / out_refund_id string", 64, regexp.MustCompile(`^[0-9A-Za-z]+$`)},
	}
	const n = 100000
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	seen := make(map[string]string, 4*n)
	draw := func(till, prefix string, f func(string, time.Time) string, at time.Time) {
		no := f(prefix, at)
		for _, r := range rules {
			if len(no) > r.max || !r.re.MatchString(no) {
				t.Fatalf("%s: %q breaks %s", till, no, r.name)
			}
		}
		if other, dup := seen[no]; dup && other != till {
			t.Fatalf("tills %s and %s drew the same number %s", other, till, no)
		}
		seen[no] = till
	}
	for i := range n {
		at := now
		if i%2 == 1 {
			at = now.Add(time.Duration(i) * time.Millisecond) // and across seconds
		}
		draw("A", a, flows.NewOutTradeNo, at)
		draw("B", b, flows.NewOutTradeNo, at)
		draw("A", a, flows.NewOutRefundNo, at)
		draw("B", b, flows.NewOutRefundNo, at)
	}
}

func TestNumberPrefixFileRefusesGarbage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "number-prefix")
	if err := os.WriteFile(path, []byte("toolong!\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadOrCreateNumberPrefix(path); err == nil {
		t.Fatal("a malformed prefix file was accepted")
	}
}
