package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/store/sqlite"
)

// checkTourReconciled checks the tour's last step from its output and the
// demo's journal: the acquirer's day was reconciled, it adds up, and the
// report counts exactly the journal's payments and refunds of that day
// for gateway; with a bill (wantBill), every one of them was matched
// against it with no issue.
func checkTourReconciled(t *testing.T, out, state, gateway string, wantBill bool) {
	t.Helper()
	m := regexp.MustCompile(`Reconciliation of the acquirer's day (\d{4}-\d{2}-\d{2}):`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("the tour does not end with a reconciliation:\n%s", out)
	}
	day, err := time.ParseInLocation("2006-01-02", m[1], time.FixedZone("UTC+8", 8*3600))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "the tour crossed the acquirer's midnight") {
		t.Skip("the tour crossed midnight UTC+8: its day cannot add up")
	}
	db, err := sqlite.Open(filepath.Join(state, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pays, err := db.PaymentsBetween(t.Context(), day, day.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	refs, err := db.RefundsBetween(t.Context(), day, day.AddDate(0, 0, 1))
	if err != nil {
		t.Fatal(err)
	}
	n, charged := 0, 0
	for _, p := range pays {
		if p.Gateway == gateway {
			n++
			if p.State == "succeeded" {
				charged++
			}
		}
	}
	n += len(refs) // the demo has one gateway
	if n == 0 || charged == 0 {
		t.Fatalf("the journal's day holds %d payments and refunds, %d charged", n, charged)
	}
	if !strings.Contains(out, "OK: the day adds up") || strings.Contains(out, "MISMATCH ") {
		t.Errorf("the tour's reconciliation does not add up:\n%s", out)
	}
	if !wantBill {
		if want := gateway + " offers no bill: the journal's day is listed (" + strconv.Itoa(n) + ")"; !strings.Contains(out, want) {
			t.Errorf("the tour's reconciliation lacks %q:\n%s", want, out)
		}
		return
	}
	m = regexp.MustCompile(`the day adds up against (\S+)'s bill: matched (\d+) of the journal's (\d+) \((\d+) bill lines\)`).FindStringSubmatch(out)
	if m == nil || m[1] != gateway {
		t.Fatalf("the tour's reconciliation did not match %s's bill:\n%s", gateway, out)
	}
	matched, _ := strconv.Atoi(m[2])
	journal, _ := strconv.Atoi(m[3])
	lines, _ := strconv.Atoi(m[4])
	if matched != n || journal != n || lines < charged+len(refs) {
		t.Errorf("matched %d of %d against %d bill lines; the journal has %d payments and refunds (%d charged, %d refunds)", matched, journal, lines, n, charged, len(refs))
	}
	if !strings.Contains(out, "provisional: the day has not ended") {
		t.Errorf("the demo's same-day bill is not said to be provisional:\n%s", out)
	}
}
