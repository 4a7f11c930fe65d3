// Package blog is the service's blog: posts that content managers write
// and the public reads, their images, and their view counts.
//
//   - Post, Summary and Draft are the domain types; content is plain text
//     rendered to safe HTML by HTML (no markup is ever accepted).
//   - Store is the contract for implementers (blog/sqlstore for SQLite and
//     MySQL, blogtest.MemStore in memory; blogtest.TestStore checks any).
//   - Service applies the policy: content managers and superusers edit,
//     everyone reads published posts, drafts are not found.
//   - Images validates uploads by content (PNG, JPEG, GIF, WebP), stores
//     them under random names and serves them so that no upload can run as
//     a page.
//   - ViewCounter counts views in memory and writes them in batches.
//   - CachedStore caches the public reads in any gocache cache.
//
// Quick start:
//
//	store := sqlstore.New(db, dialect) // then store.Migrate(ctx)
//	views := blog.NewViewCounter(store, nil)
//	svc := blog.NewService(blog.NewCachedStore(store, gocacheCache, blog.CacheOptions{}), nil,
//		blog.WithImages(images), blog.WithViewCounter(views))
//	go views.Run(ctx, time.NewTicker(5*time.Second).C)
//	post, err := svc.ViewPost(ctx, "hello-world")
package blog
