package accounts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Default token lifetimes and email limits.
const (
	// DefaultVerifyTTL is how long an email confirmation link works.
	DefaultVerifyTTL = 48 * time.Hour
	// DefaultResetTTL is how long a password reset link works.
	DefaultResetTTL = time.Hour
	// DefaultEmailInterval is how often an account is sent an email of
	// one kind (a confirmation link, a reset link, the "someone tried to
	// register with your address" notice) at most. Requests within it
	// succeed for the caller but send nothing, so that nobody can flood a
	// mailbox through the public forms.
	DefaultEmailInterval = 10 * time.Minute
	// DefaultEmailsPerDay is how many account emails of all kinds one
	// account is sent per 24 hours at most.
	DefaultEmailsPerDay = 5
)

// Service is what the host calls to register, confirm, log in, reset
// passwords and manage users. It validates input and applies the policy,
// once, for every caller. It writes no web code: the host turns its
// results into pages (see Message for the sentences to show).
//
// Three kinds of method:
//
//   - Public (Register, Verify, ResendVerification, Authenticate,
//     RequestPasswordReset, CheckToken, ResetPassword) serve anonymous
//     visitors. None of them tells a stranger whether an address has an
//     account: see each method.
//   - Trusted (AddUser, SetPassword, SessionUser, PurgeTokens) need no
//     acting user; they are for the command line, demo seeding and the
//     host's session middleware, never for a form's input as is.
//   - Acting (GetUser, ListUsers, UpdateProfile, ChangePassword, Block,
//     Unblock, SetRole) read the acting user from the context
//     (WithUser) and refuse with ErrUnauthenticated, ErrForbidden or
//     ErrNotFound.
//
// Policy for acting methods:
//
//   - a user and a content manager see and change only themselves (another
//     user is ErrNotFound);
//   - a manager reads every user and blocks or unblocks users and content
//     managers, but not managers, superusers or themselves (ErrForbidden);
//     a manager changes nobody else's name and no roles;
//   - a superuser may do everything except block themselves or change
//     their own role (so that the last superuser cannot lock everyone out);
//   - a blocked acting user is ErrUnauthenticated.
//
// Users returned by the Service never carry PasswordHash.
type Service struct {
	store    Store
	notifier Notifier
	clock    Clock
	hasher   *PasswordHasher
	links    Links
	log      *slog.Logger

	verifyTTL, resetTTL time.Duration
	emailInterval       time.Duration
	emailsPerDay        int

	endSessions func(ctx context.Context, userID int64) error
	onChange    func(ctx context.Context, u User)
}

// Links are the pages the emails link to. Verify and Reset get
// "?token=SECRET" added (or "&token=" when they already have a query).
type Links struct {
	Verify string // confirms an address: BaseURL + "/verify"
	Reset  string // asks for a new password: BaseURL + "/reset"
	Login  string // the login page: BaseURL + "/login"
	Forgot string // asks for a reset link: BaseURL + "/forgot"
}

// LinksFor returns the default links under base, e.g.
// "https://mail.example.com" gives "https://mail.example.com/verify".
func LinksFor(base string) Links {
	base = strings.TrimRight(base, "/")
	return Links{Verify: base + "/verify", Reset: base + "/reset", Login: base + "/login", Forgot: base + "/forgot"}
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (default SystemClock).
func WithClock(c Clock) Option { return func(s *Service) { s.clock = c } }

// WithPasswordHasher sets the password hasher (default DefaultArgon2).
// Tests pass cheaper parameters to stay fast.
func WithPasswordHasher(h *PasswordHasher) Option { return func(s *Service) { s.hasher = h } }

// WithBaseURL sets the links in emails to LinksFor(base). Hosts must set
// it (or WithLinks): without it links are relative paths, useless in mail.
func WithBaseURL(base string) Option { return func(s *Service) { s.links = LinksFor(base) } }

// WithLinks sets every link in emails; empty fields keep their defaults.
func WithLinks(l Links) Option {
	return func(s *Service) {
		if l.Verify != "" {
			s.links.Verify = l.Verify
		}
		if l.Reset != "" {
			s.links.Reset = l.Reset
		}
		if l.Login != "" {
			s.links.Login = l.Login
		}
		if l.Forgot != "" {
			s.links.Forgot = l.Forgot
		}
	}
}

// WithTokenTTL sets how long confirmation and reset links work (defaults
// DefaultVerifyTTL, DefaultResetTTL). Zero keeps a default.
func WithTokenTTL(verify, reset time.Duration) Option {
	return func(s *Service) {
		if verify > 0 {
			s.verifyTTL = verify
		}
		if reset > 0 {
			s.resetTTL = reset
		}
	}
}

// WithEmailLimits sets how often an account is sent account emails at
// most: one of each kind per interval, and perDay of all kinds per 24
// hours (defaults DefaultEmailInterval and DefaultEmailsPerDay). Zero
// removes that limit. The limits count emails per account, so per
// address, whoever asks and from wherever; the caller's answer is the same
// whether or not an email went out.
func WithEmailLimits(interval time.Duration, perDay int) Option {
	return func(s *Service) { s.emailInterval, s.emailsPerDay = max(interval, 0), max(perDay, 0) }
}

// WithSessionEnder registers fn, which must end every live session of the
// user at once. The Service calls it when the user is blocked and when
// their password is reset or set by a trusted caller (not when they change
// it themselves while logged in). Its error is returned to the caller, the
// change having been saved.
//
// The hook is the fast path; hosts should also check each request's user
// with SessionUser, which refuses blocked users whatever the hook did.
func WithSessionEnder(fn func(ctx context.Context, userID int64) error) Option {
	return func(s *Service) { s.endSessions = fn }
}

// WithChangeHook registers fn, called after every change the Service
// makes to a user (created, confirmed, renamed, role, blocked, password),
// with the user as stored (without PasswordHash). The host uses it to keep
// its own copy of users and roles (the admin panel's) in step; accounts
// stays the source of truth.
func WithChangeHook(fn func(ctx context.Context, u User)) Option {
	return func(s *Service) { s.onChange = fn }
}

// WithLogger sets where the Service reports what it cannot return to the
// caller without revealing accounts (a failed email, a rehash that could
// not be saved). Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// NewService returns a Service over store that sends its emails through
// notifier.
func NewService(store Store, notifier Notifier, opts ...Option) *Service {
	s := &Service{
		store:         store,
		notifier:      notifier,
		clock:         SystemClock{},
		links:         LinksFor(""),
		log:           slog.Default(),
		verifyTTL:     DefaultVerifyTTL,
		resetTTL:      DefaultResetTTL,
		emailInterval: DefaultEmailInterval,
		emailsPerDay:  DefaultEmailsPerDay,
	}
	for _, o := range opts {
		o(s)
	}
	if s.hasher == nil {
		s.hasher = NewPasswordHasher(DefaultArgon2)
	}
	return s
}

// Store returns the store the service works on.
func (s *Service) Store() Store { return s.store }

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// public is u as the Service hands it out.
func public(u User) User {
	u.PasswordHash = ""
	return u
}

func (s *Service) changed(ctx context.Context, u User) {
	if s.onChange != nil {
		s.onChange(ctx, public(u))
	}
}

func (s *Service) endUserSessions(ctx context.Context, id int64) error {
	if s.endSessions == nil {
		return nil
	}
	if err := s.endSessions(ctx, id); err != nil {
		return fmt.Errorf("accounts: user %d was saved, but ending their sessions failed: %w", id, err)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// ---------------------------------------------------------------------------
// Public methods

// RegisterInput is what a visitor types into the registration form.
type RegisterInput struct {
	Email    string
	FullName string
	Password string
}

// Register creates an unconfirmed account with RoleUser and emails a
// confirmation link (Links.Verify, valid for the verify TTL).
//
// When the address is already registered, Register does not say so: it
// hashes the password all the same (so both paths take as long), creates
// nothing, and returns the same success, with a User whose ID is 0. The
// owner of the address gets an email instead: a fresh confirmation link
// when the account is not confirmed yet, or a notice that someone tried to
// register with their address (with links to log in and to reset the
// password) when it is; a blocked account gets nothing. The existing
// account's name and password are never changed. Hosts must show the same
// page ("check your mailbox") whatever the ID.
//
// Every email of the Service is subject to the email limits
// (WithEmailLimits: by default one of each kind per account every 10
// minutes and 5 a day): registering again, logging in unconfirmed, asking
// for a link again or for a reset send nothing beyond them, and answer
// exactly as when they send.
//
// Errors: a *ValidationError (email, full_name, password); ErrNotify when
// the email could not be sent (the account, if new, is saved: the visitor
// can ask for the link again); store errors.
func (s *Service) Register(ctx context.Context, in RegisterInput) (User, error) {
	email, name := NormalizeEmail(in.Email), cleanName(in.FullName)
	var v validator
	checkEmail(&v, email)
	checkName(&v, name)
	checkPassword(&v, "password", in.Password, email)
	if err := v.err(); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	u := User{Email: email, FullName: name, PasswordHash: hash, Role: RoleUser, CreatedAt: s.now()}
	err = s.store.CreateUser(ctx, &u)
	if errors.Is(err, ErrConflict) {
		return User{Email: email, FullName: name, Role: RoleUser}, s.registerExisting(ctx, email)
	}
	if err != nil {
		return User{}, err
	}
	s.changed(ctx, u)
	return public(u), s.issue(ctx, u, TokenVerify)
}

// registerExisting tells the owner of email that someone tried to
// register with it.
func (s *Service) registerExisting(ctx context.Context, email string) error {
	u, err := s.store.GetUserByEmail(ctx, email)
	if err != nil {
		return err
	}
	switch {
	case u.Blocked:
		return nil
	case !u.Verified:
		return s.issue(ctx, u, TokenVerify)
	}
	return s.send(ctx, u, Notice{Kind: NoticeAlreadyRegistered, User: public(u), Link: s.links.Forgot, LoginLink: s.links.Login},
		func() error { return nil })
}

// send emails n to u, unless the email limits say u had enough of them
// lately: then it sends nothing, logs why and returns nil. prepare runs
// once the email may go (to store the link's token). An email that could
// not be sent does not count.
func (s *Service) send(ctx context.Context, u User, n Notice, prepare func() error) error {
	rec := EmailRecord{UserID: u.ID, Kind: n.Kind, At: s.now()}
	limited := s.emailInterval > 0 || s.emailsPerDay > 0
	if limited {
		var q EmailQuota
		if s.emailInterval > 0 {
			q.KindSince = rec.At.Add(-s.emailInterval)
		}
		if s.emailsPerDay > 0 {
			q.Max, q.Since = s.emailsPerDay, rec.At.Add(-24*time.Hour)
		}
		ok, err := s.store.RecordEmail(ctx, rec, q)
		if err != nil {
			return err
		}
		if !ok {
			s.log.WarnContext(ctx, "accounts: email limit reached; nothing sent", "user_id", u.ID, "kind", string(n.Kind),
				"interval", s.emailInterval.String(), "per_day", s.emailsPerDay)
			return nil
		}
	}
	err := prepare()
	if err == nil {
		if err = s.notifier.Notify(ctx, n); err != nil {
			err = fmt.Errorf("%w: %w", ErrNotify, err)
		}
	}
	if err != nil && limited {
		if derr := s.store.DeleteEmail(context.WithoutCancel(ctx), rec); derr != nil {
			s.log.ErrorContext(ctx, "accounts: could not forget an email that was not sent", "user_id", u.ID, "err", derr)
		}
	}
	return err
}

// issue stores a fresh token of kind for u and emails its link, within
// the email limits (see send).
func (s *Service) issue(ctx context.Context, u User, kind TokenKind) error {
	now := s.now()
	ttl, link := s.verifyTTL, s.links.Verify
	if kind == TokenReset {
		ttl, link = s.resetTTL, s.links.Reset
	}
	secret, hash := newToken()
	t := Token{Hash: hash, Kind: kind, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	n := Notice{Kind: NoticeKind(kind), User: public(u), Link: withToken(link, secret),
		LoginLink: s.links.Login, Expires: t.ExpiresAt, TTL: ttl}
	return s.send(ctx, u, n, func() error { return s.store.CreateToken(ctx, t) })
}

// withToken adds the token's secret to link as the query parameter "token".
func withToken(link, secret string) string {
	u, err := url.Parse(link)
	if err != nil {
		sep := "?"
		if strings.Contains(link, "?") {
			sep = "&"
		}
		return link + sep + "token=" + secret
	}
	q := u.Query()
	q.Set("token", secret)
	u.RawQuery = q.Encode()
	return u.String()
}

// Verify confirms the address of the account the token (from a
// confirmation link) was made for, consuming it and any other confirmation
// link of that account, and returns the account. ErrTokenInvalid when the
// token is unknown, used, expired or a reset token.
//
// Mail scanners sometimes open links before the person does: hosts should
// answer the link's GET with a page (CheckToken tells whether it is still
// good) whose button posts to a handler that calls Verify.
func (s *Service) Verify(ctx context.Context, token string) (User, error) {
	id, err := s.consume(ctx, TokenVerify, token)
	if err != nil {
		return User{}, err
	}
	u, err := s.store.UpdateUser(ctx, id, UserUpdate{Verified: ptr(true)})
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrTokenInvalid
	}
	if err != nil {
		return User{}, err
	}
	if err := s.store.DeleteTokens(ctx, id, TokenVerify); err != nil {
		s.log.ErrorContext(ctx, "accounts: could not delete used confirmation links", "user_id", id, "err", err)
	}
	s.changed(ctx, u)
	return public(u), nil
}

func (s *Service) consume(ctx context.Context, kind TokenKind, token string) (int64, error) {
	if !wellFormedToken(token) {
		return 0, ErrTokenInvalid
	}
	return s.store.ConsumeToken(ctx, kind, HashToken(token), s.now())
}

// CheckToken tells whether token (from a link) is still good for kind,
// without using it up: nil, or ErrTokenInvalid. Hosts call it to show the
// form behind a link, or a clear "this link has expired" at once.
func (s *Service) CheckToken(ctx context.Context, kind TokenKind, token string) error {
	if !wellFormedToken(token) {
		return ErrTokenInvalid
	}
	_, err := s.store.CheckToken(ctx, kind, HashToken(token), s.now())
	return err
}

// ResendVerification emails a fresh confirmation link to the account with
// email when it exists, is not confirmed and is not blocked; otherwise it
// does nothing. Either way it returns nil (store errors aside), so it
// cannot be used to learn which addresses have an account; a failure to
// send is logged, not returned, for the same reason.
func (s *Service) ResendVerification(ctx context.Context, email string) error {
	u, err := s.store.GetUserByEmail(ctx, NormalizeEmail(email))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	case u.Verified || u.Blocked:
		return nil
	}
	return s.quiet(ctx, u, s.issue(ctx, u, TokenVerify))
}

// quiet logs a failure to email u and swallows it; other errors pass.
func (s *Service) quiet(ctx context.Context, u User, err error) error {
	if errors.Is(err, ErrNotify) {
		s.log.ErrorContext(ctx, "accounts: could not send an account email", "user_id", u.ID, "err", err)
		return nil
	}
	return err
}

// Authenticate checks a login. It returns the user (without PasswordHash)
// when email (case-insensitive) and password match an account that is
// confirmed and not blocked.
//
// An unknown address, an account without a password and a wrong password
// all give the very same error value, ErrInvalidLogin, after the same
// amount of work (an unknown address is checked against a dummy hash). Only
// a caller who knows the password learns more: ErrBlocked, or
// ErrNotVerified, in which case a fresh confirmation link is sent too
// (within the email limits). A hash made with older parameters is replaced
// on a successful login.
func (s *Service) Authenticate(ctx context.Context, email, password string) (User, error) {
	if len(password) > 4*MaxPasswordLen { // cannot match: no policy-abiding password is that long
		s.hasher.verifyDummy(ctx, "")
		return User{}, ErrInvalidLogin
	}
	u, err := s.store.GetUserByEmail(ctx, NormalizeEmail(email))
	if errors.Is(err, ErrNotFound) || (err == nil && u.PasswordHash == "") {
		s.hasher.verifyDummy(ctx, password)
		return User{}, ErrInvalidLogin
	}
	if err != nil {
		return User{}, err
	}
	ok, err := s.hasher.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		if ctx.Err() != nil {
			return User{}, err
		}
		s.log.ErrorContext(ctx, "accounts: unreadable password hash; the user must reset their password", "user_id", u.ID, "err", err)
		return User{}, ErrInvalidLogin
	}
	if !ok {
		return User{}, ErrInvalidLogin
	}
	if u.Blocked {
		return User{}, ErrBlocked
	}
	if !u.Verified {
		if err := s.quiet(ctx, u, s.issue(ctx, u, TokenVerify)); err != nil {
			s.log.ErrorContext(ctx, "accounts: could not issue a confirmation link", "user_id", u.ID, "err", err)
		}
		return User{}, ErrNotVerified
	}
	if s.hasher.NeedsRehash(u.PasswordHash) {
		if h, err := s.hasher.Hash(ctx, password); err == nil {
			if nu, err := s.store.UpdateUser(ctx, u.ID, UserUpdate{PasswordHash: &h}); err == nil {
				u = nu
			} else {
				s.log.WarnContext(ctx, "accounts: could not save a rehashed password", "user_id", u.ID, "err", err)
			}
		}
	}
	return public(u), nil
}

// RequestPasswordReset emails a password reset link (Links.Reset, valid
// for the reset TTL) to the account with email, when it exists and is not
// blocked. Unconfirmed accounts get one too: using it proves the mailbox.
// It returns nil whether or not the account exists (store errors aside),
// and logs rather than returns a failure to send.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	u, err := s.store.GetUserByEmail(ctx, NormalizeEmail(email))
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case err != nil:
		return err
	case u.Blocked:
		return nil
	}
	return s.quiet(ctx, u, s.issue(ctx, u, TokenReset))
}

// ResetPassword sets a new password for the account the reset token was
// made for. The password is checked against the policy first, so a typo
// does not burn the link. Then the token (and every other reset link of
// the account) is used up, the account is marked confirmed (the link
// proved the mailbox), and its sessions end (WithSessionEnder).
//
// Errors: ErrTokenInvalid; a *ValidationError (password); ErrBlocked when
// the account was blocked after the link was sent; store errors.
func (s *Service) ResetPassword(ctx context.Context, token, newPassword string) (User, error) {
	if !wellFormedToken(token) {
		return User{}, ErrTokenInvalid
	}
	hash := HashToken(token)
	id, err := s.store.CheckToken(ctx, TokenReset, hash, s.now())
	if err != nil {
		return User{}, err
	}
	u, err := s.store.GetUser(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, ErrTokenInvalid
	}
	if err != nil {
		return User{}, err
	}
	if u.Blocked {
		return User{}, ErrBlocked
	}
	var v validator
	checkPassword(&v, "password", newPassword, u.Email)
	if err := v.err(); err != nil {
		return User{}, err
	}
	ph, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return User{}, err
	}
	if _, err := s.store.ConsumeToken(ctx, TokenReset, hash, s.now()); err != nil {
		return User{}, err
	}
	u, err = s.store.UpdateUser(ctx, id, UserUpdate{PasswordHash: &ph, Verified: ptr(true)})
	if err != nil {
		return User{}, err
	}
	if err := s.store.DeleteTokens(ctx, id, TokenReset); err != nil {
		s.log.ErrorContext(ctx, "accounts: could not delete used reset links", "user_id", id, "err", err)
	}
	s.changed(ctx, u)
	return public(u), s.endUserSessions(ctx, id)
}

// ---------------------------------------------------------------------------
// Trusted methods

// AddInput describes a user added by a trusted caller.
type AddInput struct {
	Email    string
	FullName string
	Password string
	Role     Role // RoleUser when empty
	Verified bool // usually true: the operator vouches for the address
}

// AddUser creates a user for a trusted caller (the command line, demo
// seeding): no acting user, any role, no email sent. Errors: a
// *ValidationError (email, full_name, password, role); ErrConflict when the
// address is taken (trusted callers may know that).
func (s *Service) AddUser(ctx context.Context, in AddInput) (User, error) {
	email, name := NormalizeEmail(in.Email), cleanName(in.FullName)
	role := in.Role
	if role == "" {
		role = RoleUser
	}
	var v validator
	checkEmail(&v, email)
	checkName(&v, name)
	checkPassword(&v, "password", in.Password, email)
	if !role.Valid() {
		v.add("role", "must be one of user, manager, content_manager, superuser")
	}
	if err := v.err(); err != nil {
		return User{}, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return User{}, err
	}
	u := User{Email: email, FullName: name, PasswordHash: hash, Role: role, Verified: in.Verified, CreatedAt: s.now()}
	if err := s.store.CreateUser(ctx, &u); err != nil {
		return User{}, err
	}
	s.changed(ctx, u)
	return public(u), nil
}

// SetPassword sets user id's password for a trusted caller (the command
// line), applying the password policy, and ends the user's sessions.
func (s *Service) SetPassword(ctx context.Context, id int64, password string) error {
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return err
	}
	var v validator
	checkPassword(&v, "password", password, u.Email)
	if err := v.err(); err != nil {
		return err
	}
	ph, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	if u, err = s.store.UpdateUser(ctx, id, UserUpdate{PasswordHash: &ph}); err != nil {
		return err
	}
	s.changed(ctx, u)
	return s.endUserSessions(ctx, id)
}

// SessionUser returns user id as stored, if they may still be logged in:
// the account exists, is confirmed and is not blocked. Otherwise the error
// wraps ErrUnauthenticated. Hosts call it on every request of a session,
// so that a block (or a deleted account) ends the session at once on every
// instance, whether or not the WithSessionEnder hook reached it.
func (s *Service) SessionUser(ctx context.Context, id int64) (User, error) {
	u, err := s.store.GetUser(ctx, id)
	switch {
	case errors.Is(err, ErrNotFound):
		return User{}, fmt.Errorf("%w: user %d no longer exists", ErrUnauthenticated, id)
	case err != nil:
		return User{}, err
	case u.Blocked:
		return User{}, fmt.Errorf("%w: user %d is blocked", ErrUnauthenticated, id)
	case !u.Verified:
		return User{}, fmt.Errorf("%w: user %d has not confirmed their address", ErrUnauthenticated, id)
	}
	return public(u), nil
}

// PurgeTokens deletes links that have expired, returning how many. Hosts
// may run it now and then; nothing depends on it.
func (s *Service) PurgeTokens(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredTokens(ctx, s.now())
}

// ---------------------------------------------------------------------------
// Acting methods

// actor returns the acting user, refusing anonymous and blocked callers.
func actor(ctx context.Context) (User, error) {
	u, err := MustUserFrom(ctx)
	if err != nil {
		return u, err
	}
	if u.Blocked {
		return u, fmt.Errorf("%w: the account is blocked", ErrUnauthenticated)
	}
	return u, nil
}

// staff returns the acting user if they are a manager or a superuser.
func staff(ctx context.Context) (User, error) {
	u, err := actor(ctx)
	if err != nil {
		return u, err
	}
	if !u.IsStaff() {
		return u, fmt.Errorf("%w: only managers and superusers manage users", ErrForbidden)
	}
	return u, nil
}

func notFound(id int64) error { return fmt.Errorf("user %d: %w", id, ErrNotFound) }

// GetUser returns user id. Staff read anyone; others only themselves
// (anyone else is ErrNotFound).
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	a, err := actor(ctx)
	if err != nil {
		return User{}, err
	}
	if !a.IsStaff() && a.ID != id {
		return User{}, notFound(id)
	}
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return User{}, err
	}
	return public(u), nil
}

// ListUsers returns the users matching f, ordered by id, and how many
// match without paging. Managers and superusers only (ErrForbidden).
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]User, int, error) {
	if _, err := staff(ctx); err != nil {
		return nil, 0, err
	}
	us, n, err := s.store.ListUsers(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	for i := range us {
		us[i] = public(us[i])
	}
	return us, n, nil
}

// UpdateProfile sets user id's full name. Users change their own; a
// superuser anyone's; a manager only their own (ErrForbidden for others).
func (s *Service) UpdateProfile(ctx context.Context, id int64, fullName string) (User, error) {
	a, err := actor(ctx)
	if err != nil {
		return User{}, err
	}
	switch {
	case a.ID == id || a.Role == RoleSuperuser:
	case a.Role == RoleManager:
		return User{}, fmt.Errorf("%w: managers cannot change other users' profiles", ErrForbidden)
	default:
		return User{}, notFound(id)
	}
	name := cleanName(fullName)
	var v validator
	checkName(&v, name)
	if err := v.err(); err != nil {
		return User{}, err
	}
	u, err := s.store.UpdateUser(ctx, id, UserUpdate{FullName: &name})
	if err != nil {
		return User{}, err
	}
	s.changed(ctx, u)
	return public(u), nil
}

// ChangePassword sets the acting user's password after checking their
// current one (a wrong one is a *ValidationError on "current_password").
// Their sessions are left alone: the person is using one of them.
func (s *Service) ChangePassword(ctx context.Context, current, newPassword string) error {
	a, err := actor(ctx)
	if err != nil {
		return err
	}
	u, err := s.store.GetUser(ctx, a.ID)
	if err != nil {
		return err
	}
	var v validator
	ok := false
	if u.PasswordHash != "" && len(current) <= 4*MaxPasswordLen {
		if ok, err = s.hasher.Verify(ctx, current, u.PasswordHash); err != nil && ctx.Err() != nil {
			return err
		}
	}
	if !ok {
		v.add("current_password", "is wrong")
	}
	checkPassword(&v, "password", newPassword, u.Email)
	if err := v.err(); err != nil {
		return err
	}
	ph, err := s.hasher.Hash(ctx, newPassword)
	if err != nil {
		return err
	}
	if u, err = s.store.UpdateUser(ctx, a.ID, UserUpdate{PasswordHash: &ph}); err != nil {
		return err
	}
	s.changed(ctx, u)
	return nil
}

// mayBlock checks that the acting staff member may block or unblock target.
func mayBlock(a, target User) error {
	switch {
	case a.ID == target.ID:
		return fmt.Errorf("%w: you cannot block or unblock yourself", ErrForbidden)
	case a.Role == RoleManager && target.IsStaff():
		return fmt.Errorf("%w: a manager cannot block or unblock a %s", ErrForbidden, strings.ToLower(target.Role.Label()))
	}
	return nil
}

// Block blocks user id: they can no longer log in, their sessions end at
// once (WithSessionEnder) and their pending links stop working. Managers
// block users and content managers; superusers anyone but themselves.
// Blocking a blocked user changes nothing but still ends their sessions.
func (s *Service) Block(ctx context.Context, id int64) (User, error) {
	return s.setBlocked(ctx, id, true)
}

// Unblock lets user id log in again. Same permissions as Block.
func (s *Service) Unblock(ctx context.Context, id int64) (User, error) {
	return s.setBlocked(ctx, id, false)
}

func (s *Service) setBlocked(ctx context.Context, id int64, blocked bool) (User, error) {
	a, err := staff(ctx)
	if err != nil {
		return User{}, err
	}
	target, err := s.store.GetUser(ctx, id)
	if err != nil {
		return User{}, err
	}
	if err := mayBlock(a, target); err != nil {
		return User{}, err
	}
	u, err := s.store.UpdateUser(ctx, id, UserUpdate{Blocked: &blocked})
	if err != nil {
		return User{}, err
	}
	s.changed(ctx, u)
	if !blocked {
		return public(u), nil
	}
	if err := s.store.DeleteTokens(ctx, id, ""); err != nil {
		return public(u), err
	}
	return public(u), s.endUserSessions(ctx, id)
}

// SetRole gives user id a role. Superusers only, and not on themselves.
func (s *Service) SetRole(ctx context.Context, id int64, role Role) (User, error) {
	a, err := actor(ctx)
	if err != nil {
		return User{}, err
	}
	switch {
	case a.Role != RoleSuperuser:
		return User{}, fmt.Errorf("%w: only superusers change roles", ErrForbidden)
	case a.ID == id:
		return User{}, fmt.Errorf("%w: you cannot change your own role", ErrForbidden)
	case !role.Valid():
		return User{}, &ValidationError{Fields: []FieldError{{"role", "must be one of user, manager, content_manager, superuser"}}}
	}
	u, err := s.store.UpdateUser(ctx, id, UserUpdate{Role: &role})
	if err != nil {
		return User{}, err
	}
	s.changed(ctx, u)
	return public(u), nil
}
