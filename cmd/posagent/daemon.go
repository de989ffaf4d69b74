package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/internal/metrics"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
)

// daemon is the running product, whatever built its parts (demo or serve).
type daemon struct {
	log            *slog.Logger
	journal        store.Journal
	gateways       map[string]gateways.Gateway
	defaultGateway string
	scans          flows.ScanSource
	display        display.Display
	// spool prints receipts from the journal's print queue; nil: no
	// printer.
	spool   *flows.Spool
	devices localapi.DeviceLister
	codeKey []byte
	// numberPrefix is this install's order-number prefix; walletRules the
	// wallet table (nil: flows.DefaultWalletRules).
	numberPrefix string
	walletRules  flows.WalletRules
	token        string
	listen       string
	// notifyListener, when set, receives acquirers' notifications.
	notifyListener net.Listener
	awaitCode      time.Duration
	tick           time.Duration // bounds the runners' waits; 0: wait for what falls due next
	// api is the API's socket and limits; routes and lanes come from the
	// config (empty in the demo).
	api    configs.API
	routes []configs.Route
	lanes  []configs.Lane
	// drawer opens the cash drawer (the printer's, if it has one);
	// drawerOnSuccess kicks it when a payment succeeds.
	drawer          printer.DrawerKicker
	drawerOnSuccess bool
	// metrics is served at /metrics on the API's listeners, behind the
	// token unless metricsOpen.
	metrics     *metrics.Metrics
	metricsOpen bool
	// stateDir holds the journal: new payments are refused while its file
	// system is nearly full ("" checks nothing).
	stateDir string
	// outboxAlertAfter flags outbox items owed longer (0: the default).
	outboxAlertAfter time.Duration
	// reconcileDailyAt is reconcile.daily_at ("HH:MM", local; "" none).
	reconcileDailyAt string
	// retention is journal.retention (0: configs.DefaultRetention).
	retention time.Duration
}

// run serves the local API and drives payments until ctx ends. ready is
// called with the API's address once it accepts connections.
func (d *daemon) run(ctx context.Context, ready func(addr string, runner *flows.Runner)) error {
	// A nil *Spool must reach the runner and the API as a nil interface.
	var (
		sink      flows.ReceiptSink
		receipts  localapi.Receipts
		summaries localapi.Summaries
	)
	if d.spool != nil {
		sink, receipts, summaries = d.spool, d.spool, d.spool
		if d.drawer != nil && d.drawerOnSuccess {
			sink = drawerSink{Spool: d.spool, kick: d.drawer, log: d.log}
		}
	}
	laneOf, laneNames := lanesOf(d.lanes)
	runner, err := flows.NewRunner(flows.Options{
		Journal:          d.journal,
		Gateways:         d.gateways,
		DefaultGateway:   d.defaultGateway,
		Scans:            d.scans,
		Display:          d.display,
		Receipts:         sink,
		CodeKey:          d.codeKey,
		Logger:           d.log,
		AwaitCodeTimeout: d.awaitCode,
		Tick:             d.tick,
		Route:            routeOf(d.routes),
		Lanes:            laneNames,
		LaneOf:           laneOf,
		WalletRules:      d.walletRules,
		NumberPrefix:     d.numberPrefix,
	})
	if err != nil {
		return err
	}
	// Refunds need a journal that keeps them (the SQLite one does); a nil
	// *RefundRunner must reach the API as a nil interface.
	var (
		refunder *flows.RefundRunner
		refunds  localapi.Refunds
	)
	if rj, ok := d.journal.(flows.RefundJournal); ok {
		ro := flows.RefundOptions{Journal: rj, Gateways: d.gateways, Display: d.display, Logger: d.log, Tick: d.tick, NumberPrefix: d.numberPrefix}
		if d.spool != nil {
			ro.Receipts = d.spool
		}
		if refunder, err = flows.NewRefundRunner(ro); err != nil {
			return err
		}
		refunds = refunder
	}
	ao := localapi.Options{
		Payments:   runner,
		Refunds:    refunds,
		Token:      pos.Secret(d.token),
		Devices:    d.devices,
		Receipts:   receipts,
		Summaries:  summaries,
		Logger:     d.log,
		Changed:    runner.Changed,
		CreateWait: d.api.CreateWait,
		RateLimit:  d.api.RateLimit,
		RateBurst:  d.api.RateBurst,
		Ready: func(ctx context.Context) error {
			if _, err := d.journal.Recent(ctx, 1); err != nil {
				return fmt.Errorf("journal: %w", err)
			}
			if !runner.Recovered() {
				return errors.New("recovery of pending payments is not done yet")
			}
			if len(d.gateways) == 0 {
				return errors.New("no gateway is configured")
			}
			return nil
		},
	}
	if k, ok := d.journal.(store.Idempotency); ok {
		ao.Keys = k
	}
	// The operator's outbox, where the journal lists it (the SQLite one).
	outbox, err := d.outbox(runner, refunder)
	if err != nil {
		return err
	}
	var (
		daily *flows.DailyReconcile
		rc    localapi.Reconciler
		ob    localapi.Outboxer
	)
	if len(d.gateways) > 0 {
		rec, err := d.reconciler()
		if err != nil {
			return err
		}
		rc = rec
		if daily, err = d.dailyReconcile(rec); err != nil {
			return err
		}
	}
	if outbox != nil {
		ob = outbox // a nil *flows.Outbox must reach apiExtra as a nil interface
	}
	ao.Extra = apiExtra(runner, ob, rc)
	if d.metrics != nil {
		d.metrics.SetOperator(operatorStats(outbox, d.journal))
	}
	// The support page (/support), behind its own login with the token.
	ao.Support = supportOptions(d.journal, outbox, d.spool, d.display)
	if l, ok := d.journal.(store.PaymentLister); ok {
		ao.Lister = l
	}
	if f, ok := d.journal.(store.EventFeed); ok {
		ao.Feed = f
	}
	if d.drawer != nil {
		ao.Drawer = drawerOpener{d.drawer}
	}
	var sockLn net.Listener
	if d.api.Socket != "" {
		peers, gid, err := socketPeers(d.api)
		if err != nil {
			return err
		}
		ao.Peers = peers
		mode, _ := strconv.ParseUint(d.api.SocketMode, 8, 32)
		if sockLn, err = localapi.ListenUnix(d.api.Socket, os.FileMode(mode), gid); err != nil {
			return fmt.Errorf("local API socket: %w", err)
		}
		defer os.Remove(d.api.Socket)
	}
	api, err := localapi.New(ao)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", d.listen)
	if err != nil {
		return fmt.Errorf("local API: %w", err)
	}
	handler := withMetrics(api, d.metrics, d.token, d.metricsOpen)
	if d.stateDir != "" {
		handler = withDiskGuard(handler, d.stateDir, minFreeJournal, freeBytes, d.display, d.log)
	}
	srv, _ := localapi.NewHTTPServer(handler, localapi.ServerOptions{MaxConns: d.api.MaxConns})
	srv.ErrorLog = slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 4) // one per goroutine that may fail
	wg.Go(func() {
		if err := runner.Run(ctx); err != nil {
			errc <- fmt.Errorf("payment runner: %w", err)
		}
		cancel()
	})
	if d.spool != nil {
		wg.Go(func() { _ = d.spool.Run(ctx) })
	}
	if outbox != nil {
		wg.Go(func() { outbox.Run(ctx) })
	}
	if daily != nil {
		wg.Go(func() { daily.Run(ctx) })
	}
	if pr, ok := d.journal.(store.Pruner); ok {
		keep := d.retention
		if keep == 0 {
			keep = configs.DefaultRetention
		}
		// At start, then daily: the journal keeps what the till may still
		// need (refunds, the summary's totals) and forgets the rest.
		if rt, err := flows.NewRetention(flows.RetentionOptions{Journal: pr, Keep: keep, Logger: d.log.With("component", "retention")}); err != nil {
			d.log.Error("journal retention not started", "err", err)
		} else {
			wg.Go(func() { rt.Run(ctx) })
		}
	}
	if refunder != nil {
		wg.Go(func() {
			if err := refunder.Run(ctx); err != nil {
				errc <- fmt.Errorf("refund runner: %w", err)
			}
			cancel()
		})
	}
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("local API: %w", err)
			cancel()
		}
	})
	var sockSrv *http.Server
	if sockLn != nil {
		sockSrv, _ = localapi.NewHTTPServer(handler, localapi.ServerOptions{MaxConns: d.api.MaxConns})
		sockSrv.ErrorLog = srv.ErrorLog
		wg.Go(func() {
			if err := sockSrv.Serve(sockLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("local API socket: %w", err)
				cancel()
			}
		})
		d.log.Info("local API socket", "path", d.api.Socket, "mode", d.api.SocketMode)
	}
	stopNotify := func() {}
	if d.notifyListener != nil {
		notifiers := map[string]gateways.Notifier{}
		for name, g := range d.gateways {
			if n, ok := g.(gateways.Notifier); ok {
				notifiers[name] = n
			}
		}
		nsrv := &http.Server{Handler: localapi.NotifyHandler(runner, notifiers, d.log), ReadHeaderTimeout: 10 * time.Second}
		wg.Go(func() {
			if err := nsrv.Serve(d.notifyListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("notification endpoint: %w", err)
				cancel()
			}
		})
		stopNotify = func() { _ = nsrv.Close() }
		d.log.Info("notifications accepted", "addr", d.notifyListener.Addr().String())
	}
	d.log.Info("posagent ready", "api", "http://"+ln.Addr().String(), "gateways", len(d.gateways))
	if ready != nil {
		ready(ln.Addr().String(), runner)
	}
	stopping := supervise(ctx, runner, d.journal, d.log)
	go watchClock(ctx, 10*time.Second, d.log)
	<-ctx.Done()
	d.log.Info("posagent stopping")
	stopping()
	shutdownCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	d.log.Info("posagent stopping")
	_ = srv.Shutdown(shutdownCtx)
	if sockSrv != nil {
		_ = sockSrv.Shutdown(shutdownCtx)
	}
	stopNotify()
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}

// apiExtra is every route the daemon mounts on the local API beyond
// localapi's own (Options.Extra), in one place so that
// TestOpenAPIListsEveryDaemonRoute holds exactly these against
// openapi.json. outbox and rec are nil where the journal keeps no outbox
// or no gateway is configured; their routes are then not served.
func apiExtra(lookup localapi.Lookuper, outbox localapi.Outboxer, rec localapi.Reconciler) map[string]http.Handler {
	// Orders placed outside the till (HipoPay mini-program).
	extra := map[string]http.Handler{localapi.LookupPattern: localapi.LookupHandler(lookup)}
	if outbox != nil {
		for pattern, h := range localapi.OutboxHandlers(outbox) {
			extra[pattern] = h
		}
	}
	if rec != nil {
		extra[localapi.ReconcilePattern] = localapi.ReconcileHandler(rec)
	}
	return extra
}
