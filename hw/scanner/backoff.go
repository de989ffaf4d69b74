package scanner

import (
	"fmt"
	"time"
)

// Backoff is the wait between reconnect attempts: Min after the first
// failure, doubling up to Max. The zero value means the defaults.
type Backoff struct {
	Min time.Duration `yaml:"min"` // default 250ms
	Max time.Duration `yaml:"max"` // default 5s
}

// Backoff defaults.
const (
	DefaultBackoffMin = 250 * time.Millisecond
	DefaultBackoffMax = 5 * time.Second
)

// WithDefaults fills zero fields.
func (b Backoff) WithDefaults() Backoff {
	if b.Min == 0 {
		b.Min = DefaultBackoffMin
	}
	if b.Max == 0 {
		b.Max = max(DefaultBackoffMax, b.Min)
	}
	return b
}

// Validate reports a backoff that would spin or never retry.
func (b Backoff) Validate() error {
	b = b.WithDefaults()
	if b.Min < time.Millisecond || b.Max < b.Min || b.Max > 10*time.Minute {
		return fmt.Errorf("reconnect backoff %v..%v: want 1ms <= min <= max <= 10m", b.Min, b.Max)
	}
	return nil
}

// Delay is the wait before reconnect attempt n (n >= 1 counts consecutive
// failures).
func (b Backoff) Delay(n int) time.Duration {
	b = b.WithDefaults()
	d := b.Min
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}
