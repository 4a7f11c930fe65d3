package blog_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/blog/blogtest"
	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
)

// A flush of the view counter must not make a cached post show fewer views.
func TestCachedStoreViewsNeverGoBack(t *testing.T) {
	ctx := context.Background()
	mem := blogtest.NewMemStore()
	cached := blog.NewCachedStore(mem, tagcachetest.Memory(t), blog.CacheOptions{})
	p := blog.Post{Title: "Counted", Content: "Text", Published: true, PublishedAt: blogtest.T0}
	require.NoError(t, cached.CreatePost(ctx, &p))
	first, err := cached.GetPostBySlug(ctx, p.Slug)
	require.NoError(t, err)
	require.Zero(t, first.Views)

	require.NoError(t, cached.AddViews(ctx, map[int64]int64{p.ID: 3}))
	after, err := cached.GetPostBySlug(ctx, p.Slug)
	require.NoError(t, err)
	assert.Equal(t, int64(3), after.Views, "the flushed views show at once")
}
