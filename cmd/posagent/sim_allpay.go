package main

import (
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/allpay/allpaysim"
)

func init() {
	simulatedKinds[allpay.Kind] = simulated{
		handler: func(dir, notifyURL string, log *slog.Logger) (http.Handler, error) {
			o := allpaysim.DemoOptions()
			o.LedgerPath = filepath.Join(dir, "ledger.json")
			o.NotifyURL = notifyURL
			o.Logger = log
			return allpaysim.New(o)
		},
		client: func(baseURL, notifyURL, dir string, log *slog.Logger) (gateways.Gateway, error) {
			o := allpaysim.ClientOptions(allpaysim.DemoOptions(), baseURL, notifyURL)
			o.PollInterval = demoTiming.PollInterval
			o.QRTimeout = demoTiming.QRTimeout
			o.CallTimeout = demoTiming.CallTimeout
			o.RetryBackoff = demoTiming.RetryBackoff
			o.RetryBackoffMax = demoTiming.RetryBackoffMax
			return allpay.New(o, gateways.Env{Logger: log})
		},
	}
}
