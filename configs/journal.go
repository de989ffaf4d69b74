package configs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Journal is the journal's lifecycle.
type Journal struct {
	// Retention is how long the history of a finished payment is kept:
	// a payment final (with its refunds) and unchanged for longer is
	// compacted, its day's summary totals kept and its records pruned
	// (flows.Retention). Days ("400d") or a duration ("9600h"). Default
	// DefaultRetention; never less than MinRetention.
	Retention Days `yaml:"retention"`
}

// Days is a span written in days ("400d") or as a Go duration.
type Days time.Duration

// UnmarshalYAML reads "400d" or a duration like "9600h".
func (d *Days) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	if n.Kind != yaml.ScalarNode || s == "" {
		return fmt.Errorf("line %d: give a number of days like 400d", n.Line)
	}
	if num, ok := strings.CutSuffix(s, "d"); ok {
		v, err := strconv.Atoi(num)
		if err != nil || v < 0 {
			return fmt.Errorf("line %d: %q is not a number of days like 400d", n.Line, s)
		}
		*d = Days(time.Duration(v) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a number of days like 400d (or a duration like 9600h)", n.Line, s)
	}
	*d = Days(v)
	return nil
}

// String writes whole days as "Nd".
func (d Days) String() string {
	if v := time.Duration(d); v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return time.Duration(d).String()
}

// The retention window. The minimum is what the till itself still needs a
// payment for: a refund can be asked for up to a year after the payment
// (WeChat Pay's and Alipay's online refund window; none of the acquirers'
// specs here allow longer), and a refund needs its payment in the journal;
// a leap day is counted. Reconciliation needs far less (a bill is of one
// day, fetched the next). The default leaves a month beyond that.
const (
	MinRetention     = 366 * 24 * time.Hour
	DefaultRetention = 400 * 24 * time.Hour
)

func (c *Config) validateJournal(bad func(field, format string, args ...any)) {
	if r := time.Duration(c.Journal.Retention); r < MinRetention {
		bad("journal.retention", "%s is shorter than the %s a payment must be kept (a refund may be asked for up to a year after it); give at least %s, or leave it out for %s",
			c.Journal.Retention, Days(MinRetention), Days(MinRetention), Days(DefaultRetention))
	}
}
