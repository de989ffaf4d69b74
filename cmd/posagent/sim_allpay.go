package main

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/allpay/allpaysim"
)

// demoPayableWindow is how long a demo AllPay QR order stays payable, on
// both sides: short, so a declined or cancelled order (which AllPay ends
// by itself, since VOID is for cards only) ends within the tour.
const demoPayableWindow = 5 * time.Second

func init() {
	simulatedKinds[allpay.Kind] = simulated{
		handler: func(dir, notifyURL string, log *slog.Logger) (http.Handler, error) {
			o := allpaysim.DemoOptions()
			o.LedgerPath = filepath.Join(dir, "ledger.json")
			o.NotifyURL = notifyURL
			o.Logger = log
			o.PayableWindow = demoPayableWindow
			return allpaysim.New(o)
		},
		client: func(baseURL, notifyURL, dir string, log *slog.Logger) (gateways.Gateway, error) {
			so := allpaysim.DemoOptions().WithDefaults()
			o := allpay.Options{Endpoint: baseURL, MerID: so.MerID, AcqID: so.AcqID, Key: so.Key, SignType: so.SignType,
				BackURL: notifyURL, Currency: allpay.DefaultCurrency, PayableWindow: demoPayableWindow, Simulated: true}
			o.PollInterval = demoTiming.PollInterval
			o.QRTimeout = demoTiming.QRTimeout
			o.CallTimeout = demoTiming.CallTimeout
			o.RetryBackoff = demoTiming.RetryBackoff
			o.RetryBackoffMax = demoTiming.RetryBackoffMax
			return allpay.New(o, gateways.Env{Logger: log})
		},
	}
}
