package allpay

import (
	"testing"

	"github.com/posagent/posagent/gateways"
)

// TestStatusMapping is the table of the package doc, code by code.
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
	//              PURC        INQY          RFQY          REFD        VOID
	table := map[string][5]want{
		"00": {w(P), w(S), w(S), w(S), w(S)},
		"04": {w(U), w(P), w(P), w(P), w(P)},
		"01": {w(F), w(F), w(F), w(F), w(F)},
		"61": {w(F), w(F), w(F), w(F), w(F)},
		"P3": {w(F), w(F), w(F), w(F), w(F)},
		"U1": {w(F), w(U), w(U), w(F), w(F)},
		"U2": {w(F), w(U), w(U), w(F), w(F)},
		"U3": {w(F), w(U), w(U), w(F), w(F)},
		"U4": {w(F), w(U), w(U), w(F), w(F)},
		"U5": {w(F), w(U), w(U), w(F), w(F)},
		"U8": {w(F), w(U), w(U), w(F), w(F)},
		"P1": {w(F), w(U), w(U), w(F), w(F)},
		"P2": {w(F), w(U), w(U), w(F), w(F)},
		"P4": {w(F), w(U), w(U), w(F), w(F)},
		"P5": {w(F), w(U), w(U), w(U), w(U)},
		"U6": {w(U, R), w(U), w(U), w(U, R), w(U, R)},
		"U7": {w(U), w(U, N), w(U, N), w(F), w(U, N)},
		"U9": {w(U), w(U), w(U), w(U), w(U)},
		"":   {w(U), w(U), w(U), w(U), w(U)},
		"99": {w(U), w(U), w(U), w(U), w(U)},
		"0":  {w(U), w(U), w(U), w(U), w(U)},
	}
	classes := [5]opClass{classPurchase, classInquiry, classRefundQuery, classRefund, classVoid}
	names := [5]string{"PURC", "INQY", "RFQY", "REFD", "VOID"}
	for code, row := range table {
		for i, c := range classes {
			v := classify(c, code)
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
