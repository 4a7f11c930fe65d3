// Package cacheurl opens the gocache cache a URL names: in memory
// (go_cache) or Redis. It is apart from tagcache so that the library
// packages using tagcache do not link the Redis client.
package cacheurl

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"strings"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/eko/gocache/lib/v4/store"
	gocachestore "github.com/eko/gocache/store/go_cache/v4"
	redisstore "github.com/eko/gocache/store/redis/v4"
	gocache "github.com/patrickmn/go-cache"
	"github.com/redis/go-redis/v9"
)

// ErrURL is wrapped by Open's errors about the URL itself.
var ErrURL = errors.New("cache URL")

// Redis connection defaults, applied when the URL does not set them: a
// cache that answers slowly is worth less than no cache.
const (
	redisDialTimeout = time.Second
	redisIOTimeout   = 500 * time.Millisecond
	redisPoolTimeout = time.Second
)

// Open returns the gocache cache named by url, and a function that
// releases it:
//
//   - "" or "memory": an in-process go_cache store (github.com/patrickmn/go-cache);
//   - "redis://[user:password@]host:port[/db][?options]" or "rediss://..."
//     (TLS): a Redis store (go-redis v9; options as redis.ParseURL reads
//     them, e.g. dial_timeout=1s&read_timeout=500ms).
//
// Anything else is an error wrapping ErrURL. Open does not reach the
// server: an unreachable Redis shows later as cache misses in the log.
func Open(url string) (cache.CacheInterface[any], func() error, error) {
	switch {
	case url == "" || url == "memory":
		return cache.New[any](gocachestore.NewGoCache(gocache.New(gocache.NoExpiration, time.Minute))), func() error { return nil }, nil
	case strings.HasPrefix(url, "redis://") || strings.HasPrefix(url, "rediss://"):
		opt, err := redis.ParseURL(url)
		if err != nil {
			// A *url.Error quotes the whole URL, password included: keep its reason.
			var ue *neturl.Error
			if errors.As(err, &ue) {
				err = ue.Err
			}
			return nil, nil, fmt.Errorf("%w %q: %s", ErrURL, redact(url), strings.TrimPrefix(err.Error(), "redis: "))
		}
		if opt.DialTimeout == 0 {
			opt.DialTimeout = redisDialTimeout
		}
		if opt.ReadTimeout == 0 {
			opt.ReadTimeout = redisIOTimeout
		}
		if opt.WriteTimeout == 0 {
			opt.WriteTimeout = redisIOTimeout
		}
		if opt.PoolTimeout == 0 {
			opt.PoolTimeout = redisPoolTimeout
		}
		if opt.MaxRetries == 0 {
			opt.MaxRetries = -1 // a missed cache read costs a query, a retry costs a timeout
		}
		opt.ContextTimeoutEnabled = true // honour the per-operation deadlines of Cache
		client := redis.NewClient(opt)
		return cache.New[any](redisstore.NewRedis(client)), client.Close, nil
	}
	return nil, nil, fmt.Errorf("%w %q: want \"memory\" (or empty) or redis://host:port/db", ErrURL, redact(url))
}

// Ping checks that the cache named by c answers, within timeout: a key
// that does not exist must read as not found.
func Ping(ctx context.Context, c cache.CacheInterface[any], timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := c.Get(ctx, "tagcache:ping")
	var nf *store.NotFound
	if err == nil || errors.As(err, &nf) {
		return nil
	}
	return err
}

// redact hides a password in a URL of the form scheme://user:pass@host.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	user, _, hasPass := strings.Cut(rest[:at], ":")
	if !hasPass {
		return u
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
