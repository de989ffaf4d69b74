package configs

import (
	"strings"
	"testing"
	"time"
)

// outbox.alert_after is read, and a negative one refused.
func TestOutboxAlertAfter(t *testing.T) {
	c, err := Parse([]byte("gateways: [{name: g, kind: mmsp}]\noutbox:\n  alert_after: 2m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Outbox.AlertAfter != 2*time.Minute {
		t.Errorf("alert_after = %v", c.Outbox.AlertAfter)
	}
	c.Outbox.AlertAfter = -time.Second
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "outbox.alert_after") {
		t.Errorf("negative alert_after: %v", err)
	}
}
