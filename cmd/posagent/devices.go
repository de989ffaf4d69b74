package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/evdevscan"
	"github.com/posagent/posagent/hw/scanner/hidscan"
	"github.com/posagent/posagent/hw/scanner/serialscan"
)

// deviceReport answers GET /v1/devices: the health of the configured
// devices.
type deviceReport struct {
	hub *scanner.Hub
}

func (d deviceReport) Devices(ctx context.Context) any {
	out := map[string]any{}
	if d.hub != nil {
		out["scanners"] = d.hub.Statuses()
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
	if err := fs.Parse(args); err != nil {
		return err
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
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
