package configs

import (
	"strings"
	"testing"
	"time"
)

// journal.retention: days or a duration, 400 days by default, and never
// shorter than a refund may need its payment.
func TestJournalRetention(t *testing.T) {
	const base = "gateways: [{name: g, kind: mmsp}]\n"
	for _, tc := range []struct {
		yaml string
		want time.Duration
		err  string
	}{
		{yaml: "", want: 400 * 24 * time.Hour},
		{yaml: "journal: {retention: 500d}", want: 500 * 24 * time.Hour},
		{yaml: "journal: {retention: 9600h}", want: 400 * 24 * time.Hour},
		{yaml: "journal: {retention: 366d}", want: 366 * 24 * time.Hour},
		{yaml: "journal: {retention: 30d}", err: "journal.retention: 30d is shorter than the 366d a payment must be kept (a refund may be asked for up to a year after it); give at least 366d"},
		{yaml: "journal: {retention: 1h}", err: "journal.retention: 1h0m0s is shorter"},
		{yaml: "journal:\n  retention: ten days", err: `line 3: "ten days" is not a number of days like 400d`},
		{yaml: "journal: {retention: -5d}", err: `"-5d" is not a number of days`},
	} {
		c, err := Parse([]byte(base + tc.yaml))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want one containing %q", tc.yaml, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.yaml, err)
			continue
		}
		if got := time.Duration(c.Journal.Retention); got != tc.want {
			t.Errorf("%q: retention %v, want %v", tc.yaml, got, tc.want)
		}
	}
}
