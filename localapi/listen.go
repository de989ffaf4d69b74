package localapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"time"
)

// PeerCred is who is at the other end of a unix socket connection, as the
// kernel says (SO_PEERCRED).
type PeerCred struct {
	PID, UID, GID int
}

type peerCtx struct{}

// PeerCredFrom returns the peer credentials a request came with: only
// requests over the unix socket have them.
func PeerCredFrom(ctx context.Context) (PeerCred, bool) {
	pc, ok := ctx.Value(peerCtx{}).(PeerCred)
	return pc, ok
}

// PeerCredContext is an http.Server ConnContext: for a unix socket
// connection it reads the peer's credentials into the context. A
// connection whose credentials cannot be read gets a context that no
// request is allowed in with (uid -1).
func PeerCredContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
			uc, ok = tc.NetConn().(*net.UnixConn)
			if !ok {
				return ctx
			}
		} else {
			return ctx
		}
	}
	pc := PeerCred{PID: -1, UID: -1, GID: -1}
	if raw, err := uc.SyscallConn(); err == nil {
		_ = raw.Control(func(fd uintptr) {
			if u, err := syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED); err == nil {
				pc = PeerCred{PID: int(u.Pid), UID: int(u.Uid), GID: int(u.Gid)}
			}
		})
	}
	return context.WithValue(ctx, peerCtx{}, pc)
}

// AllowPeers returns an Options.Peers that admits the given uids and gids
// (and this process's own uid).
func AllowPeers(uids, gids []int) func(PeerCred) bool {
	self := os.Getuid()
	return func(pc PeerCred) bool {
		if pc.UID < 0 {
			return false
		}
		if pc.UID == self {
			return true
		}
		for _, u := range uids {
			if u == pc.UID {
				return true
			}
		}
		for _, g := range gids {
			if g == pc.GID {
				return true
			}
		}
		return false
	}
}

// ListenUnix listens on a unix socket at path with mode (e.g. 0660) and,
// if gid >= 0, that group. A stale socket file left by a previous run is
// removed; any other file there is refused.
func ListenUnix(path string, mode os.FileMode, gid int) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("localapi: %s exists and is not a socket", path)
		}
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("localapi: %s is in use by another process", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("localapi: removing stale socket: %w", err)
		}
	}
	// The socket is created with the umask's mode; tighten the umask so
	// it is never wider than asked, even for a moment.
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("localapi: %w", err)
	}
	if gid >= 0 {
		if err := os.Chown(path, -1, gid); err != nil {
			ln.Close()
			return nil, fmt.Errorf("localapi: socket group: %w", err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		ln.Close()
		return nil, fmt.Errorf("localapi: socket mode: %w", err)
	}
	return ln, nil
}

// ServerOptions are the connection rules of NewHTTPServer.
type ServerOptions struct {
	// MaxConns bounds the connections served at once (default 256, and
	// never more than the process's open-file limit allows with room to
	// spare). A new connection beyond it closes the oldest one that is
	// idle or has not sent its request yet; a request being served is
	// never cut off, so a local process that opens connections and
	// sends nothing cannot keep the till's own requests out.
	MaxConns int
	// ReadHeaderTimeout (default 5 s) bounds the request headers;
	// BodyTimeout (default 10 s) the body; IdleTimeout (default 30 s) a
	// kept-alive connection between requests.
	ReadHeaderTimeout time.Duration
	BodyTimeout       time.Duration
	IdleTimeout       time.Duration
}

// NewHTTPServer returns an http.Server for h with timeouts and the
// connection limit applied: serve it on Listen(ln) of the returned limiter.
func NewHTTPServer(h http.Handler, o ServerOptions) (*http.Server, *ConnLimiter) {
	o = o.withDefaults()
	cl := &ConnLimiter{max: o.MaxConns, conns: map[net.Conn]*connInfo{}}
	bodyTimeout := o.BodyTimeout
	srv := &http.Server{
		// ReadTimeout would also cut off long-polls and event streams
		// (the server's background read shares the deadline), so the body
		// gets its own deadline, cleared once it is read.
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			if r.ContentLength != 0 {
				_ = rc.SetReadDeadline(time.Now().Add(bodyTimeout))
			}
			h.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		IdleTimeout:       o.IdleTimeout,
		ConnState:         cl.state,
		ConnContext:       PeerCredContext,
	}
	return srv, cl
}

// withDefaults fills what o leaves zero (the defaults documented on
// ServerOptions) and caps MaxConns under the open-file limit.
func (o ServerOptions) withDefaults() ServerOptions {
	if o.MaxConns == 0 {
		o.MaxConns = 256
	}
	if lim := fileLimit(); lim > 0 && o.MaxConns > lim/2 {
		o.MaxConns = max(lim/2, 8)
	}
	if o.ReadHeaderTimeout == 0 {
		o.ReadHeaderTimeout = 5 * time.Second
	}
	if o.BodyTimeout == 0 {
		o.BodyTimeout = 10 * time.Second
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = 30 * time.Second
	}
	return o
}

func fileLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 0
	}
	return int(rl.Cur)
}

// ConnLimiter tracks an http.Server's connections and sheds the oldest
// idle ones when there are too many.
type ConnLimiter struct {
	max   int
	mu    sync.Mutex
	conns map[net.Conn]*connInfo
}

type connInfo struct {
	since time.Time
	state http.ConnState
}

func (cl *ConnLimiter) state(c net.Conn, s http.ConnState) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	switch s {
	case http.StateNew:
		cl.conns[c] = &connInfo{since: time.Now(), state: s}
		for len(cl.conns) > cl.max {
			victim := cl.oldestIdle(c)
			if victim == nil {
				break
			}
			delete(cl.conns, victim)
			victim.Close()
		}
	case http.StateActive, http.StateIdle:
		if ci := cl.conns[c]; ci != nil {
			ci.state = s
			ci.since = time.Now()
		}
	case http.StateClosed, http.StateHijacked:
		delete(cl.conns, c)
	}
}

func (cl *ConnLimiter) oldestIdle(except net.Conn) net.Conn {
	var (
		victim net.Conn
		at     time.Time
	)
	for c, ci := range cl.conns {
		if c == except || ci.state == http.StateActive {
			continue
		}
		if victim == nil || ci.since.Before(at) {
			victim, at = c, ci.since
		}
	}
	return victim
}

// Conns is how many connections are open now.
func (cl *ConnLimiter) Conns() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return len(cl.conns)
}

// rateLimiter is a token bucket per client.
type rateLimiter struct {
	rate  float64
	burst float64
	mu    sync.Mutex
	b     map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), b: map[string]*bucket{}}
}

func (l *rateLimiter) allow(client string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.b) > 4096 {
		// Forget clients that have been quiet long enough to be full.
		for k, b := range l.b {
			if now.Sub(b.at).Seconds()*l.rate >= l.burst {
				delete(l.b, k)
			}
		}
	}
	b := l.b[client]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.b[client] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// clientOf names a client for the rate limit: the peer's uid on the unix
// socket; over TCP (loopback only, so every address is this machine) the
// bearer token it presents, so the till's token is one client and each
// stranger without it another, by its address.
func clientOf(r *http.Request) string {
	if pc, ok := PeerCredFrom(r.Context()); ok {
		return fmt.Sprintf("uid:%d", pc.UID)
	}
	if a := r.Header.Get("Authorization"); a != "" {
		return "token:" + fmt.Sprintf("%x", fnv(a))
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "addr:" + host
}

func fnv(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
