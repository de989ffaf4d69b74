// Command posagent turns a Linux till into a scan-code payment terminal.
//
//	posagent demo [--tour]            run on the embedded default (simulated gateway, virtual devices)
//	posagent serve --config FILE      run with a real configuration
//	posagent pay --amount 12.91 ...   take a payment through a running daemon
//	posagent reprint PAYMENT_ID       print a payment's receipts again
//	posagent refund PAYMENT_ID        refund a payment, in part or in full
//	posagent status|cancel PAYMENT_ID one payment; cancel it
//	posagent list|lookup|events       list payments, find them by reference, follow changes
//	posagent summary [--date D]       the end-of-day totals (--print: on paper)
//	posagent reconcile --date D       an acquirer day of the journal against the acquirer's bill
//	posagent outbox [retry|resolve]   gateway operations still owed; retry one or end it by hand
//	posagent simulate --gateway mmsp  run a gateway simulator on its own
//	posagent devices [--config FILE]  list serial ports and HID devices, and the printer's status
//	posagent doctor [--config FILE]   check devices, gateways, clock, disk and journal
//	posagent config check FILE        check a configuration without side effects
//	posagent backup FILE              an online, consistent copy of the payment journal
//	posagent version
//
// This package only wires: it is the one place that imports the
// implementations (store/sqlite, gateways/<acquirer>, hw/*/<impl>).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"demo", "run on the embedded default: simulated gateway, virtual scanner, printer and display", runDemo},
		{"serve", "run the daemon with a configuration file", runServe},
		{"pay", "take a payment through a running daemon and follow it until final", runPay},
		{"reprint", "print a payment's receipts again through a running daemon", runReprint},
		{"refund", "refund a succeeded payment, in part or in full, and follow it until final", runRefund},
		{"status", "show one payment (--wait: until it is final)", runStatus},
		{"list", "list payments, newest first, with filters", runList},
		{"lookup", "find payments by the till's reference; with --out-trade-id or --payment-no, an order placed outside the till (HipoPay mini-program), brought into the journal", runLookup},
		{"cancel", "cancel a payment (reversing it if it was sent)", runCancel},
		{"outbox", "list the gateway operations still owed (query, reverse, close, refund query); retry one now or resolve it by hand", runOutbox},
		{"reconcile", "match an acquirer day of the journal against the acquirer's bill (--date YYYY-MM-DD); exit 1 on any mismatch", runReconcile},
		{"events", "follow the stream of payment and refund changes", runEvents},
		{"simulate", "run a gateway simulator on its own", runSimulate},
		{"summary", "show (and --print) the end-of-day summary of a running daemon", runSummary},
		{"devices", "list serial ports and HID devices; with --config, the printer's status", runDevices},
		{"doctor", "check devices, gateways (DNS, TLS, clock, a signed harmless call), disk and journal; one line per problem with its fix", runDoctor},
		{"config", "check a configuration file (config check FILE) without opening anything", runConfig},
		{"backup", "write a consistent copy of the payment journal, while the daemon runs", runBackup},
		{"version", "print the version", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
			fmt.Fprintln(stdout, "posagent", version)
			return nil
		}},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// exitError carries a specific exit code (pay: 1 when the payment did not
// succeed, 2 for usage errors).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// helpOut is where flag sets write: stdout when help was asked for (so
// `posagent pay --help | less` works), stderr otherwise.
var helpOut io.Writer = os.Stderr

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	if args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	helpOut = stderr
	for _, a := range args[1:] {
		if a == "-h" || a == "--help" || a == "-help" {
			helpOut = stdout
		}
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintln(stderr, "posagent "+c.name+":", ee.err)
			}
			return ee.code
		}
		fmt.Fprintln(stderr, "posagent "+c.name+":", err)
		return 1
	}
	fmt.Fprintf(stderr, "posagent: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "posagent: a scan-code payment terminal daemon for Linux tills")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'posagent COMMAND -h' for a command's flags.")
}

func newFlagSet(name string, _ io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("posagent "+name, flag.ContinueOnError)
	fs.SetOutput(helpOut)
	return fs
}

func usageError(format string, args ...any) error {
	return &exitError{code: 2, err: fmt.Errorf(format, args...)}
}
