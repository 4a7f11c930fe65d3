package tagcache_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/tagcache"
	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type value struct {
	N    int
	At   time.Time
	List []string
}

// source is a loader that counts its calls and returns N = calls.
type source struct {
	calls atomic.Int64
	ttl   time.Duration
	err   error
}

func (s *source) load(context.Context) (value, time.Duration, error) {
	n := s.calls.Add(1)
	return value{N: int(n), At: time.Date(2026, 3, 1, 9, 0, 0, 1000, time.UTC), List: []string{"a"}}, s.ttl, s.err
}

func fetch(tb testing.TB, c *tagcache.Cache, s *source, key string, tags ...string) value {
	tb.Helper()
	v, err := tagcache.Fetch(tb.Context(), c, key, tags, s.load)
	require.NoError(tb, err)
	return v
}

// backends runs f on a memory cache and, when SKYCHIMP_TEST_REDIS is set,
// on Redis. newCache returns another handle on the same cache: an
// instance of its own for Redis, the same store for memory.
func backends(t *testing.T, f func(t *testing.T, newCache func() *tagcache.Cache, shared bool)) {
	t.Run("Memory", func(t *testing.T) {
		raw := tagcachetest.Memory(t)
		f(t, func() *tagcache.Cache { return tagcache.New(raw, tagcache.Options{Logger: quiet}) }, false)
	})
	t.Run("Redis", func(t *testing.T) {
		tagcachetest.SkipWithoutRedis(t)
		prefix := tagcachetest.Prefix()
		f(t, func() *tagcache.Cache {
			return tagcache.New(tagcachetest.Redis(t, prefix), tagcache.Options{Prefix: prefix, Logger: quiet})
		}, true)
	})
}

func TestFetch(t *testing.T) {
	backends(t, func(t *testing.T, newCache func() *tagcache.Cache, _ bool) {
		c := newCache()
		s := &source{ttl: time.Minute}
		v := fetch(t, c, s, "k", "t1")
		assert.Equal(t, 1, v.N)
		v = fetch(t, c, s, "k", "t1")
		assert.Equal(t, 1, v.N, "a hit does not load")
		assert.Equal(t, time.Date(2026, 3, 1, 9, 0, 0, 1000, time.UTC), v.At, "times come back in UTC")
		assert.Equal(t, []string{"a"}, v.List)
		assert.Equal(t, 2, fetch(t, c, s, "other", "t2").N, "keys are separate")

		require.NoError(t, c.Invalidate(t.Context(), "t1"))
		assert.Equal(t, 3, fetch(t, c, s, "k", "t1").N, "invalidated")
		assert.Equal(t, 2, fetch(t, c, s, "other", "t2").N, "another tag is kept")
		require.NoError(t, c.Invalidate(t.Context(), "nothing", "t2"))
		assert.Equal(t, 4, fetch(t, c, s, "other", "t2").N, "every tag given is invalidated")
	})
}

func TestFetchNotCached(t *testing.T) {
	backends(t, func(t *testing.T, newCache func() *tagcache.Cache, _ bool) {
		c := newCache()
		t.Run("ZeroTTL", func(t *testing.T) {
			s := &source{}
			fetch(t, c, s, "zero")
			fetch(t, c, s, "zero")
			assert.EqualValues(t, 2, s.calls.Load())
		})
		t.Run("LoadError", func(t *testing.T) {
			boom := errors.New("boom")
			s := &source{ttl: time.Minute, err: boom}
			_, err := tagcache.Fetch(t.Context(), c, "err", nil, s.load)
			require.ErrorIs(t, err, boom)
			s.err = nil
			assert.Equal(t, 2, fetch(t, c, s, "err").N, "an error is not cached")
		})
	})
}

func TestFetchSharedLoad(t *testing.T) {
	backends(t, func(t *testing.T, newCache func() *tagcache.Cache, _ bool) {
		c := newCache()
		var calls atomic.Int64
		release := make(chan struct{})
		started := make(chan struct{})
		load := func(context.Context) (value, time.Duration, error) {
			if calls.Add(1) == 1 {
				close(started)
			}
			<-release
			return value{N: 7}, time.Minute, nil
		}
		var wg sync.WaitGroup
		results := make([]value, 20)
		wg.Go(func() { results[0], _ = tagcache.Fetch(context.Background(), c, "shared", nil, load) })
		<-started
		for i := 1; i < 20; i++ {
			wg.Go(func() { results[i], _ = tagcache.Fetch(context.Background(), c, "shared", nil, load) })
		}
		close(release)
		wg.Wait()
		assert.LessOrEqual(t, calls.Load(), int64(2), "concurrent misses share a load (a latecomer may load once more after it ends)")
		for _, r := range results {
			assert.Equal(t, 7, r.N)
		}
	})
}

// A load that read the source before a write must not put its old value
// back after the write's invalidation.
func TestFetchInvalidatedDuringLoad(t *testing.T) {
	backends(t, func(t *testing.T, newCache func() *tagcache.Cache, shared bool) {
		reader, writer := newCache(), newCache()
		if !shared {
			writer = reader // one process: the same Cache
		}
		var calls atomic.Int64
		load := func(ctx context.Context) (value, time.Duration, error) {
			n := calls.Add(1)
			if n == 1 {
				// The write commits and invalidates while this load is in flight.
				require.NoError(t, writer.Invalidate(ctx, "posts"))
			}
			return value{N: int(n)}, time.Minute, nil
		}
		v, err := tagcache.Fetch(t.Context(), reader, "page", []string{"posts"}, load)
		require.NoError(t, err)
		assert.Equal(t, 1, v.N, "the caller gets what it loaded")
		v, err = tagcache.Fetch(t.Context(), reader, "page", []string{"posts"}, load)
		require.NoError(t, err)
		assert.Equal(t, 2, v.N, "the stale value was not kept")
		v, err = tagcache.Fetch(t.Context(), reader, "page", []string{"posts"}, load)
		require.NoError(t, err)
		assert.Equal(t, 2, v.N, "the fresh one is")
	})
}

func TestInvalidateAcrossInstances(t *testing.T) {
	tagcachetest.SkipWithoutRedis(t)
	prefix := tagcachetest.Prefix()
	a := tagcache.New(tagcachetest.Redis(t, prefix), tagcache.Options{Prefix: prefix, Logger: quiet})
	b := tagcache.New(tagcachetest.Redis(t, prefix), tagcache.Options{Prefix: prefix, Logger: quiet})
	s := &source{ttl: time.Minute}
	assert.Equal(t, 1, fetch(t, a, s, "k", "t").N)
	assert.Equal(t, 1, fetch(t, b, s, "k", "t").N, "instance b reads a's value")
	require.NoError(t, b.Invalidate(t.Context(), "t"))
	assert.Equal(t, 2, fetch(t, a, s, "k", "t").N, "b's invalidation reaches a")

	t.Run("PrefixesAreSeparate", func(t *testing.T) {
		other := tagcachetest.Prefix()
		c := tagcache.New(tagcachetest.Redis(t, other), tagcache.Options{Prefix: other, Logger: quiet})
		assert.Equal(t, 3, fetch(t, c, s, "k", "t").N)
		require.NoError(t, c.Invalidate(t.Context(), "t"))
		assert.Equal(t, 2, fetch(t, a, s, "k", "t").N, "another prefix's invalidation leaves a alone")
	})
}

// fakeNow is a settable clock for the backoff.
type fakeNow struct {
	mu sync.Mutex
	t  time.Time
}

func (f *fakeNow) Now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.t }
func (f *fakeNow) Add(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func TestCacheErrorIsAMiss(t *testing.T) {
	clock := &fakeNow{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	c := tagcache.New(tagcachetest.DeadRedis(t), tagcache.Options{Logger: quiet, Now: clock.Now, Backoff: 2 * time.Second})
	s := &source{ttl: time.Minute}
	assert.True(t, c.Up())
	start := time.Now()
	assert.Equal(t, 1, fetch(t, c, s, "k", "t").N, "served from the source")
	assert.False(t, c.Up(), "the cache is bypassed after an error")
	assert.Equal(t, 2, fetch(t, c, s, "k", "t").N)
	assert.Less(t, time.Since(start), 2*time.Second, "a dead cache costs little")
	assert.Error(t, c.Invalidate(t.Context(), "t"), "Invalidate reports the error")
	clock.Add(2 * time.Second)
	assert.True(t, c.Up(), "tried again after the backoff")
	assert.Equal(t, 3, fetch(t, c, s, "k", "t").N)
}

func TestNilCache(t *testing.T) {
	var c *tagcache.Cache
	s := &source{ttl: time.Minute}
	assert.Equal(t, 1, fetch(t, c, s, "k").N)
	assert.Equal(t, 2, fetch(t, c, s, "k").N, "a nil cache caches nothing")
	assert.NoError(t, c.Invalidate(t.Context(), "t"))
	assert.False(t, c.Up())
}

// Concurrent first writes of many keys under one tag must all be dropped
// by the tag's invalidation (go_cache builds a tag's key set with a
// read-modify-write).
func TestInvalidateAfterConcurrentFills(t *testing.T) {
	backends(t, func(t *testing.T, newCache func() *tagcache.Cache, _ bool) {
		c := newCache()
		const keys = 20
		var loads atomic.Int64
		load := func(context.Context) (value, time.Duration, error) {
			return value{N: int(loads.Add(1))}, time.Minute, nil
		}
		fill := func() {
			var wg sync.WaitGroup
			for i := range keys {
				wg.Go(func() {
					_, err := tagcache.Fetch(context.Background(), c, "k"+string(rune('a'+i)), []string{"many"}, load)
					assert.NoError(t, err)
				})
			}
			wg.Wait()
		}
		fill()
		require.EqualValues(t, keys, loads.Load())
		fill()
		require.EqualValues(t, keys, loads.Load(), "all cached")
		require.NoError(t, c.Invalidate(t.Context(), "many"))
		fill()
		assert.EqualValues(t, 2*keys, loads.Load(), "every key was dropped")
	})
}

func TestGeneration(t *testing.T) {
	backends(t, func(t *testing.T, newCache func() *tagcache.Cache, _ bool) {
		a, b := newCache(), newCache()
		g0, ok := b.Generation(t.Context(), "t")
		require.True(t, ok)
		assert.Empty(t, g0, "never invalidated")
		require.NoError(t, a.Invalidate(t.Context(), "t"))
		g1, ok := b.Generation(t.Context(), "t")
		require.True(t, ok)
		assert.NotEmpty(t, g1, "a's invalidation shows in b")
		require.NoError(t, a.Invalidate(t.Context(), "t"))
		g2, _ := b.Generation(t.Context(), "t")
		assert.NotEqual(t, g1, g2, "every invalidation changes it")
		other, _ := b.Generation(t.Context(), "other")
		assert.Empty(t, other, "per tag")
	})
	t.Run("Unanswered", func(t *testing.T) {
		c := tagcache.New(tagcachetest.DeadRedis(t), tagcache.Options{Logger: quiet, Timeout: 50 * time.Millisecond})
		_, ok := c.Generation(t.Context(), "t")
		assert.False(t, ok)
		var none *tagcache.Cache
		_, ok = none.Generation(t.Context(), "t")
		assert.False(t, ok)
	})
}
