package pos_test

import (
	"testing"

	"github.com/posagent/posagent"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in, cur string
		want    int64
		err     bool
	}{
		{"12.34", "CNY", 1234, false},
		{"12.3", "CNY", 1230, false},
		{"12", "CNY", 1200, false},
		{"0.01", "CNY", 1, false},
		{"12.345", "CNY", 0, true}, // more decimals than the currency has
		{"1500", "JPY", 1500, false},
		{"1500.5", "JPY", 0, true}, // JPY has no minor unit
		{"1500.", "JPY", 0, true},
		{"100", "KRW", 100, false},
		{"9.99", "HKD", 999, false},
		{"9.99", "USD", 999, false},
		{"-1.00", "CNY", 0, true},
		{"+1.00", "CNY", 0, true},
		{"1e3", "CNY", 0, true},
		{"", "CNY", 0, true},
		{".5", "CNY", 0, true},
		{"0", "CNY", 0, true}, // zero is not a payment
		{"0.00", "CNY", 0, true},
		{"1.00", "XYZ", 0, true}, // unknown currency
		{"1.00", "cny", 0, true}, // codes are upper case
		{"１２.00", "CNY", 0, true},
		{"9999999999999.99", "CNY", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in+"_"+tt.cur, func(t *testing.T) {
			m, err := pos.ParseMoney(tt.in, tt.cur)
			if tt.err {
				if err == nil {
					t.Fatalf("ParseMoney(%q, %s) = %v, want error", tt.in, tt.cur, m)
				}
				if !pos.Match(pos.Invalid, err) {
					t.Fatalf("error kind = %v, want invalid: %v", pos.KindOf(err), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMoney(%q, %s): %v", tt.in, tt.cur, err)
			}
			if m.Minor != tt.want || string(m.Currency) != tt.cur {
				t.Fatalf("ParseMoney(%q, %s) = %+v, want %d", tt.in, tt.cur, m, tt.want)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		minor int64
		cur   string
		want  string
	}{
		{1234, "CNY", "12.34 CNY"},
		{5, "CNY", "0.05 CNY"},
		{100, "HKD", "1.00 HKD"},
		{1500, "JPY", "1500 JPY"},
		{7, "KRW", "7 KRW"},
	}
	for _, tt := range tests {
		m, err := pos.NewMoney(tt.minor, tt.cur)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.String(); got != tt.want {
			t.Errorf("%d %s: got %q, want %q", tt.minor, tt.cur, got, tt.want)
		}
		// Formatting and parsing agree.
		back, err := pos.ParseMoney(m.Decimal(), tt.cur)
		if err != nil || back != m {
			t.Errorf("round trip of %v: %v, %v", m, back, err)
		}
	}
}

func TestNewMoneyRejects(t *testing.T) {
	for _, minor := range []int64{0, -1, pos.MaxMinor + 1} {
		if _, err := pos.NewMoney(minor, "CNY"); !pos.Match(pos.Invalid, err) {
			t.Errorf("NewMoney(%d) error = %v, want invalid", minor, err)
		}
	}
}

func TestExponents(t *testing.T) {
	for cur, want := range map[string]int{"CNY": 2, "HKD": 2, "USD": 2, "JPY": 0, "KRW": 0} {
		c, err := pos.ParseCurrency(cur)
		if err != nil {
			t.Fatal(err)
		}
		if c.Exponent() != want {
			t.Errorf("%s exponent = %d, want %d", cur, c.Exponent(), want)
		}
	}
}
