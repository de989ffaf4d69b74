package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/posagent/posagent"
	"github.com/posagent/posagent/store"
)

// BenchmarkAppend measures journal writes with synchronous=FULL: every
// Append is one fsync'd transaction, so on real hardware the number is
// bounded by the disk's fsync latency, not by SQLite. A till makes a few
// Appends per payment; anything above ~100/s is ample.
func BenchmarkAppend(b *testing.B) {
	ctx := context.Background()
	b.Run("create", func(b *testing.B) {
		db := openAt(b, filepath.Join(b.TempDir(), "j.db"), Options{})
		i := 0
		for b.Loop() {
			c := create(samplePayment(fmt.Sprintf("pay_%d", i)))
			c.Enqueue = []store.Op{{Kind: store.OpQuery}}
			if err := db.Append(ctx, c); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
	b.Run("poll", func(b *testing.B) {
		// The steady state of a payment being polled: a self-transition
		// that completes one query op and enqueues the next.
		db := openAt(b, filepath.Join(b.TempDir(), "j.db"), Options{})
		p := samplePayment("pay_1")
		p.State = pos.StateUserPaying
		c := create(p)
		c.Enqueue = []store.Op{{Kind: store.OpQuery}}
		mustAppend(b, db, c)
		opID := int64(1)
		for b.Loop() {
			c := move(p, pos.StateUserPaying, p.UpdatedAt.Add(time.Second))
			c.Payment.Polls++
			c.Done = []int64{opID}
			c.Enqueue = []store.Op{{Kind: store.OpQuery, NotBefore: c.At.Add(2 * time.Second)}}
			if err := db.Append(ctx, c); err != nil {
				b.Fatal(err)
			}
			p = c.Payment
			opID++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
	b.Run("parallel", func(b *testing.B) {
		// Many goroutines, one writer: shows that Appends queue rather
		// than fail.
		db := openAt(b, filepath.Join(b.TempDir(), "j.db"), Options{})
		var n atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c := create(samplePayment(fmt.Sprintf("pay_%d", n.Add(1))))
				if err := db.Append(ctx, c); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
}
