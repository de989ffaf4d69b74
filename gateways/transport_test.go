package gateways_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/gateways"
)

// A redirect answer to a submit must be Unknown and must not be followed:
// following it would send the payment code to another host.
func TestDoNeverFollowsRedirects(t *testing.T) {
	var other atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		other.Add(1)
		_, _ = w.Write([]byte("ok"))
	}))
	defer elsewhere.Close()
	var hits atomic.Int32
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, elsewhere.URL+"/pay", http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()

	for _, client := range []*http.Client{nil, {}, redirector.Client()} {
		req, err := http.NewRequest(http.MethodPost, redirector.URL, strings.NewReader("code=134567890123456789"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = gateways.Do(context.Background(), client, req, "micropay")
		if pos.KindOf(err) != pos.Unknown {
			t.Errorf("redirect answer: err = %v, want a pos.Unknown error", err)
		}
	}
	if n := other.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times; the request must never reach another host", n)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("the gateway saw %d requests, want exactly one per call (3)", n)
	}
}

// A RoundTripper under Do sees the operation it was called for.
func TestDoNamesTheOperationToTheTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	var seen string
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = gateways.CallOp(r.Context())
		return http.DefaultTransport.RoundTrip(r)
	})}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	if _, err := gateways.Do(context.Background(), client, req, "mmsp.Query"); err != nil {
		t.Fatal(err)
	}
	if seen != "mmsp.Query" {
		t.Errorf("CallOp = %q, want mmsp.Query", seen)
	}
	if gateways.CallOp(context.Background()) != "" {
		t.Error("CallOp outside Do is not empty")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
