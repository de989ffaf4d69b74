package localapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/flows"
	"github.com/posagent/posagent/localapi"
	"github.com/posagent/posagent/store"
)

// historyPayments is a Payments whose recent payments have histories and
// flags.
type historyPayments struct{ recorder }

var supportT0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func (historyPayments) Recent(ctx context.Context, limit int) ([]pos.Payment, error) {
	return []pos.Payment{
		{ID: "pay_late", State: pos.StateFailed, ChargedLate: true, Amount: pos.Money{Minor: 1291, Currency: "CNY"}, Method: pos.Micropay, Gateway: "mmsp", OutTradeNo: "PA1", CreatedAt: supportT0, UpdatedAt: supportT0},
		{ID: "pay_ok", State: pos.StateSucceeded, Amount: pos.Money{Minor: 500, Currency: "CNY"}, Method: pos.Micropay, Gateway: "mmsp", OutTradeNo: "PA2", CreatedAt: supportT0, UpdatedAt: supportT0},
	}, nil
}

func (historyPayments) Events(ctx context.Context, id string) ([]pos.Event, error) {
	evs := []pos.Event{{Seq: 1, PaymentID: id, At: supportT0, To: pos.StateSubmitting, Reason: "created"}}
	if id == "pay_late" {
		evs = append(evs, pos.Event{Seq: 2, PaymentID: id, At: supportT0, From: pos.StateSubmitting, To: pos.StateSubmitting, Reason: "answer for another order", Flag: pos.FlagMismatch},
			pos.Event{Seq: 3, PaymentID: id, At: supportT0, From: pos.StateSubmitting, To: pos.StateFailed, Reason: "declined"})
	}
	return evs, nil
}

type supportFixture struct {
	srv    *httptest.Server
	client *http.Client
	outbox *fakeOutbox
}

func newSupportFixture(t *testing.T) *supportFixture {
	t.Helper()
	f := &supportFixture{outbox: newFakeOutbox()}
	report, _ := json.Marshal([]flows.Report{{Gateway: "allinpay", Date: "2026-12-01", Zone: "UTC+8", HasBill: true, BillLines: 1,
		Issues: []flows.ReconIssue{{Kind: flows.IssueNotInJournal, OutTradeNo: "X1", BillAmount: pos.Money{Minor: 1100, Currency: "CNY"}, Message: "in the bill, not here"}}}})
	s, err := localapi.New(localapi.Options{Payments: &historyPayments{}, Token: token, Receipts: &fakeReceipts{}, Support: &localapi.SupportOptions{
		Outbox: f.outbox,
		LastReconciliation: func(ctx context.Context) (store.Reconciliation, error) {
			return store.Reconciliation{ID: 1, At: supportT0, Date: "2026-12-01", Trigger: "daily", Issues: 1, Report: report}, nil
		},
		FlagCounts: func(ctx context.Context) (map[pos.Flag]int, error) {
			return map[pos.Flag]int{pos.FlagMismatch: 4, pos.FlagChargedLate: 1}, nil
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(s)
	t.Cleanup(f.srv.Close)
	jar, _ := cookiejar.New(nil)
	f.client = &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return f
}

func (f *supportFixture) do(t *testing.T, method, path, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)

// login logs the fixture's client in and returns the page's CSRF token.
func (f *supportFixture) login(t *testing.T) string {
	t.Helper()
	resp, _ := f.do(t, "POST", "/support/login", url.Values{"token": {token}}.Encode(),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": f.srv.URL})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/support" {
		t.Fatalf("login = %d %v", resp.StatusCode, resp.Header)
	}
	_, page := f.do(t, "GET", "/support", "", nil)
	m := csrfMeta.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the logged-in page has no CSRF token:\n%s", page)
	}
	return m[1]
}

// The page asks for the token in a form, never a URL; the right token
// gives an HttpOnly, SameSite=Strict session cookie for /support only,
// which never opens /v1; the page is strict about what it may load; the
// overview is what openapi.json says, with the payments' histories and
// flags, the outbox and the last reconciliation.
func TestSupportLogin(t *testing.T) {
	f := newSupportFixture(t)
	resp, page := f.do(t, "GET", "/support", "", nil)
	if resp.StatusCode != 200 || !strings.Contains(page, `name="token"`) || !strings.Contains(page, `method="post"`) || strings.Contains(page, "csrf-token") {
		t.Fatalf("GET /support without a session = %d\n%s", resp.StatusCode, page)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'sha256-", "style-src 'sha256-", "frame-ancestors 'none'", "form-action 'self'", "connect-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(page, "http://") || strings.Contains(page, "https://") || strings.Contains(page, " src=") {
		t.Errorf("the page may load something from elsewhere: CSP %q\n%s", csp, page)
	}
	if resp.Header.Get("Referrer-Policy") != "same-origin" || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers %v", resp.Header)
	}
	// A token in the query is not a login.
	resp, _ = f.do(t, "POST", "/support/login?token="+token, "", map[string]string{"Origin": f.srv.URL})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("login with the token in the URL = %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, page = f.do(t, "POST", "/support/login", "token=not-the-token", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": f.srv.URL})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || !strings.Contains(page, `id="login-error"`) {
		t.Errorf("wrong token = %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, _ = f.do(t, "POST", "/support/login", url.Values{"token": {token}}.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"})
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Errorf("cross-origin login = %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	resp, _ = f.do(t, "POST", "/support/login", url.Values{"token": {token}}.Encode(), map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": f.srv.URL})
	cookies := resp.Cookies()
	if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 {
		t.Fatalf("login = %d, cookies %v", resp.StatusCode, cookies)
	}
	c := cookies[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/support" || c.MaxAge <= 0 || len(c.Value) < 40 || strings.Contains(c.Value, token) {
		t.Errorf("session cookie %+v", c)
	}
	// The cookie is no bearer token: /v1 stays shut.
	req, _ := http.NewRequest("GET", f.srv.URL+"/v1/devices", nil)
	req.AddCookie(c)
	if r2, err := http.DefaultClient.Do(req); err != nil || r2.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /v1/devices with the session cookie: %v %v", r2.StatusCode, err)
	} else {
		r2.Body.Close()
	}

	_, page = f.do(t, "GET", "/support", "", nil)
	if !csrfMeta.MatchString(page) || !strings.Contains(page, `id="outbox"`) {
		t.Fatalf("the logged-in page:\n%s", page)
	}
	resp, body := f.do(t, "GET", "/support/api/overview", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("overview = %d %s", resp.StatusCode, body)
	}
	if err := loadDoc(t).CheckAnswer("GET", "/support/api/overview", resp.StatusCode, resp.Header.Get("Content-Type"), []byte(body)); err != nil {
		t.Errorf("the overview is not what openapi.json says: %v\n%s", err, body)
	}
	var o localapi.SupportOverview
	if err := json.Unmarshal([]byte(body), &o); err != nil {
		t.Fatal(err)
	}
	if len(o.Payments) != 2 || len(o.Payments[0].Flags) != 2 || o.Payments[0].Flags[0] != "charged_late" || o.Payments[0].Flags[1] != "mismatch" ||
		len(o.Flagged) != 1 || o.Flagged[0] != "pay_late" || o.Flags["mismatch"] != 4 {
		t.Errorf("payments and flags: %+v %v %v", o.Payments, o.Flagged, o.Flags)
	}
	if o.Outbox == nil || len(o.Outbox.Items) != 2 || o.Outbox.Alerts != 1 {
		t.Errorf("outbox: %+v", o.Outbox)
	}
	if r := o.Reconciliation; r == nil || r.OK || r.Date != "2026-12-01" || len(r.Reports) != 1 || len(r.Reports[0].Issues) != 1 || r.Reports[0].Issues[0].Kind != "not_in_journal" {
		t.Errorf("reconciliation: %+v", o.Reconciliation)
	}
	// Logging out ends the session.
	f.do(t, "POST", "/support/logout", "", map[string]string{"Origin": f.srv.URL})
	if resp, _ := f.do(t, "GET", "/support/api/overview", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("overview after logout = %d", resp.StatusCode)
	}
}

// With a live session, a POST from another origin, or without the page's
// CSRF token, or with another session's, changes nothing; the page's own
// POST goes through to the outbox with who and why.
func TestSupportRefusesCrossSiteWrites(t *testing.T) {
	f := newSupportFixture(t)
	csrf := f.login(t)
	other := newSupportFixture(t)
	otherCSRF := other.login(t)
	resolve := `{"outcome":"failed","reason":"confirmed with the acquirer: not charged","by":"ops-ana"}`
	json := map[string]string{"Content-Type": "application/json"}
	with := func(kv ...string) map[string]string {
		h := map[string]string{}
		for k, v := range json {
			h[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			h[kv[i]] = kv[i+1]
		}
		return h
	}
	for _, c := range []struct {
		name string
		hdr  map[string]string
	}{
		{"cross-origin", with("Origin", "http://evil.example", "X-CSRF-Token", csrf)},
		{"cross-site fetch metadata", with("Origin", f.srv.URL, "X-CSRF-Token", csrf, "Sec-Fetch-Site", "cross-site")},
		{"another page's referer", with("Origin", f.srv.URL, "X-CSRF-Token", csrf, "Referer", "http://evil.example/x")},
		{"no Origin", with("X-CSRF-Token", csrf)},
		{"no CSRF token", with("Origin", f.srv.URL)},
		{"another session's CSRF token", with("Origin", f.srv.URL, "X-CSRF-Token", otherCSRF)},
	} {
		for _, path := range []string{"/support/api/outbox/op_1/resolve", "/support/api/outbox/op_1/retry", "/support/api/payments/pay_ok/reprint", "/support/api/test/print"} {
			body := ""
			if strings.HasSuffix(path, "resolve") {
				body = resolve
			}
			resp, _ := f.do(t, "POST", path, body, c.hdr)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s POST %s = %d, want 403", c.name, path, resp.StatusCode)
			}
		}
	}
	if len(f.outbox.resolved) != 0 || len(f.outbox.retried) != 0 {
		t.Fatalf("a refused POST reached the outbox: %v %v", f.outbox.resolved, f.outbox.retried)
	}
	if resp, _ := f.do(t, "GET", "/support/api/overview", "", map[string]string{"Origin": "http://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin GET of the overview = %d", resp.StatusCode)
	}
	resp, body := f.do(t, "POST", "/support/api/outbox/op_1/resolve", resolve, with("Origin", f.srv.URL, "X-CSRF-Token", csrf))
	if resp.StatusCode != 200 || len(f.outbox.resolved) != 1 || f.outbox.resolved[0].By != "ops-ana" || !strings.Contains(f.outbox.resolved[0].Reason, "not charged") {
		t.Fatalf("the page's resolve = %d %s; resolved %+v", resp.StatusCode, body, f.outbox.resolved)
	}
	if resp, _ := f.do(t, "POST", "/support/api/outbox/op_1/retry", "", with("Origin", f.srv.URL, "X-CSRF-Token", csrf)); resp.StatusCode != http.StatusAccepted || len(f.outbox.retried) != 1 {
		t.Errorf("the page's retry = %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, "POST", "/support/api/test/print", "", with("Origin", f.srv.URL, "X-CSRF-Token", csrf)); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("test print without a tester = %d, want 503", resp.StatusCode)
	}
	// The API itself still refuses any Origin.
	if resp, _ := f.do(t, "GET", "/v1/outbox", "", map[string]string{"Authorization": "Bearer " + token, "Origin": f.srv.URL}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("/v1 with the page's Origin = %d, want 403", resp.StatusCode)
	}
}
