package allinpay

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// Spec timing. The spec asks for at least 10 s between queries (§1.5.2.2)
// and says nothing about how long a customer may take, so the rest are
// posagent's choices.
const (
	// MinPollInterval is the spec's lower bound between two queries.
	MinPollInterval = 10 * time.Second
	// DefaultPayTimeout is how long a micropay may stay unconfirmed before
	// the agent reverses it.
	DefaultPayTimeout = 90 * time.Second
	// DefaultQRTimeout is how long a merchant QR stays payable; it is sent
	// as expireTime (whole minutes) so the platform closes the order too.
	DefaultQRTimeout = 5 * time.Minute
	// DefaultCallTimeout bounds one HTTP exchange.
	DefaultCallTimeout = 20 * time.Second
	// DefaultCurrency is the currency of a Hong Kong merchant, the
	// platform's home (spec §1.5.2.1 names HKD and SGD).
	DefaultCurrency = "HKD"
)

// Currencies are the platform's (§1.8.3): 人民币 CNY, 港币 HKD, 美元 USD,
// 加币 CAD, 新币 SGD. All have two decimals, which transAmount's "cent"
// (§1.5.1.2) assumes; a merchant's currency is one of them.
var Currencies = []string{"CNY", "HKD", "USD", "CAD", "SGD"}

// TestEndpoint is the spec's test environment (§1.6.4). It is not a
// default: the spec warns that test transactions are real payments.
const TestEndpoint = "https://test.allinpayhk.com/gateway/pay/consumeTrans"

// Options configure a Client. Every field without a stated default is
// required.
type Options struct {
	// Endpoint is the transaction URL (spec §1.6.4 "consumeTrans"). It must
	// be https unless Simulated.
	Endpoint string `yaml:"endpoint"`
	// BillEndpoint is the reconciliation download URL. Default: Endpoint
	// with its trailing "pay/consumeTrans" replaced by
	// "download/downloadbill" (the spec's two URLs differ so), else
	// Endpoint itself.
	BillEndpoint string `yaml:"bill_endpoint"`
	// AccessCode is the access organisation's code (accessCode).
	AccessCode string `yaml:"access_code"`
	// MchNo is the merchant number (mchNo).
	MchNo string `yaml:"mch_no"`
	// MerchantKeyFile is the merchant's RSA 2048 private key, PEM, PKCS#1
	// or PKCS#8. It must not be readable by group or others. Relative
	// paths are resolved against the config file's directory.
	MerchantKeyFile string `yaml:"merchant_key_file"`
	// PlatformKeyFile is the platform's public key (PEM "PUBLIC KEY", "RSA
	// PUBLIC KEY" or a certificate), downloaded from the organisation web
	// platform (§1.6.3).
	PlatformKeyFile string `yaml:"platform_key_file"`
	// NotifyURL is sent as notifyUrl, which every payment, void, refund and
	// close request must carry. It need not be reachable from the platform:
	// queries decide every payment; notifications only speed them up.
	NotifyURL string `yaml:"notify_url"`
	// Currency is the merchant's fixed currency (currency), one of
	// Currencies. Default HKD. PayNow is offered only in SGD.
	Currency string `yaml:"currency"`
	// StoreID and TerminalID are sent with every payment when set
	// (storeId, terminalId); LimitPay (limitPay, e.g. "no_credit") only with
	// WeChat Pay and Alipay payments, the only ones §1.5.2.1 allows it for.
	// Default: not sent.
	StoreID    string `yaml:"store_id"`
	TerminalID string `yaml:"terminal_id"`
	LimitPay   string `yaml:"limit_pay"`

	// PollInterval is the wait between queries. Default and minimum 10 s
	// (MinPollInterval), except for a Simulated endpoint.
	PollInterval time.Duration `yaml:"poll_interval"`
	// PayTimeout: default 90 s. QRTimeout: default 5 min, at most 3 min
	// for an SGD merchant (PayNow's validity). CallTimeout: default 20 s.
	PayTimeout  time.Duration `yaml:"pay_timeout"`
	QRTimeout   time.Duration `yaml:"qr_timeout"`
	CallTimeout time.Duration `yaml:"call_timeout"`
	// RetryBackoff and RetryBackoffMax pace retries of a void or close that
	// could not reach the platform. Defaults: gateways.Timing's.
	RetryBackoff    time.Duration `yaml:"retry_backoff"`
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max"`

	// Simulated marks an endpoint that is a simulator: plain http is
	// allowed and the spec's minimum poll interval is not enforced.
	Simulated bool `yaml:"simulated"`
}

// withDefaults fills defaults and resolves relative paths against dir.
func (o Options) withDefaults(dir string) Options {
	if o.Currency == "" {
		o.Currency = DefaultCurrency
	}
	if o.PollInterval == 0 {
		o.PollInterval = MinPollInterval
	}
	if o.PayTimeout == 0 {
		o.PayTimeout = DefaultPayTimeout
	}
	if o.QRTimeout == 0 {
		o.QRTimeout = DefaultQRTimeout
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.BillEndpoint == "" {
		o.BillEndpoint = o.Endpoint
		if strings.HasSuffix(o.Endpoint, "/pay/consumeTrans") {
			o.BillEndpoint = strings.TrimSuffix(o.Endpoint, "pay/consumeTrans") + "download/downloadbill"
		}
	}
	abs := func(p string) string {
		if p != "" && dir != "" && !filepath.IsAbs(p) {
			return filepath.Join(dir, p)
		}
		return p
	}
	o.MerchantKeyFile = abs(o.MerchantKeyFile)
	o.PlatformKeyFile = abs(o.PlatformKeyFile)
	return o
}

// validate checks o after withDefaults. Every message names the option.
func (o Options) validate() error {
	const op = "allinpay.New"
	bad := func(format string, args ...any) error { return pos.Errorf(pos.Invalid, op, format, args...) }
	for _, e := range []struct{ name, url string }{{"endpoint", o.Endpoint}, {"bill_endpoint", o.BillEndpoint}} {
		if e.url == "" {
			return bad("%s is required (the spec's test endpoint is %s)", e.name, TestEndpoint)
		}
		u, err := url.Parse(e.url)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return bad("%s %q is not an http(s) URL", e.name, e.url)
		}
		if u.Scheme != "https" && !o.Simulated {
			return bad("%s %q must be https (plain http only with simulated: true)", e.name, e.url)
		}
	}
	for _, f := range []struct {
		name, val string
		r         rule
	}{
		{"access_code", o.AccessCode, rule{class: "AN", max: 20, required: true}},
		{"mch_no", o.MchNo, rule{class: "AN", max: 20, required: true}},
		{"notify_url", o.NotifyURL, rule{class: "ANS", max: 256, required: true}},
		{"store_id", o.StoreID, rule{class: "AN", max: 20}},
		{"terminal_id", o.TerminalID, rule{class: "AN", max: 20}},
		{"limit_pay", o.LimitPay, rule{class: "AN", max: 20}},
	} {
		if err := f.r.check(f.val); err != nil {
			return bad("%s %w", f.name, err)
		}
	}
	if u, err := url.Parse(o.NotifyURL); err != nil || u.Host == "" {
		return bad("notify_url %q is not a URL", o.NotifyURL)
	}
	if !slices.Contains(Currencies, o.Currency) {
		return bad("currency %q is not one the platform lists (§1.8.3: %s)", o.Currency, strings.Join(Currencies, ", "))
	}
	if o.MerchantKeyFile == "" {
		return bad("merchant_key_file is required")
	}
	if o.PlatformKeyFile == "" {
		return bad("platform_key_file is required")
	}
	if o.PollInterval < 0 || o.PayTimeout < 0 || o.QRTimeout < 0 || o.CallTimeout < 0 || o.RetryBackoff < 0 || o.RetryBackoffMax < 0 {
		return bad("durations must not be negative")
	}
	if o.PollInterval < MinPollInterval && !o.Simulated {
		return bad("poll_interval %s is below the spec's minimum %s between queries", o.PollInterval, MinPollInterval)
	}
	if o.QRTimeout > 0 && o.QRTimeout < time.Minute && !o.Simulated {
		return bad("qr_timeout %s is below one minute, expireTime's unit", o.QRTimeout)
	}
	return nil
}

// String describes the options without secrets (there are none in them:
// keys are files), for errors and logs.
func (o Options) String() string {
	return fmt.Sprintf("allinpay{endpoint=%s mchNo=%s currency=%s}", o.Endpoint, o.MchNo, o.Currency)
}
