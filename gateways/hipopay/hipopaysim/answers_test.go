package hipopaysim

import (
	"regexp"
	"strings"
	"testing"

	"github.com/posagent/posagent/gateways/internal/specfile"
	"github.com/posagent/posagent/gateways/sim"
)

// TestAnswersCoverSpec reads the spec and fails when a payment order
// status, refund status or Refund Code it lists is not an answer the
// simulator can give on the calls that carry it, or an answer has no
// section or no truth behind it.
func TestAnswersCoverSpec(t *testing.T) {
	text, err := specfile.Read("hipopay-miniprogram.txt")
	if err != nil {
		t.Fatal(err)
	}
	between := func(start, end string) string {
		i := strings.Index(text, "\n"+start+"\n")
		j := strings.Index(text[i+1:], "\n"+end)
		if i < 0 || j < 0 {
			t.Fatalf("no section %q … %q", start, end)
		}
		return text[i : i+1+j]
	}
	listed := func(s, pattern string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`(?m)^(`+pattern+`) \|`).FindAllStringSubmatch(s, -1) {
			if m[1] != "Status Code" && m[1] != "code" {
				out = append(out, m[1])
			}
		}
		return out
	}
	want := map[sim.Op][]string{sim.OpQuery: listed(between("Payment Order Status", "Refund Status"), `[A-Z]+`)}
	var refund []string
	for _, st := range listed(between("Refund Status", "Refund Code"), `[A-Z]+`) {
		if st != "FAIL" { // FAIL is given with its Refund Code
			refund = append(refund, st)
		}
	}
	for _, c := range listed(text[strings.Index(text, "\nRefund Code\n"):], `[0-9]{4}`) {
		refund = append(refund, failPrefix+c)
	}
	want[sim.OpRefund], want[sim.OpQueryRefund] = refund, refund
	if len(want[sim.OpQuery]) != 5 || len(refund) < 70 {
		t.Fatalf("read %d statuses and %d refund answers from the spec", len(want[sim.OpQuery]), len(refund))
	}
	for op, codes := range want {
		have := map[string]bool{}
		for _, a := range documented(op) {
			have[a.Code] = true
			if a.Section == "" || len(a.Truths) == 0 {
				t.Errorf("%s %s: no section or no truth", op, a.Code)
			}
		}
		for _, c := range codes {
			if !have[c] {
				t.Errorf("%s: %s, listed by the spec, is no answer of the simulator", op, c)
			}
		}
		if !have[sim.CodeNoAnswer] {
			t.Errorf("%s: no 'no answer'", op)
		}
	}
}
