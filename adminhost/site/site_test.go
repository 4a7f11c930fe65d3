package site_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/adminhost/site"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
	"github.com/skychimp/skychimp/stats"
)

var cardTitle = regexp.MustCompile(`<h3><a href="/blog/([^"]+)">([^<]*)</a></h3>`)

// titles lists the titles of the post cards on a page, in order.
func titles(body string) []string {
	var out []string
	for _, m := range cardTitle.FindAllStringSubmatch(body, -1) {
		out = append(out, m[2])
	}
	return out
}

func figure(tb testing.TB, body, label string) string {
	tb.Helper()
	m := regexp.MustCompile(`<span class="number">([0-9,]+)</span> <span class="label">` + regexp.QuoteMeta(label)).FindStringSubmatch(body)
	require.NotNil(tb, m, "no figure %q in the page", label)
	return m[1]
}

func TestNew(t *testing.T) {
	t.Run("MissingDependencies", func(t *testing.T) {
		_, err := site.New(site.Deps{})
		assert.EqualError(t, err, "site: missing dependencies: Blog, Stats")
	})
	t.Run("BadMediaURL", func(t *testing.T) {
		_, err := site.New(site.Deps{Blog: &blog.Service{}, Stats: &stats.Service{}, MediaURL: "ftp://cdn.example.com/media/"})
		assert.ErrorContains(t, err, "want a path such as /media/ or an http(s) address")
	})
}

func TestHome(t *testing.T) {
	t.Run("FiguresAndThreeRandomPosts", func(t *testing.T) {
		e := newEnv(t, options{})
		e.posts(t, 5)
		e.post(t, "Secret draft", "Not yet.", false, 0)
		// Two running mailings (one client in both, in other case), one to come.
		e.mailing(t, 1, "ann@example.com", T0.Add(-time.Hour), T0.Add(24*time.Hour))
		e.mailing(t, 2, "ANN@example.com", T0.Add(-time.Hour), T0.Add(24*time.Hour))
		e.mailing(t, 2, "bob@example.com", T0.Add(time.Hour), T0.Add(24*time.Hour))

		body := e.page(t, "/", http.StatusOK)
		assert.Equal(t, "3", figure(t, body, "mailings created"))
		assert.Equal(t, "2", figure(t, body, "mailings running now"))
		assert.Equal(t, "2", figure(t, body, "unique clients reached"))
		got := titles(body)
		assert.Len(t, got, 3)
		for _, title := range got {
			assert.Regexp(t, `^Post [1-5]$`, title)
		}
		assert.NotContains(t, body, "Secret draft")
		assert.Contains(t, body, `href="/register"`)
		assert.Contains(t, body, `href="/admin/login"`)
		assert.Contains(t, body, `href="/blog"`)
		assert.Contains(t, body, `<time datetime="2026-03-01">1 March 2026</time>`)
		assert.Equal(t, 3, count(body, `<div class="thumb none"`), "posts without images get a placeholder")

		seen := map[string]bool{}
		for range 30 {
			for _, title := range titles(e.page(t, "/", http.StatusOK)) {
				seen[title] = true
			}
		}
		assert.Len(t, seen, 5, "every post is drawn in time")
	})
	t.Run("FewerPosts", func(t *testing.T) {
		e := newEnv(t, options{})
		body := e.page(t, "/", http.StatusOK)
		assert.Empty(t, titles(body))
		assert.Contains(t, body, "No posts yet.")
		assert.Equal(t, "0", figure(t, body, "mailings created"))

		e.posts(t, 2)
		assert.ElementsMatch(t, []string{"Post 1", "Post 2"}, titles(e.page(t, "/", http.StatusOK)))
	})
	t.Run("OneMailing", func(t *testing.T) {
		e := newEnv(t, options{})
		e.mailing(t, 1, "ann@example.com", T0.Add(-time.Hour), T0.Add(time.Hour))
		body := e.page(t, "/", http.StatusOK)
		assert.Equal(t, "1", figure(t, body, "mailing created"))
		assert.Equal(t, "1", figure(t, body, "mailing running now"))
		assert.Equal(t, "1", figure(t, body, "unique client reached"))
	})
	t.Run("ChangesShowAtOnce", func(t *testing.T) {
		e := newEnv(t, options{})
		e.posts(t, 2)
		e.mailing(t, 1, "ann@example.com", T0.Add(-time.Hour), T0.Add(time.Hour))
		body := e.page(t, "/", http.StatusOK) // fills the cache
		require.Equal(t, "1", figure(t, body, "mailing created"))
		require.Len(t, titles(body), 2)

		// A new mailing (the service's change hook) and a new post (a
		// write through the cached store) show on the next request.
		m := e.mailing(t, 2, "bob@example.com", T0.Add(-time.Hour), T0.Add(time.Hour))
		p := e.post(t, "Fresh news", "Just out.", true, 0)
		body = e.page(t, "/", http.StatusOK)
		assert.Equal(t, "2", figure(t, body, "mailings created"))
		assert.Equal(t, "2", figure(t, body, "mailings running now"))
		assert.Equal(t, "2", figure(t, body, "unique clients reached"))
		assert.ElementsMatch(t, []string{"Post 1", "Post 2", "Fresh news"}, titles(body))

		// Disabling a mailing and unpublishing a post too.
		staff := accounts.WithUser(context.Background(), accounts.User{ID: 99, Role: accounts.RoleManager})
		_, err := e.mailings.SetMailingEnabled(staff, m.ID, false)
		require.NoError(t, err)
		_, err = e.blog.SetPublished(accounts.WithUser(context.Background(), editor), p.ID, false)
		require.NoError(t, err)
		body = e.page(t, "/", http.StatusOK)
		assert.Equal(t, "1", figure(t, body, "mailing running now"))
		assert.ElementsMatch(t, []string{"Post 1", "Post 2"}, titles(body))

		// A mailing that ends by the clock alone stops counting as running.
		e.clock.Advance(time.Hour + time.Second)
		body = e.page(t, "/", http.StatusOK)
		assert.Equal(t, "0", figure(t, body, "mailings running now"))
	})
	t.Run("ThousandsSeparators", func(t *testing.T) {
		e := newEnv(t, options{statStore: func(s stats.Store) stats.Store {
			return fixedFigures{Store: s, f: stats.HomeFigures{Mailings: 1234567, Active: 1000, UniqueClients: 999}}
		}})
		body := e.page(t, "/", http.StatusOK)
		assert.Equal(t, "1,234,567", figure(t, body, "mailings created"))
		assert.Equal(t, "1,000", figure(t, body, "mailings running now"))
		assert.Equal(t, "999", figure(t, body, "unique clients reached"))
	})
}

func TestBlogList(t *testing.T) {
	t.Run("Empty", func(t *testing.T) {
		e := newEnv(t, options{})
		e.post(t, "Only a draft", "Hidden.", false, 0)
		body := e.page(t, "/blog", http.StatusOK)
		assert.Contains(t, body, "No posts yet.")
		assert.NotContains(t, body, "Only a draft")
		assert.NotContains(t, body, `class="pager"`)
	})
	t.Run("NewestFirstPaged", func(t *testing.T) {
		e := newEnv(t, options{})
		e.posts(t, 23) // Post 23 is the newest
		e.post(t, "A draft", "Hidden.", false, 0)

		body := e.page(t, "/blog", http.StatusOK)
		want := []string{}
		for i := 23; i > 13; i-- {
			want = append(want, "Post "+strconv.Itoa(i))
		}
		assert.Equal(t, want, titles(body))
		assert.Contains(t, body, "Page 1 of 3")
		assert.Contains(t, body, `<a href="/blog?page=2" rel="next">`)
		assert.NotContains(t, body, `rel="prev"`)
		assert.NotContains(t, body, "A draft")

		body = e.page(t, "/blog?page=2", http.StatusOK)
		assert.Equal(t, "Post 13", titles(body)[0])
		assert.Contains(t, body, "Page 2 of 3")
		assert.Contains(t, body, `<a href="/blog" rel="prev">`)
		assert.Contains(t, body, `<a href="/blog?page=3" rel="next">`)
		assert.Contains(t, body, "<title>Blog, page 2 · SkyChimp Test</title>")

		body = e.page(t, "/blog?page=3", http.StatusOK)
		assert.Equal(t, []string{"Post 3", "Post 2", "Post 1"}, titles(body))
		assert.Contains(t, body, `<a href="/blog?page=2" rel="prev">`)
		assert.NotContains(t, body, `rel="next"`)
	})
	t.Run("NoSuchPage", func(t *testing.T) {
		e := newEnv(t, options{})
		e.posts(t, 3)
		for _, q := range []string{"4", "0", "-1", "abc", "1e3", "99999999999999999999", ""} {
			body := e.page(t, "/blog?page="+q, http.StatusNotFound)
			assert.Contains(t, body, "Page not found", q)
			assert.Contains(t, body, `href="/blog"`, q)
		}
	})
	t.Run("PageSize", func(t *testing.T) {
		e := newEnv(t, options{deps: func(d *site.Deps) { d.PageSize = 2 }})
		e.posts(t, 3)
		assert.Equal(t, []string{"Post 3", "Post 2"}, titles(e.page(t, "/blog", http.StatusOK)))
		assert.Equal(t, []string{"Post 1"}, titles(e.page(t, "/blog?page=2", http.StatusOK)))
	})
}

func TestPost(t *testing.T) {
	t.Run("CountsViews", func(t *testing.T) {
		e := newEnv(t, options{})
		p := e.post(t, "Hello world", "First paragraph.\n\nSecond, with a link: https://example.com/a?b=c.", true, 24*time.Hour)

		body := e.page(t, "/blog/"+p.Slug, http.StatusOK)
		assert.Contains(t, body, "<h1>Hello world</h1>")
		assert.Contains(t, body, "<title>Hello world · SkyChimp Test</title>")
		assert.Contains(t, body, `<time datetime="2026-02-28">28 February 2026</time> · 1 view`)
		assert.Contains(t, body, "<p>First paragraph.</p>")
		assert.Contains(t, body, `<a href="https://example.com/a?b=c" rel="nofollow noopener noreferrer">https://example.com/a?b=c</a>.`)

		body = e.page(t, "/blog/"+p.Slug, http.StatusOK)
		assert.Contains(t, body, "· 2 views", "views not yet written show at once")

		rec := e.do(t, http.MethodHead, "/blog/"+p.Slug)
		assert.Equal(t, http.StatusOK, rec.Code)
		assert.Empty(t, rec.Body.String(), "a HEAD gets no body")
		assert.NotEmpty(t, rec.Header().Get("Content-Length"))

		require.NoError(t, e.views.Flush(context.Background()))
		stored, err := e.blogStore.GetPost(context.Background(), p.ID)
		require.NoError(t, err)
		assert.EqualValues(t, 2, stored.Views, "two GETs are two views; a HEAD is none")
	})
	t.Run("Image", func(t *testing.T) {
		e := newEnv(t, options{})
		p := e.post(t, "With a picture", "Look.", true, 0)
		p.ImagePath, p.ImageType = "0123456789abcdef0123456789abcdef.png", "image/png"
		require.NoError(t, e.blogStore.UpdatePost(context.Background(), p))
		q := e.post(t, "Odd image name", "Look.", true, 0)
		q.ImagePath, q.ImageType = "../../etc/passwd", "image/png"
		require.NoError(t, e.blogStore.UpdatePost(context.Background(), q))

		body := e.page(t, "/blog/"+p.Slug, http.StatusOK)
		assert.Contains(t, body, `<img class="hero" src="/media/0123456789abcdef0123456789abcdef.png" alt="">`)
		body = e.page(t, "/blog", http.StatusOK)
		assert.Contains(t, body, `<img class="thumb" src="/media/0123456789abcdef0123456789abcdef.png" alt="">`)
		assert.NotContains(t, body, "passwd", "only names blog.Images gives are linked")
		assert.NotContains(t, e.page(t, "/blog/"+q.Slug, http.StatusOK), "passwd")
	})
	t.Run("NotFound", func(t *testing.T) {
		e := newEnv(t, options{})
		draft := e.post(t, "Draft post", "Not yet.", false, 0)
		gone := e.post(t, "Taken down", "Was here.", true, time.Hour)
		_, err := e.blog.SetPublished(accounts.WithUser(context.Background(), editor), gone.ID, false)
		require.NoError(t, err)
		for _, path := range []string{"/blog/" + draft.Slug, "/blog/" + gone.Slug, "/blog/no-such-post", "/blog/%20"} {
			body := e.page(t, path, http.StatusNotFound)
			assert.Contains(t, body, "Post not found", path)
			assert.NotContains(t, body, "Not yet.", path)
			assert.NotContains(t, body, "Was here.", path)
		}
		assert.Equal(t, http.StatusNotFound, e.do(t, http.MethodHead, "/blog/"+draft.Slug).Code)
		require.NoError(t, e.views.Flush(context.Background()))
		assert.Zero(t, e.blogStore.AddViewsCalls(), "no view is counted for a page not shown")
	})
	t.Run("CanonicalAddress", func(t *testing.T) {
		e := newEnv(t, options{})
		p := e.post(t, "Hello World", "Hi.", true, 0)
		rec := e.do(t, http.MethodGet, "/blog/Hello-World")
		assert.Equal(t, http.StatusMovedPermanently, rec.Code)
		assert.Equal(t, "/blog/"+p.Slug, rec.Header().Get("Location"))
		require.NoError(t, e.views.Flush(context.Background()))
		assert.Zero(t, e.blogStore.AddViewsCalls(), "the redirect counts no view")
	})
}

func TestEscaping(t *testing.T) {
	e := newEnv(t, options{})
	p := e.post(t, `<script>alert("t")</script> & "quotes"`, "<b>bold</b> <img src=x onerror=alert(1)>\n\n\"'&", true, 0)

	body := e.page(t, "/blog/"+p.Slug, http.StatusOK)
	assert.NotContains(t, body, "<script>")
	assert.NotContains(t, body, "<b>")
	assert.NotContains(t, body, "<img src=x")
	assert.Contains(t, body, "<h1>&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;</h1>")
	assert.Contains(t, body, "<p>&lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;</p>")
	assert.Contains(t, body, "<p>&#34;&#39;&amp;</p>")

	for _, path := range []string{"/", "/blog"} {
		body := e.page(t, path, http.StatusOK)
		assert.NotContains(t, body, "<script>", path)
		assert.NotContains(t, body, "<b>", path)
		assert.Contains(t, body, "&lt;script&gt;", path)
	}
}

func TestHeaders(t *testing.T) {
	e := newEnv(t, options{})
	p := e.post(t, "Hello", "Hi.", true, 0)
	for _, path := range []string{"/", "/blog", "/blog/" + p.Slug, "/blog/nothing"} {
		for _, method := range []string{http.MethodGet, http.MethodHead} {
			rec := e.do(t, method, path)
			h := rec.Header()
			assert.Equal(t, "text/html; charset=utf-8", h.Get("Content-Type"), method, path)
			assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"), method, path)
			assert.Equal(t, "DENY", h.Get("X-Frame-Options"), method, path)
			assert.Equal(t, "same-origin", h.Get("Referrer-Policy"), method, path)
			assert.Equal(t, "no-cache", h.Get("Cache-Control"), method, path)
			assert.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'", method, path)
			assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'", method, path)
			if method == http.MethodHead && path != "/blog/"+p.Slug { // a GET of a post counts itself: "1 view", not "0 views"
				assert.Empty(t, rec.Body.String(), path)
				n, err := strconv.Atoi(h.Get("Content-Length"))
				require.NoError(t, err, path)
				assert.Equal(t, len(e.page(t, path, rec.Code)), n, "HEAD tells the length of the GET: %s", path)
			}
		}
	}

	t.Run("InlineStyleAllowedByHash", func(t *testing.T) {
		rec := e.do(t, http.MethodGet, "/")
		m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(rec.Body.String())
		require.NotNil(t, m)
		sum := sha256.Sum256([]byte(m[1]))
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
		assert.Contains(t, rec.Header().Get("Content-Security-Policy"), "img-src 'self';")
		assert.NotContains(t, rec.Body.String(), "<script")
	})
	t.Run("MediaOnAnotherHost", func(t *testing.T) {
		e := newEnv(t, options{deps: func(d *site.Deps) { d.MediaURL = "https://cdn.example.com/media" }})
		assert.Contains(t, e.do(t, http.MethodGet, "/").Header().Get("Content-Security-Policy"), "img-src 'self' https://cdn.example.com;")
	})
}

func TestMountedInGroup(t *testing.T) {
	e := newEnv(t, options{})
	p := e.post(t, "Hello", "Hi.", true, 0)
	s, err := site.New(site.Deps{Blog: e.blog, Stats: stats.NewService(fixedFigures{}, e.mailings, e.clock)})
	require.NoError(t, err)
	g := e.engine.Group("/public")
	s.Register(g)
	body := e.page(t, "/public/blog", http.StatusOK)
	assert.Contains(t, body, `<a href="/public/blog/`+p.Slug+`">Hello</a>`)
	assert.Contains(t, body, `<a class="brand" href="/public/">SkyChimp</a>`)
	assert.Contains(t, body, `href="/admin/login"`, "the defaults")
	assert.Contains(t, body, `href="/register"`)
}

// TestCacheDown: a cache that does not answer (Redis on a closed port) is
// a miss: every page still renders from the stores, and changes show.
func TestCacheDown(t *testing.T) {
	e := newEnv(t, options{cache: tagcachetest.DeadRedis(t)})
	p := e.post(t, "Still here", "Served without a cache.", true, 0)
	e.mailing(t, 1, "ann@example.com", T0.Add(-time.Hour), T0.Add(time.Hour))

	body := e.page(t, "/", http.StatusOK)
	assert.Equal(t, "1", figure(t, body, "mailing created"))
	assert.Equal(t, []string{"Still here"}, titles(body))
	assert.Equal(t, []string{"Still here"}, titles(e.page(t, "/blog", http.StatusOK)))
	assert.Contains(t, e.page(t, "/blog/"+p.Slug, http.StatusOK), "Served without a cache.")

	e.mailing(t, 2, "bob@example.com", T0.Add(-time.Hour), T0.Add(time.Hour))
	assert.Equal(t, "2", figure(t, e.page(t, "/", http.StatusOK), "mailings created"))
	assert.NotContains(t, e.logs.String(), "site:", "no page failed")
}

func TestDataErrors(t *testing.T) {
	boom := errors.New("database is locked")
	t.Run("Figures", func(t *testing.T) {
		e := newEnv(t, options{statStore: func(s stats.Store) stats.Store { return fixedFigures{Store: s, err: boom} }})
		rec := e.do(t, http.MethodGet, "/")
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Equal(t, "60", rec.Header().Get("Retry-After"))
		assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
		assert.Contains(t, rec.Body.String(), "We could not load this page just now.")
		assert.NotContains(t, rec.Body.String(), "database is locked", "the cause is for the log, not the visitor")
		assert.Contains(t, e.logs.String(), "site: cannot read the home page's figures")
		assert.Contains(t, e.logs.String(), "database is locked")
		assert.Contains(t, e.logs.String(), "level=ERROR")
	})
	for _, path := range []string{"/", "/blog", "/blog/some-post"} {
		t.Run("Blog"+path, func(t *testing.T) {
			e := newEnv(t, options{blogStore: func(s blog.Store) blog.Store { return failingBlog{Store: s, err: boom} }})
			rec := e.do(t, http.MethodGet, path)
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Contains(t, rec.Body.String(), "Try again")
			assert.Contains(t, e.logs.String(), "database is locked")
		})
	}
	t.Run("VisitorGone", func(t *testing.T) {
		e := newEnv(t, options{statStore: func(s stats.Store) stats.Store { return fixedFigures{Store: s, err: context.Canceled} }})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		e.engine.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		assert.Contains(t, e.logs.String(), "level=INFO")
		assert.NotContains(t, e.logs.String(), "level=ERROR")
	})
}

// fixedFigures answers HomeFigures with f, or err.
type fixedFigures struct {
	stats.Store
	f   stats.HomeFigures
	err error
}

func (s fixedFigures) HomeFigures(context.Context, time.Time) (stats.HomeFigures, error) {
	return s.f, s.err
}

// failingBlog fails the public reads.
type failingBlog struct {
	blog.Store
	err error
}

func (s failingBlog) ListPosts(ctx context.Context, f blog.PostFilter) ([]blog.Summary, int, error) {
	if f.Published {
		return nil, 0, s.err
	}
	return s.Store.ListPosts(ctx, f)
}

func (s failingBlog) GetPostBySlug(context.Context, string) (blog.Post, error) {
	return blog.Post{}, s.err
}
