package accountstest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/skychimp/skychimp/accounts"
)

// MemStore is an in-memory accounts.Store with the real behaviour of the
// contract: it passes TestStore. One mutex guards it, so it is safe for
// concurrent use; values are copied in and out.
//
// Where the contract leaves room it does what the SQL store does: a zero
// CreatedAt is stamped from the wall clock; a token of a missing user is
// ErrNotFound.
type MemStore struct {
	mu     sync.Mutex
	users  map[int64]accounts.User
	byKey  map[string]int64 // EmailKey -> id
	tokens map[string]accounts.Token
	emails []accounts.EmailRecord
	lastID int64
}

var _ accounts.Store = (*MemStore)(nil)

// NewMemStore returns an empty store.
func NewMemStore() *MemStore {
	return &MemStore{users: map[int64]accounts.User{}, byKey: map[string]int64{}, tokens: map[string]accounts.Token{}}
}

func micro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// CreateUser implements accounts.Store.
func (m *MemStore) CreateUser(ctx context.Context, u *accounts.User) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	key := accounts.EmailKey(u.Email)
	if _, ok := m.byKey[key]; ok {
		return fmt.Errorf("email %s: %w", u.Email, accounts.ErrConflict)
	}
	m.lastID++
	c := *u
	c.ID = m.lastID
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	c.CreatedAt = micro(c.CreatedAt)
	m.users[c.ID] = c
	m.byKey[key] = c.ID
	*u = c
	return nil
}

// GetUser implements accounts.Store.
func (m *MemStore) GetUser(ctx context.Context, id int64) (accounts.User, error) {
	if err := ctx.Err(); err != nil {
		return accounts.User{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return accounts.User{}, fmt.Errorf("user %d: %w", id, accounts.ErrNotFound)
	}
	return u, nil
}

// GetUserByEmail implements accounts.Store.
func (m *MemStore) GetUserByEmail(ctx context.Context, email string) (accounts.User, error) {
	if err := ctx.Err(); err != nil {
		return accounts.User{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.byKey[accounts.EmailKey(email)]
	if !ok {
		return accounts.User{}, fmt.Errorf("user %s: %w", email, accounts.ErrNotFound)
	}
	return m.users[id], nil
}

// UpdateUser implements accounts.Store.
func (m *MemStore) UpdateUser(ctx context.Context, id int64, up accounts.UserUpdate) (accounts.User, error) {
	if err := ctx.Err(); err != nil {
		return accounts.User{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return accounts.User{}, fmt.Errorf("user %d: %w", id, accounts.ErrNotFound)
	}
	if up.Email != nil {
		oldKey, newKey := accounts.EmailKey(u.Email), accounts.EmailKey(*up.Email)
		if other, taken := m.byKey[newKey]; taken && other != id {
			return accounts.User{}, fmt.Errorf("email %s: %w", *up.Email, accounts.ErrConflict)
		}
		delete(m.byKey, oldKey)
		m.byKey[newKey] = id
		u.Email = *up.Email
	}
	if up.FullName != nil {
		u.FullName = *up.FullName
	}
	if up.PasswordHash != nil {
		u.PasswordHash = *up.PasswordHash
	}
	if up.Role != nil {
		u.Role = *up.Role
	}
	if up.Verified != nil {
		u.Verified = *up.Verified
	}
	if up.Blocked != nil {
		u.Blocked = *up.Blocked
	}
	m.users[id] = u
	return u, nil
}

// ListUsers implements accounts.Store.
func (m *MemStore) ListUsers(ctx context.Context, f accounts.UserFilter) ([]accounts.User, int, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	search := strings.ToLower(f.Search)
	var all []accounts.User
	for _, u := range m.users {
		if f.Role != "" && u.Role != f.Role {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(u.Email), search) &&
			!strings.Contains(strings.ToLower(u.FullName), search) {
			continue
		}
		all = append(all, u)
	}
	slices.SortFunc(all, func(a, b accounts.User) int { return cmp.Compare(a.ID, b.ID) })
	total := len(all)
	lo := min(max(f.Offset, 0), total)
	hi := total
	if f.Limit > 0 {
		hi = min(lo+f.Limit, total)
	}
	return slices.Clone(all[lo:hi]), total, nil
}

// CreateToken implements accounts.Store.
func (m *MemStore) CreateToken(ctx context.Context, t accounts.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[t.UserID]; !ok {
		return fmt.Errorf("token for user %d: %w", t.UserID, accounts.ErrNotFound)
	}
	if _, ok := m.tokens[t.Hash]; ok {
		return fmt.Errorf("token: %w", accounts.ErrConflict)
	}
	t.CreatedAt, t.ExpiresAt = micro(t.CreatedAt), micro(t.ExpiresAt)
	m.tokens[t.Hash] = t
	return nil
}

func (m *MemStore) valid(kind accounts.TokenKind, hash string, now time.Time) (accounts.Token, error) {
	t, ok := m.tokens[hash]
	if !ok || t.Kind != kind || !micro(now).Before(t.ExpiresAt) {
		return t, accounts.ErrTokenInvalid
	}
	if _, ok := m.users[t.UserID]; !ok {
		return t, accounts.ErrTokenInvalid
	}
	return t, nil
}

// CheckToken implements accounts.Store.
func (m *MemStore) CheckToken(ctx context.Context, kind accounts.TokenKind, hash string, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.valid(kind, hash, now)
	if err != nil {
		return 0, err
	}
	return t.UserID, nil
}

// ConsumeToken implements accounts.Store.
func (m *MemStore) ConsumeToken(ctx context.Context, kind accounts.TokenKind, hash string, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	t, err := m.valid(kind, hash, now)
	if err != nil {
		return 0, err
	}
	delete(m.tokens, hash)
	return t.UserID, nil
}

// CountTokens implements accounts.Store.
func (m *MemStore) CountTokens(ctx context.Context, userID int64, kind accounts.TokenKind, since time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	since = micro(since)
	for _, t := range m.tokens {
		if t.UserID == userID && t.Kind == kind && !t.CreatedAt.Before(since) {
			n++
		}
	}
	return n, nil
}

// DeleteTokens implements accounts.Store.
func (m *MemStore) DeleteTokens(ctx context.Context, userID int64, kind accounts.TokenKind) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, t := range m.tokens {
		if t.UserID == userID && (kind == "" || t.Kind == kind) {
			delete(m.tokens, h)
		}
	}
	return nil
}

// DeleteExpiredTokens implements accounts.Store.
func (m *MemStore) DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	now = micro(now)
	for h, t := range m.tokens {
		if !now.Before(t.ExpiresAt) {
			delete(m.tokens, h)
			n++
		}
	}
	return n, nil
}

// RecordEmail implements accounts.Store.
func (m *MemStore) RecordEmail(ctx context.Context, e accounts.EmailRecord, q accounts.EmailQuota) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[e.UserID]; !ok {
		return false, fmt.Errorf("user %d: %w", e.UserID, accounts.ErrNotFound)
	}
	e.At = micro(e.At)
	kindSince, since := micro(q.KindSince), micro(q.Since)
	if cut := q.Horizon(); !cut.IsZero() {
		m.emails = slices.DeleteFunc(m.emails, func(r accounts.EmailRecord) bool {
			return r.UserID == e.UserID && r.At.Before(micro(cut))
		})
	}
	same, all := 0, 0
	for _, r := range m.emails {
		if r.UserID != e.UserID {
			continue
		}
		if r.Kind == e.Kind && !kindSince.IsZero() && !r.At.Before(kindSince) {
			same++
		}
		if q.Max > 0 && !r.At.Before(since) {
			all++
		}
	}
	if same > 0 || (q.Max > 0 && all >= q.Max) {
		return false, nil
	}
	m.emails = append(m.emails, e)
	return true, nil
}

// DeleteEmail implements accounts.Store.
func (m *MemStore) DeleteEmail(ctx context.Context, e accounts.EmailRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	e.At = micro(e.At)
	for i, r := range m.emails {
		if r == e {
			m.emails = slices.Delete(m.emails, i, i+1)
			break
		}
	}
	return nil
}
