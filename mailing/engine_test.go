package mailing_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

// world is an engine with its store, mailer and clock, and one user's data.
type world struct {
	store   mailing.Store
	svc     *mailing.Service
	clock   *mailingtest.FakeClock
	mailer  *mailingtest.FakeMailer
	engine  *mailing.Engine
	clients []mailing.Client
	message mailing.Message
}

func fastConfig() mailing.EngineConfig {
	return mailing.EngineConfig{Name: "engine-a", Workers: 4, ClaimBatch: 16, From: "news@skychimp.test", FromName: "Skychimp"}
}

func newWorld(t testing.TB, store mailing.Store, clients int, cfg mailing.EngineConfig) *world {
	t.Helper()
	w := &world{store: store, clock: mailingtest.NewFakeClock(t0), mailer: mailingtest.NewFakeMailer()}
	w.svc = mailing.NewService(store, w.clock)
	w.engine = mailing.NewEngine(store, w.mailer, w.clock, cfg)
	ctx := as(alice)
	batch := make([]mailing.Client, clients)
	for i := range batch {
		batch[i] = mailing.Client{Email: fmt.Sprintf("client%04d@example.com", i), Name: fmt.Sprintf("Client %d", i)}
	}
	var err error
	w.clients, err = w.svc.ImportClients(ctx, batch)
	require.NoError(t, err)
	w.message, err = w.svc.CreateMessage(ctx, mailing.Message{Subject: "Hello {{.Name}}", Body: "<p>Dear {{.Name}} ({{.Email}})</p>"})
	require.NoError(t, err)
	return w
}

func (w *world) clientIDs() []int64 {
	ids := make([]int64, len(w.clients))
	for i, c := range w.clients {
		ids[i] = c.ID
	}
	return ids
}

// mailing creates a daily mailing to every client, from start for days.
func (w *world) mailing(t testing.TB, start time.Time, days int) mailing.Mailing {
	t.Helper()
	m, err := w.svc.CreateMailing(as(alice), mailing.Mailing{
		MessageID: w.message.ID, ClientIDs: w.clientIDs(),
		Start: start, End: start.AddDate(0, 0, days), Period: mailing.Daily,
	})
	require.NoError(t, err)
	return m
}

func (w *world) runDue(t testing.TB) mailing.Summary {
	t.Helper()
	sum, err := w.engine.RunDue(context.Background())
	require.NoError(t, err)
	return sum
}

func (w *world) attempts(t testing.TB, clientID int64) []mailing.Attempt {
	t.Helper()
	as, _, err := w.store.ListAttempts(context.Background(), mailing.AttemptFilter{ClientID: clientID})
	require.NoError(t, err)
	return as
}

func (w *world) deliveries(t testing.TB, f mailing.DeliveryFilter) []mailing.Delivery {
	t.Helper()
	ds, _, err := w.store.ListDeliveries(context.Background(), f)
	require.NoError(t, err)
	return ds
}

// assertEachOnce checks that every client got exactly n messages.
func (w *world) assertEachOnce(t testing.TB, n int) {
	t.Helper()
	for _, c := range w.clients {
		assert.Len(t, w.mailer.SentTo(c.Email), n, "messages to %s", c.Email)
	}
}

func TestEngineSendsDueRunOnce(t *testing.T) {
	w := newWorld(t, mailingtest.NewMemStore(), 3, fastConfig())
	m := w.mailing(t, t0.Add(-time.Hour), 10)

	sum := w.runDue(t)
	assert.Equal(t, mailing.Summary{Runs: 1, Sent: 3}, sum)
	w.assertEachOnce(t, 1)
	env := w.mailer.SentTo(w.clients[1].Email)[0]
	assert.Equal(t, "Hello Client 1", env.Subject)
	assert.Equal(t, "<p>Dear Client 1 (client0001@example.com)</p>", env.HTML)
	assert.Equal(t, "news@skychimp.test", env.From)

	assert.Equal(t, mailing.Summary{}, w.runDue(t), "a second pass at the same time sends nothing")
	w.assertEachOnce(t, 1)

	got, err := w.store.GetMailing(context.Background(), m.ID)
	require.NoError(t, err)
	assert.Equal(t, m.Start.AddDate(0, 0, 1), got.NextRun)

	w.clock.Advance(24 * time.Hour)
	assert.Equal(t, mailing.Summary{Runs: 1, Sent: 3}, w.runDue(t), "the next day's run")
	w.assertEachOnce(t, 2)

	for _, c := range w.clients {
		as := w.attempts(t, c.ID)
		require.Len(t, as, 2)
		assert.Equal(t, mailing.OutcomeSent, as[0].Outcome)
		assert.Equal(t, 250, as[0].Code)
		assert.Equal(t, m.Start, as[0].RunAt)
		assert.Equal(t, m.Start.AddDate(0, 0, 1), as[1].RunAt)
	}
}

func TestEngineFutureStartSendsByItself(t *testing.T) {
	w := newWorld(t, mailingtest.NewMemStore(), 2, fastConfig())
	w.mailing(t, t0.Add(2*time.Hour), 3)

	assert.Equal(t, mailing.Summary{}, w.runDue(t))
	w.clock.Advance(2*time.Hour - time.Second)
	assert.Equal(t, mailing.Summary{}, w.runDue(t), "a second early")
	w.clock.Advance(time.Second)
	assert.Equal(t, mailing.Summary{Runs: 1, Sent: 2}, w.runDue(t), "at its start")
}

func TestEngineCatchUpSendsLatestMissedRunOnce(t *testing.T) {
	w := newWorld(t, mailingtest.NewMemStore(), 2, fastConfig())
	m := w.mailing(t, t0.Add(-time.Hour), 10)
	w.runDue(t)

	w.clock.Advance(3*24*time.Hour + 5*time.Hour) // down for three days
	assert.Equal(t, mailing.Summary{Runs: 1, Sent: 2}, w.runDue(t))
	ds := w.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID, RunAt: m.Start.AddDate(0, 0, 3)})
	assert.Len(t, ds, 2, "the latest missed run")
	all := w.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
	assert.Len(t, all, 4, "runs missed before it are skipped, not sent late")
}

func TestEngineNeverSendsAfterEnd(t *testing.T) {
	w := newWorld(t, mailingtest.NewMemStore(), 2, fastConfig())
	m := w.mailing(t, t0.Add(time.Hour), 2)
	w.clock.Advance(5 * 24 * time.Hour) // down through the whole window
	assert.Equal(t, mailing.Summary{}, w.runDue(t))
	assert.Zero(t, w.mailer.Count())
	got, err := w.store.GetMailing(context.Background(), m.ID)
	require.NoError(t, err)
	assert.True(t, got.NextRun.IsZero(), "an ended mailing is no longer due")
}

func TestEngineOutcomes(t *testing.T) {
	cfg := fastConfig()
	cfg.MaxAttempts = 3
	cfg.RetryInitial = time.Minute
	w := newWorld(t, mailingtest.NewMemStore(), 5, cfg)
	temp, perm, unknown, flaky, dead := w.clients[0], w.clients[1], w.clients[2], w.clients[3], w.clients[4]
	w.mailer.FailRecipient(temp.Email, mailingtest.TempError(451, "4.7.1 Try again later"), 1)
	w.mailer.FailRecipient(perm.Email, mailingtest.PermError(550, "5.1.1 No such user"), -1)
	w.mailer.FailRecipient(unknown.Email, mailingtest.UnknownError("connection lost after the message body"), -1)
	w.mailer.FailRecipient(flaky.Email, mailingtest.TempError(421, "4.3.2 Busy"), 2)
	w.mailer.FailRecipient(dead.Email, mailingtest.TempError(452, "4.2.2 Mailbox full"), -1)
	w.mailing(t, t0.Add(-time.Hour), 10)

	assert.Equal(t, mailing.Summary{Runs: 1, Failed: 1, Unknown: 1, Retried: 3}, w.runDue(t))
	assert.Equal(t, mailing.Summary{}, w.runDue(t), "retries wait for their backoff")

	w.clock.Advance(2 * time.Minute)
	assert.Equal(t, mailing.Summary{Sent: 1, Retried: 2}, w.runDue(t))
	w.clock.Advance(5 * time.Minute)
	assert.Equal(t, mailing.Summary{Sent: 1, Failed: 1}, w.runDue(t), "the third temporary failure is final")
	w.clock.Advance(time.Hour)
	assert.Equal(t, mailing.Summary{}, w.runDue(t))

	outcomes := func(c mailing.Client) []string {
		var out []string
		for _, a := range w.attempts(t, c.ID) {
			out = append(out, fmt.Sprintf("%s %d", a.Outcome, a.Code))
		}
		return out
	}
	assert.Equal(t, []string{"temporary 451", "sent 250"}, outcomes(temp))
	assert.Equal(t, []string{"permanent 550"}, outcomes(perm), "5xx is never retried")
	assert.Equal(t, []string{"unknown 0"}, outcomes(unknown), "unknown is not resent")
	assert.Equal(t, []string{"temporary 421", "temporary 421", "sent 250"}, outcomes(flaky))
	assert.Equal(t, []string{"temporary 452", "temporary 452", "temporary 452"}, outcomes(dead))

	state := func(c mailing.Client) mailing.DeliveryState {
		ds := w.deliveries(t, mailing.DeliveryFilter{ClientID: c.ID})
		require.Len(t, ds, 1)
		return ds[0].State
	}
	assert.Equal(t, mailing.DeliverySent, state(temp))
	assert.Equal(t, mailing.DeliveryFailed, state(perm))
	assert.Equal(t, mailing.DeliveryUnknown, state(unknown))
	assert.Equal(t, mailing.DeliveryFailed, state(dead))
	last := w.attempts(t, dead.ID)[2]
	assert.Contains(t, last.Response, "gave up after 3 attempts")
}

func TestEngineDisabledMailingWaits(t *testing.T) {
	w := newWorld(t, mailingtest.NewMemStore(), 3, fastConfig())
	m := w.mailing(t, t0.Add(-time.Hour), 10)
	_, err := w.svc.SetMailingEnabled(as(manager), m.ID, false)
	require.NoError(t, err)
	assert.Equal(t, mailing.Summary{}, w.runDue(t))
	assert.Zero(t, w.mailer.Count())

	_, err = w.svc.SetMailingEnabled(as(manager), m.ID, true)
	require.NoError(t, err)
	assert.Equal(t, mailing.Summary{Runs: 1, Sent: 3}, w.runDue(t), "re-enabled inside its window: sent at once")
}

func TestEngineDisableMidRunStopsFurtherSends(t *testing.T) {
	cfg := fastConfig()
	cfg.Workers = 1
	w := newWorld(t, mailingtest.NewMemStore(), 10, cfg)
	m := w.mailing(t, t0.Add(-time.Hour), 10)
	var n atomic.Int32
	w.mailer.SetHandler(func(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
		if n.Add(1) == 3 {
			_, err := w.svc.SetMailingEnabled(as(manager), m.ID, false)
			require.NoError(t, err)
		}
		return mailing.Reply{Code: 250, Text: "2.0.0 Ok"}, nil
	})
	sum := w.runDue(t)
	assert.Equal(t, 3, sum.Sent, "the send in flight finishes and is recorded; no further send starts")
	assert.Len(t, w.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID, States: []mailing.DeliveryState{mailing.DeliveryPending}}), 7)

	_, err := w.svc.SetMailingEnabled(as(manager), m.ID, true)
	require.NoError(t, err)
	sum = w.runDue(t)
	assert.Equal(t, 7, sum.Sent)
	w.assertEachOnce(t, 1)
}

func TestEngineCancelAndResume(t *testing.T) {
	w := newWorld(t, mailingtest.NewMemStore(), 60, fastConfig())
	w.mailing(t, t0.Add(-time.Hour), 10)
	ctx, cancel := context.WithCancel(context.Background())
	var n atomic.Int32
	w.mailer.SetHandler(func(ctx context.Context, e mailing.Envelope) (mailing.Reply, error) {
		if n.Add(1) == 20 {
			cancel()
		}
		return mailing.Reply{Code: 250, Text: "2.0.0 Ok"}, nil
	})
	sum, err := w.engine.RunDue(ctx)
	require.ErrorIs(t, err, context.Canceled)
	assert.GreaterOrEqual(t, sum.Sent, 20)
	assert.Less(t, sum.Sent, 60)
	assert.Zero(t, sum.Unknown+sum.Failed+sum.Retried, "sends in flight finish and are recorded")
	pending := w.deliveries(t, mailing.DeliveryFilter{States: []mailing.DeliveryState{mailing.DeliveryPending}})
	assert.Len(t, pending, 60-sum.Sent)
	for _, d := range pending {
		assert.Empty(t, d.LeaseOwner, "untried deliveries are released at once")
	}

	rest := w.runDue(t)
	assert.Equal(t, 60-sum.Sent, rest.Sent)
	w.assertEachOnce(t, 1)
}

func TestEngineTwoEnginesShareTheLedger(t *testing.T) {
	store := mailingtest.NewMemStore()
	w := newWorld(t, store, 300, fastConfig())
	cfgB := fastConfig()
	cfgB.Name = "engine-b"
	b := mailing.NewEngine(store, w.mailer, w.clock, cfgB)
	w.mailing(t, t0.Add(-time.Hour), 10)

	var wg sync.WaitGroup
	sums := make([]mailing.Summary, 2)
	for i, e := range []*mailing.Engine{w.engine, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			sums[i], err = e.RunDue(context.Background())
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	assert.Equal(t, 300, sums[0].Sent+sums[1].Sent)
	assert.Equal(t, 1, sums[0].Runs+sums[1].Runs, "the run is opened once")
	w.assertEachOnce(t, 1)
}

func TestEngineDeadEngineIsTakenOver(t *testing.T) {
	cfg := fastConfig()
	cfg.Lease = time.Minute
	w := newWorld(t, mailingtest.NewMemStore(), 6, cfg)
	m := w.mailing(t, t0.Add(-time.Hour), 10)
	ctx := context.Background()
	// A dead engine opened the run, leased four deliveries and started two.
	_, err := w.store.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, RunAt: m.Start, Expect: m.NextRun, Next: m.Start.AddDate(0, 0, 1), Now: t0})
	require.NoError(t, err)
	claimed, err := w.store.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "dead", Now: t0, Lease: time.Minute, Limit: 4})
	require.NoError(t, err)
	require.Len(t, claimed, 4)
	_, err = w.store.StartDeliveries(ctx, "dead", []int64{claimed[0].ID, claimed[1].ID}, t0)
	require.NoError(t, err)

	assert.Equal(t, mailing.Summary{Sent: 2}, w.runDue(t), "leased rows wait for their lease")
	w.clock.Advance(2 * time.Minute)
	assert.Equal(t, mailing.Summary{Sent: 2, Unknown: 2}, w.runDue(t), "after the lease: the unstarted are sent, the started are unknown")
	for _, d := range claimed[:2] {
		as := w.attempts(t, d.ClientID)
		require.Len(t, as, 1)
		assert.Equal(t, mailing.OutcomeUnknown, as[0].Outcome)
		assert.Empty(t, w.mailer.SentTo(d.Email), "never sent twice")
	}
}

func TestEngineRateLimitWaitsOnTheClock(t *testing.T) {
	cfg := fastConfig()
	cfg.Workers = 1
	cfg.RatePerSecond = 2
	w := newWorld(t, mailingtest.NewMemStore(), 5, cfg)
	w.mailing(t, t0.Add(-time.Hour), 10)

	done := make(chan mailing.Summary)
	go func() {
		sum, err := w.engine.RunDue(context.Background())
		assert.NoError(t, err)
		done <- sum
	}()
	for sent := 1; sent < 5; sent++ {
		// Two waiters on the clock: the rate limit's and the heartbeat's.
		require.NoError(t, w.clock.BlockUntil(context.Background(), 2))
		assert.Equal(t, sent, w.mailer.Count(), "one send per token")
		w.clock.Advance(500 * time.Millisecond)
	}
	assert.Equal(t, 5, (<-done).Sent)
	assert.Equal(t, t0.Add(2*time.Second), w.clock.Now())
}

func TestEngineRateLimitWaitEndsOnCancel(t *testing.T) {
	cfg := fastConfig()
	cfg.Workers = 1
	cfg.RatePerHour = 1
	w := newWorld(t, mailingtest.NewMemStore(), 3, cfg)
	w.mailing(t, t0.Add(-time.Hour), 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan mailing.Summary)
	go func() {
		sum, _ := w.engine.RunDue(ctx)
		done <- sum
	}()
	require.NoError(t, w.clock.BlockUntil(context.Background(), 2)) // the rate limit and the heartbeat
	cancel()
	sum := <-done
	assert.Equal(t, 1, sum.Sent)
	assert.Equal(t, 2, sum.Deferred)
}

func TestEngineEscapesNamesInHTML(t *testing.T) {
	w := newWorld(t, mailingtest.NewMemStore(), 0, fastConfig())
	c, err := w.svc.CreateClient(as(alice), mailing.Client{Email: "evil@example.com", Name: `<script>alert(1)</script>`})
	require.NoError(t, err)
	w.clients = []mailing.Client{c}
	w.mailing(t, t0.Add(-time.Hour), 1)
	w.runDue(t)
	env := w.mailer.SentTo(c.Email)[0]
	assert.NotContains(t, env.HTML, "<script>")
	assert.Contains(t, env.HTML, "&lt;script&gt;")
}

func TestEngineSendNow(t *testing.T) {
	cfg := fastConfig()
	cfg.UnsubscribeURL = func(d mailing.Delivery) string { return fmt.Sprintf("https://skychimp.test/u/%d", d.ID) }
	w := newWorld(t, mailingtest.NewMemStore(), 2, cfg)
	m := w.mailing(t, t0.Add(-time.Hour), 10)
	future := w.mailing(t, t0.Add(time.Hour), 10)

	sum, err := w.engine.SendNow(context.Background(), m.ID)
	require.NoError(t, err)
	assert.Equal(t, 2, sum.Sent)
	assert.Contains(t, w.mailer.Sent()[0].ListUnsubscribe, "https://skychimp.test/u/")

	_, err = w.engine.SendNow(context.Background(), future.ID)
	assert.ErrorIs(t, err, mailing.ErrMailingOver)
	_, err = w.engine.SendNow(context.Background(), 999)
	assert.ErrorIs(t, err, mailing.ErrNotFound)
	assert.Equal(t, mailing.Summary{}, w.runDue(t), "the run SendNow opened is not opened again")
}

func TestEngineResendFailed(t *testing.T) {
	w := newWorld(t, mailingtest.NewMemStore(), 3, fastConfig())
	w.mailer.FailRecipient(w.clients[0].Email, mailingtest.PermError(550, "5.2.2 Mailbox full"), 1)
	m := w.mailing(t, t0.Add(-time.Hour), 10)
	assert.Equal(t, mailing.Summary{Runs: 1, Sent: 2, Failed: 1}, w.runDue(t))

	_, err := w.svc.ResendFailed(as(manager), m.ID, m.Start)
	assert.ErrorIs(t, err, mailing.ErrForbidden, "managers do not send on the owner's behalf")
	_, err = w.svc.ResendFailed(as(bob), m.ID, m.Start)
	assert.ErrorIs(t, err, mailing.ErrNotFound)

	n, err := w.svc.ResendFailed(as(alice), m.ID, m.Start)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, mailing.Summary{Sent: 1}, w.runDue(t))
	w.assertEachOnce(t, 1)
	assert.Len(t, w.attempts(t, w.clients[0].ID), 2, "the failure and the resend are both in the log")
}
