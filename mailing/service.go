package mailing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/skychimp/skychimp/accounts"
)

// Service is what applications call to work with clients, messages and
// mailings on behalf of a person. It validates input and applies the
// ownership policy, once, for every caller:
//
//   - the acting user travels in the context (accounts.WithUser);
//   - a user sees and changes only their own objects; another user's object
//     is ErrNotFound, so its existence does not leak;
//   - a manager reads everything and may enable or disable a mailing, and
//     nothing else (ErrForbidden);
//   - a content manager has no access to mailing data (ErrForbidden);
//   - a superuser may do everything.
//
// The engine works on the Store directly: it acts for the system, not a person.
type Service struct {
	store    Store
	clock    Clock
	onChange func(ctx context.Context, mailingID int64)
}

// ServiceOption configures a Service.
type ServiceOption func(*Service)

// WithChangeHook registers fn, called after a mailing is created, updated,
// enabled, disabled, deleted or has failed deliveries queued again (for
// example to wake the scheduler at once, or to drop cached figures).
func WithChangeHook(fn func(ctx context.Context, mailingID int64)) ServiceOption {
	return func(s *Service) { s.onChange = fn }
}

// NewService returns a Service over store. A nil clock means SystemClock.
func NewService(store Store, clock Clock, opts ...ServiceOption) *Service {
	if clock == nil {
		clock = SystemClock{}
	}
	s := &Service{store: store, clock: clock}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Store returns the store the service works on.
func (s *Service) Store() Store { return s.store }

// access is what the acting user may do with an object of one owner.
type access int

const (
	accessNone  access = iota // the object does not exist for this user
	accessRead                // may read, may not change (a manager)
	accessWrite               // may read and change
)

func accessTo(u accounts.User, ownerID int64) access {
	switch u.Role {
	case accounts.RoleSuperuser:
		return accessWrite
	case accounts.RoleManager:
		return accessRead
	case accounts.RoleUser:
		if u.ID == ownerID {
			return accessWrite
		}
	}
	return accessNone
}

// actor returns the acting user, refusing anonymous, blocked and
// content-manager callers: none of them has any business with mailing data.
func actor(ctx context.Context) (accounts.User, error) {
	u, err := accounts.MustUserFrom(ctx)
	if err != nil {
		return u, err
	}
	if u.Blocked {
		return u, fmt.Errorf("%w: the account is blocked", accounts.ErrUnauthenticated)
	}
	if !u.Role.Valid() || u.Role == accounts.RoleContentManager {
		return u, fmt.Errorf("%w: a %s has no access to mailings", ErrForbidden, strings.ToLower(u.Role.Label()))
	}
	return u, nil
}

// writer returns the acting user if they may create objects of their own.
func writer(ctx context.Context) (accounts.User, error) {
	u, err := actor(ctx)
	if err != nil {
		return u, err
	}
	if u.Role == accounts.RoleManager {
		return u, fmt.Errorf("%w: managers cannot create or change clients, messages or mailings", ErrForbidden)
	}
	return u, nil
}

func notFound(kind string, id int64) error { return fmt.Errorf("%s %d: %w", kind, id, ErrNotFound) }

// check turns a stored object's owner into the caller's answer. A store's own
// not-found error is replaced, so that "missing" and "someone else's" read
// exactly alike.
func check(u accounts.User, kind string, id, ownerID int64, getErr error, need access) error {
	if getErr != nil {
		if errors.Is(getErr, ErrNotFound) {
			return notFound(kind, id)
		}
		return getErr
	}
	a := accessTo(u, ownerID)
	switch {
	case a == accessNone:
		return notFound(kind, id)
	case a < need:
		return fmt.Errorf("%w: managers cannot change a %s", ErrForbidden, kind)
	}
	return nil
}

// ownerFor picks the owner of a new object: the actor, or for a superuser
// the owner they name.
func ownerFor(u accounts.User, requested int64) int64 {
	if u.Role == accounts.RoleSuperuser && requested != 0 {
		return requested
	}
	return u.ID
}

// scope narrows a list filter to what the actor may see.
func scope(u accounts.User, ownerID int64) int64 {
	if u.Role == accounts.RoleUser {
		return u.ID
	}
	return ownerID
}

// ---- Clients ----

// CreateClient validates c and stores it as the actor's client.
func (s *Service) CreateClient(ctx context.Context, c Client) (Client, error) {
	u, err := writer(ctx)
	if err != nil {
		return Client{}, err
	}
	c.ID, c.OwnerID = 0, ownerFor(u, c.OwnerID)
	if err := c.Validate(); err != nil {
		return c, err
	}
	if err := s.store.CreateClient(ctx, &c); err != nil {
		return c, clientConflict(err, c.Email)
	}
	return c, nil
}

// ImportClients validates every client first and stores all of them in one
// transaction, or none. A *ValidationError's fields are named "row N: field".
func (s *Service) ImportClients(ctx context.Context, cs []Client) ([]Client, error) {
	u, err := writer(ctx)
	if err != nil {
		return nil, err
	}
	var v validator
	seen := make(map[string]int, len(cs))
	ptrs := make([]*Client, len(cs))
	for i := range cs {
		c := &cs[i]
		c.ID, c.OwnerID = 0, ownerFor(u, c.OwnerID)
		if err := c.Validate(); err != nil {
			var ve *ValidationError
			errors.As(err, &ve)
			for _, f := range ve.Fields {
				v.add(fmt.Sprintf("row %d: %s", i+1, f.Field), f.Message)
			}
			continue
		}
		key := NormalizeEmail(c.Email)
		if j, dup := seen[key]; dup {
			v.add(fmt.Sprintf("row %d: email", i+1), fmt.Sprintf("%q repeats row %d", c.Email, j+1))
		}
		seen[key] = i
		ptrs[i] = c
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.store.CreateClients(ctx, ptrs); err != nil {
		return nil, err
	}
	return cs, nil
}

func clientConflict(err error, email string) error {
	if errors.Is(err, ErrConflict) {
		return &ValidationError{Fields: []FieldError{{"email", fmt.Sprintf("%q is already one of your clients", email)}}}
	}
	return err
}

// GetClient returns a client the actor may read.
func (s *Service) GetClient(ctx context.Context, id int64) (Client, error) {
	u, err := actor(ctx)
	if err != nil {
		return Client{}, err
	}
	c, err := s.store.GetClient(ctx, id)
	if err := check(u, "client", id, c.OwnerID, err, accessRead); err != nil {
		return Client{}, err
	}
	return c, nil
}

// UpdateClient saves the email, name and comment of a client the actor owns.
func (s *Service) UpdateClient(ctx context.Context, c Client) (Client, error) {
	u, err := actor(ctx)
	if err != nil {
		return c, err
	}
	old, err := s.store.GetClient(ctx, c.ID)
	if err := check(u, "client", c.ID, old.OwnerID, err, accessWrite); err != nil {
		return c, err
	}
	c.OwnerID, c.CreatedAt = old.OwnerID, old.CreatedAt
	if err := c.Validate(); err != nil {
		return c, err
	}
	if err := s.store.UpdateClient(ctx, c); err != nil {
		return c, clientConflict(err, c.Email)
	}
	return c, nil
}

// DeleteClient removes a client the actor owns.
func (s *Service) DeleteClient(ctx context.Context, id int64) error {
	u, err := actor(ctx)
	if err != nil {
		return err
	}
	old, err := s.store.GetClient(ctx, id)
	if err := check(u, "client", id, old.OwnerID, err, accessWrite); err != nil {
		return err
	}
	return s.store.DeleteClient(ctx, id)
}

// ListClients lists the clients the actor may read that match f. For a
// user, f.OwnerID is always the user.
func (s *Service) ListClients(ctx context.Context, f ClientFilter) ([]Client, int, error) {
	u, err := actor(ctx)
	if err != nil {
		return nil, 0, err
	}
	f.OwnerID = scope(u, f.OwnerID)
	return s.store.ListClients(ctx, f)
}

// ---- Messages ----

// CreateMessage validates m and stores it as the actor's message.
func (s *Service) CreateMessage(ctx context.Context, m Message) (Message, error) {
	u, err := writer(ctx)
	if err != nil {
		return Message{}, err
	}
	m.ID, m.OwnerID = 0, ownerFor(u, m.OwnerID)
	if err := m.Validate(); err != nil {
		return m, err
	}
	err = s.store.CreateMessage(ctx, &m)
	return m, err
}

// GetMessage returns a message the actor may read.
func (s *Service) GetMessage(ctx context.Context, id int64) (Message, error) {
	u, err := actor(ctx)
	if err != nil {
		return Message{}, err
	}
	m, err := s.store.GetMessage(ctx, id)
	if err := check(u, "message", id, m.OwnerID, err, accessRead); err != nil {
		return Message{}, err
	}
	return m, nil
}

// UpdateMessage saves the subject and body of a message the actor owns.
func (s *Service) UpdateMessage(ctx context.Context, m Message) (Message, error) {
	u, err := actor(ctx)
	if err != nil {
		return m, err
	}
	old, err := s.store.GetMessage(ctx, m.ID)
	if err := check(u, "message", m.ID, old.OwnerID, err, accessWrite); err != nil {
		return m, err
	}
	m.OwnerID, m.CreatedAt = old.OwnerID, old.CreatedAt
	if err := m.Validate(); err != nil {
		return m, err
	}
	return m, s.store.UpdateMessage(ctx, m)
}

// DeleteMessage removes a message the actor owns; ErrConflict while a
// mailing uses it.
func (s *Service) DeleteMessage(ctx context.Context, id int64) error {
	u, err := actor(ctx)
	if err != nil {
		return err
	}
	old, err := s.store.GetMessage(ctx, id)
	if err := check(u, "message", id, old.OwnerID, err, accessWrite); err != nil {
		return err
	}
	if err := s.store.DeleteMessage(ctx, id); err != nil {
		if errors.Is(err, ErrConflict) {
			return fmt.Errorf("%w: message %d is used by a mailing; delete or change the mailing first", ErrConflict, id)
		}
		return err
	}
	return nil
}

// ListMessages lists the messages the actor may read that match f.
func (s *Service) ListMessages(ctx context.Context, f MessageFilter) ([]Message, int, error) {
	u, err := actor(ctx)
	if err != nil {
		return nil, 0, err
	}
	f.OwnerID = scope(u, f.OwnerID)
	return s.store.ListMessages(ctx, f)
}

// ---- Mailings ----

// initialNextRun is the first occurrence the engine must process for a
// mailing saved at now: the run due now when now is inside the window (so
// it is sent at once), else the first run after now; zero when disabled or
// over.
func initialNextRun(m Mailing, now time.Time) time.Time {
	if !m.Enabled || m.Status(now) == StatusCompleted {
		return time.Time{}
	}
	if due, ok := m.RunDue(now); ok {
		return due
	}
	if next, ok := m.RunAfter(now); ok {
		return next
	}
	return time.Time{}
}

// checkRefs verifies that the message and every client belong to the
// mailing's owner; anything else reads as "not found" in its field.
func (s *Service) checkRefs(ctx context.Context, m *Mailing) error {
	var v validator
	msg, err := s.store.GetMessage(ctx, m.MessageID)
	switch {
	case errors.Is(err, ErrNotFound) || (err == nil && msg.OwnerID != m.OwnerID):
		v.add("message_id", fmt.Sprintf("message %d not found", m.MessageID))
	case err != nil:
		return err
	}
	found, _, err := s.store.ListClients(ctx, ClientFilter{OwnerID: m.OwnerID, IDs: m.ClientIDs})
	if err != nil {
		return err
	}
	if len(found) != len(m.ClientIDs) {
		have := make(map[int64]bool, len(found))
		for _, c := range found {
			have[c.ID] = true
		}
		var missing []string
		for _, id := range m.ClientIDs {
			if !have[id] {
				missing = append(missing, fmt.Sprint(id))
			}
		}
		v.add("client_ids", "client "+strings.Join(missing, ", ")+" not found")
	}
	return v.err()
}

func (s *Service) changed(ctx context.Context, id int64) {
	if s.onChange != nil {
		s.onChange(ctx, id)
	}
}

// CreateMailing validates m and stores it as the actor's mailing, enabled.
// Its end must lie in the future (Mailing.ValidateAt). When now lies
// inside its window the current run is due at once.
func (s *Service) CreateMailing(ctx context.Context, m Mailing) (Mailing, error) {
	u, err := writer(ctx)
	if err != nil {
		return m, err
	}
	m.ID, m.OwnerID, m.Enabled = 0, ownerFor(u, m.OwnerID), true
	now := s.clock.Now()
	if err := m.ValidateAt(now); err != nil {
		return m, err
	}
	if err := s.checkRefs(ctx, &m); err != nil {
		return m, err
	}
	m.NextRun = initialNextRun(m, now)
	if err := s.store.CreateMailing(ctx, &m); err != nil {
		return m, err
	}
	s.changed(ctx, m.ID)
	return m, nil
}

// GetMailing returns a mailing the actor may read.
func (s *Service) GetMailing(ctx context.Context, id int64) (Mailing, error) {
	u, err := actor(ctx)
	if err != nil {
		return Mailing{}, err
	}
	m, err := s.store.GetMailing(ctx, id)
	if err := check(u, "mailing", id, m.OwnerID, err, accessRead); err != nil {
		return Mailing{}, err
	}
	return m, nil
}

// UpdateMailing saves a mailing the actor owns. Its enabled flag is kept (only
// staff switch it). When now lies inside the new window the current run is
// due at once: clients added to it get it, those who had it do not again.
//
// A new end must lie in the future, as for CreateMailing. A mailing that
// has ended may still be edited (its name, message, clients) as long as
// its end is left as it was: it stays completed and sends nothing; to send
// it again, give it an end in the future.
func (s *Service) UpdateMailing(ctx context.Context, m Mailing) (Mailing, error) {
	u, err := actor(ctx)
	if err != nil {
		return m, err
	}
	old, err := s.store.GetMailing(ctx, m.ID)
	if err := check(u, "mailing", m.ID, old.OwnerID, err, accessWrite); err != nil {
		return m, err
	}
	m.OwnerID, m.CreatedAt, m.Enabled = old.OwnerID, old.CreatedAt, old.Enabled
	now := s.clock.Now()
	if err := m.Validate(); err != nil {
		return m, err
	}
	if !m.End.Equal(old.End) {
		if err := m.ValidateAt(now); err != nil {
			return m, err
		}
	}
	if err := s.checkRefs(ctx, &m); err != nil {
		return m, err
	}
	m.NextRun = initialNextRun(m, now)
	if err := s.store.UpdateMailing(ctx, &m); err != nil {
		return m, err
	}
	s.changed(ctx, m.ID)
	return m, nil
}

// SetMailingEnabled switches a mailing on or off. Only managers and
// superusers may; to its owner it is ErrForbidden, to other users
// ErrNotFound. Enabling inside the window makes the current run due at once.
func (s *Service) SetMailingEnabled(ctx context.Context, id int64, enabled bool) (Mailing, error) {
	u, err := actor(ctx)
	if err != nil {
		return Mailing{}, err
	}
	m, err := s.store.GetMailing(ctx, id)
	if err := check(u, "mailing", id, m.OwnerID, err, accessRead); err != nil {
		return Mailing{}, err
	}
	if !u.IsStaff() {
		return Mailing{}, fmt.Errorf("%w: only a manager can enable or disable a mailing", ErrForbidden)
	}
	now := s.clock.Now()
	m.Enabled = enabled
	m.NextRun = initialNextRun(m, now)
	if err := s.store.SetMailingEnabled(ctx, id, enabled, m.NextRun, now); err != nil {
		return Mailing{}, err
	}
	s.changed(ctx, id)
	return s.store.GetMailing(ctx, id)
}

// DeleteMailing removes a mailing the actor owns, with its send log.
func (s *Service) DeleteMailing(ctx context.Context, id int64) error {
	u, err := actor(ctx)
	if err != nil {
		return err
	}
	old, err := s.store.GetMailing(ctx, id)
	if err := check(u, "mailing", id, old.OwnerID, err, accessWrite); err != nil {
		return err
	}
	if err := s.store.DeleteMailing(ctx, id); err != nil {
		return err
	}
	s.changed(ctx, id)
	return nil
}

// ListMailings lists the mailings the actor may read that match f.
func (s *Service) ListMailings(ctx context.Context, f MailingFilter) ([]Mailing, int, error) {
	u, err := actor(ctx)
	if err != nil {
		return nil, 0, err
	}
	f.OwnerID = scope(u, f.OwnerID)
	return s.store.ListMailings(ctx, f)
}

// ---- The send log ----

// ListDeliveries lists the ledger rows the actor may read.
func (s *Service) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, int, error) {
	u, err := actor(ctx)
	if err != nil {
		return nil, 0, err
	}
	f.OwnerID = scope(u, f.OwnerID)
	return s.store.ListDeliveries(ctx, f)
}

// ListAttempts lists the attempts the actor may read.
func (s *Service) ListAttempts(ctx context.Context, f AttemptFilter) ([]Attempt, int, error) {
	u, err := actor(ctx)
	if err != nil {
		return nil, 0, err
	}
	f.OwnerID = scope(u, f.OwnerID)
	return s.store.ListAttempts(ctx, f)
}

// RunSummaries counts a readable mailing's deliveries per run and state.
func (s *Service) RunSummaries(ctx context.Context, mailingID int64) ([]RunSummary, error) {
	if _, err := s.GetMailing(ctx, mailingID); err != nil {
		return nil, err
	}
	return s.store.RunSummaries(ctx, mailingID)
}

// ResendFailed queues the clients whose delivery of one run of a mailing
// the actor owns has failed for another try, at once; their earlier
// attempts stay in the send log. It returns how many were queued.
// Managers may not (ErrForbidden): it sends mail on the owner's behalf.
func (s *Service) ResendFailed(ctx context.Context, mailingID int64, runAt time.Time) (int, error) {
	u, err := actor(ctx)
	if err != nil {
		return 0, err
	}
	m, err := s.store.GetMailing(ctx, mailingID)
	if err := check(u, "mailing", mailingID, m.OwnerID, err, accessWrite); err != nil {
		return 0, err
	}
	n, err := s.store.RequeueFailed(ctx, mailingID, runAt, s.clock.Now())
	if err != nil {
		return 0, err
	}
	if n > 0 {
		s.changed(ctx, mailingID)
	}
	return n, nil
}
