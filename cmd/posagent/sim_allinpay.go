package main

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allinpay"
	"github.com/posagent/posagent/gateways/allinpay/allinpaysim"
)

// allinpayKeys is where the simulator and the demo's adapter find the key
// pairs generated for them (nothing is committed): under the simulator's
// directory in the state directory.
func allinpayKeys(simDir string) string { return filepath.Join(simDir, "keys") }

func init() {
	simulatedKinds[allinpay.Kind] = simulated{
		handler: func(dir, notifyURL string, log *slog.Logger) (http.Handler, error) {
			ks, err := allinpaysim.GenerateKeySet(allinpayKeys(dir))
			if err != nil {
				return nil, err
			}
			o := allinpaysim.Options{
				LedgerPath:       filepath.Join(dir, "ledger.json"),
				NotifyURL:        notifyURL,
				MinQueryInterval: demoTiming.PollInterval * 9 / 10,
				// A micropay never confirmed ends when the wallet gives
				// up, after the till's pay timeout: the till's reverse
				// (a void, which Allinpay offers only for paid orders)
				// waits for that, and the payment ends reversed.
				WalletTimeout: demoTiming.PayTimeout + 2*time.Second,
				// expireTime's minute is the demo's QR timeout: a QR
				// order of a wallet that cannot be closed expires with it.
				Minute: demoTiming.QRTimeout,
				Logger: log,
			}
			if err := ks.Load(&o); err != nil {
				return nil, err
			}
			return allinpaysim.New(o)
		},
		client: func(baseURL, notifyURL, dir string, log *slog.Logger) (gateways.Gateway, error) {
			ks, err := allinpaysim.GenerateKeySet(allinpayKeys(filepath.Join(dir, "sim-"+allinpay.Kind)))
			if err != nil {
				return nil, err
			}
			// The pairing of adapter and simulator lives here, not in the
			// simulator, which imports nothing of the adapter.
			o := allinpay.Options{
				Endpoint:        baseURL + "/gateway/pay/consumeTrans",
				AccessCode:      allinpaysim.DefaultAccessCode,
				MchNo:           allinpaysim.DefaultMchNo,
				Currency:        allinpaysim.DefaultCurrency,
				MerchantKeyFile: ks.MerchantKeyFile,
				PlatformKeyFile: ks.PlatformPublicKeyFile,
				NotifyURL:       notifyURL,
				Simulated:       true,
			}
			o.PollInterval = demoTiming.PollInterval
			o.PayTimeout = demoTiming.PayTimeout
			o.QRTimeout = demoTiming.QRTimeout
			o.CallTimeout = demoTiming.CallTimeout
			o.RetryBackoff = demoTiming.RetryBackoff
			o.RetryBackoffMax = demoTiming.RetryBackoffMax
			return allinpay.New(o, gateways.Env{Logger: log})
		},
	}
}
