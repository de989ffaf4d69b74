package main

import (
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/mmsp/mmspsim"
)

func init() {
	simulatedKinds[mmsp.Kind] = simulated{
		handler: func(dir, notifyURL string, log *slog.Logger) (http.Handler, error) {
			o := mmspsim.DemoOptions()
			o.LedgerPath = filepath.Join(dir, "ledger.json")
			o.NotifyURL = notifyURL
			o.Logger = log
			return mmspsim.New(o)
		},
		client: func(baseURL, notifyURL, dir string, log *slog.Logger) (gateways.Gateway, error) {
			so := mmspsim.DemoOptions().WithDefaults()
			// The pairing lives here, not in the simulator, which imports
			// nothing of the adapter.
			o := mmsp.Options{
				Endpoint: baseURL, MerchantNo: so.MerchantNo, TerminalNo: so.TerminalNo, Key: so.Key,
				NotifyURL: notifyURL, QQMicropayCommand: so.QQMicropayCommand,
				SignSlashes: mmsp.SlashRule(so.SignSlashes), Simulated: true,
			}
			o.Timing = mmsp.TimingOptions{
				PollInterval: demoTiming.PollInterval,
				PayTimeout:   demoTiming.PayTimeout,
				QRTimeout:    demoTiming.QRTimeout,
				ReverseAfter: demoTiming.ReverseAfter,
			}
			o.CallTimeout = demoTiming.CallTimeout
			o.RefundSettle = time.Millisecond // the simulator's 受理成功 is final at once
			return mmsp.New(o, gateways.Env{Logger: log})
		},
	}
}
