package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// posagent outbox lists a stuck reversal through the API (flagged, exit 1),
// retries it, and resolves it by hand with who and why, which the journal
// keeps as an event; a resolution off the transition table is refused
// (exit 2) and changes nothing.
func TestOutboxCLI(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(filepath.Join(dir, "journal.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	g, err := mmsp.New(mmsp.Options{Endpoint: "http://127.0.0.1:1/", MerchantNo: "M1", TerminalNo: "T1", AgentNo: "A1", Key: "k", Simulated: true}, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	runner, err := flows.NewRunner(flows.Options{Journal: db, Gateways: map[string]gateways.Gateway{"mmsp": g}, CodeKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	ob, err := flows.NewOutbox(flows.OutboxOptions{Payments: runner, AlertAfter: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Now().Add(-10 * time.Minute)
	p := pos.Payment{ID: "pay_stuck", OutTradeNo: "OT1", Gateway: "mmsp", Method: pos.Micropay, Amount: pos.Money{Minor: 1291, Currency: "CNY"},
		State: pos.StateSubmitting, CreatedAt: created, UpdatedAt: created, SubmittedAt: created}
	if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: created}); err != nil {
		t.Fatal(err)
	}
	p2 := p
	p2.State = pos.StateReversing
	if err := db.Append(ctx, store.Change{Payment: p2, From: p.State, Reason: "timeout", At: created,
		Enqueue: []store.Op{{Kind: store.OpReverse, NotBefore: time.Now().Add(time.Hour)}}}); err != nil {
		t.Fatal(err)
	}
	const token = "0123456789abcdef-outbox"
	api, err := localapi.New(localapi.Options{Payments: runner, Token: pos.Secret(token), Extra: localapi.OutboxHandlers(ob)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	tokenFile := filepath.Join(dir, "api.token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := run(ctx, append(args, "--api", srv.URL, "--token-file", tokenFile), &out, &out)
		return out.String(), code
	}
	out, code := cli("outbox")
	if code != 1 || !strings.Contains(out, "op_1") || !strings.Contains(out, "reverse") || !strings.Contains(out, "pay_stuck") || !strings.Contains(out, "ALERT") {
		t.Fatalf("outbox = %d\n%s", code, out)
	}
	if out, code := cli("outbox", "retry", "op_1"); code != 0 || !strings.Contains(out, "due now") {
		t.Errorf("retry = %d\n%s", code, out)
	}
	if due, _ := db.DueOps(ctx, time.Now()); len(due) != 1 {
		t.Errorf("after retry, due = %+v", due)
	}
	if out, code := cli("outbox", "resolve", "op_1", "--outcome", "user_paying", "--reason", "x", "--by", "ops"); code != 2 {
		t.Errorf("resolve off the table = %d\n%s", code, out)
	}
	if out, code := cli("outbox", "resolve", "op_1", "--outcome", "reversed"); code != 2 || !strings.Contains(out, "--reason") {
		t.Errorf("resolve without reason = %d\n%s", code, out)
	}
	out, code = cli("outbox", "resolve", "op_1", "--outcome", "reversed", "--reason", "acquirer confirmed the reversal by phone", "--by", "ops-ana")
	if code != 0 || !strings.Contains(out, "reversed") {
		t.Fatalf("resolve = %d\n%s", code, out)
	}
	evs, _ := db.Events(ctx, "pay_stuck")
	last := evs[len(evs)-1]
	if last.To != pos.StateReversed || !strings.Contains(last.Reason, "acquirer confirmed the reversal by phone") || !strings.Contains(last.Detail, "ops-ana") {
		t.Errorf("last event %+v", last)
	}
	if out, code := cli("outbox"); code != 0 || !strings.Contains(out, "outbox empty") {
		t.Errorf("outbox after resolving = %d\n%s", code, out)
	}
}
