package app_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/internal/app"
	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
	"github.com/skychimp/skychimp/mailing"
)

func openApp(t *testing.T) *app.App {
	t.Helper()
	dir := t.TempDir()
	a, err := app.Open(context.Background(), app.Config{
		DB: "sqlite:" + filepath.Join(dir, "test.db"), Outbox: filepath.Join(dir, "outbox"),
		Secret: "0123456789abcdef0123", From: "noreply@example.com",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	t.Cleanup(func() { a.Close() })
	return a
}

func TestOpenContent(t *testing.T) {
	a := openApp(t)
	c, err := a.OpenContent(context.Background(), app.ContentConfig{ImagesDir: filepath.Join(t.TempDir(), "media"), ViewFlushEvery: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, "in-memory cache", c.CacheName)

	editor := accounts.WithUser(context.Background(), accounts.User{ID: 1, Role: accounts.RoleContentManager})
	p, err := c.Blog.CreatePost(editor, blog.Draft{Title: "Hello", Content: "World", Published: true})
	require.NoError(t, err)
	for range 3 {
		_, err = c.Blog.ViewPost(context.Background(), p.Slug)
		require.NoError(t, err)
	}
	home, err := c.Stats.Home(context.Background())
	require.NoError(t, err)
	assert.Zero(t, home.Mailings)

	// A mailing created through the app's service shows on the home page at
	// once when the host forwards its change hook.
	a.MailingChanged = c.MailingChanged
	user := accounts.WithUser(context.Background(), accounts.User{ID: 2, Role: accounts.RoleUser})
	msg, err := a.Mailings.CreateMessage(user, mailing.Message{Subject: "Hi", Body: "Hello"})
	require.NoError(t, err)
	cl, err := a.Mailings.CreateClient(user, mailing.Client{Email: "ann@example.com", Name: "Ann"})
	require.NoError(t, err)
	_, err = a.Mailings.CreateMailing(user, mailing.Mailing{MessageID: msg.ID, ClientIDs: []int64{cl.ID},
		Start: time.Now().Add(time.Hour), End: time.Now().Add(48 * time.Hour), Period: mailing.Daily})
	require.NoError(t, err)
	home, err = c.Stats.Home(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, home.Mailings)
	assert.Equal(t, 1, home.UniqueClients)

	require.NoError(t, c.Close(), "the last flush writes the views")
	stored, err := c.BlogStore.GetPost(context.Background(), p.ID)
	require.NoError(t, err)
	assert.EqualValues(t, 3, stored.Views)
	assert.NoError(t, c.Close(), "a second Close does nothing")
}

func TestNewCache(t *testing.T) {
	_, closeFn, name, err := app.NewCache("")
	require.NoError(t, err)
	assert.Equal(t, "in-memory cache", name)
	assert.NoError(t, closeFn())

	_, closeFn, name, err = app.NewCache("redis://:secret@127.0.0.1:6390/3")
	require.NoError(t, err)
	assert.Equal(t, "Redis cache at 127.0.0.1:6390 (db 3)", name)
	assert.NoError(t, closeFn())

	_, _, _, err = app.NewCache("memcache://127.0.0.1")
	require.ErrorIs(t, err, app.ErrConfig)
	assert.EqualError(t, err, `configuration: SKYCHIMP_CACHE: cache URL "memcache://127.0.0.1": want "memory" (or empty) or redis://host:port/db`)
}

func TestCheckCache(t *testing.T) {
	c, closeFn, _, err := app.NewCache("")
	require.NoError(t, err)
	defer closeFn()
	assert.NoError(t, app.CheckCache(context.Background(), c))
	assert.ErrorContains(t, app.CheckCache(context.Background(), tagcachetest.DeadRedis(t)), "the cache does not answer")
}
