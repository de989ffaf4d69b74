package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/store/sqlite"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	cfgPath := fs.String("config", "/etc/posagent/posagent.yaml", "configuration file (YAML)")
	check := fs.Bool("check", false, "validate the configuration, build every part, and exit")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *check {
		// The same check as `posagent config check`: nothing is opened,
		// created or called.
		return checkConfigFile(*cfgPath, stdout)
	}
	cfg, err := configs.Load(*cfgPath)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	log, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		return err
	}
	// The metrics read the journal and devices at scrape time; both are set
	// below, after the gateways whose calls the metrics measure.
	var (
		journalDB *sqlite.DB
		devices   deviceReport
	)
	m := newMetrics(&journalDB, &devices)
	gws := map[string]gateways.Gateway{}
	def := ""
	for _, gc := range cfg.Gateways {
		client := &http.Client{Transport: m.Transport(gc.Name, nil)}
		g, err := gateways.New(gc.Kind, gc.Decode, gateways.Env{Logger: log.With("gateway", gc.Name), HTTPClient: client, Dir: cfg.Dir})
		if err != nil {
			return &exitError{code: 2, err: fmt.Errorf("gateway %s: %w", gc.Name, err)}
		}
		gws[gc.Name] = g
		if gc.Default {
			def = gc.Name
		}
	}
	scanners, err := buildScanners(cfg, log)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	hub, err := scanner.NewHub(scanner.HubOptions{DedupeWindow: cfg.Payments.ScanDedupeWindow, Hold: cfg.Payments.ScanHold, Logger: log.With("component", "scanner")}, scanners...)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer hub.Close()
	receipts, err := buildReceipts(cfg, log)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	defer receipts.close()
	dispSetup, err := parseDisplay(cfg)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	parts, err := openCommonAt(cfg.StateDir, cfg.TokenFile, log)
	if err != nil {
		return err
	}
	defer parts.close()
	if fr := newForexRates(gws, log); fr != nil && dispSetup.web != nil {
		// The CNY equivalent of foreign-currency amounts, at the gateway's
		// reference rate (HipoPay's forex_rate), cached with its time.
		dispSetup.web.RateSource = fr
	}
	disp, web, err := dispSetup.start(os.Stderr, log)
	if err != nil {
		return err
	}
	if web != nil {
		defer web.Close()
	}
	journalDB = parts.journal
	devices = deviceReport{hub: hub}
	var spool *flows.Spool
	if receipts != nil {
		if spool, err = receipts.spool(parts.journal, log); err != nil {
			return err
		}
		devices.printer = spool
	}
	var notifyLn net.Listener
	if cfg.NotifyListen != "" {
		if notifyLn, err = net.Listen("tcp", cfg.NotifyListen); err != nil {
			return fmt.Errorf("notify_listen: %w", err)
		}
	}
	d := &daemon{
		log:            log,
		journal:        parts.journal,
		gateways:       gws,
		defaultGateway: def,
		scans:          hub,
		display:        disp,
		spool:          spool,
		devices:        devices,
		codeKey:        parts.codeKey,
		numberPrefix:   parts.numberPrefix,
		token:          parts.token,
		listen:         cfg.Listen,
		notifyListener: notifyLn,
		awaitCode:      cfg.Payments.AwaitCodeTimeout,
		metrics:        m,
		metricsOpen:    cfg.Metrics.Open,
		stateDir:       cfg.StateDir,
		api:            cfg.API,
		routes:         cfg.Routes,
		lanes:          cfg.Lanes,

		outboxAlertAfter: cfg.Outbox.AlertAfter,
		reconcileDailyAt: cfg.Reconcile.DailyAt,
		retention:        time.Duration(cfg.Journal.Retention),
	}
	if receipts != nil {
		if k, ok := receipts.printer.(printer.DrawerKicker); ok {
			d.drawer = k
			d.drawerOnSuccess = cfg.Receipt.OpenDrawer == "succeeded"
		}
	}
	return d.run(ctx, nil)
}
