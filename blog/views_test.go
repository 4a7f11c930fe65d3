package blog_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/blog/blogtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// notifyingStore signals every successful AddViews on done.
type notifyingStore struct {
	*blogtest.MemStore
	done chan map[int64]int64
}

func (s notifyingStore) AddViews(ctx context.Context, views map[int64]int64) error {
	err := s.MemStore.AddViews(ctx, views)
	if err == nil {
		s.done <- views
	}
	return err
}

func seedPosts(tb testing.TB, s blog.Store, n int) []blog.Post {
	tb.Helper()
	var out []blog.Post
	for i := range n {
		p := blogtest.Published("post "+string(rune('a'+i)), blogtest.T0)
		require.NoError(tb, s.CreatePost(tb.Context(), &p))
		out = append(out, p)
	}
	return out
}

func views(tb testing.TB, s blog.Store, id int64) int64 {
	tb.Helper()
	p, err := s.GetPost(tb.Context(), id)
	require.NoError(tb, err)
	return p.Views
}

func TestViewCounterConcurrent(t *testing.T) {
	store := blogtest.NewMemStore()
	posts := seedPosts(t, store, 4)
	vc := blog.NewViewCounter(store, quiet)
	const workers, perWorker = 16, 1000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				vc.Add(posts[(w+i)%len(posts)].ID)
			}
		})
	}
	// Flushes run while views keep coming.
	flushes := 0
	for range 5 {
		require.NoError(t, vc.Flush(t.Context()))
		flushes++
	}
	wg.Wait()
	assert.LessOrEqual(t, store.AddViewsCalls(), flushes, "one write per flush at most, never one per view")
	require.NoError(t, vc.Close(t.Context()))
	var total int64
	for _, p := range posts {
		n := views(t, store, p.ID)
		assert.EqualValues(t, workers*perWorker/len(posts), n, "post %d", p.ID)
		total += n
	}
	assert.EqualValues(t, workers*perWorker, total, "nothing lost")
	assert.Zero(t, vc.PendingTotal())
}

func TestViewCounterBatches(t *testing.T) {
	store := blogtest.NewMemStore()
	posts := seedPosts(t, store, 3)
	vc := blog.NewViewCounter(store, quiet)
	for range 100 {
		for _, p := range posts {
			vc.Add(p.ID)
		}
	}
	assert.Zero(t, store.AddViewsCalls(), "views are not written as they come")
	assert.EqualValues(t, 100, vc.Pending(posts[0].ID))
	assert.EqualValues(t, 300, vc.PendingTotal())
	require.NoError(t, vc.Flush(t.Context()))
	assert.Equal(t, 1, store.AddViewsCalls(), "one batched write for every post")
	for _, p := range posts {
		assert.EqualValues(t, 100, views(t, store, p.ID))
	}
	require.NoError(t, vc.Flush(t.Context()))
	assert.Equal(t, 1, store.AddViewsCalls(), "nothing to write is no write")
}

func TestViewCounterFailedFlush(t *testing.T) {
	store := blogtest.NewMemStore()
	posts := seedPosts(t, store, 2)
	vc := blog.NewViewCounter(store, quiet)
	vc.Add(posts[0].ID)
	vc.Add(posts[0].ID)
	vc.Add(posts[1].ID)
	down := errors.New("database is down")
	store.FailAddViews(down)
	require.ErrorIs(t, vc.Flush(t.Context()), down)
	assert.EqualValues(t, 2, vc.Pending(posts[0].ID), "the counts were put back")
	assert.EqualValues(t, 1, vc.Pending(posts[1].ID))
	vc.Add(posts[0].ID) // views keep coming meanwhile
	require.ErrorIs(t, vc.Close(t.Context()), down, "Close reports a failed last flush")
	assert.EqualValues(t, 3, vc.Pending(posts[0].ID))

	store.FailAddViews(nil)
	require.NoError(t, vc.Flush(t.Context()))
	assert.EqualValues(t, 3, views(t, store, posts[0].ID))
	assert.EqualValues(t, 1, views(t, store, posts[1].ID))
	assert.Zero(t, vc.PendingTotal())
}

func TestViewCounterRun(t *testing.T) {
	mem := blogtest.NewMemStore()
	posts := seedPosts(t, mem, 2)
	store := notifyingStore{MemStore: mem, done: make(chan map[int64]int64, 10)}
	vc := blog.NewViewCounter(store, quiet)
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- vc.Run(ctx, ticks) }()

	vc.Add(posts[0].ID)
	vc.Add(posts[0].ID)
	ticks <- time.Time{} // the ticker fires: Run flushes
	assert.Equal(t, map[int64]int64{posts[0].ID: 2}, <-store.done)

	ticks <- time.Time{} // nothing pending: no write
	vc.Add(posts[1].ID)
	cancel() // shutdown: Run flushes what is left and returns
	require.NoError(t, <-stopped)
	assert.Equal(t, map[int64]int64{posts[1].ID: 1}, <-store.done)
	assert.EqualValues(t, 2, views(t, mem, posts[0].ID))
	assert.EqualValues(t, 1, views(t, mem, posts[1].ID))
	assert.Equal(t, 2, mem.AddViewsCalls())
}

func TestViewCounterRunFailedTick(t *testing.T) {
	mem := blogtest.NewMemStore()
	posts := seedPosts(t, mem, 1)
	store := notifyingStore{MemStore: mem, done: make(chan map[int64]int64, 10)}
	vc := blog.NewViewCounter(store, quiet)
	ticks := make(chan time.Time)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan error, 1)
	go func() { stopped <- vc.Run(ctx, ticks) }()

	mem.FailAddViews(errors.New("down"))
	vc.Add(posts[0].ID)
	ticks <- time.Time{} // fails, counts kept
	ticks <- time.Time{} // received only once the first flush has ended
	mem.FailAddViews(nil)
	cancel()
	require.NoError(t, <-stopped)
	assert.Equal(t, map[int64]int64{posts[0].ID: 1}, <-store.done, "written once the store is back")
	assert.EqualValues(t, 1, views(t, mem, posts[0].ID))
	assert.Zero(t, vc.PendingTotal())
}
