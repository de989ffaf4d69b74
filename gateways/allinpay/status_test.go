package allinpay

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/posagent/posagent/gateways"
)

// specPath finds shared/specs/allinpay-oats-qr.txt: beside the repository
// (the repo root's parent holds shared/, in CI and on the development
// machine), searched upwards from the package directory so a git worktree
// one level deeper finds it too. POSAGENT_SPECS overrides the folder.
func specPath(t *testing.T) string {
	t.Helper()
	const name = "allinpay-oats-qr.txt"
	if d := os.Getenv("POSAGENT_SPECS"); d != "" {
		return filepath.Join(d, name)
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "specs", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("shared/specs/%s not found above the package directory (set POSAGENT_SPECS)", name)
		}
		dir = parent
	}
}

var codeLine = regexp.MustCompile(`^(\d{4}|[A-Z]\d{3})\t(.*)$`)

// specCodeTable extracts every code of the spec's code tables: §1.7.1
// (returnCode) and §1.7.2 (resultCode), from "1.7 Transaction Return
// Code" to "1.8 Appendix", with the first cell of its explanation.
func specCodeTable(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(specPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "1.7 Transaction Return Code"):
			in = true
			continue
		case strings.HasPrefix(l, "1.8 Appendix"):
			in = false
		}
		if !in {
			continue
		}
		if m := codeLine.FindStringSubmatch(l); m != nil {
			text, _, _ := strings.Cut(m[2], "\t")
			if _, seen := out[m[1]]; !seen {
				out[m[1]] = strings.TrimSpace(text)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 70 {
		t.Fatalf("found only %d codes in §1.7 of the spec: is the extraction broken?", len(out))
	}
	return out
}

func normal(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Every code the spec's code tables list has a row, with an outcome and a
// section, in every operation's returnCode and resultCode table; the
// tables list nothing the spec does not.
func TestOutcomeTablesCoverSpec(t *testing.T) {
	spec := specCodeTable(t)
	ours := map[string]string{}
	for _, c := range specCodes {
		ours[c.code] = c.text
	}
	for code, text := range spec {
		o, ok := ours[code]
		if !ok {
			t.Errorf("spec code %s (%q) is missing from specCodes", code, text)
			continue
		}
		if a, b := normal(o), normal(text); !strings.HasPrefix(a, b) && !strings.HasPrefix(b, a) {
			t.Errorf("code %s: we read %q, the spec says %q", code, o, text)
		}
	}
	for code := range ours {
		if _, ok := spec[code]; !ok {
			t.Errorf("specCodes lists %s, which the spec does not", code)
		}
	}
	for op, tt := range tables {
		for _, tb := range tt {
			for code := range spec {
				r, ok := tb.rows[code]
				if !ok {
					t.Errorf("%s (%s): no row for spec code %s", tb.name, op, code)
					continue
				}
				if r.section == "" {
					t.Errorf("%s: code %s has no spec section", tb.name, code)
				}
			}
			for code := range tb.rows {
				if _, ok := spec[code]; !ok {
					t.Errorf("%s: row for %s, which the spec does not list", tb.name, code)
				}
			}
		}
	}
}

func statusOf(op operation, ret, res string) gateways.Status {
	return classify(op, response{ReturnCode: ret, ResultCode: res}).status
}

// The rules of the issue, code by code, for every operation they name.
func TestOutcomeRules(t *testing.T) {
	const (
		ok      = gateways.StatusSucceeded
		paying  = gateways.StatusUserPaying
		failed  = gateways.StatusFailed
		unknown = gateways.StatusUnknown
	)
	money := []operation{opPay, opQuery, opRefund, opRefundQuery}
	// Unlisted or missing codes are Unknown, everywhere.
	for op := range tables {
		for _, c := range [][2]string{{"", ""}, {"", "0000"}, {"X123", ""}, {"0000", ""}, {"0000", "X123"}, {"0000", "0015"}, {"7777", "0000"}} {
			if got := statusOf(op, c[0], c[1]); got != unknown {
				t.Errorf("%s returnCode %q resultCode %q = %s, want unknown", op, c[0], c[1], got)
			}
		}
	}
	// Codes that say the order was paid, and "busy", "abnormal", "to be
	// voided", "processing", "unknown mistake", are never Failed for a
	// payment, a query or a refund, whether as resultCode or returnCode.
	for _, op := range money {
		for _, code := range []string{"0074", "0038", "0056", "0031", "9996", "0040", "0024", "R000", "0033", "0034", "0051", "0058", "9999", "9997", "P000", "0022"} {
			for _, c := range [][2]string{{"0000", code}, {code, ""}} {
				if got := statusOf(op, c[0], c[1]); got == failed || got == ok {
					t.Errorf("%s returnCode %s resultCode %s = %s; must be unknown or processing", op, c[0], c[1], got)
				}
			}
		}
	}
	// Failed on a query only for codes that state how the order ended.
	var queryFailed []string
	for code, r := range resultQuery.rows {
		if r.out == outFailed {
			queryFailed = append(queryFailed, code)
		}
	}
	slices.Sort(queryFailed)
	want := append(slices.Clone(declined), "0029", "0039")
	slices.Sort(want)
	if !slices.Equal(queryFailed, want) {
		t.Errorf("query Failed codes = %v, want exactly the declined, voided and closed ones %v", queryFailed, want)
	}
	cases := []struct {
		op       operation
		ret, res string
		want     gateways.Status
		notFound bool
	}{
		{opPay, "0000", "0000", ok, false},
		{opPay, "0000", "P000", paying, false},
		{opPay, "0000", "9997", paying, false},
		{opPay, "0000", "0008", failed, false},
		{opPay, "0000", "0078", failed, false},
		{opPay, "0000", "3004", failed, false},
		{opPay, "0000", "9998", failed, false},
		{opPay, "0012", "", failed, false}, // signature refused: never reached a wallet
		{opPay, "0001", "", failed, false},
		{opPay, "9999", "", unknown, false},
		{opPay, "0000", "0040", unknown, false},
		{opQuery, "0000", "0000", ok, false},
		{opQuery, "0000", "0039", failed, false},
		{opQuery, "0000", "0029", failed, false},
		{opQuery, "0000", "0007", unknown, true},
		{opQuery, "0007", "", unknown, true},
		{opQuery, "0012", "", unknown, false},
		{opQuery, "0000", "0035", unknown, false},
		{opQuery, "0000", "0004", unknown, false},
		{opQuery, "0000", "0016", unknown, false},
		{opQuery, "0000", "0033", paying, false},
		{opVoid, "0000", "0000", ok, false},
		{opVoid, "0000", "0029", ok, false},
		{opVoid, "0000", "0033", paying, false},
		{opVoid, "0000", "R000", paying, false},
		{opVoid, "0000", "0026", failed, false},
		{opVoid, "0000", "0025", unknown, true},
		{opVoid, "0000", "9996", unknown, false},
		{opClose, "0000", "0000", ok, false},
		{opClose, "0000", "0039", ok, false},
		{opClose, "0000", "0038", failed, false},
		{opClose, "0000", "0007", unknown, true},
		{opClose, "0000", "9999", unknown, false},
		{opRefund, "0000", "0000", ok, false},
		{opRefund, "0000", "0034", paying, false},
		{opRefund, "0000", "9999", unknown, false},
		{opRefund, "0000", "9996", unknown, false},
		{opRefund, "0000", "0040", unknown, false},
		{opRefund, "9999", "", unknown, false},
		{opRefund, "0000", "0022", unknown, false},
		{opRefund, "0000", "0027", failed, false},
		{opRefund, "0000", "0036", failed, false},
		{opRefundQuery, "0000", "0000", ok, false},
		{opRefundQuery, "0000", "0034", paying, false},
		{opRefundQuery, "0000", "0051", paying, false},
		{opRefundQuery, "0000", "0007", unknown, false},
		{opRefundQuery, "0000", "0025", unknown, false},
		{opRefundQuery, "0007", "", unknown, false},
	}
	for _, c := range cases {
		v := classify(c.op, response{ReturnCode: c.ret, ResultCode: c.res, ResultMsg: "m"})
		if v.status != c.want || v.notFound != c.notFound {
			t.Errorf("%s returnCode %s resultCode %s = %s (notFound %v), want %s (notFound %v)", c.op, c.ret, c.res, v.status, v.notFound, c.want, c.notFound)
		}
		if v.status == failed && v.reason == "" {
			t.Errorf("%s %s/%s: a failure without a reason", c.op, c.ret, c.res)
		}
	}
}

// The package doc's copy of the outcome tables is the tables.
func TestDocTables(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, l := range summary() {
		if !strings.Contains(doc, "//\t"+l+"\n") {
			t.Errorf("doc.go lacks the table line:\n%s", l)
		}
	}
	for i := 1; i <= 24; i++ {
		if !strings.Contains(doc, "Audit "+strconv.Itoa(i)+" (") {
			t.Errorf("doc.go does not answer audit finding %d", i)
		}
	}
}
