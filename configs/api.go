package configs

import (
	"fmt"
	"strconv"
	"time"

	"github.com/posagent/posagent"
)

// API configures the local API's listeners and limits.
type API struct {
	// Socket is a unix socket the API also listens on (e.g.
	// /run/posagent/api.sock); empty: none. Requests on it need no token:
	// the kernel names the caller, who must be in AllowUIDs or
	// AllowGroups (or posagent's own user).
	Socket string `yaml:"socket"`
	// SocketMode is the socket's mode, octal (default 0660).
	SocketMode string `yaml:"socket_mode"`
	// SocketGroup is the socket's group, by name or number (default: the
	// process's).
	SocketGroup string `yaml:"socket_group"`
	// AllowUIDs and AllowGroups (names or numbers) may use the socket.
	AllowUIDs   []int    `yaml:"allow_uids"`
	AllowGroups []string `yaml:"allow_groups"`
	// RateLimit is the requests a second one client may make, in bursts
	// of RateBurst (default 100 and 200; -1 no limit).
	RateLimit float64 `yaml:"rate_limit"`
	RateBurst int     `yaml:"rate_burst"`
	// MaxConns bounds the connections served at once (default 256).
	MaxConns int `yaml:"max_conns"`
	// CreateWait is how long POST /v1/payments waits for the outcome when
	// the request does not say (default 1s).
	CreateWait time.Duration `yaml:"create_wait"`
}

// Route sends payments of a method (and wallet) to a gateway. The first
// rule that matches a request naming no gateway wins; a rule without a
// wallet matches every wallet (and a micropay whose code is still to be
// scanned).
type Route struct {
	Method  string `yaml:"method"` // micropay or qr
	Wallet  string `yaml:"wallet"` // wechat, alipay, ...; empty: any
	Gateway string `yaml:"gateway"`
}

// Lane is the scanners (and display) of one till. Payments name their
// lane; one payment per lane waits for a scan. Scanners in no lane are the
// default lane's.
type Lane struct {
	Name     string   `yaml:"name"`
	Scanners []string `yaml:"scanners"`
}

func (c *Config) applyAPIDefaults() {
	if c.API.SocketMode == "" {
		c.API.SocketMode = "0660"
	}
}

func (c *Config) validateAPI(bad func(field, format string, args ...any)) {
	if m, err := strconv.ParseUint(c.API.SocketMode, 8, 32); err != nil || m > 0o777 {
		bad("api.socket_mode", "%q is not an octal mode like 0660", c.API.SocketMode)
	} else if m&0o007 != 0 {
		bad("api.socket_mode", "%q lets every user on the machine in; use 0660 and a group", c.API.SocketMode)
	}
	if c.API.RateBurst < 0 || c.API.MaxConns < 0 || c.API.CreateWait < 0 {
		bad("api", "rate_burst, max_conns and create_wait must not be negative")
	}
	gws := map[string]bool{}
	for _, g := range c.Gateways {
		gws[g.Name] = true
	}
	for i, r := range c.Routes {
		f := fmt.Sprintf("routes[%d]", i)
		if _, err := pos.ParseMethod(r.Method); err != nil {
			bad(f+".method", "%q is not micropay or qr", r.Method)
		}
		if r.Wallet != "" {
			if _, err := pos.ParseWallet(r.Wallet); err != nil {
				bad(f+".wallet", "%v", err)
			}
		}
		if !gws[r.Gateway] {
			bad(f+".gateway", "%q is not a configured gateway", r.Gateway)
		}
	}
	scanners := map[string]bool{}
	for _, s := range c.Scanners {
		scanners[s.Name] = true
	}
	lanes := map[string]bool{}
	inLane := map[string]string{}
	for i, l := range c.Lanes {
		f := fmt.Sprintf("lanes[%d]", i)
		if l.Name == "" || lanes[l.Name] || len(l.Name) > 32 {
			bad(f+".name", "required, unique, at most 32 bytes")
		}
		lanes[l.Name] = true
		for _, s := range l.Scanners {
			if !scanners[s] {
				bad(f+".scanners", "%q is not a configured scanner", s)
			}
			if prev, ok := inLane[s]; ok {
				bad(f+".scanners", "%q is in lane %q already", s, prev)
			}
			inLane[s] = l.Name
		}
	}
}
