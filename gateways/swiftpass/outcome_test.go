package swiftpass

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/posagent/posagent/gateways"
)

// specText reads swiftpass-qr.txt from the shared specs folder: the
// repository root's parent holds shared/specs (CI checks shared/ out
// beside the clone), and a worktree may sit deeper, so every ancestor of
// the package directory is tried.
func specText(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "specs", "swiftpass-qr.txt")
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("shared/specs/swiftpass-qr.txt not found beside the repository or above it: the outcome tables are checked against the spec")
		}
		dir = parent
	}
}

// specErrCodes extracts the first column of §8's code tables (8.1
// Swiftpass, 8.2 WeChat, 8.3 Alipay, 8.4 UnionPay), repairing the
// extraction damage the tables carry.
func specErrCodes(t *testing.T, spec string) []string {
	t.Helper()
	i := strings.Index(spec, "\n8.1 Swiftpass error code")
	if i < 0 {
		t.Fatal("spec has no §8.1")
	}
	headers := map[string]bool{"Error Code": true, "Error code": true, "Name": true, "Response code": true}
	repaired := map[string]string{
		"EO":  "E0", // §8.4 "EO Unauthorized access": the letter O for zero
		"A.7": "A7", // §8.4 prints A7 twice, once as "A.7"
		"r":   "",   // a table border's debris, not a code
	}
	seen := map[string]bool{}
	var codes []string
	for _, line := range strings.Split(spec[i:], "\n") {
		if !strings.Contains(line, "\t") {
			continue
		}
		c := strings.TrimSpace(strings.SplitN(line, "\t", 2)[0])
		if r, ok := repaired[c]; ok {
			c = r
		}
		if c == "" || headers[c] || seen[c] {
			continue
		}
		seen[c] = true
		codes = append(codes, c)
	}
	if len(codes) < 150 {
		t.Fatalf("extracted only %d codes from §8: the extraction is broken", len(codes))
	}
	return codes
}

// specStates extracts the "NAME:" values of a list in the spec, between
// the first occurrence of from and the next of to.
func specStates(t *testing.T, spec, from, to string) []string {
	t.Helper()
	i := strings.Index(spec, from)
	if i < 0 {
		t.Fatalf("spec has no %q", from)
	}
	j := strings.Index(spec[i:], to)
	if j < 0 {
		t.Fatalf("spec has no %q after %q", to, from)
	}
	var out []string
	for _, m := range regexp.MustCompile(`\b([A-Z]{4,}):`).FindAllStringSubmatch(spec[i:i+j+len(to)], -1) {
		out = append(out, m[1])
	}
	return out
}

func hasRow(rows []Row, field, code string) (Row, bool) {
	for _, r := range rows {
		if r.Field == field && r.Code == code {
			return r, true
		}
	}
	return Row{}, false
}

// TestOutcomeTablesCoverTheSpec: every code the spec lists has a row,
// with a section, in every operation's table.
func TestOutcomeTablesCoverTheSpec(t *testing.T) {
	spec := specText(t)
	errs := specErrCodes(t, spec)
	trades := specStates(t, spec, "SUCCESS: Payment successful", "PAYERROR:")
	if len(trades) != 7 {
		t.Fatalf("extracted trade_states %v, want §6.3.3's seven", trades)
	}
	refunds := specStates(t, spec, "Refund Status:", "CHANGE:")
	if len(refunds) != 5 {
		t.Fatalf("extracted refund_status values %v, want §6.5.2's five", refunds)
	}
	for _, op := range Operations {
		rows := OutcomeTable(op)
		for _, r := range rows {
			if r.Section == "" || r.Outcome == "" {
				t.Errorf("%s: row %+v has no section or outcome", op, r)
			}
		}
		for _, c := range errs {
			if _, ok := hasRow(rows, "err_code", c); !ok {
				t.Errorf("%s: err_code %q (§8) has no row", op, c)
			}
		}
		for _, want := range []struct{ field, code string }{{"status", "0"}, {"status", "other"}, {"result_code", "0"}} {
			if _, ok := hasRow(rows, want.field, want.code); !ok {
				t.Errorf("%s: %s %q has no row", op, want.field, want.code)
			}
		}
	}
	for _, st := range trades {
		if _, ok := hasRow(OutcomeTable(OpQuery), "trade_state", st); !ok {
			t.Errorf("query: trade_state %q (§6.3.3) has no row", st)
		}
	}
	for _, st := range refunds {
		if _, ok := hasRow(OutcomeTable(OpRefundQuery), "refund_status", st); !ok {
			t.Errorf("refundquery: refund_status %q (§6.5.2) has no row", st)
		}
	}
	if _, ok := hasRow(OutcomeTable(OpNotification), "pay_result", "0"); !ok {
		t.Error("notification: pay_result 0 (§6.2.1) has no row")
	}
	for m := range meaningName {
		for _, op := range Operations {
			if _, ok := policy[op][m]; !ok {
				t.Errorf("%s has no outcome for %q", op, meaningName[m])
			}
		}
	}
}

// TestUnlistedIsUnknown: a code the spec does not list is Unknown on
// every operation, never Failed and never Succeeded.
func TestUnlistedIsUnknown(t *testing.T) {
	for _, op := range Operations {
		v := classify(op, Fields{"status": "0", "result_code": "1", "err_code": "NEW_CODE_2031"})
		if v.outcome != Unknown {
			t.Errorf("%s: unlisted err_code = %s, want unknown", op, v.outcome)
		}
		v = classify(op, Fields{"status": "0", "result_code": "7"})
		if v.outcome != Unknown {
			t.Errorf("%s: result_code 7 without err_code = %s, want unknown", op, v.outcome)
		}
	}
	if v := classify(OpQuery, Fields{"status": "0", "result_code": "0", "trade_state": "PARTIAL"}); v.outcome != Unknown {
		t.Errorf("unlisted trade_state = %s", v.outcome)
	}
	if got := RefundStatus("REVERSED"); got != gateways.StatusUnknown {
		t.Errorf("unlisted refund_status = %s", got)
	}
}

// TestOutcomeGolden prints every table whole, so a change of outcome is
// a reviewed diff (go test -run TestOutcomeGolden -update).
func TestOutcomeGolden(t *testing.T) {
	var b bytes.Buffer
	for _, op := range Operations {
		fmt.Fprintf(&b, "## %s\n", op)
		for _, r := range OutcomeTable(op) {
			fmt.Fprintf(&b, "%-13s %-40q %-15s %s\n", r.Field, r.Code, r.Outcome, r.Section)
		}
		b.WriteString("\n")
	}
	path := filepath.Join("testdata", "outcomes.golden")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Fatalf("outcome tables differ from %s; rerun with -update and review the diff", path)
	}
}

// TestCreateProtocolErrorFailed (S8): a create refused with the
// unsigned protocol error has no code_url, so no QR was shown and nobody
// can pay: Failed at once, not a QR timeout of waiting. Any other
// operation refused so is an Unknown error.
func TestCreateProtocolErrorFailed(t *testing.T) {
	cl := answering(t, func(Fields) Fields { return Fields{"status": "400", "message": "Signature error"} }, mustSigner(t, MD5, exampleKey))
	ctx := context.Background()
	res, err := cl.CreateQR(ctx, gateways.QRRequest{OutTradeNo: "PA1", Amount: hkd(t, 100), Wallet: "wechat"})
	if err != nil || res.Status != gateways.StatusFailed || res.Reason == "" || res.CodeURL != "" {
		t.Fatalf("CreateQR refused by status 400 = %+v, %v; want Failed", res, err)
	}
	if _, err := cl.Query(ctx, gateways.OrderRef{OutTradeNo: "PA1"}); err == nil {
		t.Fatal("Query refused by status 400 gave no error")
	}
}
