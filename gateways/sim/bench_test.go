package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLedgerNewOrder shows that an order costs the same whatever the
// ledger holds: the ledger appends one line per change (and fsyncs it),
// where it used to rewrite every order. Compare ns/op across orders=N.
func BenchmarkLedgerNewOrder(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		b.Run(fmt.Sprintf("orders=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "ledger.json")
			prefill(b, path, n)
			l, err := OpenLedger(path)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := l.NewOrder(Order{OutTradeNo: fmt.Sprintf("B%08d", i), Amount: 100, Method: "micropay"}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// prefill writes n orders as the ledger's log would have them.
func prefill(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for i := 0; i < n; i++ {
		o := Order{OutTradeNo: fmt.Sprintf("P%08d", i), TransactionID: fmt.Sprintf("42%010d", i), Amount: 100, Currency: "CNY", Method: "micropay", State: Success}
		if err := enc.Encode(record{Seq: int64(i), Order: &o}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}
