// Package site serves the public, server-rendered face of the service on a
// gin engine: the home page (the service's figures and three random blog
// posts) and the blog (a paged list of published posts, and one page per
// post, which counts its views).
//
// It reads through blog.Service and stats.Service only, so it sees what
// the public may see (never a draft) and gets their caches for free: give
// the services cached stores (blog.NewCachedStore, stats.NewCachedStore)
// and the pages come from the cache, with the services' hooks keeping
// them current. A cache that fails is read as a miss by those stores, so
// it never fails a page; an error of the data itself gives a friendly
// "try again" page (503) and a log line.
//
// Quick start, in the host (the engine the admin panel and the account
// pages use too):
//
//	s, err := site.New(site.Deps{
//		Blog: content.Blog, Stats: content.Stats, SiteName: "SkyChimp",
//		MediaURL: "/media/", AdminURL: "/admin", Logger: logger,
//	})
//	if err != nil { ... }
//	s.Register(engine) // GET and HEAD /, /blog, /blog/:slug
//
// The pages run no script and load nothing from elsewhere: their
// stylesheet is inline, allowed by its hash in the Content-Security-Policy,
// so the site needs no route of its own beyond its three pages. Images
// are the blog's (served by blog.Images under MediaURL by the host).
package site
