package main

import (
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/swiftpass"
	"github.com/posagent/posagent/gateways/swiftpass/swiftpasssim"
)

func init() {
	simulatedKinds[swiftpass.Kind] = simulated{
		handler: func(dir, notifyURL string, log *slog.Logger) (http.Handler, error) {
			o := swiftpasssim.DemoOptions()
			// The client's own CloseAfter: the simulator counts from its
			// receipt of the create, the till from the create's answer,
			// so the simulator-only margin this used to add is gone.
			o.CloseAfter = demoTiming.CloseAfter
			o.LedgerPath = filepath.Join(dir, "ledger.json")
			o.NotifyURL = notifyURL
			o.Logger = log
			return swiftpasssim.New(o)
		},
		client: func(baseURL, notifyURL, dir string, log *slog.Logger) (gateways.Gateway, error) {
			// The simulator's merchant and key (DemoOptions' defaults), as
			// a merchant would configure them; the pairing is wiring, so
			// it lives here and not in the simulator.
			so := swiftpasssim.DemoOptions().WithDefaults()
			o := swiftpass.Options{
				Endpoint:  baseURL + "/pay/gateway",
				MchID:     so.MchID,
				SignType:  swiftpass.SignType(so.SignType),
				Key:       so.Key,
				NotifyURL: notifyURL,
				Currency:  so.Currency,
				Simulated: true,
			}
			o.PollInterval = demoTiming.PollInterval
			o.QRTimeout = demoTiming.QRTimeout
			o.CloseAfter = demoTiming.CloseAfter
			o.CallTimeout = demoTiming.CallTimeout
			o.RetryBackoff = demoTiming.RetryBackoff
			o.RetryBackoffMax = demoTiming.RetryBackoffMax
			return swiftpass.New(o, gateways.Env{Logger: log})
		},
	}
}
