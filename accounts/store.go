package accounts

import (
	"context"
	"strings"
	"time"
)

// Store keeps users and their one-time tokens.
//
// The contract, for implementers (accountstest.TestStore checks it):
//   - Every method honours ctx and is safe for concurrent use, also from
//     several processes sharing one database.
//   - Stores apply no policy (the Service does): they store what they are
//     given, and they never hash, validate or normalise beyond EmailKey.
//   - Email addresses are unique compared by EmailKey (case-insensitive):
//     a clash is an error wrapping ErrConflict. A missing user is an error
//     wrapping ErrNotFound.
//   - Times come back in UTC, truncated to whole microseconds.
//   - Tokens are stored by hash only; a token is valid while now is before
//     its ExpiresAt, and it can be consumed once.
type Store interface {
	// CreateUser stores u, setting u.ID; a zero u.CreatedAt is set to the
	// current time. ErrConflict when EmailKey(u.Email) is taken.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user with id, or ErrNotFound.
	GetUser(ctx context.Context, id int64) (User, error)
	// GetUserByEmail returns the user whose email has the same EmailKey
	// as email, or ErrNotFound.
	GetUserByEmail(ctx context.Context, email string) (User, error)
	// UpdateUser sets the non-nil fields of up on user id, in one atomic
	// step (so concurrent updates of different fields never undo each
	// other), and returns the user as stored afterwards. ErrNotFound;
	// ErrConflict when a new email's EmailKey is taken.
	UpdateUser(ctx context.Context, id int64, up UserUpdate) (User, error)
	// ListUsers returns the users matching f ordered by id, and the number
	// that match f without paging.
	ListUsers(ctx context.Context, f UserFilter) ([]User, int, error)

	// CreateToken stores t. ErrNotFound when t.UserID does not exist;
	// ErrConflict when t.Hash is already stored.
	CreateToken(ctx context.Context, t Token) error
	// CheckToken returns the user id of the token with kind and hash that
	// is still valid at now, without consuming it; ErrTokenInvalid when
	// there is none (unknown, consumed, expired or of another kind).
	CheckToken(ctx context.Context, kind TokenKind, hash string, now time.Time) (int64, error)
	// ConsumeToken is CheckToken that also removes the token, atomically:
	// of any number of concurrent calls for one token exactly one gets
	// the user id, the others ErrTokenInvalid.
	ConsumeToken(ctx context.Context, kind TokenKind, hash string, now time.Time) (int64, error)
	// CountTokens returns how many tokens of kind user userID has that
	// were created at or after since (consumed and purged ones excluded).
	CountTokens(ctx context.Context, userID int64, kind TokenKind, since time.Time) (int, error)

	// RecordEmail records that the account email e is about to be sent,
	// unless q refuses it, and reports whether it recorded it. q refuses
	// when the user has a record of e.Kind at or after q.KindSince (unless
	// that is zero), or q.Max records of any kind at or after q.Since
	// (unless q.Max is 0). The check and the insert are one atomic step
	// per user: of concurrent calls for one user, no more succeed than q
	// allows. Records older than every time q looks at may be removed.
	// ErrNotFound when e.UserID does not exist.
	RecordEmail(ctx context.Context, e EmailRecord, q EmailQuota) (bool, error)
	// DeleteEmail removes the record equal to e (an email that could not
	// be sent after all), if there is one.
	DeleteEmail(ctx context.Context, e EmailRecord) error
	// DeleteTokens removes user userID's tokens of kind, or of every kind
	// when kind is "". Deleting none is not an error.
	DeleteTokens(ctx context.Context, userID int64, kind TokenKind) error
	// DeleteExpiredTokens removes every token that is no longer valid at
	// now (ExpiresAt at or before now) and returns how many it removed.
	DeleteExpiredTokens(ctx context.Context, now time.Time) (int64, error)
}

// EmailKey is the form in which email addresses are compared: trimmed and
// lower-cased. Every Store compares (and indexes) addresses by it.
func EmailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// UserUpdate lists the fields UpdateUser changes: nil fields are kept.
// ID and CreatedAt never change.
type UserUpdate struct {
	Email        *string
	FullName     *string
	PasswordHash *string
	Role         *Role
	Verified     *bool
	Blocked      *bool
}

// ListOptions pages a list. Limit 0 means no limit.
type ListOptions struct {
	Limit  int
	Offset int
}

// UserFilter selects users. Zero fields do not filter.
type UserFilter struct {
	// Search is a case-insensitive substring of the email or the full
	// name, taken literally (% and _ are not wildcards; accents count:
	// "zoe" does not find "Zoë").
	Search string
	Role   Role
	ListOptions
}

// TokenKind says what a one-time token is for.
type TokenKind string

// The kinds of token.
const (
	// TokenVerify confirms an email address.
	TokenVerify TokenKind = "verify"
	// TokenReset sets a new password.
	TokenReset TokenKind = "reset"
)

// Valid reports whether k is one of the defined kinds.
func (k TokenKind) Valid() bool { return k == TokenVerify || k == TokenReset }

// Token is a stored one-time token. Only the hash of the secret is kept
// (HashToken); the secret itself travels in the emailed link only.
type Token struct {
	Hash      string // HashToken of the secret: 64 lower-case hex digits
	Kind      TokenKind
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time // valid while now is before ExpiresAt
}

// EmailRecord is one account email sent to a user: the Service keeps
// them to limit how often an address gets mail from the public forms.
type EmailRecord struct {
	UserID int64
	Kind   NoticeKind
	At     time.Time
}

// EmailQuota says when RecordEmail refuses to record an email; see
// RecordEmail.
type EmailQuota struct {
	// KindSince: no other email of the same kind at or after it. Zero: no
	// such rule.
	KindSince time.Time
	// Max and Since: fewer than Max emails of any kind at or after Since.
	// Max 0: no such rule.
	Max   int
	Since time.Time
}

// Horizon is the earliest time q looks at: records of a user older than
// it can no longer count. Zero when q looks at no time (it refuses
// nothing).
func (q EmailQuota) Horizon() time.Time {
	var h time.Time
	if !q.KindSince.IsZero() {
		h = q.KindSince
	}
	if q.Max > 0 && (h.IsZero() || q.Since.Before(h)) {
		h = q.Since
	}
	return h
}
