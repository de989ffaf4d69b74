package mmspsim

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/mmsp"
	"github.com/posagent/posagent/gateways/sim"
)

func start(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(func() { ts.Close(); srv.Close() })
	return srv, ts
}

// send posts a hand-built message and returns the parsed answer.
func send(t *testing.T, url string, h mmsp.Header, body []byte, key string) mmsp.Message {
	t.Helper()
	if h.MerNo == "" {
		h.MerNo, h.TermNo = TestMerchantNo, TestTerminalNo
	}
	h.SeqID, h.NodeType, h.NodeID = 7, 3, "openplat"
	raw := mmsp.Marshal(h, body, mmsp.Sign(body, key, mmsp.SlashEscaped))
	resp, err := http.Post(url, "application/json", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(resp.Body)
	m, err := mmsp.Parse(ans, TestKey.Reveal(), mmsp.SlashEscaped)
	if err != nil {
		t.Fatalf("answer %s: %v", ans, err)
	}
	if m.SeqID != 7 {
		t.Errorf("SeqID not echoed: %d", m.SeqID)
	}
	return m
}

func micropayBody(no, amt, goods string) map[string]string {
	return map[string]string{"AMT": amt, "CUR": "CNY", "GOODSNAME": goods, "NOTIFY_URL": "http://127.0.0.1:9/n",
		"MERORDERID": no, "RANDSTR": "abc", "CODE": "134567890123456789"}
}

func TestRequestChecks(t *testing.T) {
	_, ts := start(t, DemoOptions())
	key := TestKey.Reveal()
	ok := mmsp.EncodeBody(micropayBody("A1", "100", "咖啡"))
	for _, tc := range []struct {
		name   string
		h      mmsp.Header
		body   []byte
		key    string
		ret    int
		errHas string
	}{
		{"wrong signature", mmsp.Header{CommandID: 2307}, ok, "wrong", 1006, "[-1006]"},
		{"wrong merchant", mmsp.Header{CommandID: 2307, MerNo: "1", TermNo: "2"}, ok, key, mmsp.RetStructure, "[-1002]"},
		{"unknown command", mmsp.Header{CommandID: 771}, ok, key, mmsp.RetStructure, "771"},
		{"missing CODE", mmsp.Header{CommandID: 2307}, mmsp.EncodeBody(map[string]string{"AMT": "1", "CUR": "CNY", "GOODSNAME": "x", "NOTIFY_URL": "http://a/b", "MERORDERID": "A2", "RANDSTR": "r"}), key, mmsp.RetStructure, "CODE"},
		{"long GOODSNAME", mmsp.Header{CommandID: 2307}, mmsp.EncodeBody(micropayBody("A3", "1", "一二三四五六七八九十一二三四五六")), key, mmsp.RetStructure, "GOODSNAME"},
		{"long MERORDERID", mmsp.Header{CommandID: 2307}, mmsp.EncodeBody(micropayBody("123456789012345678901", "1", "x")), key, mmsp.RetStructure, "MERORDERID"},
		{"unquoted number", mmsp.Header{CommandID: 2307}, []byte(`{"AMT":1,"CODE":"134567890123456789","CUR":"CNY","GOODSNAME":"x","MERORDERID":"A4","NOTIFY_URL":"http:\/\/a\/b","RANDSTR":"r"}`), key, mmsp.RetStructure, "AMT"},
		{"query unknown", mmsp.Header{CommandID: 2310}, mmsp.EncodeBody(map[string]string{"MERORDERID": "NOPE", "RANDSTR": "r"}), key, mmsp.RetStructure, "[-2002]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := send(t, ts.URL, tc.h, tc.body, tc.key)
			if m.CommandID != mmsp.CmdNegative || m.RetCode != tc.ret || !strings.Contains(m.ErrorMsg, tc.errHas) {
				t.Errorf("answer %d RetCode %d %q, want negative %d mentioning %q", m.CommandID, m.RetCode, m.ErrorMsg, tc.ret, tc.errHas)
			}
		})
	}
	t.Run("accepted, then duplicate", func(t *testing.T) {
		m := send(t, ts.URL, mmsp.Header{CommandID: 2307}, ok, key)
		if m.CommandID != 35075 || m.Str("STATUS") != "1" || m.Str("ORDERNO") == "" {
			t.Fatalf("answer %+v", m)
		}
		m = send(t, ts.URL, mmsp.Header{CommandID: 2307}, ok, key)
		if m.CommandID != mmsp.CmdNegative || m.RetCode != 1008 {
			t.Fatalf("duplicate answer %+v", m)
		}
	})
	t.Run("code of another wallet is declined", func(t *testing.T) {
		b := micropayBody("A5", "100", "x")
		b["CODE"] = "284567890123456789"
		m := send(t, ts.URL, mmsp.Header{CommandID: 2307}, mmsp.EncodeBody(b), key)
		if m.Str("STATUS") != "2" || m.Str("ERR_CODE_MSG") == "" {
			t.Fatalf("answer %+v", m.Fields)
		}
	})
}

func TestClientAgainstSimulator(t *testing.T) {
	dir := t.TempDir()
	o := DemoOptions()
	o.LedgerPath = filepath.Join(dir, "mmsp-ledger.json")
	o.Rules.ReverseAfter = 300 * time.Millisecond
	srv, ts := start(t, o)

	// The daemon's notification endpoint, played by the client itself.
	var mu sync.Mutex
	var got []gateways.Notification
	var client *mmsp.Client
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n, err := client.ParseNotification(r.Header, b)
		if err == nil {
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
		}
		_, ack := client.NotificationAck(err == nil)
		w.Write(ack)
	}))
	defer rcv.Close()
	co := ClientOptions(o, ts.URL, rcv.URL)
	co.Timing.PollInterval = 10 * time.Millisecond
	client, err := mmsp.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	code, _ := pos.ParseAuthCode("284567890123456789")
	amt, _ := pos.NewMoney(191, "CNY")
	res, err := client.Micropay(ctx, gateways.MicropayRequest{OutTradeNo: "SIM1", Amount: amt, Code: code})
	if err != nil || res.Status != gateways.StatusUserPaying {
		t.Fatalf("Micropay = %+v, %v", res, err)
	}
	ref := gateways.OrderRef{OutTradeNo: "SIM1", Amount: amt}
	// Reverse too early: the simulator refuses, the adapter says Unknown.
	if res, err := client.Reverse(ctx, ref); err != nil || res.Status != gateways.StatusUnknown {
		t.Fatalf("early Reverse = %+v, %v", res, err)
	}
	for _, want := range []gateways.Status{gateways.StatusUserPaying, gateways.StatusSucceeded} {
		if res, err := client.Query(ctx, ref); err != nil || res.Status != want {
			t.Fatalf("Query = %+v, %v; want %s", res, err, want)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for !srv.Acked("SIM1") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	if len(got) != 1 || got[0].OutTradeNo != "SIM1" || got[0].Result.Status != gateways.StatusSucceeded || got[0].Result.Amount != amt {
		t.Errorf("notifications = %+v", got)
	}
	mu.Unlock()
	if !srv.Acked("SIM1") {
		t.Error("notification not acknowledged")
	}

	// A restarted simulator on the same ledger knows the order.
	ts.Close()
	srv.Close()
	_, ts2 := start(t, o)
	co.Endpoint = ts2.URL
	client2, err := mmsp.New(co, gateways.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := client2.Query(ctx, ref); err != nil || res.Status != gateways.StatusSucceeded {
		t.Fatalf("Query after restart = %+v, %v", res, err)
	}
}

func TestScriptByAmount(t *testing.T) {
	srv, ts := start(t, DemoOptions())
	srv.Script().SetAmount(4242, sim.Behaviour{DeclineCode: "XX", DeclineMsg: "风控拒绝"})
	m := send(t, ts.URL, mmsp.Header{CommandID: 2307}, mmsp.EncodeBody(micropayBody("S1", "4242", "x")), TestKey.Reveal())
	if m.Str("STATUS") != "2" || m.Str("ERR_CODE") != "XX" || m.Str("ERR_CODE_MSG") != "风控拒绝" {
		t.Fatalf("answer %+v", m.Fields)
	}
}
