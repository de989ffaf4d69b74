package allinpay

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/posagent/posagent"
)

func TestParseBill(t *testing.T) {
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, platformZone)
	sale := "20240101,6666666600003,Demo Store,T001,PA20240101,WXPAY_MICROPAY,,,,,2024-01-01 12:30:00,HKD,12.50,1.00,HKD,12.40,0.10,13.50,0,1,,"
	refund := `20240101,6666666600003,"Store, Central",T001,RF1,WXPAY_RETURN,,,,,2024-01-01 13:00:00,HKD,-2.5,,HKD,-2.50,,-2.50,,1.0000,PA20240101,partial`
	summary := "Summary,20240101,HKD,10.00,0.10,9.90,2,11.00,0"
	wantSale := BillRecord{
		Date: day, MchNo: "6666666600003", MerchantName: "Demo Store", TerminalNo: "T001", OrderNo: "PA20240101",
		TransType: "WXPAY_MICROPAY", Time: time.Date(2024, 1, 1, 12, 30, 0, 0, platformZone),
		Currency: "HKD", Amount: money(1250), Tips: money(100), SettlementCurrency: "HKD",
		SettlementAmount: money(1240), Fee: money(10), Total: money(1350), Discount: money(0), ExchangeRate: "1",
	}
	wantRefund := BillRecord{
		Date: day, MchNo: "6666666600003", MerchantName: "Store, Central", TerminalNo: "T001", OrderNo: "RF1",
		TransType: "WXPAY_RETURN", Time: time.Date(2024, 1, 1, 13, 0, 0, 0, platformZone),
		Currency: "HKD", Amount: money(-250), Tips: money(0), SettlementCurrency: "HKD",
		SettlementAmount: money(-250), Fee: money(0), Total: money(-250), Discount: money(0),
		ExchangeRate: "1.0000", OriOrderNo: "PA20240101", Remarks: "partial",
	}
	wantSummary := BillSummary{Label: "Summary", Date: day, SettlementCurrency: "HKD", PaymentAmount: money(1000),
		Fee: money(10), SettlementTotal: money(990), Count: 2, TransactionTotal: money(1100), Discount: money(0)}

	cases := []struct {
		name    string
		in      string
		want    Bill
		wantErr string
	}{
		{"details and summary, CRLF", sale + "\r\n" + refund + "\r\n" + summary + "\r\n",
			Bill{Records: []BillRecord{wantSale, wantRefund}, Summary: wantSummary}, ""},
		{"LF, BOM, blank lines", "\xef\xbb\xbf" + sale + "\n\n" + refund + "\n" + summary + "\n\n",
			Bill{Records: []BillRecord{wantSale, wantRefund}, Summary: wantSummary}, ""},
		{"no trailing newline", sale + "\n" + refund + "\n" + summary,
			Bill{Records: []BillRecord{wantSale, wantRefund}, Summary: wantSummary}, ""},
		{"a header line is skipped", strings.Repeat("h,", 21) + "h\n" + sale + "\n" + refund + "\n" + summary,
			Bill{Records: []BillRecord{wantSale, wantRefund}, Summary: wantSummary}, ""},
		{"summary only (no transactions)", "Summary,20240101,HKD,0,0,0,0,0,0\n",
			Bill{Summary: BillSummary{Label: "Summary", Date: day, SettlementCurrency: "HKD", PaymentAmount: money(0),
				Fee: money(0), SettlementTotal: money(0), TransactionTotal: money(0), Discount: money(0)}}, ""},
		{"empty", "", Bill{}, "no summary line"},
		{"summary missing", sale + "\n", Bill{}, "summary"},
		{"short detail line", "20240101,x\n" + summary, Bill{}, "line 1: 2 fields, want 22"},
		{"bad date", strings.Replace(sale, "20240101", "2024-01-01", 1) + "\n" + refund + "\n" + summary, Bill{}, "transaction date"},
		{"too many decimals", strings.Replace(sale, "12.50", "12.505", 1) + "\n" + summary, Bill{}, "payment amount"},
		{"amount not a number", strings.Replace(sale, "12.50", "12,50", 1) + "\n" + summary, Bill{}, "fields, want 22"},
		{"unknown currency", strings.Replace(sale, ",HKD,12.50", ",XXX,12.50", 1) + "\n" + summary, Bill{}, "transaction currency"},
		{"bad time", strings.Replace(sale, "2024-01-01 12:30:00", "12:30", 1) + "\n" + summary, Bill{}, "transaction time"},
		{"bad count", sale + "\n" + strings.Replace(summary, ",2,", ",two,", 1), Bill{}, "transaction count"},
		{"bad rate", strings.Replace(sale, ",0,1,,", ",0,1%,,", 1) + "\n" + summary, Bill{}, "exchange rate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseBill([]byte(c.in))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("ParseBill = %v, want an error containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("ParseBill (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBillCheck(t *testing.T) {
	b := Bill{Records: make([]BillRecord, 2), Summary: BillSummary{Count: 2}}
	if err := b.Check(); err != nil {
		t.Error(err)
	}
	b.Summary.Count = 3
	if err := b.Check(); err == nil {
		t.Error("a count mismatch passed Check")
	}
}

func TestParseAmount(t *testing.T) {
	for in, want := range map[string]int64{"12.34": 1234, "12.3": 1230, "12": 1200, "0.05": 5, "-1.5": -150, "": 0} {
		got, err := parseAmount(in, "HKD")
		if err != nil || got.Minor != want || got.Currency != "HKD" {
			t.Errorf("parseAmount(%q, HKD) = %v, %v; want %d", in, got, err, want)
		}
	}
	if got, err := parseAmount("1200", "JPY"); err != nil || got.Minor != 1200 {
		t.Errorf("parseAmount(1200, JPY) = %v, %v", got, err)
	}
	for _, in := range []string{"1.5", "1e3", "--1", "+1", ".5", "1.", " 1", "99999999999999999999"} {
		cur := pos.Currency("JPY")
		if in != "1.5" {
			cur = "HKD"
		}
		if got, err := parseAmount(in, cur); err == nil {
			t.Errorf("parseAmount(%q, %s) = %v, want an error", in, cur, got)
		}
	}
}

func money(minor int64) pos.Money { return pos.Money{Minor: minor, Currency: "HKD"} }
