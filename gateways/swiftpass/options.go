package swiftpass

import (
	"bytes"
	"crypto/rsa"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// Spec timing and defaults.
const (
	// DefaultEndpoint is the one request URL of every service (§6.1.3 and
	// the change log of 2018-06-01).
	DefaultEndpoint = "https://gateway.wepayez.com/pay/gateway"
	// SpecPollInterval: "queried every 5 seconds, for a total of 12
	// queries" (§6.2.2). It is also the floor for a real endpoint.
	SpecPollInterval = 5 * time.Second
	// SpecPolls is that suggestion's count; DefaultPayTimeout is 12 polls.
	SpecPolls = 12
	// SpecCloseAfter: "the shortest invocation interval is 5 minutes"
	// between creating an order and closing it (§7 note 8). It is the
	// floor of close_after for a real endpoint.
	SpecCloseAfter = 5 * time.Minute
	// CloseMargin is added to SpecCloseAfter in DefaultCloseAfter: the
	// flows time the close from the create's answer, which the platform
	// received earlier, so latency alone never makes it early; the margin
	// covers the till's clock running ahead of the platform's (time_start
	// is sent from the till's clock, and the platform may count the
	// 5 minutes from it) and a platform that counts from its own answer.
	CloseMargin = 15 * time.Second
	// DefaultCloseAfter is close_after's default for a real endpoint.
	// A simulator pairing (Simulated) uses the simulator's own rule with
	// the same timing from the answer and no margin beyond it: the
	// simulator counts from its receipt of the create, on the same clock.
	DefaultCloseAfter = SpecCloseAfter + CloseMargin
	// SpecCallTimeout: "If there is no clear result of synchronization
	// within 10 seconds, it can be considered that the transaction request
	// has timed out" (§7 note 9).
	SpecCallTimeout = 10 * time.Second
	// DefaultPayTimeout is the spec's 12 queries 5 s apart. No operation
	// of this spec is a micropay, so it only bounds a payment the flows
	// treat as one.
	DefaultPayTimeout = SpecPolls * SpecPollInterval
	// DefaultQRTimeout is how long a merchant QR stays payable; it is sent
	// as time_expire, so the platform stops taking the payment too. The
	// close the till sends at the timeout waits for CloseAfter as well.
	DefaultQRTimeout = 5 * time.Minute
	// MinQRTimeout and MaxQRTimeout are WeChat Pay's range for time_expire
	// (§6.1.3: "from 1 minute to 2 hours"), the narrowest of the wallets.
	MinQRTimeout = time.Minute
	MaxQRTimeout = 2 * time.Hour
	// DefaultCurrency is the currency of a Hong Kong merchant, the home of
	// gateway.wepayez.com (§6.1.3's example: "HKD10.00").
	DefaultCurrency = "HKD"
	// DefaultBody is the goods description when a request has none.
	DefaultBody = "posagent"
	// DefaultCreateIP is mch_create_ip when none is configured.
	DefaultCreateIP = "127.0.0.1"
	// Version is the interface version sent (§6.1.3 "default value: 2.0").
	Version = "2.0"
	// Charset is the only charset sent; signatures are over UTF-8 bytes.
	Charset = "UTF-8"
)

// Options configure a Client. Zero values take the documented defaults;
// mch_id, notify_url and the keys of the chosen sign_type are required.
type Options struct {
	// Endpoint is the request URL; default DefaultEndpoint. It must be
	// https unless Simulated is set or the host is a loopback address.
	Endpoint string `yaml:"endpoint"`
	// MchID is mch_id: the store or ordinary merchant id (String(32)).
	MchID string `yaml:"mch_id"`
	// GroupNo is groupno, the master merchant id; not sent when empty.
	GroupNo string `yaml:"groupno"`
	// SignAgentNo is sign_agentno (aggregator mode): the channel's number,
	// and Key is then the channel's key. Not sent when empty.
	SignAgentNo string `yaml:"sign_agentno"`
	// SignType is MD5 (default), SHA256 or RSA_1_256.
	SignType SignType `yaml:"sign_type"`
	// Key is the MD5/SHA256 signing key; KeyFile names a file holding it
	// instead (resolved against the config file's directory, and refused
	// when group or others may access it). Exactly one for MD5 and SHA256;
	// neither for RSA_1_256.
	Key     pos.Secret `yaml:"key"`
	KeyFile string     `yaml:"key_file"`
	// PrivateKeyFile is the merchant's RSA 2048 private key (PEM, PKCS#1
	// or PKCS#8, mode 0600) and PlatformKeyFile the platform's public key
	// downloaded from the merchant portal (§4.2.3). Both required for
	// RSA_1_256, refused otherwise.
	PrivateKeyFile  string `yaml:"private_key_file"`
	PlatformKeyFile string `yaml:"platform_key_file"`
	// NotifyURL is notify_url (required on every QR order, String(255)):
	// the daemon's notification endpoint as the platform reaches it.
	NotifyURL string `yaml:"notify_url"`
	// Currency is the merchant's currency: total_fee is in its minor units
	// (§6.1.3). Default HKD.
	Currency string `yaml:"currency"`
	// CreateIP is mch_create_ip (required on the wire, String(16)): the
	// till's address as the platform sees it. Default 127.0.0.1.
	CreateIP string `yaml:"create_ip"`
	// DeviceInfo is device_info, the terminal id shown on the merchant
	// platform; not sent when empty.
	DeviceInfo string `yaml:"device_info"`
	// OpUserID is op_user_id on refunds (required there); default MchID,
	// as the spec says.
	OpUserID string `yaml:"op_user_id"`
	// Body is the goods description when a request has none; default
	// DefaultBody. Descriptions are cut to the wire's 128 bytes.
	Body string `yaml:"body"`
	// LimitCredit sends limit_credit_pay=1 (no credit cards).
	LimitCredit bool `yaml:"limit_credit"`

	// PollInterval is the wait between queries; default and minimum 5 s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// QRTimeout is how long a QR stays payable (sent as time_expire);
	// default 5 min, between 1 min and 2 h.
	QRTimeout time.Duration `yaml:"qr_timeout"`
	// CloseAfter is the earliest a close follows the create's answer;
	// default DefaultCloseAfter (5 min + 15 s), minimum the spec's 5 min
	// for a real endpoint.
	CloseAfter time.Duration `yaml:"close_after"`
	// CallTimeout bounds one HTTP exchange; default the spec's 10 s.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// RetryBackoff and RetryBackoffMax pace retries of a close the
	// platform could not confirm; defaults gateways.Timing's.
	RetryBackoff    time.Duration `yaml:"retry_backoff"`
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max"`

	// Simulated marks an endpoint that is a simulator: plain http is
	// allowed and the spec's timing floors are not enforced.
	Simulated bool `yaml:"simulated"`
}

// withDefaults fills defaults and resolves relative key paths against dir.
func (o Options) withDefaults(dir string) Options {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Endpoint, DefaultEndpoint)
	if o.SignType == "" {
		o.SignType = MD5
	}
	def(&o.Currency, DefaultCurrency)
	def(&o.CreateIP, DefaultCreateIP)
	def(&o.OpUserID, o.MchID)
	def(&o.Body, DefaultBody)
	dur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	dur(&o.PollInterval, SpecPollInterval)
	dur(&o.QRTimeout, DefaultQRTimeout)
	dur(&o.CloseAfter, DefaultCloseAfter)
	dur(&o.CallTimeout, SpecCallTimeout)
	abs := func(p *string) {
		if *p != "" && dir != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	abs(&o.KeyFile)
	abs(&o.PrivateKeyFile)
	abs(&o.PlatformKeyFile)
	return o
}

// validate checks o after withDefaults; every message names the option.
func (o Options) validate() error {
	bad := func(format string, args ...any) error {
		return pos.Errorf(pos.Invalid, "swiftpass.New", format, args...)
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return bad("endpoint %q is not an http(s) URL", o.Endpoint)
	}
	if u.Scheme == "http" && !o.Simulated && !isLoopback(u.Hostname()) {
		return bad("endpoint %q must be https (plain http only with simulated: true or a loopback host)", o.Endpoint)
	}
	for _, f := range []struct {
		name, val string
		r         rule
	}{
		{"mch_id", o.MchID, rule{"mch_id", 32, text, true}},
		{"groupno", o.GroupNo, rule{"groupno", 32, text, false}},
		{"sign_agentno", o.SignAgentNo, rule{"sign_agentno", 32, text, false}},
		{"notify_url", o.NotifyURL, rule{"notify_url", 255, text, true}},
		{"create_ip", o.CreateIP, rule{"mch_create_ip", 16, text, true}},
		{"device_info", o.DeviceInfo, rule{"device_info", 32, text, false}},
		{"op_user_id", o.OpUserID, rule{"op_user_id", 32, text, true}},
		{"body", o.Body, rule{"body", 128, text, true}},
	} {
		if err := f.r.check(f.val); err != nil {
			return bad("%s %w", f.name, err)
		}
	}
	if nu, err := url.Parse(o.NotifyURL); err != nil || nu.Host == "" || (nu.Scheme != "https" && nu.Scheme != "http") {
		return bad("notify_url %q is not an absolute http(s) URL", o.NotifyURL)
	}
	if net.ParseIP(o.CreateIP) == nil {
		return bad("create_ip %q is not an IP address", o.CreateIP)
	}
	if c, err := pos.ParseCurrency(o.Currency); err != nil || string(c) != o.Currency {
		return bad("currency %q is not supported", o.Currency)
	}
	if !o.SignType.Valid() {
		return bad("sign_type %q: want MD5, SHA256 or RSA_1_256", o.SignType)
	}
	if o.SignType == RSA {
		if o.Key != "" || o.KeyFile != "" {
			return bad("sign_type RSA_1_256 signs with private_key_file; key and key_file must not be set")
		}
		if o.PrivateKeyFile == "" || o.PlatformKeyFile == "" {
			return bad("sign_type RSA_1_256 needs private_key_file and platform_key_file")
		}
	} else {
		if o.PrivateKeyFile != "" || o.PlatformKeyFile != "" {
			return bad("private_key_file and platform_key_file are for sign_type RSA_1_256, not %s", o.SignType)
		}
		if (o.Key == "") == (o.KeyFile == "") {
			return bad("sign_type %s needs exactly one of key and key_file", o.SignType)
		}
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"poll_interval", o.PollInterval}, {"qr_timeout", o.QRTimeout}, {"close_after", o.CloseAfter},
		{"call_timeout", o.CallTimeout}, {"retry_backoff", o.RetryBackoff}, {"retry_backoff_max", o.RetryBackoffMax}} {
		if d.d < 0 {
			return bad("%s must not be negative", d.name)
		}
	}
	if o.Simulated {
		return nil
	}
	if o.PollInterval < SpecPollInterval {
		return bad("poll_interval %s is below the spec's %s between queries", o.PollInterval, SpecPollInterval)
	}
	if o.CloseAfter < SpecCloseAfter {
		return bad("close_after %s is below the spec's %s: the platform refuses earlier closes", o.CloseAfter, SpecCloseAfter)
	}
	if o.QRTimeout < MinQRTimeout || o.QRTimeout > MaxQRTimeout {
		return bad("qr_timeout %s is outside time_expire's range %s to %s", o.QRTimeout, MinQRTimeout, MaxQRTimeout)
	}
	return nil
}

// signer loads the keys o names and builds the Signer.
func (o Options) signer() (Signer, error) {
	bad := func(err error) (Signer, error) { return Signer{}, pos.E(pos.Invalid, "swiftpass.New", err) }
	if o.SignType == RSA {
		priv, err := LoadPrivateKey(o.PrivateKeyFile)
		if err != nil {
			return bad(fmt.Errorf("private_key_file: %w", err))
		}
		var pub *rsa.PublicKey
		if pub, err = LoadPublicKey(o.PlatformKeyFile); err != nil {
			return bad(fmt.Errorf("platform_key_file: %w", err))
		}
		s, err := NewRSASigner(priv, pub)
		if err != nil {
			return bad(err)
		}
		return s, nil
	}
	key := o.Key.Reveal()
	if o.KeyFile != "" {
		b, err := readSecretFile(o.KeyFile)
		if err != nil {
			return bad(fmt.Errorf("key_file: %w", err))
		}
		key = string(bytes.TrimSpace(b))
	}
	if err := (rule{"key", 128, text, true}).check(key); err != nil {
		return bad(fmt.Errorf("the key %w", err))
	}
	s, err := NewKeySigner(o.SignType, key)
	if err != nil {
		return bad(err)
	}
	return s, nil
}

// timing is the gateways.Timing o describes.
func (o Options) timing() gateways.Timing {
	t := gateways.Timing{
		PollInterval:    o.PollInterval,
		MinPollInterval: SpecPollInterval,
		PayTimeout:      DefaultPayTimeout,
		QRTimeout:       o.QRTimeout,
		CloseAfter:      o.CloseAfter,
		CallTimeout:     o.CallTimeout,
		RetryBackoff:    o.RetryBackoff,
		RetryBackoffMax: o.RetryBackoffMax,
	}
	if o.Simulated {
		t.MinPollInterval = min(t.MinPollInterval, t.PollInterval)
		t.PayTimeout = SpecPolls * t.PollInterval
	}
	return t.WithDefaults()
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
