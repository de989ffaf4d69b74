package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/hw/display"
)

const displayTestGateway = `
gateways: [{name: g, kind: mmsp}]
receipt: {merchant_name: Tea House}
`

func TestDisplayKindsFromConfig(t *testing.T) {
	for _, c := range []struct {
		name, yaml string
		terminal   bool
		web        bool
		listen     string
		title      string
		idleAfter  time.Duration
		poles      int
		err        string
	}{
		{name: "no section", yaml: ""},
		{name: "none", yaml: "display: {kind: none}"},
		{name: "terminal", yaml: "display: {kind: terminal}", terminal: true},
		{name: "web with defaults", yaml: "display: {kind: web}", web: true, title: "Tea House"},
		{name: "web with options", yaml: "display: {kind: web, options: {listen: '127.0.0.1:9000', idle_after: 4s, title: Counter 2}}",
			web: true, listen: "127.0.0.1:9000", idleAfter: 4 * time.Second, title: "Counter 2"},
		{name: "both", yaml: "display: {kind: both, options: {listen: 'localhost:9001'}}", terminal: true, web: true, listen: "localhost:9001", title: "Tea House"},
		{name: "tablet on the network", yaml: "display: {kind: web, options: {listen: '0.0.0.0:8418', allow_remote: true}}", web: true, listen: "0.0.0.0:8418", title: "Tea House"},
		{name: "off loopback", yaml: "display: {kind: web, options: {listen: '0.0.0.0:8418'}}", err: "not a loopback address"},
		{name: "unknown option", yaml: "display: {kind: web, options: {port: 8418}}", err: "display.options"},
		{name: "unknown kind", yaml: "display: {kind: hologram}", err: `display.kind "hologram" is not one of terminal, web, pole, both, none`},
		{name: "pole without a port", yaml: "display: {kind: pole}", err: "display.options: poledisplay: port is required"},
		{name: "pole", yaml: "display: {kind: pole, options: {port: /dev/ttyUSB1, profile: cd5220}}", poles: 1},
		{name: "a list of kinds", yaml: "display: {kind: [web, pole, terminal], options: {web: {listen: '127.0.0.1:9002'}, pole: {port: /dev/ttyUSB1}}}",
			terminal: true, web: true, listen: "127.0.0.1:9002", title: "Tea House", poles: 1},
		{name: "a list of sections", yaml: "display: [{kind: terminal}, {kind: pole, options: {port: /dev/ttyUSB1}}, {kind: pole, options: {port: /dev/ttyUSB2}}]",
			terminal: true, poles: 2},
		{name: "a list of kinds with options not keyed by kind", yaml: "display: {kind: [web, pole], options: {listen: '127.0.0.1:9002'}}", err: "listen is not one of the kinds"},
		{name: "two web pages", yaml: "display: [{kind: web}, {kind: both}]", err: "a second web display"},
		{name: "bad pole in a list", yaml: "display: [{kind: terminal}, {kind: pole, options: {port: /dev/ttyUSB1, code_page: ebcdic}}]", err: "display[1].options: poledisplay: code_page"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := configs.Parse([]byte(displayTestGateway + c.yaml))
			if err != nil && (c.err == "" || !strings.Contains(err.Error(), c.err)) {
				t.Fatal(err)
			}
			var s displaySetup
			if err == nil {
				s, err = parseDisplay(cfg)
			}
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.terminal != c.terminal || (s.web != nil) != c.web || len(s.poles) != c.poles {
				t.Fatalf("terminal %v web %v poles %d, want %v %v %d", s.terminal, s.web != nil, len(s.poles), c.terminal, c.web, c.poles)
			}
			for _, p := range s.poles {
				if p.Title != "Tea House" {
					t.Errorf("pole title %q, want the merchant's name", p.Title)
				}
			}
			if s.web != nil && (s.web.Listen != c.listen || s.web.Title != c.title || s.web.IdleAfter != c.idleAfter) {
				t.Errorf("web options %+v, want listen %q title %q idle_after %v", *s.web, c.listen, c.title, c.idleAfter)
			}
		})
	}
}

func TestDisplayStartServesThePage(t *testing.T) {
	cfg, err := configs.Parse([]byte(displayTestGateway + "display: {kind: both, options: {listen: '127.0.0.1:0'}}"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseDisplay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var term strings.Builder
	d, web, err := s.start(&term, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer web.Close()
	if err := d.Show(t.Context(), scanPromptScreen(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(term.String(), "Amount due: 18.00 CNY") {
		t.Errorf("kind both: the terminal got %q", term.String())
	}
	resp, err := http.Get(web.URL() + "state")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"kind":"scan_prompt"`) || !strings.Contains(string(b), `"title":"Tea House"`) {
		t.Errorf("kind both: the page's state is %s", b)
	}
}

func TestDemoDisplayMovesOffATakenDefaultPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().String()
	log := slog.New(slog.DiscardHandler)
	if _, _, err := startDemoDisplay(taken, true, "demo", nil, io.Discard, log); err == nil {
		t.Error("--display-listen on a taken port: no error")
	}
	_, web, err := startDemoDisplay(taken, false, "demo", nil, io.Discard, log)
	if err != nil {
		t.Fatalf("the default port taken: %v, want a free port instead", err)
	}
	defer web.Close()
	if web.Addr() == taken || !strings.HasPrefix(web.Addr(), "127.0.0.1:") {
		t.Errorf("moved to %s", web.Addr())
	}
	d, web, err := startDemoDisplay("none", true, "demo", nil, io.Discard, log)
	if err != nil || web != nil || d == nil {
		t.Errorf("--display-listen none: %v %v %v, want the terminal display only", d, web, err)
	}
}

func scanPromptScreen(t *testing.T) display.Screen {
	t.Helper()
	m, err := pos.NewMoney(1800, "CNY")
	if err != nil {
		t.Fatal(err)
	}
	return display.Screen{Kind: display.ScanPrompt, Amount: m, State: pos.StateAwaitingCode, Message: "Please show your payment code"}
}

// TestSeveralDisplaysAtOnce: a list of kinds shows every screen on each,
// the pole display on a pseudo-terminal.
func TestSeveralDisplaysAtOnce(t *testing.T) {
	m, sl, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	defer m.Close()
	defer sl.Close()
	cfg, err := configs.Parse([]byte(displayTestGateway + "display: {kind: [terminal, pole], options: {pole: {port: '" + sl.Name() + "', profile: cd5220}}}"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseDisplay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var term strings.Builder
	d, _, err := s.start(&term, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Show(t.Context(), scanPromptScreen(t)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(term.String(), "Amount due: 18.00 CNY") {
		t.Errorf("the terminal got %q", term.String())
	}
	want := "\x1bQA" + "Amount due          " + "\r" + "\x1bQB" + "           CNY 18.00" + "\r"
	var got []byte
	buf := make([]byte, 256)
	for !strings.Contains(string(got), want) {
		_ = m.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := m.Read(buf)
		if err != nil {
			t.Fatalf("the pole display got %q, want it to end with %q: %v", got, want, err)
		}
		got = append(got, buf[:n]...)
	}
	if !strings.HasPrefix(string(got), "\x1b@\x0c\x1bQAWelcome") || !strings.Contains(string(got), "Tea House") {
		t.Errorf("the pole display was not initialised with the welcome screen and the merchant's name: %q", got)
	}
}

// TestDisplayREADMEExample: the README's display section is a valid
// config (two languages, a wallet override, a rate, a pole display).
func TestDisplayREADMEExample(t *testing.T) {
	cfg, err := configs.Parse([]byte(displayTestGateway + `
display:
  kind: [web, pole]
  options:
    web:
      listen: 127.0.0.1:8418
      title: Example Tea House
      idle_after: 10s
      qr_pixels: 10
      languages: [en, zh-Hans]
      wallet_languages: {alipay: zh-Hant}
      rates:
        - {currency: HKD, cny: "0.9213", at: 2026-12-01T09:00:00+08:00}
    pole:
      port: /dev/ttyUSB1
      baud: 9600
      profile: epson
      code_page: pc858
      idle: Welcome
`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := parseDisplay(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.web == nil || len(s.web.Rates) != 1 || s.web.Rates[0].At.IsZero() || len(s.poles) != 1 || s.poles[0].CodePage != "pc858" {
		t.Errorf("setup %+v %+v", s.web, s.poles)
	}
}
