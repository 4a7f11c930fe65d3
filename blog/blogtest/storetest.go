package blogtest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/blog"
)

// T0 is the fixed time TestStore stamps posts with: 2026-03-01 09:00 UTC.
var T0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// TestStore checks that a blog.Store keeps the contract documented on
// blog.Store. newStore must return a fresh, empty store with its schema in
// place (registering any cleanup with t.Cleanup); the suite calls it once
// per leaf subtest.
func TestStore(t *testing.T, newStore func(t *testing.T) blog.Store) {
	t.Helper()
	run := func(t *testing.T, name string, test func(t *testing.T, s blog.Store)) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			require.NotNil(t, s, "newStore returned nil")
			test(t, s)
		})
	}
	t.Run("Create", func(t *testing.T) {
		run(t, "OK", testCreate)
		run(t, "ErrConflictSlug", testCreateConflict)
		run(t, "UnicodeSlugExact", testUnicodeSlug)
	})
	t.Run("Get", func(t *testing.T) {
		run(t, "ErrNotFound", testGetNotFound)
	})
	t.Run("Update", func(t *testing.T) {
		run(t, "OK", testUpdate)
		run(t, "ErrNotFound", testUpdateNotFound)
		run(t, "ErrConflictSlug", testUpdateConflict)
	})
	t.Run("Delete", func(t *testing.T) {
		run(t, "OK", testDelete)
	})
	t.Run("List", func(t *testing.T) {
		run(t, "EveryPostNewestIDFirst", testListAll)
		run(t, "PublishedNewestFirst", testListPublished)
		run(t, "Paging", testListPaging)
		run(t, "Excerpt", testListExcerpt)
		run(t, "Empty", testListEmpty)
	})
	t.Run("AddViews", func(t *testing.T) {
		run(t, "OK", testAddViews)
		run(t, "LargeBatch", testAddViewsLarge)
		run(t, "Concurrent", testAddViewsConcurrent)
	})
	t.Run("Context", func(t *testing.T) {
		run(t, "Cancelled", testContext)
	})
}

// Post returns a post ready to create: a draft by author 1 titled title,
// stamped T0, with slug Slugify(title).
func Post(title string) blog.Post {
	return blog.Post{
		AuthorID: 1, Title: title, Slug: blog.Slugify(title),
		Content:   "The content of " + title + ".\n\nA second paragraph.",
		CreatedAt: T0, UpdatedAt: T0,
	}
}

// Published returns Post(title) published at at.
func Published(title string, at time.Time) blog.Post {
	p := Post(title)
	p.Published, p.PublishedAt = true, at
	return p
}

func create(tb testing.TB, s blog.Store, p blog.Post) blog.Post {
	tb.Helper()
	require.NoError(tb, s.CreatePost(tb.Context(), &p), "CreatePost %q", p.Title)
	require.NotZero(tb, p.ID, "CreatePost must set ID")
	return p
}

func get(tb testing.TB, s blog.Store, id int64) blog.Post {
	tb.Helper()
	p, err := s.GetPost(tb.Context(), id)
	require.NoError(tb, err, "GetPost %d", id)
	return p
}

func testCreate(t *testing.T, s blog.Store) {
	in := Published("Hello, World", T0.Add(123456789*time.Nanosecond))
	in.ImagePath, in.ImageType, in.Views = "0123456789abcdef0123456789abcdef.png", "image/png", 7
	in.CreatedAt = T0.In(time.FixedZone("X", 3*3600))
	p := create(t, s, in)
	got := get(t, s, p.ID)
	want := p
	want.PublishedAt = T0.Add(123456 * time.Microsecond)
	want.CreatedAt = T0
	assert.Equal(t, want, got, "times come back in UTC at whole microseconds")
	assert.Equal(t, time.UTC, got.PublishedAt.Location())

	bySlug, err := s.GetPostBySlug(t.Context(), "hello-world")
	require.NoError(t, err)
	assert.Equal(t, got, bySlug)

	second := create(t, s, Post("Another"))
	assert.Greater(t, second.ID, p.ID, "ids grow")
	draft := get(t, s, second.ID)
	assert.False(t, draft.Published)
	assert.True(t, draft.PublishedAt.IsZero(), "a draft's PublishedAt stays zero")
	assert.Empty(t, draft.ImagePath)
}

func testCreateConflict(t *testing.T, s blog.Store) {
	create(t, s, Post("Same title"))
	p := Post("Same title")
	err := s.CreatePost(t.Context(), &p)
	require.ErrorIs(t, err, blog.ErrConflict)
	list, n, err := s.ListPosts(t.Context(), blog.PostFilter{})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Len(t, list, 1)
}

func testUnicodeSlug(t *testing.T, s blog.Store) {
	a := create(t, s, Post("Привет, мир"))
	assert.Equal(t, "привет-мир", a.Slug)
	// Slugs compare byte for byte: accents and case make different slugs.
	b := Post("e")
	b.Slug = "café"
	b = create(t, s, b)
	c := Post("e")
	c.Slug = "cafe"
	c = create(t, s, c)
	d := Post("e")
	d.Slug = "Cafe"
	d = create(t, s, d)
	for _, p := range []blog.Post{a, b, c, d} {
		got, err := s.GetPostBySlug(t.Context(), p.Slug)
		require.NoError(t, err, p.Slug)
		assert.Equal(t, p.ID, got.ID, p.Slug)
	}
	_, err := s.GetPostBySlug(t.Context(), "CAFÉ")
	assert.ErrorIs(t, err, blog.ErrNotFound)
}

func testGetNotFound(t *testing.T, s blog.Store) {
	_, err := s.GetPost(t.Context(), 404)
	assert.ErrorIs(t, err, blog.ErrNotFound)
	_, err = s.GetPostBySlug(t.Context(), "nothing-here")
	assert.ErrorIs(t, err, blog.ErrNotFound)
}

func testUpdate(t *testing.T, s blog.Store) {
	p := create(t, s, Post("First title"))
	require.NoError(t, s.AddViews(t.Context(), map[int64]int64{p.ID: 5}))
	up := p
	up.Title, up.Slug, up.Content = "New title", "new-title", "New content"
	up.ImagePath, up.ImageType = "0123456789abcdef0123456789abcdef.webp", "image/webp"
	up.Published, up.PublishedAt, up.UpdatedAt = true, T0.Add(time.Hour), T0.Add(2*time.Hour)
	// Not saved by UpdatePost:
	up.AuthorID, up.Views, up.CreatedAt = 99, 1000, T0.Add(time.Minute)
	require.NoError(t, s.UpdatePost(t.Context(), up))
	got := get(t, s, p.ID)
	want := up
	want.AuthorID, want.Views, want.CreatedAt = p.AuthorID, 5, p.CreatedAt
	assert.Equal(t, want, got)
	_, err := s.GetPostBySlug(t.Context(), "first-title")
	assert.ErrorIs(t, err, blog.ErrNotFound, "the old slug is free")

	t.Run("Unpublish", func(t *testing.T) {
		got.Published, got.PublishedAt, got.ImagePath, got.ImageType = false, time.Time{}, "", ""
		require.NoError(t, s.UpdatePost(t.Context(), got))
		assert.Equal(t, got, get(t, s, p.ID))
	})
}

func testUpdateNotFound(t *testing.T, s blog.Store) {
	p := Post("Ghost")
	p.ID = 404
	assert.ErrorIs(t, s.UpdatePost(t.Context(), p), blog.ErrNotFound)
}

func testUpdateConflict(t *testing.T, s blog.Store) {
	create(t, s, Post("Taken"))
	p := create(t, s, Post("Free"))
	up := p
	up.Slug = "taken"
	require.ErrorIs(t, s.UpdatePost(t.Context(), up), blog.ErrConflict)
	assert.Equal(t, p, get(t, s, p.ID), "nothing changed")
	require.NoError(t, s.UpdatePost(t.Context(), p), "keeping its own slug is no conflict")
}

func testDelete(t *testing.T, s blog.Store) {
	p := create(t, s, Post("Doomed"))
	keep := create(t, s, Post("Kept"))
	require.NoError(t, s.DeletePost(t.Context(), p.ID))
	_, err := s.GetPost(t.Context(), p.ID)
	assert.ErrorIs(t, err, blog.ErrNotFound)
	_, err = s.GetPostBySlug(t.Context(), p.Slug)
	assert.ErrorIs(t, err, blog.ErrNotFound)
	assert.ErrorIs(t, s.DeletePost(t.Context(), p.ID), blog.ErrNotFound)
	get(t, s, keep.ID)
	again := create(t, s, Post("Doomed"))
	assert.NotEqual(t, p.ID, again.ID, "ids are not reused")
}

func ids(list []blog.Summary) []int64 {
	out := make([]int64, 0, len(list))
	for _, p := range list {
		out = append(out, p.ID)
	}
	return out
}

// seed makes drafts d1, d2 and published posts p1 (T0-3h), p2 (T0-1h),
// p3 (T0-2h), p4 (T0-1h, same time as p2), created in that order.
func seed(tb testing.TB, s blog.Store) map[string]blog.Post {
	tb.Helper()
	m := map[string]blog.Post{}
	m["d1"] = create(tb, s, Post("d1"))
	m["p1"] = create(tb, s, Published("p1", T0.Add(-3*time.Hour)))
	m["p2"] = create(tb, s, Published("p2", T0.Add(-1*time.Hour)))
	m["d2"] = create(tb, s, Post("d2"))
	m["p3"] = create(tb, s, Published("p3", T0.Add(-2*time.Hour)))
	m["p4"] = create(tb, s, Published("p4", T0.Add(-1*time.Hour)))
	return m
}

func testListAll(t *testing.T, s blog.Store) {
	m := seed(t, s)
	list, n, err := s.ListPosts(t.Context(), blog.PostFilter{})
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	assert.Equal(t, []int64{m["p4"].ID, m["p3"].ID, m["d2"].ID, m["p2"].ID, m["p1"].ID, m["d1"].ID}, ids(list))
	p := m["p3"]
	assert.Equal(t, p.Summary(), list[1], "a summary holds the post's fields and its excerpt")
}

func testListPublished(t *testing.T, s blog.Store) {
	m := seed(t, s)
	list, n, err := s.ListPosts(t.Context(), blog.PostFilter{Published: true})
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Equal(t, []int64{m["p4"].ID, m["p2"].ID, m["p3"].ID, m["p1"].ID}, ids(list),
		"newest publication first, ties by highest id")
	for _, p := range list {
		assert.True(t, p.Published)
	}
}

func testListPaging(t *testing.T, s blog.Store) {
	m := seed(t, s)
	list, n, err := s.ListPosts(t.Context(), blog.PostFilter{Published: true, ListOptions: blog.ListOptions{Limit: 2, Offset: 1}})
	require.NoError(t, err)
	assert.Equal(t, 4, n, "the total ignores paging")
	assert.Equal(t, []int64{m["p2"].ID, m["p3"].ID}, ids(list))
	list, n, err = s.ListPosts(t.Context(), blog.PostFilter{ListOptions: blog.ListOptions{Offset: 10}})
	require.NoError(t, err)
	assert.Equal(t, 6, n)
	assert.Empty(t, list)
}

func testListExcerpt(t *testing.T, s blog.Store) {
	long := Post("Long")
	long.Content = strings.Repeat("Съешь же ещё этих мягких французских булок,\nда выпей чаю. ", 40)
	long = create(t, s, long)
	short := Post("Short")
	short.Content = "Just a line."
	short = create(t, s, short)
	list, _, err := s.ListPosts(t.Context(), blog.PostFilter{})
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "Just a line.", list[0].Excerpt)
	assert.Equal(t, blog.Excerpt(long.Content), list[1].Excerpt)
	assert.True(t, strings.HasSuffix(list[1].Excerpt, "…"))
}

func testListEmpty(t *testing.T, s blog.Store) {
	list, n, err := s.ListPosts(t.Context(), blog.PostFilter{Published: true})
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Empty(t, list)
}

func testAddViews(t *testing.T, s blog.Store) {
	a := create(t, s, Post("a"))
	b := create(t, s, Post("b"))
	require.NoError(t, s.AddViews(t.Context(), map[int64]int64{a.ID: 3, b.ID: 1}))
	require.NoError(t, s.AddViews(t.Context(), map[int64]int64{a.ID: 2, 9999: 5}), "a missing post is ignored")
	require.NoError(t, s.AddViews(t.Context(), map[int64]int64{}), "nothing to add")
	require.NoError(t, s.AddViews(t.Context(), nil))
	assert.EqualValues(t, 5, get(t, s, a.ID).Views)
	assert.EqualValues(t, 1, get(t, s, b.ID).Views)
	assert.Equal(t, a.UpdatedAt, get(t, s, a.ID).UpdatedAt, "views do not touch UpdatedAt")
}

func testAddViewsLarge(t *testing.T, s blog.Store) {
	var posts []blog.Post
	for i := range 30 {
		posts = append(posts, create(t, s, Post(fmt.Sprintf("post %d", i))))
	}
	views := map[int64]int64{}
	for i, p := range posts {
		views[p.ID] = int64(i + 1)
	}
	for id := int64(100000); id < 101200; id++ { // many ids in one batch
		views[id] = 1
	}
	require.NoError(t, s.AddViews(t.Context(), views))
	for i, p := range posts {
		assert.EqualValues(t, i+1, get(t, s, p.ID).Views, p.Title)
	}
}

func testAddViewsConcurrent(t *testing.T, s blog.Store) {
	a := create(t, s, Post("a"))
	b := create(t, s, Post("b"))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				assert.NoError(t, s.AddViews(context.Background(), map[int64]int64{a.ID: 1, b.ID: 2}))
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, 40, get(t, s, a.ID).Views)
	assert.EqualValues(t, 80, get(t, s, b.ID).Views)
}

func testContext(t *testing.T, s blog.Store) {
	p := create(t, s, Post("p"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	q := Post("q")
	assert.Error(t, s.CreatePost(ctx, &q))
	_, err := s.GetPost(ctx, p.ID)
	assert.Error(t, err)
	_, err = s.GetPostBySlug(ctx, p.Slug)
	assert.Error(t, err)
	assert.Error(t, s.UpdatePost(ctx, p))
	_, _, err = s.ListPosts(ctx, blog.PostFilter{})
	assert.Error(t, err)
	assert.Error(t, s.AddViews(ctx, map[int64]int64{p.ID: 1}))
	assert.Error(t, s.DeletePost(ctx, p.ID))
	assert.Equal(t, p.Title, get(t, s, p.ID).Title, "nothing changed")
}
