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

// reconcile.daily_at is read as HH:MM, and anything else refused naming it.
func TestReconcileDailyAt(t *testing.T) {
	c, err := Parse([]byte("gateways: [{name: g, kind: mmsp}]\nreconcile:\n  daily_at: \"09:30\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Reconcile.DailyAt != "09:30" {
		t.Errorf("daily_at = %q", c.Reconcile.DailyAt)
	}
	for _, bad := range []string{"9:30", "24:00", "09:60", "half past nine"} {
		c.Reconcile.DailyAt = bad
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "reconcile.daily_at") {
			t.Errorf("daily_at %q: %v", bad, err)
		}
	}
}
