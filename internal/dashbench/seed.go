// Package dashbench is what the dashboard benchmarks share: a Seed that
// fills a migrated mailing database with synthetic data (owners with
// clients and mailings written through mailing.Store, then the ledger,
// deliveries and one attempt each, by INSERT ... SELECT, so that a million
// deliveries take a minute instead of the hours a real send would), and
// Latencies, which reports the percentiles of timed calls.
package dashbench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
)

// Shape is the data a Seed creates before any ledger rows. Zero fields
// take the defaults in brackets.
type Shape struct {
	// OwnerIDs own the data (100 owners: 1..100).
	OwnerIDs []int64
	// ClientsPerOwner [100], of which every 5th owner's addresses repeat
	// another owner's, so distinct emails are fewer than clients.
	ClientsPerOwner int
	// MailingsPerOwner [10], each to ClientsPerMailing [10] of the
	// owner's clients; their windows are spread around Now so that some
	// are over, some running and some to come.
	MailingsPerOwner  int
	ClientsPerMailing int
	// Now is the newest run's day (Jan 15 2027 09:00 UTC).
	Now time.Time
}

func (s *Shape) defaults() {
	if len(s.OwnerIDs) == 0 {
		for i := range 100 {
			s.OwnerIDs = append(s.OwnerIDs, int64(i+1))
		}
	}
	if s.ClientsPerOwner <= 0 {
		s.ClientsPerOwner = 100
	}
	if s.MailingsPerOwner <= 0 {
		s.MailingsPerOwner = 10
	}
	if s.ClientsPerMailing <= 0 {
		s.ClientsPerMailing = 10
	}
	s.ClientsPerMailing = min(s.ClientsPerMailing, s.ClientsPerOwner)
	if s.Now.IsZero() {
		s.Now = time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC)
	}
}

// Seed is a seeded database whose ledger grows with GrowTo.
type Seed struct {
	Shape    Shape
	db       *sql.DB
	d        sqldb.Dialect
	mailings []mailing.Mailing
	clients  int
	runs     int // runs written per mailing, the newest at Now
	rows     int // deliveries written
}

// New writes shape's clients, messages and mailings into store, which
// must be a mailing store on db (of dialect d, migrated), and returns the
// seed with an empty ledger.
func New(ctx context.Context, db *sql.DB, d sqldb.Dialect, store mailing.Store, shape Shape) (*Seed, error) {
	shape.defaults()
	s := &Seed{Shape: shape, db: db, d: d}
	for o, owner := range shape.OwnerIDs {
		cs := make([]*mailing.Client, shape.ClientsPerOwner)
		for i := range cs {
			n := o*shape.ClientsPerOwner + i
			if o%5 == 4 { // every 5th owner mails the previous owner's addresses
				n -= shape.ClientsPerOwner
			}
			cs[i] = &mailing.Client{OwnerID: owner, Email: fmt.Sprintf("client%d@example.com", n), Name: fmt.Sprint("Client ", n)}
		}
		if err := store.CreateClients(ctx, cs); err != nil {
			return nil, fmt.Errorf("dashbench: clients: %w", err)
		}
		s.clients += len(cs)
		msg := mailing.Message{OwnerID: owner, Subject: "Hello", Body: "Hello {{.Name}}"}
		if err := store.CreateMessage(ctx, &msg); err != nil {
			return nil, fmt.Errorf("dashbench: message: %w", err)
		}
		for m := range shape.MailingsPerOwner {
			ids := make([]int64, shape.ClientsPerMailing)
			for i := range ids {
				ids[i] = cs[(m*shape.ClientsPerMailing+i)%len(cs)].ID
			}
			start := shape.Now.Add(time.Duration(m-shape.MailingsPerOwner/2) * 24 * time.Hour)
			ml := mailing.Mailing{OwnerID: owner, MessageID: msg.ID, ClientIDs: ids, Start: start,
				End: start.Add(72 * time.Hour), Period: mailing.Daily, Enabled: m%4 != 3}
			if err := store.CreateMailing(ctx, &ml); err != nil {
				return nil, fmt.Errorf("dashbench: mailing: %w", err)
			}
			s.mailings = append(s.mailings, ml)
		}
	}
	return s, nil
}

// Deliveries is the number of ledger rows written so far.
func (s *Seed) Deliveries() int { return s.rows }

// RunSize is the number of deliveries one run (of every mailing) adds.
func (s *Seed) RunSize() int { return len(s.mailings) * s.Shape.ClientsPerMailing }

// GrowTo adds runs, one a day going back from Now, until the ledger holds
// at least n deliveries. Each delivery has one attempt in the first four
// hours of its run; 90% are sent, 5% failed, 3% unknown and 2% pending
// (retried). Each run is two INSERT ... SELECT statements in one
// transaction.
func (s *Seed) GrowTo(ctx context.Context, n int) error {
	for s.rows < n {
		runAt := s.Shape.Now.AddDate(0, 0, -s.runs)
		err := sqldb.InTx(ctx, s.db, func(tx *sql.Tx) error {
			var last int64
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM mailing_deliveries`).Scan(&last); err != nil {
				return err
			}
			run := sqldb.TimeArg(runAt)
			salt := s.runs * 7
			if _, err := tx.ExecContext(ctx, `INSERT INTO mailing_deliveries (mailing_id, owner_id, run_at, client_id, email, name,
				state, attempts, next_attempt_at, last_error, created_at, updated_at)
				SELECT r.mailing_id, m.owner_id, ?, r.client_id, c.email, c.name,
					CASE WHEN (r.client_id + ?) % 100 >= 98 THEN 'pending'
						WHEN (r.client_id + ?) % 100 >= 95 THEN 'unknown'
						WHEN (r.client_id + ?) % 100 >= 90 THEN 'failed'
						ELSE 'sent' END,
					1, ?, '', ?, ?
				FROM mailing_recipients r
				JOIN mailings m ON m.id = r.mailing_id
				JOIN mailing_clients c ON c.id = r.client_id
				ORDER BY r.mailing_id, r.client_id`,
				run, salt, salt, salt, sqldb.TimeArg(runAt.Add(5*time.Hour)), run, run); err != nil {
				return err
			}
			hour := func(h int) any { return sqldb.TimeArg(runAt.Add(time.Duration(h)*time.Hour + 17*time.Second)) }
			_, err := tx.ExecContext(ctx, `INSERT INTO mailing_attempts (delivery_id, mailing_id, owner_id, client_id, run_at, at,
				duration_ns, outcome, code, response)
				SELECT d.id, d.mailing_id, d.owner_id, d.client_id, d.run_at,
					CASE d.client_id % 4 WHEN 0 THEN ? WHEN 1 THEN ? WHEN 2 THEN ? ELSE ? END,
					1000000,
					CASE d.state WHEN 'sent' THEN 'sent' WHEN 'failed' THEN 'permanent' WHEN 'unknown' THEN 'unknown' ELSE 'temporary' END,
					CASE d.state WHEN 'sent' THEN 250 WHEN 'failed' THEN 550 WHEN 'unknown' THEN 0 ELSE 451 END,
					'250 2.0.0 Ok: queued'
				FROM mailing_deliveries d WHERE d.id > ? ORDER BY d.id`,
				hour(0), hour(1), hour(2), hour(3), last)
			return err
		})
		if err != nil {
			return fmt.Errorf("dashbench: run %s: %w", runAt.Format(time.DateOnly), err)
		}
		s.runs++
		s.rows += s.RunSize()
	}
	if s.d == sqldb.SQLite {
		_, err := s.db.ExecContext(ctx, `ANALYZE`)
		return err
	}
	for _, t := range []string{"mailing_deliveries", "mailing_attempts"} {
		rows, err := s.db.QueryContext(ctx, `ANALYZE TABLE `+t)
		if err != nil {
			return err
		}
		rows.Close()
	}
	return nil
}

// String describes the seed for benchmark names and logs.
func (s *Seed) String() string {
	return fmt.Sprintf("%d owners, %d clients, %d mailings, %d deliveries (%d runs)",
		len(s.Shape.OwnerIDs), s.clients, len(s.mailings), s.rows, s.runs)
}

// SizesEnv names the variable that sets the ledger sizes of the dashboard
// benchmarks: deliveries, comma-separated, growing ("10000,1000000").
const SizesEnv = "SKYCHIMP_BENCH_DELIVERIES"

// Sizes returns the ledger sizes of SizesEnv, 10,000 and 1,000,000 by
// default.
func Sizes() ([]int, error) {
	v := os.Getenv(SizesEnv)
	if v == "" {
		return []int{10_000, 1_000_000}, nil
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 || len(out) > 0 && n < out[len(out)-1] {
			return nil, fmt.Errorf("%s=%q: want growing numbers of deliveries, such as 10000,1000000", SizesEnv, v)
		}
		out = append(out, n)
	}
	return out, nil
}

// Name is a short name of a size for benchmark names: 10k, 1M.
func Name(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}
