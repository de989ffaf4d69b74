package hipopay

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/posagent/posagent"
)

// Defaults and floors. The spec sets no polling rule; these are posagent's
// choices, kept for a real endpoint unless Simulated.
const (
	// DefaultVersion is the Version header of every API but the bill
	// ("Fixed value 1.0").
	DefaultVersion = "1.0"
	// DefaultBillVersion is the Version header of GET /download_bill
	// ("Specify the Version field in the header of this API to 3.0").
	DefaultBillVersion = "3.0"
	// MinPollInterval is the floor between two queries of one order.
	MinPollInterval = 5 * time.Second
	// DefaultCallTimeout bounds one HTTP exchange; MinCallTimeout is its floor.
	DefaultCallTimeout = 15 * time.Second
	MinCallTimeout     = 5 * time.Second
	// DefaultMaxClockSkew is how far an answer's Timestamp may be from the
	// till's clock before the answer is not trusted (it could be a replay).
	DefaultMaxClockSkew = 10 * time.Minute
	// MinMaxClockSkew is the floor of MaxClockSkew: tighter would refuse
	// honest answers from a platform whose clock drifts a little.
	MinMaxClockSkew = time.Minute
)

// SandboxEndpoint is the spec's sandbox host. It is not a default.
const SandboxEndpoint = "https://testapi.hipopay.com/"

// Options configure a Client. Fields without a stated default are required.
type Options struct {
	// Endpoint is the API host; the paths (/payment, ...) are appended. It
	// must be https unless Simulated or its host is a loopback address.
	Endpoint string `yaml:"endpoint"`
	// MerchantNO is the merchant number HipoPay allocated (header
	// MerchantNO; merchant_no of the bill download): letters and digits, at
	// most 32.
	MerchantNO string `yaml:"merchant_no"`
	// MerchantKeyFile is the merchant's RSA private key (PEM, PKCS#1 or
	// PKCS#8, at least 2048 bits) whose public half was sent to HipoPay.
	// It must not be accessible by group or others. Relative paths are
	// resolved against the config file's directory.
	MerchantKeyFile string `yaml:"merchant_key_file"`
	// PlatformKeyFile is HipoPay's public key (PEM), from the spec's
	// "Public Key of ... ENV for callback" download.
	PlatformKeyFile string `yaml:"platform_key_file"`
	// Version is the Version header. Default "1.0".
	Version string `yaml:"version"`
	// BillVersion is the Version header of the bill download. Default "3.0".
	BillVersion string `yaml:"bill_version"`

	// PollInterval is the wait between queries of a pending order. Default
	// and floor 5 s, except Simulated.
	PollInterval time.Duration `yaml:"poll_interval"`
	// CallTimeout bounds one HTTP exchange. Default 15 s, floor 5 s,
	// except Simulated.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// RetryBackoff and RetryBackoffMax pace retries of a refund that could
	// not reach the platform. Defaults: gateways.Timing's.
	RetryBackoff    time.Duration `yaml:"retry_backoff"`
	RetryBackoffMax time.Duration `yaml:"retry_backoff_max"`
	// MaxClockSkew is the largest difference between an answer's Timestamp
	// and the till's clock that is trusted. Default 10 min, floor 1 min.
	MaxClockSkew time.Duration `yaml:"max_clock_skew"`

	// RequireSignedAnswers refuses API answers and the bill file that
	// carry no Signature header. Off by default: the spec signs requests
	// and notifications only, so an answer over TLS from the configured
	// host is trusted as it is (a Signature header, when present, is
	// still verified). Set it once HipoPay confirms it signs answers.
	RequireSignedAnswers bool `yaml:"require_signed_answers"`
	// Simulated marks an endpoint that is a simulator: plain http is
	// allowed on any host and the timing floors are not enforced.
	Simulated bool `yaml:"simulated"`
}

// withDefaults fills defaults and resolves relative paths against dir.
func (o Options) withDefaults(dir string) Options {
	if o.Version == "" {
		o.Version = DefaultVersion
	}
	if o.BillVersion == "" {
		o.BillVersion = DefaultBillVersion
	}
	if o.PollInterval == 0 {
		o.PollInterval = MinPollInterval
	}
	if o.CallTimeout == 0 {
		o.CallTimeout = DefaultCallTimeout
	}
	if o.MaxClockSkew == 0 {
		o.MaxClockSkew = DefaultMaxClockSkew
	}
	o.Endpoint = strings.TrimRight(o.Endpoint, "/")
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
	bad := func(format string, args ...any) error { return pos.Errorf(pos.Invalid, "hipopay.New", format, args...) }
	if o.Endpoint == "" {
		return bad("endpoint is required (the spec's sandbox is %s)", SandboxEndpoint)
	}
	u, err := url.Parse(o.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
		return bad("endpoint %q is not an http(s) URL without query", o.Endpoint)
	}
	if u.Scheme != "https" && !o.Simulated && !loopback(u.Hostname()) {
		return bad("endpoint %q must be https (plain http only on loopback or with simulated: true)", o.Endpoint)
	}
	if o.MerchantNO == "" {
		return bad("merchant_no is required")
	}
	if len(o.MerchantNO) > 32 || !alnum(o.MerchantNO) {
		return bad("merchant_no %q must be 1 to 32 letters and digits", o.MerchantNO)
	}
	if o.MerchantKeyFile == "" {
		return bad("merchant_key_file is required")
	}
	if o.PlatformKeyFile == "" {
		return bad("platform_key_file is required")
	}
	for _, v := range []struct{ name, val string }{{"version", o.Version}, {"bill_version", o.BillVersion}} {
		if len(v.val) > 8 || strings.Trim(v.val, "0123456789.") != "" {
			return bad("%s %q is not a version number like 1.0", v.name, v.val)
		}
	}
	if o.PollInterval < 0 || o.CallTimeout < 0 || o.RetryBackoff < 0 || o.RetryBackoffMax < 0 || o.MaxClockSkew < 0 {
		return bad("durations must not be negative")
	}
	if o.MaxClockSkew < MinMaxClockSkew {
		return bad("max_clock_skew %s is under %s", o.MaxClockSkew, MinMaxClockSkew)
	}
	if o.Simulated {
		return nil
	}
	if o.PollInterval < MinPollInterval {
		return bad("poll_interval %s is under the floor %s", o.PollInterval, MinPollInterval)
	}
	if o.CallTimeout < MinCallTimeout {
		return bad("call_timeout %s is under the floor %s", o.CallTimeout, MinCallTimeout)
	}
	return nil
}

// loopback reports whether host is localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return s != ""
}

// String describes the options without secrets (keys are files), for
// errors and logs.
func (o Options) String() string {
	return fmt.Sprintf("hipopay{endpoint=%s merchantNO=%s version=%s}", o.Endpoint, o.MerchantNO, o.Version)
}
