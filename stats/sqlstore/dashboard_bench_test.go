package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/dashbench"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/mailing"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
	"github.com/skychimp/skychimp/stats"
	"github.com/skychimp/skychimp/stats/sqlstore"
)

// BenchmarkDashboard times stats.Service.Dashboard, the call behind the
// panel's /admin page, for a user (owner 1: a hundredth of the data) and
// for staff (everyone's figures), at each ledger size of
// dashbench.Sizes (10k and 1M deliveries, each with an attempt; 100
// owners, 10,000 clients, 1,000 mailings), two ways:
//
//   - Direct: the SQL store on every call (what the panel did before);
//   - ReadModel: stats.ReadModel with Run refreshing it in the background
//     during the measurement, harder than the app does: the ledger is
//     counted again as soon as the previous count's own duration has
//     passed (LedgerDutyFactor 1, so the database is busy with it half the
//     time, not a tenth), so that every run at 1M overlaps refreshes.
//
// It reports p50 and p99 in milliseconds, and the ledger reads made during
// the measurement. On MySQL when
// SKYCHIMP_TEST_MYSQL is set. Seeding 1M deliveries takes about a minute
// per engine.
func BenchmarkDashboard(b *testing.B) {
	sizes, err := dashbench.Sizes()
	require.NoError(b, err)
	eachEngine(b, func(b *testing.B, d sqldb.Dialect) {
		ctx := context.Background()
		db := sqldbtest.New(b, d)
		ms := mailingsql.New(db, d)
		require.NoError(b, ms.Migrate(ctx))
		seed, err := dashbench.New(ctx, db, d, ms, dashbench.Shape{Now: time.Now().UTC().Truncate(time.Hour)})
		require.NoError(b, err)
		ss, err := sqlstore.New(db, d)
		require.NoError(b, err)
		mailings := mailing.NewService(ms, nil)
		for _, n := range sizes {
			start := time.Now()
			require.NoError(b, seed.GrowTo(ctx, n))
			b.Logf("%s: seeded %s in %s", d, seed, time.Since(start).Round(time.Millisecond))

			counted := &countingLedger{Store: ss}
			rm := stats.NewReadModel(counted, stats.ReadModelOptions{LedgerEvery: time.Millisecond, LedgerDutyFactor: 1, Logger: benchQuiet})
			start = time.Now()
			require.NoError(b, rm.Refresh(ctx))
			b.Logf("%s %s: one read of the catalog and the ledger: %s", d, dashbench.Name(n), time.Since(start).Round(time.Millisecond))
			rctx, stop := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- rm.Run(rctx) }()

			for _, mode := range []struct {
				name  string
				store stats.Store
			}{{"Direct", ss}, {"ReadModel", rm}} {
				svc := stats.NewService(mode.store, mailings, nil)
				for _, who := range []struct {
					name string
					user accounts.User
				}{{"User", accounts.User{ID: 1, Role: accounts.RoleUser}}, {"Staff", accounts.User{ID: 1000, Role: accounts.RoleManager}}} {
					b.Run(fmt.Sprintf("%s/%s/%s", dashbench.Name(n), mode.name, who.name), func(b *testing.B) {
						uctx := accounts.WithUser(ctx, who.user)
						var lat dashbench.Latencies
						var got stats.Dashboard
						reads := counted.n.Load()
						for b.Loop() {
							lat.Time(func() {
								got, err = svc.Dashboard(uctx, stats.DefaultDays, time.UTC)
							})
							if err != nil {
								b.Fatal(err)
							}
						}
						if got.Figures.Sent == 0 {
							b.Fatal("no sends counted")
						}
						lat.Report(b)
						if mode.name == "ReadModel" {
							b.ReportMetric(float64(counted.n.Load()-reads), "ledger-reads")
						}
					})
				}
			}
			stop()
			require.NoError(b, <-done)
		}
	})
}

// countingLedger counts the ledger reads.
type countingLedger struct {
	stats.Store
	n atomic.Int64
}

func (s *countingLedger) Ledger(ctx context.Context, since time.Time) (stats.Ledger, error) {
	s.n.Add(1)
	return s.Store.Ledger(ctx, since)
}

// eachEngine runs f per dialect: SQLite, and MySQL when
// SKYCHIMP_TEST_MYSQL is set.
func eachEngine(b *testing.B, f func(b *testing.B, d sqldb.Dialect)) {
	b.Run("SQLite", func(b *testing.B) { f(b, sqldb.SQLite) })
	b.Run("MySQL", func(b *testing.B) {
		sqldbtest.SkipWithoutMySQL(b)
		f(b, sqldb.MySQL)
	})
}
