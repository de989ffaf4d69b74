package main

import (
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/hipopay"
	"github.com/posagent/posagent/gateways/hipopay/hipopaysim"
)

// hipopayKeys is where the simulator keeps its key set, under its own
// directory (dir/sim-hipopay in the demo): both key pairs are generated
// there on first start, and the demo's adapter reads its halves from it.
func hipopayKeys(simDir string) (hipopaysim.KeySet, error) {
	return hipopaysim.GenerateKeySet(filepath.Join(simDir, "keys"))
}

func init() {
	simulatedKinds[hipopay.Kind] = simulated{
		handler: func(dir, notifyURL string, log *slog.Logger) (http.Handler, error) {
			ks, err := hipopayKeys(dir)
			if err != nil {
				return nil, err
			}
			o := hipopaysim.Options{LedgerPath: filepath.Join(dir, "ledger.json"), NotifyURL: notifyURL, Logger: log}
			if err := ks.Load(&o); err != nil {
				return nil, err
			}
			return hipopaysim.New(o)
		},
		client: func(baseURL, notifyURL, dir string, log *slog.Logger) (gateways.Gateway, error) {
			ks, err := hipopayKeys(filepath.Join(dir, "sim-"+hipopay.Kind))
			if err != nil {
				return nil, err
			}
			return hipopay.New(hipopay.Options{
				Endpoint:        baseURL,
				MerchantNO:      hipopaysim.DefaultMerchantNO,
				MerchantKeyFile: ks.MerchantKeyFile,
				PlatformKeyFile: ks.PlatformPublicKeyFile,
				PollInterval:    demoTiming.PollInterval,
				CallTimeout:     demoTiming.CallTimeout,
				RetryBackoff:    demoTiming.RetryBackoff,
				RetryBackoffMax: demoTiming.RetryBackoffMax,
				Simulated:       true,
			}, gateways.Env{Logger: log})
		},
	}
}
