package sim

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"
)

func TestBehaviourFor(t *testing.T) {
	for _, tc := range []struct {
		minor int64
		want  Scenario
		fault Fault
	}{
		{100, Immediate, FaultNone},
		{191, PayOnSecondQuery, FaultNone},
		{192, PayingUntilReversed, FaultNone},
		{193, Decline, FaultNone},
		{194, NoAnswerPaid, NoAnswer},
		{195, NoAnswerNeverPaid, NoAnswer},
	} {
		b := BehaviourFor(tc.minor)
		if b.Scenario != tc.want || b.FaultFor(OpSubmit) != tc.fault || b.FaultFor(OpQuery) != FaultNone {
			t.Errorf("BehaviourFor(%d) = %+v", tc.minor, b)
		}
	}
}

func TestScriptOverridesMagicAmount(t *testing.T) {
	var s Script
	s.SetOrder("A", Behaviour{PayingQueries: 3})
	s.SetAmount(193, Behaviour{Fault: HTTP5xx, FaultOn: []Op{OpQuery}, Times: 1})
	if b := s.Behaviour("A", 194); b.PayingQueries != 3 || b.FaultFor(OpSubmit) != FaultNone {
		t.Errorf("order script: %+v", b)
	}
	if b := s.Behaviour("B", 193); b.Scenario != Decline {
		t.Errorf("amount script keeps the amount's scenario: %+v", b)
	}
	if f := s.TakeFault("B", 193, OpQuery); f != HTTP5xx {
		t.Errorf("first query fault = %q", f)
	}
	if f := s.TakeFault("B", 193, OpQuery); f != FaultNone {
		t.Errorf("Times=1 fault applied twice: %q", f)
	}
	if f := s.TakeFault("C", 195, OpSubmit); f != NoAnswer {
		t.Errorf("magic ..95 fault = %q", f)
	}
	s.Reset()
	if b := s.Behaviour("A", 100); b.Scenario != Immediate {
		t.Errorf("after Reset: %+v", b)
	}
}

func TestLedgerPayingQueriesAndRules(t *testing.T) {
	l, err := OpenLedger(filepath.Join(t.TempDir(), "ledger.json"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1700000000, 0)
	l.SetClock(func() time.Time { return now })
	l.SetRules(Rules{ReverseAfter: 15 * time.Second, MinQueryInterval: 5 * time.Second})
	o := Order{OutTradeNo: "P1", Amount: 100, Method: "micropay"}
	Behaviour{PayingQueries: 2}.Fill(&o)
	if o, err = l.NewOrder(o); err != nil || o.State != UserPaying {
		t.Fatalf("NewOrder = %+v, %v", o, err)
	}
	for i, want := range []OrderState{UserPaying, UserPaying, Success} {
		if i > 0 {
			if _, err := l.Query("P1"); !errors.Is(err, ErrQueryTooSoon) {
				t.Fatalf("query %d without waiting: %v", i+1, err)
			}
		}
		now = now.Add(5 * time.Second)
		got, err := l.Query("P1")
		if err != nil || got.State != want {
			t.Fatalf("query %d = %s, %v; want %s", i+1, got.State, err, want)
		}
	}
	o2 := Order{OutTradeNo: "P2", Amount: 192, Method: "micropay"}
	if _, err := l.NewOrder(o2); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reverse("P2"); !errors.Is(err, ErrTooEarly) {
		t.Fatalf("early reverse: %v", err)
	}
	now = now.Add(15 * time.Second)
	if got, err := l.Reverse("P2"); err != nil || got.State != Revoked {
		t.Fatalf("reverse = %+v, %v", got, err)
	}
	if _, _, err := l.Refund("P1", "R1", 40); err != nil {
		t.Fatal(err)
	}
	if o, r, err := l.FindRefundByNo("R1"); err != nil || o.OutTradeNo != "P1" || r.Amount != 40 {
		t.Fatalf("FindRefundByNo = %+v %+v %v", o, r, err)
	}
}

func TestServeFault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeFault(w, r, Fault(r.URL.Query().Get("f")), 50*time.Millisecond)
	}))
	defer srv.Close()
	if resp, err := http.Get(srv.URL + "?f=http_5xx"); err != nil || resp.StatusCode != 502 {
		t.Errorf("5xx: %v %v", resp, err)
	}
	if _, err := http.Get(srv.URL + "?f=no_answer"); err == nil {
		t.Errorf("no_answer got an answer")
	}
}

// The Redirect fault answers 307 to the trap; a client that follows it is
// seen there.
func TestServeFaultRedirect(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ServeFault(w, r, Redirect, 0)
	}))
	defer srv.Close()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	before := RedirectHits()
	resp, err := noFollow.Post(srv.URL+"/pay", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	target, _ := RedirectURL()
	if resp.StatusCode != http.StatusTemporaryRedirect || resp.Header.Get("Location") != target+"/pay" {
		t.Fatalf("answer %d to %q, want 307 to %s/pay", resp.StatusCode, resp.Header.Get("Location"), target)
	}
	if RedirectHits() != before {
		t.Fatal("the trap was hit by a client that did not follow")
	}
	resp, err = http.Post(srv.URL+"/pay", "text/plain", nil) // follows
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if RedirectHits() != before+1 {
		t.Fatal("a client that followed the redirect was not seen at the trap")
	}
	if !Redirect.Transport() {
		t.Fatal("Redirect is not a transport fault: wire simulators would not serve it")
	}
}
