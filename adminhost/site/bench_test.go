package site_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/adminhost/site"
	"github.com/skychimp/skychimp/blog"
	blogsql "github.com/skychimp/skychimp/blog/sqlstore"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
	"github.com/skychimp/skychimp/stats"
	statssql "github.com/skychimp/skychimp/stats/sqlstore"
)

// sqlData sizes a SQLite data set: owners with clients each (addresses
// repeat every distinct clients, across owners, in other case), mailings
// each of 10 clients (a third running at the benchmark's now), and posts.
type sqlData struct {
	owners, clientsPerOwner, mailingsPerOwner, distinct, posts int
}

// benchData is the benchmark's: 1,000 mailings, 10,000 clients (8,000
// distinct addresses), 100 posts.
var benchData = sqlData{owners: 100, clientsPerOwner: 100, mailingsPerOwner: 10, distinct: 8000, posts: 100}

// sqlStores are the SQL stores over one SQLite database.
type sqlStores struct {
	mailing *mailingsql.Store
	blog    *blogsql.Store
	stats   *statssql.Store
	now     time.Time // the time the figures are computed at
}

// seedSQLite makes a SQLite database with data d, written with the
// stores' bulk methods where they have them.
func seedSQLite(tb testing.TB, d sqlData) sqlStores {
	tb.Helper()
	ctx := context.Background()
	db := sqldbtest.New(tb, sqldb.SQLite)
	ms := mailingsql.New(db, sqldb.SQLite)
	require.NoError(tb, ms.Migrate(ctx))
	bs, err := blogsql.New(db, sqldb.SQLite)
	require.NoError(tb, err)
	require.NoError(tb, bs.Migrate(ctx))
	ss, err := statssql.New(db, sqldb.SQLite)
	require.NoError(tb, err)

	for o := range d.owners {
		owner := int64(o + 1)
		cs := make([]*mailing.Client, d.clientsPerOwner)
		for i := range cs {
			n := o*d.clientsPerOwner + i
			cs[i] = &mailing.Client{OwnerID: owner, Email: fmt.Sprintf("Client%d@Example.com", n%d.distinct), Name: fmt.Sprint("Client ", n)}
		}
		require.NoError(tb, ms.CreateClients(ctx, cs))
		msg := mailing.Message{OwnerID: owner, Subject: "Hi {{.Name}}", Body: "Hello"}
		require.NoError(tb, ms.CreateMessage(ctx, &msg))
		for m := range d.mailingsPerOwner {
			ids := make([]int64, 10)
			for i := range ids {
				ids[i] = cs[(m*10+i)%len(cs)].ID
			}
			// Over, running and to come: with windows of three days
			// starting a day apart, three in ten run at T0 + 30m.
			start := T0.Add(time.Duration(m%10-3) * 24 * time.Hour)
			mm := mailing.Mailing{OwnerID: owner, Name: "News", MessageID: msg.ID, ClientIDs: ids,
				Start: start, End: start.Add(72 * time.Hour), Period: mailing.Daily, Enabled: true, NextRun: start}
			require.NoError(tb, ms.CreateMailing(ctx, &mm))
		}
	}
	for i := range d.posts {
		p := blog.Post{AuthorID: 1, Title: fmt.Sprint("Post ", i+1), Slug: fmt.Sprint("post-", i+1),
			Content:   "Some words about the service.\n\nAnd a second paragraph that goes on for a while, as posts do.",
			ImagePath: "0123456789abcdef0123456789abcdef.png", ImageType: "image/png",
			Published: i%10 != 9, PublishedAt: T0.Add(-time.Duration(i+1) * time.Hour), CreatedAt: T0, UpdatedAt: T0}
		require.NoError(tb, bs.CreatePost(ctx, &p))
	}
	return sqlStores{mailing: ms, blog: bs, stats: ss, now: T0.Add(30 * time.Minute)}
}

// engine returns a gin engine with the site over st, through the stores
// the app uses (internal/app.OpenContent: blog.CachedStore and
// stats.CachedStore with the default TTLs) when c is not nil, or straight
// on the SQL stores when it is. prefix goes before the cache keys.
func (st sqlStores) engine(tb testing.TB, c cache.CacheInterface[any], prefix string) *gin.Engine {
	tb.Helper()
	quiet := slog.New(slog.DiscardHandler)
	var bs blog.Store = st.blog
	var ss stats.Store = st.stats
	var hooks []mailing.ServiceOption
	if c != nil {
		cb := blog.NewCachedStore(st.blog, c, blog.CacheOptions{Prefix: prefix, Logger: quiet})
		cs := stats.NewCachedStore(st.stats, c, stats.CacheOptions{Prefix: prefix, Logger: quiet})
		bs, ss = cb, cs
		hooks = append(hooks, mailing.WithChangeHook(cs.MailingChanged))
	}
	clock := mailingtest.NewFakeClock(st.now)
	mailings := mailing.NewService(st.mailing, clock, hooks...)
	views := blog.NewViewCounter(st.blog, quiet)
	s, err := site.New(site.Deps{
		Blog:  blog.NewService(bs, clock, blog.WithViewCounter(views), blog.WithLogger(quiet)),
		Stats: stats.NewService(ss, mailings, clock), Logger: quiet,
	})
	require.NoError(tb, err)
	r := gin.New()
	s.Register(r)
	return r
}

// TestOnSQLite runs the home page and the blog on the SQL stores, cached
// and not, over a small data set of the benchmark's shape.
func TestOnSQLite(t *testing.T) {
	st := seedSQLite(t, sqlData{owners: 3, clientsPerOwner: 20, mailingsPerOwner: 10, distinct: 50, posts: 12})
	for name, c := range map[string]cache.CacheInterface[any]{"Cached": tagcachetest.Memory(t), "Uncached": nil} {
		t.Run(name, func(t *testing.T) {
			r := st.engine(t, c, "skychimp:")
			get := func(path string, status int) string {
				rec := httptest.NewRecorder()
				r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
				require.Equal(t, status, rec.Code, path)
				return rec.Body.String()
			}
			body := get("/", http.StatusOK)
			assert.Equal(t, "30", figure(t, body, "mailings created"))
			assert.Equal(t, "9", figure(t, body, "mailings running now"))
			assert.Equal(t, "50", figure(t, body, "unique clients reached"))
			assert.Len(t, titles(body), 3)
			assert.Equal(t, 3, count(body, `src="/media/0123456789abcdef0123456789abcdef.png"`))
			assert.Zero(t, count(body, `loading="lazy"`), "the home page's images load at once")

			body = get("/blog", http.StatusOK)
			assert.Equal(t, []string{"Post 1", "Post 2", "Post 3", "Post 4", "Post 5", "Post 6", "Post 7", "Post 8", "Post 9", "Post 11"}, titles(body),
				"newest first, Post 10 is a draft")
			assert.Equal(t, 8, count(body, `loading="lazy"`), "images past the first two load as they scroll into view")
			assert.Equal(t, []string{"Post 12"}, titles(get("/blog?page=2", http.StatusOK)))
			assert.Contains(t, get("/blog/post-3", http.StatusOK), "<h1>Post 3</h1>")
			get("/blog/post-10", http.StatusNotFound)
		})
	}
}

// BenchmarkHomePage serves the home page through the gin handler, as
// parallel requests, over 1,000 mailings, 10,000 clients and 100 posts on
// SQLite: with the app's cached stores on the in-memory cache, and
// straight from the database.
//
//	go test -run '^$' -bench BenchmarkHomePage -benchtime 3s ./adminhost/site
func BenchmarkHomePage(b *testing.B) {
	st := seedSQLite(b, benchData)
	for _, bc := range []struct {
		name  string
		cache func(b *testing.B, prefix string) cache.CacheInterface[any]
	}{
		{"Uncached", func(*testing.B, string) cache.CacheInterface[any] { return nil }},
		{"CachedMemory", func(b *testing.B, _ string) cache.CacheInterface[any] { return tagcachetest.Memory(b) }},
		// SKYCHIMP_TEST_REDIS names the server; skipped without it.
		{"CachedRedis", func(b *testing.B, prefix string) cache.CacheInterface[any] { return tagcachetest.Redis(b, prefix) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			prefix := tagcachetest.Prefix()
			r := st.engine(b, bc.cache(b, prefix), prefix)
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			require.Equal(b, http.StatusOK, rec.Code)
			require.Equal(b, "1,000", figure(b, rec.Body.String(), "mailings created"))
			require.Equal(b, "300", figure(b, rec.Body.String(), "mailings running now"))
			require.Equal(b, "8,000", figure(b, rec.Body.String(), "unique clients reached"))
			require.Len(b, titles(rec.Body.String()), 3)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					rec := httptest.NewRecorder()
					r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
					if rec.Code != http.StatusOK {
						b.Errorf("GET /: %d", rec.Code)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
