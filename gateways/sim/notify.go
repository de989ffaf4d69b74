package sim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
)

// PostNotification delivers one asynchronous notification the way acquirers
// do: a POST of body to url, returning the receiver's answer (the
// acknowledgement the wire simulator then checks) when the status is 2xx.
func PostNotification(ctx context.Context, client *http.Client, url, contentType string, body []byte) ([]byte, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ack, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		return ack, fmt.Errorf("sim: notification answered HTTP %d", resp.StatusCode)
	}
	return ack, nil
}
