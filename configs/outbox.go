package configs

import "time"

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
