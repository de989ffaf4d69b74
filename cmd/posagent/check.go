package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/hw/scanner/evdevscan"
	"github.com/posagent/posagent/hw/scanner/hidscan"
	"github.com/posagent/posagent/hw/scanner/serialscan"
)

// runConfig is `posagent config check FILE`.
func runConfig(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: posagent config check FILE")
		return usageError("config needs a subcommand: check")
	}
	fs := newFlagSet("config check", stderr)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("usage: posagent config check FILE")
	}
	return checkConfigFile(fs.Arg(0), stdout)
}

// checkConfigFile loads and checks a config as serve would build it, with
// no side effect: no file is created, no device or listener opened, no
// gateway called. Every problem is one line; the exit status is 2 when
// there is one.
func checkConfigFile(path string, stdout io.Writer) error {
	cfg, err := configs.Load(path)
	if err != nil {
		return &exitError{code: 2, err: errors.New(plainError(err))}
	}
	gws, problems := checkGateways(cfg)
	for i, sc := range cfg.Scanners {
		if err := checkScanner(sc); err != nil {
			problems = append(problems, fmt.Errorf("scanners[%d] (%s): %s", i, sc.Name, plainError(err)))
		}
	}
	pr, err := checkPrinter(cfg)
	if err != nil {
		problems = append(problems, errors.New(plainError(err)))
	}
	if _, err := parseDisplay(cfg); err != nil {
		problems = append(problems, errors.New(plainError(err)))
	}
	if len(problems) > 0 {
		lines := make([]string, len(problems))
		for i, p := range problems {
			lines[i] = "  - " + p.Error()
		}
		return &exitError{code: 2, err: fmt.Errorf("config %s has %d problem(s):\n%s", path, len(problems), strings.Join(lines, "\n"))}
	}
	fmt.Fprintf(stdout, "config %s is valid: %d gateway(s), %d scanner(s), %s\n", path, gws, len(cfg.Scanners), pr)
	return nil
}

// checkGateways builds every gateway (reading its keys, calling nothing)
// and checks its timings against each other.
func checkGateways(cfg *configs.Config) (int, []error) {
	var problems []error
	n := 0
	for i, gc := range cfg.Gateways {
		g, err := gateways.New(gc.Kind, gc.Decode, gateways.Env{Logger: slog.New(slog.DiscardHandler), Dir: cfg.Dir})
		if err != nil {
			problems = append(problems, fmt.Errorf("gateways[%d] (%s): %s", i, gc.Name, plainError(err)))
			continue
		}
		n++
		for _, p := range timingProblems(g.Timing().WithDefaults(), cfg) {
			problems = append(problems, fmt.Errorf("gateways[%d] (%s) timing: %s", i, gc.Name, p))
		}
	}
	return n, problems
}

// timingProblems are timings that each pass their spec's minimum (the
// adapter checked that) but contradict each other: a payment would be
// reversed before its first query, or a call outlive the payment.
func timingProblems(t gateways.Timing, cfg *configs.Config) []string {
	var out []string
	if t.PollInterval >= t.PayTimeout {
		out = append(out, fmt.Sprintf("poll_interval %v is not shorter than pay_timeout %v: a pending micropay would be reversed before it is queried", t.PollInterval, t.PayTimeout))
	}
	if t.PollInterval >= t.QRTimeout {
		out = append(out, fmt.Sprintf("poll_interval %v is not shorter than qr_timeout %v: a merchant QR would expire before it is queried", t.PollInterval, t.QRTimeout))
	}
	if t.CallTimeout >= t.PayTimeout {
		out = append(out, fmt.Sprintf("call_timeout %v is not shorter than pay_timeout %v: one call could outlive the payment", t.CallTimeout, t.PayTimeout))
	}
	if t.ReverseAfter >= t.PayTimeout {
		out = append(out, fmt.Sprintf("reverse_after %v is not shorter than pay_timeout %v", t.ReverseAfter, t.PayTimeout))
	}
	if t.RetryBackoff > t.RetryBackoffMax {
		out = append(out, fmt.Sprintf("retry_backoff %v is longer than retry_backoff_max %v", t.RetryBackoff, t.RetryBackoffMax))
	}
	return out
}

// checkScanner decodes and validates a scanner's options without opening it.
func checkScanner(sc configs.Section) error {
	switch sc.Kind {
	case "serial":
		var o serialscan.Options
		if err := sc.Decode(&o); err != nil {
			return err
		}
		o.Name = sc.Name
		return o.Validate()
	case "hid":
		var o hidscan.Options
		if err := sc.Decode(&o); err != nil {
			return err
		}
		o.Name = sc.Name
		return o.Validate()
	case "evdev":
		var o evdevscan.Options
		if err := sc.Decode(&o); err != nil {
			return err
		}
		o.Name = sc.Name
		return o.Validate()
	}
	return fmt.Errorf("kind %q is not one of serial, hid, evdev", sc.Kind)
}

// checkPrinter validates the printer section without opening the printer
// or creating its file, and describes it.
func checkPrinter(cfg *configs.Config) (string, error) {
	if cfg.Printer == nil {
		return "no printer", nil
	}
	switch cfg.Printer.Kind {
	case "text":
		var o struct {
			Path    string `yaml:"path"`
			Columns int    `yaml:"columns"`
		}
		if err := cfg.Printer.Decode(&o); err != nil {
			return "", fmt.Errorf("printer.options: %w", err)
		}
		if o.Columns < 0 {
			return "", fmt.Errorf("printer.options.columns: %d is negative", o.Columns)
		}
		if o.Path == "" || o.Path == "-" {
			return "printer text to standard output", nil
		}
		p := cfg.Resolve(o.Path)
		if fi, err := os.Stat(filepath.Dir(p)); err != nil || !fi.IsDir() {
			return "", fmt.Errorf("printer.options.path: the directory of %s does not exist", p)
		}
		return "printer text " + p, nil
	case "escpos":
		var c escposConfig
		if err := cfg.Printer.Decode(&c); err != nil {
			return "", fmt.Errorf("printer.options: %w", err)
		}
		o, err := c.options(cfg)
		if err != nil {
			return "", err
		}
		if _, err := o.Validate(); err != nil {
			return "", fmt.Errorf("printer.options: %w", err)
		}
		return "printer escpos " + o.Kind, nil
	}
	// virtual (and anything else) builds nothing on disk until it prints.
	_, desc, closer, err := buildPrinter(cfg, slog.New(slog.DiscardHandler))
	if closer != nil {
		closer.Close()
	}
	if err != nil {
		return "", err
	}
	return "printer " + desc, nil
}

// plainError drops the operation names (mmsp.New, sqlite.Open) that
// pos.Error puts before a message: an integrator reading a config check
// wants what is wrong, not where in the code it was found.
func plainError(err error) string {
	var msgs []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			msgs = append(msgs, plainError(e))
		}
		return strings.Join(msgs, "; ")
	}
	var pe *pos.Error
	if errors.As(err, &pe) && pe.Err != nil {
		prefix := strings.TrimSuffix(err.Error(), pe.Error())
		return prefix + plainError(pe.Err)
	}
	msg := err.Error()
	var missing *fs.PathError
	if errors.As(err, &missing) && errors.Is(missing.Err, fs.ErrNotExist) {
		// "stat /etc/posagent/mmsp.key: no such file or directory" says
		// what failed, not what to do: a config names files (keys above
		// all) that the integrator puts on each till.
		msg = strings.Replace(msg, missing.Error(), missing.Path+
			" does not exist on this machine (put the file there, readable by the posagent user alone, or name a systemd credential: credential:NAME)", 1)
	}
	return msg
}
