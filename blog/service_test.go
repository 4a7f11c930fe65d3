package blog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/blog/blogtest"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

var (
	editorUser = accounts.User{ID: 10, Role: accounts.RoleContentManager}
	superUser  = accounts.User{ID: 11, Role: accounts.RoleSuperuser}
	plainUser  = accounts.User{ID: 12, Role: accounts.RoleUser}
	manager    = accounts.User{ID: 13, Role: accounts.RoleManager}
	blocked    = accounts.User{ID: 14, Role: accounts.RoleContentManager, Blocked: true}
)

func as(u accounts.User) context.Context { return accounts.WithUser(context.Background(), u) }

type fixture struct {
	store   *blogtest.MemStore
	svc     *blog.Service
	clock   *mailingtest.FakeClock
	views   *blog.ViewCounter
	dir     string
	changed []int64
}

func newFixture(t *testing.T, opts ...blog.Option) *fixture {
	t.Helper()
	f := &fixture{store: blogtest.NewMemStore(), clock: mailingtest.NewFakeClock(blogtest.T0)}
	im, dir := newImages(t, blog.ImageOptions{})
	f.dir = dir
	f.views = blog.NewViewCounter(f.store, quiet)
	opts = append([]blog.Option{
		blog.WithImages(im), blog.WithViewCounter(f.views), blog.WithLogger(quiet),
		blog.WithChangeHook(func(_ context.Context, id int64) { f.changed = append(f.changed, id) }),
	}, opts...)
	f.svc = blog.NewService(f.store, f.clock, opts...)
	return f
}

func (f *fixture) create(tb testing.TB, title string, published bool) blog.Post {
	tb.Helper()
	p, err := f.svc.CreatePost(as(editorUser), blog.Draft{Title: title, Content: "About " + title, Published: published})
	require.NoError(tb, err)
	return p
}

func TestPolicy(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "Existing", true)
	calls := map[string]func(ctx context.Context) error{
		"CreatePost": func(ctx context.Context) error {
			_, err := f.svc.CreatePost(ctx, blog.Draft{Title: "x", Content: "y"})
			return err
		},
		"UpdatePost": func(ctx context.Context) error {
			_, err := f.svc.UpdatePost(ctx, p.ID, blog.Draft{Title: "x", Content: "y"})
			return err
		},
		"SetPublished": func(ctx context.Context) error { _, err := f.svc.SetPublished(ctx, p.ID, false); return err },
		"SetImage": func(ctx context.Context) error {
			_, err := f.svc.SetImage(ctx, p.ID, bytes.NewReader(pngBytes(t, 2, 2)))
			return err
		},
		"RemoveImage": func(ctx context.Context) error { _, err := f.svc.RemoveImage(ctx, p.ID); return err },
		"DeletePost":  func(ctx context.Context) error { return f.svc.DeletePost(ctx, p.ID) },
		"GetPost":     func(ctx context.Context) error { _, err := f.svc.GetPost(ctx, p.ID); return err },
		"ListPosts":   func(ctx context.Context) error { _, _, err := f.svc.ListPosts(ctx, blog.ListOptions{}); return err },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, call(context.Background()), accounts.ErrUnauthenticated, "anonymous")
			assert.ErrorIs(t, call(as(blocked)), accounts.ErrUnauthenticated, "blocked")
			assert.ErrorIs(t, call(as(plainUser)), blog.ErrForbidden, "user")
			assert.ErrorIs(t, call(as(manager)), blog.ErrForbidden, "manager")
		})
	}
	assert.Len(t, f.changed, 1, "no refused call changed anything")
	assert.Empty(t, files(t, f.dir), "no refused call stored an image")
	for name, call := range calls {
		if name != "DeletePost" {
			assert.NoError(t, call(as(superUser)), "a superuser may %s", name)
		}
	}
	assert.NoError(t, calls["DeletePost"](as(editorUser)))
}

func TestCreatePost(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		f := newFixture(t)
		p, err := f.svc.CreatePost(as(editorUser), blog.Draft{Title: "  Hello, World!  ", Content: "Line one\r\nline two\n\n"})
		require.NoError(t, err)
		assert.Equal(t, blog.Post{
			ID: p.ID, AuthorID: editorUser.ID, Title: "Hello, World!", Slug: "hello-world",
			Content: "Line one\nline two", CreatedAt: blogtest.T0, UpdatedAt: blogtest.T0,
		}, p)
		stored, err := f.store.GetPost(t.Context(), p.ID)
		require.NoError(t, err)
		assert.Equal(t, p, stored)
		assert.Equal(t, []int64{p.ID}, f.changed)
	})
	t.Run("SlugsStayUnique", func(t *testing.T) {
		f := newFixture(t)
		assert.Equal(t, "news", f.create(t, "News", false).Slug)
		assert.Equal(t, "news-2", f.create(t, "news!", false).Slug)
		assert.Equal(t, "news-3", f.create(t, "NEWS", false).Slug)
		assert.Equal(t, "новости-недели", f.create(t, "Новости недели", false).Slug)
		assert.Equal(t, "post", f.create(t, "!!!", false).Slug)
	})
	t.Run("Published", func(t *testing.T) {
		f := newFixture(t)
		p := f.create(t, "Out now", true)
		assert.True(t, p.Published)
		assert.Equal(t, blogtest.T0, p.PublishedAt)
		back := blogtest.T0.Add(-48 * time.Hour)
		q, err := f.svc.CreatePost(as(editorUser), blog.Draft{Title: "Old news", Content: "x", Published: true, PublishedAt: back})
		require.NoError(t, err)
		assert.Equal(t, back, q.PublishedAt, "an editor may give an earlier date")
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		f := newFixture(t)
		_, err := f.svc.CreatePost(as(editorUser), blog.Draft{Title: " ", Content: "\n", PublishedAt: blogtest.T0.Add(time.Hour)})
		require.ErrorIs(t, err, blog.ErrInvalid)
		var ve *blog.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "is required", ve.Field("title"))
		assert.Equal(t, "is required", ve.Field("content"))
		assert.Equal(t, "must not be in the future", ve.Field("published_at"))
		_, err = f.svc.CreatePost(as(editorUser), blog.Draft{Title: strings.Repeat("я", blog.MaxTitleLen+1), Content: "x\x00y"})
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "must be at most 200 characters", ve.Field("title"))
		assert.Equal(t, "must not contain NUL characters", ve.Field("content"))
		_, err = f.svc.CreatePost(as(editorUser), blog.Draft{Title: "a\nb", Content: "\xff"})
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "must be a single line", ve.Field("title"))
		assert.Equal(t, "is not valid UTF-8 text", ve.Field("content"))
		list, _, err := f.store.ListPosts(t.Context(), blog.PostFilter{})
		require.NoError(t, err)
		assert.Empty(t, list)
	})
}

func TestUpdatePost(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "Draft title", false)
	taken := f.create(t, "Taken", false)
	f.clock.Advance(time.Hour)

	p, err := f.svc.UpdatePost(as(editorUser), p.ID, blog.Draft{Title: "Better title", Content: "New"})
	require.NoError(t, err)
	assert.Equal(t, "better-title", p.Slug, "a draft's slug follows its title")
	assert.Equal(t, blogtest.T0.Add(time.Hour), p.UpdatedAt)
	assert.Equal(t, blogtest.T0, p.CreatedAt)

	p, err = f.svc.UpdatePost(as(editorUser), p.ID, blog.Draft{Title: "Taken", Content: "New"})
	require.NoError(t, err)
	assert.Equal(t, "taken-2", p.Slug, "a taken slug gets a suffix")
	assert.NotEqual(t, taken.ID, p.ID)

	p, err = f.svc.UpdatePost(as(editorUser), p.ID, blog.Draft{Title: "Launch", Content: "New", Published: true})
	require.NoError(t, err)
	assert.Equal(t, "launch", p.Slug)
	assert.Equal(t, blogtest.T0.Add(time.Hour), p.PublishedAt)

	f.clock.Advance(time.Hour)
	p, err = f.svc.UpdatePost(as(editorUser), p.ID, blog.Draft{Title: "Launch, renamed", Content: "Newer", Published: true})
	require.NoError(t, err)
	assert.Equal(t, "launch", p.Slug, "a published post keeps its address")
	assert.Equal(t, blogtest.T0.Add(time.Hour), p.PublishedAt, "and its publication date")

	_, err = f.svc.UpdatePost(as(editorUser), 404, blog.Draft{Title: "x", Content: "y"})
	assert.ErrorIs(t, err, blog.ErrNotFound)
	_, err = f.svc.UpdatePost(as(editorUser), p.ID, blog.Draft{})
	assert.ErrorIs(t, err, blog.ErrInvalid)
}

func TestSetPublished(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "Soon", false)
	_, err := f.svc.PublishedPost(context.Background(), p.Slug)
	require.ErrorIs(t, err, blog.ErrNotFound, "a draft is not public")

	f.clock.Advance(time.Minute)
	p, err = f.svc.SetPublished(as(editorUser), p.ID, true)
	require.NoError(t, err)
	assert.Equal(t, blogtest.T0.Add(time.Minute), p.PublishedAt)
	got, err := f.svc.PublishedPost(context.Background(), p.Slug)
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ID)

	f.clock.Advance(time.Minute)
	p, err = f.svc.SetPublished(as(editorUser), p.ID, false)
	require.NoError(t, err)
	_, err = f.svc.PublishedPost(context.Background(), p.Slug)
	assert.ErrorIs(t, err, blog.ErrNotFound)
	p, err = f.svc.SetPublished(as(editorUser), p.ID, true)
	require.NoError(t, err)
	assert.Equal(t, blogtest.T0.Add(time.Minute), p.PublishedAt, "the first publication date is kept")
	_, err = f.svc.SetPublished(as(editorUser), 404, true)
	assert.ErrorIs(t, err, blog.ErrNotFound)
}

func TestPublicReads(t *testing.T) {
	f := newFixture(t, blog.WithRand(func(n int) int { return n - 1 }))
	var published []blog.Post
	for _, title := range []string{"One", "Two", "Three", "Four"} {
		published = append(published, f.create(t, title, true))
		f.clock.Advance(time.Minute)
	}
	draft := f.create(t, "Draft", false)

	t.Run("PublishedPost", func(t *testing.T) {
		p, err := f.svc.PublishedPost(context.Background(), " TWO ")
		require.NoError(t, err, "slugs match case-insensitively")
		assert.Equal(t, published[1].ID, p.ID)
		_, err = f.svc.PublishedPost(context.Background(), draft.Slug)
		assert.ErrorIs(t, err, blog.ErrNotFound)
		_, err = f.svc.PublishedPost(context.Background(), "")
		assert.ErrorIs(t, err, blog.ErrNotFound)
	})
	t.Run("ListPublished", func(t *testing.T) {
		list, n, err := f.svc.ListPublished(context.Background(), blog.ListOptions{Limit: 3})
		require.NoError(t, err)
		assert.Equal(t, 4, n)
		assert.Equal(t, []int64{published[3].ID, published[2].ID, published[1].ID}, ids(list))
	})
	t.Run("RandomPublished", func(t *testing.T) {
		got, err := f.svc.RandomPublished(context.Background(), 3)
		require.NoError(t, err)
		require.Len(t, got, 3)
		seen := map[int64]bool{}
		for _, p := range got {
			assert.NotEqual(t, draft.ID, p.ID, "drafts are never drawn")
			assert.False(t, seen[p.ID], "no post twice")
			seen[p.ID] = true
		}
		all, err := f.svc.RandomPublished(context.Background(), 10)
		require.NoError(t, err)
		assert.Len(t, all, 4, "at most the published posts")
		none, err := f.svc.RandomPublished(context.Background(), 0)
		require.NoError(t, err)
		assert.Empty(t, none)
	})
	t.Run("RandomPerCall", func(t *testing.T) {
		g := newFixture(t) // the default random source
		for i := range 10 {
			g.create(t, "Post "+string(rune('A'+i)), true)
		}
		sets := map[string]bool{}
		for range 20 {
			got, err := g.svc.RandomPublished(context.Background(), 3)
			require.NoError(t, err)
			sets[fmt.Sprint(ids(got))] = true
		}
		assert.Greater(t, len(sets), 1, "each call draws anew")
	})
}

func ids(list []blog.Summary) []int64 {
	var out []int64
	for _, p := range list {
		out = append(out, p.ID)
	}
	return out
}

func TestViewPost(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "Popular", true)
	for i := range 5 {
		got, err := f.svc.ViewPost(context.Background(), p.Slug)
		require.NoError(t, err)
		assert.EqualValues(t, i+1, got.Views, "a view counts at once for the reader")
	}
	assert.EqualValues(t, 0, views(t, f.store, p.ID), "no write per view")
	list, _, err := f.svc.ListPublished(context.Background(), blog.ListOptions{})
	require.NoError(t, err)
	assert.EqualValues(t, 5, list[0].Views, "lists show pending views")
	require.NoError(t, f.views.Flush(t.Context()))
	assert.EqualValues(t, 5, views(t, f.store, p.ID))
	got, err := f.svc.PublishedPost(context.Background(), p.Slug)
	require.NoError(t, err)
	assert.EqualValues(t, 5, got.Views, "PublishedPost does not count")

	draft := f.create(t, "Hidden", false)
	_, err = f.svc.ViewPost(context.Background(), draft.Slug)
	assert.ErrorIs(t, err, blog.ErrNotFound)
	assert.Zero(t, f.views.Pending(draft.ID), "a draft's view is not counted")
}

func TestSetImage(t *testing.T) {
	f := newFixture(t)
	p := f.create(t, "Illustrated", true)
	p, err := f.svc.SetImage(as(editorUser), p.ID, bytes.NewReader(pngBytes(t, 10, 10)))
	require.NoError(t, err)
	assert.True(t, blog.ValidImageName(p.ImagePath))
	assert.Equal(t, "image/png", p.ImageType)
	assert.FileExists(t, filepath.Join(f.dir, p.ImagePath))
	first := p.ImagePath

	p, err = f.svc.SetImage(as(editorUser), p.ID, bytes.NewReader(jpegBytes(t, 10, 10)))
	require.NoError(t, err)
	assert.Equal(t, "image/jpeg", p.ImageType)
	assert.NoFileExists(t, filepath.Join(f.dir, first), "the replaced image is removed")
	assert.Equal(t, []string{p.ImagePath}, files(t, f.dir))

	t.Run("ErrInvalid", func(t *testing.T) {
		_, err := f.svc.SetImage(as(editorUser), p.ID, strings.NewReader("<svg onload=alert(1)>"))
		var ve *blog.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Contains(t, ve.Field("image"), "is not a PNG, JPEG, GIF or WebP image")
		assert.Equal(t, []string{p.ImagePath}, files(t, f.dir), "nothing new on disk, the old image kept")
		got, err := f.store.GetPost(t.Context(), p.ID)
		require.NoError(t, err)
		assert.Equal(t, p.ImagePath, got.ImagePath)
	})
	t.Run("StoreFails", func(t *testing.T) {
		failing := failingUpdates{MemStore: f.store}
		svc := blog.NewService(failing, f.clock, blog.WithImages(mustImages(t, f.dir)), blog.WithLogger(quiet))
		_, err := svc.SetImage(as(editorUser), p.ID, bytes.NewReader(pngBytes(t, 3, 3)))
		require.Error(t, err)
		assert.Equal(t, []string{p.ImagePath}, files(t, f.dir), "the new file is removed again")
	})
	t.Run("Remove", func(t *testing.T) {
		p, err := f.svc.RemoveImage(as(editorUser), p.ID)
		require.NoError(t, err)
		assert.Empty(t, p.ImagePath)
		assert.Empty(t, files(t, f.dir))
	})
	t.Run("DeletePostRemovesImage", func(t *testing.T) {
		q := f.create(t, "Gone", true)
		q, err := f.svc.SetImage(as(editorUser), q.ID, bytes.NewReader(gifBytes(t, 4, 4)))
		require.NoError(t, err)
		require.NoError(t, f.svc.DeletePost(as(editorUser), q.ID))
		assert.Empty(t, files(t, f.dir))
		_, err = f.svc.GetPost(as(editorUser), q.ID)
		assert.ErrorIs(t, err, blog.ErrNotFound)
	})
	t.Run("NoImageStore", func(t *testing.T) {
		svc := blog.NewService(f.store, f.clock)
		_, err := svc.SetImage(as(editorUser), p.ID, bytes.NewReader(pngBytes(t, 3, 3)))
		assert.ErrorContains(t, err, "no image store")
	})
}

type failingUpdates struct{ *blogtest.MemStore }

func (failingUpdates) UpdatePost(context.Context, blog.Post) error { return errors.New("disk full") }

func mustImages(tb testing.TB, dir string) *blog.Images {
	tb.Helper()
	im, err := blog.NewImages(dir, blog.ImageOptions{})
	require.NoError(tb, err)
	return im
}

func TestHTML(t *testing.T) {
	got := blog.HTML("Hello <b>world</b> & \"friends\"\nsecond line\r\n\r\nSee https://example.com/a?b=1&c=<2>. Or http://x.test/\"onmouseover=alert(1)\n\n\n")
	assert.Equal(t, "<p>Hello &lt;b&gt;world&lt;/b&gt; &amp; &#34;friends&#34;<br>\nsecond line</p>\n"+
		`<p>See <a href="https://example.com/a?b=1&amp;c=" rel="nofollow noopener noreferrer">https://example.com/a?b=1&amp;c=</a>&lt;2&gt;. `+
		`Or <a href="http://x.test/" rel="nofollow noopener noreferrer">http://x.test/</a>&#34;onmouseover=alert(1)</p>`+"\n", string(got))
	assert.Equal(t, "", string(blog.HTML("  \n\n ")))
	assert.NotContains(t, string(blog.HTML("javascript:alert(1)")), "<a", "only http(s) links")
}

func TestExcerpt(t *testing.T) {
	assert.Equal(t, "short text", blog.Excerpt(" short\n\ttext "))
	long := strings.Repeat("word ", 200)
	e := blog.Excerpt(long)
	assert.True(t, strings.HasSuffix(e, "…"))
	assert.LessOrEqual(t, len([]rune(e)), blog.ExcerptLen+1)
	assert.False(t, strings.Contains(e, "wor…"), "cut at a word boundary")
	assert.Equal(t, e, blog.Excerpt(string([]rune(long)[:blog.ExcerptSource])), "the first ExcerptSource characters are enough")
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Hello, World!":           "hello-world",
		"  --Go 1.26 released--":  "go-1-26-released",
		"Ёлка и ЕЛЬ":              "ёлка-и-ель",
		"日本語のタイトル":                "日本語のタイトル",
		"":                        "post",
		strings.Repeat("ab ", 60): strings.TrimSuffix(strings.Repeat("ab-", 27), "-"),
	} {
		assert.Equal(t, want, blog.Slugify(in), in)
	}
}
