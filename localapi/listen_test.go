package localapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/localapi"
)

// The socket is created with the mode asked, and the kernel's peer
// credentials decide: this process's uid is let in without a token, an
// allow-list that names nobody else keeps others out.
func TestUnixSocketPeerCredentials(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "la")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "api.sock")
	ln, err := localapi.ListenUnix(path, 0o660, -1)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode: %v %v", fi.Mode(), err)
	}
	ln.Close()
	for _, tc := range []struct {
		name  string
		peers func(localapi.PeerCred) bool
		want  int
	}{
		{"own uid", localapi.AllowPeers(nil, nil), 200},
		{"nobody allowed", func(localapi.PeerCred) bool { return false }, 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token, Peers: tc.peers})
			if err != nil {
				t.Fatal(err)
			}
			srv, _ := localapi.NewHTTPServer(s, localapi.ServerOptions{})
			ln, err := localapi.ListenUnix(path, 0o660, -1)
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)
			defer srv.Close()
			c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", path)
			}}}
			resp, err := c.Get("http://localhost/v1/payments")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
	if !localapi.AllowPeers([]int{4242}, nil)(localapi.PeerCred{UID: 4242, GID: 1}) || localapi.AllowPeers([]int{4242}, []int{7})(localapi.PeerCred{UID: 99999, GID: 8}) {
		t.Errorf("allow-list by uid and gid")
	}
	if !localapi.AllowPeers(nil, []int{7})(localapi.PeerCred{UID: 99999, GID: 7}) {
		t.Errorf("allow-list by gid")
	}
}

// Beyond MaxConns a new connection closes the oldest silent one; the till's
// request is served.
func TestConnLimiterShedsIdleConnections(t *testing.T) {
	s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv, cl := localapi.NewHTTPServer(s, localapi.ServerOptions{MaxConns: 8})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	var idle []net.Conn
	for range 50 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET /v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", token)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if n := cl.Conns(); n > 8 {
		t.Errorf("%d connections open, limit 8", n)
	}
	// The oldest idle connections were closed by the server.
	idle[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idle[0].Read(make([]byte, 1)); err == nil {
		t.Errorf("the oldest idle connection is still open")
	}
}

// A client beyond its rate gets 429 with Retry-After; another client does
// not.
func TestRateLimit(t *testing.T) {
	s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token, RateLimit: 1, RateBurst: 3})
	if err != nil {
		t.Fatal(err)
	}
	codes := []int{}
	for range 5 {
		codes = append(codes, do(s, "GET", "/v1/payments", "", nil).Code)
	}
	if fmt.Sprint(codes[:3]) != "[200 200 200]" || codes[4] != 429 {
		t.Fatalf("codes %v", codes)
	}
	w := do(s, "GET", "/v1/payments", "", nil)
	if w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "rate-limited") {
		t.Errorf("429 without Retry-After or type: %v %s", w.Header(), w.Body)
	}
	if w := do(s, "GET", "/v1/payments", "", map[string]string{"Authorization": "Bearer other-client-token-0123"}); w.Code == 429 {
		t.Errorf("another client was limited too")
	}
}

// TestServerTimeouts: each of the server's limits disconnects a client
// that holds a connection without finishing its part: a request header
// never completed, a body that stops arriving, a kept-alive connection
// left idle. Each subtest shortens only its own limit (the others are an
// hour), so a limit that is not applied leaves its connection open and
// the subtest fails when its generous bound runs out. Nothing here
// measures speed: the bound only ends a test that would otherwise hang.
func TestServerTimeouts(t *testing.T) {
	const short, long, bound = 200 * time.Millisecond, time.Hour, 20 * time.Second
	for _, tc := range []struct {
		name string
		opts localapi.ServerOptions
		send func(t *testing.T, c net.Conn, r *bufio.Reader)
	}{
		{"partial header", localapi.ServerOptions{ReadHeaderTimeout: short, BodyTimeout: long, IdleTimeout: long},
			func(t *testing.T, c net.Conn, _ *bufio.Reader) {
				fmt.Fprintf(c, "GET /v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n", token)
			}},
		{"stalled body", localapi.ServerOptions{ReadHeaderTimeout: long, BodyTimeout: short, IdleTimeout: long},
			func(t *testing.T, c net.Conn, r *bufio.Reader) {
				fmt.Fprintf(c, "POST /v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"amount\":", token)
			}},
		{"idle keep-alive", localapi.ServerOptions{ReadHeaderTimeout: long, BodyTimeout: long, IdleTimeout: short},
			func(t *testing.T, c net.Conn, r *bufio.Reader) {
				fmt.Fprintf(c, "GET /v1/payments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n", token)
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || resp.Close {
					t.Fatalf("first request: status %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := localapi.New(localapi.Options{Payments: &recorder{}, Token: token})
			if err != nil {
				t.Fatal(err)
			}
			srv, _ := localapi.NewHTTPServer(s, tc.opts)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			go srv.Serve(ln)
			defer srv.Close()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := bufio.NewReader(c)
			tc.send(t, c, r)
			// The server may answer (a 4xx for the stalled body) before it
			// closes; what matters is that it closes.
			c.SetReadDeadline(time.Now().Add(bound))
			_, err = io.Copy(io.Discard, r)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the connection is still open after %s: the %s limit is not applied", bound, tc.name)
			}
		})
	}
}
