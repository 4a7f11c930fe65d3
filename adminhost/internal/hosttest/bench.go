package hosttest

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skychimp/skychimp/internal/dashbench"
	"github.com/skychimp/skychimp/internal/sqldb"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
	"github.com/skychimp/skychimp/stats"
	statssql "github.com/skychimp/skychimp/stats/sqlstore"
)

// BenchDashboardPage times GET /admin, the dashboard, through the whole
// host (guard, session, GoAdmin's page, the stats service), with the
// figures read from a database of each ledger size of dashbench.Sizes
// (10k and 1M deliveries; 100 owners, Alice among them, 10,000 clients,
// 1,000 mailings), for Alice (a hundredth of the data) and a manager
// (everyone's figures). Everything else the page reads comes from the
// Env's database, alike for every size.
//
// The sizes are timed in alternating rounds of 200ms
// (dashbench.Interleave), so that a shared machine's drifting load weighs
// on both alike, two ways:
//
//   - Snapshot: the read model as read once: the request path alone;
//   - Refreshing: while the size's read model is refreshed back to back,
//     so that every request overlaps a count of its ledger (a worse case
//     than the defaults, which count it at most a tenth of the time).
func BenchDashboardPage(b *testing.B, e *Env) {
	ctx := context.Background()
	sizes, err := dashbench.Sizes()
	if err != nil {
		b.Fatal(err)
	}
	defer e.figures.Store(e.Figures)
	type world struct {
		name string
		rm   *stats.ReadModel
	}
	var worlds []world
	for _, n := range sizes {
		db := e.worldDB(b, len(worlds))
		ms := mailingsql.New(db, e.Dialect)
		if err := ms.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		seed, err := dashbench.New(ctx, db, e.Dialect, ms, dashbench.Shape{
			OwnerIDs: owners(e), Now: time.Now().UTC().Truncate(time.Hour)})
		if err == nil {
			err = seed.GrowTo(ctx, n)
		}
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: seeded %s in %s", e.Dialect, seed, time.Since(start).Round(time.Millisecond))
		ss, err := statssql.New(db, e.Dialect)
		if err != nil {
			b.Fatal(err)
		}
		rm := stats.NewReadModel(ss, stats.ReadModelOptions{CatalogEvery: time.Hour, LedgerEvery: time.Hour})
		start = time.Now()
		if err := rm.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s %s: one read of the catalog and the ledger: %s", e.Dialect, dashbench.Name(n), time.Since(start).Round(time.Millisecond))
		worlds = append(worlds, world{dashbench.Name(n), rm})
	}
	for _, mode := range []string{"Snapshot", "Refreshing"} {
		for _, who := range []string{Alice, Manager} {
			c, err := e.Login(who)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(mode+"/"+map[string]string{Alice: "User", Manager: "Staff"}[who], func(b *testing.B) {
				var ws []dashbench.World
				for _, w := range worlds {
					ws = append(ws, dashbench.World{
						Name: w.name,
						Call: func() error {
							r, err := c.Get("/admin")
							if err == nil && (r.Status != http.StatusOK || !strings.Contains(r.Body, "<p>Sent</p>")) {
								err = fmt.Errorf("GET /admin: %d %s", r.Status, clip(r.Body))
							}
							return err
						},
						Beside: func() func() {
							e.figures.Store(w.rm)
							if mode == "Refreshing" {
								return refreshing(w.rm)
							}
							return func() {}
						},
					})
				}
				dashbench.Interleave(b, 200*time.Millisecond, ws...)
			})
		}
	}
}

// owners are the owners of a benchmark's data: Alice, Bob and 98 others.
func owners(e *Env) []int64 {
	ids := []int64{e.Users[Alice].ID, e.Users[Bob].ID}
	for i := range 98 {
		ids = append(ids, 1_000_000+int64(i))
	}
	return ids
}

// worldDB opens a new empty database of the Env's dialect, dropped when
// b ends.
func (e *Env) worldDB(b *testing.B, i int) *sql.DB {
	b.Helper()
	ctx := context.Background()
	url := "sqlite:" + filepath.Join(b.TempDir(), fmt.Sprintf("world-%d.db", i))
	if e.Dialect == sqldb.MySQL {
		u, drop, err := mysqlDatabase(ctx)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(drop)
		url = u
	}
	db, _, err := sqldb.OpenURL(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// refreshing refreshes rm back to back until the func it returns is
// called.
func refreshing(rm *stats.ReadModel) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			_ = rm.Refresh(ctx)
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
