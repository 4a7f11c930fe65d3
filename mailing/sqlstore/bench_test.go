package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/sqlstore"
)

// eachDialect runs f as a sub-benchmark per dialect; MySQL only when
// SKYCHIMP_TEST_MYSQL is set.
func eachDialect(b *testing.B, f func(b *testing.B, d sqlstore.Dialect)) {
	b.Run("SQLite", func(b *testing.B) { f(b, sqlstore.SQLite) })
	b.Run("MySQL", func(b *testing.B) {
		sqldbtest.SkipWithoutMySQL(b)
		f(b, sqlstore.MySQL)
	})
}

// BenchmarkLedger drives the ledger as the engine does: each iteration
// opens a run of a mailing to 10,000 clients, then claims its deliveries
// in batches of 256, starts them and finishes them as sent. It reports
// the ledger's throughput in deliveries per second and its cost per
// delivery, in all (OpenRun included), in CPU time of the test process
// (which on a shared machine varies less; for MySQL it leaves out the
// server's work) and per step.
func BenchmarkLedger(b *testing.B) {
	const clients, batch = 10_000, 256
	eachDialect(b, func(b *testing.B, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newStore(b, d)
		m := seed(b, s, clients)
		expect := m.NextRun
		var opening, claiming, starting, finishing time.Duration
		cpu0 := cpuTime()
		b.ResetTimer()
		for i := range b.N {
			runAt := t0.Add(time.Duration(i) * time.Minute)
			start := time.Now()
			require.Equal(b, clients, openRun(b, s, m, runAt, expect))
			opening += time.Since(start)
			expect = runAt.Add(24 * time.Hour)
			now := runAt.Add(time.Second)
			done := 0
			for {
				t1 := time.Now()
				ds, err := s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "bench", Now: now, Lease: time.Minute, Limit: batch})
				require.NoError(b, err)
				t2 := time.Now()
				claiming += t2.Sub(t1)
				if len(ds) == 0 {
					break
				}
				moved, err := s.StartDeliveries(ctx, "bench", ids(ds), now)
				require.NoError(b, err)
				t3 := time.Now()
				starting += t3.Sub(t2)
				rs := make([]mailing.Result, len(moved))
				for j, id := range moved {
					rs[j] = mailing.Result{State: mailing.DeliverySent, Attempt: mailing.Attempt{
						DeliveryID: id, At: now, Duration: 3 * time.Millisecond,
						Outcome: mailing.OutcomeSent, Code: 250, Response: "2.0.0 Ok: queued as 4F2A1B3C9D",
					}}
				}
				require.NoError(b, s.FinishDeliveries(ctx, "bench", rs))
				finishing += time.Since(t3)
				done += len(moved)
			}
			require.Equal(b, clients, done)
		}
		elapsed := b.Elapsed()
		cpu := cpuTime() - cpu0
		n := float64(b.N * clients)
		b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/delivery")
		b.ReportMetric(n/elapsed.Seconds(), "deliveries/s")
		b.ReportMetric(float64(elapsed.Microseconds())/n, "µs/delivery")
		b.ReportMetric(float64(opening.Milliseconds())/float64(b.N), "ms/OpenRun")
		b.ReportMetric(float64(claiming.Microseconds())/n, "claim-µs/delivery")
		b.ReportMetric(float64(starting.Microseconds())/n, "start-µs/delivery")
		b.ReportMetric(float64(finishing.Microseconds())/n, "finish-µs/delivery")
		b.ReportMetric(0, "ns/op")
	})
}

// BenchmarkOpenRun100k opens one run of a mailing to 100,000 clients per
// iteration.
func BenchmarkOpenRun100k(b *testing.B) {
	const clients = 100_000
	eachDialect(b, func(b *testing.B, d sqlstore.Dialect) {
		s := newStore(b, d)
		start := time.Now()
		m := seed(b, s, clients)
		b.Logf("%d clients and their mailing created in %v", clients, time.Since(start).Round(time.Millisecond))
		expect := m.NextRun
		b.ResetTimer()
		for i := range b.N {
			runAt := t0.Add(time.Duration(i) * time.Minute)
			require.Equal(b, clients, openRun(b, s, m, runAt, expect))
			expect = runAt.Add(24 * time.Hour)
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/OpenRun")
		b.ReportMetric(0, "ns/op")
	})
}
