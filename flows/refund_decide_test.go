package flows

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
)

// TestDecideRefundScripts runs the datadriven scripts in
// testdata/refund/*.txt, each a refund's life:
//
//	refund state=submitting                        a refund of 5.00 submitted at t=0
//	input refund_submitted status=succeeded rid=9  feed DecideRefund an answer
//	input refund_queried err=not_found at=5s       ... or a failed call, at a time
//	expect state=unknown query@5s                  check the decision
//	expect none                                    no change at all
//	expect reason~text                             the outcome contains text
//
//	input refund_queried ... out=PA2 outrefund=RF2 refundamount=100 alert=x mismatch=x resend
//	                                               what the answer says it is about
//	expect flag=mismatch resend@5s alert           flags, a resend owed
//
// Times are offsets from the submit. Timing is fixed for all scripts:
// first query after 5s, doubling to at most 40s. The refunded payment's
// order number is PA1.
func TestDecideRefundScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/refund/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	timing := RefundTiming{PollInterval: 5 * time.Second, MaxPollInterval: 40 * time.Second}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var (
				r pos.Refund
				d RefundDecision
			)
			sc := bufio.NewScanner(f)
			for n := 1; sc.Scan(); n++ {
				line := strings.TrimSpace(sc.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				fields := strings.Fields(line)
				args := map[string]string{}
				var flags []string
				for _, a := range fields[1:] {
					if k, v, ok := strings.Cut(a, "="); ok {
						args[k] = v
					} else {
						flags = append(flags, a)
					}
				}
				at := t0
				if s, ok := args["at"]; ok {
					dur, err := time.ParseDuration(s)
					if err != nil {
						t.Fatalf("%s:%d: bad at: %v", file, n, err)
					}
					at = t0.Add(dur)
				}
				switch fields[0] {
				case "refund":
					r = pos.Refund{ID: "ref_1", PaymentID: "pay_1", OutRefundNo: "RF1", Amount: pos.Money{Minor: 500, Currency: "CNY"},
						State: pos.RefundState(args["state"]), CreatedAt: t0, SubmittedAt: t0}
				case "input":
					in := RefundInput{Kind: refundInputKind(t, file, n, flags[0])}
					if s, ok := args["status"]; ok {
						in.Result.Status = parseStatus(t, s)
					}
					in.Result.Reason = strings.ReplaceAll(args["reason"], "_", " ")
					in.Result.Code = args["code"]
					in.Result.RefundID = args["rid"]
					if s, ok := args["err"]; ok {
						in.Err = pos.Errorf(kindNamed(t, s), "test", "simulated %s", s)
					}
					in.OutTradeNo = "PA1"
					in.Result.OutTradeNo = args["out"]
					in.Result.OutRefundNo = args["outrefund"]
					if s, ok := args["refundamount"]; ok {
						minor, _ := strconv.ParseInt(s, 10, 64)
						in.Result.RefundAmount = pos.Money{Minor: minor, Currency: "CNY"}
					}
					in.Result.Alert = strings.ReplaceAll(args["alert"], "_", " ")
					in.Result.Mismatch = strings.ReplaceAll(args["mismatch"], "_", " ")
					for _, f := range flags[1:] {
						if f != "resend" {
							t.Fatalf("%s:%d: unknown input flag %q", file, n, f)
						}
						in.Result.Resend = true
					}
					d = DecideRefund(r, in, at, timing)
					if d.To != "" {
						if !pos.CanTransitionRefund(r.State, d.To) {
							t.Fatalf("%s:%d: DecideRefund returned illegal %s -> %s", file, n, r.State, d.To)
						}
						r = d.Refund
					}
				case "expect":
					got := describeRefund(d, t0)
					for _, want := range fields[1:] {
						if k, v, ok := strings.Cut(want, "~"); ok && k == "reason" {
							if !strings.Contains(d.Reason, strings.ReplaceAll(v, "_", " ")) {
								t.Errorf("%s:%d: reason %q does not contain %q", file, n, d.Reason, v)
							}
							continue
						}
						if !strings.Contains(" "+got+" ", " "+want+" ") {
							t.Errorf("%s:%d: want %s, got %s", file, n, want, got)
						}
					}
				default:
					t.Fatalf("%s:%d: unknown directive %q", file, n, fields[0])
				}
			}
		})
	}
}

func describeRefund(d RefundDecision, t0 time.Time) string {
	var parts []string
	if d.To == "" {
		parts = append(parts, "none")
	} else {
		parts = append(parts, "state="+string(d.To))
	}
	if d.Refund.GatewayRefundID != "" {
		parts = append(parts, "rid="+d.Refund.GatewayRefundID)
	}
	if d.QueryAt.IsZero() {
		parts = append(parts, "query=none")
	} else {
		parts = append(parts, "query@"+secs(d.QueryAt.Sub(t0)))
	}
	if !d.ResendAt.IsZero() {
		parts = append(parts, "resend@"+secs(d.ResendAt.Sub(t0)))
	}
	if d.Flag != "" {
		parts = append(parts, "flag="+string(d.Flag))
	}
	if d.Refund.Alert != "" {
		parts = append(parts, "alert")
	}
	return strings.Join(parts, " ")
}

func refundInputKind(t *testing.T, file string, n int, s string) RefundInputKind {
	for k := RefundSubmitted; k <= RefundResent; k++ {
		if k.String() == s {
			return k
		}
	}
	t.Fatalf("%s:%d: unknown input %q", file, n, s)
	return 0
}
