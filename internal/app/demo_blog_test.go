package app_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/internal/app"
)

func TestSeedDemoBlog(t *testing.T) {
	ctx := context.Background()
	a := openApp(t)
	_, err := a.SeedDemo(ctx, "demo-password-123")
	require.NoError(t, err)
	media := filepath.Join(t.TempDir(), "media")
	c, err := a.OpenContent(ctx, app.ContentConfig{ImagesDir: media, ViewFlushEvery: time.Hour})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })

	t.Run("UnknownAuthor", func(t *testing.T) {
		err := a.SeedDemoBlog(ctx, c, "nobody@demo.local")
		require.ErrorIs(t, err, accounts.ErrNotFound)
	})

	t.Run("AuthorMustEdit", func(t *testing.T) {
		err := a.SeedDemoBlog(ctx, c, "alice@demo.local")
		require.ErrorIs(t, err, blog.ErrForbidden)
		_, n, err := c.BlogStore.ListPosts(ctx, blog.PostFilter{})
		require.NoError(t, err)
		assert.Zero(t, n, "nothing written")
	})

	require.NoError(t, a.SeedDemoBlog(ctx, c, "content@demo.local"))

	published, total, err := c.Blog.ListPublished(ctx, blog.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, 5, total)
	author, err := a.AccountsStore.GetUserByEmail(ctx, "content@demo.local")
	require.NoError(t, err)
	all, n, err := c.BlogStore.ListPosts(ctx, blog.PostFilter{})
	require.NoError(t, err)
	assert.Equal(t, 6, n, "five published posts and a draft")
	drafts := 0
	for _, p := range all {
		assert.Equal(t, author.ID, p.AuthorID, p.Title)
		if !p.Published {
			drafts++
			assert.Contains(t, p.Title, "Coming soon")
		}
		// Every image went through blog.Images: a name it gives, a file
		// that is there and passes its checks again.
		require.True(t, blog.ValidImageName(p.ImagePath), p.Title)
		data, err := os.ReadFile(filepath.Join(media, p.ImagePath))
		require.NoError(t, err, p.Title)
		im, err := blog.NewImages(t.TempDir(), blog.ImageOptions{})
		require.NoError(t, err)
		img, err := im.CheckBytes(data)
		require.NoError(t, err, p.Title)
		assert.Equal(t, 960, img.Width, p.Title)
		assert.Equal(t, 540, img.Height, p.Title)
		assert.Less(t, img.Size, int64(200<<10), "%s: a small image", p.Title)
		assert.Equal(t, p.ImageType, img.Type, p.Title)
	}
	assert.Equal(t, 1, drafts)
	for i := 1; i < len(published); i++ {
		assert.True(t, published[i-1].PublishedAt.After(published[i].PublishedAt), "distinct dates, newest first")
	}
	assert.WithinDuration(t, time.Now(), published[0].PublishedAt, 2*24*time.Hour)
	assert.Equal(t, "Keeping your list clean: unsubscribes done right", published[0].Title)

	t.Run("SecondRunChangesNothing", func(t *testing.T) {
		require.NoError(t, a.SeedDemoBlog(ctx, c, "content@demo.local"))
		_, n, err := c.BlogStore.ListPosts(ctx, blog.PostFilter{})
		require.NoError(t, err)
		assert.Equal(t, 6, n)
	})
}
