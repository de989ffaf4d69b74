package localapi

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	_ "embed" // the support page
	"encoding/base64"
	"html/template"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/store"
)

// The support page (/support): what support staff need when something is
// stuck or does not add up, without opening SQLite. It is served on the
// API's listener and speaks to the same flows as the API.
//
// Decisions written down here:
//   - The token is never in a URL (URLs end up in logs and browser
//     history): the page asks for it in a form, POSTed once to
//     /support/login, which answers with a session cookie (HttpOnly,
//     SameSite=Strict, Path=/support, 8 hours, kept in memory: a restart
//     asks again). The cookie reaches /support only, never /v1.
//   - Every session has its own CSRF token, put in the page (a meta tag)
//     and required in the X-CSRF-Token header of every POST. Every POST
//     must also carry an Origin equal to the page's own (http://Host), and
//     any Origin, Referer or Sec-Fetch-Site that names another site is
//     refused, for GETs too: /support is same-origin only. The rest of the
//     API keeps refusing any Origin or Referer at all.
//   - No external assets: the HTML, CSS and JavaScript are embedded, and
//     the Content-Security-Policy allows only that script and style (by
//     hash), requests to this origin, no frames, forms only to this
//     origin. Referrer-Policy same-origin (no-referrer would make the
//     browser send "Origin: null" with the login form); the page builds its DOM with
//     textContent only, so a gateway's text can never become markup.
//   - The actions are the API's own handlers (the outbox's retry and
//     resolve, reprint) under /support/api/, so they journal exactly what
//     the API journals: a resolution with the name and reason typed on the
//     page, along the transition table.

// SupportTester runs the support page's device tests.
type SupportTester interface {
	// TestPrint queues a test print (not a receipt).
	TestPrint(ctx context.Context) error
	// TestDisplay redraws the customer display's welcome screen; refused
	// (pos.Conflict) while a payment is open, whose screen it would hide.
	TestDisplay(ctx context.Context) error
}

// SupportOptions turns on the support page (Options.Support).
type SupportOptions struct {
	// Outbox lists, retries and resolves owed operations; nil: the page
	// has no outbox.
	Outbox Outboxer
	// LastReconciliation returns the last kept reconciliation (or a
	// pos.NotFound error when none ran); nil: none is shown.
	LastReconciliation func(ctx context.Context) (store.Reconciliation, error)
	// FlagCounts counts flagged events since the journal began; nil: only
	// the recent payments' flags are shown.
	FlagCounts func(ctx context.Context) (map[pos.Flag]int, error)
	// Tester runs the test print and test display; nil answers 503.
	Tester SupportTester
	// Recent is how many recent payments the page lists (default 25).
	Recent int
	// Now is the clock of sessions; default time.Now.
	Now func() time.Time
}

// Support's routes. They are not behind the bearer token (a browser holds
// none) but behind the session the login gives.
const (
	supportPrefix      = "/support"
	sessionCookie      = "posagent_support"
	sessionLifetime    = 8 * time.Hour
	maxSupportSessions = 32
)

//go:embed support.html
var supportHTML string

//go:embed support.css
var supportCSS string

//go:embed support.js
var supportJS string

var (
	supportTmpl = template.Must(template.New("support").Parse(supportHTML))
	supportCSP  = "default-src 'none'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
		"script-src " + hashOf(supportJS) + "; style-src " + hashOf(supportCSS)
)

func hashOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

type supportSession struct {
	csrf    string
	expires time.Time
}

// support is the page's state: its options and the live sessions.
type support struct {
	o  SupportOptions
	mu sync.Mutex
	// sessions by the cookie's value.
	sessions map[string]supportSession
}

func newSupport(o SupportOptions) *support {
	if o.Recent <= 0 {
		o.Recent = 25
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &support{o: o, sessions: map[string]supportSession{}}
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login opens a session and returns its cookie value.
func (sp *support) login() string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	now := sp.o.Now()
	for id, s := range sp.sessions {
		if now.After(s.expires) {
			delete(sp.sessions, id)
		}
	}
	for len(sp.sessions) >= maxSupportSessions {
		// Forget the session closest to its end.
		var oldest string
		for id, s := range sp.sessions {
			if oldest == "" || s.expires.Before(sp.sessions[oldest].expires) {
				oldest = id
			}
		}
		delete(sp.sessions, oldest)
	}
	id := randomToken()
	sp.sessions[id] = supportSession{csrf: randomToken(), expires: now.Add(sessionLifetime)}
	return id
}

// session returns the request's live session.
func (sp *support) session(r *http.Request) (id string, s supportSession, ok bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return "", s, false
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	s, ok = sp.sessions[c.Value]
	if ok && sp.o.Now().After(s.expires) {
		delete(sp.sessions, c.Value)
		return "", s, false
	}
	return c.Value, s, ok
}

func (sp *support) logout(id string) {
	sp.mu.Lock()
	delete(sp.sessions, id)
	sp.mu.Unlock()
}

func isSupportPath(p string) bool {
	return p == supportPrefix || strings.HasPrefix(p, supportPrefix+"/")
}

// sameOrigin is the support page's browser guard, in place of the API's
// "no Origin, no Referer": whatever the browser says about where the
// request comes from must be this origin, and a POST must say it.
func sameOrigin(r *http.Request) error {
	self := "http://" + r.Host
	origin := r.Header.Get("Origin")
	if origin != "" && origin != self {
		return problemf("forbidden", "Origin", "cross-origin requests are refused (Origin %q is not %s)", origin, self)
	}
	if ref := r.Header.Get("Referer"); ref != "" && ref != self && !strings.HasPrefix(ref, self+"/") {
		return problemf("forbidden", "Referer", "requests from other pages are refused")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return problemf("forbidden", "Sec-Fetch-Site", "requests from other sites are refused (Sec-Fetch-Site %s)", site)
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && origin == "" {
		return problemf("forbidden", "Origin", "a POST to the support page must carry its Origin (send it from the page)")
	}
	return nil
}

func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", supportCSP)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
}

type supportPage struct {
	LoggedIn bool
	Failed   bool
	CSRF     string
	CSS      template.CSS
	JS       template.JS
}

func (s *Server) renderSupport(w http.ResponseWriter, status int, p supportPage) {
	p.CSS, p.JS = template.CSS(supportCSS), template.JS(supportJS)
	pageHeaders(w)
	w.WriteHeader(status)
	if err := supportTmpl.Execute(w, p); err != nil {
		s.opts.Logger.Debug("support page not sent", "err", err)
	}
}

// supportPageHandler is GET /support: the page with a session, else the
// login form.
func (s *Server) supportPageHandler(w http.ResponseWriter, r *http.Request) {
	_, sess, ok := s.support.session(r)
	if !ok {
		s.renderSupport(w, http.StatusOK, supportPage{})
		return
	}
	s.renderSupport(w, http.StatusOK, supportPage{LoggedIn: true, CSRF: sess.csrf})
}

// supportLogin is POST /support/login: the token from the form, a session
// cookie for it.
func (s *Server) supportLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		writeError(w, problemf("malformed-request", "", "the login form could not be read"))
		return
	}
	want := []byte(s.opts.Token.Reveal())
	if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), want) != 1 {
		s.opts.Logger.Warn("support page login refused: wrong token", "remote", r.RemoteAddr)
		s.renderSupport(w, http.StatusUnauthorized, supportPage{Failed: true})
		return
	}
	id := s.support.login()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: supportPrefix, MaxAge: int(sessionLifetime / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	s.opts.Logger.Info("support page login", "remote", r.RemoteAddr)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, supportPrefix, http.StatusSeeOther)
}

// supportSessionOnly guards the page's JSON routes: a live session, and
// on a POST its CSRF token.
func (s *Server) supportSessionOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, sess, ok := s.support.session(r)
		if !ok {
			s.refuse(w, problemf("unauthorized", "Cookie", "no support session: log in at /support"))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get("X-CSRF-Token")
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.csrf)) != 1 {
				s.refuse(w, problemf("forbidden", "X-CSRF-Token", "missing or wrong CSRF token: reload /support"))
				return
			}
		}
		h(w, r)
	}
}

func (s *Server) supportLogout(w http.ResponseWriter, r *http.Request) {
	if id, _, ok := s.support.session(r); ok {
		s.support.logout(id)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: supportPrefix, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

// SupportOverview is the answer of GET /support/api/overview: everything
// the page shows, read at once.
type SupportOverview struct {
	Now      time.Time        `json:"now"`
	Devices  any              `json:"devices"`
	Payments []SupportPayment `json:"payments"`
	// Flags counts flagged events since the journal began, by flag
	// (mismatch, charged_late, alert); empty when not known.
	Flags map[string]int `json:"flags"`
	// Flagged lists the recent payments with a flag.
	Flagged []string `json:"flagged"`
	// Outbox is absent when the daemon has no outbox.
	Outbox *OutboxList `json:"outbox,omitempty"`
	// Reconciliation is the last kept run; absent when none ran.
	Reconciliation *SupportReconciliation `json:"reconciliation,omitempty"`
	// Tests: the test print and test display are available.
	Tests bool `json:"tests"`
	// Printer: reprints are possible.
	Printer bool `json:"printer"`
}

// SupportPayment is a recent payment with its history and its flags.
type SupportPayment struct {
	Payment
	Events []eventJSON `json:"events"`
	// Flags are charged_late, alert and mismatch, each at most once.
	Flags []string `json:"flags"`
}

// SupportReconciliation is a kept reconciliation run.
type SupportReconciliation struct {
	At      time.Time         `json:"at"`
	Date    string            `json:"date"`
	Trigger string            `json:"trigger"`
	OK      bool              `json:"ok"`
	Issues  int               `json:"issues"`
	Failed  int               `json:"failed"`
	Reports []ReconcileReport `json:"reports"`
	Error   string            `json:"error,omitempty"`
}

func (s *Server) supportOverview(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sp := s.support.o
	out := SupportOverview{Now: sp.Now(), Devices: map[string]any{}, Payments: []SupportPayment{}, Flags: map[string]int{}, Flagged: []string{},
		Tests: sp.Tester != nil, Printer: s.opts.Receipts != nil}
	if s.opts.Devices != nil {
		out.Devices = s.opts.Devices.Devices(ctx)
	}
	pays, err := s.opts.Payments.Recent(ctx, sp.Recent)
	if err != nil {
		writeError(w, err)
		return
	}
	for _, p := range pays {
		evs, err := s.opts.Payments.Events(ctx, p.ID)
		if err != nil {
			writeError(w, err)
			return
		}
		sp := SupportPayment{Payment: s.paymentJSON(p), Events: []eventJSON{}, Flags: []string{}}
		// A merchant QR's link is a bearer secret the page has no use for.
		sp.CodeURL = ""
		seen := map[string]bool{}
		flag := func(f string) {
			if !seen[f] {
				seen[f] = true
				sp.Flags = append(sp.Flags, f)
			}
		}
		if p.ChargedLate {
			flag(string(pos.FlagChargedLate))
		}
		if p.Alert != "" {
			flag(string(pos.FlagAlert))
		}
		for _, e := range evs {
			sp.Events = append(sp.Events, eventJSON{Seq: e.Seq, At: e.At, From: string(e.From), To: string(e.To), Reason: e.Reason, Detail: e.Detail, Flag: string(e.Flag)})
			if e.Flag != "" {
				flag(string(e.Flag))
			}
		}
		if len(sp.Flags) > 0 {
			out.Flagged = append(out.Flagged, p.ID)
		}
		out.Payments = append(out.Payments, sp)
	}
	if sp.FlagCounts != nil {
		counts, err := sp.FlagCounts(ctx)
		if err != nil {
			writeError(w, err)
			return
		}
		for f, n := range counts {
			out.Flags[string(f)] = n
		}
	}
	if sp.Outbox != nil {
		items, err := sp.Outbox.List(ctx)
		if err != nil {
			writeError(w, err)
			return
		}
		list := outboxListJSON(items, sp.Outbox.AlertAfter())
		out.Outbox = &list
	}
	if sp.LastReconciliation != nil {
		rec, err := sp.LastReconciliation(ctx)
		switch {
		case err == nil:
			sr := &SupportReconciliation{At: rec.At, Date: rec.Date, Trigger: rec.Trigger, OK: rec.OK, Issues: rec.Issues, Failed: rec.Failed, Reports: []ReconcileReport{}}
			reps, err := flows.KeptReports(rec)
			if err != nil {
				sr.Error = "the kept report could not be read"
			} else {
				sr.Reports = reconcileReportsJSON(reps)
			}
			out.Reconciliation = sr
		case !pos.Match(pos.NotFound, err):
			writeError(w, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) supportTest(run func(SupportTester, context.Context) error, what string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var empty struct{}
		if err := decodeBody(r, &empty, false); err != nil {
			writeError(w, err)
			return
		}
		t := s.support.o.Tester
		if t == nil {
			writeError(w, pos.Errorf(pos.Unavailable, "localapi.support", "no %s is configured", what))
			return
		}
		if err := run(t, r.Context()); err != nil {
			writeError(w, err)
			return
		}
		s.opts.Logger.Info("support page test", "test", what, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusAccepted, map[string]string{"test": what, "status": "sent"})
	}
}

// mountSupport adds the support page's routes.
func (s *Server) mountSupport(handle func(string, http.HandlerFunc)) {
	guard := s.supportSessionOnly
	handle("GET /support", s.supportPageHandler)
	handle("POST /support/login", s.supportLogin)
	handle("POST /support/logout", s.supportLogout)
	handle("GET /support/api/overview", guard(s.supportOverview))
	handle("POST /support/api/payments/{id}/reprint", guard(s.reprint))
	handle("POST /support/api/test/print", guard(s.supportTest(SupportTester.TestPrint, "print")))
	handle("POST /support/api/test/display", guard(s.supportTest(SupportTester.TestDisplay, "display")))
	if o := s.support.o.Outbox; o != nil {
		hs := OutboxHandlers(o)
		handle("POST /support/api/outbox/{id}/retry", guard(hs[OutboxRetryPattern].ServeHTTP))
		handle("POST /support/api/outbox/{id}/resolve", guard(hs[OutboxResolvePattern].ServeHTTP))
	}
}
