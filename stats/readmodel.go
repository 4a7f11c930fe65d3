package stats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/eko/gocache/lib/v4/cache"
	"golang.org/x/sync/singleflight"

	"github.com/skychimp/skychimp/internal/tagcache"
	"github.com/skychimp/skychimp/mailing"
)

// Defaults of ReadModelOptions.
const (
	DefaultCatalogEvery = 5 * time.Second
	DefaultLedgerEvery  = 10 * time.Second
	DefaultMaxWait      = time.Second
	DefaultPollEvery    = time.Second
	DefaultLoadTimeout  = 2 * time.Minute
	// DefaultLedgerDutyFactor spaces ledger reads at least 10 times their
	// own duration apart: however large the ledger grows, the read model
	// keeps the database busy at most about 1/11 of the time.
	DefaultLedgerDutyFactor = 10
)

// Clock is the read model's time: mailing.SystemClock and
// mailingtest.FakeClock are both.
type Clock interface {
	mailing.Clock
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// ReadModelOptions configure a ReadModel. Zero fields take defaults.
type ReadModelOptions struct {
	// CatalogEvery is how often the mailings and clients are read again
	// (DefaultCatalogEvery). It bounds how long a change no hook reports
	// takes to show: another instance's mailing change (without a shared
	// cache), and every client change.
	CatalogEvery time.Duration
	// LedgerEvery is how often, at most, the ledger is counted again
	// (DefaultLedgerEvery).
	LedgerEvery time.Duration
	// LedgerDutyFactor also spaces ledger reads this many times their own
	// duration apart (DefaultLedgerDutyFactor), so that a large ledger is
	// counted less often instead of keeping the database busy.
	LedgerDutyFactor float64
	// MaxWait bounds how long a read waits for the catalog after
	// Invalidate (DefaultMaxWait); after that it gets the previous one.
	MaxWait time.Duration
	// LoadTimeout bounds one read of the store (DefaultLoadTimeout).
	LoadTimeout time.Duration
	// Days is how many days of hourly sends are kept, ending today
	// (DefaultDays): Dashboard charts of up to Days days are served from
	// memory, longer ones from the store.
	Days int
	// Shared, when set, is a cache every instance shares (Redis): each
	// Invalidate is published through it (under CacheTag, after Prefix),
	// and Run polls it every PollEvery (DefaultPollEvery), so that a
	// mailing change made on another instance shows here within PollEvery
	// instead of CatalogEvery. A cache that fails is logged and ignored.
	Shared    cache.CacheInterface[any]
	Prefix    string
	PollEvery time.Duration
	Clock     Clock // mailing.SystemClock
	Logger    *slog.Logger
}

// ReadModel is a Store whose home and dashboard figures come from memory:
// a snapshot of every owner's figures, read from the store off the
// request path, so that a request costs the same whatever the size of
// the ledger. It is safe for concurrent use.
//
// The snapshot has two parts, refreshed apart because they cost very
// differently:
//
//   - The catalog (every mailing's window, every owner's client counts)
//     is a pass over the mailings and clients. It is read again every
//     CatalogEvery and at once after Invalidate; the first read after
//     Invalidate waits for it (at most MaxWait), so a change made through
//     this process is seen by the next page. Active and NextChange are
//     computed from the windows at the moment asked, so they change
//     exactly when a mailing starts or ends, without any refresh.
//   - The ledger part (deliveries by state, attempts per hour over the
//     last Days days) is a pass over the whole ledger. It is counted again
//     every LedgerEvery, or LedgerDutyFactor times its last duration if
//     that is longer; reads never wait for it except for the very first.
//
// Staleness bounds, while Run runs:
//
//   - a mailing change through a service whose change hook calls
//     Invalidate (MailingChanged) shows on the next read in this process,
//     and within PollEvery on the other instances sharing the Shared
//     cache;
//   - any other change to mailings or clients (another instance without a
//     shared cache, client imports, edits and deletions) within
//     CatalogEvery plus one catalog read;
//   - the ledger counts and charts are at most max(LedgerEvery,
//     LedgerDutyFactor × d) + d old, where d is how long one ledger read
//     takes (UserFigures.AsOf says when they were read); after
//     LedgerChanged (PassDone, from the scheduler), LedgerDutyFactor × d
//   - d at most after the last read.
//
// Without Run, reads start the refreshes themselves when a part is older
// than its interval, and still return at once with the figures they have.
//
// Memory: an entry per mailing, per owner, and per owner and hour with
// attempts in the kept days.
//
// HourlySends with a mailing, or reaching before the kept days, and
// ClientStatuses go to the store.
type ReadModel struct {
	store Store
	o     ReadModelOptions

	sf     singleflight.Group
	gen    atomic.Uint64 // bumped by every Invalidate
	dirty  atomic.Bool   // set by LedgerChanged until a ledger read starts
	reads  atomic.Uint64 // reads of the store started
	shared *tagcache.Cache
	cat    atomic.Pointer[catalogView]
	led    atomic.Pointer[ledgerView]
	kick   chan struct{}

	// afterLoad, when set (by tests), is called after every load.
	afterLoad func(part string, err error)
}

var _ Store = (*ReadModel)(nil)

// NewReadModel returns a read model over s. Start Run to keep it fresh in
// the background; call Invalidate (or pass MailingChanged to
// mailing.WithChangeHook) after mailings change.
func NewReadModel(s Store, o ReadModelOptions) *ReadModel {
	if o.CatalogEvery <= 0 {
		o.CatalogEvery = DefaultCatalogEvery
	}
	if o.LedgerEvery <= 0 {
		o.LedgerEvery = DefaultLedgerEvery
	}
	if o.LedgerDutyFactor <= 0 {
		o.LedgerDutyFactor = DefaultLedgerDutyFactor
	}
	if o.MaxWait <= 0 {
		o.MaxWait = DefaultMaxWait
	}
	if o.LoadTimeout <= 0 {
		o.LoadTimeout = DefaultLoadTimeout
	}
	if o.Days <= 0 {
		o.Days = DefaultDays
	}
	if o.Clock == nil {
		o.Clock = mailing.SystemClock{}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.PollEvery <= 0 {
		o.PollEvery = DefaultPollEvery
	}
	m := &ReadModel{store: s, o: o, kick: make(chan struct{}, 1)}
	if o.Shared != nil {
		m.shared = tagcache.New(o.Shared, tagcache.Options{Prefix: o.Prefix, Logger: o.Logger, Now: o.Clock.Now})
	}
	return m
}

// Invalidate marks the catalog out of date: the next read waits for a
// new one, which Run starts at once. Call it after mailings change. With
// a Shared cache, every instance's Run sees it within PollEvery.
func (m *ReadModel) Invalidate(ctx context.Context) {
	m.invalidate()
	if m.shared != nil {
		_ = m.shared.Invalidate(context.WithoutCancel(ctx), CacheTag) // logged
	}
}

func (m *ReadModel) invalidate() {
	m.gen.Add(1)
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// MailingChanged is Invalidate with the signature of
// mailing.WithChangeHook.
func (m *ReadModel) MailingChanged(ctx context.Context, _ int64) { m.Invalidate(ctx) }

// LedgerChanged says the ledger changed (an engine pass recorded
// attempts): it is counted again as soon as LedgerDutyFactor allows,
// without waiting for LedgerEvery.
func (m *ReadModel) LedgerChanged() {
	m.dirty.Store(true)
	select {
	case m.kick <- struct{}{}:
	default:
	}
}

// PassDone calls LedgerChanged after a pass that recorded any attempt: it
// has the signature of mailing.SchedulerConfig.OnPass.
func (m *ReadModel) PassDone(s mailing.Summary, _ error) {
	if s.Sent+s.Failed+s.Retried+s.Unknown > 0 {
		m.LedgerChanged()
	}
}

// Refresh reads both parts from the store, in reads that start after it
// was called, and waits for them. Run does this on its own; tests and
// tools call it to see a change at once.
func (m *ReadModel) Refresh(ctx context.Context) error {
	after := m.reads.Load()
	var errs []error
	for _, part := range []string{partCatalog, partLedger} {
		for {
			v, err := m.load(ctx, part)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if v.(interface{ readNo() uint64 }).readNo() > after {
				break
			}
			// It joined a read that started before: read again.
		}
	}
	return errors.Join(errs...)
}

// Run keeps the snapshot fresh until ctx ends: it reads the catalog every
// CatalogEvery and at once after Invalidate, and the ledger as often as
// LedgerEvery and LedgerDutyFactor allow. A failed read is logged and
// tried again at the next interval; readers keep the figures they had.
// It returns nil when ctx ends.
func (m *ReadModel) Run(ctx context.Context) error {
	var catTried, ledTried, polled time.Time
	var catGen uint64
	var seen string // the shared generation last polled
	for {
		now := m.o.Clock.Now()
		if m.shared != nil && !now.Before(polled.Add(m.o.PollEvery)) {
			if g, ok := m.shared.Generation(ctx, CacheTag); ok {
				if !polled.IsZero() && g != seen {
					m.invalidate() // another instance (or this one) changed mailings
				}
				seen = g
			}
			polled = now
		}
		if gen := m.gen.Load(); m.cat.Load() == nil || gen != catGen || !now.Before(catTried.Add(m.o.CatalogEvery)) {
			catTried, catGen = now, gen
			_, _ = m.load(ctx, partCatalog)
		}
		if l := m.led.Load(); l == nil || !now.Before(ledTried.Add(m.ledgerSpacing(l))) {
			ledTried = now
			_, _ = m.load(ctx, partLedger)
		}
		if ctx.Err() != nil {
			return nil
		}
		now = m.o.Clock.Now()
		wait := min(catTried.Add(m.o.CatalogEvery).Sub(now), ledTried.Add(m.ledgerSpacing(m.led.Load())).Sub(now))
		if m.shared != nil {
			wait = min(wait, polled.Add(m.o.PollEvery).Sub(now))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-m.kick:
		case <-m.o.Clock.After(wait):
		}
	}
}

// catalogDue reports whether c is older than CatalogEvery (or missing).
func (m *ReadModel) catalogDue(c *catalogView) bool {
	return c == nil || !m.o.Clock.Now().Before(c.at.Add(m.o.CatalogEvery))
}

// ledgerDue reports whether l is older than its spacing (or missing).
func (m *ReadModel) ledgerDue(l *ledgerView) bool {
	return l == nil || !m.o.Clock.Now().Before(l.at.Add(m.ledgerSpacing(l)))
}

// ledgerSpacing is the least time between two ledger reads after l:
// LedgerEvery, or after LedgerChanged only LedgerDutyFactor times l's
// duration, whichever is longer.
func (m *ReadModel) ledgerSpacing(l *ledgerView) time.Duration {
	if l == nil {
		return m.o.LedgerEvery // the first read failed: try again later
	}
	duty := time.Duration(m.o.LedgerDutyFactor * float64(l.took))
	if m.dirty.Load() {
		return duty
	}
	return max(m.o.LedgerEvery, duty)
}

const (
	partCatalog = "catalog"
	partLedger  = "ledger"
)

// load reads one part from the store (one read at a time per part:
// concurrent callers share it) and publishes it.
func (m *ReadModel) load(ctx context.Context, part string) (any, error) {
	v, err, _ := m.sf.Do(part, func() (any, error) { return m.read(ctx, part) })
	return v, err
}

// loadAsync starts a read of part, unless one is in flight, and returns
// the channel of its result. The read runs detached from ctx's
// cancellation, so that a request that goes away does not waste it.
//
// satisfied, checked when the read would start, says whether the part
// published meanwhile already serves the caller (a reader that missed
// just before a read ended must not start another): the read is then
// skipped and the published part returned.
func (m *ReadModel) loadAsync(ctx context.Context, part string, satisfied func() bool) <-chan singleflight.Result {
	ctx = context.WithoutCancel(ctx)
	return m.sf.DoChan(part, func() (any, error) {
		if satisfied() {
			if part == partCatalog {
				return m.cat.Load(), nil
			}
			return m.led.Load(), nil
		}
		return m.read(ctx, part)
	})
}

func (m *ReadModel) read(ctx context.Context, part string) (v any, err error) {
	ctx, cancel := context.WithTimeout(ctx, m.o.LoadTimeout)
	defer cancel()
	start := m.o.Clock.Now()
	no := m.reads.Add(1)
	switch part {
	case partCatalog:
		gen := m.gen.Load() // before reading: a later Invalidate needs a later read
		var c Catalog
		if c, err = m.store.Catalog(ctx); err == nil {
			cv := newCatalogView(c, start, gen)
			cv.no = no
			m.cat.Store(cv)
			v = cv
		}
	case partLedger:
		m.dirty.Store(false) // a change from now on needs another read
		since := start.Add(-time.Duration(m.o.Days+1) * 24 * time.Hour).Truncate(time.Hour)
		var l Ledger
		if l, err = m.store.Ledger(ctx, since); err == nil {
			lv := newLedgerView(l, start, since, m.o.Clock.Now().Sub(start))
			lv.no = no
			m.led.Store(lv)
			v = lv
		}
	}
	if err != nil {
		err = fmt.Errorf("stats: read model: %s: %w", part, err)
		if ctx.Err() == nil || !errors.Is(err, context.Canceled) {
			m.o.Logger.WarnContext(ctx, "stats: reading figures failed; serving the previous ones", "part", part, "err", err)
		}
	}
	if m.afterLoad != nil {
		m.afterLoad(part, err)
	}
	return v, err
}

// catalog returns the catalog to answer from: the current one, or, when
// there is none yet or it predates an Invalidate, the next one (waiting
// at most MaxWait when there is an older one to fall back on).
func (m *ReadModel) catalog(ctx context.Context) (*catalogView, error) {
	want := m.gen.Load()
	c := m.cat.Load()
	if c != nil && c.gen >= want {
		if m.catalogDue(c) {
			m.loadAsync(ctx, partCatalog, func() bool { return !m.catalogDue(m.cat.Load()) }) // for the next reader
		}
		return c, nil
	}
	current := func() bool { c := m.cat.Load(); return c != nil && c.gen >= want }
	var timeout <-chan time.Time
	if c != nil {
		timeout = m.o.Clock.After(m.o.MaxWait)
	}
	for {
		select {
		case r := <-m.loadAsync(ctx, partCatalog, current):
			if r.Err != nil {
				if c != nil {
					return c, nil
				}
				return nil, r.Err
			}
			if nc := r.Val.(*catalogView); nc.gen >= want {
				return nc, nil
			}
			// That read started before the Invalidate we wait for: read again.
		case <-timeout:
			return c, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("stats: read model: %w", ctx.Err())
		}
	}
}

// ledger returns the ledger counts to answer from: the current ones
// (starting a refresh when they are due), or the first ones.
func (m *ReadModel) ledger(ctx context.Context) (*ledgerView, error) {
	if l := m.led.Load(); l != nil {
		if m.ledgerDue(l) {
			m.loadAsync(ctx, partLedger, func() bool { return !m.ledgerDue(m.led.Load()) }) // for the next reader
		}
		return l, nil
	}
	select {
	case r := <-m.loadAsync(ctx, partLedger, func() bool { return m.led.Load() != nil }):
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*ledgerView), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("stats: read model: %w", ctx.Err())
	}
}

// HomeFigures returns the home page's figures at now from the catalog.
func (m *ReadModel) HomeFigures(ctx context.Context, now time.Time) (HomeFigures, error) {
	c, err := m.catalog(ctx)
	if err != nil {
		return HomeFigures{}, err
	}
	return HomeFigures{Mailings: c.all.mailings, Active: c.all.active(now), UniqueClients: c.unique, NextChange: c.all.next(now)}, nil
}

// UserFigures returns an owner's figures at now from the snapshot.
func (m *ReadModel) UserFigures(ctx context.Context, ownerID int64, now time.Time) (UserFigures, error) {
	c, err := m.catalog(ctx)
	if err != nil {
		return UserFigures{}, err
	}
	l, err := m.ledger(ctx)
	if err != nil {
		return UserFigures{}, err
	}
	f := UserFigures{AsOf: l.at}
	var d DeliveryCounts
	if ownerID == 0 {
		f.Mailings, f.Active = c.all.mailings, c.all.active(now)
		f.Clients, f.UniqueClients = c.clients, c.unique
		d = l.all
	} else {
		if w := c.owners[ownerID]; w != nil {
			f.Mailings, f.Active = w.mailings, w.active(now)
		}
		cc := c.counts[ownerID]
		f.Clients, f.UniqueClients = cc.Clients, cc.UniqueClients
		d = l.owners[ownerID]
	}
	f.Sent, f.Failed, f.Unknown, f.Pending = d.Sent, d.Failed, d.Unknown, d.Pending
	return f, nil
}

// HourlySends serves an owner's (or everyone's) hours from the snapshot
// when it holds them all: no mailing filter, From on a whole hour within
// the kept days, and To on a whole hour or after the snapshot. Anything
// else goes to the store. The slice returned from the snapshot is shared
// by every caller: read it, do not change its elements.
func (m *ReadModel) HourlySends(ctx context.Context, f SendsFilter) ([]SendCount, error) {
	if f.MailingID != 0 || !f.From.Equal(f.From.Truncate(time.Hour)) {
		return m.store.HourlySends(ctx, f)
	}
	l, err := m.ledger(ctx)
	if err != nil {
		return nil, err
	}
	if f.From.Before(l.since) || !f.To.Equal(f.To.Truncate(time.Hour)) && f.To.Before(l.at) {
		return m.store.HourlySends(ctx, f)
	}
	hours := l.allHours
	if f.OwnerID != 0 {
		hours = l.hours[f.OwnerID]
	}
	i := sort.Search(len(hours), func(i int) bool { return !hours[i].Start.Before(f.From) })
	j := sort.Search(len(hours), func(i int) bool { return !hours[i].Start.Before(f.To) })
	if i >= j {
		return nil, nil
	}
	return hours[i:j:j], nil // shared, not copied: an append reallocates
}

// ClientStatuses goes to the store: a mailing's report follows its
// ledger as it changes, and reads only that mailing's rows.
func (m *ReadModel) ClientStatuses(ctx context.Context, mailingID int64, o mailing.ListOptions) ([]ClientStatus, int, error) {
	return m.store.ClientStatuses(ctx, mailingID, o)
}

// Catalog reads the store's catalog (not the snapshot).
func (m *ReadModel) Catalog(ctx context.Context) (Catalog, error) { return m.store.Catalog(ctx) }

// Ledger reads the store's ledger counts (not the snapshot).
func (m *ReadModel) Ledger(ctx context.Context, since time.Time) (Ledger, error) {
	return m.store.Ledger(ctx, since)
}

// catalogView is a catalog ready to answer: windows sorted for counting.
type catalogView struct {
	no      uint64 // the read's number (ReadModel.reads)
	at      time.Time
	gen     uint64
	all     *windows
	owners  map[int64]*windows
	counts  map[int64]ClientCounts
	clients int
	unique  int
}

func newCatalogView(c Catalog, at time.Time, gen uint64) *catalogView {
	v := &catalogView{at: at, gen: gen, all: &windows{}, owners: map[int64]*windows{}, counts: c.Owners, unique: c.UniqueClients}
	if v.counts == nil {
		v.counts = map[int64]ClientCounts{}
	}
	for _, cc := range v.counts {
		v.clients += cc.Clients
	}
	for _, w := range c.Mailings {
		ow := v.owners[w.OwnerID]
		if ow == nil {
			ow = &windows{}
			v.owners[w.OwnerID] = ow
		}
		v.all.add(w)
		ow.add(w)
	}
	v.all.sort()
	for _, ow := range v.owners {
		ow.sort()
	}
	return v
}

func (v *catalogView) readNo() uint64 { return v.no }

// windows are mailing windows arranged so that the number of mailings
// running at any moment, and the next moment it changes, take two binary
// searches.
type windows struct {
	mailings int
	// starts and ends of the enabled mailings with Start <= End, each
	// sorted: at now, #(start <= now) - #(end < now) are running.
	starts, ends []time.Time
	// odd are enabled mailings ending before they start: never running,
	// but their times still count as changes (as in the SQL).
	odd []MailingWindow
}

func (w *windows) add(m MailingWindow) {
	w.mailings++
	switch {
	case !m.Enabled:
	case m.Start.After(m.End):
		w.odd = append(w.odd, m)
	default:
		w.starts = append(w.starts, m.Start)
		w.ends = append(w.ends, m.End)
	}
}

func (w *windows) sort() {
	slices.SortFunc(w.starts, time.Time.Compare)
	slices.SortFunc(w.ends, time.Time.Compare)
}

// started is the number of starts at or before now; ended the number of
// ends before now.
func (w *windows) started(now time.Time) int {
	return sort.Search(len(w.starts), func(i int) bool { return w.starts[i].After(now) })
}

func (w *windows) ended(now time.Time) int {
	return sort.Search(len(w.ends), func(i int) bool { return !w.ends[i].Before(now) })
}

// active counts the enabled mailings with Start <= now <= End.
func (w *windows) active(now time.Time) int { return w.started(now) - w.ended(now) }

// next is the earliest start after now or end at or after now of an
// enabled mailing (HomeFigures.NextChange), zero when none.
func (w *windows) next(now time.Time) time.Time {
	var t time.Time
	earlier := func(c time.Time) {
		if t.IsZero() || c.Before(t) {
			t = c
		}
	}
	if i := w.started(now); i < len(w.starts) {
		earlier(w.starts[i])
	}
	if i := w.ended(now); i < len(w.ends) {
		earlier(w.ends[i])
	}
	for _, m := range w.odd {
		if m.Start.After(now) {
			earlier(m.Start)
		}
		if !m.End.Before(now) {
			earlier(m.End)
		}
	}
	return t
}

// ledgerView is the ledger's counts ready to answer, with everyone's
// summed.
type ledgerView struct {
	no        uint64 // the read's number (ReadModel.reads)
	at, since time.Time
	took      time.Duration
	owners    map[int64]DeliveryCounts
	all       DeliveryCounts
	hours     map[int64][]SendCount
	allHours  []SendCount
}

func (v *ledgerView) readNo() uint64 { return v.no }

func newLedgerView(l Ledger, at, since time.Time, took time.Duration) *ledgerView {
	v := &ledgerView{at: at, since: since, took: took, owners: l.Deliveries, hours: l.Hours}
	if v.owners == nil {
		v.owners = map[int64]DeliveryCounts{}
	}
	if v.hours == nil {
		v.hours = map[int64][]SendCount{}
	}
	for _, d := range v.owners {
		v.all.Sent += d.Sent
		v.all.Failed += d.Failed
		v.all.Unknown += d.Unknown
		v.all.Pending += d.Pending
	}
	byHour := map[time.Time]*SendCount{}
	for _, hs := range v.hours {
		for _, h := range hs {
			c := byHour[h.Start]
			if c == nil {
				c = &SendCount{Start: h.Start}
				byHour[h.Start] = c
			}
			c.Sent += h.Sent
			c.Failed += h.Failed
			c.Retried += h.Retried
			c.Unknown += h.Unknown
		}
	}
	v.allHours = make([]SendCount, 0, len(byHour))
	for _, c := range byHour {
		v.allHours = append(v.allHours, *c)
	}
	slices.SortFunc(v.allHours, func(a, b SendCount) int { return cmp.Compare(a.Start.UnixNano(), b.Start.UnixNano()) })
	return v
}
