package tagcache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"github.com/eko/gocache/lib/v4/marshaler"
	"github.com/eko/gocache/lib/v4/store"
	"golang.org/x/sync/singleflight"
)

// Defaults of Options.
const (
	DefaultTimeout = 250 * time.Millisecond
	DefaultBackoff = 2 * time.Second
	// genTTL is how long a tag's generation stamp is kept. A stamp that
	// expires only makes a load in flight at that moment discard its value.
	genTTL = 24 * time.Hour
)

// Options configure a Cache. The zero value is usable.
type Options struct {
	// Prefix goes before every key and tag, so that several deployments (or
	// tests) can share one Redis database: "skychimp:".
	Prefix string
	// Timeout bounds each cache operation (default DefaultTimeout): a slow
	// cache costs a page at most this long, then counts as a miss.
	Timeout time.Duration
	// Backoff is how long the cache is bypassed after an error (default
	// DefaultBackoff), so that a dead Redis costs one timeout per Backoff,
	// not one per request. Invalidate is always attempted.
	Backoff time.Duration
	// Logger receives cache errors (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock of the backoff (default time.Now).
	Now func() time.Time
}

// Cache keeps values marshalled (msgpack, through gocache's marshaler) in
// any gocache cache, under keys with tags, and treats every cache error as
// a miss: Fetch then loads from the source and the page is served.
//
// A nil *Cache caches nothing: Fetch always loads.
type Cache struct {
	raw  cache.CacheInterface[any]
	m    *marshaler.Marshaler
	opts Options

	sf singleflight.Group
	// setMu makes this process's writes take turns: the go_cache store
	// builds a tag's key set with a read-modify-write that loses keys
	// under concurrent first writes. Writes happen on misses only.
	setMu     sync.Mutex
	local     atomic.Uint64 // bumped by every Invalidate in this process
	downUntil atomic.Int64  // unix nanoseconds: bypass the cache until then
}

// New returns a Cache over c, which is never cleared (a Redis store's
// Clear is FLUSHALL).
func New(c cache.CacheInterface[any], o Options) *Cache {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Backoff <= 0 {
		o.Backoff = DefaultBackoff
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Cache{raw: c, m: marshaler.New(c), opts: o}
}

// Fetch returns the value cached under key, or calls load, caches what it
// returns under key with tags for the ttl load returns (0 or less: not
// cached), and returns it. Concurrent misses of one key share one load.
//
// A cache error (unreachable, slow, undecodable) is logged and read as a
// miss; only load's own error is returned.
//
// Values handed to concurrent callers of one load are the same value:
// treat them as read-only (copy a slice before changing it).
//
// A value loaded while an Invalidate of one of its tags ran (in this
// process, or in any process sharing the cache) is discarded after it was
// stored, so that a load that read the source before a write cannot put
// the old value back after the write's invalidation.
func Fetch[T any](ctx context.Context, c *Cache, key string, tags []string, load func(context.Context) (T, time.Duration, error)) (T, error) {
	if c == nil {
		v, _, err := load(ctx)
		return v, err
	}
	key = c.opts.Prefix + key
	if c.up() {
		var v T
		if ok := c.get(ctx, key, &v); ok {
			return v, nil
		}
	}
	do := func() (any, error) { return fill(ctx, c, key, tags, load) }
	res, err, _ := c.sf.Do(key, do)
	if err != nil && ctx.Err() == nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		// The shared load ran under another caller's context, which ended.
		res, err = do()
	}
	if err != nil {
		var zero T
		return zero, err
	}
	return res.(T), nil
}

// fill loads a value and stores it, guarded by the tags' generations.
func fill[T any](ctx context.Context, c *Cache, key string, tags []string, load func(context.Context) (T, time.Duration, error)) (T, error) {
	local := c.local.Load()
	var gens []string
	if c.up() {
		gens = c.generations(ctx, tags)
	}
	v, ttl, err := load(ctx)
	if err != nil || ttl <= 0 || !c.up() {
		return v, err
	}
	if !c.set(ctx, key, v, ttl, tags) {
		return v, nil
	}
	if c.local.Load() != local || !equal(gens, c.generations(ctx, tags)) {
		c.delete(ctx, key)
	}
	return v, nil
}

// Invalidate drops every value stored with any of tags, here and, when
// the cache is shared (Redis), on every instance. Errors are logged and
// returned; the caller's write has happened and must not fail for them.
func (c *Cache) Invalidate(ctx context.Context, tags ...string) error {
	if c == nil {
		return nil
	}
	c.local.Add(1)
	var errs []error
	for _, tag := range tags {
		tag = c.opts.Prefix + tag
		octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		// A new generation first: loads in flight see it and discard.
		if err := c.m.Set(octx, c.genKey(tag), newGeneration(), store.WithExpiration(genTTL)); err != nil {
			errs = append(errs, err)
		}
		// One tag per call: the go_cache store stops at the first tag it
		// has no keys for.
		if err := c.raw.Invalidate(octx, store.WithInvalidateTags([]string{tag})); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	err := errors.Join(errs...)
	if err != nil {
		c.opts.Logger.WarnContext(ctx, "cache: invalidate failed; other instances may show old data until it expires", "tags", tags, "err", err)
	}
	return err
}

// Generation returns tag's generation stamp, which every Invalidate of
// tag changes, in any process sharing the cache: polling it tells a
// process that another one invalidated tag. It is "" when tag was never
// invalidated (or its stamp expired, after a day); ok is false when the
// cache did not answer or is bypassed after an error.
func (c *Cache) Generation(ctx context.Context, tag string) (gen string, ok bool) {
	if c == nil || !c.up() {
		return "", false
	}
	g := c.generations(ctx, []string{tag})[0]
	if g != "" && g[0] == '?' {
		return "", false
	}
	return g, true
}

// Up reports whether the cache is in use (not bypassed after an error).
func (c *Cache) Up() bool { return c != nil && c.up() }

func (c *Cache) up() bool { return c.opts.Now().UnixNano() >= c.downUntil.Load() }

// fail logs err and bypasses the cache for the backoff.
func (c *Cache) fail(ctx context.Context, op string, err error) {
	until := c.opts.Now().Add(c.opts.Backoff).UnixNano()
	if old := c.downUntil.Swap(until); old < c.opts.Now().UnixNano() {
		c.opts.Logger.WarnContext(ctx, "cache: error, serving from the database", "op", op, "err", err, "bypass", c.opts.Backoff)
	}
}

func (c *Cache) get(ctx context.Context, key string, dst any) bool {
	octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	_, err := c.m.Get(octx, key, dst)
	switch {
	case err == nil:
		utcTimes(reflect.ValueOf(dst))
		return true
	case isNotFound(err):
	case ctx.Err() != nil: // the caller went away: not the cache's fault
	default:
		c.fail(ctx, "get "+key, err)
	}
	return false
}

func (c *Cache) set(ctx context.Context, key string, v any, ttl time.Duration, tags []string) bool {
	octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	opts := []store.Option{store.WithExpiration(ttl)}
	if len(tags) > 0 {
		full := make([]string, len(tags))
		for i, t := range tags {
			full[i] = c.opts.Prefix + t
		}
		opts = append(opts, store.WithTags(full))
	}
	c.setMu.Lock()
	err := c.m.Set(octx, key, v, opts...)
	c.setMu.Unlock()
	if err != nil {
		if ctx.Err() == nil {
			c.fail(ctx, "set "+key, err)
		}
		return false
	}
	return true
}

func (c *Cache) delete(ctx context.Context, key string) {
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
	defer cancel()
	if err := c.m.Delete(octx, key); err != nil {
		c.fail(ctx, "delete "+key, err)
	}
}

func (c *Cache) genKey(fullTag string) string { return c.opts.Prefix + "gen:" + fullTag }

// generations reads the current generation stamp of each tag ("" when
// none, or unreadable).
func (c *Cache) generations(ctx context.Context, tags []string) []string {
	out := make([]string, len(tags))
	for i, t := range tags {
		octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
		var g string
		if _, err := c.m.Get(octx, c.genKey(c.opts.Prefix+t), &g); err == nil {
			out[i] = g
		} else if !isNotFound(err) {
			out[i] = "?" + newGeneration() // unknown: compare unequal
		}
		cancel()
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] || a[i] != "" && a[i][0] == '?' {
			return false
		}
	}
	return true
}

func newGeneration() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isNotFound(err error) bool {
	var nf *store.NotFound
	return errors.As(err, &nf) || errors.Is(err, &store.NotFound{})
}

var timeType = reflect.TypeFor[time.Time]()

// utcTimes sets every time.Time reachable from v to UTC: msgpack decodes
// times in the local zone, the stores return them in UTC. It visits only
// the parts of v whose type may hold a time (see timeFields).
func utcTimes(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			utcTimes(v.Elem())
		}
	case reflect.Struct:
		if v.Type() == timeType {
			if v.CanAddr() {
				p := v.Addr().Interface().(*time.Time)
				*p = p.UTC()
			} else if v.CanSet() {
				v.Set(reflect.ValueOf(v.Interface().(time.Time).UTC()))
			}
			return
		}
		for _, i := range timeFields(v.Type()) {
			utcTimes(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		if !hasTime(v.Type().Elem()) {
			return
		}
		for i := range v.Len() {
			utcTimes(v.Index(i))
		}
	case reflect.Map:
		if !hasTime(v.Type().Elem()) {
			return
		}
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			utcTimes(e)
			v.SetMapIndex(k, e)
		}
	}
}

// typeInfo caches, per type, whether it may hold a time and, for structs,
// which exported fields may.
var typeInfo sync.Map // reflect.Type -> *timeInfo

type timeInfo struct {
	has    bool
	fields []int
}

func infoOf(t reflect.Type) *timeInfo {
	if ti, ok := typeInfo.Load(t); ok {
		return ti.(*timeInfo)
	}
	ti := &timeInfo{has: hasTimeSeen(t, map[reflect.Type]bool{})}
	if t.Kind() == reflect.Struct {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.IsExported() && hasTimeSeen(f.Type, map[reflect.Type]bool{}) {
				ti.fields = append(ti.fields, i)
			}
		}
	}
	typeInfo.Store(t, ti)
	return ti
}

// hasTime reports whether values of t may hold a time.Time.
func hasTime(t reflect.Type) bool { return infoOf(t).has }

// timeFields lists the exported fields of struct type t that may hold a
// time.Time.
func timeFields(t reflect.Type) []int { return infoOf(t).fields }

func hasTimeSeen(t reflect.Type, seen map[reflect.Type]bool) bool {
	if t == timeType {
		return true
	}
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return hasTimeSeen(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() && hasTimeSeen(t.Field(i).Type, seen) {
				return true
			}
		}
	case reflect.Interface:
		return true
	}
	return false
}
