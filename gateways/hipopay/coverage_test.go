package hipopay

import (
	"regexp"
	"strings"
	"testing"

	"github.com/posagent/posagent/gateways/internal/specfile"
)

// section returns the spec text from the line start to the line end
// (exclusive), both matched as whole lines.
func section(t *testing.T, text, start, end string) string {
	t.Helper()
	i := strings.Index(text, "\n"+start+"\n")
	j := strings.Index(text[i+1:], "\n"+end)
	if i < 0 || j < 0 {
		t.Fatalf("hipopay-miniprogram.txt: no section %q … %q", start, end)
	}
	return text[i : i+1+j]
}

func codes(s, pattern string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`(?m)^(`+pattern+`) \|`).FindAllStringSubmatch(s, -1) {
		if m[1] != "Status Code" && m[1] != "Error Code" && m[1] != "code" {
			out = append(out, m[1])
		}
	}
	return out
}

// TestOutcomeTablesCoverSpec reads the spec from ../shared/specs and fails
// when a status, refund code or error code it lists has no row in the
// table that reads it.
func TestOutcomeTablesCoverSpec(t *testing.T) {
	text, err := specfile.Read("hipopay-miniprogram.txt")
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, table []row, listed []string, min int) {
		if len(listed) < min {
			t.Fatalf("%s: read only %d codes from the spec: %v", name, len(listed), listed)
		}
		for _, c := range listed {
			r, ok := lookup(table, c)
			if !ok {
				t.Errorf("%s: %s, listed by the spec, has no row", name, c)
			} else if r.section == "" {
				t.Errorf("%s: %s has no spec section", name, c)
			}
		}
	}
	pay := codes(section(t, text, "Payment Order Status", "Refund Status"), `[A-Z]+`)
	check("payment status (query)", paymentTable, pay, 5)
	check("payment status (notification)", notificationTable, pay, 5)
	check("refund status", refundStatusTable, codes(section(t, text, "Refund Status", "Refund Code"), `[A-Z]+`), 3)
	check("refund code", refundCodeTable, codes(text[strings.Index(text, "\nRefund Code\n"):], `[0-9]{4}`), 70)
	var errs []string
	for _, m := range regexp.MustCompile(`(?m)^([A-Z][A-Z_]+) \| [A-Z]`).FindAllStringSubmatch(text, -1) {
		if strings.Contains(m[1], "_") {
			errs = append(errs, m[1])
		}
	}
	check("error codes (refund)", refundRefusalTable, errs, 6)
}
