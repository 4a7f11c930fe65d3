package stats_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/stats"
	"github.com/skychimp/skychimp/stats/statstest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// countingStore counts the home figures computed by the store.
type countingStore struct {
	stats.Store
	home atomic.Int64
}

func (s *countingStore) HomeFigures(ctx context.Context, now time.Time) (stats.HomeFigures, error) {
	s.home.Add(1)
	return s.Store.HomeFigures(ctx, now)
}

// instance is one running copy of the service over the shared database
// (db): its own cache handle, its own services wired like the host does.
type instance struct {
	db       *countingStore
	cached   *stats.CachedStore
	mailings *mailing.Service
	svc      *stats.Service
}

func newInstance(db *countingStore, mstore mailing.Store, clock mailing.Clock, c cache.CacheInterface[any], prefix string) *instance {
	in := &instance{db: db}
	in.cached = stats.NewCachedStore(db, c, stats.CacheOptions{Prefix: prefix, Logger: quiet})
	in.mailings = mailing.NewService(mstore, clock, mailing.WithChangeHook(in.cached.MailingChanged))
	in.svc = stats.NewService(in.cached, in.mailings, clock)
	return in
}

func (in *instance) home(tb testing.TB) stats.HomeFigures {
	tb.Helper()
	f, err := in.svc.Home(context.Background())
	require.NoError(tb, err)
	return f
}

type world struct {
	m     *mailingtest.MemStore
	db    *countingStore
	clock *mailingtest.FakeClock
	msg   mailing.Message
	cl    mailing.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{m: mailingtest.NewMemStore(), clock: mailingtest.NewFakeClock(statstest.T0)}
	w.db = &countingStore{Store: statstest.New(w.m)}
	svc := mailing.NewService(w.m, w.clock)
	var err error
	w.msg, err = svc.CreateMessage(as(owner1), mailing.Message{Subject: "Hi", Body: "Hello"})
	require.NoError(t, err)
	w.cl, err = svc.CreateClient(as(owner1), mailing.Client{Email: "ann@example.com", Name: "Ann"})
	require.NoError(t, err)
	return w
}

func (w *world) create(tb testing.TB, in *instance, start time.Time) mailing.Mailing {
	tb.Helper()
	m, err := in.mailings.CreateMailing(as(owner1), mailing.Mailing{
		MessageID: w.msg.ID, ClientIDs: []int64{w.cl.ID}, Start: start, End: start.Add(48 * time.Hour), Period: mailing.Daily,
	})
	require.NoError(tb, err)
	return m
}

// testInvalidation checks one instance, or two sharing a cache: a new
// mailing and a status change show at once on both.
func testInvalidation(t *testing.T, w *world, a, b *instance) {
	assert.Zero(t, a.home(t).Mailings)
	assert.Zero(t, b.home(t).Mailings)

	m := w.create(t, a, statstest.T0.Add(-time.Hour))
	assert.Equal(t, stats.HomeFigures{Mailings: 1, Active: 1, UniqueClients: 1, NextChange: m.End}, a.home(t), "a new mailing shows at once")
	assert.Equal(t, 1, b.home(t).Mailings, "on every instance")
	computed := w.db.home.Load()
	a.home(t)
	b.home(t)
	assert.Equal(t, computed, w.db.home.Load(), "then served from the cache")

	// A change behind the service's back (no hook) is not seen: cached.
	m2 := mailing.Mailing{OwnerID: 1, MessageID: w.msg.ID, ClientIDs: []int64{w.cl.ID}, Start: statstest.T0, End: statstest.T0.Add(time.Hour), Period: mailing.Daily}
	require.NoError(t, w.m.CreateMailing(t.Context(), &m2))
	assert.Equal(t, 1, b.home(t).Mailings)

	// A status change through the service shows at once, on both.
	_, err := b.mailings.SetMailingEnabled(as(manager), m.ID, false)
	require.NoError(t, err)
	assert.Equal(t, 2, a.home(t).Mailings)
	assert.Equal(t, 0, a.home(t).Active, "the disabled mailing is not active; the other was stored disabled")
	assert.Equal(t, 0, b.home(t).Active)
	_, err = a.mailings.SetMailingEnabled(as(manager), m.ID, true)
	require.NoError(t, err)
	assert.Equal(t, 1, b.home(t).Active)
}

func TestCachedHomeMemory(t *testing.T) {
	w := newWorld(t)
	in := newInstance(w.db, w.m, w.clock, tagcachetest.Memory(t), "")
	testInvalidation(t, w, in, in)
}

func TestCachedHomeRedis(t *testing.T) {
	tagcachetest.SkipWithoutRedis(t)
	prefix := tagcachetest.Prefix()
	w := newWorld(t)
	a := newInstance(w.db, w.m, w.clock, tagcachetest.Redis(t, prefix), prefix)
	b := newInstance(w.db, w.m, w.clock, tagcachetest.Redis(t, prefix), prefix)
	testInvalidation(t, w, a, b)
}

func TestCachedHomeFollowsTheClock(t *testing.T) {
	w := newWorld(t)
	in := newInstance(w.db, w.m, w.clock, tagcachetest.Memory(t), "")
	m := w.create(t, in, statstest.T0.Add(time.Hour)) // starts in an hour
	got := in.home(t)
	assert.Equal(t, 0, got.Active)
	assert.Equal(t, m.Start, got.NextChange)
	computed := w.db.home.Load()

	w.clock.Set(m.Start.Add(-time.Second))
	assert.Equal(t, 0, in.home(t).Active)
	assert.Equal(t, computed, w.db.home.Load(), "still cached before the start")

	w.clock.Set(m.Start.Add(time.Second)) // no write at all: the clock alone
	assert.Equal(t, 1, in.home(t).Active, "a mailing that starts is active at once")
	w.clock.Set(m.End.Add(time.Second))
	assert.Equal(t, 0, in.home(t).Active, "and inactive once it ends")
}

func TestCachedHomeDeadCache(t *testing.T) {
	w := newWorld(t)
	in := newInstance(w.db, w.m, w.clock, tagcachetest.DeadRedis(t), "")
	w.create(t, in, statstest.T0)
	assert.Equal(t, 1, in.home(t).Mailings, "a cache error is a miss, never a failed page")
	w.create(t, in, statstest.T0)
	assert.Equal(t, 2, in.home(t).Mailings)
}
