package mailingtest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/skychimp/skychimp/mailing"
)

// MemStore is an in-memory mailing.Store with the real behaviour of the
// contract: it passes TestStore. It is guarded by one mutex, so it is safe
// for concurrent use, and copies every value in and out.
//
// Choices where the contract leaves room (the SQL store makes the same):
//   - CreatedAt and UpdatedAt are stamped from the store's clock
//     (mailing.SystemClock unless SetClock says otherwise); values the
//     caller put there are ignored. SetMailingEnabled uses its now argument.
//   - OpenRun gives new deliveries NextAttemptAt = RunAt and CreatedAt =
//     UpdatedAt = Now. It does not touch the mailing's UpdatedAt. A zero
//     RunAt creates nothing and only moves NextRun (the engine closes a
//     mailing that is over this way).
//   - ClaimDeliveries takes the earliest NextAttemptAt first, then the
//     lowest id, and needs a non-empty Owner.
//   - A lease has ended at LeaseUntil: ClaimDeliveries takes a row whose
//     LeaseUntil is not after Now. ExpireSending takes rows whose LeaseUntil
//     is before now.
//   - StartDeliveries checks that owner still holds the lease (a lease that
//     expired but that nobody took over can still be started) and, as
//     ClaimDeliveries, that the mailing is enabled and not ended at now: a
//     mailing switched off between claim and start sends nothing.
//   - FinishDeliveries sets LastError to "code response" (or the response
//     alone when there is no code) for every outcome, sent included, and
//     UpdatedAt to the attempt's At plus Duration. It takes an attempt's
//     MailingID, ClientID and RunAt from its delivery, and drops an attempt
//     whose delivery no longer exists (its mailing was deleted).
//   - An empty non-nil IDs slice selects nothing, in every filter.
//   - RunSummaries of a missing mailing is empty, not ErrNotFound.
type MemStore struct {
	mu    sync.Mutex
	clock mailing.Clock

	clients    map[int64]mailing.Client
	messages   map[int64]mailing.Message
	mailings   map[int64]mailing.Mailing
	deliveries map[int64]mailing.Delivery
	attempts   map[int64]mailing.Attempt
	runs       map[mailing.RunRef]memRun
	engines    map[string]time.Time // heartbeats: name -> until

	lastClient, lastMessage, lastMailing, lastDelivery, lastAttempt int64
}

var _ mailing.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{
		clock:      mailing.SystemClock{},
		clients:    map[int64]mailing.Client{},
		messages:   map[int64]mailing.Message{},
		mailings:   map[int64]mailing.Mailing{},
		deliveries: map[int64]mailing.Delivery{},
		attempts:   map[int64]mailing.Attempt{},
		runs:       map[mailing.RunRef]memRun{},
		engines:    map[string]time.Time{},
	}
}

// SetClock makes the store stamp CreatedAt and UpdatedAt from c, for
// example a FakeClock.
func (s *MemStore) SetClock(c mailing.Clock) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = c
}

// utc returns t in UTC truncated to whole microseconds, as stores keep it.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

func (s *MemStore) now() time.Time { return utc(s.clock.Now()) }

// lock takes the mutex once ctx is checked.
func (s *MemStore) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	return nil
}

func notFound(what string, id int64) error {
	return fmt.Errorf("%s %d: %w", what, id, mailing.ErrNotFound)
}

// sortedIDs returns m's keys in ascending order.
func sortedIDs[V any](m map[int64]V) []int64 {
	return slices.Sorted(maps.Keys(m))
}

// page applies o to items, which are all that matched.
func page[T any](items []T, o mailing.ListOptions) []T {
	if o.Offset > 0 {
		if o.Offset >= len(items) {
			return nil
		}
		items = items[o.Offset:]
	}
	if o.Limit > 0 && o.Limit < len(items) {
		items = items[:o.Limit]
	}
	return items
}

// inIDs reports whether id passes an IDs filter (nil: no filter).
func inIDs(ids []int64, id int64) bool {
	return ids == nil || slices.Contains(ids, id)
}

func cloneMailing(m mailing.Mailing) mailing.Mailing {
	m.ClientIDs = slices.Clone(m.ClientIDs)
	return m
}

// ---- clients ----

// emailTaken returns the client of owner (other than except) whose email
// equals email case-insensitively.
func (s *MemStore) emailTaken(owner int64, email string, except int64) (mailing.Client, bool) {
	key := mailing.NormalizeEmail(email)
	for _, c := range s.clients {
		if c.OwnerID == owner && c.ID != except && mailing.NormalizeEmail(c.Email) == key {
			return c, true
		}
	}
	return mailing.Client{}, false
}

func emailConflict(email string) error {
	return fmt.Errorf("client email %q is already used: %w", email, mailing.ErrConflict)
}

// CreateClient stores c, setting c.ID and c.CreatedAt.
func (s *MemStore) CreateClient(ctx context.Context, c *mailing.Client) error {
	return s.CreateClients(ctx, []*mailing.Client{c})
}

// CreateClients stores all of cs or, on an email clash, none of them.
func (s *MemStore) CreateClients(ctx context.Context, cs []*mailing.Client) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	seen := map[[2]string]bool{}
	for _, c := range cs {
		if _, ok := s.emailTaken(c.OwnerID, c.Email, 0); ok {
			return emailConflict(c.Email)
		}
		key := [2]string{fmt.Sprint(c.OwnerID), mailing.NormalizeEmail(c.Email)}
		if seen[key] {
			return emailConflict(c.Email)
		}
		seen[key] = true
	}
	now := s.now()
	for _, c := range cs {
		s.lastClient++
		c.ID = s.lastClient
		c.CreatedAt = now
		s.clients[c.ID] = *c
	}
	return nil
}

// GetClient returns the client with id, or ErrNotFound.
func (s *MemStore) GetClient(ctx context.Context, id int64) (mailing.Client, error) {
	if err := s.lock(ctx); err != nil {
		return mailing.Client{}, err
	}
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	if !ok {
		return mailing.Client{}, notFound("client", id)
	}
	return c, nil
}

// UpdateClient saves email, name and comment of c.ID.
func (s *MemStore) UpdateClient(ctx context.Context, c mailing.Client) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	old, ok := s.clients[c.ID]
	if !ok {
		return notFound("client", c.ID)
	}
	if _, taken := s.emailTaken(old.OwnerID, c.Email, c.ID); taken {
		return emailConflict(c.Email)
	}
	old.Email, old.Name, old.Comment = c.Email, c.Name, c.Comment
	s.clients[c.ID] = old
	return nil
}

// DeleteClient removes the client and takes it out of every mailing's
// client set; ledger rows stay.
func (s *MemStore) DeleteClient(ctx context.Context, id int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.clients[id]; !ok {
		return notFound("client", id)
	}
	delete(s.clients, id)
	for mid, m := range s.mailings {
		if i := slices.Index(m.ClientIDs, id); i >= 0 {
			m.ClientIDs = slices.Delete(slices.Clone(m.ClientIDs), i, i+1)
			s.mailings[mid] = m
		}
	}
	return nil
}

// ListClients returns the clients matching f ordered by id, and their
// number before paging.
func (s *MemStore) ListClients(ctx context.Context, f mailing.ClientFilter) ([]mailing.Client, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	search := strings.ToLower(f.Search)
	var out []mailing.Client
	for _, id := range sortedIDs(s.clients) {
		c := s.clients[id]
		if f.OwnerID != 0 && c.OwnerID != f.OwnerID || !inIDs(f.IDs, id) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(c.Email), search) && !strings.Contains(strings.ToLower(c.Name), search) {
			continue
		}
		out = append(out, c)
	}
	return page(out, f.ListOptions), len(out), nil
}

// ---- messages ----

// CreateMessage stores m, setting m.ID and m.CreatedAt.
func (s *MemStore) CreateMessage(ctx context.Context, m *mailing.Message) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.lastMessage++
	m.ID = s.lastMessage
	m.CreatedAt = s.now()
	s.messages[m.ID] = *m
	return nil
}

// GetMessage returns the message with id, or ErrNotFound.
func (s *MemStore) GetMessage(ctx context.Context, id int64) (mailing.Message, error) {
	if err := s.lock(ctx); err != nil {
		return mailing.Message{}, err
	}
	defer s.mu.Unlock()
	m, ok := s.messages[id]
	if !ok {
		return mailing.Message{}, notFound("message", id)
	}
	return m, nil
}

// UpdateMessage saves subject and body of m.ID.
func (s *MemStore) UpdateMessage(ctx context.Context, m mailing.Message) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	old, ok := s.messages[m.ID]
	if !ok {
		return notFound("message", m.ID)
	}
	old.Subject, old.Body = m.Subject, m.Body
	s.messages[m.ID] = old
	return nil
}

// DeleteMessage removes a message; ErrConflict while a mailing uses it.
func (s *MemStore) DeleteMessage(ctx context.Context, id int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.messages[id]; !ok {
		return notFound("message", id)
	}
	for _, mid := range sortedIDs(s.mailings) {
		if s.mailings[mid].MessageID == id {
			return fmt.Errorf("message %d is used by mailing %d: %w", id, mid, mailing.ErrConflict)
		}
	}
	delete(s.messages, id)
	return nil
}

// ListMessages returns the messages matching f ordered by id, and their
// number before paging.
func (s *MemStore) ListMessages(ctx context.Context, f mailing.MessageFilter) ([]mailing.Message, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	var out []mailing.Message
	for _, id := range sortedIDs(s.messages) {
		m := s.messages[id]
		if f.OwnerID != 0 && m.OwnerID != f.OwnerID || !inIDs(f.IDs, id) {
			continue
		}
		out = append(out, m)
	}
	return page(out, f.ListOptions), len(out), nil
}

// ---- mailings ----

// checkRefs returns ErrNotFound for a missing message or client of m.
func (s *MemStore) checkRefs(m *mailing.Mailing) error {
	if _, ok := s.messages[m.MessageID]; !ok {
		return notFound("message", m.MessageID)
	}
	for _, id := range m.ClientIDs {
		if _, ok := s.clients[id]; !ok {
			return notFound("client", id)
		}
	}
	return nil
}

// normMailing returns a stored copy of m: sorted unique ClientIDs, UTC µs times.
func normMailing(m mailing.Mailing) mailing.Mailing {
	ids := slices.Clone(m.ClientIDs)
	slices.Sort(ids)
	m.ClientIDs = slices.Compact(ids)
	m.Start, m.End, m.NextRun = utc(m.Start), utc(m.End), utc(m.NextRun)
	m.CreatedAt, m.UpdatedAt = utc(m.CreatedAt), utc(m.UpdatedAt)
	return m
}

// CreateMailing stores m with its client set, setting m.ID, m.CreatedAt
// and m.UpdatedAt.
func (s *MemStore) CreateMailing(ctx context.Context, m *mailing.Mailing) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if err := s.checkRefs(m); err != nil {
		return err
	}
	s.lastMailing++
	now := s.now()
	m.ID, m.CreatedAt, m.UpdatedAt = s.lastMailing, now, now
	s.mailings[m.ID] = normMailing(*m)
	return nil
}

// GetMailing returns the mailing with its sorted ClientIDs, or ErrNotFound.
func (s *MemStore) GetMailing(ctx context.Context, id int64) (mailing.Mailing, error) {
	if err := s.lock(ctx); err != nil {
		return mailing.Mailing{}, err
	}
	defer s.mu.Unlock()
	m, ok := s.mailings[id]
	if !ok {
		return mailing.Mailing{}, notFound("mailing", id)
	}
	return cloneMailing(m), nil
}

// UpdateMailing saves every field of m.ID but OwnerID and CreatedAt,
// replacing the client set, and sets m.UpdatedAt.
func (s *MemStore) UpdateMailing(ctx context.Context, m *mailing.Mailing) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	old, ok := s.mailings[m.ID]
	if !ok {
		return notFound("mailing", m.ID)
	}
	if err := s.checkRefs(m); err != nil {
		return err
	}
	m.UpdatedAt = s.now()
	nm := normMailing(*m)
	nm.OwnerID, nm.CreatedAt = old.OwnerID, old.CreatedAt
	s.mailings[m.ID] = nm
	return nil
}

// SetMailingEnabled switches a mailing on or off and sets its NextRun.
func (s *MemStore) SetMailingEnabled(ctx context.Context, id int64, enabled bool, nextRun, now time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	m, ok := s.mailings[id]
	if !ok {
		return notFound("mailing", id)
	}
	m.Enabled, m.NextRun, m.UpdatedAt = enabled, utc(nextRun), utc(now)
	s.mailings[id] = m
	return nil
}

// DeleteMailing removes a mailing with its deliveries and attempts.
func (s *MemStore) DeleteMailing(ctx context.Context, id int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if _, ok := s.mailings[id]; !ok {
		return notFound("mailing", id)
	}
	delete(s.mailings, id)
	maps.DeleteFunc(s.deliveries, func(_ int64, d mailing.Delivery) bool { return d.MailingID == id })
	maps.DeleteFunc(s.attempts, func(_ int64, a mailing.Attempt) bool { return a.MailingID == id })
	maps.DeleteFunc(s.runs, func(r mailing.RunRef, _ memRun) bool { return r.MailingID == id })
	return nil
}

// ListMailings returns the mailings matching f ordered by id, and their
// number before paging.
func (s *MemStore) ListMailings(ctx context.Context, f mailing.MailingFilter) ([]mailing.Mailing, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	var out []mailing.Mailing
	for _, id := range sortedIDs(s.mailings) {
		m := s.mailings[id]
		switch {
		case f.OwnerID != 0 && m.OwnerID != f.OwnerID,
			!inIDs(f.IDs, id),
			f.MessageID != 0 && m.MessageID != f.MessageID,
			f.ClientID != 0 && !slices.Contains(m.ClientIDs, f.ClientID):
			continue
		}
		out = append(out, cloneMailing(m))
	}
	return page(out, f.ListOptions), len(out), nil
}

// ---- ledger ----

// DueMailings returns enabled mailings whose NextRun is set and not after
// now, oldest NextRun first (then by id), at most limit (0: all).
func (s *MemStore) DueMailings(ctx context.Context, now time.Time, limit int) ([]mailing.Mailing, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	now = utc(now)
	var out []mailing.Mailing
	for _, m := range s.mailings {
		if m.Enabled && !m.NextRun.IsZero() && !m.NextRun.After(now) {
			m.ClientIDs = nil
			out = append(out, cloneMailing(m))
		}
	}
	slices.SortFunc(out, func(a, b mailing.Mailing) int {
		return cmp.Or(a.NextRun.Compare(b.NextRun), cmp.Compare(a.ID, b.ID))
	})
	return page(out, mailing.ListOptions{Limit: limit}), nil
}

// memRun is how far a run has been opened.
type memRun struct {
	through  int64 // clients with ids up to this one have their delivery
	complete bool
}

// OpenRun moves NextRun from p.Expect to p.Next, records the run as being
// opened from its start and creates the deliveries of its first p.Limit
// clients (0: all).
func (s *MemStore) OpenRun(ctx context.Context, p mailing.RunPlan) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	m, ok := s.mailings[p.MailingID]
	if !ok {
		return 0, notFound("mailing", p.MailingID)
	}
	if !m.NextRun.Equal(utc(p.Expect)) {
		return 0, fmt.Errorf("mailing %d: next run is %s, not %s: %w",
			m.ID, fmtTime(m.NextRun), fmtTime(utc(p.Expect)), mailing.ErrConflict)
	}
	m.NextRun = utc(p.Next)
	s.mailings[m.ID] = m
	if p.RunAt.IsZero() {
		return 0, nil // only moves NextRun: the mailing is over
	}
	ref := mailing.RunRef{MailingID: m.ID, RunAt: utc(p.RunAt)}
	s.runs[ref] = memRun{}
	return s.extend(ref, p.Limit, utc(p.Now)), nil
}

// ExtendRun creates the deliveries of up to limit (0: all) more clients of
// run r, and says whether the run is wholly open.
func (s *MemStore) ExtendRun(ctx context.Context, r mailing.RunRef, limit int, now time.Time) (int, bool, error) {
	if err := s.lock(ctx); err != nil {
		return 0, false, err
	}
	defer s.mu.Unlock()
	r.RunAt = utc(r.RunAt)
	run, ok := s.runs[r]
	if !ok || run.complete {
		return 0, true, nil
	}
	created := s.extend(r, limit, utc(now))
	return created, s.runs[r].complete, nil
}

// extend creates the deliveries of run ref for up to limit (0: all) more
// clients of its set, by id, and moves the run on.
func (s *MemStore) extend(ref mailing.RunRef, limit int, now time.Time) int {
	m := s.mailings[ref.MailingID]
	run := s.runs[ref]
	ids := slices.Sorted(slices.Values(m.ClientIDs))
	rest := ids[sort.Search(len(ids), func(i int) bool { return ids[i] > run.through }):]
	if limit <= 0 || limit >= len(rest) {
		run.complete = true
	} else {
		rest = rest[:limit]
	}
	if len(rest) > 0 {
		run.through = rest[len(rest)-1]
	}
	s.runs[ref] = run
	have := map[int64]bool{}
	for _, d := range s.deliveries {
		if d.MailingID == m.ID && d.RunAt.Equal(ref.RunAt) {
			have[d.ClientID] = true
		}
	}
	created := 0
	for _, cid := range rest {
		c, ok := s.clients[cid]
		if !ok || have[cid] {
			continue
		}
		s.lastDelivery++
		s.deliveries[s.lastDelivery] = mailing.Delivery{
			ID:            s.lastDelivery,
			MailingID:     m.ID,
			OwnerID:       m.OwnerID,
			RunAt:         ref.RunAt,
			ClientID:      cid,
			Email:         c.Email,
			Name:          c.Name,
			State:         mailing.DeliveryPending,
			NextAttemptAt: ref.RunAt,
			CreatedAt:     now,
			UpdatedAt:     now,
		}
		created++
	}
	return created
}

// OpeningRuns returns the runs not wholly open of enabled mailings (only
// mailingID's when not 0), oldest first.
func (s *MemStore) OpeningRuns(ctx context.Context, mailingID int64) ([]mailing.RunRef, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	var out []mailing.RunRef
	for ref, run := range s.runs {
		if !run.complete && s.mailings[ref.MailingID].Enabled && (mailingID == 0 || ref.MailingID == mailingID) {
			out = append(out, ref)
		}
	}
	slices.SortFunc(out, func(a, b mailing.RunRef) int {
		return cmp.Or(a.RunAt.Compare(b.RunAt), cmp.Compare(a.MailingID, b.MailingID))
	})
	return out, nil
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "unset"
	}
	return t.Format(time.RFC3339Nano)
}

// ClaimDeliveries leases up to r.Limit due pending deliveries.
func (s *MemStore) ClaimDeliveries(ctx context.Context, r mailing.ClaimRequest) ([]mailing.Delivery, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if r.Owner == "" {
		return nil, errors.New("mailingtest: claim deliveries: the claim needs an owner")
	}
	now := utc(r.Now)
	until := utc(r.Now.Add(r.Lease))
	var due []mailing.Delivery
	for _, d := range s.deliveries {
		if d.State != mailing.DeliveryPending || d.NextAttemptAt.After(now) ||
			d.LeaseOwner != "" && d.LeaseUntil.After(now) && !s.dead(d.LeaseOwner, now) ||
			r.MailingID != 0 && d.MailingID != r.MailingID || !s.sendable(d.MailingID, now) {
			continue
		}
		due = append(due, d)
	}
	slices.SortFunc(due, func(a, b mailing.Delivery) int {
		return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
	})
	due = page(due, mailing.ListOptions{Limit: r.Limit})
	for i := range due {
		due[i].LeaseOwner, due[i].LeaseUntil = r.Owner, until
		s.deliveries[due[i].ID] = due[i]
	}
	return due, nil
}

// dead reports whether engine name's heartbeat ran out before now.
func (s *MemStore) dead(name string, now time.Time) bool {
	until, ok := s.engines[name]
	return ok && until.Before(now)
}

// Heartbeat records that engine name lives until until.
func (s *MemStore) Heartbeat(ctx context.Context, name string, until, now time.Time) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	if name == "" {
		return errors.New("mailingtest: heartbeat: the engine needs a name")
	}
	s.engines[name] = utc(until)
	maps.DeleteFunc(s.engines, func(_ string, u time.Time) bool { return u.Before(utc(now).Add(-24 * time.Hour)) })
	return nil
}

// Backlog says what is left at now of the deliveries f selects.
func (s *MemStore) Backlog(ctx context.Context, f mailing.BacklogFilter, now time.Time) (mailing.Backlog, error) {
	if err := s.lock(ctx); err != nil {
		return mailing.Backlog{}, err
	}
	defer s.mu.Unlock()
	now = utc(now)
	b := mailing.Backlog{Counts: map[mailing.DeliveryState]int{}}
	for _, d := range s.deliveries {
		open := d.State == mailing.DeliveryPending || d.State == mailing.DeliverySending
		if f.MailingID != 0 && d.MailingID != f.MailingID || !f.RunAt.IsZero() && !d.RunAt.Equal(utc(f.RunAt)) || f.Open && !open {
			continue
		}
		b.Counts[d.State]++
		if d.State == mailing.DeliveryPending && d.NextAttemptAt.After(now) {
			b.Retry++
			if b.NextRetry.IsZero() || d.NextAttemptAt.Before(b.NextRetry) {
				b.NextRetry = d.NextAttemptAt
			}
		}
		if open && d.LeaseUntil.After(now) && !s.dead(d.LeaseOwner, now) {
			b.Leased++
			if d.LeaseUntil.After(b.LeaseEnds) {
				b.LeaseEnds = d.LeaseUntil
			}
		}
	}
	return b, nil
}

// RetireEngine removes engine name's heartbeat.
func (s *MemStore) RetireEngine(ctx context.Context, name string) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.engines, name)
	return nil
}

// sendable reports whether mailing id is enabled and not ended at now.
func (s *MemStore) sendable(id int64, now time.Time) bool {
	m, ok := s.mailings[id]
	return ok && m.Enabled && !m.End.Before(now)
}

// StartDeliveries moves owner's leased pending deliveries to sending and
// counts the attempt.
func (s *MemStore) StartDeliveries(ctx context.Context, owner string, ids []int64, now time.Time) ([]int64, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return s.start(owner, ids, now), nil
}

// AdvanceDeliveries records results, then starts ids, at once.
func (s *MemStore) AdvanceDeliveries(ctx context.Context, owner string, results []mailing.Result, ids []int64, now time.Time) ([]int64, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	s.finish(owner, results)
	return s.start(owner, ids, now), nil
}

func (s *MemStore) start(owner string, ids []int64, now time.Time) []int64 {
	now = utc(now)
	var moved []int64
	for _, id := range ids {
		d, ok := s.deliveries[id]
		if !ok || d.State != mailing.DeliveryPending || d.LeaseOwner != owner || owner == "" || !s.sendable(d.MailingID, now) {
			continue
		}
		d.State = mailing.DeliverySending
		d.Attempts++
		d.UpdatedAt = now
		s.deliveries[id] = d
		moved = append(moved, id)
	}
	return moved
}

// lastError is the text a delivery's LastError shows for an attempt.
func lastError(a mailing.Attempt) string {
	if a.Code != 0 {
		return strings.TrimSpace(fmt.Sprintf("%d %s", a.Code, a.Response))
	}
	return a.Response
}

// FinishDeliveries records every result's attempt and applies the result
// to deliveries owner still holds in sending.
func (s *MemStore) FinishDeliveries(ctx context.Context, owner string, results []mailing.Result) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.finish(owner, results)
	return nil
}

func (s *MemStore) finish(owner string, results []mailing.Result) {
	for _, r := range results {
		a := r.Attempt
		d, ok := s.deliveries[a.DeliveryID]
		if !ok {
			continue
		}
		a.MailingID, a.ClientID, a.RunAt, a.At = d.MailingID, d.ClientID, d.RunAt, utc(a.At)
		s.lastAttempt++
		a.ID = s.lastAttempt
		s.attempts[a.ID] = a

		if d.State != mailing.DeliverySending || d.LeaseOwner != owner {
			continue
		}
		d.State = r.State
		if r.State == mailing.DeliveryPending {
			d.NextAttemptAt = utc(r.NextAttemptAt)
		}
		d.LastError = lastError(a)
		d.LeaseOwner, d.LeaseUntil = "", time.Time{}
		d.UpdatedAt = utc(a.At.Add(a.Duration))
		s.deliveries[d.ID] = d
	}
}

// ReleaseDeliveries drops owner's lease on pending deliveries.
func (s *MemStore) ReleaseDeliveries(ctx context.Context, owner string, ids []int64) error {
	if err := s.lock(ctx); err != nil {
		return err
	}
	defer s.mu.Unlock()
	for _, id := range ids {
		d, ok := s.deliveries[id]
		if !ok || d.State != mailing.DeliveryPending || d.LeaseOwner != owner {
			continue
		}
		d.LeaseOwner, d.LeaseUntil = "", time.Time{}
		s.deliveries[id] = d
	}
	return nil
}

// RequeueFailed moves the failed deliveries of one run back to pending.
func (s *MemStore) RequeueFailed(ctx context.Context, mailingID int64, runAt, now time.Time) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	n := 0
	for id, d := range s.deliveries {
		if d.MailingID != mailingID || !d.RunAt.Equal(runAt) || d.State != mailing.DeliveryFailed {
			continue
		}
		d.State, d.Attempts, d.NextAttemptAt = mailing.DeliveryPending, 0, utc(now)
		d.LeaseOwner, d.LeaseUntil, d.UpdatedAt = "", time.Time{}, utc(now)
		s.deliveries[id] = d
		n++
	}
	return n, nil
}

// ExpireResponse is the Response of the attempt ExpireSending records.
const ExpireResponse = mailing.ExpireResponse

// ExpireSending marks deliveries stuck in sending with a lease that ended
// before now as unknown, and returns how many.
func (s *MemStore) ExpireSending(ctx context.Context, now time.Time) (int, error) {
	if err := s.lock(ctx); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	now = utc(now)
	n := 0
	for _, id := range sortedIDs(s.deliveries) {
		d := s.deliveries[id]
		if d.State != mailing.DeliverySending || !d.LeaseUntil.Before(now) && !s.dead(d.LeaseOwner, now) {
			continue
		}
		s.lastAttempt++
		s.attempts[s.lastAttempt] = mailing.Attempt{
			ID:         s.lastAttempt,
			DeliveryID: d.ID,
			MailingID:  d.MailingID,
			ClientID:   d.ClientID,
			RunAt:      d.RunAt,
			At:         now,
			Outcome:    mailing.OutcomeUnknown,
			Response:   ExpireResponse,
		}
		d.State = mailing.DeliveryUnknown
		d.LastError = ExpireResponse
		d.LeaseOwner, d.LeaseUntil = "", time.Time{}
		d.UpdatedAt = now
		s.deliveries[id] = d
		n++
	}
	return n, nil
}

// ListDeliveries returns matching ledger rows ordered by id, and their
// number before paging.
func (s *MemStore) ListDeliveries(ctx context.Context, f mailing.DeliveryFilter) ([]mailing.Delivery, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	runAt := utc(f.RunAt)
	var out []mailing.Delivery
	for _, id := range sortedIDs(s.deliveries) {
		d := s.deliveries[id]
		switch {
		case f.OwnerID != 0 && d.OwnerID != f.OwnerID,
			f.MailingID != 0 && d.MailingID != f.MailingID,
			f.ClientID != 0 && d.ClientID != f.ClientID,
			!runAt.IsZero() && !d.RunAt.Equal(runAt),
			len(f.States) > 0 && !slices.Contains(f.States, d.State):
			continue
		}
		out = append(out, d)
	}
	return page(out, f.ListOptions), len(out), nil
}

// ListAttempts returns matching attempts ordered by id, and their number
// before paging.
func (s *MemStore) ListAttempts(ctx context.Context, f mailing.AttemptFilter) ([]mailing.Attempt, int, error) {
	if err := s.lock(ctx); err != nil {
		return nil, 0, err
	}
	defer s.mu.Unlock()
	var out []mailing.Attempt
	for _, id := range sortedIDs(s.attempts) {
		a := s.attempts[id]
		switch {
		case f.OwnerID != 0 && s.mailings[a.MailingID].OwnerID != f.OwnerID,
			f.MailingID != 0 && a.MailingID != f.MailingID,
			f.DeliveryID != 0 && a.DeliveryID != f.DeliveryID,
			f.ClientID != 0 && a.ClientID != f.ClientID:
			continue
		}
		out = append(out, a)
	}
	return page(out, f.ListOptions), len(out), nil
}

// RunSummaries counts each run's deliveries by state for one mailing,
// newest run first. Counts hold only the states present.
func (s *MemStore) RunSummaries(ctx context.Context, mailingID int64) ([]mailing.RunSummary, error) {
	if err := s.lock(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	runs := map[time.Time]*mailing.RunSummary{}
	for _, d := range s.deliveries {
		if d.MailingID != mailingID {
			continue
		}
		r := runs[d.RunAt]
		if r == nil {
			r = &mailing.RunSummary{MailingID: mailingID, RunAt: d.RunAt, Counts: map[mailing.DeliveryState]int{}}
			runs[d.RunAt] = r
		}
		r.Counts[d.State]++
	}
	out := make([]mailing.RunSummary, 0, len(runs))
	for _, r := range runs {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b mailing.RunSummary) int { return b.RunAt.Compare(a.RunAt) })
	return out, nil
}
