package cacheurl_test

import (
	"testing"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/tagcache/cacheurl"
)

func TestOpen(t *testing.T) {
	for _, url := range []string{"", "memory", "redis://127.0.0.1:6379/15", "rediss://u:p@example.com:6380/0", "redis://127.0.0.1:1/0?read_timeout=1s"} {
		c, closeFn, err := cacheurl.Open(url)
		require.NoError(t, err, url)
		assert.Implements(t, (*cache.CacheInterface[any])(nil), c)
		assert.NoError(t, closeFn())
	}
	for url, want := range map[string]string{
		"memcached://localhost":       `cache URL "memcached://localhost": want "memory" (or empty) or redis://host:port/db`,
		"redis://u:secret@host:1/abc": `cache URL "redis://u:xxxxx@host:1/abc": invalid database number: "abc"`,
		"Redis":                       `cache URL "Redis": want`,
	} {
		_, _, err := cacheurl.Open(url)
		require.ErrorIs(t, err, cacheurl.ErrURL, url)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), "secret")
	}
}
