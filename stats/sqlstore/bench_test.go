package sqlstore_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/blog"
	blogsql "github.com/skychimp/skychimp/blog/sqlstore"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
	"github.com/skychimp/skychimp/internal/tagcache/tagcachetest"
	"github.com/skychimp/skychimp/mailing"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
	"github.com/skychimp/skychimp/stats"
	"github.com/skychimp/skychimp/stats/sqlstore"
	"github.com/skychimp/skychimp/stats/statstest"
)

// Size of the benchmark data: 100 owners with 100 clients each (10,000
// clients, 8,000 distinct addresses) and 10 mailings each (1,000
// mailings of 10 clients, a third of them running), and 100 blog posts.
const (
	benchOwners           = 100
	benchClientsPerOwner  = 100
	benchMailingsPerOwner = 10
	benchPosts            = 100
)

var benchQuiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchNow is the time of the requests: half an hour after the mailings'
// starts and ends (at whole days from T0), as almost any moment is.
var benchNow = statstest.T0.Add(30 * time.Minute)

// benchDB seeds a SQLite database with the benchmark data.
func benchDB(b *testing.B) (*sqlstore.Store, *blogsql.Store) {
	b.Helper()
	ctx := context.Background()
	db := sqldbtest.New(b, sqldb.SQLite)
	ms := mailingsql.New(db, sqldb.SQLite)
	require.NoError(b, ms.Migrate(ctx))
	now := statstest.T0
	for o := range benchOwners {
		owner := int64(o + 1)
		cs := make([]*mailing.Client, benchClientsPerOwner)
		for i := range cs {
			n := o*benchClientsPerOwner + i
			cs[i] = &mailing.Client{OwnerID: owner, Email: fmt.Sprintf("Client%d@Example.com", n%8000), Name: fmt.Sprint("Client ", n)}
		}
		require.NoError(b, ms.CreateClients(ctx, cs))
		msg := mailing.Message{OwnerID: owner, Subject: "Hi", Body: "Hello"}
		require.NoError(b, ms.CreateMessage(ctx, &msg))
		for m := range benchMailingsPerOwner {
			ids := make([]int64, 10)
			for i := range ids {
				ids[i] = cs[(m*10+i)%len(cs)].ID
			}
			start := now.Add(time.Duration(m-3) * 24 * time.Hour) // some over, some running, some to come
			mm := mailing.Mailing{OwnerID: owner, MessageID: msg.ID, ClientIDs: ids, Start: start, End: start.Add(72 * time.Hour), Period: mailing.Daily, Enabled: true}
			require.NoError(b, ms.CreateMailing(ctx, &mm))
		}
	}
	bs, err := blogsql.New(db, sqldb.SQLite)
	require.NoError(b, err)
	require.NoError(b, bs.Migrate(ctx))
	for i := range benchPosts {
		p := blog.Post{AuthorID: 1, Title: fmt.Sprint("Post ", i), Slug: fmt.Sprint("post-", i), Content: "Some words about the service. ",
			Published: true, PublishedAt: now.Add(-time.Duration(i) * time.Hour), CreatedAt: now, UpdatedAt: now}
		require.NoError(b, bs.CreatePost(ctx, &p))
	}
	ss, err := sqlstore.New(db, sqldb.SQLite)
	require.NoError(b, err)
	return ss, bs
}

// caches are the ways a benchmark runs: no cache, in memory, and Redis
// when SKYCHIMP_TEST_REDIS is set.
func benchCaches(b *testing.B, f func(b *testing.B, c cache.CacheInterface[any], prefix string)) {
	b.Run("Uncached", func(b *testing.B) { f(b, nil, "") })
	b.Run("CachedMemory", func(b *testing.B) { f(b, tagcachetest.Memory(b), "") })
	b.Run("CachedRedis", func(b *testing.B) {
		tagcachetest.SkipWithoutRedis(b)
		prefix := tagcachetest.Prefix()
		f(b, tagcachetest.Redis(b, prefix), prefix)
	})
}

// BenchmarkHomeFigures computes the home page's figures (mailings, active
// mailings, unique clients) over 1,000 mailings and 10,000 clients, from
// SQLite or from the cache.
func BenchmarkHomeFigures(b *testing.B) {
	ss, _ := benchDB(b)
	now := benchNow
	benchCaches(b, func(b *testing.B, c cache.CacheInterface[any], prefix string) {
		var s stats.Store = ss
		if c != nil {
			s = stats.NewCachedStore(ss, c, stats.CacheOptions{Prefix: prefix, TTL: time.Hour, Logger: benchQuiet})
		}
		f, err := s.HomeFigures(context.Background(), now)
		require.NoError(b, err)
		require.Equal(b, 1000, f.Mailings)
		require.Equal(b, 8000, f.UniqueClients)
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := s.HomeFigures(context.Background(), now); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}

// BenchmarkHomePage is all the data of the home page: the figures and
// three random posts, as parallel requests (2 cores).
func BenchmarkHomePage(b *testing.B) {
	ss, bs := benchDB(b)
	now := benchNow
	benchCaches(b, func(b *testing.B, c cache.CacheInterface[any], prefix string) {
		var s stats.Store = ss
		var posts blog.Store = bs
		if c != nil {
			s = stats.NewCachedStore(ss, c, stats.CacheOptions{Prefix: prefix, TTL: time.Hour, Logger: benchQuiet})
			posts = blog.NewCachedStore(bs, c, blog.CacheOptions{Prefix: prefix, TTL: time.Hour, Logger: benchQuiet})
		}
		svc := blog.NewService(posts, nil)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				if _, err := s.HomeFigures(ctx, now); err != nil {
					b.Error(err)
					return
				}
				three, err := svc.RandomPublished(ctx, 3)
				if err != nil || len(three) != 3 {
					b.Error(err, len(three))
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}
