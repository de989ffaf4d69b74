package faultmatrix_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/gateways/allinpay/allinpaysim"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/allpay/allpaysim"
	"github.com/posagent/posagent/gateways/hipopay"
	"github.com/posagent/posagent/gateways/hipopay/hipopaysim"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/mmsp/mmspsim"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/gateways/swiftpass"
	"github.com/posagent/posagent/gateways/swiftpass/swiftpasssim"
)

// The RSA keys of Allinpay and HipoPay are made once per test binary: key
// generation is the slow part of building a pair.
var (
	allinpayKeys allinpaysim.KeySet
	hipopayKeys  hipopaysim.KeySet
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faultmatrix-keys-")
	if err != nil {
		panic(err)
	}
	if allinpayKeys, err = allinpaysim.GenerateKeySet(dir + "/allinpay"); err == nil {
		hipopayKeys, err = hipopaysim.GenerateKeySet(dir + "/hipopay")
	}
	if err != nil {
		os.RemoveAll(dir)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// pair is one adapter and its simulator, over real HTTP. The pairing (the
// simulator's merchant and keys given to the adapter) lives in tests and
// in cmd/posagent, never in a simulator, which imports nothing of its
// adapter.
type pair struct {
	gw       gateways.Gateway
	notifier gateways.Notifier
	currency pos.Currency
	// script aims a Behaviour (a fault on some calls) at an order.
	script func(outTradeNo string, b sim.Behaviour)
	// behaviour is what the simulator's script holds for an order now
	// (a fault with Times left is a fault not yet served).
	behaviour func(outTradeNo string) sim.Behaviour
	// order is the simulator's ledger entry: the truth.
	order func(outTradeNo string) (sim.Order, bool)
	// notification is the simulator's signed notification of a paid
	// order, as it would POST it.
	notification func(outTradeNo string) (http.Header, []byte, error)
	// seed places an order outside the till (HipoPay's mini-program);
	// nil for gateways whose payments the till starts.
	seed func(outTradeNo string, amount pos.Money, b sim.Behaviour) error
}

// timings every pair shares: a call gives up after callTimeout (the "no
// answer" fault holds a request until then), polls and retries are fast.
const (
	callTimeout = time.Second
	hold        = 3 * time.Second
	poll        = 50 * time.Millisecond
	backoff     = 100 * time.Millisecond
	backoffMax  = 300 * time.Millisecond
)

// newPairFunc builds a pair whose adapter talks through client and whose
// simulator posts notifications to notifyURL.
type newPairFunc func(t testing.TB, notifyURL string, client *http.Client) pair

// gatewayNames are the gateways in the table's order.
var gatewayNames = []string{"mmsp", "swiftpass", "allinpay", "allpay", "hipopay"}

var newPairs = map[string]newPairFunc{
	"mmsp":      mmspPair,
	"swiftpass": swiftpassPair,
	"allinpay":  allinpayPair,
	"allpay":    allpayPair,
	"hipopay":   hipopayPair,
}

func serve(t testing.TB, h http.Handler, closeSim func() error) string {
	ts := httptest.NewServer(h)
	t.Cleanup(func() { ts.Close(); _ = closeSim() })
	return ts.URL
}

func mmspPair(t testing.TB, notifyURL string, client *http.Client) pair {
	so := mmspsim.DemoOptions()
	so.Rules = sim.Rules{ReverseAfter: 150 * time.Millisecond}
	so.NotifySchedule = []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond}
	so.Hold = hold
	srv, err := mmspsim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, srv, srv.Close)
	so = so.WithDefaults()
	c, err := mmsp.New(mmsp.Options{
		Endpoint: url, MerchantNo: so.MerchantNo, TerminalNo: so.TerminalNo, AgentNo: so.AgentNo, Key: so.Key,
		NotifyURL: notifyURL, QQMicropayCommand: so.QQMicropayCommand, SignSlashes: mmsp.SlashRule(so.SignSlashes),
		Simulated: true, CallTimeout: callTimeout, RefundSettle: time.Millisecond,
		Timing: mmsp.TimingOptions{PollInterval: poll, PayTimeout: 5 * time.Second, QRTimeout: 5 * time.Second, ReverseAfter: so.Rules.ReverseAfter},
	}, gateways.Env{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return pair{gw: c, notifier: c, currency: "CNY", script: srv.Script().SetOrder,
		behaviour: func(no string) sim.Behaviour { return srv.Script().Behaviour(no, -1) }, order: srv.Order,
		notification: func(no string) (http.Header, []byte, error) { return srv.Notification(no, sim.FaultNone) }}
}

func swiftpassPair(t testing.TB, notifyURL string, client *http.Client) pair {
	so := swiftpasssim.DemoOptions()
	so.SignType = string(swiftpass.MD5)
	so.CloseAfter = 100 * time.Millisecond
	so.NotifySchedule = []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond}
	srv, err := swiftpasssim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, srv, srv.Close)
	so = so.WithDefaults()
	c, err := swiftpass.New(swiftpass.Options{
		Endpoint: url + "/pay/gateway", MchID: so.MchID, SignType: swiftpass.MD5, Key: so.Key, NotifyURL: notifyURL,
		Currency: so.Currency, PollInterval: poll, QRTimeout: 3 * time.Second, CloseAfter: so.CloseAfter,
		CallTimeout: callTimeout, RetryBackoff: backoff, RetryBackoffMax: backoffMax, Simulated: true,
	}, gateways.Env{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return pair{gw: c, notifier: c, currency: swiftpass.DefaultCurrency, script: srv.Script().SetOrder,
		behaviour: func(no string) sim.Behaviour { return srv.Script().Behaviour(no, -1) }, order: srv.Order,
		notification: func(no string) (http.Header, []byte, error) { return srv.Notification(no, sim.FaultNone) }}
}

func allinpayPair(t testing.TB, notifyURL string, client *http.Client) pair {
	so := allinpaysim.Options{NotifyURL: notifyURL, MinQueryInterval: 40 * time.Millisecond, Hold: hold,
		WalletTimeout: 20 * time.Second, Minute: time.Second}
	if err := allinpayKeys.Load(&so); err != nil {
		t.Fatal(err)
	}
	srv, err := allinpaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, srv, srv.Close)
	if notifyURL == "" {
		notifyURL = "http://127.0.0.1:9/allinpay/notify" // mandatory on the wire; nobody listens
	}
	c, err := allinpay.New(allinpay.Options{
		Endpoint: url + "/gateway/pay/consumeTrans", AccessCode: allinpaysim.DefaultAccessCode, MchNo: allinpaysim.DefaultMchNo,
		Currency: allinpaysim.DefaultCurrency, MerchantKeyFile: allinpayKeys.MerchantKeyFile, PlatformKeyFile: allinpayKeys.PlatformPublicKeyFile,
		NotifyURL: notifyURL, PollInterval: poll, PayTimeout: 5 * time.Second, QRTimeout: 5 * time.Second,
		CallTimeout: callTimeout, RetryBackoff: backoff, RetryBackoffMax: backoffMax, Simulated: true,
	}, gateways.Env{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return pair{gw: c, notifier: c, currency: allinpaysim.DefaultCurrency, script: srv.Script().SetOrder,
		behaviour: func(no string) sim.Behaviour { return srv.Script().Behaviour(no, -1) }, order: srv.Order,
		notification: func(no string) (http.Header, []byte, error) { return srv.Notification(no, sim.FaultNone) }}
}

func allpayPair(t testing.TB, notifyURL string, client *http.Client) pair {
	so := allpaysim.DemoOptions()
	so.Rules = sim.Rules{MinQueryInterval: 15 * time.Millisecond}
	so.NotifySchedule = []time.Duration{0, 100 * time.Millisecond, 300 * time.Millisecond}
	so.Hold = hold
	so.PayableWindow = 3 * time.Second
	srv, err := allpaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, srv, srv.Close)
	if notifyURL == "" {
		notifyURL = "http://127.0.0.1:9/allpay/notify" // mandatory on the wire; nobody listens
	}
	so = so.WithDefaults()
	c, err := allpay.New(allpay.Options{
		Endpoint: url, MerID: so.MerID, AcqID: so.AcqID, Key: so.Key, SignType: so.SignType, BackURL: notifyURL,
		Currency: allpay.DefaultCurrency, PayableWindow: 3 * time.Second, QRTimeout: 2 * time.Second,
		PollInterval: poll, CallTimeout: callTimeout, RetryBackoff: backoff, RetryBackoffMax: backoffMax, Simulated: true,
	}, gateways.Env{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return pair{gw: c, notifier: c, currency: allpay.DefaultCurrency, script: srv.Script().SetOrder,
		behaviour: func(no string) sim.Behaviour { return srv.Script().Behaviour(no, -1) }, order: srv.Order,
		notification: func(no string) (http.Header, []byte, error) { return srv.Notification(no, sim.FaultNone) }}
}

func hipopayPair(t testing.TB, notifyURL string, client *http.Client) pair {
	so := hipopaysim.Options{NotifyURL: notifyURL, Hold: hold}
	if err := hipopayKeys.Load(&so); err != nil {
		t.Fatal(err)
	}
	srv, err := hipopaysim.New(so)
	if err != nil {
		t.Fatal(err)
	}
	url := serve(t, srv, func() error { srv.Close(); return nil })
	c, err := hipopay.New(hipopay.Options{
		Endpoint: url, MerchantNO: hipopaysim.DefaultMerchantNO, MerchantKeyFile: hipopayKeys.MerchantKeyFile,
		PlatformKeyFile: hipopayKeys.PlatformPublicKeyFile, PollInterval: poll, CallTimeout: callTimeout,
		RetryBackoff: backoff, RetryBackoffMax: backoffMax, Simulated: true,
	}, gateways.Env{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return pair{gw: c, notifier: c, currency: "HKD", script: srv.Script().SetOrder,
		behaviour: func(no string) sim.Behaviour { return srv.Script().Behaviour(no, -1) }, order: srv.Ledger().Get,
		notification: func(no string) (http.Header, []byte, error) { return srv.Notification(no, sim.FaultNone) },
		seed: func(no string, amount pos.Money, b sim.Behaviour) error {
			_, err := srv.Seed(hipopaysim.SeedOrder{OutTradeNo: no, Amount: amount, Behaviour: b})
			return err
		}}
}
