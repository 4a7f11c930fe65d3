package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/eko/gocache/lib/v4/cache"

	"github.com/skychimp/skychimp/blog"
	blogsql "github.com/skychimp/skychimp/blog/sqlstore"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/stats"
	statssql "github.com/skychimp/skychimp/stats/sqlstore"
)

// ContentConfig configures the blog, the statistics and their cache.
type ContentConfig struct {
	// Cache is SKYCHIMP_CACHE: "" (in memory) or redis://host:port/db.
	Cache string
	// CachePrefix goes before every cache key (default "skychimp:"), so
	// that several deployments can share one Redis database.
	CachePrefix string
	// ImagesDir holds the blog's images (default "media").
	ImagesDir string
	// ViewFlushEvery is how often post views are written (default 5s).
	ViewFlushEvery time.Duration
	Logger         *slog.Logger
}

// Content is the blog and the statistics on the app's database, with
// their cache. The host serves Images.Handler() for the posts' images and
// calls MailingChanged after every mailing change (App.MailingChanged),
// so that the home page's and dashboards' figures follow at once.
type Content struct {
	Cache     cache.CacheInterface[any]
	CacheName string // for logs: "in-memory cache" or "Redis cache at host:port (db N)"

	Blog      *blog.Service
	BlogStore *blog.CachedStore // the cached store under Blog
	Images    *blog.Images
	Views     *blog.ViewCounter
	Stats     *stats.Service
	// Figures is the read model under Stats: every owner's figures in
	// memory, refreshed in the background until Close.
	Figures *stats.ReadModel

	stopViews   context.CancelFunc
	viewsDone   chan error
	stopFigures context.CancelFunc
	figuresDone chan error
	closeCache  func() error
}

// OpenContent builds the blog and the statistics on a's database and
// mailing service, and starts writing post views every
// cfg.ViewFlushEvery. Close stops it, writing the views left.
func (a *App) OpenContent(ctx context.Context, cfg ContentConfig) (*Content, error) {
	if cfg.CachePrefix == "" {
		cfg.CachePrefix = "skychimp:"
	}
	if cfg.ImagesDir == "" {
		cfg.ImagesDir = "media"
	}
	if cfg.ViewFlushEvery <= 0 {
		cfg.ViewFlushEvery = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = a.Config.Logger
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Content{}
	var err error
	if c.Cache, c.closeCache, c.CacheName, err = NewCache(cfg.Cache); err != nil {
		return nil, err
	}
	if err := CheckCache(ctx, c.Cache); err != nil {
		cfg.Logger.WarnContext(ctx, "cache", "cache", c.CacheName, "err", err)
	}
	if c.Images, err = blog.NewImages(cfg.ImagesDir, blog.ImageOptions{}); err != nil {
		c.closeCache()
		return nil, fmt.Errorf("%w: images directory: %w", ErrConfig, err)
	}
	bs, err := blogsql.New(a.DB, a.Dialect)
	if err != nil {
		c.closeCache()
		return nil, err
	}
	ss, err := statssql.New(a.DB, a.Dialect)
	if err != nil {
		c.closeCache()
		return nil, err
	}
	c.BlogStore = blog.NewCachedStore(bs, c.Cache, blog.CacheOptions{Prefix: cfg.CachePrefix, Logger: cfg.Logger})
	fo := stats.ReadModelOptions{Logger: cfg.Logger}
	if strings.HasPrefix(cfg.Cache, "redis") {
		// Shared by the instances: a mailing change on one shows on all
		// within a second.
		fo.Shared, fo.Prefix = c.Cache, cfg.CachePrefix
	}
	c.Figures = stats.NewReadModel(ss, fo)
	c.Views = blog.NewViewCounter(c.BlogStore, cfg.Logger) // its flushes refresh the cached counts
	c.Blog = blog.NewService(c.BlogStore, nil, blog.WithImages(c.Images), blog.WithViewCounter(c.Views), blog.WithLogger(cfg.Logger))
	c.Stats = stats.NewService(c.Figures, a.Mailings, nil)

	vctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	c.stopViews, c.viewsDone = stop, make(chan error, 1)
	ticker := time.NewTicker(cfg.ViewFlushEvery)
	go func() {
		defer ticker.Stop()
		c.viewsDone <- c.Views.Run(vctx, ticker.C)
	}()
	fctx, stopFigures := context.WithCancel(context.WithoutCancel(ctx))
	c.stopFigures, c.figuresDone = stopFigures, make(chan error, 1)
	go func() { c.figuresDone <- c.Figures.Run(fctx) }()
	return c, nil
}

// MailingChanged makes the next read of the figures wait for the
// mailings as they are now. It has the signature of App.MailingChanged.
func (c *Content) MailingChanged(ctx context.Context, mailingID int64) {
	c.Figures.MailingChanged(ctx, mailingID)
}

// PassDone has the ledger counted again soon after a scheduler pass that
// recorded attempts, so that the dashboards follow the sends. It has the
// signature of mailing.SchedulerConfig.OnPass.
func (c *Content) PassDone(s mailing.Summary, err error) { c.Figures.PassDone(s, err) }

// Close stops the view writer after a last flush (whose error it returns:
// those views are lost) and releases the cache.
func (c *Content) Close() error {
	var errs []error
	if c.stopFigures != nil {
		c.stopFigures()
		errs = append(errs, <-c.figuresDone)
		c.stopFigures = nil
	}
	if c.stopViews != nil {
		c.stopViews()
		errs = append(errs, <-c.viewsDone)
		c.stopViews = nil
	}
	if c.closeCache != nil {
		errs = append(errs, c.closeCache())
		c.closeCache = nil
	}
	return errors.Join(errs...)
}
