package display_test

import (
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
)

// allScreens is one of every screen a customer can see.
func allScreens() []display.Screen {
	m, _ := pos.NewMoney(1292, "CNY")
	return []display.Screen{
		{Kind: display.Idle},
		{Kind: display.ScanPrompt, Amount: m},
		{Kind: display.ShowQR, Amount: m, Wallet: pos.WeChatPay},
		{Kind: display.ShowQR, Amount: m},
		{Kind: display.Processing, Amount: m, State: pos.StateSubmitting},
		{Kind: display.Processing, Amount: m, State: pos.StateUserPaying},
		{Kind: display.Result, Amount: m, State: pos.StateSucceeded},
		{Kind: display.Result, Amount: m, State: pos.StateFailed, Message: "Payment failed: dial tcp 10.0.0.1:443: connection refused"},
		{Kind: display.Result, Amount: m, State: pos.StateReversed},
		{Kind: display.Rejected, Amount: m},
		{Kind: display.Rejected, Amount: m, Wallet: pos.UnionPay, Outcome: display.OutcomeWalletNotAccepted},
		{Kind: display.Rejected, Amount: m, Outcome: display.OutcomeWalletNotAccepted},
		{Kind: display.Refunded, Amount: m},
		{Kind: display.Rejected, Outcome: display.OutcomeTillUnavailable},
		{Kind: display.Withdrawn, Amount: m, Wallet: pos.UnionPay, State: pos.StateUserPaying},
	}
}

func hasHan(s string) bool {
	for _, r := range s {
		if r >= 0x4e00 && r <= 0x9fff {
			return true
		}
	}
	return false
}

func TestEveryPhraseInEveryLanguage(t *testing.T) {
	for _, s := range allScreens() {
		for _, l := range display.Langs {
			w := display.WordsFor(s, l)
			if w.Heading == "" || w.Message == "" || w.TimeLeft == "" || w.Rate == "" {
				t.Errorf("%s/%s/%s in %s: empty words %+v", s.Kind, s.State, s.Outcome, l, w)
			}
			if strings.Contains(w.Message, "%") || strings.Contains(w.Message, "dial tcp") {
				t.Errorf("%s in %s: message %q is not the customer's", s.Kind, l, w.Message)
			}
			if l != display.English && !hasHan(w.Heading+w.Message) {
				t.Errorf("%s in %s: %q / %q has no Chinese", s.Kind, l, w.Heading, w.Message)
			}
			if len(w.Short) > 20 || w.Short == "" {
				t.Errorf("%s: short line %q does not fit a 20-column pole display", s.Kind, w.Short)
			}
		}
		if hs, ht := display.WordsFor(s, display.SimplifiedChinese).Message, display.WordsFor(s, display.TraditionalChinese).Message; hs == ht && strings.ContainsAny(hs, "请这码认货") {
			t.Errorf("%s: Simplified and Traditional are both %q", s.Kind, hs)
		}
	}
}

func TestLanguagesPerWallet(t *testing.T) {
	got := display.LangsFor(display.DefaultLangs, "alipay_hk", nil)
	if len(got) != 2 || got[0] != display.English || got[1] != display.TraditionalChinese {
		t.Errorf("AlipayHK speaks %v, want en and zh-Hant", got)
	}
	if got := display.LangsFor(display.DefaultLangs, pos.WeChatPay, nil); got[1] != display.SimplifiedChinese {
		t.Errorf("WeChat Pay speaks %v, want en and zh-Hans", got)
	}
	over := map[pos.Wallet]display.Lang{pos.Alipay: display.TraditionalChinese}
	if got := display.LangsFor([]display.Lang{display.SimplifiedChinese}, pos.Alipay, over); len(got) != 1 || got[0] != display.TraditionalChinese {
		t.Errorf("Alipay with an override to Traditional speaks %v", got)
	}
	if _, err := display.ParseLangs([]string{"en", "zh-Hans", "zh-Hant"}); err == nil {
		t.Errorf("three languages accepted; two at most fit")
	}
	if _, err := display.ParseLangs([]string{"fr"}); err == nil {
		t.Errorf("an unknown language was accepted")
	}
	if l, err := display.ParseLangs([]string{"zh-HK", "en"}); err != nil || l[0] != display.TraditionalChinese {
		t.Errorf("zh-HK: %v %v", l, err)
	}
}

func TestRateEquivalent(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	r, err := display.ParseRate("HKD", "0.9213", at)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		minor int64
		cur   string
		want  string
	}{
		{1000, "HKD", "9.21"}, // 9.213
		{1005, "HKD", "9.26"}, // 9.2591 → 9.26
		{50, "HKD", "0.46"},   // 0.46065
		{888880, "HKD", "8189.25"},
	} {
		m, _ := pos.NewMoney(c.minor, c.cur)
		got, ok := r.Equivalent(m)
		if !ok || got.Decimal() != c.want || got.Currency != "CNY" {
			t.Errorf("%s at 0.9213 = %v %v, want CNY %s", m, got, ok, c.want)
		}
	}
	jpy, _ := display.ParseRate("JPY", "0.048", at)
	m, _ := pos.NewMoney(1000, "JPY") // ¥1000 (no minor unit)
	if got, _ := jpy.Equivalent(m); got.Decimal() != "48.00" {
		t.Errorf("JPY 1000 at 0.048 = %v, want CNY 48.00", got)
	}
	cny, _ := pos.NewMoney(100, "CNY")
	if _, ok := r.Equivalent(cny); ok {
		t.Errorf("a CNY amount got a HKD rate's equivalent")
	}
	for _, bad := range []string{"", "-1", "0", "1e3", "0.9.2", "abc"} {
		if _, err := display.ParseRate("HKD", bad, at); err == nil {
			t.Errorf("rate %q accepted", bad)
		}
	}
	if _, err := display.ParseRate("HKD", "0.92", time.Time{}); err == nil {
		t.Errorf("a rate without its time was accepted")
	}
	if r.Text() != "0.9213" {
		t.Errorf("Text %q", r.Text())
	}
}
