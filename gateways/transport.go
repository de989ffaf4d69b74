package gateways

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"

	"github.com/posagent/posagent"
)

// MaxResponseBytes bounds a gateway answer; nothing in the specs comes near.
const MaxResponseBytes = 1 << 20

// Do sends req and returns the response body of a 2xx answer. Failures are
// classified for the flows by whether the request could have been processed:
//   - the request was never written (dial, DNS, TLS refused): pos.Unavailable;
//   - it was written but no complete 2xx answer came back (timeout, reset,
//     5xx, oversize body): pos.Unknown.
//   - a redirect (3xx) is never followed: following one would re-send the
//     request, payment code included, to another host (and a loop would send
//     it ten times), so it is pos.Unknown like any other non-2xx answer.
//
// The distinction matters: Unavailable may be retried as it is, Unknown must
// be queried and never sent again.
func Do(ctx context.Context, client *http.Client, req *http.Request, op string) ([]byte, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	}
	req = req.WithContext(context.WithValue(httptrace.WithClientTrace(ctx, trace), callOpKey{}, op))
	if client == nil {
		client = http.DefaultClient
	}
	// A shallow copy shares the caller's Transport (and its connection pool)
	// and differs only in refusing redirects.
	noRedirect := *client
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noRedirect.Do(req)
	if err != nil {
		if wrote.Load() {
			return nil, pos.E(pos.Unknown, op, fmt.Errorf("no answer after sending: %w", err))
		}
		return nil, pos.E(pos.Unavailable, op, fmt.Errorf("not sent: %w", err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, pos.E(pos.Unknown, op, fmt.Errorf("reading answer: %w", err))
	}
	if len(body) > MaxResponseBytes {
		return nil, pos.Errorf(pos.Unknown, op, "answer larger than %d bytes", MaxResponseBytes)
	}
	if resp.StatusCode/100 != 2 {
		return nil, pos.Errorf(pos.Unknown, op, "HTTP %d from gateway", resp.StatusCode)
	}
	return body, nil
}

type callOpKey struct{}

// CallOp is the operation ("mmsp.Micropay") a gateway request belongs to,
// as Do was told, for a RoundTripper that measures gateway calls (the
// daemon's metrics); "" outside Do.
func CallOp(ctx context.Context) string {
	op, _ := ctx.Value(callOpKey{}).(string)
	return op
}
