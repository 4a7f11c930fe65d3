package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/sqlstore"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// seed creates n clients of owner 1, a message and an enabled daily
// mailing to all of them with NextRun t0, and returns the mailing.
func seed(tb testing.TB, s mailing.Store, n int) mailing.Mailing {
	tb.Helper()
	ctx := context.Background()
	cs := make([]*mailing.Client, n)
	ids := make([]int64, n)
	for i := range cs {
		cs[i] = &mailing.Client{OwnerID: 1, Email: fmt.Sprintf("c%06d@example.com", i), Name: fmt.Sprint("Client ", i)}
	}
	require.NoError(tb, s.CreateClients(ctx, cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	msg := mailing.Message{OwnerID: 1, Subject: "Hi {{.Name}}", Body: "<p>Hello</p>"}
	require.NoError(tb, s.CreateMessage(ctx, &msg))
	m := mailing.Mailing{
		OwnerID: 1, MessageID: msg.ID, ClientIDs: ids, Start: t0.Add(-24 * time.Hour), End: t0.Add(30 * 24 * time.Hour),
		Period: mailing.Daily, Enabled: true, NextRun: t0,
	}
	require.NoError(tb, s.CreateMailing(ctx, &m))
	return m
}

// openRun opens the run of m at runAt, expecting NextRun expect.
func openRun(tb testing.TB, s mailing.Store, m mailing.Mailing, runAt, expect time.Time) int {
	tb.Helper()
	n, err := s.OpenRun(context.Background(), mailing.RunPlan{
		MailingID: m.ID, RunAt: runAt, Expect: expect, Next: runAt.Add(24 * time.Hour), Now: runAt,
	})
	require.NoError(tb, err)
	return n
}

func ids(ds []mailing.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func TestMigrate(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		url := sqldbtest.URL(t, d)
		s := sqlstore.New(sqldbtest.Open(t, url), d)
		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, sqlstore.Status{Current: 0, Latest: 3, Pending: 3}, st, "a fresh database")

		require.NoError(t, s.Migrate(ctx))
		st, err = s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, sqlstore.Status{Current: 3, Latest: 3}, st, "at the latest version")
		assert.True(t, st.UpToDate())

		t.Run("SecondRunIsNoOp", func(t *testing.T) {
			db2 := sqldbtest.Open(t, url)
			require.NoError(t, sqlstore.New(db2, d).Migrate(ctx), "another process")
			require.NoError(t, s.Migrate(ctx))
			var versions int
			require.NoError(t, db2.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+sqlstore.VersionTable).Scan(&versions))
			assert.Equal(t, 4, versions, "versions 0 to 3, once each")
			st, err := s.MigrationStatus(ctx)
			require.NoError(t, err)
			assert.Equal(t, sqlstore.Status{Current: 3, Latest: 3}, st)
		})
		t.Run("TablesExist", func(t *testing.T) {
			for _, table := range []string{"mailing_clients", "mailing_messages", "mailings", "mailing_recipients", "mailing_deliveries", "mailing_attempts", "mailing_runs", "mailing_engines"} {
				var n int
				assert.NoError(t, sqldbtest.Open(t, url).QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n), table)
			}
		})
	})
	t.Run("ErrSQLiteForeignKeysOff", func(t *testing.T) {
		db, err := sql.Open("sqlite", sqldbtest.SQLitePath(t))
		require.NoError(t, err)
		defer db.Close()
		err = sqlstore.New(db, sqlstore.SQLite).Migrate(context.Background())
		assert.EqualError(t, err, "sqlstore: SQLite foreign keys are off: open the database with sqlstore.SQLiteDSN or sqlstore.Open")
	})
	t.Run("ErrDialect", func(t *testing.T) {
		assert.Panics(t, func() { sqlstore.New(nil, "postgres") })
	})
}

// TestClaimAcrossPools runs engines on two pools of one database, as two
// processes would: every delivery is claimed, started and finished exactly
// once.
func TestClaimAcrossPools(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		url := sqldbtest.URL(t, d)
		a := sqlstore.New(sqldbtest.Open(t, url), d)
		require.NoError(t, a.Migrate(ctx))
		b := sqlstore.New(sqldbtest.Open(t, url), d)
		require.NoError(t, b.Migrate(ctx))

		const clients, runs = 200, 2
		m := seed(t, a, clients)
		expect := m.NextRun
		for r := range runs {
			at := t0.Add(time.Duration(r) * time.Hour)
			require.Equal(t, clients, openRun(t, b, m, at, expect))
			expect = at.Add(24 * time.Hour)
		}
		now := t0.Add(2 * time.Hour)

		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			claimed = map[int64]string{}
			dups    []string
			errs    []error
		)
		for e := range 6 {
			s := []*sqlstore.Store{a, b}[e%2]
			owner := fmt.Sprint("engine-", e)
			wg.Go(func() {
				for {
					ds, err := s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: owner, Now: now, Lease: time.Hour, Limit: 9})
					if err == nil && len(ds) > 0 {
						var moved []int64
						if moved, err = s.StartDeliveries(ctx, owner, ids(ds), now); err == nil && len(moved) != len(ds) {
							err = fmt.Errorf("%s started %d of %d", owner, len(moved), len(ds))
						}
						var rs []mailing.Result
						for _, d := range ds {
							rs = append(rs, mailing.Result{State: mailing.DeliverySent, Attempt: mailing.Attempt{
								DeliveryID: d.ID, At: now, Outcome: mailing.OutcomeSent, Code: 250, Response: "ok"}})
						}
						if err == nil {
							err = s.FinishDeliveries(ctx, owner, rs)
						}
					}
					mu.Lock()
					if err != nil {
						errs = append(errs, err)
					}
					for _, d := range ds {
						if prev, ok := claimed[d.ID]; ok {
							dups = append(dups, fmt.Sprintf("delivery %d claimed by %s and %s", d.ID, prev, owner))
						}
						claimed[d.ID] = owner
					}
					mu.Unlock()
					if err != nil || len(ds) == 0 {
						return
					}
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		assert.Empty(t, dups)
		assert.Len(t, claimed, clients*runs, "every delivery claimed")
		sent, total, err := a.ListDeliveries(ctx, mailing.DeliveryFilter{States: []mailing.DeliveryState{mailing.DeliverySent}})
		require.NoError(t, err)
		assert.Equal(t, clients*runs, total)
		assert.Len(t, sent, clients*runs)
		_, attempts, err := b.ListAttempts(ctx, mailing.AttemptFilter{})
		require.NoError(t, err)
		assert.Equal(t, clients*runs, attempts, "one attempt each")
	})
}

func TestStartSkipsStoppedMailings(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newStore(t, d)
		m := seed(t, s, 3)
		openRun(t, s, m, t0, t0)
		ds, err := s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "e1", Now: t0, Lease: time.Hour})
		require.NoError(t, err)
		require.Len(t, ds, 3)

		require.NoError(t, s.SetMailingEnabled(ctx, m.ID, false, time.Time{}, t0))
		moved, err := s.StartDeliveries(ctx, "e1", ids(ds), t0)
		require.NoError(t, err)
		assert.Empty(t, moved, "a disabled mailing")

		require.NoError(t, s.SetMailingEnabled(ctx, m.ID, true, time.Time{}, t0))
		moved, err = s.StartDeliveries(ctx, "e1", ids(ds), m.End.Add(time.Second))
		require.NoError(t, err)
		assert.Empty(t, moved, "a mailing that ended")

		moved, err = s.StartDeliveries(ctx, "e1", []int64{ds[2].ID, ds[0].ID, ds[0].ID}, m.End)
		require.NoError(t, err)
		assert.Equal(t, []int64{ds[2].ID, ds[0].ID}, moved, "in the order given, once each")
		list, _, err := s.ListDeliveries(ctx, mailing.DeliveryFilter{States: []mailing.DeliveryState{mailing.DeliveryPending}})
		require.NoError(t, err)
		assert.Equal(t, []int64{ds[1].ID}, ids(list), "the rest stays pending")
	})
}

func TestFinishAfterMailingDeleted(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newStore(t, d)
		m := seed(t, s, 2)
		openRun(t, s, m, t0, t0)
		ds, err := s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "e1", Now: t0, Lease: time.Hour})
		require.NoError(t, err)
		_, err = s.StartDeliveries(ctx, "e1", ids(ds), t0)
		require.NoError(t, err)
		require.NoError(t, s.DeleteMailing(ctx, m.ID))

		var rs []mailing.Result
		for _, d := range ds {
			rs = append(rs, mailing.Result{State: mailing.DeliverySent, Attempt: mailing.Attempt{DeliveryID: d.ID, At: t0, Outcome: mailing.OutcomeSent}})
		}
		require.NoError(t, s.FinishDeliveries(ctx, "e1", rs), "results of a deleted mailing are dropped")
		_, n, err := s.ListAttempts(ctx, mailing.AttemptFilter{})
		require.NoError(t, err)
		assert.Zero(t, n)
	})
}

func TestLongTextClipped(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newStore(t, d)
		m := seed(t, s, 1)
		openRun(t, s, m, t0, t0)
		ds, err := s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "e1", Now: t0, Lease: time.Hour})
		require.NoError(t, err)
		_, err = s.StartDeliveries(ctx, "e1", ids(ds), t0)
		require.NoError(t, err)
		long := strings.Repeat("é", 40000) // 80,000 bytes: more than a MySQL TEXT holds
		require.NoError(t, s.FinishDeliveries(ctx, "e1", []mailing.Result{{State: mailing.DeliveryFailed,
			Attempt: mailing.Attempt{DeliveryID: ds[0].ID, At: t0, Outcome: mailing.OutcomePermanent, Code: 554, Response: long}}}))
		as, _, err := s.ListAttempts(ctx, mailing.AttemptFilter{})
		require.NoError(t, err)
		require.Len(t, as, 1)
		assert.True(t, utf8.ValidString(as[0].Response))
		assert.LessOrEqual(t, len(as[0].Response), 8000)
		assert.True(t, strings.HasPrefix(long, as[0].Response))
		list, _, err := s.ListDeliveries(ctx, mailing.DeliveryFilter{})
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(list[0].LastError, "554 éé"))
		assert.True(t, utf8.ValidString(list[0].LastError))
	})
}

func TestCreateClientsBatches(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newStore(t, d)
		var cs []*mailing.Client
		for i := range 1234 {
			cs = append(cs, &mailing.Client{OwnerID: int64(1 + i%2), Email: fmt.Sprintf("Client%d@Example.com", i/2), Name: fmt.Sprint(i)})
		}
		require.NoError(t, s.CreateClients(ctx, cs))
		for _, i := range []int{0, 1, 399, 400, 1233} {
			got, err := s.GetClient(ctx, cs[i].ID)
			require.NoError(t, err)
			assert.Equal(t, cs[i].Email, got.Email, "client %d", i)
			assert.Equal(t, cs[i].OwnerID, got.OwnerID, "client %d", i)
			assert.Equal(t, cs[i].Name, got.Name, "client %d", i)
		}

		t.Run("ErrConflictNamesFirstClash", func(t *testing.T) {
			var more []*mailing.Client
			for i := range 700 {
				more = append(more, &mailing.Client{OwnerID: 3, Email: fmt.Sprintf("new%d@example.com", i)})
			}
			more[650].Email = "CLIENT7@example.com" // owner 3 has no such client: fine
			more[650].OwnerID = 1                   // owner 1 has: the first clash
			more[690].Email = "new1@example.com"    // a clash inside the batch, later
			err := s.CreateClients(ctx, more)
			require.ErrorIs(t, err, mailing.ErrConflict)
			assert.Contains(t, err.Error(), `"CLIENT7@example.com"`)
			_, n, err := s.ListClients(ctx, mailing.ClientFilter{OwnerID: 3})
			require.NoError(t, err)
			assert.Zero(t, n, "none of the batch is stored")
			assert.Zero(t, more[0].ID, "no ids handed out")
		})
	})
}

func TestSearchAnyScript(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newStore(t, d)
		c := mailing.Client{OwnerID: 1, Email: "ezhik@example.ru", Name: "Ёжик Иванов"}
		require.NoError(t, s.CreateClient(ctx, &c))
		for _, q := range []string{"ёжик", "ИВАНОВ", "ик ив", "EZHIK@"} {
			got, n, err := s.ListClients(ctx, mailing.ClientFilter{Search: q})
			require.NoError(t, err)
			assert.Equal(t, 1, n, q)
			assert.Len(t, got, 1, q)
		}
		_, n, err := s.ListClients(ctx, mailing.ClientFilter{Search: "ежик"})
		require.NoError(t, err)
		assert.Zero(t, n, "е is not ё")
	})
}

func TestErrors(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newStore(t, d)
		m := seed(t, s, 1)
		err := s.DeleteMessage(ctx, m.MessageID)
		assert.ErrorIs(t, err, mailing.ErrConflict)
		assert.EqualError(t, err, fmt.Sprintf("sqlstore: delete message: message %d is used by a mailing: mailing: conflict", m.MessageID))
		_, err = s.GetClient(ctx, 999)
		assert.EqualError(t, err, "sqlstore: get client: client 999: mailing: not found")
		_, err = s.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, RunAt: t0, Expect: t0.Add(time.Hour), Now: t0})
		assert.ErrorIs(t, err, mailing.ErrConflict)
		assert.Contains(t, err.Error(), "next run is 2026-03-01T09:00:00Z, not 2026-03-01T10:00:00Z")
		_, err = s.ClaimDeliveries(ctx, mailing.ClaimRequest{Now: t0})
		assert.Error(t, err, "a claim needs an owner")

		canceled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = s.ClaimDeliveries(canceled, mailing.ClaimRequest{Owner: "e1", Now: t0})
		assert.ErrorIs(t, err, context.Canceled)
		_, _, err = s.ListClients(canceled, mailing.ClientFilter{})
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestTimeColumns(t *testing.T) {
	// The SQLite time format compares as time: a lease ending a microsecond
	// before now has ended, one ending at now too.
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		s := newStore(t, d)
		m := seed(t, s, 2)
		openRun(t, s, m, t0, t0)
		lease := 10*time.Second + 123456*time.Microsecond
		ds, err := s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "e1", Now: t0, Lease: lease})
		require.NoError(t, err)
		require.Len(t, ds, 2)
		assert.Equal(t, t0.Add(lease), ds[0].LeaseUntil)
		got, err := s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "e2", Now: t0.Add(lease - time.Microsecond), Lease: lease})
		require.NoError(t, err)
		assert.Empty(t, got)
		got, err = s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "e2", Now: t0.Add(lease), Lease: lease})
		require.NoError(t, err)
		assert.Len(t, got, 2)
		assert.Equal(t, sqldb.Micro(t0.Add(2*lease)), got[0].LeaseUntil)
	})
}
