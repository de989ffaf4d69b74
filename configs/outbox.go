package configs

import (
	"regexp"
	"time"
)

// Outbox tunes the operator's view of the gateway operations still owed
// (GET /v1/outbox, posagent outbox).
type Outbox struct {
	// AlertAfter is how long a payment or refund may owe gateway work
	// (a query, reverse or close not yet answered) before it is flagged in
	// the outbox and logged at ERROR, once. Default 5m (flows.DefaultAlertAfter).
	AlertAfter time.Duration `yaml:"alert_after"`
}

func (c *Config) validateOutbox(bad func(field, format string, args ...any)) {
	if c.Outbox.AlertAfter < 0 {
		bad("outbox.alert_after", "%s is negative; give a duration like 5m", c.Outbox.AlertAfter)
	}
}

// Reconcile configures the daily reconciliation against the acquirers'
// bills (flows.DailyReconcile).
type Reconcile struct {
	// DailyAt is the time of day, "HH:MM" in the till's local time, at
	// which the acquirer's last closed day (UTC+8) is reconciled and the
	// result kept. Empty: no daily run.
	DailyAt string `yaml:"daily_at"`
}

var timeOfDay = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (c *Config) validateReconcile(bad func(field, format string, args ...any)) {
	if c.Reconcile.DailyAt != "" && !timeOfDay.MatchString(c.Reconcile.DailyAt) {
		bad("reconcile.daily_at", "%q is not a time of day HH:MM (24-hour, e.g. \"09:30\")", c.Reconcile.DailyAt)
	}
}
