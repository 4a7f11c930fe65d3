package accounts_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
)

const base = "https://mail.example.com"

// env is a Service over a MemStore, a FakeNotifier and a FakeClock at T0,
// recording the sessions it ends and the changes it reports.
type env struct {
	svc   *accounts.Service
	store *accountstest.MemStore
	mail  *accountstest.FakeNotifier
	clock *accountstest.FakeClock

	mu      sync.Mutex
	ended   []int64
	changes []accounts.User
}

func newEnv(tb testing.TB, opts ...accounts.Option) *env {
	tb.Helper()
	e := &env{
		store: accountstest.NewMemStore(),
		mail:  &accountstest.FakeNotifier{},
		clock: accountstest.NewFakeClock(accountstest.T0),
	}
	all := []accounts.Option{
		accounts.WithClock(e.clock),
		accounts.WithPasswordHasher(accountstest.FastHasher()),
		accounts.WithBaseURL(base),
		accounts.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		accounts.WithSessionEnder(func(_ context.Context, id int64) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.ended = append(e.ended, id)
			return nil
		}),
		accounts.WithChangeHook(func(_ context.Context, u accounts.User) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.changes = append(e.changes, u)
		}),
	}
	e.svc = accounts.NewService(e.store, e.mail, append(all, opts...)...)
	return e
}

func (e *env) endedSessions() []int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]int64(nil), e.ended...)
}

// add creates a confirmed user with a role through the trusted path.
func (e *env) add(tb testing.TB, email string, role accounts.Role) accounts.User {
	tb.Helper()
	u, err := e.svc.AddUser(tb.Context(), accounts.AddInput{
		Email: email, FullName: "Name of " + email, Password: "password of " + email, Role: role, Verified: true,
	})
	require.NoError(tb, err, "AddUser %s", email)
	return u
}

// as returns a context acting as u.
func as(tb testing.TB, u accounts.User) context.Context { return accounts.WithUser(tb.Context(), u) }

// register registers email with password and returns the confirmation token.
func (e *env) register(tb testing.TB, email, password string) (accounts.User, string) {
	tb.Helper()
	u, err := e.svc.Register(tb.Context(), accounts.RegisterInput{Email: email, FullName: "Alice Archer", Password: password})
	require.NoError(tb, err, "Register")
	n, ok := e.mail.Last(accounts.NoticeVerify, email)
	require.True(tb, ok, "Register must send a confirmation link")
	return u, accountstest.TokenFrom(n.Link)
}

func TestRegisterVerifyAuthenticate(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()

	u, err := e.svc.Register(ctx, accounts.RegisterInput{Email: "  Alice@Example.COM ", FullName: " Alice   Archer ", Password: "correct horse"})
	require.NoError(t, err)
	assert.NotZero(t, u.ID)
	assert.Equal(t, "Alice@example.com", u.Email, "trimmed, domain lower-cased")
	assert.Equal(t, "Alice Archer", u.FullName)
	assert.Equal(t, accounts.RoleUser, u.Role)
	assert.False(t, u.Verified)
	assert.False(t, u.Blocked)
	assert.Empty(t, u.PasswordHash, "the Service never hands out hashes")
	assert.Equal(t, accountstest.T0, u.CreatedAt)

	stored, err := e.store.GetUser(ctx, u.ID)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(stored.PasswordHash, "$argon2id$v=19$"), "stored hash %q", stored.PasswordHash)

	notes := e.mail.Notices()
	require.Len(t, notes, 1)
	n := notes[0]
	assert.Equal(t, accounts.NoticeVerify, n.Kind)
	assert.Equal(t, u, n.User)
	assert.True(t, strings.HasPrefix(n.Link, base+"/verify?token="), n.Link)
	assert.Len(t, accountstest.TokenFrom(n.Link), 43, "32 random bytes in base64url")
	assert.Equal(t, base+"/login", n.LoginLink)
	assert.Equal(t, accountstest.T0.Add(48*time.Hour), n.Expires)
	assert.Equal(t, 48*time.Hour, n.TTL)

	t.Run("ErrNotVerifiedBeforeConfirming", func(t *testing.T) {
		_, err := e.svc.Authenticate(ctx, "alice@example.com", "correct horse")
		assert.Same(t, accounts.ErrNotVerified, err)
		assert.Equal(t, "Confirm your email first: we sent you a link.", accounts.Message(err))
	})

	verified, err := e.svc.Verify(ctx, accountstest.TokenFrom(n.Link))
	require.NoError(t, err)
	assert.True(t, verified.Verified)
	assert.Empty(t, verified.PasswordHash)

	for _, email := range []string{"alice@example.com", "Alice@Example.com", "ALICE@EXAMPLE.COM", " alice@example.com"} {
		got, err := e.svc.Authenticate(ctx, email, "correct horse")
		require.NoError(t, err, "Authenticate %q", email)
		assert.Equal(t, u.ID, got.ID, email)
		assert.Empty(t, got.PasswordHash)
	}
	_, err = e.svc.Authenticate(ctx, "alice@example.com", "Correct horse")
	assert.Same(t, accounts.ErrInvalidLogin, err, "passwords are case-sensitive")

	su, err := e.svc.SessionUser(ctx, u.ID)
	require.NoError(t, err)
	assert.Equal(t, verified, su)
}

func TestAuthenticateRevealsNothingWithoutThePassword(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.add(t, "ok@example.com", accounts.RoleUser)
	_, err := e.svc.Register(ctx, accounts.RegisterInput{Email: "unverified@example.com", FullName: "U", Password: "password of unverified"})
	require.NoError(t, err)
	blocked := e.add(t, "blocked@example.com", accounts.RoleUser)
	_, err = e.store.UpdateUser(ctx, blocked.ID, accounts.UserUpdate{Blocked: new(true)})
	require.NoError(t, err)
	nopass := e.add(t, "nopass@example.com", accounts.RoleUser)
	_, err = e.store.UpdateUser(ctx, nopass.ID, accounts.UserUpdate{PasswordHash: new("")})
	require.NoError(t, err)
	e.mail.Reset()

	cases := map[string]struct{ email, password string }{
		"UnknownEmail":            {"nobody@example.com", "password of nobody"},
		"WrongPassword":           {"ok@example.com", "wrong password"},
		"UnverifiedWrongPassword": {"unverified@example.com", "wrong password"},
		"BlockedWrongPassword":    {"blocked@example.com", "wrong password"},
		"NoPasswordSet":           {"nopass@example.com", ""},
		"EmptyEmail":              {"", "whatever"},
		"HugePassword":            {"ok@example.com", strings.Repeat("x", 5000)},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			u, err := e.svc.Authenticate(ctx, c.email, c.password)
			assert.Same(t, accounts.ErrInvalidLogin, err, "the very same error value")
			assert.Equal(t, "accounts: the email or password is wrong", err.Error())
			assert.Equal(t, "The email or password is wrong.", accounts.Message(err))
			assert.Zero(t, u)
		})
	}
	assert.Empty(t, e.mail.Notices(), "a failed login sends nothing")

	t.Run("ErrBlockedWithRightPassword", func(t *testing.T) {
		_, err := e.svc.Authenticate(ctx, "blocked@example.com", "password of blocked@example.com")
		assert.Same(t, accounts.ErrBlocked, err)
	})
	t.Run("ErrNotVerifiedWithRightPasswordResendsLink", func(t *testing.T) {
		e.clock.Advance(accounts.DefaultEmailInterval + time.Second) // past the email limit
		_, err := e.svc.Authenticate(ctx, "unverified@example.com", "password of unverified")
		assert.Same(t, accounts.ErrNotVerified, err)
		n, ok := e.mail.Last(accounts.NoticeVerify, "unverified@example.com")
		require.True(t, ok, "the message says we sent a link: a fresh one goes out")
		_, err = e.svc.Verify(ctx, accountstest.TokenFrom(n.Link))
		assert.NoError(t, err)
	})
}

func TestRegisterExistingAddressRevealsNothing(t *testing.T) {
	t.Run("VerifiedOwnerGetsNotice", func(t *testing.T) {
		e := newEnv(t)
		ctx := t.Context()
		owner, tok := e.register(t, "alice@example.com", "first password")
		_, err := e.svc.Verify(ctx, tok)
		require.NoError(t, err)
		e.mail.Reset()

		u, err := e.svc.Register(ctx, accounts.RegisterInput{Email: "ALICE@example.com", FullName: "Mallory", Password: "second password"})
		require.NoError(t, err, "the same success as a new registration")
		assert.Zero(t, u.ID, "nothing was created")
		assert.Equal(t, "ALICE@example.com", u.Email)
		assert.False(t, u.Verified)

		notes := e.mail.Notices()
		require.Len(t, notes, 1)
		assert.Equal(t, accounts.NoticeAlreadyRegistered, notes[0].Kind)
		assert.Equal(t, owner.ID, notes[0].User.ID)
		assert.Equal(t, "alice@example.com", notes[0].User.Email, "sent to the owner's address")
		assert.Equal(t, base+"/forgot", notes[0].Link)
		assert.Equal(t, base+"/login", notes[0].LoginLink)

		_, total, err := e.store.ListUsers(ctx, accounts.UserFilter{})
		require.NoError(t, err)
		assert.Equal(t, 1, total)
		_, err = e.svc.Authenticate(ctx, "alice@example.com", "first password")
		assert.NoError(t, err, "the owner's password is unchanged")
		_, err = e.svc.Authenticate(ctx, "alice@example.com", "second password")
		assert.Same(t, accounts.ErrInvalidLogin, err)
		got, err := e.store.GetUser(ctx, owner.ID)
		require.NoError(t, err)
		assert.Equal(t, "Alice Archer", got.FullName, "the owner's name is unchanged")
	})

	t.Run("UnverifiedOwnerGetsFreshLink", func(t *testing.T) {
		e := newEnv(t)
		ctx := t.Context()
		e.register(t, "alice@example.com", "first password")
		e.mail.Reset()
		e.clock.Advance(accounts.DefaultEmailInterval + time.Second) // past the email limit
		u, err := e.svc.Register(ctx, accounts.RegisterInput{Email: "alice@example.com", FullName: "Alice", Password: "first password"})
		require.NoError(t, err)
		assert.Zero(t, u.ID)
		n, ok := e.mail.Last(accounts.NoticeVerify, "alice@example.com")
		require.True(t, ok)
		_, err = e.svc.Verify(ctx, accountstest.TokenFrom(n.Link))
		assert.NoError(t, err)
	})

	t.Run("BlockedOwnerGetsNothing", func(t *testing.T) {
		e := newEnv(t)
		ctx := t.Context()
		u := e.add(t, "alice@example.com", accounts.RoleUser)
		_, err := e.store.UpdateUser(ctx, u.ID, accounts.UserUpdate{Blocked: new(true)})
		require.NoError(t, err)
		_, err = e.svc.Register(ctx, accounts.RegisterInput{Email: "alice@example.com", FullName: "Alice", Password: "some password"})
		require.NoError(t, err)
		assert.Empty(t, e.mail.Notices())
	})
}

func TestVerifyTokens(t *testing.T) {
	t.Run("ErrTokenInvalidOnReuse", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.register(t, "alice@example.com", "correct horse")
		_, err := e.svc.Verify(t.Context(), tok)
		require.NoError(t, err)
		_, err = e.svc.Verify(t.Context(), tok)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid)
		assert.Equal(t, "This link is invalid, was already used or has expired. Ask for a new one.", accounts.Message(err))
	})

	t.Run("ExpiresAfter48Hours", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.register(t, "alice@example.com", "correct horse")
		e.clock.Advance(48 * time.Hour)
		assert.ErrorIs(t, e.svc.CheckToken(t.Context(), accounts.TokenVerify, tok), accounts.ErrTokenInvalid)
		_, err := e.svc.Verify(t.Context(), tok)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid)
	})

	t.Run("OKJustBeforeExpiry", func(t *testing.T) {
		e := newEnv(t)
		_, tok := e.register(t, "alice@example.com", "correct horse")
		e.clock.Advance(48*time.Hour - time.Second)
		assert.NoError(t, e.svc.CheckToken(t.Context(), accounts.TokenVerify, tok))
		_, err := e.svc.Verify(t.Context(), tok)
		assert.NoError(t, err)
	})

	t.Run("ConfigurableTTL", func(t *testing.T) {
		e := newEnv(t, accounts.WithTokenTTL(time.Hour, 0))
		_, tok := e.register(t, "alice@example.com", "correct horse")
		e.clock.Advance(time.Hour)
		_, err := e.svc.Verify(t.Context(), tok)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid)
	})

	t.Run("ErrTokenInvalidForMalformedOrResetToken", func(t *testing.T) {
		e := newEnv(t)
		u, _ := e.register(t, "alice@example.com", "correct horse")
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), "alice@example.com"))
		n, ok := e.mail.Last(accounts.NoticeReset, "alice@example.com")
		require.True(t, ok)
		for _, tok := range []string{"", "short", strings.Repeat("!", 43), accountstest.TokenFrom(n.Link)} {
			_, err := e.svc.Verify(t.Context(), tok)
			assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "%q", tok)
		}
		got, err := e.store.GetUser(t.Context(), u.ID)
		require.NoError(t, err)
		assert.False(t, got.Verified)
	})

	t.Run("UsingOneLinkEndsTheOthers", func(t *testing.T) {
		e := newEnv(t)
		_, first := e.register(t, "alice@example.com", "correct horse")
		e.clock.Advance(accounts.DefaultEmailInterval + time.Second) // past the email limit
		require.NoError(t, e.svc.ResendVerification(t.Context(), "alice@example.com"))
		n, _ := e.mail.Last(accounts.NoticeVerify, "alice@example.com")
		second := accountstest.TokenFrom(n.Link)
		require.NotEqual(t, first, second)
		_, err := e.svc.Verify(t.Context(), second)
		require.NoError(t, err)
		_, err = e.svc.Verify(t.Context(), first)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid)
	})
}

func TestResendVerification(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.add(t, "verified@example.com", accounts.RoleUser)
	e.register(t, "new@example.com", "correct horse")
	e.mail.Reset()

	for _, email := range []string{"nobody@example.com", "verified@example.com", "not an address"} {
		assert.NoError(t, e.svc.ResendVerification(ctx, email), email)
	}
	assert.Empty(t, e.mail.Notices(), "nothing for unknown or confirmed addresses")

	e.clock.Advance(accounts.DefaultEmailInterval + time.Second) // past the email limit
	require.NoError(t, e.svc.ResendVerification(ctx, "NEW@example.com"))
	assert.Equal(t, 1, e.mail.Count(accounts.NoticeVerify, "new@example.com"))
}

func TestPasswordReset(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		e := newEnv(t)
		ctx := t.Context()
		u, _ := e.register(t, "alice@example.com", "old password")
		e.mail.Reset()

		require.NoError(t, e.svc.RequestPasswordReset(ctx, "ALICE@example.com"))
		n, ok := e.mail.Last(accounts.NoticeReset, "alice@example.com")
		require.True(t, ok)
		assert.True(t, strings.HasPrefix(n.Link, base+"/reset?token="), n.Link)
		assert.Equal(t, accountstest.T0.Add(time.Hour), n.Expires)
		tok := accountstest.TokenFrom(n.Link)
		assert.NoError(t, e.svc.CheckToken(ctx, accounts.TokenReset, tok))
		assert.ErrorIs(t, e.svc.CheckToken(ctx, accounts.TokenVerify, tok), accounts.ErrTokenInvalid)

		_, err := e.svc.ResetPassword(ctx, tok, "short")
		var ve *accounts.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "must be at least 8 characters long", ve.Field("password"))
		_, err = e.svc.ResetPassword(ctx, tok, "Alice@Example.com")
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "must not be your email address", ve.Field("password"))
		assert.NoError(t, e.svc.CheckToken(ctx, accounts.TokenReset, tok), "a refused password does not burn the link")

		got, err := e.svc.ResetPassword(ctx, tok, "new password")
		require.NoError(t, err)
		assert.Equal(t, u.ID, got.ID)
		assert.True(t, got.Verified, "the link proved the mailbox")
		assert.Equal(t, []int64{u.ID}, e.endedSessions(), "the user's sessions end")

		_, err = e.svc.Authenticate(ctx, "alice@example.com", "old password")
		assert.Same(t, accounts.ErrInvalidLogin, err)
		_, err = e.svc.Authenticate(ctx, "alice@example.com", "new password")
		assert.NoError(t, err)

		_, err = e.svc.ResetPassword(ctx, tok, "another password")
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "single use")
	})

	t.Run("ExpiresAfterAnHour", func(t *testing.T) {
		e := newEnv(t)
		e.add(t, "alice@example.com", accounts.RoleUser)
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), "alice@example.com"))
		n, _ := e.mail.Last(accounts.NoticeReset, "alice@example.com")
		e.clock.Advance(time.Hour)
		_, err := e.svc.ResetPassword(t.Context(), accountstest.TokenFrom(n.Link), "new password")
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid)
	})

	t.Run("UnknownOrBlockedAddressSendsNothing", func(t *testing.T) {
		e := newEnv(t)
		b := e.add(t, "blocked@example.com", accounts.RoleUser)
		_, err := e.store.UpdateUser(t.Context(), b.ID, accounts.UserUpdate{Blocked: new(true)})
		require.NoError(t, err)
		assert.NoError(t, e.svc.RequestPasswordReset(t.Context(), "nobody@example.com"))
		assert.NoError(t, e.svc.RequestPasswordReset(t.Context(), "blocked@example.com"))
		assert.Empty(t, e.mail.Notices())
	})

	t.Run("UsingOneLinkEndsTheOthers", func(t *testing.T) {
		e := newEnv(t)
		e.add(t, "alice@example.com", accounts.RoleUser)
		var toks []string
		for range 2 {
			e.clock.Advance(accounts.DefaultEmailInterval + time.Second) // past the email limit
			require.NoError(t, e.svc.RequestPasswordReset(t.Context(), "alice@example.com"))
			n, _ := e.mail.Last(accounts.NoticeReset, "alice@example.com")
			toks = append(toks, accountstest.TokenFrom(n.Link))
		}
		_, err := e.svc.ResetPassword(t.Context(), toks[1], "new password")
		require.NoError(t, err)
		_, err = e.svc.ResetPassword(t.Context(), toks[0], "newer password")
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid)
	})

	t.Run("EmailLimit", func(t *testing.T) {
		e := newEnv(t)
		e.add(t, "alice@example.com", accounts.RoleUser)
		for range 3 {
			require.NoError(t, e.svc.RequestPasswordReset(t.Context(), "alice@example.com"))
		}
		assert.Equal(t, 1, e.mail.Count(accounts.NoticeReset, "alice@example.com"), "one per interval")
		e.clock.Advance(accounts.DefaultEmailInterval - time.Second)
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), "alice@example.com"))
		assert.Equal(t, 1, e.mail.Count(accounts.NoticeReset, "alice@example.com"), "still within the interval")
		e.clock.Advance(2 * time.Second)
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), "alice@example.com"))
		assert.Equal(t, 2, e.mail.Count(accounts.NoticeReset, "alice@example.com"), "the next interval")
	})
}

// TestEmailLimits: no way through the public methods mails one address
// more than once per interval per kind, or more than the daily cap in all;
// the callers' answers do not change.
func TestEmailLimits(t *testing.T) {
	const addr = "victim@example.com"
	in := accounts.RegisterInput{Email: addr, FullName: "Vic Tim", Password: "a long password"}

	t.Run("RegisterAgainUnconfirmed", func(t *testing.T) {
		e := newEnv(t)
		first, err := e.svc.Register(t.Context(), in)
		require.NoError(t, err)
		for range 3 {
			again, err := e.svc.Register(t.Context(), in)
			require.NoError(t, err, "the same success")
			assert.Zero(t, again.ID)
		}
		assert.Equal(t, 1, e.mail.Count(accounts.NoticeVerify, addr), "registering again within the interval sends nothing")
		e.clock.Advance(accounts.DefaultEmailInterval + time.Second)
		_, err = e.svc.Register(t.Context(), in)
		require.NoError(t, err)
		assert.Equal(t, 2, e.mail.Count(accounts.NoticeVerify, addr), "after the interval a fresh link")
		assert.NotZero(t, first.ID)
	})

	t.Run("LoginUnconfirmed", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.svc.Register(t.Context(), in)
		require.NoError(t, err)
		for range 3 {
			_, err := e.svc.Authenticate(t.Context(), addr, in.Password)
			assert.ErrorIs(t, err, accounts.ErrNotVerified, "the same answer")
		}
		assert.Equal(t, 1, e.mail.Count(accounts.NoticeVerify, addr))
	})

	t.Run("ResendUnconfirmed", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.svc.Register(t.Context(), in)
		require.NoError(t, err)
		for range 3 {
			require.NoError(t, e.svc.ResendVerification(t.Context(), addr))
		}
		assert.Equal(t, 1, e.mail.Count(accounts.NoticeVerify, addr))
	})

	t.Run("RegisterAgainConfirmed", func(t *testing.T) {
		e := newEnv(t)
		e.add(t, addr, accounts.RoleUser)
		for range 3 {
			_, err := e.svc.Register(t.Context(), in)
			require.NoError(t, err)
		}
		assert.Equal(t, 1, e.mail.Count(accounts.NoticeAlreadyRegistered, addr))
	})

	t.Run("DailyCapOverAllKinds", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.svc.Register(t.Context(), in) // verify 1
		require.NoError(t, err)
		sent := func() int {
			return e.mail.Count(accounts.NoticeVerify, addr) + e.mail.Count(accounts.NoticeReset, addr)
		}
		for range 20 {
			e.clock.Advance(accounts.DefaultEmailInterval + time.Second)
			require.NoError(t, e.svc.ResendVerification(t.Context(), addr))
			require.NoError(t, e.svc.RequestPasswordReset(t.Context(), addr))
		}
		assert.Equal(t, accounts.DefaultEmailsPerDay, sent(), "at most the daily cap in 200 minutes")
		e.clock.Advance(24 * time.Hour)
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), addr))
		assert.Equal(t, accounts.DefaultEmailsPerDay+1, sent(), "the next day")
	})

	t.Run("FailedEmailDoesNotCount", func(t *testing.T) {
		e := newEnv(t)
		e.add(t, addr, accounts.RoleUser)
		e.mail.Fail(errors.New("421 try later"))
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), addr), "a failure to send is logged, not told")
		e.mail.Fail(nil)
		require.NoError(t, e.svc.RequestPasswordReset(t.Context(), addr))
		assert.Equal(t, 1, e.mail.Count(accounts.NoticeReset, addr), "the retry goes out")
	})

	t.Run("Configurable", func(t *testing.T) {
		e := newEnv(t, accounts.WithEmailLimits(time.Minute, 2))
		e.add(t, addr, accounts.RoleUser)
		for range 5 {
			require.NoError(t, e.svc.RequestPasswordReset(t.Context(), addr))
			e.clock.Advance(time.Minute + time.Second)
		}
		assert.Equal(t, 2, e.mail.Count(accounts.NoticeReset, addr))
		e = newEnv(t, accounts.WithEmailLimits(0, 0))
		e.add(t, addr, accounts.RoleUser)
		for range 5 {
			require.NoError(t, e.svc.RequestPasswordReset(t.Context(), addr))
		}
		assert.Equal(t, 5, e.mail.Count(accounts.NoticeReset, addr), "no limits")
	})
}

func TestNotifierFailure(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	e.mail.Fail(errors.New("421 try later"))

	u, err := e.svc.Register(ctx, accounts.RegisterInput{Email: "alice@example.com", FullName: "Alice", Password: "correct horse"})
	assert.ErrorIs(t, err, accounts.ErrNotify)
	assert.NotZero(t, u.ID, "the account is saved")
	_, err = e.svc.Register(ctx, accounts.RegisterInput{Email: "alice@example.com", FullName: "Alice", Password: "correct horse"})
	assert.ErrorIs(t, err, accounts.ErrNotify, "a repeated registration fails the same way")

	assert.NoError(t, e.svc.RequestPasswordReset(ctx, "alice@example.com"), "logged, not returned")
	assert.NoError(t, e.svc.ResendVerification(ctx, "alice@example.com"), "logged, not returned")

	e.mail.Fail(nil)
	require.NoError(t, e.svc.ResendVerification(ctx, "alice@example.com"))
	n, ok := e.mail.Last(accounts.NoticeVerify, "alice@example.com")
	require.True(t, ok)
	_, err = e.svc.Verify(ctx, accountstest.TokenFrom(n.Link))
	assert.NoError(t, err)
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	for _, tc := range []struct {
		name string
		in   accounts.RegisterInput
		want map[string]string
	}{
		{"Empty", accounts.RegisterInput{}, map[string]string{
			"email": "is required", "full_name": "is required", "password": "is required"}},
		{"BadEmail", accounts.RegisterInput{Email: "alice@", FullName: "A", Password: "correct horse"},
			map[string]string{"email": "is not a valid email address"}},
		{"DisplayNameEmail", accounts.RegisterInput{Email: "Alice <alice@example.com>", FullName: "A", Password: "correct horse"},
			map[string]string{"email": "is not a valid email address"}},
		{"LongEmail", accounts.RegisterInput{Email: strings.Repeat("a", 250) + "@x.io", FullName: "A", Password: "correct horse"},
			map[string]string{"email": "must be at most 254 characters long"}},
		{"ShortPassword", accounts.RegisterInput{Email: "a@example.com", FullName: "A", Password: "1234567"},
			map[string]string{"password": "must be at least 8 characters long"}},
		{"LongPassword", accounts.RegisterInput{Email: "a@example.com", FullName: "A", Password: strings.Repeat("é", 257)},
			map[string]string{"password": "must be at most 256 characters long"}},
		{"PasswordIsEmail", accounts.RegisterInput{Email: "alice@example.com", FullName: "A", Password: "ALICE@example.com"},
			map[string]string{"password": "must not be your email address"}},
		{"ControlInName", accounts.RegisterInput{Email: "a@example.com", FullName: "A\x00B", Password: "correct horse"},
			map[string]string{"full_name": "must not contain control characters"}},
		{"LongName", accounts.RegisterInput{Email: "a@example.com", FullName: strings.Repeat("n", 201), Password: "correct horse"},
			map[string]string{"full_name": "must be at most 200 characters long"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.svc.Register(ctx, tc.in)
			require.ErrorIs(t, err, accounts.ErrInvalid)
			var ve *accounts.ValidationError
			require.ErrorAs(t, err, &ve)
			got := map[string]string{}
			for _, f := range ve.Fields {
				got[f.Field] = f.Message
			}
			assert.Equal(t, tc.want, got)
		})
	}
	assert.Empty(t, e.mail.Notices())

	t.Run("Sentence", func(t *testing.T) {
		_, err := e.svc.Register(ctx, accounts.RegisterInput{Email: "x", FullName: "X", Password: "short"})
		assert.Equal(t, "The email address is not a valid email address. The password must be at least 8 characters long.", accounts.Message(err))
		assert.Equal(t, "accounts: invalid input: email is not a valid email address; password must be at least 8 characters long", err.Error())
	})

	t.Run("CheckPassword", func(t *testing.T) {
		assert.NoError(t, accounts.CheckPassword("eight ch", "a@example.com"))
		assert.ErrorIs(t, accounts.CheckPassword("seven c", "a@example.com"), accounts.ErrInvalid)
	})
}

func TestBlock(t *testing.T) {
	type people struct{ super, super2, manager, manager2, content, user, user2 accounts.User }
	setup := func(t *testing.T) (*env, people) {
		e := newEnv(t)
		return e, people{
			super:    e.add(t, "super@example.com", accounts.RoleSuperuser),
			super2:   e.add(t, "super2@example.com", accounts.RoleSuperuser),
			manager:  e.add(t, "manager@example.com", accounts.RoleManager),
			manager2: e.add(t, "manager2@example.com", accounts.RoleManager),
			content:  e.add(t, "content@example.com", accounts.RoleContentManager),
			user:     e.add(t, "user@example.com", accounts.RoleUser),
			user2:    e.add(t, "user2@example.com", accounts.RoleUser),
		}
	}

	t.Run("ManagerBlocksUser", func(t *testing.T) {
		e, p := setup(t)
		ctx := t.Context()
		require.NoError(t, e.svc.RequestPasswordReset(ctx, "user@example.com"))
		n, _ := e.mail.Last(accounts.NoticeReset, "user@example.com")

		got, err := e.svc.Block(as(t, p.manager), p.user.ID)
		require.NoError(t, err)
		assert.True(t, got.Blocked)
		assert.Empty(t, got.PasswordHash)
		assert.Equal(t, []int64{p.user.ID}, e.endedSessions(), "the user's sessions end at once")

		_, err = e.svc.Authenticate(ctx, "user@example.com", "password of user@example.com")
		assert.Same(t, accounts.ErrBlocked, err)
		_, err = e.svc.SessionUser(ctx, p.user.ID)
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated, "a live session is refused on its next request")
		_, err = e.svc.ResetPassword(ctx, accountstest.TokenFrom(n.Link), "new password")
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "pending links die with the block")
		_, _, err = e.svc.ListUsers(as(t, got), accounts.UserFilter{})
		assert.Error(t, err)

		got, err = e.svc.Unblock(as(t, p.manager), p.user.ID)
		require.NoError(t, err)
		assert.False(t, got.Blocked)
		_, err = e.svc.Authenticate(ctx, "user@example.com", "password of user@example.com")
		assert.NoError(t, err)
		assert.Equal(t, []int64{p.user.ID}, e.endedSessions(), "unblocking ends nothing")
	})

	t.Run("ManagerBlocksContentManager", func(t *testing.T) {
		e, p := setup(t)
		_, err := e.svc.Block(as(t, p.manager), p.content.ID)
		assert.NoError(t, err)
	})

	t.Run("SuperuserBlocksAnyoneElse", func(t *testing.T) {
		e, p := setup(t)
		for _, u := range []accounts.User{p.manager, p.super2, p.user} {
			_, err := e.svc.Block(as(t, p.super), u.ID)
			assert.NoError(t, err, u.Email)
		}
	})

	t.Run("ErrForbidden", func(t *testing.T) {
		e, p := setup(t)
		for _, c := range []struct {
			name          string
			actor, target accounts.User
		}{
			{"ManagerBlocksSuperuser", p.manager, p.super},
			{"ManagerBlocksManager", p.manager, p.manager2},
			{"ManagerBlocksThemselves", p.manager, p.manager},
			{"SuperuserBlocksThemselves", p.super, p.super},
			{"UserBlocksUser", p.user, p.user2},
			{"UserBlocksThemselves", p.user, p.user},
			{"ContentManagerBlocksUser", p.content, p.user},
		} {
			_, err := e.svc.Block(as(t, c.actor), c.target.ID)
			assert.ErrorIs(t, err, accounts.ErrForbidden, c.name)
			_, err = e.svc.Unblock(as(t, c.actor), c.target.ID)
			assert.ErrorIs(t, err, accounts.ErrForbidden, c.name+" (unblock)")
		}
		assert.Empty(t, e.endedSessions())
		us, _, err := e.store.ListUsers(t.Context(), accounts.UserFilter{})
		require.NoError(t, err)
		for _, u := range us {
			assert.False(t, u.Blocked, u.Email)
		}
	})

	t.Run("ErrUnauthenticated", func(t *testing.T) {
		e, p := setup(t)
		_, err := e.svc.Block(t.Context(), p.user.ID)
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated, "no acting user")
		blockedManager := p.manager
		blockedManager.Blocked = true
		_, err = e.svc.Block(as(t, blockedManager), p.user.ID)
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated, "a blocked acting user")
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		e, p := setup(t)
		_, err := e.svc.Block(as(t, p.manager), 999999)
		assert.ErrorIs(t, err, accounts.ErrNotFound)
	})

	t.Run("SessionEnderFailureIsReported", func(t *testing.T) {
		e := newEnv(t, accounts.WithSessionEnder(func(context.Context, int64) error { return errors.New("session table down") }))
		m := e.add(t, "manager@example.com", accounts.RoleManager)
		u := e.add(t, "user@example.com", accounts.RoleUser)
		_, err := e.svc.Block(as(t, m), u.ID)
		assert.ErrorContains(t, err, "session table down")
		got, gerr := e.store.GetUser(t.Context(), u.ID)
		require.NoError(t, gerr)
		assert.True(t, got.Blocked, "the block is saved all the same")
	})
}

func TestStaffMethods(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	super := e.add(t, "super@example.com", accounts.RoleSuperuser)
	manager := e.add(t, "manager@example.com", accounts.RoleManager)
	content := e.add(t, "content@example.com", accounts.RoleContentManager)
	user := e.add(t, "user@example.com", accounts.RoleUser)
	other := e.add(t, "other@example.com", accounts.RoleUser)

	t.Run("ListUsers", func(t *testing.T) {
		for _, a := range []accounts.User{super, manager} {
			us, n, err := e.svc.ListUsers(as(t, a), accounts.UserFilter{Role: accounts.RoleUser})
			require.NoError(t, err, a.Email)
			assert.Equal(t, 2, n)
			for _, u := range us {
				assert.Empty(t, u.PasswordHash)
			}
		}
		for _, a := range []accounts.User{content, user} {
			_, _, err := e.svc.ListUsers(as(t, a), accounts.UserFilter{})
			assert.ErrorIs(t, err, accounts.ErrForbidden, a.Email)
		}
		_, _, err := e.svc.ListUsers(ctx, accounts.UserFilter{})
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated)
	})

	t.Run("GetUser", func(t *testing.T) {
		got, err := e.svc.GetUser(as(t, user), user.ID)
		require.NoError(t, err)
		assert.Equal(t, user, got)
		_, err = e.svc.GetUser(as(t, user), other.ID)
		assert.ErrorIs(t, err, accounts.ErrNotFound, "another user is not found, not forbidden")
		got, err = e.svc.GetUser(as(t, manager), other.ID)
		require.NoError(t, err)
		assert.Empty(t, got.PasswordHash)
	})

	t.Run("UpdateProfile", func(t *testing.T) {
		got, err := e.svc.UpdateProfile(as(t, user), user.ID, "  New   Name ")
		require.NoError(t, err)
		assert.Equal(t, "New Name", got.FullName)
		_, err = e.svc.UpdateProfile(as(t, user), other.ID, "X")
		assert.ErrorIs(t, err, accounts.ErrNotFound)
		_, err = e.svc.UpdateProfile(as(t, manager), other.ID, "X")
		assert.ErrorIs(t, err, accounts.ErrForbidden)
		_, err = e.svc.UpdateProfile(as(t, super), other.ID, "Renamed")
		assert.NoError(t, err)
		_, err = e.svc.UpdateProfile(as(t, user), user.ID, " ")
		assert.ErrorIs(t, err, accounts.ErrInvalid)
	})

	t.Run("SetRole", func(t *testing.T) {
		got, err := e.svc.SetRole(as(t, super), other.ID, accounts.RoleContentManager)
		require.NoError(t, err)
		assert.Equal(t, accounts.RoleContentManager, got.Role)
		_, err = e.svc.SetRole(as(t, manager), other.ID, accounts.RoleManager)
		assert.ErrorIs(t, err, accounts.ErrForbidden)
		_, err = e.svc.SetRole(as(t, super), super.ID, accounts.RoleUser)
		assert.ErrorIs(t, err, accounts.ErrForbidden, "not on themselves")
		_, err = e.svc.SetRole(as(t, super), other.ID, "root")
		assert.ErrorIs(t, err, accounts.ErrInvalid)
	})

	t.Run("ChangePassword", func(t *testing.T) {
		err := e.svc.ChangePassword(as(t, user), "wrong", "brand new password")
		var ve *accounts.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "is wrong", ve.Field("current_password"))
		require.NoError(t, e.svc.ChangePassword(as(t, user), "password of user@example.com", "brand new password"))
		_, err = e.svc.Authenticate(ctx, "user@example.com", "brand new password")
		assert.NoError(t, err)
		assert.Empty(t, e.endedSessions(), "changing one's own password keeps the sessions")
	})
}

func TestTrustedMethods(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()

	t.Run("AddUser", func(t *testing.T) {
		u, err := e.svc.AddUser(ctx, accounts.AddInput{Email: "Root@Example.com", FullName: "Root", Password: "correct horse", Role: accounts.RoleSuperuser, Verified: true})
		require.NoError(t, err)
		assert.Equal(t, accounts.RoleSuperuser, u.Role)
		assert.True(t, u.Verified)
		assert.Empty(t, e.mail.Notices(), "no email")
		_, err = e.svc.Authenticate(ctx, "root@example.com", "correct horse")
		assert.NoError(t, err)

		_, err = e.svc.AddUser(ctx, accounts.AddInput{Email: "ROOT@example.com", FullName: "Root", Password: "correct horse"})
		assert.ErrorIs(t, err, accounts.ErrConflict)
		_, err = e.svc.AddUser(ctx, accounts.AddInput{Email: "x@example.com", FullName: "X", Password: "correct horse", Role: "root"})
		var ve *accounts.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.NotEmpty(t, ve.Field("role"))

		d, err := e.svc.AddUser(ctx, accounts.AddInput{Email: "d@example.com", FullName: "D", Password: "correct horse"})
		require.NoError(t, err)
		assert.Equal(t, accounts.RoleUser, d.Role, "the default role")
		assert.False(t, d.Verified)
	})

	t.Run("SetPassword", func(t *testing.T) {
		u := e.add(t, "p@example.com", accounts.RoleUser)
		require.NoError(t, e.svc.SetPassword(ctx, u.ID, "set by operator"))
		_, err := e.svc.Authenticate(ctx, "p@example.com", "set by operator")
		assert.NoError(t, err)
		assert.Contains(t, e.endedSessions(), u.ID)
		assert.ErrorIs(t, e.svc.SetPassword(ctx, u.ID, "short"), accounts.ErrInvalid)
		assert.ErrorIs(t, e.svc.SetPassword(ctx, 999999, "long enough"), accounts.ErrNotFound)
	})

	t.Run("SessionUser", func(t *testing.T) {
		_, err := e.svc.SessionUser(ctx, 999999)
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated)
		u, _ := e.register(t, "s@example.com", "correct horse")
		_, err = e.svc.SessionUser(ctx, u.ID)
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated, "unconfirmed")
	})

	t.Run("PurgeTokens", func(t *testing.T) {
		require.NoError(t, e.svc.RequestPasswordReset(ctx, "p@example.com"))
		n, err := e.svc.PurgeTokens(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
		e.clock.Advance(time.Hour)
		n, err = e.svc.PurgeTokens(ctx)
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
	})
}

func TestRehashOnLogin(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	u := e.add(t, "alice@example.com", accounts.RoleUser)
	before, err := e.store.GetUser(ctx, u.ID)
	require.NoError(t, err)

	stronger := accounts.NewPasswordHasher(accounts.Argon2Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	svc := accounts.NewService(e.store, e.mail, accounts.WithClock(e.clock), accounts.WithPasswordHasher(stronger))
	_, err = svc.Authenticate(ctx, "alice@example.com", "password of alice@example.com")
	require.NoError(t, err)
	after, err := e.store.GetUser(ctx, u.ID)
	require.NoError(t, err)
	assert.NotEqual(t, before.PasswordHash, after.PasswordHash)
	assert.Contains(t, after.PasswordHash, "$m=128,t=1,p=1$")
	_, err = svc.Authenticate(ctx, "alice@example.com", "password of alice@example.com")
	assert.NoError(t, err, "the new hash works")
}

func TestChangeHook(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	m := e.add(t, "manager@example.com", accounts.RoleManager)
	u, tok := e.register(t, "alice@example.com", "correct horse")
	_, err := e.svc.Verify(ctx, tok)
	require.NoError(t, err)
	_, err = e.svc.Block(as(t, m), u.ID)
	require.NoError(t, err)

	e.mu.Lock()
	defer e.mu.Unlock()
	require.Len(t, e.changes, 4, "added, registered, confirmed, blocked")
	last := e.changes[3]
	assert.Equal(t, u.ID, last.ID)
	assert.True(t, last.Verified)
	assert.True(t, last.Blocked)
	for _, c := range e.changes {
		assert.Empty(t, c.PasswordHash)
	}
}

func TestMessage(t *testing.T) {
	assert.Empty(t, accounts.Message(nil))
	assert.Equal(t, "This account is blocked. Contact the service's staff if you think this is a mistake.", accounts.Message(accounts.ErrBlocked))
	assert.Equal(t, "You are not allowed to do that.", accounts.Message(errors.Join(errors.New("x"), accounts.ErrForbidden)))
	assert.Equal(t, "Something went wrong. Try again in a few minutes.", accounts.Message(errors.New("dial tcp: refused")))
}
