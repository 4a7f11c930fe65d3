package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/redis/go-redis/v9"

	"github.com/skychimp/skychimp/internal/tagcache/cacheurl"
)

// NewCache returns the cache configured by url (SKYCHIMP_CACHE), the
// function that releases it, and a description for logs:
//
//   - "" or "memory": in memory, in this process (the default);
//   - "redis://[user:password@]host:port[/db][?options]", or "rediss://"
//     for TLS: a Redis server shared by every instance.
//
// Anything else is an error wrapping ErrConfig. The server is not
// contacted: see CheckCache.
func NewCache(url string) (c cache.CacheInterface[any], closer func() error, name string, err error) {
	c, closer, err = cacheurl.Open(url)
	if err != nil {
		return nil, nil, "", fmt.Errorf("%w: SKYCHIMP_CACHE: %w", ErrConfig, err)
	}
	name = "in-memory cache"
	if strings.HasPrefix(url, "redis") {
		opt, _ := redis.ParseURL(url) // parsed once already by Open
		name = fmt.Sprintf("Redis cache at %s (db %d)", opt.Addr, opt.DB)
	}
	return c, closer, name, nil
}

// CheckCache reports whether the cache answers within a second. A cache
// that does not is not fatal (every read is then a miss, served from the
// database), but worth a warning at start-up.
func CheckCache(ctx context.Context, c cache.CacheInterface[any]) error {
	if err := cacheurl.Ping(ctx, c, time.Second); err != nil {
		return errors.New("the cache does not answer: pages are served from the database until it does: " + err.Error())
	}
	return nil
}
