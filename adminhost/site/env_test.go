package site_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/adminhost/site"
	"github.com/skychimp/skychimp/blog"
	"github.com/skychimp/skychimp/blog/blogtest"
	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/stats"
	"github.com/skychimp/skychimp/stats/statstest"
)

func init() { gin.SetMode(gin.TestMode) }

// T0 is the tests' "now".
var T0 = mailingtest.T0

// env is a gin engine with the site over in-memory stores behind the
// cache decorators, wired as the app wires them: mailing changes drop the
// cached figures, blog writes drop the cached posts.
type env struct {
	engine    *gin.Engine
	clock     *mailingtest.FakeClock
	blog      *blog.Service
	blogStore *blogtest.MemStore
	views     *blog.ViewCounter
	mailings  *mailing.Service
	mstore    *mailingtest.MemStore
	logs      *syncBuffer
}

// options change an env before it is built.
type options struct {
	cache     cache.CacheInterface[any] // default: a fresh in-memory cache
	blogStore func(blog.Store) blog.Store
	statStore func(stats.Store) stats.Store
	deps      func(*site.Deps)
}

func newEnv(tb testing.TB, o options) *env {
	tb.Helper()
	if o.cache == nil {
		o.cache = tagcachetest.Memory(tb)
	}
	e := &env{clock: mailingtest.NewFakeClock(T0), blogStore: blogtest.NewMemStore(), mstore: mailingtest.NewMemStore(), logs: &syncBuffer{}}
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	quiet := slog.New(slog.DiscardHandler) // the caches' own warnings

	var ss stats.Store = statstest.New(e.mstore)
	if o.statStore != nil {
		ss = o.statStore(ss)
	}
	figures := stats.NewCachedStore(ss, o.cache, stats.CacheOptions{Prefix: "skychimp:", Timeout: 100 * time.Millisecond, Logger: quiet})
	e.mailings = mailing.NewService(e.mstore, e.clock, mailing.WithChangeHook(figures.MailingChanged))

	var bs blog.Store = e.blogStore
	if o.blogStore != nil {
		bs = o.blogStore(bs)
	}
	e.views = blog.NewViewCounter(e.blogStore, quiet)
	e.blog = blog.NewService(blog.NewCachedStore(bs, o.cache, blog.CacheOptions{Prefix: "skychimp:", Timeout: 100 * time.Millisecond, Logger: quiet}),
		e.clock, blog.WithViewCounter(e.views), blog.WithLogger(quiet))

	d := site.Deps{
		Blog: e.blog, Stats: stats.NewService(figures, e.mailings, e.clock),
		SiteName: "SkyChimp Test", MediaURL: "/media/", AdminURL: "/admin", Logger: log,
	}
	if o.deps != nil {
		o.deps(&d)
	}
	s, err := site.New(d)
	require.NoError(tb, err)
	e.engine = gin.New()
	s.Register(e.engine)
	return e
}

// get requests path and returns the response.
func (e *env) do(tb testing.TB, method, path string) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	e.engine.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

// page GETs path, requires status and returns the body.
func (e *env) page(tb testing.TB, path string, status int) string {
	tb.Helper()
	rec := e.do(tb, http.MethodGet, path)
	require.Equal(tb, status, rec.Code, "GET %s: %s", path, rec.Body.String())
	return rec.Body.String()
}

var editor = accounts.User{ID: 7, Email: "content@example.com", Role: accounts.RoleContentManager}

// post creates a post as a content manager, published at T0 - age.
func (e *env) post(tb testing.TB, title, content string, published bool, age time.Duration) blog.Post {
	tb.Helper()
	d := blog.Draft{Title: title, Content: content, Published: published}
	if published {
		d.PublishedAt = e.clock.Now().Add(-age)
	}
	p, err := e.blog.CreatePost(accounts.WithUser(context.Background(), editor), d)
	require.NoError(tb, err)
	return p
}

// posts creates n published posts "Post 1" (oldest) to "Post n" (newest).
func (e *env) posts(tb testing.TB, n int) []blog.Post {
	tb.Helper()
	out := make([]blog.Post, n)
	for i := range n {
		out[i] = e.post(tb, fmt.Sprintf("Post %d", i+1), fmt.Sprintf("Words of post %d.", i+1), true, time.Duration(n-i)*time.Hour)
	}
	return out
}

// mailing creates a mailing of a new client of user owner, running from
// start to end.
func (e *env) mailing(tb testing.TB, owner int64, email string, start, end time.Time) mailing.Mailing {
	tb.Helper()
	ctx := accounts.WithUser(context.Background(), accounts.User{ID: owner, Email: fmt.Sprintf("u%d@example.com", owner), Role: accounts.RoleUser})
	msg, err := e.mailings.CreateMessage(ctx, mailing.Message{Subject: "Hi", Body: "Hello"})
	require.NoError(tb, err)
	cl, err := e.mailings.CreateClient(ctx, mailing.Client{Email: email, Name: "Client"})
	require.NoError(tb, err)
	m, err := e.mailings.CreateMailing(ctx, mailing.Mailing{Name: "News", MessageID: msg.ID, ClientIDs: []int64{cl.ID},
		Start: start, End: end, Period: mailing.Daily})
	require.NoError(tb, err)
	return m
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// count is how many times sub occurs in body.
func count(body, sub string) int { return strings.Count(body, sub) }

var _ io.Writer = (*syncBuffer)(nil)
