package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
	"github.com/posagent/posagent/store/sqlite"
)

// stampProxy forwards TCP to an upstream and stamps the arrival of the
// first byte of every HTTP request: on a connection, the first bytes from
// the client after the upstream last answered (a keep-alive client sends
// its next request only after the answer to the last).
type stampProxy struct {
	ln       net.Listener
	upstream string
	stamps   chan time.Time
}

func newStampProxy(upstream string) (*stampProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &stampProxy{ln: ln, upstream: upstream, stamps: make(chan time.Time, 4096)}
	go p.serve()
	return p, nil
}

func (p *stampProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.pipe(c)
	}
}

func (p *stampProxy) pipe(c net.Conn) {
	defer c.Close()
	u, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer u.Close()
	var mu sync.Mutex
	answered := true // the next client bytes start a request
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := u.Read(buf)
			if n > 0 {
				mu.Lock()
				answered = true
				mu.Unlock()
				if _, err := c.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				c.Close()
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			at := time.Now()
			mu.Lock()
			start := answered
			answered = false
			mu.Unlock()
			if start {
				select {
				case p.stamps <- at:
				default:
				}
			}
			if _, err := u.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *stampProxy) drain() {
	for {
		select {
		case <-p.stamps:
		default:
			return
		}
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// cpuNS reads a process's CPU time (every thread, from schedstat, in ns)
// and memory (VmRSS, VmHWM in kB).
func cpuNS(pid int) (int64, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	// Threads that ended are in the process's own utime+stime only;
	// Go rarely ends threads, so schedstat of the live ones is the figure.
	return sum, nil
}

type mem struct{ rss, hwm, anon, file int64 } // kB

func memKB(pid int) (m mem) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = n
		case "VmHWM:":
			m.hwm = n
		case "RssAnon:":
			m.anon = n
		case "RssFile:":
			m.file = n
		}
	}
	return m
}

// rig is a simulator, the stamping proxy in front of it, and the daemon
// (posagent serve) from a config pointing at the proxy, with a serial
// scanner on a pseudo-terminal the bench types into.
type rig struct {
	bin, dir, api string
	token         string
	sim, serve    *exec.Cmd
	proxy         *stampProxy
	ptm, pts      *os.File
	serveLog      *bytes.Buffer
	client        *http.Client
}

func newRig(bin, dir string) (*rig, error) {
	r := &rig{bin: bin, dir: dir, client: &http.Client{Timeout: 60 * time.Second}}
	simAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	r.sim = exec.Command(bin, "simulate", "--gateway", "mmsp", "--listen", simAddr, "--state", filepath.Join(dir, "sim"), "--log-level", "error")
	r.sim.Stdout, r.sim.Stderr = io.Discard, os.Stderr
	if err := r.sim.Start(); err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", simAddr)
		if err == nil {
			c.Close()
			break
		}
		if i > 500 {
			return nil, fmt.Errorf("simulator not listening at %s", simAddr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.proxy, err = newStampProxy(simAddr); err != nil {
		return nil, err
	}
	if r.ptm, r.pts, err = pty.Open(); err != nil {
		return nil, err
	}
	if r.api, err = freeAddr(); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "mmsp.key"), []byte("ea21842eea24e448b991b1cb0a0294cf\n"), 0o600); err != nil {
		return nil, err
	}
	cfg := fmt.Sprintf(`state_dir: %s
listen: %s
api: {rate_limit: 100000, rate_burst: 100000}
gateways:
  - name: mmsp
    kind: mmsp
    options:
      endpoint: http://%s/
      merchant_no: "001440353999853"
      terminal_no: "84970001"
      key_file: mmsp.key
      notify_url: http://127.0.0.1:1/notify/mmsp
      simulated: true
      timing: {poll_interval: 500ms, pay_timeout: 5s, reverse_after: 1s}
      call_timeout: 3s
printer:
  kind: escpos
  options: {transport: file, path: %s, profile: 80mm}
receipt: {merchant_name: Bench Shop}
scanners:
  - name: counter
    kind: serial
    options: {path: %s, suffix: lf, baud: 9600}
`, filepath.Join(dir, "state"), r.api, r.proxy.ln.Addr(), filepath.Join(dir, "receipts.bin"), r.pts.Name())
	if err := os.WriteFile(filepath.Join(dir, "posagent.yaml"), []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	return r, nil
}

// start starts the daemon and returns how long it took from exec to the
// first 200 from /healthz.
func (r *rig) start() (time.Duration, error) {
	r.serve = exec.Command(r.bin, "serve", "--config", filepath.Join(r.dir, "posagent.yaml"))
	r.serveLog = &bytes.Buffer{}
	r.serve.Stdout, r.serve.Stderr = r.serveLog, r.serveLog
	t0 := time.Now()
	if err := r.serve.Start(); err != nil {
		return 0, err
	}
	hc := &http.Client{Timeout: time.Second}
	for {
		resp, err := hc.Get("http://" + r.api + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Since(t0) > 30*time.Second {
			return 0, fmt.Errorf("serve not ready after 30 s:\n%s", r.serveLog)
		}
		time.Sleep(time.Millisecond)
	}
	d := time.Since(t0)
	if r.token == "" {
		b, err := os.ReadFile(filepath.Join(r.dir, "state", "api.token"))
		if err != nil {
			return 0, err
		}
		r.token = strings.TrimSpace(string(b))
	}
	return d, nil
}

func (r *rig) stop() {
	if r.serve != nil && r.serve.Process != nil {
		r.serve.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { r.serve.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			r.serve.Process.Kill()
			<-done
		}
	}
	r.serve = nil
}

func (r *rig) close() {
	r.stop()
	r.sim.Process.Kill()
	r.sim.Wait()
	r.proxy.ln.Close()
	r.ptm.Close()
	r.pts.Close()
}

func (r *rig) call(method, path string, body any) (map[string]any, int, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, "http://"+r.api+path, rd)
	req.Header.Set("Authorization", "Bearer "+r.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var v map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 && b[0] == '{' {
		json.Unmarshal(b, &v)
	}
	if resp.StatusCode >= 300 {
		return v, resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return v, resp.StatusCode, nil
}

// code is a WeChat Pay payment code (18 digits, 13 first), new for every i
// (the scanner hub drops a code scanned twice in a row).
func code(i int) string { return fmt.Sprintf("13%016d", 4567890123456789+int64(i)) }

// pay takes one payment with the code in the request and waits for it to
// be final.
func (r *rig) pay(i int) error {
	v, _, err := r.call("POST", "/v1/payments?wait=30s", map[string]any{"amount": 1200, "currency": "CNY", "auth_code": code(i)})
	if err != nil {
		return err
	}
	if v["state"] != "succeeded" {
		return fmt.Errorf("payment %d: %v", i, v["state"])
	}
	return nil
}

// scan takes one payment by the scanner: the till asks, the code is typed
// into the pty and its terminator timed to the first byte of the micropay
// at the proxy.
func (r *rig) scan(i int) (time.Duration, error) {
	v, _, err := r.call("POST", "/v1/payments", map[string]any{"amount": 1200, "currency": "CNY"})
	if err != nil {
		return 0, err
	}
	id, _ := v["id"].(string)
	if _, err := r.ptm.Write([]byte(code(i))); err != nil {
		return 0, err
	}
	time.Sleep(3 * time.Millisecond) // the digits are read; only the terminator is timed
	r.proxy.drain()
	t0 := time.Now()
	if _, err := r.ptm.Write([]byte("\n")); err != nil {
		return 0, err
	}
	var t1 time.Time
	select {
	case t1 = <-r.proxy.stamps:
	case <-time.After(10 * time.Second):
		return 0, fmt.Errorf("scan %d: no request reached the simulator", i)
	}
	for {
		p, _, err := r.call("GET", "/v1/payments/"+id+"?wait=10s", nil)
		if err != nil {
			return 0, err
		}
		if p["state"] == "succeeded" {
			break
		}
		if p["state"] != "pending" {
			return 0, fmt.Errorf("scan %d: %v", i, p["state"])
		}
	}
	return t1.Sub(t0), nil
}

// runDaemon measures the daemon (posagent serve against posagent simulate
// behind a stamping proxy): start to API ready, RSS and CPU idle,
// scan-to-wire with one journal commit on the same disk timed beside each
// scan, CPU per payment and RSS after payments.
func runDaemon(args []string) error {
	fs := flag.NewFlagSet("daemon", flag.ExitOnError)
	bin := fs.String("bin", "./posagent", "posagent binary")
	scans := fs.Int("scans", 300, "payments by the scanner (scan-to-wire)")
	pays := fs.Int("pays", 1000, "payments through the API (CPU per payment, RSS after)")
	idle := fs.Duration("idle", 30*time.Second, "idle interval for CPU while idle")
	starts := fs.Int("starts", 7, "starts measured (start to API ready)")
	dir := fs.String("dir", "", "work directory (default: temporary)")
	fs.Parse(args)
	if *dir == "" {
		d, err := os.MkdirTemp("", "bench-daemon-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		*dir = d
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		return err
	}
	abs, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	r, err := newRig(abs, *dir)
	if err != nil {
		return err
	}
	defer r.close()

	// Start to ready: the first start creates the state; the others open it.
	var startMS []float64
	first, err := r.start()
	if err != nil {
		return err
	}
	r.stop()
	for range *starts {
		d, err := r.start()
		if err != nil {
			return err
		}
		startMS = append(startMS, ms(d))
		r.stop()
	}
	if _, err := r.start(); err != nil {
		return err
	}
	pid := r.serve.Process.Pid
	time.Sleep(3 * time.Second) // settle: the runners' first looks, GC
	memStart := memKB(pid)
	c0, _ := cpuNS(pid)
	time.Sleep(*idle)
	c1, _ := cpuNS(pid)
	idlePct := float64(c1-c0) / float64(idle.Nanoseconds()) * 100

	// Scan-to-wire, a journal commit on the same disk timed after each.
	side, err := sqlite.Open(filepath.Join(*dir, "side.db"), sqlite.Options{})
	if err != nil {
		return err
	}
	defer side.Close()
	var s2w, commit []time.Duration
	ctx := context.Background()
	c0, _ = cpuNS(pid)
	w0 := time.Now()
	for i := range *scans {
		d, err := r.scan(i)
		if err != nil {
			return fmt.Errorf("%w\n%s", err, r.serveLog)
		}
		s2w = append(s2w, d)
		p := benchPayment(1_000_000 + i)
		t := time.Now()
		if err := side.Append(ctx, store.Change{Payment: p, Reason: "created", At: p.CreatedAt}); err != nil {
			return err
		}
		commit = append(commit, time.Since(t))
	}
	c1, _ = cpuNS(pid)
	scanCPU := float64(c1-c0) / float64(*scans) / 1e6
	scanWall := time.Since(w0)

	// Payments through the API, sequentially.
	c0, _ = cpuNS(pid)
	w0 = time.Now()
	for i := range *pays {
		if err := r.pay(1_000_000 + i); err != nil {
			return fmt.Errorf("%w\n%s", err, r.serveLog)
		}
	}
	payWall := time.Since(w0)
	c1, _ = cpuNS(pid)
	payCPU := float64(c1-c0) / float64(*pays) / 1e6
	time.Sleep(2 * time.Second)
	memAfter := memKB(pid)
	total := *scans + *pays
	_ = pos.Micropay

	emit(map[string]any{"bench": "daemon",
		"first_start_ms": ms(first), "start_ms": median(startMS), "start_range_ms": minmax(startMS),
		"rss_idle_mb": float64(memStart.rss) / 1024, "rss_idle_anon_mb": float64(memStart.anon) / 1024, "rss_idle_file_mb": float64(memStart.file) / 1024, "idle_cpu_pct": idlePct, "idle_s": idle.Seconds(),
		"scans": *scans, "s2w_p50_ms": ms(pct(s2w, 50)), "s2w_p99_ms": ms(pct(s2w, 99)),
		"commit_p50_ms": ms(pct(commit, 50)), "commit_p99_ms": ms(pct(commit, 99)),
		"s2w_p50_beyond_commit_ms": ms(pct(s2w, 50) - pct(commit, 50)),
		"s2w_p99_beyond_commit_ms": ms(pct(s2w, 99) - pct(commit, 99)),
		"scan_cpu_ms_per_payment":  scanCPU, "scan_wall_ms_per_payment": ms(scanWall) / float64(*scans),
		"pays": *pays, "cpu_ms_per_payment": payCPU, "wall_ms_per_payment": ms(payWall) / float64(*pays),
		"payments_total": total, "rss_after_mb": float64(memAfter.rss) / 1024, "rss_hwm_mb": float64(memAfter.hwm) / 1024,
		"rss_after_anon_mb": float64(memAfter.anon) / 1024, "rss_after_file_mb": float64(memAfter.file) / 1024})
	return nil
}
