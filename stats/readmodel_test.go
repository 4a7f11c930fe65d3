package stats_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/stats"
	"github.com/skychimp/skychimp/stats/statstest"
)

// spyStore counts the reads a read model makes, can hold them until
// released, fail them, and make a ledger read take time on the fake
// clock.
type spyStore struct {
	stats.Store
	clock                   *mailingtest.FakeClock
	catalogs, ledgers, hour atomic.Int64

	mu       sync.Mutex
	gate     chan struct{} // when set, reads wait until it is closed
	entered  chan string   // when set, receives the part as a read starts
	fail     error
	ledgerIn time.Duration // fake time a ledger read takes
}

func (s *spyStore) enter(part string) error {
	s.mu.Lock()
	gate, entered, fail := s.gate, s.entered, s.fail
	s.mu.Unlock()
	if entered != nil {
		entered <- part
	}
	if gate != nil {
		<-gate
	}
	return fail
}

func (s *spyStore) Catalog(ctx context.Context) (stats.Catalog, error) {
	s.catalogs.Add(1)
	if err := s.enter("catalog"); err != nil {
		return stats.Catalog{}, err
	}
	return s.Store.Catalog(ctx)
}

func (s *spyStore) Ledger(ctx context.Context, since time.Time) (stats.Ledger, error) {
	s.ledgers.Add(1)
	if err := s.enter("ledger"); err != nil {
		return stats.Ledger{}, err
	}
	s.mu.Lock()
	took := s.ledgerIn
	s.mu.Unlock()
	if took > 0 {
		s.clock.Advance(took)
	}
	return s.Store.Ledger(ctx, since)
}

func (s *spyStore) HourlySends(ctx context.Context, f stats.SendsFilter) ([]stats.SendCount, error) {
	s.hour.Add(1)
	return s.Store.HourlySends(ctx, f)
}

func (s *spyStore) set(fn func(s *spyStore)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fn(s)
}

// rmEnv is statstest's seeded fixture in a MemStore, the clock at T0, and
// a read model over a spy of the reference store.
type rmEnv struct {
	*statstest.Fixture
	clock *mailingtest.FakeClock
	spy   *spyStore
	rm    *stats.ReadModel
	loads chan string // "catalog" or "ledger" after each read, "!" prefixed when it failed
}

func newRMEnv(t *testing.T, o stats.ReadModelOptions) *rmEnv {
	t.Helper()
	m := mailingtest.NewMemStore()
	e := &rmEnv{clock: mailingtest.NewFakeClock(statstest.T0), loads: make(chan string, 100)}
	e.spy = &spyStore{Store: statstest.New(m), clock: e.clock}
	o.Clock, o.Logger = e.clock, quiet
	e.rm = stats.NewReadModel(e.spy, o)
	stats.SetAfterLoad(e.rm, func(part string, err error) {
		if err != nil {
			part = "!" + part
		}
		e.loads <- part
	})
	e.Fixture = statstest.NewFixture(t, m, e.rm)
	e.Seed(t)
	return e
}

// load waits for the next read to end and returns its part.
func (e *rmEnv) load(t *testing.T) string {
	t.Helper()
	select {
	case p := <-e.loads:
		return p
	case <-t.Context().Done():
		t.Fatal("no read")
		return ""
	}
}

func (e *rmEnv) noLoad(t *testing.T) {
	t.Helper()
	select {
	case p := <-e.loads:
		t.Fatalf("unexpected read of the %s", p)
	default:
	}
}

func (e *rmEnv) user(t *testing.T, owner int64) stats.UserFigures {
	t.Helper()
	f, err := e.rm.UserFigures(t.Context(), owner, e.clock.Now())
	require.NoError(t, err)
	return f
}

func (e *rmEnv) home(t *testing.T) stats.HomeFigures {
	t.Helper()
	f, err := e.rm.HomeFigures(t.Context(), e.clock.Now())
	require.NoError(t, err)
	return f
}

// freshReadModel reads the store again before every read of the figures,
// so that statstest's suite (which writes between reads) checks what the
// read model computes from a snapshot. AsOf is the one field it adds.
type freshReadModel struct{ *stats.ReadModel }

func (r freshReadModel) HomeFigures(ctx context.Context, now time.Time) (stats.HomeFigures, error) {
	if err := r.Refresh(ctx); err != nil {
		return stats.HomeFigures{}, err
	}
	return r.ReadModel.HomeFigures(ctx, now)
}

func (r freshReadModel) UserFigures(ctx context.Context, owner int64, now time.Time) (stats.UserFigures, error) {
	if err := r.Refresh(ctx); err != nil {
		return stats.UserFigures{}, err
	}
	f, err := r.ReadModel.UserFigures(ctx, owner, now)
	f.AsOf = time.Time{}
	return f, err
}

func (r freshReadModel) HourlySends(ctx context.Context, f stats.SendsFilter) ([]stats.SendCount, error) {
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	return r.ReadModel.HourlySends(ctx, f)
}

func TestReadModelStore(t *testing.T) {
	statstest.TestStore(t, func(t *testing.T) statstest.Stores {
		m := mailingtest.NewMemStore()
		rm := stats.NewReadModel(statstest.New(m), stats.ReadModelOptions{Clock: mailingtest.NewFakeClock(statstest.T0), Logger: quiet})
		return statstest.Stores{Mailing: m, Stats: freshReadModel{rm}}
	})
}

func TestReadModelAnswersAsTheStore(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{})
	ref := e.spy.Store
	ctx := t.Context()
	for _, now := range []time.Time{statstest.T0, e.M3.Start.Add(-time.Microsecond), e.M3.Start, e.M3.End,
		e.M3.End.Add(time.Microsecond), e.M4.End, e.M1.End.Add(time.Second)} {
		want, err := ref.HomeFigures(ctx, now)
		require.NoError(t, err)
		got, err := e.rm.HomeFigures(ctx, now)
		require.NoError(t, err)
		assert.Equal(t, want, got, "home at %s", now)
		for _, owner := range []int64{0, 1, 2, 99} {
			want, err := ref.UserFigures(ctx, owner, now)
			require.NoError(t, err)
			got, err := e.rm.UserFigures(ctx, owner, now)
			require.NoError(t, err)
			assert.Equal(t, statstest.T0, got.AsOf, "the snapshot's time")
			got.AsOf = time.Time{}
			assert.Equal(t, want, got, "owner %d at %s", owner, now)
		}
	}
	assert.EqualValues(t, 1, e.spy.catalogs.Load(), "one catalog read for every figure at every moment")
	assert.EqualValues(t, 1, e.spy.ledgers.Load())

	// The dashboards (per day, in any zone) come out the same as from the store.
	e.clock.Set(statstest.Run2.Add(time.Hour))
	require.NoError(t, e.rm.Refresh(ctx))
	mailings := mailing.NewService(e.M, e.clock)
	direct := stats.NewService(ref, mailings, e.clock)
	cached := stats.NewService(e.rm, mailings, e.clock)
	tokyo, err := time.LoadLocation("Asia/Tokyo")
	require.NoError(t, err)
	india, err := time.LoadLocation("Asia/Kolkata")
	require.NoError(t, err)
	for _, u := range []struct {
		name string
		ctx  context.Context
	}{{"User", as(owner1)}, {"OtherUser", as(owner2)}, {"Manager", as(manager)}} {
		for _, loc := range []*time.Location{nil, tokyo, india} {
			want, err := direct.Dashboard(u.ctx, 0, loc)
			require.NoError(t, err)
			hours := e.spy.hour.Load()
			got, err := cached.Dashboard(u.ctx, 0, loc)
			require.NoError(t, err)
			assert.Equal(t, hours, e.spy.hour.Load(), "%s: the chart comes from the snapshot", u.name)
			got.Figures.AsOf = time.Time{}
			assert.Equal(t, want, got, "%s in %v", u.name, loc)
		}
	}
}

func TestReadModelHourlySendsFallBackToTheStore(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{})
	ctx := t.Context()
	for _, tc := range []struct {
		name  string
		f     stats.SendsFilter
		store bool
	}{
		{"Snapshot", stats.SendsFilter{OwnerID: 1, From: statstest.T0.Add(-time.Hour), To: statstest.T0.Add(48 * time.Hour)}, false},
		{"Everyone", stats.SendsFilter{From: statstest.T0.Add(-time.Hour), To: statstest.T0.Add(time.Hour)}, false},
		{"ByMailing", stats.SendsFilter{MailingID: e.M1.ID, From: statstest.T0, To: statstest.T0.Add(time.Hour)}, true},
		{"FromMidHour", stats.SendsFilter{OwnerID: 1, From: statstest.T0.Add(2 * time.Minute), To: statstest.T0.Add(time.Hour)}, true},
		{"ToMidHourInThePast", stats.SendsFilter{OwnerID: 1, From: statstest.T0.Add(-2 * time.Hour), To: statstest.T0.Add(-time.Minute)}, true},
		{"BeforeTheKeptDays", stats.SendsFilter{OwnerID: 1, From: statstest.T0.AddDate(0, 0, -40), To: statstest.T0.Add(time.Hour)}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, err := e.spy.Store.HourlySends(ctx, tc.f)
			require.NoError(t, err)
			before := e.spy.hour.Load()
			got, err := e.rm.HourlySends(ctx, tc.f)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, tc.store, e.spy.hour.Load() > before, "asked the store")
		})
	}
}

func TestReadModelLedgerIsRefreshedAfterItsInterval(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{LedgerEvery: 10 * time.Second, CatalogEvery: time.Hour})
	before := e.user(t, 1)
	require.Equal(t, 1, before.Pending)
	for range 2 { // the first read loaded both parts
		e.load(t)
	}
	e.noLoad(t)

	// Ann's pending delivery of run 2 is sent: the snapshot does not know yet.
	e.Attempt(t, e.M1.ID, statstest.Run2, e.Ann.ID, statstest.Run2.Add(time.Minute), mailing.OutcomeSent, 250, "ok", mailing.DeliverySent)
	e.clock.Advance(10*time.Second - time.Microsecond)
	assert.Equal(t, before, e.user(t, 1), "within the interval: the snapshot")
	e.noLoad(t)

	e.clock.Advance(time.Microsecond)
	assert.Equal(t, before, e.user(t, 1), "a due read answers at once from the snapshot...")
	assert.Equal(t, "ledger", e.load(t), "...and starts a refresh")
	got := e.user(t, 1)
	assert.Equal(t, 2, got.Sent)
	assert.Zero(t, got.Pending)
	assert.Equal(t, statstest.T0.Add(10*time.Second), got.AsOf)
	assert.EqualValues(t, 1, e.spy.catalogs.Load(), "the catalog was not due")
}

func TestReadModelLedgerReadsAreSpacedByTheirCost(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{LedgerEvery: 10 * time.Second, CatalogEvery: time.Hour})
	e.spy.set(func(s *spyStore) { s.ledgerIn = 2 * time.Second })
	require.NoError(t, e.rm.Refresh(t.Context())) // at T0, ends at T0+2s
	for range 2 {
		e.load(t)
	}
	e.clock.Set(statstest.T0.Add(19 * time.Second))
	e.user(t, 1)
	assert.EqualValues(t, 1, e.spy.ledgers.Load(), "a 2s read is not repeated within 20s")
	e.clock.Set(statstest.T0.Add(20 * time.Second))
	e.user(t, 1)
	for e.load(t) != "ledger" {
	}
	assert.EqualValues(t, 2, e.spy.ledgers.Load())
}

func TestReadModelInvalidate(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{})
	ctx := t.Context()
	assert.Equal(t, 4, e.home(t).Mailings)

	// A mailing written without the hook: within CatalogEvery, not seen.
	m := mailing.Mailing{OwnerID: 2, MessageID: e.M3.MessageID, ClientIDs: []int64{e.Eve.ID}, Start: statstest.T0.Add(-time.Hour),
		End: statstest.T0.Add(time.Hour), Period: mailing.Daily, Enabled: true}
	require.NoError(t, e.M.CreateMailing(ctx, &m))
	assert.Equal(t, 4, e.home(t).Mailings)

	e.rm.MailingChanged(ctx, m.ID)
	got := e.home(t)
	assert.Equal(t, stats.HomeFigures{Mailings: 5, Active: 2, UniqueClients: 5, NextChange: m.End}, got, "the next read waits for the catalog")
	assert.EqualValues(t, 2, e.spy.catalogs.Load())
	assert.Zero(t, e.spy.ledgers.Load(), "the home page does not read the ledger")
	mine, theirs := e.user(t, 2), e.user(t, 1)
	assert.Equal(t, []int{3, 1, 3}, []int{mine.Mailings, mine.Active, mine.UniqueClients}, "owner 2: M3, M4 and the new one (with Eve)")
	assert.Equal(t, []int{2, 1, 3}, []int{theirs.Mailings, theirs.Active, theirs.Clients}, "owner 1 sees their own")
}

func TestReadModelInvalidateWaitsAtMostMaxWait(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{MaxWait: time.Second})
	ctx := t.Context()
	old := e.home(t)
	gate := make(chan struct{})
	e.spy.set(func(s *spyStore) { s.gate = gate })
	require.NoError(t, e.M.DeleteMailing(ctx, e.M4.ID))
	e.rm.Invalidate(ctx)

	done := make(chan stats.HomeFigures)
	go func() {
		f, _ := e.rm.HomeFigures(ctx, e.clock.Now())
		done <- f
	}()
	require.NoError(t, e.clock.BlockUntil(ctx, 1), "the read waits, on the clock")
	e.clock.Advance(time.Second)
	assert.Equal(t, old, <-done, "after MaxWait: the previous figures")

	close(gate)
	for e.load(t) != "catalog" {
	}
	assert.Equal(t, 3, e.home(t).Mailings, "the read it started serves the next reader")
}

func TestReadModelConcurrentMissesReadOnce(t *testing.T) {
	m := mailingtest.NewMemStore()
	clock := mailingtest.NewFakeClock(statstest.T0)
	gate := make(chan struct{})
	entered := make(chan string, 100)
	spy := &spyStore{Store: statstest.New(m), clock: clock, gate: gate, entered: entered}
	rm := stats.NewReadModel(spy, stats.ReadModelOptions{Clock: clock, Logger: quiet})
	f := statstest.NewFixture(t, m, rm)
	f.Seed(t)

	const readers = 20
	var wg sync.WaitGroup
	got := make([]stats.UserFigures, readers)
	for i := range readers {
		wg.Go(func() {
			var err error
			got[i], err = rm.UserFigures(t.Context(), 1, statstest.T0)
			assert.NoError(t, err)
		})
	}
	<-entered // a catalog read has started; readers pile up behind it
	close(gate)
	wg.Wait()
	assert.EqualValues(t, 1, spy.catalogs.Load(), "one catalog read for %d readers", readers)
	assert.EqualValues(t, 1, spy.ledgers.Load(), "one ledger read for %d readers", readers)
	for _, g := range got {
		assert.Equal(t, got[0], g)
	}
	assert.Equal(t, 1, got[0].Sent)
}

func TestReadModelActiveFollowsTheClockWithoutReads(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{})
	ctx := t.Context()
	for _, tc := range []struct {
		now    time.Time
		active int
	}{
		{e.M3.Start.Add(-time.Microsecond), 1}, {e.M3.Start, 2}, {e.M3.End, 2}, {e.M3.End.Add(time.Microsecond), 1},
	} {
		f, err := e.rm.HomeFigures(ctx, tc.now)
		require.NoError(t, err)
		assert.Equal(t, tc.active, f.Active, "at %s", tc.now)
	}
	assert.EqualValues(t, 1, e.spy.catalogs.Load())
}

func TestReadModelErrors(t *testing.T) {
	m := mailingtest.NewMemStore()
	clock := mailingtest.NewFakeClock(statstest.T0)
	boom := errors.New("database is down")
	spy := &spyStore{Store: statstest.New(m), clock: clock, fail: boom}
	rm := stats.NewReadModel(spy, stats.ReadModelOptions{Clock: clock, Logger: quiet})
	statstest.NewFixture(t, m, rm)
	ctx := t.Context()

	t.Run("NothingYet", func(t *testing.T) {
		_, err := rm.HomeFigures(ctx, statstest.T0)
		assert.ErrorIs(t, err, boom)
		_, err = rm.UserFigures(ctx, 1, statstest.T0)
		assert.ErrorIs(t, err, boom)
	})
	t.Run("ThePreviousFigures", func(t *testing.T) {
		spy.set(func(s *spyStore) { s.fail = nil })
		f, err := rm.HomeFigures(ctx, statstest.T0)
		require.NoError(t, err)
		assert.Equal(t, 4, f.Mailings)
		spy.set(func(s *spyStore) { s.fail = boom })
		rm.Invalidate(ctx)
		got, err := rm.HomeFigures(ctx, statstest.T0)
		require.NoError(t, err, "a failed read keeps the figures")
		assert.Equal(t, f, got)
	})
	t.Run("Cancelled", func(t *testing.T) {
		m := mailingtest.NewMemStore()
		gate := make(chan struct{})
		defer close(gate)
		rm := stats.NewReadModel(&spyStore{Store: statstest.New(m), clock: clock, gate: gate}, stats.ReadModelOptions{Clock: clock, Logger: quiet})
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := rm.HomeFigures(cctx, statstest.T0)
		assert.ErrorIs(t, err, context.Canceled, "a reader that goes away does not wait")
	})
}

func TestReadModelRun(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{CatalogEvery: 5 * time.Second, LedgerEvery: 10 * time.Second})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- e.rm.Run(ctx) }()
	assert.Equal(t, "catalog", e.load(t), "at start")
	assert.Equal(t, "ledger", e.load(t))
	require.NoError(t, e.clock.BlockUntil(ctx, 1))
	start := e.user(t, 2)

	// A client (no hook): seen after CatalogEvery, the ledger not read.
	c := mailing.Client{OwnerID: 2, Email: "fay@example.com"}
	require.NoError(t, e.M.CreateClient(ctx, &c))
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, "catalog", e.load(t))
	assert.Equal(t, start.Clients+1, e.user(t, 2).Clients)
	require.NoError(t, e.clock.BlockUntil(ctx, 1))
	e.noLoad(t)

	// At 10s both are due.
	e.clock.Advance(5 * time.Second)
	assert.Equal(t, "catalog", e.load(t))
	assert.Equal(t, "ledger", e.load(t))
	require.NoError(t, e.clock.BlockUntil(ctx, 1))

	// Invalidate: the catalog is read at once, without the clock moving.
	e.rm.Invalidate(ctx)
	assert.Equal(t, "catalog", e.load(t))
	require.NoError(t, e.clock.BlockUntil(ctx, 2)) // the earlier wait is still pending
	e.noLoad(t)
	assert.Equal(t, statstest.T0.Add(10*time.Second), e.user(t, 1).AsOf)

	cancel()
	assert.NoError(t, <-done)
}

func TestReadModelRefreshReadsAfterItIsCalled(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{LedgerEvery: 10 * time.Second, CatalogEvery: time.Hour})
	e.user(t, 1)
	for range 2 {
		e.load(t)
	}
	// A due read starts a ledger read, held before it reads anything.
	gate := make(chan struct{})
	entered := make(chan string, 10)
	e.spy.set(func(s *spyStore) { s.gate, s.entered = gate, entered })
	e.clock.Advance(10 * time.Second)
	e.user(t, 1)
	assert.Equal(t, "ledger", <-entered)

	// Refresh, called now, must not take that read's counts.
	done := make(chan error)
	go func() { done <- e.rm.Refresh(t.Context()) }()
	assert.Equal(t, "catalog", <-entered)
	close(gate)
	require.NoError(t, <-done)
	assert.EqualValues(t, 3, e.spy.ledgers.Load(), "the first, the held one, and Refresh's own")
}

func TestReadModelSharedInvalidation(t *testing.T) {
	shared := tagcachetest.Memory(t) // what Redis is to several instances
	prefix := tagcachetest.Prefix()
	o := stats.ReadModelOptions{Shared: shared, Prefix: prefix, PollEvery: time.Second}
	here := newRMEnv(t, o) // the instance under test, running
	there := stats.NewReadModel(here.spy.Store, stats.ReadModelOptions{Shared: shared, Prefix: prefix, Clock: here.clock, Logger: quiet})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = here.rm.Run(ctx) }()
	assert.Equal(t, "catalog", here.load(t))
	assert.Equal(t, "ledger", here.load(t))
	require.NoError(t, here.clock.BlockUntil(ctx, 1))

	here.clock.Advance(time.Second)
	require.NoError(t, here.clock.BlockUntil(ctx, 1))
	here.noLoad(t) // polled: nothing changed

	m := mailing.Mailing{OwnerID: 1, MessageID: here.M1.MessageID, ClientIDs: []int64{here.Cat.ID}, Start: statstest.T0,
		End: statstest.T0.Add(time.Hour), Period: mailing.Daily, Enabled: true}
	require.NoError(t, here.M.CreateMailing(ctx, &m))
	there.MailingChanged(ctx, m.ID) // the other instance's hook
	assert.Equal(t, 4, here.home(t).Mailings, "not polled yet")

	here.clock.Advance(time.Second)
	assert.Equal(t, "catalog", here.load(t), "the poll saw the other instance's change")
	assert.Equal(t, 5, here.home(t).Mailings)
}

func TestReadModelLedgerChanged(t *testing.T) {
	e := newRMEnv(t, stats.ReadModelOptions{CatalogEvery: time.Hour, LedgerEvery: time.Minute})
	e.spy.set(func(s *spyStore) { s.ledgerIn = 2 * time.Second })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- e.rm.Run(ctx) }()
	assert.Equal(t, "catalog", e.load(t))
	assert.Equal(t, "ledger", e.load(t)) // from T0 to T0+2s
	require.NoError(t, e.clock.BlockUntil(ctx, 1))

	e.rm.PassDone(mailing.Summary{Deferred: 3}, nil)
	e.rm.PassDone(mailing.Summary{Sent: 1}, nil) // a pass that sent: count again...
	require.NoError(t, e.clock.BlockUntil(ctx, 2))
	e.clock.Set(statstest.T0.Add(20*time.Second - time.Microsecond))
	require.NoError(t, e.clock.BlockUntil(ctx, 1))
	e.noLoad(t) // ...but not within 10 x 2s of the last count
	e.clock.Set(statstest.T0.Add(20 * time.Second))
	assert.Equal(t, "ledger", e.load(t), "20s after the last count, not a minute")
	require.NoError(t, e.clock.BlockUntil(ctx, 1))
	e.clock.Set(statstest.T0.Add(50 * time.Second))
	require.NoError(t, e.clock.BlockUntil(ctx, 1))
	e.noLoad(t) // without a change: LedgerEvery again
	e.clock.Set(statstest.T0.Add(80 * time.Second))
	assert.Equal(t, "ledger", e.load(t))

	cancel()
	assert.NoError(t, <-done)
}
