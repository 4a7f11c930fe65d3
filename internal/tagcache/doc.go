// Package tagcache is the caching shared by the blog and stats decorators:
// values marshalled into any gocache cache (in-memory go_cache or Redis)
// under prefixed keys with tags, invalidation by tag, and every cache
// error read as a miss, so that a cache can slow a page down by at most a
// short timeout and never fail it.
//
//	c := tagcache.New(gocacheCache, tagcache.Options{Prefix: "skychimp:"})
//	v, err := tagcache.Fetch(ctx, c, "home", []string{"mailings"}, func(ctx context.Context) (Figures, time.Duration, error) {
//		f, err := store.Figures(ctx)
//		return f, 5 * time.Second, err
//	})
//	...
//	c.Invalidate(ctx, "mailings") // after a write
package tagcache
