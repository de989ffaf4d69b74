package hipopaysim

import (
	"os"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways/hipopay"
	"github.com/posagent/posagent/gateways/sim"
)

// A demo's key set: private files 0600 in a 0700 directory, kept across
// restarts, and loadable by both sides.
func TestGenerateKeySet(t *testing.T) {
	dir := t.TempDir() + "/keys"
	ks, err := GenerateKeySet(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{ks.MerchantKeyFile, ks.MerchantPublicKeyFile, ks.PlatformKeyFile, ks.PlatformPublicKeyFile} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o", f, st.Mode().Perm())
		}
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("dir has mode %04o", st.Mode().Perm())
	}
	before, _ := os.ReadFile(ks.MerchantKeyFile)
	again, err := GenerateKeySet(dir)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(again.MerchantKeyFile)
	if string(before) != string(after) {
		t.Error("a complete key set was regenerated")
	}
	var o Options
	if err := ks.Load(&o); err != nil {
		t.Fatal(err)
	}
	if _, err := hipopay.LoadPrivateKey(ks.MerchantKeyFile); err != nil {
		t.Errorf("the adapter cannot load the merchant key: %v", err)
	}
	if _, err := New(o); err != nil {
		t.Fatal(err)
	}
}

func TestSeed(t *testing.T) {
	ks, err := GenerateKeySet(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var o Options
	if err := ks.Load(&o); err != nil {
		t.Fatal(err)
	}
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	hkd := func(m int64) pos.Money { return pos.Money{Minor: m, Currency: "HKD"} }
	for _, c := range []struct {
		no      string
		minor   int64
		created bool
		want    sim.OrderState
	}{
		{"A100", 100, false, sim.Success},
		{"A191", 191, false, sim.UserPaying},
		{"A193", 193, false, sim.PayError},
		{"A194", 194, false, sim.Success}, // no submit, so no lost answer: just paid
		{"C100", 100, true, sim.NotPay},
	} {
		got, err := s.Seed(SeedOrder{OutTradeNo: c.no, Amount: hkd(c.minor), Created: c.created})
		if err != nil || got.State != c.want || got.TransactionID == "" {
			t.Errorf("Seed(%s) = %+v, %v; want %s", c.no, got, err, c.want)
		}
		if f := s.Script().TakeFault(c.no, c.minor, sim.OpQuery); f != sim.FaultNone {
			t.Errorf("Seed(%s) left fault %s on queries", c.no, f)
		}
	}
	if _, err := s.Seed(SeedOrder{OutTradeNo: "A100", Amount: hkd(100)}); err == nil {
		t.Error("a duplicate out_trade_id was seeded")
	}
	if _, err := s.Seed(SeedOrder{OutTradeNo: "Z", Amount: pos.Money{}}); err == nil {
		t.Error("an order without an amount was seeded")
	}
	if wireStatus(sim.NotPay) != "INIT" || wireStatus(sim.Closed) != "EXPIRED" || wireStatus(sim.Refunded) != "PAID" {
		t.Error("wire statuses")
	}
}
