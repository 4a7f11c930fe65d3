package blog_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/blog/blogtest"
	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

// countingStore counts the reads that reach the store.
type countingStore struct {
	blog.Store
	lists, slugs atomic.Int64
}

func (s *countingStore) ListPosts(ctx context.Context, f blog.PostFilter) ([]blog.Summary, int, error) {
	s.lists.Add(1)
	return s.Store.ListPosts(ctx, f)
}

func (s *countingStore) GetPostBySlug(ctx context.Context, slug string) (blog.Post, error) {
	s.slugs.Add(1)
	return s.Store.GetPostBySlug(ctx, slug)
}

// instance is one running copy of the service: its own cached store over
// the shared database (db).
type instance struct {
	db     *countingStore
	cached *blog.CachedStore
	svc    *blog.Service
}

func newInstance(db *countingStore, c cache.CacheInterface[any], prefix string) *instance {
	cached := blog.NewCachedStore(db, c, blog.CacheOptions{Prefix: prefix, Logger: quiet})
	return &instance{db: db, cached: cached, svc: blog.NewService(cached, mailingtest.NewFakeClock(blogtest.T0), blog.WithLogger(quiet))}
}

func (in *instance) titles(tb testing.TB) []string {
	tb.Helper()
	list, _, err := in.svc.ListPublished(context.Background(), blog.ListOptions{Limit: 10})
	require.NoError(tb, err)
	var out []string
	for _, p := range list {
		out = append(out, p.Title)
	}
	return out
}

func (in *instance) publish(tb testing.TB, title string) blog.Post {
	tb.Helper()
	p, err := in.svc.CreatePost(as(editorUser), blog.Draft{Title: title, Content: "x", Published: true})
	require.NoError(tb, err)
	return p
}

// testInvalidation checks one instance, or two sharing a cache: a write
// through either shows at once on both.
func testInvalidation(t *testing.T, a, b *instance) {
	first := a.publish(t, "First")
	assert.Equal(t, []string{"First"}, a.titles(t))
	assert.Equal(t, []string{"First"}, b.titles(t))
	reads := a.db.lists.Load()
	assert.Equal(t, []string{"First"}, a.titles(t))
	assert.Equal(t, []string{"First"}, b.titles(t))
	assert.Equal(t, reads, a.db.lists.Load(), "served from the cache")

	// A change behind the cache's back is not seen: it is cached.
	hidden := blogtest.Published("Hidden", blogtest.T0)
	require.NoError(t, a.db.Store.CreatePost(t.Context(), &hidden))
	assert.Equal(t, []string{"First"}, b.titles(t))

	// A write through the service shows at once, on both instances.
	b.publish(t, "Second")
	assert.ElementsMatch(t, []string{"First", "Second", "Hidden"}, a.titles(t))
	assert.ElementsMatch(t, []string{"First", "Second", "Hidden"}, b.titles(t))

	// Posts by slug too.
	p, err := a.svc.PublishedPost(context.Background(), first.Slug)
	require.NoError(t, err)
	assert.Equal(t, "First", p.Title)
	_, err = b.svc.UpdatePost(as(editorUser), first.ID, blog.Draft{Title: "First, edited", Content: "x", Published: true})
	require.NoError(t, err)
	p, err = a.svc.PublishedPost(context.Background(), first.Slug)
	require.NoError(t, err)
	assert.Equal(t, "First, edited", p.Title)

	// Unpublishing and deleting hide the post at once.
	_, err = b.svc.SetPublished(as(editorUser), first.ID, false)
	require.NoError(t, err)
	_, err = a.svc.PublishedPost(context.Background(), first.Slug)
	assert.ErrorIs(t, err, blog.ErrNotFound)
	assert.NotContains(t, a.titles(t), "First, edited")
	require.NoError(t, b.svc.DeletePost(as(editorUser), hidden.ID))
	assert.Equal(t, []string{"Second"}, a.titles(t))
}

func TestCachedStoreMemory(t *testing.T) {
	db := &countingStore{Store: blogtest.NewMemStore()}
	in := newInstance(db, tagcachetest.Memory(t), "")
	testInvalidation(t, in, in)
}

func TestCachedStoreRedis(t *testing.T) {
	tagcachetest.SkipWithoutRedis(t)
	prefix := tagcachetest.Prefix()
	db := &countingStore{Store: blogtest.NewMemStore()}
	a := newInstance(db, tagcachetest.Redis(t, prefix), prefix)
	b := newInstance(db, tagcachetest.Redis(t, prefix), prefix)
	testInvalidation(t, a, b)
}

func TestCachedStoreConformance(t *testing.T) {
	// A cached store is a Store: it passes the suite (writes invalidate).
	blogtest.TestStore(t, func(t *testing.T) blog.Store {
		return blog.NewCachedStore(blogtest.NewMemStore(), tagcachetest.Memory(t), blog.CacheOptions{Logger: quiet})
	})
}

func TestCachedStoreDeadCache(t *testing.T) {
	db := &countingStore{Store: blogtest.NewMemStore()}
	in := newInstance(db, tagcachetest.DeadRedis(t), "")
	in.publish(t, "Still served")
	assert.Equal(t, []string{"Still served"}, in.titles(t), "a cache error is a miss, never a failed page")
	got, err := in.svc.RandomPublished(context.Background(), 3)
	require.NoError(t, err)
	assert.Len(t, got, 1)
	in.publish(t, "Writes work")
	assert.Len(t, in.titles(t), 2)
}

func TestRandomFromCachedCandidates(t *testing.T) {
	db := &countingStore{Store: blogtest.NewMemStore()}
	in := newInstance(db, tagcachetest.Memory(t), "")
	for i := range 12 {
		in.publish(t, fmt.Sprintf("Post %d", i))
	}
	before := db.lists.Load()
	draws := map[string]bool{}
	for range 30 {
		got, err := in.svc.RandomPublished(context.Background(), 3)
		require.NoError(t, err)
		require.Len(t, got, 3)
		draws[fmt.Sprint(ids(got))] = true
	}
	assert.Equal(t, before+1, db.lists.Load(), "the candidates are loaded once and cached")
	assert.Greater(t, len(draws), 5, "each request draws its own three")
}
