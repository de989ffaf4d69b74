// Package webdisplay is a customer display in a web browser: a second
// monitor or a tablet at the till opens one page, and the page follows
// every screen the runner shows, merchant QR codes included.
//
// The page is self-contained (HTML, CSS and JavaScript embedded in the
// binary, no external assets) and works offline. It is rendered with the
// current screen, so it is right even without JavaScript (it then reloads
// itself every few seconds), and then follows Server-Sent Events
// (GET /events), reconnecting by itself when the daemon restarts.
//
// Routes:
//
//	GET /              the page, rendered with the current screen
//	GET /events        text/event-stream: the current screen, then every change
//	GET /state         the current screen as JSON
//	GET /qr/TOKEN.png  the current merchant QR as a PNG, while it is shown
//
// The merchant QR (a bearer link) is never logged and never put in the
// page, the events or the JSON: those carry only the path of its PNG,
// under a random token made for each screen, which stops answering as soon
// as the screen changes. Nothing is cacheable.
//
// Show never waits for a browser: it replaces the current screen and wakes
// the event streams, each of which then sends the latest screen; a slow
// browser skips the screens it was too slow for.
package webdisplay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed" // the page
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	qrsym "github.com/posagent/posagent/hw/qr"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/hw/display"
)

// DefaultListen is where Start listens unless told otherwise: loopback,
// one port above the local API's default.
const DefaultListen = "127.0.0.1:8418"

// DefaultIdleAfter is how long a result stays up before the welcome screen.
const DefaultIdleAfter = 10 * time.Second

// Options configure a web display. The zero value is usable.
type Options struct {
	// Listen is the address Start listens on (default DefaultListen). It
	// must be a loopback address unless AllowRemote is set.
	Listen string `yaml:"listen"`
	// AllowRemote lets the page be served beyond loopback (a tablet on the
	// shop's network) and accepts any Host header. Off by default: the
	// page shows bearer QR links to whoever can reach it, and on loopback
	// a Host check keeps other web sites from reading it through DNS
	// rebinding.
	AllowRemote bool `yaml:"allow_remote"`
	// Title is the merchant or shop name, shown on the welcome screen and
	// in the page title (default "Welcome").
	Title string `yaml:"title"`
	// IdleAfter is how long a result screen stays before the display
	// returns to the welcome screen (default DefaultIdleAfter; negative:
	// the result stays until the next screen).
	IdleAfter time.Duration `yaml:"idle_after"`
	// QRPixels is the PNG's size in pixels per QR module (default 10). The
	// page scales the image to the largest square the layout leaves.
	QRPixels int `yaml:"qr_pixels"`
	// Languages are the one or two languages every screen speaks, the
	// first first: en, zh-Hans, zh-Hant (default en and zh-Hans).
	Languages []string `yaml:"languages"`
	// WalletLanguages switch the Chinese script for a wallet's customers
	// (wallet name: zh-Hans, zh-Hant, or en for English alone). AlipayHK
	// is Traditional unless set here (display.WalletLangs).
	WalletLanguages map[string]string `yaml:"wallet_languages"`
	// Rates are operator-set reference rates to CNY: a foreign-currency
	// amount is shown with its CNY equivalent and the rate's time. A live
	// RateSource, when set, is asked first.
	Rates []RateOption `yaml:"rates"`
	// RateSource gives live rates (a gateway's forex quote), or nil.
	RateSource display.Rates `yaml:"-"`
	// Now is the clock for countdowns (default time.Now).
	Now func() time.Time `yaml:"-"`
	// Logger receives browser connection problems, at debug level
	// (default: discarded). QR payloads never reach it.
	Logger *slog.Logger `yaml:"-"`
}

// RateOption is one configured rate: CNY per one unit of Currency, set at
// At (shown to the customer beside the equivalent).
type RateOption struct {
	Currency string    `yaml:"currency"`
	CNY      string    `yaml:"cny"`
	At       time.Time `yaml:"at"`
}

// Validate checks the options as New and Start would, without listening:
// qr_pixels between 1 and 64 (0 is the default), and a listen address on
// loopback unless AllowRemote.
func (o Options) Validate() error {
	if o.QRPixels < 0 || o.QRPixels > 64 {
		return fmt.Errorf("webdisplay: qr_pixels %d is not between 1 and 64", o.QRPixels)
	}
	if _, _, _, err := o.parsed(); err != nil {
		return err
	}
	if o.Listen != "" && !o.AllowRemote {
		return requireLoopback(loopbackDefault(o.Listen))
	}
	return nil
}

// parsed reads the language and rate options.
func (o Options) parsed() ([]display.Lang, map[pos.Wallet]display.Lang, map[pos.Currency]display.Rate, error) {
	langs := display.DefaultLangs
	if len(o.Languages) > 0 {
		l, err := display.ParseLangs(o.Languages)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("webdisplay: languages: %w", err)
		}
		langs = l
	}
	wl := map[pos.Wallet]display.Lang{}
	for w, name := range o.WalletLanguages {
		l, err := display.ParseLang(name)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("webdisplay: wallet_languages.%s: %w", w, err)
		}
		wl[pos.Wallet(w)] = l
	}
	rates := map[pos.Currency]display.Rate{}
	for i, ro := range o.Rates {
		r, err := display.ParseRate(ro.Currency, ro.CNY, ro.At)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("webdisplay: rates[%d]: %w", i, err)
		}
		if _, dup := rates[r.Currency]; dup {
			return nil, nil, nil, fmt.Errorf("webdisplay: rates[%d]: %s set twice", i, r.Currency)
		}
		rates[r.Currency] = r
	}
	return langs, wl, rates, nil
}

// Display is the web customer display: a display.Display whose screens
// are served by its ServeHTTP.
type Display struct {
	opts   Options
	langs  []display.Lang
	wlangs map[pos.Wallet]display.Lang
	rates  map[pos.Currency]display.Rate
	boot   string // changes with every process: the page reloads itself when it sees a new one
	log    *slog.Logger
	done   chan struct{}
	closed sync.Once

	mu      sync.Mutex
	cur     view
	expires time.Time // the current screen's countdown end, or zero
	qrPNG   []byte    // the current screen's QR, or nil
	qrToken string    // its token, or ""
	changed chan struct{}
	idle    *time.Timer
	streams int // open event streams, for tests and the log
}

var (
	_ display.Display = (*Display)(nil)
	_ http.Handler    = (*Display)(nil)
)

// New returns a web display showing the welcome screen.
func New(opts Options) (*Display, error) {
	if opts.Title == "" {
		opts.Title = "Welcome"
	}
	if opts.IdleAfter == 0 {
		opts.IdleAfter = DefaultIdleAfter
	}
	if opts.QRPixels == 0 {
		opts.QRPixels = 10
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	langs, wl, rates, _ := opts.parsed() // checked by Validate
	d := &Display{opts: opts, langs: langs, wlangs: wl, rates: rates, boot: randomToken(8), log: opts.Logger, done: make(chan struct{}), changed: make(chan struct{})}
	d.cur = d.render(display.Screen{Kind: display.Idle}, "", 1)
	return d, nil
}

// view is a screen as the page sees it: every text ready to show, in each
// of its languages, the QR only as the path of its PNG.
type view struct {
	Seq       uint64     `json:"seq"`
	Boot      string     `json:"boot"`
	Kind      string     `json:"kind"`
	Tone      string     `json:"tone"` // idle, wait, ok, bad: the page's colour
	Title     string     `json:"title"`
	Heading   string     `json:"heading"` // in the first language
	Message   string     `json:"message"` // in the first language
	Texts     []langText `json:"texts"`   // every language, the first first
	PaymentID string     `json:"payment_id,omitempty"`
	Amount    string     `json:"amount,omitempty"`   // major units: "12.92"
	Currency  string     `json:"currency,omitempty"` // ISO 4217
	Wallet    string     `json:"wallet,omitempty"`   // its names, " · " between languages
	State     string     `json:"state,omitempty"`    // pos.State
	// Equiv is the CNY equivalent of a foreign amount ("≈ CNY 11.04") and
	// RateLine the rate it used and when it was set.
	Equiv    string `json:"equiv,omitempty"`
	RateLine string `json:"rate,omitempty"`
	// TimeLeft labels the countdown; ExpiresIn is how long is left, in
	// milliseconds, when this view was sent (0: no countdown).
	TimeLeft  string `json:"time_left,omitempty"`
	ExpiresIn int64  `json:"expires_in_ms,omitempty"`
	Clock     string `json:"clock,omitempty"` // ExpiresIn as m:ss
	QR        string `json:"qr,omitempty"`    // path of the QR PNG
}

// langText is a screen's words in one language.
type langText struct {
	Lang    string `json:"lang"`
	Heading string `json:"heading"`
	Message string `json:"message"`
}

// Show makes s the current screen. It never waits for a browser. A result
// screen is replaced by the welcome screen after Options.IdleAfter. An
// error means the QR could not be encoded; the screen is shown without it.
func (d *Display) Show(_ context.Context, s display.Screen) error {
	var (
		png   []byte
		token string
		err   error
	)
	if s.Kind == display.ShowQR {
		if png, err = encodeQR(s.QR, d.opts.QRPixels); err == nil {
			token = randomToken(16)
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.idle != nil {
		d.idle.Stop()
		d.idle = nil
	}
	d.setLocked(d.render(s, token, d.cur.Seq+1), png, token)
	d.expires = s.Expires
	if (s.Kind == display.Result || s.Kind == display.Refunded) && d.opts.IdleAfter > 0 {
		seq := d.cur.Seq
		d.idle = time.AfterFunc(d.opts.IdleAfter, func() {
			d.mu.Lock()
			defer d.mu.Unlock()
			if d.cur.Seq == seq { // nothing newer came meanwhile
				d.setLocked(d.render(display.Screen{Kind: display.Idle}, "", seq+1), nil, "")
				d.expires = time.Time{}
			}
		})
	}
	return err
}

func (d *Display) setLocked(v view, png []byte, token string) {
	d.cur, d.qrPNG, d.qrToken = v, png, token
	close(d.changed)
	d.changed = make(chan struct{})
}

// encodeQR renders the merchant QR as a PNG with a quiet zone, black on
// white. The error never contains the payload.
func encodeQR(qr pos.Secret, pixels int) ([]byte, error) {
	if qr.Reveal() == "" {
		return nil, fmt.Errorf("webdisplay: the show_qr screen has no QR payload")
	}
	s, err := qrsym.Encode(qr.Reveal(), qrsym.M)
	if err != nil {
		return nil, fmt.Errorf("webdisplay: encoding a QR of %d bytes failed", len(qr.Reveal()))
	}
	// A 1-bit PNG written directly, the quiet zone 4 modules wide.
	return qrsym.PNG(s, pixels, 4)
}

// render turns a screen into what the page shows. The words come from
// display.WordsFor, never from Screen.Message (which may carry a
// gateway's error).
func (d *Display) render(s display.Screen, qrToken string, seq uint64) view {
	v := view{Seq: seq, Boot: d.boot, Kind: string(s.Kind), Title: d.opts.Title, PaymentID: s.PaymentID, State: string(s.State)}
	langs := display.LangsFor(d.langs, s.Wallet, d.wlangs)
	var wallets, timeLeft []string
	for _, l := range langs {
		w := display.WordsFor(s, l)
		if s.Kind == display.Idle {
			w.Heading = d.opts.Title
		}
		v.Texts = append(v.Texts, langText{Lang: string(l), Heading: w.Heading, Message: w.Message})
		if w.Wallet != "" && !slices.Contains(wallets, w.Wallet) {
			wallets = append(wallets, w.Wallet)
		}
		if !slices.Contains(timeLeft, w.TimeLeft) {
			timeLeft = append(timeLeft, w.TimeLeft)
		}
	}
	if s.Kind == display.Idle && len(v.Texts) > 1 && v.Texts[0].Heading == v.Texts[1].Heading {
		v.Texts[1].Heading = "" // the shop's name once
	}
	v.Heading, v.Message = v.Texts[0].Heading, v.Texts[0].Message
	v.Wallet = strings.Join(wallets, " · ")
	if s.Amount.Currency.Valid() && s.Kind != display.Idle {
		v.Amount, v.Currency = s.Amount.Decimal(), string(s.Amount.Currency)
		if r, ok := d.rate(s.Amount.Currency); ok {
			if cny, ok := r.Equivalent(s.Amount); ok {
				v.Equiv = "≈ CNY " + cny.Decimal()
				var labels []string
				for _, l := range langs {
					if w := display.WordsFor(s, l).Rate; !slices.Contains(labels, w) {
						labels = append(labels, w)
					}
				}
				v.RateLine = strings.Join(labels, " ") + " " + r.Text() + " · " + r.At.Local().Format("2006-01-02 15:04")
			}
		}
	}
	if qrToken != "" {
		v.QR = "/qr/" + qrToken + ".png"
	}
	if !s.Expires.IsZero() {
		v.TimeLeft = strings.Join(timeLeft, " ")
	}
	v.Tone = "wait"
	switch s.Kind {
	case display.Idle:
		v.Tone = "idle"
		v.PaymentID, v.Wallet, v.State = "", "", ""
	case display.Withdrawn:
		v.Tone = "bad" // a warning: do not pay
	case display.Result, display.Rejected, display.Refunded:
		if o := display.OutcomeOf(s); o == display.OutcomePaid || o == display.OutcomeRefunded {
			v.Tone = "ok"
		} else {
			v.Tone = "bad"
		}
	}
	return v
}

// rate is the current rate of cur: the live source's, else the configured.
func (d *Display) rate(cur pos.Currency) (display.Rate, bool) {
	if cur == "CNY" {
		return display.Rate{}, false
	}
	if d.opts.RateSource != nil {
		if r, ok := d.opts.RateSource.Rate(cur); ok && r.Currency == cur && r.CNY != nil {
			return r, true
		}
	}
	r, ok := d.rates[cur]
	return r, ok
}

// Streams reports how many browsers follow the display right now.
func (d *Display) Streams() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.streams
}

// Close ends every event stream (browsers then reconnect to whatever
// serves next) and stops the idle timer. Show still works afterwards.
func (d *Display) Close() error {
	d.closed.Do(func() { close(d.done) })
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.idle != nil {
		d.idle.Stop()
		d.idle = nil
	}
	return nil
}

// snapshot is the current view with its countdown as of now.
func (d *Display) snapshot() (view, chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	v := d.cur
	if !d.expires.IsZero() {
		left := max(d.expires.Sub(d.opts.Now()), 0)
		v.ExpiresIn = max(left.Milliseconds(), 1) // 1: a countdown at zero, not none
		secs := int64((left + time.Second - 1) / time.Second)
		v.Clock = fmt.Sprintf("%d:%02d", secs/60, secs%60)
	}
	return v, d.changed
}

// ServeHTTP serves the page, its events, its JSON and the QR image.
func (d *Display) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if !d.opts.AllowRemote && !loopbackHost(r.Host) {
		http.Error(w, "this display answers on loopback addresses only", http.StatusForbidden)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "the display is read-only", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == "/":
		d.servePage(w, r)
	case p == "/events":
		d.serveEvents(w, r)
	case p == "/state":
		v, _ := d.snapshot()
		h.Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	case strings.HasPrefix(p, "/qr/") && strings.HasSuffix(p, ".png"):
		d.serveQR(w, strings.TrimSuffix(strings.TrimPrefix(p, "/qr/"), ".png"))
	default:
		http.NotFound(w, r)
	}
}

func (d *Display) serveQR(w http.ResponseWriter, token string) {
	d.mu.Lock()
	png, cur := d.qrPNG, d.qrToken
	d.mu.Unlock()
	if cur == "" || subtle.ConstantTimeCompare([]byte(token), []byte(cur)) != 1 {
		http.Error(w, "no such QR code (the screen has changed)", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	_, _ = w.Write(png)
}

//go:embed page.html
var pageHTML string

//go:embed page.css
var pageCSS string

//go:embed page.js
var pageJS string

var (
	pageTmpl = template.Must(template.New("page").Parse(pageHTML))
	// The only script and style the page may run are its own, by hash.
	pageCSP = "default-src 'none'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
		"script-src " + cspHash(pageJS) + "; style-src " + cspHash(pageCSS)
)

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

func (d *Display) servePage(w http.ResponseWriter, r *http.Request) {
	v, _ := d.snapshot()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	if err := pageTmpl.Execute(w, struct {
		view
		CSS template.CSS
		JS  template.JS
	}{v, template.CSS(pageCSS), template.JS(pageJS)}); err != nil {
		d.log.Debug("display page not sent", "err", err, "remote", r.RemoteAddr)
	}
}

// heartbeat keeps idle event streams alive through proxies and lets the
// page notice a dead connection (it reconnects after missing a few).
var heartbeat = 15 * time.Second

// writeTimeout drops a browser that cannot take one event in this long.
const writeTimeout = 10 * time.Second

func (d *Display) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	d.mu.Lock()
	d.streams++
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.streams--
		d.mu.Unlock()
	}()
	send := func(s string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := io.WriteString(w, s); err != nil {
			d.log.Debug("display browser dropped", "err", err, "remote", r.RemoteAddr)
			return false
		}
		if err := rc.Flush(); err != nil {
			d.log.Debug("display browser dropped", "err", err, "remote", r.RemoteAddr)
			return false
		}
		return true
	}
	// retry: how soon the browser reconnects after the stream ends.
	if !send("retry: 1000\n\n") {
		return
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	var sent uint64
	for {
		v, changed := d.snapshot()
		if v.Seq != sent {
			b, err := json.Marshal(v) // escapes <, > and &; never spans lines
			if err != nil {
				return
			}
			if !send("id: " + strconv.FormatUint(v.Seq, 10) + "\nevent: screen\ndata: " + string(b) + "\n\n") {
				return
			}
			sent = v.Seq
		}
		select {
		case <-changed:
		case <-tick.C:
			if !send("event: ping\ndata:\n\n") {
				return
			}
		case <-r.Context().Done():
			return
		case <-d.done:
			return
		}
	}
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// loopbackHost reports whether a request's Host names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
