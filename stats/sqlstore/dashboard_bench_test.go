package sqlstore_test

import (
	"context"
	"fmt"
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
// for staff (everyone's figures), on one database per ledger size of
// dashbench.Sizes (10k and 1M deliveries, each with an attempt; 100
// owners, 10,000 clients, 1,000 mailings):
//
//   - Direct/<size>: the SQL store on every call (what the panel did
//     before), one size after the other;
//   - Snapshot: a stats.ReadModel read once: the request path alone;
//   - Refreshing: a stats.ReadModel that another goroutine refreshes back
//     to back while it is timed, so that every call overlaps a count of
//     the ledger (a worse case than any setting: the defaults count it at
//     most a tenth of the time).
//
// Snapshot and Refreshing time the sizes in alternating rounds of 100ms
// (dashbench.Interleave), so that a shared machine's drifting load weighs
// on both alike, and report each size's p50 and p99 in milliseconds and
// the ratio of the p99s. On MySQL too when SKYCHIMP_TEST_MYSQL is set.
// Seeding 1M deliveries takes about a minute per engine.
func BenchmarkDashboard(b *testing.B) {
	sizes, err := dashbench.Sizes()
	require.NoError(b, err)
	viewers := []struct {
		name string
		user accounts.User
	}{{"User", accounts.User{ID: 1, Role: accounts.RoleUser}}, {"Staff", accounts.User{ID: 1000, Role: accounts.RoleManager}}}
	eachEngine(b, func(b *testing.B, d sqldb.Dialect) {
		ctx := context.Background()
		type world struct {
			name       string
			direct     *stats.Service
			snap, live *stats.ReadModel
			mailings   *mailing.Service
		}
		var worlds []*world
		for _, n := range sizes {
			db := sqldbtest.New(b, d)
			ms := mailingsql.New(db, d)
			require.NoError(b, ms.Migrate(ctx))
			start := time.Now()
			seed, err := dashbench.New(ctx, db, d, ms, dashbench.Shape{Now: time.Now().UTC().Truncate(time.Hour)})
			require.NoError(b, err)
			require.NoError(b, seed.GrowTo(ctx, n))
			b.Logf("%s: seeded %s in %s", d, seed, time.Since(start).Round(time.Millisecond))
			ss, err := sqlstore.New(db, d)
			require.NoError(b, err)
			w := &world{name: dashbench.Name(n), mailings: mailing.NewService(ms, nil)}
			w.direct = stats.NewService(ss, w.mailings, nil)
			o := stats.ReadModelOptions{CatalogEvery: time.Hour, LedgerEvery: time.Hour, Logger: benchQuiet}
			w.snap, w.live = stats.NewReadModel(ss, o), stats.NewReadModel(ss, o)
			start = time.Now()
			require.NoError(b, w.snap.Refresh(ctx))
			b.Logf("%s %s: one read of the catalog and the ledger: %s", d, w.name, time.Since(start).Round(time.Millisecond))
			require.NoError(b, w.live.Refresh(ctx))
			worlds = append(worlds, w)
		}
		dashboard := func(svc *stats.Service, u accounts.User) func() error {
			uctx := accounts.WithUser(ctx, u)
			return func() error {
				got, err := svc.Dashboard(uctx, stats.DefaultDays, time.UTC)
				if err == nil && got.Figures.Sent == 0 {
					err = fmt.Errorf("no sends counted")
				}
				return err
			}
		}
		for _, w := range worlds {
			for _, who := range viewers {
				b.Run(fmt.Sprintf("Direct/%s/%s", w.name, who.name), func(b *testing.B) {
					call := dashboard(w.direct, who.user)
					var lat dashbench.Latencies
					for b.Loop() {
						lat.Time(func() { err = call() })
						require.NoError(b, err)
					}
					lat.Report(b)
				})
			}
		}
		for _, mode := range []string{"Snapshot", "Refreshing"} {
			for _, who := range viewers {
				b.Run(mode+"/"+who.name, func(b *testing.B) {
					var ws []dashbench.World
					for _, w := range worlds {
						rm := w.snap
						var beside func() func()
						if mode == "Refreshing" {
							rm, beside = w.live, refreshing(w.live)
						}
						ws = append(ws, dashbench.World{Name: w.name, Call: dashboard(stats.NewService(rm, w.mailings, nil), who.user), Beside: beside})
					}
					dashbench.Interleave(b, 100*time.Millisecond, ws...)
				})
			}
		}
	})
}

// refreshing returns a func that starts refreshing rm back to back and
// returns the func that stops it.
func refreshing(rm *stats.ReadModel) func() func() {
	return func() func() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			for ctx.Err() == nil {
				_ = rm.Refresh(ctx)
			}
		}()
		return func() { cancel(); <-done }
	}
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
