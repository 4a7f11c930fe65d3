package blog

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/eko/gocache/lib/v4/cache"

	"github.com/skychimp/skychimp/internal/tagcache"
)

// DefaultCacheTTL is how long CachedStore keeps a public read. Writes
// through the store drop the blog's entries at once (on every instance
// when the cache is shared, Redis); this TTL bounds how long an instance
// with its own in-memory cache shows a post another instance changed.
const DefaultCacheTTL = 5 * time.Second

// CacheTag is the tag of every entry CachedStore makes.
const CacheTag = "blog"

// CacheOptions configure a CachedStore. Zero fields take defaults.
type CacheOptions struct {
	TTL     time.Duration // DefaultCacheTTL
	Prefix  string        // before every key and tag, e.g. "skychimp:"
	Timeout time.Duration // per cache operation (tagcache.DefaultTimeout)
	Logger  *slog.Logger
}

// CachedStore is a Store whose public reads come from a cache: the lists
// of published posts (ListPosts with Published set: the list pages and the
// candidates of RandomPublished) and GetPostBySlug. Editors' reads
// (GetPost, ListPosts of every post) always reach the store.
//
// Every write through it (CreatePost, UpdatePost, DeletePost, and the
// batched AddViews of the view counter) drops all of the blog's entries
// once it is done, so a shown view count never goes back after a flush. A
// cache that fails or is slow is read as a miss, and the store answers.
type CachedStore struct {
	Store
	c   *tagcache.Cache
	ttl time.Duration
}

// NewCachedStore returns s with its public reads cached in c, any gocache
// cache (in-memory or Redis; values are marshalled). c is never cleared.
func NewCachedStore(s Store, c cache.CacheInterface[any], o CacheOptions) *CachedStore {
	if o.TTL <= 0 {
		o.TTL = DefaultCacheTTL
	}
	return &CachedStore{
		Store: s,
		c:     tagcache.New(c, tagcache.Options{Prefix: o.Prefix, Timeout: o.Timeout, Logger: o.Logger}),
		ttl:   o.TTL,
	}
}

var tags = []string{CacheTag}

type postPage struct {
	Items []Summary
	Total int
}

// ListPosts serves lists of published posts from the cache.
func (s *CachedStore) ListPosts(ctx context.Context, f PostFilter) ([]Summary, int, error) {
	if !f.Published {
		return s.Store.ListPosts(ctx, f)
	}
	key := fmt.Sprintf("blog:published:%d:%d", f.Limit, f.Offset)
	p, err := tagcache.Fetch(ctx, s.c, key, tags, func(ctx context.Context) (postPage, time.Duration, error) {
		items, total, err := s.Store.ListPosts(ctx, f)
		return postPage{items, total}, s.ttl, err
	})
	return p.Items, p.Total, err
}

// GetPostBySlug serves posts by slug from the cache.
func (s *CachedStore) GetPostBySlug(ctx context.Context, slug string) (Post, error) {
	if len(slug) > 4*MaxSlugLen+16 { // no valid slug is this long: keep such keys out
		return s.Store.GetPostBySlug(ctx, slug)
	}
	return tagcache.Fetch(ctx, s.c, "blog:slug:"+slug, tags, func(ctx context.Context) (Post, time.Duration, error) {
		p, err := s.Store.GetPostBySlug(ctx, slug)
		return p, s.ttl, err
	})
}

// CreatePost stores p and drops the cached reads.
func (s *CachedStore) CreatePost(ctx context.Context, p *Post) error {
	err := s.Store.CreatePost(ctx, p)
	if err == nil {
		s.Invalidate(ctx)
	}
	return err
}

// UpdatePost saves p and drops the cached reads.
func (s *CachedStore) UpdatePost(ctx context.Context, p Post) error {
	err := s.Store.UpdatePost(ctx, p)
	s.Invalidate(ctx) // also after an error: the write may have happened
	return err
}

// DeletePost removes a post and drops the cached reads.
func (s *CachedStore) DeletePost(ctx context.Context, id int64) error {
	err := s.Store.DeletePost(ctx, id)
	s.Invalidate(ctx)
	return err
}

// AddViews writes a batch of view counts and drops the cached reads, whose
// counts are now behind (the counter no longer adds those views itself).
func (s *CachedStore) AddViews(ctx context.Context, views map[int64]int64) error {
	err := s.Store.AddViews(ctx, views)
	if err == nil {
		s.Invalidate(ctx)
	}
	return err
}

// Invalidate drops every cached blog read, here and (with a shared cache)
// on every instance. Errors are logged, never returned: a cache cannot
// fail a write.
func (s *CachedStore) Invalidate(ctx context.Context) {
	_ = s.c.Invalidate(context.WithoutCancel(ctx), CacheTag)
}
