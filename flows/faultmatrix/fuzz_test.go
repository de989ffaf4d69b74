package faultmatrix_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/gatewaytest"
	"github.com/posagent/posagent/gateways/sim"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store/sqlite"
)

// specFiles are the specs whose worked examples seed each gateway's
// notification endpoint.
var specFiles = map[string]string{
	"mmsp":      "mmsp-openplat-zh.txt",
	"swiftpass": "swiftpass-qr.txt",
	"allinpay":  "allinpay-oats-qr.txt",
	"allpay":    "allpay-v5.txt",
	"hipopay":   "hipopay-miniprogram.txt",
}

// specExamples are the wire examples of a spec: every <xml>…</xml>
// block, every JSON object that starts a line, and every line of
// key=value pairs joined by &.
func specExamples(f *testing.F, name string) []string {
	dirs := []string{filepath.Join("..", "..", "..", "shared", "specs")}
	if d := os.Getenv("POSAGENT_SPECS"); d != "" {
		dirs = append([]string{d}, dirs...)
	}
	var text string
	for _, d := range dirs {
		if b, err := os.ReadFile(filepath.Join(d, name)); err == nil {
			text = string(b)
			break
		}
	}
	if text == "" {
		f.Fatalf("spec %s not found in %s (set POSAGENT_SPECS)", name, strings.Join(dirs, ", "))
	}
	var out []string
	out = append(out, regexp.MustCompile(`(?s)<xml>.*?</xml>`).FindAllString(text, -1)...)
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if strings.Count(l, "=") >= 2 && strings.Contains(l, "&") && !strings.ContainsAny(l, " \t") {
			out = append(out, l)
		}
		if !strings.HasPrefix(l, "{") {
			continue
		}
		depth, j := 0, i
		var b strings.Builder
		for ; j < len(lines) && j < i+200; j++ {
			b.WriteString(lines[j] + "\n")
			depth += strings.Count(lines[j], "{") - strings.Count(lines[j], "}")
			if depth <= 0 {
				break
			}
		}
		if depth == 0 {
			out = append(out, b.String())
			i = j
		}
	}
	return out
}

// endpoint is one gateway's notification endpoint over a real runner and
// journal, with the order a seed notification pays.
type endpoint struct {
	h        http.Handler
	notifier gateways.Notifier
	db       *sqlite.DB
}

// newEndpoints builds every gateway's endpoint, each with one payment the
// till started (or, for HipoPay, an order placed in the mini-program), and
// returns the simulators' signed notifications of them.
func newEndpoints(f *testing.F) ([]endpoint, [][2][]byte) {
	var eps []endpoint
	var seeds [][2][]byte
	ctx := context.Background()
	for _, gw := range gatewayNames {
		p := newPairs[gw](f, "http://127.0.0.1:9/notify/gw", http.DefaultClient) // the simulator posts nowhere
		db, err := sqlite.Open(filepath.Join(f.TempDir(), gw+".db"), sqlite.Options{})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { _ = db.Close() })
		key := make([]byte, 32)
		_, _ = rand.Read(key)
		r, err := flows.NewRunner(flows.Options{Journal: db, Gateways: map[string]gateways.Gateway{"gw": p.gw}, CodeKey: key,
			Tick: 20 * time.Millisecond, WalletRules: flows.WalletRules{}})
		if err != nil {
			f.Fatal(err)
		}
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); _ = r.Run(rctx) }()
		f.Cleanup(func() { cancel(); <-done })
		no := gatewaytest.NewOutTradeNo()
		amount := pos.Money{Minor: 100, Currency: p.currency}
		if p.seed != nil {
			if err := p.seed(no, amount, sim.Behaviour{}); err != nil {
				f.Fatal(err)
			}
		} else {
			m, w := method(p.gw)
			req := flows.StartRequest{Amount: amount, Method: m, Gateway: "gw"}
			if m == pos.Micropay {
				req.Code, _ = pos.ParseAuthCode(gatewaytest.DefaultCodes[w])
			} else {
				req.Wallet = w
			}
			pay, err := r.Start(ctx, req)
			if err != nil {
				f.Fatalf("%s: Start: %v", gw, err)
			}
			no = pay.OutTradeNo
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				if pay, err = r.Get(ctx, pay.ID); err == nil && pay.State.Final() {
					break
				}
				if time.Now().After(deadline) {
					f.Fatalf("%s: the seed payment is still %s", gw, pay.State)
				}
			}
		}
		hdr, body, err := p.notification(no)
		if err != nil {
			f.Fatalf("%s: notification: %v", gw, err)
		}
		seeds = append(seeds, [2][]byte{[]byte(headerText(hdr)), body})
		eps = append(eps, endpoint{h: localapi.NotifyHandler(r, map[string]gateways.Notifier{"gw": p.notifier}, nil), notifier: p.notifier, db: db})
	}
	return eps, seeds
}

// headerText and parseHeader carry a notification's headers (HipoPay
// signs in them) through the fuzzer as "Key: value" lines.
func headerText(h http.Header) string {
	var b strings.Builder
	for k, vs := range h {
		for _, v := range vs {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	return b.String()
}

func parseHeader(s string) http.Header {
	h := http.Header{}
	for _, l := range strings.Split(s, "\n") {
		if k, v, ok := strings.Cut(l, ": "); ok && k != "" {
			h.Add(k, v)
		}
	}
	return h
}

// FuzzNotifyEndpoint: whatever an acquirer (or anyone reaching the
// endpoint) POSTs to /notify/{gateway}, the daemon's handler answers with
// the gateway's own acknowledgement, never panics, and changes the journal
// only for a notification the gateway verified: a refused one leaves every
// payment as it was, and none is ever adopted from it.
func FuzzNotifyEndpoint(f *testing.F) {
	eps, signed := newEndpoints(f)
	for i, gw := range gatewayNames {
		f.Add(uint8(i), signed[i][0], signed[i][1])
		for _, ex := range specExamples(f, specFiles[gw]) {
			f.Add(uint8(i), []byte("Content-Type: application/json\n"), []byte(ex))
		}
	}
	f.Fuzz(func(t *testing.T, gw uint8, hdr, body []byte) {
		ep := eps[int(gw)%len(eps)]
		ctx := context.Background()
		before, err := ep.db.Recent(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "http://till.example/notify/gw", bytes.NewReader(body))
		for k, vs := range parseHeader(string(hdr)) {
			req.Header[k] = vs
		}
		w := httptest.NewRecorder()
		ep.h.ServeHTTP(w, req)
		_, okAck := ep.notifier.NotificationAck(true)
		_, noAck := ep.notifier.NotificationAck(false)
		switch {
		case w.Code == http.StatusOK && bytes.Equal(w.Body.Bytes(), okAck):
			return // verified and applied (or a duplicate of one)
		case w.Code == http.StatusOK:
			t.Fatalf("200 with %q, not the gateway's acknowledgement %q", w.Body, okAck)
		case !bytes.Equal(w.Body.Bytes(), noAck):
			t.Fatalf("%d with %q, not the gateway's refusal %q", w.Code, w.Body, noAck)
		}
		after, err := ep.db.Recent(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(after) != len(before) {
			t.Fatalf("a refused notification (%d) changed the journal: %d payments, now %d", w.Code, len(before), len(after))
		}
		for i := range after {
			if after[i].ID != before[i].ID || after[i].State != before[i].State || after[i].UpdatedAt != before[i].UpdatedAt {
				t.Fatalf("a refused notification (%d) changed payment %s: %s → %s", w.Code, after[i].ID, before[i].State, after[i].State)
			}
		}
	})
}
