package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/allpay"
	"github.com/posagent/posagent/gateways/mmsp"
	gwsim "github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/gateways/swiftpass"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/hw/printer"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/store/sqlite"
)

// demoTiming is what the simulators and adapters run with in the demo, so a
// scenario takes seconds. Real gateways keep their specs' intervals: only a
// simulated adapter accepts these.
var demoTiming = gateways.Timing{
	PollInterval:    time.Second,
	MinPollInterval: time.Second,
	PayTimeout:      6 * time.Second,
	QRTimeout:       20 * time.Second,
	ReverseAfter:    time.Second,
	CloseAfter:      time.Second,
	CallTimeout:     2 * time.Second,
	RetryBackoff:    time.Second,
	RetryBackoffMax: 4 * time.Second,
}

// simulated is one gateway kind the demo and `simulate` can run against its
// simulator.
type simulated struct {
	// handler builds the simulator, its ledger kept in dir; it posts
	// notifications to notifyURL ("" for the URL each order carries, or
	// none where the wire has no such field).
	handler func(dir, notifyURL string, log *slog.Logger) (http.Handler, error)
	// client builds the adapter pointed at the simulator's base URL.
	// notifyURL is where the simulator should POST notifications.
	client func(baseURL, notifyURL, dir string, log *slog.Logger) (gateways.Gateway, error)
}

// simulatedKinds lists every gateway with a simulator, by kind.
var simulatedKinds = map[string]simulated{}

func simulatedNames() string {
	var ks []string
	for k := range simulatedKinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return strings.Join(ks, ", ")
}

// DefaultQRPaidAfter is how long the demo's simulated customer takes to
// scan a merchant QR that is paid (amounts not ending in 91-95): long
// enough to look at the QR and scan it from a phone.
const DefaultQRPaidAfter = 10 * time.Second

// tourQRPaidAfter is the tour's: it runs every scenario and must end soon.
const tourQRPaidAfter = 500 * time.Millisecond

// startSimulator serves kind's simulator on addr (loopback) and returns its
// base URL. A merchant QR order that is paid at once is paid by the first
// query qrPaidAfter after its creation. sameDayBills lets a simulator with
// day bills serve the day still running, provisional (sim.Base.BillReady):
// the demo's tour reconciles the day it ran; `simulate` only when asked.
func startSimulator(ctx context.Context, kind, addr, dir, notifyURL string, qrPaidAfter time.Duration, sameDayBills bool, log *slog.Logger) (string, error) {
	s, ok := simulatedKinds[kind]
	if !ok {
		return "", usageError("no simulator for gateway %q (have: %s)", kind, simulatedNames())
	}
	h, err := s.handler(dir, notifyURL, log)
	if err != nil {
		return "", err
	}
	if l, ok := h.(interface{ Ledger() *gwsim.Ledger }); ok {
		l.Ledger().SetQRPayDelay(qrPaidAfter)
	} else if qrPaidAfter > 0 {
		log.Warn("this simulator cannot delay merchant QR payments", "gateway", kind)
	}
	if b, ok := h.(interface{ SetSameDayBills(bool) }); ok {
		b.SetSameDayBills(sameDayBills)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("simulator: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	return "http://" + ln.Addr().String(), nil
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	// The demo runs with configs/demo.yaml (embedded); the flags below
	// override what a demo needs to vary.
	cfg, err := configs.Demo()
	if err != nil {
		return fmt.Errorf("the demo's own config (configs/demo.yaml): %w", err)
	}
	ds, err := parseDisplay(cfg)
	if err != nil || ds.web == nil || cfg.Printer == nil || cfg.Printer.Kind != "virtual" {
		return fmt.Errorf("the demo's own config (configs/demo.yaml) needs a web display and a virtual printer: %v", err)
	}
	fs := newFlagSet("demo", stderr)
	printConfig := fs.Bool("print-config", false, "print the demo's configuration (configs/demo.yaml) and exit")
	state := fs.String("state", cfg.StateDir, "state directory (journal, token, ledger, receipts)")
	listen := fs.String("listen", cfg.Listen, "local API address (loopback)")
	gw := fs.String("gateway", "mmsp", "simulated gateway: "+simulatedNames())
	simListen := fs.String("sim-listen", "", "where the simulator listens (loopback; default: the config's endpoint, or a free port when it is taken)")
	simURL := fs.String("sim-url", "", "use a simulator already running at this URL (posagent simulate) instead of an embedded one")
	tour := fs.Bool("tour", false, "run every magic amount end to end, print expected and actual final states, and exit")
	qrPaidAfter := fs.Duration("qr-paid-after", DefaultQRPaidAfter, "how long the simulated customer takes to scan a merchant QR that gets paid (the tour: 500ms)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text (logfmt) or json (one object per line)")
	displayListen := fs.String("display-listen", ds.web.Listen, "where the web customer display serves its page (loopback; \"none\": terminal display only)")
	rateLimit := fs.Float64("rate-limit", 0, "requests a second one API client may make (default 100)")
	socket := fs.String("socket", "", "also serve the local API on this unix socket (default STATE/api.sock; \"none\": no socket)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments: %v", fs.Args())
	}
	if *printConfig {
		_, err := stdout.Write(configs.DemoYAML)
		return err
	}
	if err := requireLoopback(*listen); err != nil {
		return usageError("--listen: %v", err)
	}
	sim, ok := simulatedKinds[*gw]
	if !ok {
		return usageError("no simulator for gateway %q (have: %s)", *gw, simulatedNames())
	}
	gc, inConfig := demoGateway(cfg, *gw)
	log, err := newLogger(stderr, *logLevel, *logFormat)
	if err != nil {
		return usageError("%v", err)
	}
	if err := os.MkdirAll(*state, 0o700); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Notifications from the simulator reach the agent on a loopback
	// listener of their own, as they would through a site's proxy.
	notifyLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("notification listener: %w", err)
	}
	notifyURL := "http://" + notifyLn.Addr().String() + "/notify/" + *gw
	base := *simURL
	if base == "" {
		delay := *qrPaidAfter
		if *tour && !flagSet(fs, "qr-paid-after") {
			delay = tourQRPaidAfter
		}
		if delay < 0 {
			return usageError("--qr-paid-after %v is negative", delay)
		}
		addr, explicit := *simListen, flagSet(fs, "sim-listen")
		if !explicit {
			addr = "127.0.0.1:0"
			if inConfig {
				addr = endpointAddr(gc)
			}
		}
		simLog := log.With("component", "simulator")
		simDir := filepath.Join(*state, "sim-"+*gw)
		base, err = startSimulator(ctx, *gw, addr, simDir, notifyURL, delay, true, simLog)
		if err != nil && !explicit && errors.Is(err, syscall.EADDRINUSE) {
			// Another demo (or test) has the config's port: any will do.
			log.Warn("simulator port taken; using a free one", "listen", addr)
			base, err = startSimulator(ctx, *gw, "127.0.0.1:0", simDir, notifyURL, delay, true, simLog)
		}
		if err != nil {
			return err
		}
	}
	// The demo's adapters use the default transport: measure it (requests
	// that are not gateway calls pass through unmeasured).
	var (
		journalDB *sqlite.DB
		devices   deviceReport
	)
	m := newMetrics(&journalDB, &devices)
	http.DefaultTransport = m.Transport("", http.DefaultTransport)
	var g gateways.Gateway
	if inConfig {
		// Built from the config's section as serve builds it, pointed at
		// the simulator and notification listener this run started.
		g, err = gateways.New(gc.Kind, func(v any) error {
			if err := gc.Decode(v); err != nil {
				return err
			}
			switch o := v.(type) {
			case *mmsp.Options:
				o.Endpoint, o.NotifyURL = base, notifyURL
			case *swiftpass.Options:
				o.Endpoint, o.NotifyURL = base+"/pay/gateway", notifyURL
			case *allpay.Options:
				o.Endpoint, o.BackURL = base, notifyURL
			}
			return nil
		}, gateways.Env{Logger: log.With("gateway", *gw)})
	} else {
		g, err = sim.client(base, notifyURL, *state, log.With("gateway", *gw))
	}
	if err != nil {
		return fmt.Errorf("building %s adapter: %w", *gw, err)
	}
	parts, err := openCommon(*state, log)
	if err != nil {
		return err
	}
	defer parts.close()

	vs, err := newVirtualScanner(log)
	if err != nil {
		return fmt.Errorf("virtual scanner: %w", err)
	}
	hub, err := scanner.NewHub(scanner.HubOptions{Logger: log.With("component", "scanner")}, vs)
	if err != nil {
		return err
	}
	defer hub.Close()
	receiptsDir := filepath.Join(*state, "receipts")
	demoPr, err := newDemoPrinter(receiptsDir, log)
	if err != nil {
		return err
	}
	rs := &receiptSetup{
		printer:  demoPr,
		describe: "virtual " + receiptsDir,
		header:   printer.Header{Merchant: cfg.Receipt.MerchantName, Store: cfg.Receipt.StoreName, Terminal: cfg.Receipt.TerminalID, Footer: cfg.Receipt.Footer},
		customer: cfg.Receipt.Copies == "both" || cfg.Receipt.Copies == "customer",
		merchant: cfg.Receipt.Copies == "both" || cfg.Receipt.Copies == "merchant",
	}
	spool, err := rs.spool(parts.journal, log)
	if err != nil {
		return err
	}
	disp, web, err := startDemoDisplay(*displayListen, flagSet(fs, "display-listen"), rs.header.Merchant, demoRates(g, log), stderr, log)
	if err != nil {
		return err
	}
	journalDB = parts.journal
	devices = deviceReport{hub: hub, printer: spool}
	displayURL := "none (terminal only)"
	if web != nil {
		defer web.Close()
		displayURL = web.URL()
	}

	d := &daemon{
		log:            log,
		journal:        parts.journal,
		gateways:       map[string]gateways.Gateway{*gw: g},
		defaultGateway: *gw,
		scans:          hub,
		display:        disp,
		spool:          spool,
		devices:        devices,
		metrics:        m,
		stateDir:       *state,
		codeKey:        parts.codeKey,
		numberPrefix:   parts.numberPrefix,
		// The simulators run fast timings; the wallets' own rules (WeChat
		// 15 s, QQ 5 min) would only slow the tour down.
		walletRules:    flows.WalletRules{},
		token:          parts.token,
		listen:         *listen,
		notifyListener: notifyLn,
		awaitCode:      cfg.Payments.AwaitCodeTimeout,
		// The demo's virtual printer has a drawer: it opens on every
		// succeeded payment (STATE/receipts/drawer.bin counts the pulses).
		drawer:          demoPr,
		drawerOnSuccess: cfg.Receipt.OpenDrawer == "succeeded",
		retention:       time.Duration(cfg.Journal.Retention),
	}
	switch *socket {
	case "none":
	case "":
		d.api.Socket = filepath.Join(*state, "api.sock")
	default:
		d.api.Socket = *socket
	}
	d.api.SocketMode = "0660"
	d.api.RateLimit = *rateLimit
	if *rateLimit > 0 {
		d.api.RateBurst = max(1, int(*rateLimit))
	}
	if len(d.api.Socket) > 100 {
		// sun_path holds 108 bytes; a long temporary state path would
		// not fit, and the socket is optional.
		log.Warn("state path too long for a unix socket; serving TCP only", "path", d.api.Socket)
		d.api.Socket = ""
	}
	errc := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		errc <- d.run(ctx, func(addr string, _ *flows.Runner) { ready <- addr })
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-errc:
		return err
	}
	tokenFile := filepath.Join(*state, "api.token")
	if *tour {
		c := &apiClient{base: "http://" + addr, token: parts.token, http: &http.Client{Timeout: 60 * time.Second}}
		plan := planTour(g)
		plan.simBase = base
		plan.gateway = *gw
		ok := runTour(ctx, c, plan, vs.Path(), demoPr, stdout)
		cancel()
		<-errc
		if !ok {
			return &exitError{code: 1, err: errors.New("the tour found scenarios that did not end as expected")}
		}
		return nil
	}
	printDemoHelp(stdout, addr, *state, tokenFile, vs.Path(), receiptsDir, *gw, base, displayURL)
	return <-errc
}

func printDemoHelp(w io.Writer, addr, state, tokenFile, scannerPath, receiptsDir, gw, simBase, displayURL string) {
	fmt.Fprintf(w, `
posagent demo is running.
  gateway      %s (simulated at %s)
  local API    http://%s   token in %s
  scanner      %s   (a virtual serial scanner)
  display      %s   (the customer display: open it in a browser; also drawn here)
  receipts     %s   (a virtual printer: NAME.png previews, NAME.bin ESC/POS, NAME.txt)
  state        %s   (journal.db, receipts/, simulator ledger)

Try:
  posagent pay --amount 12.00 --code 134567890123456789 --token-file %s
      (from a checkout: go run ./cmd/posagent pay ...)
  posagent pay --amount 12.92 --token-file %s     then "scan" a code:
  echo 284567890123456789 > %s

Magic amounts (last two digits): 91 pays on the 2nd query, 92 never
completes and is reversed, 93 is declined, 94 gets no answer but was paid,
95 gets no answer and is reversed; anything else succeeds at once.

  curl -s -H "Authorization: Bearer $(cat %s)" http://%s/v1/payments
  posagent reprint PAYMENT_ID --token-file %s      print its receipts again
  posagent refund PAYMENT_ID --amount 5.00 --token-file %s
      refund part of it (without --amount: all that is left)

Press Ctrl-C to stop; run again with --state %s to continue.
`, gw, simBase, addr, tokenFile, scannerPath, displayURL, receiptsDir, state, tokenFile, tokenFile, scannerPath, tokenFile, addr, tokenFile, tokenFile, state)
}

// commonParts are what demo and serve open the same way.
type commonParts struct {
	journal *sqlite.DB
	token   string
	codeKey []byte
	// numberPrefix starts every order and refund number of this install
	// (STATE/number-prefix).
	numberPrefix string
	lock         *os.File // held open: the state directory's lock
}

func (c *commonParts) close() {
	_ = c.journal.Close()
	_ = c.lock.Close() // releases the state lock
}

func openCommon(stateDir string, log *slog.Logger) (*commonParts, error) {
	return openCommonAt(stateDir, filepath.Join(stateDir, "api.token"), log)
}

func openCommonAt(stateDir, tokenFile string, log *slog.Logger) (*commonParts, error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, err
	}
	lock, err := lockState(stateDir)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*commonParts, error) {
		lock.Close()
		return nil, err
	}
	token, err := loadOrCreateSecret(tokenFile, 24)
	if err != nil {
		return fail(fmt.Errorf("API token: %w", err))
	}
	key, err := loadOrCreateSecret(filepath.Join(stateDir, "code-hash.key"), 32)
	if err != nil {
		return fail(fmt.Errorf("code hash key: %w", err))
	}
	prefix, err := loadOrCreateNumberPrefix(filepath.Join(stateDir, "number-prefix"))
	if err != nil {
		return fail(fmt.Errorf("number prefix: %w", err))
	}
	db, err := sqlite.Open(filepath.Join(stateDir, "journal.db"), sqlite.Options{Logger: log})
	if err != nil {
		return fail(fmt.Errorf("journal: %w", err))
	}
	checkClock(context.Background(), db, time.Now(), log)
	return &commonParts{journal: db, token: token, codeKey: []byte(key), numberPrefix: prefix, lock: lock}, nil
}

// demoRates is the display's rate source for the demo's gateway, or nil
// (as an interface) when it quotes no rates.
func demoRates(g gateways.Gateway, log *slog.Logger) display.Rates {
	if fr := newForexRates(map[string]gateways.Gateway{"demo": g}, log); fr != nil {
		return fr
	}
	return nil
}

// demoGateway is the demo config's section for gateway kind gw, when it
// has one (MMSP, Swiftpass, AllPay); the others use their simulator's
// built-in pairing (their RSA keys are made per state directory).
func demoGateway(cfg *configs.Config, gw string) (configs.Gateway, bool) {
	for _, gc := range cfg.Gateways {
		switch gc.Kind {
		case mmsp.Kind, swiftpass.Kind, allpay.Kind:
			if gc.Kind == gw {
				return gc, true
			}
		}
	}
	return configs.Gateway{}, false
}

// endpointAddr is the host:port of a gateway section's endpoint, where the
// demo starts its simulator.
func endpointAddr(gc configs.Gateway) string {
	var o struct {
		Endpoint string `yaml:"endpoint"`
	}
	_ = gc.Options.Decode(&o)
	if u, err := url.Parse(o.Endpoint); err == nil && u.Host != "" {
		return u.Host
	}
	return "127.0.0.1:0"
}
