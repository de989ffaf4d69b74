package allpay

import (
	"regexp"
	"strings"
	"testing"

	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/internal/specfile"
)

// TestStatusMapping is the outcome tables, code by code, for every
// operation (the package doc's table).
func TestStatusMapping(t *testing.T) {
	const (
		S = gateways.StatusSucceeded
		P = gateways.StatusUserPaying
		F = gateways.StatusFailed
		U = gateways.StatusUnknown
		N = "notfound"
		R = "repeat"
	)
	type want struct {
		status gateways.Status
		flag   string
	}
	w := func(s gateways.Status, flag ...string) want {
		if len(flag) > 0 {
			return want{s, flag[0]}
		}
		return want{s, ""}
	}
	// INQY is given twice: inside the payable window, then after it.
	//              PURC        INQY in     INQY after   RFQY          REFD        VOID       notification
	table := map[string][7]want{
		"00": {w(P), w(S), w(S), w(S), w(S), w(S), w(S)},
		"04": {w(U), w(P), w(P), w(P), w(P), w(P), w(U)},
		"01": {w(F), w(P), w(F), w(F), w(F), w(F), w(U)},
		"61": {w(F), w(P), w(F), w(U), w(F), w(F), w(U)},
		"P3": {w(F), w(P), w(F), w(U), w(F), w(F), w(U)},
		"U1": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"U2": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"U3": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"U4": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"U5": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"U8": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"P1": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"P2": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"P4": {w(F), w(U), w(U), w(U), w(F), w(F), w(U)},
		"P5": {w(F), w(U), w(U), w(U), w(U), w(U), w(U)},
		"U6": {w(U, R), w(U), w(U), w(U), w(U, R), w(U, R), w(U)},
		"U7": {w(U), w(U, N), w(U, N), w(U, N), w(F), w(U, N), w(U)},
		"U9": {w(U), w(U), w(U), w(U), w(U), w(U), w(U)},
		"":   {w(U), w(U), w(U), w(U), w(U), w(U), w(U)},
		"99": {w(U), w(U), w(U), w(U), w(U), w(U), w(U)},
		"0":  {w(U), w(U), w(U), w(U), w(U), w(U), w(U)},
	}
	classes := [7]opClass{classPurchase, classInquiry, classInquiry, classRefundQuery, classRefund, classVoid, classNotification}
	inWindow := [7]bool{true, true, false, true, true, true, true}
	names := [7]string{"PURC", "INQY (in window)", "INQY (after window)", "RFQY", "REFD", "VOID", "notification"}
	for code, row := range table {
		for i, c := range classes {
			v := classify(c, code, inWindow[i])
			flag := ""
			if v.notFound {
				flag = N
			}
			if v.repeat {
				flag += R
			}
			if got := (want{v.status, flag}); got != row[i] {
				t.Errorf("%s RespCode %q = %s %s, want %s %s", names[i], code, got.status, got.flag, row[i].status, row[i].flag)
			}
		}
	}
}

// specCodes reads the RespCodes the spec's §6 table lists, from the shared
// specs folder beside the repository (CI checks shared/ out beside the
// clone).
func specCodes(t *testing.T) []string {
	t.Helper()
	text, err := specfile.Read("allpay-v5.txt")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(text, "\n6.RespCode")
	end := strings.Index(text, "\n7.APP mode")
	if start < 0 || end < start {
		t.Fatal("allpay-v5.txt: no §6 RespCode table between \"6.RespCode\" and \"7.APP mode\"")
	}
	re := regexp.MustCompile(`(?m)^([0-9A-Z]{2}) \S`)
	var codes []string
	for _, m := range re.FindAllStringSubmatch(text[start:end], -1) {
		codes = append(codes, m[1])
	}
	if len(codes) < 18 {
		t.Fatalf("read only %d codes from §6: %v", len(codes), codes)
	}
	return codes
}

// TestOutcomeTablesCoverSpec fails when a RespCode the spec lists has no
// row in some operation's outcome table, or a row has no spec section.
func TestOutcomeTablesCoverSpec(t *testing.T) {
	codes := specCodes(t)
	for cls, table := range tables {
		for _, code := range codes {
			found := false
			for _, r := range table {
				if r.code == code {
					found = true
					if !strings.Contains(r.section, "§") {
						t.Errorf("%s RespCode %s: row without a spec section", cls, code)
					}
				}
			}
			if !found {
				t.Errorf("%s: RespCode %s of §6 has no row in the outcome table", cls, code)
			}
		}
		for _, r := range table {
			if !contains(codes, r.code) {
				t.Errorf("%s: row for %q, which §6 does not list", cls, r.code)
			}
		}
	}
	if len(tables) != 6 {
		t.Errorf("%d outcome tables, want 6 (PURC, INQY, REFD, RFQY, VOID, notification)", len(tables))
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
