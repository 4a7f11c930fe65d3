package mailing_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/smtptest"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
	"github.com/skychimp/skychimp/mailing/sqlstore"
)

// storeKind makes a fresh, empty store for one engine test.
type storeKind struct {
	name string
	new  func(tb testing.TB) mailing.Store
}

// engineStores are the stores the engine tests run against: the fake, then
// a real database through the same test.
var engineStores = []storeKind{
	{"MemStore", func(testing.TB) mailing.Store { return mailingtest.NewMemStore() }},
	{"SQLite", func(tb testing.TB) mailing.Store { return newSQLStore(tb, sqldbtest.SQLite(tb), sqlstore.SQLite) }},
}

// eachStore runs f as a subtest per engine store.
func eachStore(t *testing.T, f func(t *testing.T, kind storeKind)) {
	t.Helper()
	for _, kind := range engineStores {
		t.Run(kind.name, func(t *testing.T) { f(t, kind) })
	}
}

// newSQLStore returns a migrated store on db.
func newSQLStore(tb testing.TB, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	tb.Helper()
	s := sqlstore.New(db, d)
	require.NoError(tb, s.Migrate(context.Background()))
	return s
}

// quiet is an engine configuration for tests whose log would only be noise
// (breaker warnings, lost sends).
func quiet(cfg mailing.EngineConfig) mailing.EngineConfig {
	cfg.Logger = slog.New(slog.DiscardHandler)
	return cfg
}

// assertLedgerOnce checks that every client of w has exactly one delivery
// of m, for run, in state sent.
func assertLedgerOnce(t testing.TB, w *world, m mailing.Mailing, run time.Time) {
	t.Helper()
	ds := w.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
	byClient := make(map[int64]int, len(ds))
	var wrong []string
	for _, d := range ds {
		byClient[d.ClientID]++
		if !d.RunAt.Equal(run) || d.State != mailing.DeliverySent {
			wrong = append(wrong, fmt.Sprintf("%s: %s run %s", d.Email, d.State, d.RunAt))
		}
	}
	assert.Empty(t, wrong, "deliveries not sent, or of another run")
	assert.Empty(t, notOnce(w.clients, func(c mailing.Client) int { return byClient[c.ID] }), "clients without exactly one delivery")
	assert.Len(t, ds, len(w.clients))
}

// notOnce lists the clients whose count is not 1, with their count.
func notOnce(clients []mailing.Client, count func(mailing.Client) int) []string {
	var out []string
	for _, c := range clients {
		if n := count(c); n != 1 {
			out = append(out, fmt.Sprintf("%s: %d", c.Email, n))
		}
	}
	return out
}

func TestEngineSQLCancelAndResume(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		store := newSQLStore(t, sqldbtest.New(t, d), d)
		w := newWorld(t, store, 120, fastConfig())
		m := w.mailing(t, t0.Add(-time.Hour), 10)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var n atomic.Int32
		w.mailer.SetHandler(func(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
			if n.Add(1) == 30 {
				cancel()
			}
			return mailing.Reply{Code: 250, Text: "2.0.0 Ok"}, nil
		})
		sum, err := w.engine.RunDue(ctx)
		require.ErrorIs(t, err, context.Canceled)
		assert.GreaterOrEqual(t, sum.Sent, 30)
		assert.Less(t, sum.Sent, 120)
		assert.Zero(t, sum.Unknown+sum.Failed+sum.Retried, "sends in flight finish and are recorded")
		assert.Equal(t, sum.Sent, w.mailer.Count(), "every message sent is recorded")
		pending := w.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID, States: []mailing.DeliveryState{mailing.DeliveryPending}})
		assert.Len(t, pending, 120-sum.Sent)
		for _, d := range pending {
			assert.Empty(t, d.LeaseOwner, "untried deliveries are released at once")
		}

		// Another engine (a restarted process) resumes at once.
		cfg := fastConfig()
		cfg.Name = "engine-restarted"
		rest, err := mailing.NewEngine(store, w.mailer, w.clock, cfg).RunDue(context.Background())
		require.NoError(t, err)
		assert.Equal(t, mailing.Summary{Sent: 120 - sum.Sent}, rest, "the run is not opened again")
		w.assertEachOnce(t, 1)
		assertLedgerOnce(t, w, m, m.Start)
	})
}

func TestEngineSQLDeadEngineIsTakenOver(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		cfg := fastConfig()
		cfg.Lease = time.Minute
		w := newWorld(t, newSQLStore(t, sqldbtest.New(t, d), d), 6, cfg)
		m := w.mailing(t, t0.Add(-time.Hour), 10)
		ctx := context.Background()
		// A dead engine opened the run, leased four deliveries and started two.
		_, err := w.store.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, RunAt: m.Start, Expect: m.NextRun, Next: m.Start.AddDate(0, 0, 1), Now: t0})
		require.NoError(t, err)
		claimed, err := w.store.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "dead", Now: t0, Lease: time.Minute, Limit: 4})
		require.NoError(t, err)
		require.Len(t, claimed, 4)
		started, err := w.store.StartDeliveries(ctx, "dead", []int64{claimed[0].ID, claimed[1].ID}, t0)
		require.NoError(t, err)
		require.Len(t, started, 2)

		assert.Equal(t, mailing.Summary{Sent: 2}, w.runDue(t), "leased rows wait for their lease")
		w.clock.Advance(2 * time.Minute)
		assert.Equal(t, mailing.Summary{Sent: 2, Unknown: 2}, w.runDue(t), "after the lease: the unstarted are sent, the started are unknown")
		assert.Equal(t, mailing.Summary{}, w.runDue(t))
		for _, d := range claimed[:2] {
			as := w.attempts(t, d.ClientID)
			require.Len(t, as, 1)
			assert.Equal(t, mailing.OutcomeUnknown, as[0].Outcome)
			assert.Empty(t, w.mailer.SentTo(d.Email), "never sent twice")
		}
		for _, d := range claimed[2:] {
			assert.Len(t, w.mailer.SentTo(d.Email), 1)
		}
		assert.Equal(t, 4, w.mailer.Count())
	})
}

// mailerFunc adapts a function to mailing.Mailer.
type mailerFunc func(context.Context, mailing.Envelope) (mailing.Reply, error)

func (f mailerFunc) Send(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
	return f(ctx, e)
}

// meeting holds every send until each of its parties has started one, so
// that concurrent engines are known to overlap.
type meeting struct {
	left atomic.Int32
	all  chan struct{}
}

func newMeeting(parties int) *meeting {
	m := &meeting{all: make(chan struct{})}
	m.left.Store(int32(parties))
	return m
}

// join returns next wrapped as one party of the meeting.
func (m *meeting) join(next mailing.Mailer) mailing.Mailer {
	var once sync.Once
	return mailerFunc(func(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
		once.Do(func() {
			if m.left.Add(-1) == 0 {
				close(m.all)
			}
		})
		select {
		case <-m.all:
		case <-ctx.Done():
			return mailing.Reply{}, &mailing.SendError{Kind: mailing.Temporary, Text: "the other engine never sent", Err: ctx.Err()}
		}
		return next.Send(ctx, e)
	})
}

// TestEngineTwoPoolsShareOneDatabase runs two engines, each with its own
// *sql.DB on the same database (as two processes would), on one mailing to
// 1,000 clients through one SMTP server.
func TestEngineTwoPoolsShareOneDatabase(t *testing.T) {
	const clients = 1000
	sqldbtest.Each(t, func(t *testing.T, d sqlstore.Dialect) {
		url := sqldbtest.URL(t, d)
		storeA := newSQLStore(t, sqldbtest.Open(t, url), d)
		storeB := sqlstore.New(sqldbtest.Open(t, url), d)
		w := newWorld(t, storeA, clients, fastConfig())
		m := w.mailing(t, t0.Add(-time.Hour), 10)

		srv := smtptest.Start(t)
		meet := newMeeting(2)
		engines := make([]*mailing.Engine, 2)
		for i, store := range []mailing.Store{storeA, storeB} {
			cfg := fastConfig()
			cfg.Name = fmt.Sprintf("engine-%c", 'a'+i)
			cfg.Workers = 16
			cfg.ClaimBatch = 64
			cfg.SendTimeout = 10 * time.Second
			mailer := newSMTPMailer(t, srv, func(c *smtpmailer.Config) { c.Connections = 8; c.SendTimeout = 5 * time.Second })
			engines[i] = mailing.NewEngine(store, meet.join(mailer), w.clock, cfg)
		}

		var wg sync.WaitGroup
		sums := make([]mailing.Summary, len(engines))
		for i, e := range engines {
			wg.Go(func() {
				var err error
				sums[i], err = e.RunDue(context.Background())
				assert.NoError(t, err, "engine %d", i)
			})
		}
		wg.Wait()
		t.Logf("engine a: %v; engine b: %v", sums[0], sums[1])
		assert.Equal(t, 1, sums[0].Runs+sums[1].Runs, "the run is opened once")
		assert.Equal(t, clients, sums[0].Sent+sums[1].Sent)
		assert.Positive(t, sums[0].Sent, "both engines sent")
		assert.Positive(t, sums[1].Sent, "both engines sent")
		assert.Zero(t, sums[0].Failed+sums[0].Retried+sums[0].Unknown+sums[1].Failed+sums[1].Retried+sums[1].Unknown)

		received := make(map[string]int, clients)
		for _, msg := range srv.Messages() {
			for _, to := range msg.To {
				received[to]++
			}
		}
		assert.Empty(t, notOnce(w.clients, func(c mailing.Client) int { return received[c.Email] }), "clients without exactly one message")
		assert.Len(t, received, clients, "recipients")
		assertLedgerOnce(t, w, m, m.Start)
		runs, err := storeB.RunSummaries(context.Background(), m.ID)
		require.NoError(t, err)
		require.Len(t, runs, 1)
		assert.Equal(t, map[mailing.DeliveryState]int{mailing.DeliverySent: clients}, runs[0].Counts)
	})
}
