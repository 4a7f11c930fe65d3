package statstest

import (
	"cmp"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/stats"
)

// T0 is the fixed "now" of TestStore: 2026-03-01 09:00 UTC.
var T0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// Stores is a mailing.Store and the stats.Store computing figures from
// the same data.
type Stores struct {
	Mailing mailing.Store
	Stats   stats.Store
}

// TestStore checks that a stats.Store keeps the contract documented on
// stats.Store. newStores must return a fresh, empty mailing store and the
// stats store over the same data; the suite calls it once per leaf
// subtest and writes the data through the mailing store.
func TestStore(t *testing.T, newStores func(t *testing.T) Stores) {
	t.Helper()
	run := func(t *testing.T, name string, test func(t *testing.T, f *Fixture)) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			st := newStores(t)
			require.NotNil(t, st.Mailing)
			require.NotNil(t, st.Stats)
			test(t, NewFixture(t, st.Mailing, st.Stats))
		})
	}
	t.Run("Empty", func(t *testing.T) {
		st := newStores(t)
		home, err := st.Stats.HomeFigures(t.Context(), T0)
		require.NoError(t, err)
		assert.Zero(t, home)
		user, err := st.Stats.UserFigures(t.Context(), 0, T0)
		require.NoError(t, err)
		assert.Zero(t, user)
		hours, err := st.Stats.HourlySends(t.Context(), stats.SendsFilter{From: T0, To: T0.Add(time.Hour)})
		require.NoError(t, err)
		assert.Empty(t, hours)
		cat, err := st.Stats.Catalog(t.Context())
		require.NoError(t, err)
		assert.Empty(t, cat.Mailings)
		assert.Empty(t, cat.Owners)
		assert.Zero(t, cat.UniqueClients)
		led, err := st.Stats.Ledger(t.Context(), T0)
		require.NoError(t, err)
		assert.Empty(t, led.Deliveries)
		assert.Empty(t, led.Hours)
	})
	t.Run("HomeFigures", func(t *testing.T) {
		run(t, "OK", testHome)
		run(t, "ActiveFollowsTheClock", testHomeClock)
		run(t, "ClientsCountOnceInAnyCase", testHomeUnique)
	})
	t.Run("UserFigures", func(t *testing.T) {
		run(t, "OK", testUserFigures)
	})
	t.Run("HourlySends", func(t *testing.T) {
		run(t, "OK", testHourly)
	})
	t.Run("Catalog", func(t *testing.T) {
		run(t, "OK", testCatalog)
	})
	t.Run("Ledger", func(t *testing.T) {
		run(t, "OK", testLedger)
	})
	t.Run("ClientStatuses", func(t *testing.T) {
		run(t, "OK", testClientStatuses)
		run(t, "Paging", testClientStatusesPaging)
		run(t, "DeletedClientKept", testClientStatusesDeleted)
		run(t, "NoMailing", testClientStatusesNone)
	})
	t.Run("Context", func(t *testing.T) {
		run(t, "Cancelled", testContext)
	})
}

// Fixture is the data of the suite, written through a mailing.Store:
//
//   - owner 1 has clients Ann (ann@example.com), Bob and Cat; owner 2 has
//     Dan, Ann2 (ANN@Example.com: Ann's address in other case) and Eve
//     (in no mailing);
//   - M1 (owner 1, Ann and Bob) is enabled and running at T0 (T0-24h to
//     T0+30d);
//   - M2 (owner 1, Bob and Cat) is running but disabled;
//   - M3 (owner 2, Ann2 and Dan) is enabled and starts at T0+2h (to T0+10d);
//   - M4 (owner 2, Dan) is enabled and ended at T0-1h.
//
// Sends (Seed) go to M1 only.
type Fixture struct {
	M mailing.Store
	S stats.Store

	Ann, Bob, Cat, Dan, Ann2, Eve mailing.Client
	M1, M2, M3, M4                mailing.Mailing
}

// NewFixture writes the fixture's clients and mailings into m.
func NewFixture(tb testing.TB, m mailing.Store, s stats.Store) *Fixture {
	tb.Helper()
	f := &Fixture{M: m, S: s}
	f.Ann = f.client(tb, 1, "ann@example.com", "Ann")
	f.Bob = f.client(tb, 1, "bob@example.org", "Bob")
	f.Cat = f.client(tb, 1, "cat@example.com", "Cat")
	f.Dan = f.client(tb, 2, "dan@example.com", "Dan")
	f.Ann2 = f.client(tb, 2, "ANN@Example.com", "Ann Two")
	f.Eve = f.client(tb, 2, "eve@example.com", "Eve")
	msg1 := f.message(tb, 1)
	msg2 := f.message(tb, 2)
	f.M1 = f.mailing(tb, 1, msg1, []int64{f.Ann.ID, f.Bob.ID}, T0.Add(-24*time.Hour), T0.Add(30*24*time.Hour), true)
	f.M2 = f.mailing(tb, 1, msg1, []int64{f.Bob.ID, f.Cat.ID}, T0.Add(-24*time.Hour), T0.Add(30*24*time.Hour), false)
	f.M3 = f.mailing(tb, 2, msg2, []int64{f.Ann2.ID, f.Dan.ID}, T0.Add(2*time.Hour), T0.Add(10*24*time.Hour), true)
	f.M4 = f.mailing(tb, 2, msg2, []int64{f.Dan.ID}, T0.Add(-48*time.Hour), T0.Add(-time.Hour), true)
	return f
}

func (f *Fixture) client(tb testing.TB, owner int64, email, name string) mailing.Client {
	tb.Helper()
	c := mailing.Client{OwnerID: owner, Email: email, Name: name}
	require.NoError(tb, f.M.CreateClient(tb.Context(), &c))
	return c
}

func (f *Fixture) message(tb testing.TB, owner int64) int64 {
	tb.Helper()
	m := mailing.Message{OwnerID: owner, Subject: "Hi", Body: "Hello {{.Name}}"}
	require.NoError(tb, f.M.CreateMessage(tb.Context(), &m))
	return m.ID
}

func (f *Fixture) mailing(tb testing.TB, owner, msg int64, clients []int64, start, end time.Time, enabled bool) mailing.Mailing {
	tb.Helper()
	m := mailing.Mailing{
		OwnerID: owner, MessageID: msg, ClientIDs: clients, Start: start, End: end,
		Period: mailing.Daily, Enabled: enabled,
	}
	if enabled {
		m.NextRun = start
	}
	require.NoError(tb, f.M.CreateMailing(tb.Context(), &m))
	return m
}

// Open opens run runAt of mailing m for all its clients.
func (f *Fixture) Open(tb testing.TB, m int64, runAt time.Time) {
	tb.Helper()
	got, err := f.M.GetMailing(tb.Context(), m)
	require.NoError(tb, err)
	_, err = f.M.OpenRun(tb.Context(), mailing.RunPlan{MailingID: m, RunAt: runAt, Expect: got.NextRun, Next: runAt.Add(24 * time.Hour), Now: runAt})
	require.NoError(tb, err)
}

// Attempt makes one attempt at at to client's delivery of run runAt of
// mailing m, with outcome o, the server's code and text, leaving the
// delivery in state (pending means: retried one minute later).
func (f *Fixture) Attempt(tb testing.TB, m int64, runAt time.Time, client int64, at time.Time, o mailing.Outcome, code int, text string, state mailing.DeliveryState) {
	tb.Helper()
	ctx := tb.Context()
	claimed, err := f.M.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "statstest", Now: at, Lease: time.Hour, Limit: 1000, MailingID: m})
	require.NoError(tb, err)
	var id int64
	var others []int64
	for _, d := range claimed {
		if d.ClientID == client && d.RunAt.Equal(runAt) {
			id = d.ID
		} else {
			others = append(others, d.ID)
		}
	}
	require.NotZero(tb, id, "no due delivery of client %d in run %s of mailing %d at %s", client, runAt, m, at)
	require.NoError(tb, f.M.ReleaseDeliveries(ctx, "statstest", others))
	started, err := f.M.StartDeliveries(ctx, "statstest", []int64{id}, at)
	require.NoError(tb, err)
	require.Equal(tb, []int64{id}, started)
	res := mailing.Result{
		Attempt: mailing.Attempt{DeliveryID: id, At: at, Duration: time.Second, Outcome: o, Code: code, Response: text},
		State:   state,
	}
	if state == mailing.DeliveryPending {
		res.NextAttemptAt = at.Add(time.Minute)
	}
	require.NoError(tb, f.M.FinishDeliveries(ctx, "statstest", []mailing.Result{res}))
}

// The runs and attempts Seed makes.
var (
	Run1 = T0
	Run2 = T0.Add(24 * time.Hour)
)

// Seed sends M1's runs: run 1 at T0 (Ann sent at T0+1m; Bob refused for
// now at T0+2m, then for good at T0+3h5m) and run 2 at T0+24h (Bob lost
// after the body at T0+24h5m; Ann still pending).
func (f *Fixture) Seed(tb testing.TB) {
	tb.Helper()
	f.Open(tb, f.M1.ID, Run1)
	f.Attempt(tb, f.M1.ID, Run1, f.Ann.ID, T0.Add(time.Minute), mailing.OutcomeSent, 250, "2.0.0 OK queued", mailing.DeliverySent)
	f.Attempt(tb, f.M1.ID, Run1, f.Bob.ID, T0.Add(2*time.Minute), mailing.OutcomeTemporary, 451, "4.7.1 try later", mailing.DeliveryPending)
	f.Attempt(tb, f.M1.ID, Run1, f.Bob.ID, T0.Add(3*time.Hour+5*time.Minute), mailing.OutcomePermanent, 550, "5.1.1 no such user", mailing.DeliveryFailed)
	f.Open(tb, f.M1.ID, Run2)
	f.Attempt(tb, f.M1.ID, Run2, f.Bob.ID, Run2.Add(5*time.Minute), mailing.OutcomeUnknown, 0, "connection lost after DATA", mailing.DeliveryUnknown)
}

func testHome(t *testing.T, f *Fixture) {
	f.Seed(t)
	got, err := f.S.HomeFigures(t.Context(), T0)
	require.NoError(t, err)
	assert.Equal(t, stats.HomeFigures{
		Mailings: 4,
		Active:   1, // M1: M2 is disabled, M3 not started, M4 over
		// ann (Ann and Ann2), bob, cat, dan; Eve is in no mailing
		UniqueClients: 4,
		NextChange:    f.M3.Start,
	}, got)
}

func testHomeClock(t *testing.T, f *Fixture) {
	ctx := t.Context()
	for _, tc := range []struct {
		name   string
		now    time.Time
		active int
		next   time.Time
	}{
		{"BeforeM3", f.M3.Start.Add(-time.Microsecond), 1, f.M3.Start},
		{"M3Starts", f.M3.Start, 2, f.M3.End},
		{"M3Ends", f.M3.End, 2, f.M3.End},
		{"M3Over", f.M3.End.Add(time.Microsecond), 1, f.M1.End},
		{"M4LastMoment", f.M4.End, 2, f.M4.End},
		{"AllOver", f.M1.End.Add(time.Second), 0, time.Time{}},
	} {
		got, err := f.S.HomeFigures(ctx, tc.now)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.active, got.Active, tc.name)
		assert.Equal(t, tc.next, got.NextChange, tc.name)
		assert.Equal(t, 4, got.Mailings, tc.name)
	}
	// Enabling M2 makes it active; disabling M1 makes it not.
	require.NoError(t, f.M.SetMailingEnabled(ctx, f.M2.ID, true, time.Time{}, T0))
	require.NoError(t, f.M.SetMailingEnabled(ctx, f.M1.ID, false, time.Time{}, T0))
	got, err := f.S.HomeFigures(ctx, T0)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Active)
}

func testHomeUnique(t *testing.T, f *Fixture) {
	ctx := t.Context()
	// Eve joins a mailing: one more. Dan's address in capitals under
	// owner 1: none more.
	m := f.M3
	m.ClientIDs = append(slices.Clone(m.ClientIDs), f.Eve.ID)
	require.NoError(t, f.M.UpdateMailing(ctx, &m))
	dan1 := f.client(t, 1, " DAN@EXAMPLE.COM", "Dan again")
	m1 := f.M1
	m1.ClientIDs = append(slices.Clone(m1.ClientIDs), dan1.ID)
	require.NoError(t, f.M.UpdateMailing(ctx, &m1))
	got, err := f.S.HomeFigures(ctx, T0)
	require.NoError(t, err)
	assert.Equal(t, 5, got.UniqueClients)

	// Deleting mailings M2 and M3 leaves ann, bob, dan: Cat and Eve were only there.
	require.NoError(t, f.M.DeleteMailing(ctx, f.M2.ID))
	require.NoError(t, f.M.DeleteMailing(ctx, f.M3.ID))
	got, err = f.S.HomeFigures(ctx, T0)
	require.NoError(t, err)
	assert.Equal(t, 3, got.UniqueClients)
	assert.Equal(t, 2, got.Mailings)

	// A deleted client leaves its mailings.
	require.NoError(t, f.M.DeleteClient(ctx, f.Bob.ID))
	got, err = f.S.HomeFigures(ctx, T0)
	require.NoError(t, err)
	assert.Equal(t, 2, got.UniqueClients)
}

func testUserFigures(t *testing.T, f *Fixture) {
	f.Seed(t)
	got, err := f.S.UserFigures(t.Context(), 1, T0)
	require.NoError(t, err)
	assert.Equal(t, stats.UserFigures{
		Mailings: 2, Active: 1, Clients: 3, UniqueClients: 3,
		Sent: 1, Failed: 1, Unknown: 1, Pending: 1, // run 1: Ann sent, Bob failed; run 2: Bob unknown, Ann pending
	}, got)

	got, err = f.S.UserFigures(t.Context(), 2, f.M3.Start)
	require.NoError(t, err)
	assert.Equal(t, stats.UserFigures{Mailings: 2, Active: 1, Clients: 3, UniqueClients: 2}, got)

	got, err = f.S.UserFigures(t.Context(), 0, T0)
	require.NoError(t, err)
	assert.Equal(t, stats.UserFigures{
		Mailings: 4, Active: 1, Clients: 6, UniqueClients: 4,
		Sent: 1, Failed: 1, Unknown: 1, Pending: 1,
	}, got, "owner 0 is everyone")

	got, err = f.S.UserFigures(t.Context(), 99, T0)
	require.NoError(t, err)
	assert.Zero(t, got)
}

func testHourly(t *testing.T, f *Fixture) {
	f.Seed(t)
	all := stats.SendsFilter{OwnerID: 1, From: T0.Add(-time.Hour), To: T0.Add(48 * time.Hour)}
	got, err := f.S.HourlySends(t.Context(), all)
	require.NoError(t, err)
	assert.Equal(t, []stats.SendCount{
		{Start: T0, Sent: 1, Retried: 1},
		{Start: T0.Add(3 * time.Hour), Failed: 1},
		{Start: Run2, Unknown: 1},
	}, got)

	byMailing := stats.SendsFilter{MailingID: f.M1.ID, From: T0.Add(2 * time.Minute), To: T0.Add(3*time.Hour + 5*time.Minute)}
	got, err = f.S.HourlySends(t.Context(), byMailing)
	require.NoError(t, err)
	assert.Equal(t, []stats.SendCount{{Start: T0, Retried: 1}}, got, "From is included, To is not")

	got, err = f.S.HourlySends(t.Context(), stats.SendsFilter{OwnerID: 2, From: T0, To: T0.Add(48 * time.Hour)})
	require.NoError(t, err)
	assert.Empty(t, got)
}

func testClientStatuses(t *testing.T, f *Fixture) {
	f.Seed(t)
	got, n, err := f.S.ClientStatuses(t.Context(), f.M1.ID, mailing.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []stats.ClientStatus{
		{
			ClientID: f.Ann.ID, Email: "ann@example.com", Name: "Ann",
			RunAt: Run2, State: mailing.DeliveryPending, Attempts: 0,
			LastAt: T0.Add(time.Minute), LastRun: Run1, Outcome: mailing.OutcomeSent, Code: 250, Response: "2.0.0 OK queued",
		},
		{
			ClientID: f.Bob.ID, Email: "bob@example.org", Name: "Bob",
			RunAt: Run2, State: mailing.DeliveryUnknown, Attempts: 1,
			LastAt: Run2.Add(5 * time.Minute), LastRun: Run2, Outcome: mailing.OutcomeUnknown, Code: 0, Response: "connection lost after DATA",
		},
	}, got)
}

func testClientStatusesPaging(t *testing.T, f *Fixture) {
	f.Seed(t)
	got, n, err := f.S.ClientStatuses(t.Context(), f.M1.ID, mailing.ListOptions{Limit: 1, Offset: 1})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	require.Len(t, got, 1)
	assert.Equal(t, f.Bob.ID, got[0].ClientID)
	got, n, err = f.S.ClientStatuses(t.Context(), f.M1.ID, mailing.ListOptions{Offset: 5})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Empty(t, got)
}

func testClientStatusesDeleted(t *testing.T, f *Fixture) {
	f.Seed(t)
	require.NoError(t, f.M.DeleteClient(t.Context(), f.Bob.ID))
	got, n, err := f.S.ClientStatuses(t.Context(), f.M1.ID, mailing.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	require.Len(t, got, 2)
	assert.Equal(t, f.Bob.ID, got[1].ClientID)
	assert.Equal(t, "bob@example.org", got[1].Email, "the ledger keeps a deleted client's address")
	assert.Equal(t, "Bob", got[1].Name)
}

func testClientStatusesNone(t *testing.T, f *Fixture) {
	got, n, err := f.S.ClientStatuses(t.Context(), f.M2.ID, mailing.ListOptions{})
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, got)
	got, n, err = f.S.ClientStatuses(t.Context(), 404, mailing.ListOptions{})
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, got)
}

func testContext(t *testing.T, f *Fixture) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := f.S.HomeFigures(ctx, T0)
	assert.Error(t, err)
	_, err = f.S.UserFigures(ctx, 1, T0)
	assert.Error(t, err)
	_, err = f.S.HourlySends(ctx, stats.SendsFilter{From: T0, To: T0.Add(time.Hour)})
	assert.Error(t, err)
	_, _, err = f.S.ClientStatuses(ctx, f.M1.ID, mailing.ListOptions{})
	assert.Error(t, err)
	_, err = f.S.Catalog(ctx)
	assert.Error(t, err)
	_, err = f.S.Ledger(ctx, T0)
	assert.Error(t, err)
}

func testCatalog(t *testing.T, f *Fixture) {
	f.Seed(t)
	got, err := f.S.Catalog(t.Context())
	require.NoError(t, err)
	slices.SortFunc(got.Mailings, func(a, b stats.MailingWindow) int {
		return cmp.Or(a.Start.Compare(b.Start), a.End.Compare(b.End), cmp.Compare(a.OwnerID, b.OwnerID))
	})
	window := func(m mailing.Mailing) stats.MailingWindow {
		return stats.MailingWindow{OwnerID: m.OwnerID, Enabled: m.Enabled, Start: m.Start, End: m.End}
	}
	assert.Equal(t, []stats.MailingWindow{window(f.M4), window(f.M1), window(f.M2), window(f.M3)}, got.Mailings)
	for owner, c := range got.Owners {
		if c == (stats.ClientCounts{}) {
			delete(got.Owners, owner) // may be listed or left out
		}
	}
	assert.Equal(t, map[int64]stats.ClientCounts{
		1: {Clients: 3, UniqueClients: 3}, // Ann, Bob, Cat in M1 or M2
		2: {Clients: 3, UniqueClients: 2}, // Ann2 and Dan; Eve is in no mailing
	}, got.Owners)
	assert.Equal(t, 4, got.UniqueClients, "ann (Ann and Ann2), bob, cat, dan")
}

func testLedger(t *testing.T, f *Fixture) {
	f.Seed(t)
	got, err := f.S.Ledger(t.Context(), T0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Equal(t, map[int64]stats.DeliveryCounts{1: {Sent: 1, Failed: 1, Unknown: 1, Pending: 1}}, got.Deliveries)
	assert.Equal(t, map[int64][]stats.SendCount{1: {
		{Start: T0, Sent: 1, Retried: 1},
		{Start: T0.Add(3 * time.Hour), Failed: 1},
		{Start: Run2, Unknown: 1},
	}}, got.Hours)

	got, err = f.S.Ledger(t.Context(), T0.Add(2*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, []stats.SendCount{
		{Start: T0, Retried: 1}, // since is included
		{Start: T0.Add(3 * time.Hour), Failed: 1},
		{Start: Run2, Unknown: 1},
	}, got.Hours[1])
}
