package allpay

import (
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
	"github.com/posagent/posagent/gateways/internal/keyfile"
)

// Endpoints of §4.1 (the base URL; each interface has its own path).
// Neither is a default: the test environment may take real money, and
// production must be chosen on purpose.
const (
	ProductionEndpoint = "https://api.allpayx.com"
	TestEndpoint       = "https://testapi.allpayx.com"
)

// Timing. The spec sets no query interval and no order lifetime; these are
// posagent's choices, like MMSP's.
const (
	// MinPollInterval is the floor between queries of a real endpoint.
	MinPollInterval = 5 * time.Second
	// DefaultQRTimeout is how long a merchant QR stays on the till before
	// the agent cancels it (VOID). PURC has no expiry field to send.
	DefaultQRTimeout = 5 * time.Minute
	// DefaultCallTimeout bounds one HTTP exchange.
	DefaultCallTimeout = 15 * time.Second
	// DefaultCurrency is the currency of the spec's examples.
	DefaultCurrency = "USD"
	// DefaultGoodsInfo is goodsInfo when a payment has no description.
	DefaultGoodsInfo = "posagent"
	// DefaultPayableWindow is how long a QR order is taken to stay
	// payable after its creation: the wallets' own default lifetime of a
	// code_url (WeChat Pay and Alipay: 2 hours). Inside it, INQY 01, 61
	// and P3 are not final.
	DefaultPayableWindow = 2 * time.Hour
)

// Alipay channel codes (§5.2 AP, §5.9 APHK). posagent has one Alipay
// wallet; Options.AlipaySchema picks which channel its QR orders use.
const (
	SchemaWeChat   = "WX"
	SchemaAlipay   = "AP"
	SchemaAlipayHK = "APHK"
)

// Options configure a Client. Fields without a stated default are required.
type Options struct {
	// Endpoint is the platform's base URL, ProductionEndpoint or
	// TestEndpoint (§4.1); the interface paths (/api/unifiedorder, …) are
	// appended. https is required unless Simulated is set or the host is a
	// loopback address.
	Endpoint string `yaml:"endpoint"`
	// MerID is the merchant ID assigned by AllPay (merID, String(15)).
	MerID string `yaml:"mer_id"`
	// AcqID is acqID (String(11)); default "99020344", the value every
	// table of the spec gives.
	AcqID string `yaml:"acq_id"`
	// Key is the signing key agreed with AllPay; KeyFile names a file
	// holding it instead (resolved against gateways.Env.Dir, and refused
	// when group or others may read it). Exactly one is required.
	Key     pos.Secret `yaml:"key"`
	KeyFile string     `yaml:"key_file"`
	// SignType is "MD5" or "SHA256" (signType); default SHA256. Answers
	// and notifications must be signed with the same type.
	SignType string `yaml:"sign_type"`
	// BackURL is backURL, where the platform POSTs payment notifications:
	// the daemon's notification endpoint as the platform reaches it.
	// Required (the field is mandatory); at most 400 bytes.
	BackURL string `yaml:"back_url"`
	// FrontURL is frontURL, mandatory in PURC but unused in QRCODE mode
	// (nothing is redirected); default BackURL.
	FrontURL string `yaml:"front_url"`
	// Currency is the merchant's order currency (orderCurrency); default
	// USD, the spec's example.
	Currency string `yaml:"currency"`
	// AlipaySchema is the paymentSchema of Alipay QR orders: "AP"
	// (default) or "APHK" (AlipayHK).
	AlipaySchema string `yaml:"alipay_schema"`
	// GoodsInfo is goodsInfo when a payment has no description; default
	// "posagent". Descriptions are cut to the wire's 60 bytes.
	GoodsInfo string `yaml:"goods_info"`
	// PollInterval is the wait between queries; default and minimum 5 s
	// (MinPollInterval) unless Simulated.
	PollInterval time.Duration `yaml:"poll_interval"`
	// QRTimeout: default 5 min. CallTimeout: default 15 s. RetryBackoff
	// and RetryBackoffMax pace retries of a VOID that got no answer;
	// defaults gateways.Timing's.
	QRTimeout       time.Duration `yaml:"qr_timeout"`
	CallTimeout     time.Duration `yaml:"call_timeout"`
	RetryBackoff    time.Duration `yaml:"retry_backoff"`
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max"`
	// VoidQR says the acquirer confirmed in writing that VOID (§4.8,
	// documented for cards only) cancels WX/AP/APHK QR orders. Off by
	// default: an unpaid QR order is then never voided but polled until
	// it ends, and Capabilities declare no Reverse.
	VoidQR bool `yaml:"void_qr"`
	// PayableWindow is how long after its creation a QR order may still
	// be paid (PURC sends no expiry); default 2 h (DefaultPayableWindow).
	// Inside it INQY 01, 61 and P3 are read as "not paid yet".
	PayableWindow time.Duration `yaml:"payable_window"`
	// Simulated marks an endpoint that is a simulator: plain http and
	// timings faster than the floors are allowed.
	Simulated bool `yaml:"simulated"`
}

// String describes the options without the key.
func (o Options) String() string {
	return fmt.Sprintf("allpay{endpoint=%s merID=%s signType=%s currency=%s}", o.Endpoint, o.MerID, o.SignType, o.Currency)
}

func (o Options) withDefaults() Options {
	if o.AcqID == "" {
		o.AcqID = DefaultAcqID
	}
	if o.SignType == "" {
		o.SignType = SignSHA256
	}
	if o.FrontURL == "" {
		o.FrontURL = o.BackURL
	}
	if o.Currency == "" {
		o.Currency = DefaultCurrency
	}
	if o.AlipaySchema == "" {
		o.AlipaySchema = SchemaAlipay
	}
	if o.GoodsInfo == "" {
		o.GoodsInfo = DefaultGoodsInfo
	}
	if o.PollInterval == 0 {
		o.PollInterval = MinPollInterval
	}
	if o.QRTimeout == 0 {
		o.QRTimeout = DefaultQRTimeout
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.PayableWindow == 0 {
		o.PayableWindow = DefaultPayableWindow
	}
	return o
}

// validate checks o after withDefaults; every message names the option.
func (o Options) validate() error {
	bad := func(format string, args ...any) error { return pos.Errorf(pos.Invalid, "allpay.New", format, args...) }
	u, err := url.Parse(o.Endpoint)
	if o.Endpoint == "" {
		return bad("endpoint is required (%s, or %s for tests)", ProductionEndpoint, TestEndpoint)
	}
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return bad("endpoint %q is not an http(s) URL", o.Endpoint)
	}
	if u.Scheme != "https" && !o.Simulated && !isLoopback(u.Hostname()) {
		return bad("endpoint %q must be https (plain http only with simulated: true or on loopback)", o.Endpoint)
	}
	for _, f := range []struct{ opt, field, val string }{
		{"mer_id", "merID", o.MerID}, {"acq_id", "acqID", o.AcqID},
		{"back_url", "backURL", o.BackURL}, {"front_url", "frontURL", o.FrontURL},
	} {
		if f.val == "" {
			return bad("%s is required (%s)", f.opt, f.field)
		}
		if err := checkField(f.field, f.val); err != nil {
			return bad("%s: %v", f.opt, err)
		}
	}
	for _, f := range []struct{ opt, val string }{{"back_url", o.BackURL}, {"front_url", o.FrontURL}} {
		if u, err := url.Parse(f.val); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return bad("%s %q is not an absolute http(s) URL", f.opt, f.val)
		}
	}
	if o.SignType != SignMD5 && o.SignType != SignSHA256 {
		return bad("sign_type %q: want %s or %s", o.SignType, SignMD5, SignSHA256)
	}
	if _, err := pos.ParseCurrency(o.Currency); err != nil {
		return bad("currency %q is not supported", o.Currency)
	}
	if o.AlipaySchema != SchemaAlipay && o.AlipaySchema != SchemaAlipayHK {
		return bad("alipay_schema %q: want %s or %s", o.AlipaySchema, SchemaAlipay, SchemaAlipayHK)
	}
	if err := checkField("goodsInfo", truncateBytes(clean(o.GoodsInfo), 60)); err != nil {
		return bad("goods_info: %v", err)
	}
	for _, d := range []time.Duration{o.PollInterval, o.QRTimeout, o.CallTimeout, o.RetryBackoff, o.RetryBackoffMax, o.PayableWindow} {
		if d < 0 {
			return bad("durations must not be negative")
		}
	}
	if !o.Simulated && o.PollInterval < MinPollInterval {
		return bad("poll_interval %s is below the minimum %s for a real endpoint", o.PollInterval, MinPollInterval)
	}
	return nil
}

// loadKey reads the signing key from Key or KeyFile.
func loadKey(o Options, dir string) (string, error) {
	const op = "allpay.New"
	key, err := keyfile.InlineOrFile(o.Key.Reveal(), o.KeyFile, dir)
	if err != nil {
		return "", pos.E(pos.Invalid, op, err)
	}
	for _, r := range key {
		if r <= 0x20 || r == 0x7f {
			return "", pos.Errorf(pos.Invalid, op, "the key must be printable text without spaces")
		}
	}
	return key, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// timing is the gateways.Timing of validated options.
func (o Options) timing() gateways.Timing {
	return gateways.Timing{
		PollInterval:    o.PollInterval,
		MinPollInterval: min(MinPollInterval, o.PollInterval),
		QRTimeout:       o.QRTimeout,
		CallTimeout:     o.CallTimeout,
		RetryBackoff:    o.RetryBackoff,
		RetryBackoffMax: o.RetryBackoffMax,
	}.WithDefaults()
}
