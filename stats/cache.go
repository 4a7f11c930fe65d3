package stats

import (
	"context"
	"log/slog"
	"time"

	"github.com/eko/gocache/lib/v4/cache"

	"github.com/skychimp/skychimp/internal/tagcache"
)

// DefaultCacheTTL is how long CachedStore keeps the home page's figures at
// most. Mailing writes drop them at once (on every instance when the cache
// is shared, Redis); the TTL bounds what no hook reports: another
// instance's write when each instance has its own in-memory cache, and
// client edits and deletions, which change the unique-client count.
const DefaultCacheTTL = 5 * time.Second

// CacheTag is the tag of the cached home figures: invalidate it when
// mailings change.
const CacheTag = "mailings"

// CacheOptions configure a CachedStore. Zero fields take defaults.
type CacheOptions struct {
	TTL     time.Duration // DefaultCacheTTL
	Prefix  string        // before every key and tag, e.g. "skychimp:"
	Timeout time.Duration // per cache operation (tagcache.DefaultTimeout)
	Logger  *slog.Logger
}

// CachedStore is a Store whose HomeFigures come from a cache, kept for the
// TTL but never past HomeFigures.NextChange, so a mailing that starts or
// ends by the clock alone is counted as active exactly when it should be.
// The other figures are per user, read in the panel, and follow the
// ledger as it changes: they always reach the store.
//
// Nothing writes through a Stats store: call Invalidate (or pass
// MailingChanged to mailing.WithChangeHook) after mailings change. A cache
// that fails or is slow is read as a miss, and the store answers.
type CachedStore struct {
	Store
	c   *tagcache.Cache
	ttl time.Duration
}

// NewCachedStore returns s with its home figures cached in c, any gocache
// cache (in-memory or Redis; values are marshalled). c is never cleared.
func NewCachedStore(s Store, c cache.CacheInterface[any], o CacheOptions) *CachedStore {
	if o.TTL <= 0 {
		o.TTL = DefaultCacheTTL
	}
	return &CachedStore{
		Store: s,
		c:     tagcache.New(c, tagcache.Options{Prefix: o.Prefix, Timeout: o.Timeout, Logger: o.Logger}),
		ttl:   o.TTL,
	}
}

var tags = []string{CacheTag}

// HomeFigures serves the home figures from the cache. Figures cached
// before their NextChange has passed (by now) are recomputed.
func (s *CachedStore) HomeFigures(ctx context.Context, now time.Time) (HomeFigures, error) {
	f, err := s.home(ctx, now)
	if err == nil && !f.NextChange.IsZero() && now.After(f.NextChange) {
		s.Invalidate(ctx) // a mailing started or ended since: recompute
		f, err = s.home(ctx, now)
	}
	return f, err
}

func (s *CachedStore) home(ctx context.Context, now time.Time) (HomeFigures, error) {
	return tagcache.Fetch(ctx, s.c, "stats:home", tags, func(ctx context.Context) (HomeFigures, time.Duration, error) {
		f, err := s.Store.HomeFigures(ctx, now)
		ttl := s.ttl
		if !f.NextChange.IsZero() {
			// Active changes just after NextChange: expire then.
			ttl = max(min(ttl, f.NextChange.Sub(now)+time.Millisecond), 0)
		}
		return f, ttl, err
	})
}

// Invalidate drops the cached home figures, here and (with a shared
// cache) on every instance. Errors are logged, never returned.
func (s *CachedStore) Invalidate(ctx context.Context) {
	_ = s.c.Invalidate(context.WithoutCancel(ctx), CacheTag)
}

// MailingChanged is Invalidate with the signature of
// mailing.WithChangeHook.
func (s *CachedStore) MailingChanged(ctx context.Context, _ int64) { s.Invalidate(ctx) }
