package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/swiftpass"
	"github.com/posagent/posagent/hw/scanner"
	"github.com/posagent/posagent/hw/scanner/evdevscan"
	"github.com/posagent/posagent/hw/scanner/hidscan"
	"github.com/posagent/posagent/hw/scanner/serialscan"
	"github.com/posagent/posagent/store/sqlite"
)

// Thresholds the doctor warns at.
const (
	doctorTimeout     = 5 * time.Second
	maxClockSkew      = 60 * time.Second
	certWarnBefore    = 21 * 24 * time.Hour
	minFreeJournalMiB = 200
)

// finding is one line of the doctor's report: what was checked, whether it
// is a problem, and for a problem the fix.
type finding struct {
	ok   bool
	what string
	fix  string
}

type doctor struct {
	cfg      *configs.Config
	findings []finding
	http     *http.Client
}

func (d *doctor) pass(format string, args ...any) {
	d.findings = append(d.findings, finding{ok: true, what: fmt.Sprintf(format, args...)})
}

func (d *doctor) fail(fix, format string, args ...any) {
	d.findings = append(d.findings, finding{what: fmt.Sprintf(format, args...), fix: fix})
}

// runDoctor checks everything a till needs to take payments: the config,
// the devices and their permissions, each gateway from DNS to a signed
// harmless call, the clock, the disk and the journal. One line per check;
// each problem says how to fix it; exit 1 when there is one.
func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("doctor", stderr)
	cfgPath := fs.String("config", "/etc/posagent/posagent.yaml", "configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	d := &doctor{http: &http.Client{Timeout: doctorTimeout}}
	d.check(ctx, *cfgPath)
	problems := 0
	for _, f := range d.findings {
		if f.ok {
			fmt.Fprintf(stdout, "ok       %s\n", f.what)
			continue
		}
		problems++
		fmt.Fprintf(stdout, "PROBLEM  %s\n         fix: %s\n", f.what, f.fix)
	}
	if problems > 0 {
		return &exitError{code: 1, err: fmt.Errorf("%d problem(s) found", problems)}
	}
	fmt.Fprintln(stdout, "no problems found")
	return nil
}

func (d *doctor) check(ctx context.Context, path string) {
	var out strings.Builder
	if err := checkConfigFile(path, &out); err != nil {
		d.fail("edit the file; `posagent config check "+path+"` lists the same problems", "%s", err)
	} else {
		d.pass("%s", strings.TrimSpace(out.String()))
	}
	// A config with problems in its sections still names the devices,
	// gateways and state directory to look at; one that does not load
	// leaves nothing else to check.
	cfg, err := configs.Load(path)
	if err != nil {
		return
	}
	d.cfg = cfg
	d.checkDevices()
	for _, gc := range d.cfg.Gateways {
		d.checkGateway(ctx, gc)
	}
	d.checkStateDir(ctx)
}

// checkDevices: every configured scanner and printer device is there and
// the service user may open it.
func (d *doctor) checkDevices() {
	for i, sc := range d.cfg.Scanners {
		name := fmt.Sprintf("scanners[%d] (%s)", i, sc.Name)
		switch sc.Kind {
		case "serial":
			var o serialscan.Options
			if sc.Decode(&o) != nil {
				continue // config check reported it
			}
			if o.Path != "" {
				d.checkDeviceNode(name, o.Path, "dialout")
				continue
			}
			d.checkUSB(name, serialscan.List, o.VID, o.PID, o.Serial)
		case "hid":
			var o hidscan.Options
			if sc.Decode(&o) != nil {
				continue
			}
			if !hidscan.Supported() {
				d.fail("use a build with cgo (the packaged one), or an evdev or serial scanner", "%s: this build has no USB-HID support", name)
				continue
			}
			d.checkUSB(name, hidscan.List, o.VID, o.PID, o.Serial)
		case "evdev":
			var o evdevscan.Options
			if sc.Decode(&o) != nil {
				continue
			}
			d.checkDeviceNode(name, o.Path, "input")
		}
	}
	if d.cfg.Printer != nil && d.cfg.Printer.Kind == "escpos" {
		var c escposConfig
		if d.cfg.Printer.Decode(&c) != nil {
			return
		}
		switch c.Transport {
		case "usb", "":
			p := c.Path
			if p == "" {
				p = "/dev/usb/lp0"
			}
			d.checkDeviceNode("printer", p, "lp")
		case "serial":
			d.checkDeviceNode("printer", c.Path, "dialout")
		case "tcp":
			addr := c.Address
			if _, _, err := net.SplitHostPort(addr); err != nil {
				addr = net.JoinHostPort(addr, "9100")
			}
			conn, err := net.DialTimeout("tcp", addr, doctorTimeout)
			if err != nil {
				d.fail("check the printer is on and its address ("+addr+")", "printer at %s: %v", addr, err)
				return
			}
			conn.Close()
			d.pass("printer at %s answers", addr)
		}
	}
}

func (d *doctor) checkDeviceNode(name, path, group string) {
	if _, err := os.Stat(path); err != nil {
		d.fail("plug the device in, or fix the path (`posagent devices` lists what is connected)", "%s: %s is not there", name, path)
		return
	}
	if err := unix.Access(path, unix.R_OK|unix.W_OK); err != nil {
		d.fail(fmt.Sprintf("run posagent as a member of group %s (the package's posagent user is), or install the udev rules (packaging/60-posagent.rules)", group),
			"%s: %s is there but may not be opened by this user: %v", name, path, err)
		return
	}
	d.pass("%s: %s present and permitted", name, path)
}

func (d *doctor) checkUSB(name string, list func() ([]scanner.Device, error), vid, pid scanner.USBID, serial string) {
	devs, err := list()
	if err != nil {
		d.fail("check that USB is readable (`posagent devices`)", "%s: listing USB devices: %v", name, err)
		return
	}
	for _, dev := range devs {
		if dev.VID == vid && dev.PID == pid && (serial == "" || dev.Serial == serial) {
			d.pass("%s: %s:%s found at %s", name, vid, pid, dev.Path)
			return
		}
	}
	d.fail("plug the scanner in, or correct vid/pid (`posagent devices` lists what is connected)", "%s: no USB device %s:%s is connected", name, vid, pid)
}

// checkGateway: DNS, TCP, TLS and the certificate's dates, the clock
// against the gateway's Date header, then a signed query of an order that
// does not exist, which every acquirer answers without side effects.
func (d *doctor) checkGateway(ctx context.Context, gc configs.Gateway) {
	name := "gateway " + gc.Name
	endpoint := gatewayEndpoint(gc)
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		d.fail("set options.endpoint to the URL your acquirer gave you", "%s: no usable endpoint (%q)", name, endpoint)
		return
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	ctx, cancel := context.WithTimeout(ctx, 4*doctorTimeout)
	defer cancel()
	if net.ParseIP(host) == nil {
		addrs, err := net.DefaultResolver.LookupHost(ctx, host)
		if err != nil {
			d.fail("check the host name and the till's DNS (resolvectl status)", "%s: DNS: %s does not resolve: %v", name, host, err)
			return
		}
		d.pass("%s: DNS %s -> %s", name, host, strings.Join(addrs, ", "))
	}
	addr := net.JoinHostPort(host, port)
	conn, err := (&net.Dialer{Timeout: doctorTimeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		d.fail("check the network route and firewall to "+addr, "%s: TCP %s: %v", name, addr, err)
		return
	}
	conn.Close()
	d.pass("%s: TCP %s connects", name, addr)
	if u.Scheme == "https" {
		tc, err := (&tls.Dialer{NetDialer: &net.Dialer{Timeout: doctorTimeout}, Config: &tls.Config{ServerName: host}}).DialContext(ctx, "tcp", addr)
		if err != nil {
			d.fail("check the endpoint's host name and the system's CA certificates (ca-certificates)", "%s: TLS handshake with %s: %v", name, addr, err)
			return
		}
		certs := tc.(*tls.Conn).ConnectionState().PeerCertificates
		tc.Close()
		if len(certs) > 0 {
			leaf := certs[0]
			switch left := time.Until(leaf.NotAfter); {
			case left < 0:
				d.fail("tell the acquirer; check the till's clock too", "%s: TLS certificate expired on %s", name, leaf.NotAfter.Format(time.DateOnly))
			case left < certWarnBefore:
				d.fail("tell the acquirer before it expires", "%s: TLS certificate expires on %s", name, leaf.NotAfter.Format(time.DateOnly))
			default:
				d.pass("%s: TLS certificate valid until %s", name, leaf.NotAfter.Format(time.DateOnly))
			}
		}
	}
	d.checkClock(ctx, name, endpoint)
	d.checkSignedCall(ctx, name, gc)
}

// gatewayEndpoint reads options.endpoint, with the adapters' defaults
// where they have one.
func gatewayEndpoint(gc configs.Gateway) string {
	var o struct {
		Endpoint string `yaml:"endpoint"`
	}
	_ = gc.Options.Decode(&o) // not strict: only this key matters here
	if o.Endpoint == "" && gc.Kind == "swiftpass" {
		return swiftpass.DefaultEndpoint
	}
	return o.Endpoint
}

// checkClock compares the till's clock with the gateway's Date header on a
// HEAD request (no body, nothing for the acquirer to act on): signatures,
// order expiry and the acquirer's day all depend on it.
func (d *doctor) checkClock(ctx context.Context, name, endpoint string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, endpoint, nil)
	if err != nil {
		return
	}
	before := time.Now()
	resp, err := d.http.Do(req)
	if err != nil {
		d.fail("check the endpoint answers HTTP", "%s: HEAD %s: %v", name, endpoint, err)
		return
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		d.pass("%s: the gateway sends no Date header; clock not compared", name)
		return
	}
	mid := before.Add(time.Since(before) / 2)
	skew := mid.Sub(date)
	if skew < 0 {
		skew = -skew
	}
	if skew > maxClockSkew {
		d.fail("enable NTP (timedatectl set-ntp true) and check the time zone", "%s: the till's clock is %s away from the gateway's", name, skew.Round(time.Second))
		return
	}
	d.pass("%s: clock within %s of the gateway's", name, skew.Round(time.Second))
}

// checkSignedCall queries an order number that was never used: a signed
// call with no side effect. "Not found" proves the signature, merchant and
// key are accepted.
func (d *doctor) checkSignedCall(ctx context.Context, name string, gc configs.Gateway) {
	g, err := gateways.New(gc.Kind, gc.Decode, gateways.Env{Logger: slog.New(slog.DiscardHandler), HTTPClient: &http.Client{}, Dir: d.cfg.Dir})
	if err != nil {
		return // config check reported it
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	ref := gateways.OrderRef{OutTradeNo: "DOCTOR" + strings.ToUpper(hex.EncodeToString(b))}
	ctx, cancel := context.WithTimeout(ctx, 2*doctorTimeout)
	defer cancel()
	res, err := g.Query(ctx, ref)
	if pos.KindOf(err) == pos.Invalid {
		// Refused before sending: some gateways need the order's wallet
		// to ask about it (AllPay's paymentSchema). Make the order up in
		// a wallet the gateway takes.
		caps := g.Capabilities()
		switch {
		case len(caps.MerchantQR) > 0:
			ref.Wallet, ref.Method = caps.MerchantQR[0], pos.MerchantQR
		case len(caps.Micropay) > 0:
			ref.Wallet, ref.Method = caps.Micropay[0], pos.Micropay
		}
		res, err = g.Query(ctx, ref)
	}
	signFix := "the signature was refused or did not verify: check the key (and sign_type / sign_slashes) with the acquirer"
	switch {
	case err == nil && res.Status == gateways.StatusUnknown:
		// An answer that settles nothing: for a made-up order, that is a
		// refusal of the request itself (signature, merchant, terminal).
		why := strings.TrimSpace(res.Code + " " + res.Reason)
		if why == "" {
			why = res.Detail
		}
		d.fail(signFix+"; and the merchant and terminal numbers", "%s: signed query refused: %s", name, why)
	case err == nil:
		d.pass("%s: signed query answered (%s)", name, res.Status)
	case pos.KindOf(err) == pos.NotFound:
		d.pass("%s: signed query of a made-up order answered \"not found\": signature and merchant accepted", name)
	case pos.KindOf(err) == pos.Unavailable:
		d.fail("check the endpoint and the network", "%s: the query could not be sent: %s", name, plainError(err))
	default:
		fix := "check merchant number, terminal and key against the acquirer's welcome letter"
		if strings.Contains(strings.ToLower(err.Error()), "sign") {
			fix = signFix
		}
		d.fail(fix, "%s: signed query failed: %s", name, plainError(err))
	}
}

// checkStateDir: room to journal, and a journal that passes SQLite's own
// check.
func (d *doctor) checkStateDir(ctx context.Context) {
	dir := d.cfg.StateDir
	probe := dir
	for {
		if _, err := os.Stat(probe); err == nil {
			break
		}
		parent := filepath.Dir(probe)
		if parent == probe {
			break
		}
		probe = parent
	}
	var st unix.Statfs_t
	if err := unix.Statfs(probe, &st); err == nil {
		free := st.Bavail * uint64(st.Bsize) / (1 << 20)
		if free < minFreeJournalMiB {
			d.fail("free space on the file system of "+dir+" (old receipts previews, logs)", "state directory %s: only %d MiB free", dir, free)
		} else {
			d.pass("state directory %s: %d MiB free", dir, free)
		}
	}
	journal := filepath.Join(dir, "journal.db")
	if _, err := os.Stat(journal); errors.Is(err, os.ErrNotExist) {
		d.pass("journal %s not created yet (the first start creates it)", journal)
		return
	}
	if err := sqlite.CheckIntegrity(ctx, journal); err != nil {
		d.fail("stop posagent, keep a copy of the file, and restore the latest `posagent backup`", "journal %s fails PRAGMA integrity_check: %v", journal, err)
		return
	}
	d.pass("journal %s passes PRAGMA integrity_check", journal)
}
