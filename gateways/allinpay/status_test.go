package allinpay

import (
	"testing"

	"github.com/posagent/posagent/gateways"
)

// Spec §1.7: returnCode first, then resultCode; 0000 success, P000 and 9997
// processing, other codes failures, except where failure would be unsafe.
func TestClassify(t *testing.T) {
	const (
		ok      = gateways.StatusSucceeded
		paying  = gateways.StatusUserPaying
		failed  = gateways.StatusFailed
		unknown = gateways.StatusUnknown
	)
	cases := []struct {
		name       string
		c          opClass
		ret, res   string
		want       gateways.Status
		wantCode   string
		wantAbsent bool // notFound
	}{
		{"paid", classPay, "0000", "0000", ok, "0000", false},
		{"processing", classPay, "0000", "P000", paying, "P000", false},
		{"not confirmed", classPay, "0000", "9997", paying, "9997", false},
		{"declined at risk", classPay, "0000", "0008", failed, "0008", false},
		{"bad auth code", classPay, "0000", "0078", failed, "0078", false},
		{"over the daily limit", classPay, "0000", "3004", failed, "3004", false},
		{"request refused", classPay, "0012", "", failed, "0012", false},
		{"duplicate order is not a failure", classPay, "0000", "0022", unknown, "0022", false},
		{"already paid is not a failure", classPay, "0000", "0074", unknown, "0074", false},
		{"unknown mistake is unknown", classPay, "0000", "9999", unknown, "9999", false},
		{"no business result", classPay, "0000", "", unknown, "", false},
		{"query paid", classQuery, "0000", "0000", ok, "0000", false},
		{"query refused says nothing", classQuery, "0012", "", unknown, "0012", false},
		{"query busy says nothing", classQuery, "0000", "9996", unknown, "9996", false},
		{"query not found", classQuery, "0000", "0007", unknown, "0007", true},
		{"query closed order", classQuery, "0000", "0039", failed, "0039", false},
		{"query failed payment", classQuery, "0000", "9998", failed, "9998", false},
		{"void done", classVoid, "0000", "0000", ok, "0000", false},
		{"void repeated", classVoid, "0000", "0029", ok, "0029", false},
		{"void in progress", classVoid, "0000", "0033", paying, "0033", false},
		{"void of unknown order", classVoid, "0000", "0025", failed, "0025", true},
		{"close done", classClose, "0000", "0000", ok, "0000", false},
		{"close repeated", classClose, "0000", "0039", ok, "0039", false},
		{"close of paid order", classClose, "0000", "0038", failed, "0038", false},
		{"refund in progress", classRefund, "0000", "0034", paying, "0034", false},
		{"refund number reused", classRefund, "0000", "0022", unknown, "0022", false},
		{"refund over", classRefund, "0000", "0027", failed, "0027", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := classify(c.c, response{ReturnCode: c.ret, ResultCode: c.res, ReturnMsg: "rm", ResultMsg: "msg"})
			if v.status != c.want || v.code != c.wantCode || v.notFound != c.wantAbsent {
				t.Errorf("classify = %+v, want status %s code %q notFound %v", v, c.want, c.wantCode, c.wantAbsent)
			}
			if v.status == failed && v.reason == "" {
				t.Error("a failure without a reason")
			}
		})
	}
}
