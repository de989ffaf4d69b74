package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/hw/printer"

	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/evdevscan"
	"github.com/posagent/posagent/hw/scanner/hidscan"
	"github.com/posagent/posagent/hw/scanner/serialscan"
)

// deviceReport answers GET /v1/devices: the health of the configured
// devices.
type deviceReport struct {
	hub *scanner.Hub
	// printer reports the printer and its queue (the spool); nil: no
	// printer configured, and no "printer" key.
	printer interface {
		Status(ctx context.Context) flows.PrinterStatus
	}
}

func (d deviceReport) Devices(ctx context.Context) any {
	out := map[string]any{}
	if d.hub != nil {
		out["scanners"] = d.hub.Statuses()
	}
	if d.printer != nil {
		out["printer"] = d.printer.Status(ctx)
	}
	return out
}

// listDevices finds every device that could be a scanner, by kind.
func listDevices() ([]scanner.Device, []error) {
	var all []scanner.Device
	var errs []error
	for _, l := range deviceListers {
		ds, err := l.list()
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", l.kind, err))
		}
		all = append(all, ds...)
	}
	return all, errs
}

type deviceLister struct {
	kind string
	list func() ([]scanner.Device, error)
}

var deviceListers = []deviceLister{
	{"serial", serialscan.List},
	{"hid", hidscan.List},
	{"evdev", evdevscan.List},
}

func runDevices(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("devices", stderr)
	cfgPath := fs.String("config", "", "also open the printer this configuration names and show its status\n(while the daemon runs, GET /v1/devices shows it without a second user of the device)")
	api := fs.String("api", "http://127.0.0.1:8417", "a running daemon whose configured scanners' state to show")
	tokenFile := fs.String("token-file", "", "file holding the API token (default: as for pay)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("unexpected arguments: %v", fs.Args())
	}
	var cfg *configs.Config
	if *cfgPath != "" {
		c, err := configs.Load(*cfgPath)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		cfg = c
	}
	devs, errs := listDevices()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tPATH\tVID:PID\tSERIAL\tINTERFACE\tPRODUCT")
	for _, d := range devs {
		id := "-"
		if d.USB {
			id = d.VID.String() + ":" + d.PID.String()
		}
		iface := "-"
		if d.Interface >= 0 && d.Kind == "hid" {
			iface = fmt.Sprint(d.Interface)
		}
		product := d.Product
		if d.Manufacturer != "" {
			product = d.Manufacturer + " " + product
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Kind, d.Path, id, orDash(d.Serial), iface, orDash(product))
	}
	tw.Flush()
	if len(devs) == 0 {
		fmt.Fprintln(stdout, "(no devices found)")
	}
	for _, err := range errs {
		fmt.Fprintln(stderr, "warning:", err)
	}
	showDaemonDevices(ctx, *api, *tokenFile, stdout)
	if cfg != nil {
		return showPrinter(ctx, cfg, stdout)
	}
	return nil
}

// showDaemonDevices prints the state of the scanners (and printer) a
// running daemon has configured: connected, path, last scan, last error.
// The daemon owns the devices, so this asks it rather than opening them.
func showDaemonDevices(ctx context.Context, api, tokenFile string, w io.Writer) {
	fmt.Fprintln(w)
	token, err := readToken(tokenFile)
	if err != nil {
		fmt.Fprintf(w, "(no running daemon's state: %v)\n", err)
		return
	}
	c := &apiClient{base: strings.TrimRight(api, "/"), token: token, http: &http.Client{Timeout: 5 * time.Second}}
	var rep struct {
		Scanners []scanner.Status     `json:"scanners"`
		Printer  *flows.PrinterStatus `json:"printer"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/devices", nil, &rep); err != nil {
		fmt.Fprintf(w, "(no running daemon's state: %v)\n", err)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SCANNER (daemon at %s)\tKIND\tPATH\tCONNECTED\tLAST SCAN\tLAST ERROR\n", api)
	for _, st := range rep.Scanners {
		last := "-"
		if !st.LastScan.IsZero() {
			last = st.LastScan.Local().Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", st.Name, st.Kind, orDash(st.Path), yesNo(st.Connected), last, orDash(st.LastError))
	}
	tw.Flush()
	if len(rep.Scanners) == 0 {
		fmt.Fprintln(w, "(the daemon has no scanners configured)")
	}
	if rep.Printer != nil {
		fmt.Fprintf(w, "printer: %s\n", printerLine(*rep.Printer))
	}
}

// showPrinter opens the configured printer and prints its real-time status.
func showPrinter(ctx context.Context, cfg *configs.Config, w io.Writer) error {
	fmt.Fprintln(w)
	if cfg.Printer == nil {
		fmt.Fprintln(w, "(the configuration names no printer)")
		return nil
	}
	p, desc, closer, err := buildPrinter(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return &exitError{code: 1, err: err}
	}
	if closer != nil {
		defer closer.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := p.Status(ctx)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRINTER\tSTATUS\tONLINE\tCOVER OPEN\tPAPER NEAR END\tPAPER OUT\tERROR\tDETAIL")
	if err != nil {
		fmt.Fprintf(tw, "%s\tno answer\t-\t-\t-\t-\t-\t%s\n", desc, err)
	} else {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", desc, statusWords(st),
			yesNo(st.Online), yesNo(st.CoverOpen), yesNo(st.PaperNearEnd), yesNo(st.PaperOut), yesNo(st.Error), orDash(st.Detail))
	}
	tw.Flush()
	if err != nil {
		return &exitError{code: 1, err: fmt.Errorf("printer %s: %w", desc, err)}
	}
	return nil
}

// statusWords says in a few words whether a receipt would print.
func statusWords(st printer.Status) string {
	p := st.Problems()
	switch {
	case st.Ready() && len(p) == 0:
		return "ready"
	case st.Ready():
		return "ready (" + strings.Join(p, ", ") + ")"
	}
	return "not ready: " + strings.Join(p, ", ")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printerLine(p flows.PrinterStatus) string {
	s := statusWords(p.Status)
	if p.Detail != "" {
		s += " (" + p.Detail + ")"
	}
	s += fmt.Sprintf(", %d receipt(s) waiting", p.PendingJobs)
	if p.LastError != "" {
		s += ", last error: " + p.LastError
	}
	return s
}
