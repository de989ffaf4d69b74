package textwrap

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		cols int
		want []string
	}{
		{"empty", "", 10, []string{""}},
		{"fits", "hello world", 11, []string{"hello world"}},
		{"word wrap", "hello world", 10, []string{"hello", "world"}},
		{"collapse spaces", "a   b\tc", 10, []string{"a b c"}},
		{"long word", "abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"newline", "a\nb", 10, []string{"a", "b"}},
		{"blank line", "a\n\nb", 10, []string{"a", "", "b"}},
		{"cjk counts double", "谢谢惠顾欢迎再来", 6, []string{"谢谢惠", "顾欢迎", "再来"}},
		{"cjk odd column left empty", "谢谢惠顾", 5, []string{"谢谢", "惠顾"}},
		{"mixed", "Thank you 谢谢惠顾", 12, []string{"Thank you 谢", "谢惠顾"}},
		{"cjk then word", "金额 Amount", 8, []string{"金额", "Amount"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Lines(tt.in, tt.cols, EastAsian)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Lines(%q, %d) (-want +got):\n%s", tt.in, tt.cols, d)
			}
			for _, l := range got {
				if Width(l, EastAsian) > tt.cols {
					t.Errorf("line %q is wider than %d", l, tt.cols)
				}
			}
		})
	}
}

func TestPair(t *testing.T) {
	tests := []struct {
		label, value string
		cols         int
		want         []string
	}{
		{"Amount", "12.34", 16, []string{"Amount     12.34"}},
		{"金额", "12.34", 12, []string{"金额   12.34"}},
		{"Txn ID 交易单号", "4200001234567890123", 20, []string{"Txn ID 交易单号", " 4200001234567890123"}},
	}
	for _, tt := range tests {
		got := Pair(tt.label, tt.value, tt.cols, EastAsian)
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("Pair(%q, %q, %d) (-want +got):\n%s", tt.label, tt.value, tt.cols, d)
		}
	}
}
