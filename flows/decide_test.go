package flows

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// TestDecideScripts runs the datadriven scripts in testdata/decide/*.txt.
// Each script is a payment's life, one line at a time:
//
//	payment method=micropay state=submitting       start a payment at t=0
//	input queried status=user_paying at=5s          feed Decide an input
//	expect state=user_paying enqueue=query@10s      check the decision
//	expect retry@20s                                check a retry decision
//	expect none                                     no change at all
//	expect reason~customer                          reason contains text
//	expect flag=mismatch charged_late read_failed   flags of the decision
//
// Times are offsets from the payment's submit. Timing is fixed for all
// scripts: poll 5s (minimum 5s), pay timeout 60s, QR timeout 120s, reverse
// after 15s, close after 30s, call timeout 10s, retry backoff 5s doubling
// to 40s. The gateway can close every wallet's QR orders and there are no
// wallet rules, unless a script says otherwise:
//
//	gateway close=false                             the gateway has no Close
//	gateway closewallets=wechat,alipay              Close for these wallets only
//	gateway wallets=default                         DefaultWalletRules apply
//	payment ... wallet=qq                           the payment's wallet (default wechat)
//	payment ... answered=2s lastquery=28s read_failed=true
//	                                                when the submit was answered, the last query ended
//	input queried ... out=PA2 amount=100 mismatch=x alert=x notification resend
//	                                                what the answer says it is about
func TestDecideScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/decide/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	timing := gateways.Timing{
		PollInterval: 5 * time.Second, MinPollInterval: 5 * time.Second,
		PayTimeout: 60 * time.Second, QRTimeout: 120 * time.Second,
		ReverseAfter: 15 * time.Second, CloseAfter: 30 * time.Second,
		CallTimeout:  10 * time.Second,
		RetryBackoff: 5 * time.Second, RetryBackoffMax: 40 * time.Second,
	}
	basePolicy := Policy{Timing: timing, Caps: gateways.Capabilities{Close: true, Reverse: true}, Wallets: WalletRules{}}
	t0 := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			var p pos.Payment
			var d Decision
			// gateway lines shape the policy of the next payment only.
			pol, next := basePolicy, basePolicy
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
					} else if k, v, ok := strings.Cut(a, "~"); ok {
						args[k+"~"] = v
					} else {
						flags = append(flags, a)
					}
				}
				at := func() time.Time {
					if s, ok := args["at"]; ok {
						dur, err := time.ParseDuration(s)
						if err != nil {
							t.Fatalf("%s:%d: bad at: %v", file, n, err)
						}
						return t0.Add(dur)
					}
					return t0
				}
				switch fields[0] {
				case "gateway":
					if v, ok := args["close"]; ok {
						next.Caps.Close = v == "true"
					}
					if v, ok := args["closewallets"]; ok {
						next.Caps.CloseWallets = nil
						for _, w := range strings.Split(v, ",") {
							next.Caps.CloseWallets = append(next.Caps.CloseWallets, pos.Wallet(w))
						}
					}
					if args["wallets"] == "default" {
						next.Wallets = DefaultWalletRules()
					}
				case "payment":
					pol, next = next, basePolicy
					method := pos.Method(args["method"])
					p = pos.Payment{ID: "pay_1", OutTradeNo: "PA1", Gateway: "g", Method: method,
						Amount: pos.Money{Minor: 1292, Currency: "CNY"}, State: pos.State(args["state"]),
						SubmittedAt: t0, CreatedAt: t0}
					p.Wallet = pos.WeChatPay
					if w, ok := args["wallet"]; ok {
						p.Wallet = pos.Wallet(w)
					}
					p.Deadline = t0.Add(pol.payTimeout(p.Wallet))
					if method == pos.MerchantQR {
						p.Deadline = t0.Add(timing.QRTimeout)
					}
					if args["read_failed"] == "true" {
						p.ReadFailed = true
					}
					if s, ok := args["lastquery"]; ok {
						dur, err := time.ParseDuration(s)
						if err != nil {
							t.Fatalf("%s:%d: bad lastquery: %v", file, n, err)
						}
						p.LastQueryAt = t0.Add(dur)
					}
					if s, ok := args["answered"]; ok {
						dur, err := time.ParseDuration(s)
						if err != nil {
							t.Fatalf("%s:%d: bad answered: %v", file, n, err)
						}
						p.AnsweredAt = t0.Add(dur)
					}
					if args["cancel"] == "true" {
						p.CancelRequested = true
					}
				case "input":
					in := Input{Kind: inputKind(t, file, n, flags[0])}
					if s, ok := args["status"]; ok {
						in.Result.Status = parseStatus(t, s)
					}
					in.Result.Reason = strings.ReplaceAll(args["reason"], "_", " ")
					in.Result.Code = args["code"]
					in.Result.TransactionID = args["txn"]
					if s, ok := args["err"]; ok {
						in.Err = pos.Errorf(kindNamed(t, s), "test", "simulated %s", s)
					}
					if s, ok := args["attempts"]; ok {
						in.Attempts, _ = strconv.Atoi(s)
					}
					in.Result.OutTradeNo = args["out"]
					if s, ok := args["amount"]; ok {
						minor, _ := strconv.ParseInt(s, 10, 64)
						in.Result.Amount = pos.Money{Minor: minor, Currency: "CNY"}
					}
					in.Result.Mismatch = strings.ReplaceAll(args["mismatch"], "_", " ")
					in.Result.Alert = strings.ReplaceAll(args["alert"], "_", " ")
					for _, f := range flags[1:] {
						switch f {
						case "notification":
							in.Notification = true
						case "resend":
							in.Result.Resend = true
						default:
							t.Fatalf("%s:%d: unknown input flag %q", file, n, f)
						}
					}
					d = Decide(p, in, at(), pol)
					if d.To != "" {
						if !pos.CanTransition(p.State, d.To) && !(d.Flag != "" && d.To == p.State) {
							t.Fatalf("%s:%d: Decide returned illegal %s -> %s", file, n, p.State, d.To)
						}
						p = d.Payment
					}
				case "expect":
					got := describe(d, t0)
					for _, want := range fields[1:] {
						if k, v, ok := strings.Cut(want, "~"); ok && k == "reason" {
							if !strings.Contains(d.Reason+" | "+d.Payment.Reason, strings.ReplaceAll(v, "_", " ")) {
								t.Errorf("%s:%d: reason %q / %q does not contain %q", file, n, d.Reason, d.Payment.Reason, v)
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

// describe renders a decision as the words the scripts use.
func describe(d Decision, t0 time.Time) string {
	var parts []string
	switch {
	case d.Retry:
		parts = append(parts, "retry@"+secs(d.RetryAt.Sub(t0)))
	case d.To == "":
		parts = append(parts, "none")
	default:
		parts = append(parts, "state="+string(d.To))
	}
	if d.Payment.CancelRequested {
		parts = append(parts, "cancel_requested")
	}
	if d.Payment.TransactionID != "" {
		parts = append(parts, "txn="+d.Payment.TransactionID)
	}
	if d.Flag != "" {
		parts = append(parts, "flag="+string(d.Flag))
	}
	if d.Payment.ChargedLate {
		parts = append(parts, "charged_late")
	}
	if d.Payment.ReadFailed {
		parts = append(parts, "read_failed")
	}
	if d.Payment.Alert != "" {
		parts = append(parts, "alert")
	}
	var ops []string
	for _, o := range d.Enqueue {
		ops = append(ops, string(o.Kind)+"@"+secs(o.NotBefore.Sub(t0)))
	}
	if len(ops) > 0 {
		parts = append(parts, "enqueue="+strings.Join(ops, ","))
	} else {
		parts = append(parts, "enqueue=none")
	}
	return strings.Join(parts, " ")
}

func inputKind(t *testing.T, file string, n int, s string) InputKind {
	for k := Submitted; k <= CodeTimeout; k++ {
		if k.String() == s {
			return k
		}
	}
	t.Fatalf("%s:%d: unknown input %q", file, n, s)
	return 0
}

func parseStatus(t *testing.T, s string) gateways.Status {
	for _, st := range []gateways.Status{gateways.StatusUnknown, gateways.StatusSucceeded, gateways.StatusUserPaying, gateways.StatusFailed} {
		if st.String() == s {
			return st
		}
	}
	t.Fatalf("unknown status %q", s)
	return 0
}

func kindNamed(t *testing.T, s string) pos.Kind {
	for k := pos.Other; k <= pos.Unauthorized; k++ {
		if k.String() == s {
			return k
		}
	}
	t.Fatalf("unknown kind %q", s)
	return 0
}

func secs(d time.Duration) string { return fmt.Sprintf("%ds", int(d/time.Second)) }
