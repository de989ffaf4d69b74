package main

import (
	"bytes"
	"context"
	"net/http"
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

// posagent reconcile through the API: a gateway without a bill is said so
// with the journal's day listed (exit 0, CSV written); an answer with a
// mismatch exits 1 and prints it; a bad date is a usage error.
func TestReconcileCLI(t *testing.T) {
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
	now := time.Now()
	p := pos.Payment{ID: "pay_day", OutTradeNo: "OT1", Gateway: "mmsp", Method: pos.Micropay, Amount: pos.Money{Minor: 1291, Currency: "CNY"},
		State: pos.StateSubmitting, CreatedAt: now, UpdatedAt: now, SubmittedAt: now}
	if err := db.Append(ctx, store.Change{Payment: p, Reason: "created", At: now}); err != nil {
		t.Fatal(err)
	}
	runner, err := flows.NewRunner(flows.Options{Journal: db, Gateways: map[string]gateways.Gateway{"mmsp": g}, CodeKey: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{journal: db, gateways: map[string]gateways.Gateway{"mmsp": g}}
	rec, err := d.reconciler()
	if err != nil {
		t.Fatal(err)
	}
	const token = "0123456789abcdef-reconcile"
	api, err := localapi.New(localapi.Options{Payments: runner, Token: pos.Secret(token), Extra: map[string]http.Handler{localapi.ReconcilePattern: localapi.ReconcileHandler(rec)}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api)
	defer srv.Close()
	tokenFile := filepath.Join(dir, "api.token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(base string, args ...string) (string, int) {
		var out bytes.Buffer
		code := run(ctx, append(args, "--api", base, "--token-file", tokenFile), &out, &out)
		return out.String(), code
	}
	date := now.In(time.FixedZone("UTC+8", 8*3600)).Format("2006-01-02")
	csvPath := filepath.Join(dir, "day.csv")
	out, code := cli(srv.URL, "reconcile", "--date", date, "--csv", csvPath)
	if code != 0 || !strings.Contains(out, "no bill") || !strings.Contains(out, "pay_day") || !strings.Contains(out, "UTC+8") {
		t.Fatalf("reconcile = %d\n%s", code, out)
	}
	if b, err := os.ReadFile(csvPath); err != nil || !strings.Contains(string(b), "journal") || !strings.Contains(string(b), "pay_day") {
		t.Errorf("csv = %s, %v", b, err)
	}
	if out, code := cli(srv.URL, "reconcile", "--date", "01/12/2026"); code != 2 {
		t.Errorf("bad date = %d\n%s", code, out)
	}
	mismatch := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":false,"reports":[{"gateway":"allinpay","date":"` + date + `","zone":"UTC+8","from":"2026-12-01T00:00:00+08:00","to":"2026-12-02T00:00:00+08:00","ok":false,"has_bill":true,"bill_lines":1,"matched":0,"issues":[{"kind":"not_in_journal","refund":false,"out_trade_no":"X1","bill_amount":1100,"currency":"HKD","message":"the bill has a payment of 11.00 HKD for order X1, which the journal does not know"}],"day":[]}]}`))
	}))
	defer mismatch.Close()
	out, code = cli(mismatch.URL, "reconcile", "--date", date)
	if code != 1 || !strings.Contains(out, "MISMATCH not_in_journal") || !strings.Contains(out, "X1") {
		t.Errorf("mismatch = %d\n%s", code, out)
	}
}
