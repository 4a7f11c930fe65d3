// Package tagcachetest gives tests gocache caches: an in-memory one, one
// on the Redis server named by SKYCHIMP_TEST_REDIS (with a unique key
// prefix per test, whose keys are deleted after it: the server is never
// flushed), and one on a Redis that is not there.
package tagcachetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/tagcache/cacheurl"
)

// RedisEnv names the environment variable holding the URL of a Redis
// server for tests, e.g. "redis://127.0.0.1:6379/15".
const RedisEnv = "SKYCHIMP_TEST_REDIS"

// Memory returns a fresh in-memory cache.
func Memory(tb testing.TB) cache.CacheInterface[any] {
	tb.Helper()
	c, closeFn, err := cacheurl.Open("")
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = closeFn() })
	return c
}

// SkipWithoutRedis skips the test when SKYCHIMP_TEST_REDIS is unset.
func SkipWithoutRedis(tb testing.TB) {
	tb.Helper()
	if os.Getenv(RedisEnv) == "" {
		tb.Skip(RedisEnv + " is unset, so there is no Redis server to test against: set it to a URL such as redis://127.0.0.1:6379/15")
	}
}

// Prefix returns a key prefix unique to this call.
func Prefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "skychimp-test-" + hex.EncodeToString(b[:]) + ":"
}

// Redis returns a cache on the SKYCHIMP_TEST_REDIS server. Every key
// holding prefix (give the same prefix to the code under test) is deleted
// after the test. It skips the test when the variable is unset.
// Call it once per "instance" to get separate clients on one server.
func Redis(tb testing.TB, prefix string) cache.CacheInterface[any] {
	tb.Helper()
	SkipWithoutRedis(tb)
	url := os.Getenv(RedisEnv)
	c, closeFn, err := cacheurl.Open(url)
	require.NoError(tb, err, RedisEnv)
	tb.Cleanup(func() { _ = closeFn() })
	require.NoError(tb, cacheurl.Ping(context.Background(), c, 2*time.Second), "Redis at "+RedisEnv)
	opt, err := redis.ParseURL(url)
	require.NoError(tb, err)
	tb.Cleanup(func() {
		client := redis.NewClient(opt)
		defer client.Close()
		ctx := context.Background()
		iter := client.Scan(ctx, 0, "*"+prefix+"*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("clean up Redis keys %s*: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := client.Del(ctx, keys...).Err(); err != nil {
				tb.Errorf("clean up Redis keys %s*: %v", prefix, err)
			}
		}
	})
	return c
}

// DeadRedis returns a Redis cache on a loopback port where nothing
// listens: every operation fails at once.
func DeadRedis(tb testing.TB) cache.CacheInterface[any] {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := l.Addr().String()
	require.NoError(tb, l.Close())
	c, closeFn, err := cacheurl.Open("redis://" + addr + "/0?dial_timeout=200ms")
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = closeFn() })
	return c
}
