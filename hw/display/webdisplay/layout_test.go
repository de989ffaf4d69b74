package webdisplay

import (
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
	"github.com/posagent/posagent/internal/chromiumtest"
)

// The screens tills use: landscape monitors from 1920x1080 down to a 7"
// 800x480 panel, and a portrait tablet.
var tillSizes = []struct{ w, h int }{
	{1920, 1080}, {1366, 768}, {1280, 800}, {1024, 600}, {800, 1280}, {800, 480},
}

// resize makes the page's viewport w x h CSS pixels at scale 1.
func resize(t *testing.T, c *chromiumtest.Browser, w, h int) {
	t.Helper()
	if _, err := c.Call("Emulation.setDeviceMetricsOverride", map[string]any{"width": w, "height": h, "deviceScaleFactor": 1, "mobile": false}); err != nil {
		t.Fatal(err)
	}
}

// layoutProblems lists every visible element that is not wholly inside the
// viewport, and whether the document could scroll.
const layoutProblems = `(function () {
  var W = window.innerWidth, H = window.innerHeight, bad = [];
  var se = document.scrollingElement;
  if (se.scrollHeight > H || se.scrollWidth > W) { bad.push('document scrolls: ' + se.scrollWidth + 'x' + se.scrollHeight); }
  document.querySelectorAll('body *').forEach(function (e) {
    if (e.tagName === 'SCRIPT' || e.closest('[hidden]')) { return; }
    var r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) { return; }
    if (r.left < -0.5 || r.top < -0.5 || r.right > W + 0.5 || r.bottom > H + 0.5) {
      bad.push((e.id || e.tagName + '.' + e.className) + ' at ' + Math.round(r.left) + ',' + Math.round(r.top) + '-' + Math.round(r.right) + ',' + Math.round(r.bottom));
    }
    if (e.scrollHeight > e.clientHeight + 1 && getComputedStyle(e).overflowY !== 'visible' && e.id !== 'title') {
      bad.push((e.id || e.tagName) + ' clips its content');
    }
  });
  return JSON.stringify(bad);
})()`

// TestChromiumEveryScreenFitsEveryTillScreen loads every customer screen at
// every size a till uses in one headless Chromium and fails when anything
// falls outside the viewport or the page scrolls; the QR screen's
// screenshot must decode at each size, with the QR as large as the layout
// leaves.
func TestChromiumEveryScreenFitsEveryTillScreen(t *testing.T) {
	chromiumPath(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s, err := Start(Options{Listen: "127.0.0.1:0", Title: "Golden Dragon Tea House, Nathan Road", IdleAfter: -1,
		Rates: []RateOption{{Currency: "HKD", CNY: "0.9213", At: now.Add(-time.Hour)}}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hkd := money(t, 888880, "HKD") // HKD 8888.80: a long amount, with its CNY equivalent
	screens := []struct {
		name string
		s    display.Screen
	}{
		{"idle", display.Screen{Kind: display.Idle}},
		{"amount due", display.Screen{Kind: display.ScanPrompt, Amount: hkd, State: pos.StateAwaitingCode}},
		{"qr", display.Screen{Kind: display.ShowQR, Amount: hkd, Wallet: pos.WeChatPay, State: pos.StateUserPaying, QR: codeURL, Expires: now.Add(5 * time.Minute)}},
		{"confirm on phone", display.Screen{Kind: display.Processing, Amount: hkd, Wallet: pos.Alipay, State: pos.StateUserPaying, Expires: now.Add(45 * time.Second)}},
		{"success", display.Screen{Kind: display.Result, Amount: hkd, Wallet: pos.Alipay, State: pos.StateSucceeded}},
		{"failure", display.Screen{Kind: display.Result, Amount: hkd, Wallet: pos.WeChatPay, State: pos.StateFailed, Message: "Payment failed: dial tcp 10.0.0.1:443: i/o timeout"}},
		{"refund", display.Screen{Kind: display.Refunded, Amount: hkd, Wallet: pos.WeChatPay}},
		{"withdrawn", display.Screen{Kind: display.Withdrawn, Amount: hkd, Wallet: pos.UnionPay, State: pos.StateUserPaying, Expires: now.Add(5 * time.Minute)}},
		{"rejected", display.Screen{Kind: display.Rejected, Amount: hkd, Wallet: pos.UnionPay, Outcome: display.OutcomeWalletNotAccepted}},
	}
	c := startPage(t, s.URL())
	c.WaitEval("document.body.dataset.live", "1", 15*time.Second)
	for _, size := range tillSizes {
		resize(t, c, size.w, size.h)
		for _, sc := range screens {
			name := fmt.Sprintf("%dx%d %s", size.w, size.h, sc.name)
			if err := s.Show(t.Context(), sc.s); err != nil {
				t.Fatal(err)
			}
			v, _ := s.snapshot()
			c.WaitEval("document.body.dataset.seq", strconv.FormatUint(v.Seq, 10), 10*time.Second)
			if sc.s.QR.Reveal() != "" {
				c.WaitEval("(function(q){return !q.hidden && q.complete && q.naturalWidth > 0})(document.getElementById('qr'))", "true", 10*time.Second)
			}
			got, err := c.Eval(layoutProblems)
			if err != nil {
				t.Fatal(err)
			}
			var bad []string
			if err := json.Unmarshal([]byte(got), &bad); err != nil {
				t.Fatal(err)
			}
			if len(bad) > 0 {
				t.Errorf("%s: %s", name, strings.Join(bad, "; "))
			}
			if sc.s.QR.Reveal() == "" {
				continue
			}
			// The QR is the biggest square the layout leaves: at least 70%
			// of the screen's shorter side.
			side, _ := c.Eval("Math.round(document.getElementById('qr').getBoundingClientRect().width)")
			if n, _ := strconv.Atoi(side); n < min(size.w, size.h)*7/10 {
				t.Errorf("%s: the QR is %s px wide, want at least 70%% of %d", name, side, min(size.w, size.h))
			}
			for _, want := range []string{"≈ CNY 8189.25", "0.9213", "WeChat Pay · 微信支付", "Time left 剩余时间 5:00"} {
				if txt, _ := c.Eval("document.getElementById('info').innerText.replace(/\\s+/g, ' ')"); !strings.Contains(txt, want) {
					t.Errorf("%s: the QR screen lacks %q: %s", name, want, txt)
				}
			}
			img := c.Screenshot()
			if got := decodeQR(t, img); got != codeURL {
				t.Errorf("%s: the QR in the screenshot decodes to %q, want %q", name, got, codeURL)
			}
			zbarDecode(t, img, codeURL)
		}
	}
}

// hasCJKFont reports whether fontconfig knows a font covering Chinese.
func hasCJKFont(t *testing.T) bool {
	out, err := exec.Command("fc-list", ":lang=zh", "family").Output()
	if err != nil {
		t.Logf("fc-list: %v", err)
		return false
	}
	return strings.TrimSpace(string(out)) != ""
}

// TestChromiumDrawsChineseWithACJKFont checks the Chinese heading of the
// success screen is drawn by a CJK font, not as boxes: Chromium reports
// which platform font drew the glyphs, and the four characters of 支付成功
// must each look different (missing glyphs all draw the same box).
func TestChromiumDrawsChineseWithACJKFont(t *testing.T) {
	chromiumPath(t)
	if !hasCJKFont(t) {
		t.Skip("no CJK font installed (apt-get install fonts-noto-cjk): cannot check Chinese is drawn")
	}
	s, err := Start(Options{Listen: "127.0.0.1:0", Title: "Tea House", IdleAfter: -1, Languages: []string{"en", "zh-Hans"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := startPage(t, s.URL())
	resize(t, c, 1024, 600)
	c.WaitEval("document.body.dataset.live", "1", 15*time.Second)
	if err := s.Show(t.Context(), display.Screen{Kind: display.Result, Amount: money(t, 1292, "CNY"), Wallet: pos.Alipay, State: pos.StateSucceeded}); err != nil {
		t.Fatal(err)
	}
	c.WaitEval("document.querySelector('#heading .l1').textContent", "支付成功", 10*time.Second)

	for _, m := range []string{"DOM.enable", "CSS.enable"} {
		if _, err := c.Call(m, nil); err != nil {
			t.Fatal(err)
		}
	}
	// The fonts of the heading as laid out. The page may draw the screen
	// again (a redraw replaces the element), and the node a query found
	// then reports no fonts at all, which says nothing about glyphs; so
	// query again until the node answers with fonts, within a bound.
	var fonts struct {
		Fonts []struct {
			FamilyName string
			GlyphCount int
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err := c.Call("DOM.getDocument", nil)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct{ Root struct{ NodeID int64 } }
		_ = json.Unmarshal(res, &doc)
		res, err = c.Call("DOM.querySelector", map[string]any{"nodeId": doc.Root.NodeID, "selector": "#heading .l1"})
		if err != nil {
			t.Fatal(err)
		}
		var node struct{ NodeID int64 }
		_ = json.Unmarshal(res, &node)
		res, err = c.Call("CSS.getPlatformFontsForNode", map[string]any{"nodeId": node.NodeID})
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(res, &fonts)
		if len(fonts.Fonts) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	cjk := 0
	for _, f := range fonts.Fonts {
		if strings.Contains(f.FamilyName, "CJK") || strings.Contains(f.FamilyName, "Han") || strings.Contains(f.FamilyName, "SC") {
			cjk += f.GlyphCount
		}
	}
	if cjk != 4 {
		t.Errorf("支付成功 was drawn with %+v; want all 4 glyphs from a CJK font", fonts.Fonts)
	}

	// Each character's pixels: four boxes would be four equal bitmaps.
	got, err := c.Eval(`(function () {
	  var t = document.querySelector('#heading .l1').firstChild, out = [];
	  for (var i = 0; i < t.length; i++) {
	    var r = document.createRange(); r.setStart(t, i); r.setEnd(t, i + 1);
	    var b = r.getBoundingClientRect(); out.push([Math.round(b.left), Math.round(b.top), Math.round(b.right), Math.round(b.bottom)]);
	  }
	  return JSON.stringify(out);
	})()`)
	if err != nil {
		t.Fatal(err)
	}
	var rects [][4]int
	if err := json.Unmarshal([]byte(got), &rects); err != nil || len(rects) != 4 {
		t.Fatalf("character boxes %s: %v", got, err)
	}
	img := c.Screenshot()
	var glyphs []string
	for _, r := range rects {
		g := inkPattern(img, image.Rect(r[0], r[1], r[2], r[3]))
		if !strings.Contains(g, "#") {
			t.Errorf("no ink where a character of 支付成功 should be (%v)", r)
		}
		glyphs = append(glyphs, g)
	}
	for i := range glyphs {
		for j := i + 1; j < len(glyphs); j++ {
			if glyphs[i] == glyphs[j] {
				t.Errorf("characters %d and %d of 支付成功 are drawn alike: boxes, not glyphs", i, j)
			}
		}
	}
}

// inkPattern is r of img as '#' (dark) and '.' (light), row by row.
func inkPattern(img image.Image, r image.Rectangle) string {
	var b strings.Builder
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y < 128 {
				b.WriteByte('#')
			} else {
				b.WriteByte('.')
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}
