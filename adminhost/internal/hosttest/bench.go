package hosttest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/skychimp/skychimp/internal/dashbench"
)

// BenchDashboardPage times GET /admin, the dashboard, through the whole
// host (guard, session, GoAdmin's page, the stats service) at each ledger
// size of dashbench.Sizes, for Alice (a user owning a hundredth of the
// data) and a manager (everyone's figures), two ways:
//
//   - Wired: the read model as the host wires it, refreshed by its Run at
//     the defaults;
//   - Refreshing: as well, another goroutine refreshes it back to back,
//     so that the database and the cores are busy counting the ledger
//     during the whole measurement (a worse case than any setting).
//
// The data (dashbench's shape: 100 owners, Alice and Bob among them,
// 10,000 clients, 1,000 mailings) is added to the Env's database: run it
// in a test binary of its own, without the tests (-run '^$').
func BenchDashboardPage(b *testing.B, e *Env) {
	ctx := context.Background()
	sizes, err := dashbench.Sizes()
	if err != nil {
		b.Fatal(err)
	}
	if e.dashSeed == nil { // once per Env: -count runs grow the same data
		owners := []int64{e.Users[Alice].ID, e.Users[Bob].ID}
		for i := range 98 {
			owners = append(owners, 1_000_000+int64(i))
		}
		e.dashSeed, err = dashbench.New(ctx, e.DB, e.Dialect, e.Store, dashbench.Shape{OwnerIDs: owners, Now: time.Now().UTC().Truncate(time.Hour)})
		if err != nil {
			b.Fatal(err)
		}
	}
	seed := e.dashSeed
	clients := map[string]*Client{}
	for _, who := range []string{Alice, Manager} {
		if clients[who], err = e.Login(who); err != nil {
			b.Fatal(err)
		}
	}
	for _, n := range sizes {
		if seed.Deliveries() > n {
			b.Logf("%s: the ledger holds %d deliveries already, more than %d", e.Dialect, seed.Deliveries(), n)
			continue
		}
		start := time.Now()
		if err := seed.GrowTo(ctx, n); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: seeded %s in %s", e.Dialect, seed, time.Since(start).Round(time.Millisecond))
		start = time.Now()
		if err := e.Figures.Refresh(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s %s: one read of the catalog and the ledger: %s", e.Dialect, dashbench.Name(n), time.Since(start).Round(time.Millisecond))
		for _, mode := range []string{"Wired", "Refreshing"} {
			for _, who := range []string{Alice, Manager} {
				b.Run(fmt.Sprintf("%s/%s/%s", dashbench.Name(n), mode, map[string]string{Alice: "User", Manager: "Staff"}[who]), func(b *testing.B) {
					stop := func() int { return 0 }
					if mode == "Refreshing" {
						stop = refreshing(e)
					}
					c := clients[who]
					var lat dashbench.Latencies
					for b.Loop() {
						var r *Response
						lat.Time(func() { r, err = c.Get("/admin") })
						if err != nil || r.Status != http.StatusOK || !strings.Contains(r.Body, "<p>Sent</p>") {
							b.Fatalf("GET /admin: %v %v", err, r)
						}
					}
					lat.Report(b)
					if n := stop(); mode == "Refreshing" {
						b.ReportMetric(float64(n), "refreshes")
					}
				})
			}
		}
	}
}

// refreshing refreshes e's figures back to back until the func it returns
// is called, which returns how many refreshes were made.
func refreshing(e *Env) func() int {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		n := 0
		for ctx.Err() == nil {
			if e.Figures.Refresh(ctx) == nil {
				n++
			}
		}
		done <- n
	}()
	return func() int {
		cancel()
		return <-done
	}
}
