package accountstest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
)

// T0 is the fixed "now" of TestStore: 2026-03-01 09:00 UTC.
var T0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// TestStore checks that an accounts.Store keeps the contract documented on
// accounts.Store. newStore must return a fresh, empty store with its schema
// in place (and register any cleanup with t.Cleanup); the suite calls it
// once per leaf subtest.
//
// The suite uses fixed times around T0 and never the wall clock, except to
// check that a zero CreatedAt is stamped.
func TestStore(t *testing.T, newStore func(t *testing.T) accounts.Store) {
	t.Helper()
	run := func(t *testing.T, name string, test func(t *testing.T, s accounts.Store)) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			s := newStore(t)
			require.NotNil(t, s, "newStore returned nil")
			test(t, s)
		})
	}
	t.Run("Users", func(t *testing.T) { testUsers(t, run) })
	t.Run("List", func(t *testing.T) { testList(t, run) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, run) })
	t.Run("Emails", func(t *testing.T) { testEmails(t, run) })
}

type runner func(t *testing.T, name string, test func(t *testing.T, s accounts.Store))

// newUser stores a user with the given email, name and role at T0.
func newUser(tb testing.TB, s accounts.Store, email, name string, role accounts.Role) accounts.User {
	tb.Helper()
	u := accounts.User{
		Email: email, FullName: name, Role: role,
		PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + email,
		CreatedAt:    T0,
	}
	require.NoError(tb, s.CreateUser(tb.Context(), &u), "CreateUser %s", email)
	require.NotZero(tb, u.ID, "CreateUser must set ID")
	return u
}

func testUsers(t *testing.T, run runner) {
	run(t, "CreateGetRoundTrip", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := accounts.User{
			Email: "Zoë.Ørsted@Example.com", FullName: "Zoë Ørsted 李", PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$abc$def",
			Role: accounts.RoleContentManager, Verified: true, Blocked: true,
			CreatedAt: T0.Add(1234567 * time.Nanosecond).In(time.FixedZone("X", 3600)),
		}
		require.NoError(t, s.CreateUser(ctx, &u))
		require.NotZero(t, u.ID)
		want := u
		want.CreatedAt = T0.Add(1234 * time.Microsecond)
		assert.Equal(t, want, u, "CreateUser must leave the stored value in u (UTC, whole microseconds)")

		got, err := s.GetUser(ctx, u.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got)

		got, err = s.GetUserByEmail(ctx, "ZOË.ØRSTED@example.COM")
		require.NoError(t, err, "GetUserByEmail must compare case-insensitively")
		assert.Equal(t, want, got)

		other := newUser(t, s, "other@example.com", "Other", accounts.RoleUser)
		assert.NotEqual(t, u.ID, other.ID)
	})

	run(t, "CreateStampsZeroCreatedAt", func(t *testing.T, s accounts.Store) {
		u := accounts.User{Email: "a@example.com", FullName: "A", Role: accounts.RoleUser}
		require.NoError(t, s.CreateUser(t.Context(), &u))
		got, err := s.GetUser(t.Context(), u.ID)
		require.NoError(t, err)
		assert.False(t, got.CreatedAt.IsZero())
		assert.Equal(t, time.UTC, got.CreatedAt.Location())
		assert.Equal(t, got.CreatedAt, got.CreatedAt.Truncate(time.Microsecond))
		assert.WithinDuration(t, time.Now(), got.CreatedAt, time.Hour)
	})

	run(t, "ErrConflictEmailCaseInsensitive", func(t *testing.T, s accounts.Store) {
		newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		for _, email := range []string{"alice@example.com", "Alice@Example.COM", " ALICE@EXAMPLE.COM "} {
			u := accounts.User{Email: email, FullName: "Mallory", Role: accounts.RoleUser, CreatedAt: T0}
			err := s.CreateUser(t.Context(), &u)
			assert.ErrorIs(t, err, accounts.ErrConflict, "email %q", email)
		}
		_, total, err := s.ListUsers(t.Context(), accounts.UserFilter{})
		require.NoError(t, err)
		assert.Equal(t, 1, total, "a refused user must not be stored")
	})

	run(t, "ErrNotFound", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		_, err := s.GetUser(ctx, 999999)
		assert.ErrorIs(t, err, accounts.ErrNotFound, "GetUser")
		_, err = s.GetUserByEmail(ctx, "bob@example.com")
		assert.ErrorIs(t, err, accounts.ErrNotFound, "GetUserByEmail")
		_, err = s.GetUserByEmail(ctx, "alice@example")
		assert.ErrorIs(t, err, accounts.ErrNotFound, "GetUserByEmail of a prefix")
		_, err = s.UpdateUser(ctx, 999999, accounts.UserUpdate{FullName: new("X")})
		assert.ErrorIs(t, err, accounts.ErrNotFound, "UpdateUser")
	})

	run(t, "UpdateOneFieldAtATime", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		bystander := newUser(t, s, "bob@example.com", "Bob", accounts.RoleUser)
		want := u
		steps := []struct {
			name  string
			up    accounts.UserUpdate
			apply func(*accounts.User)
		}{
			{"FullName", accounts.UserUpdate{FullName: new("Alice Archer")}, func(u *accounts.User) { u.FullName = "Alice Archer" }},
			{"PasswordHash", accounts.UserUpdate{PasswordHash: new("$argon2id$new")}, func(u *accounts.User) { u.PasswordHash = "$argon2id$new" }},
			{"Role", accounts.UserUpdate{Role: new(accounts.RoleManager)}, func(u *accounts.User) { u.Role = accounts.RoleManager }},
			{"Verified", accounts.UserUpdate{Verified: new(true)}, func(u *accounts.User) { u.Verified = true }},
			{"Blocked", accounts.UserUpdate{Blocked: new(true)}, func(u *accounts.User) { u.Blocked = true }},
			{"Unblocked", accounts.UserUpdate{Blocked: new(false)}, func(u *accounts.User) { u.Blocked = false }},
			{"EmailCase", accounts.UserUpdate{Email: new("ALICE@example.com")}, func(u *accounts.User) { u.Email = "ALICE@example.com" }},
			{"Email", accounts.UserUpdate{Email: new("alice@example.org")}, func(u *accounts.User) { u.Email = "alice@example.org" }},
			{"Nothing", accounts.UserUpdate{}, func(*accounts.User) {}},
			{"Several", accounts.UserUpdate{FullName: new("A"), Verified: new(false), PasswordHash: new("")},
				func(u *accounts.User) { u.FullName, u.Verified, u.PasswordHash = "A", false, "" }},
		}
		for _, st := range steps {
			st.apply(&want)
			got, err := s.UpdateUser(ctx, u.ID, st.up)
			require.NoError(t, err, st.name)
			assert.Equal(t, want, got, "%s: UpdateUser must return the stored user", st.name)
			got, err = s.GetUser(ctx, u.ID)
			require.NoError(t, err, st.name)
			assert.Equal(t, want, got, "%s: GetUser after UpdateUser", st.name)
		}
		got, err := s.GetUserByEmail(ctx, "Alice@Example.ORG")
		require.NoError(t, err, "the new email must be found")
		assert.Equal(t, u.ID, got.ID)
		_, err = s.GetUserByEmail(ctx, "alice@example.com")
		assert.ErrorIs(t, err, accounts.ErrNotFound, "the old email must be free")
		again := newUser(t, s, "alice@example.com", "New Alice", accounts.RoleUser)
		assert.NotEqual(t, u.ID, again.ID)

		got, err = s.GetUser(ctx, bystander.ID)
		require.NoError(t, err)
		assert.Equal(t, bystander, got, "updates must touch one user only")
	})

	run(t, "UpdateErrConflictEmail", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		a := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		newUser(t, s, "bob@example.com", "Bob", accounts.RoleUser)
		_, err := s.UpdateUser(ctx, a.ID, accounts.UserUpdate{Email: new("BOB@example.com"), FullName: new("Changed")})
		assert.ErrorIs(t, err, accounts.ErrConflict)
		got, err := s.GetUser(ctx, a.ID)
		require.NoError(t, err)
		assert.Equal(t, a, got, "a refused update must change nothing")
	})

	run(t, "ConcurrentUpdatesKeepEachField", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for _, up := range []accounts.UserUpdate{
			{Blocked: new(true)}, {PasswordHash: new("$argon2id$reset")}, {Verified: new(true)}, {FullName: new("Alice B")},
		} {
			wg.Go(func() {
				_, err := s.UpdateUser(ctx, u.ID, up)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got, err := s.GetUser(ctx, u.ID)
		require.NoError(t, err)
		assert.True(t, got.Blocked, "Blocked")
		assert.True(t, got.Verified, "Verified")
		assert.Equal(t, "$argon2id$reset", got.PasswordHash)
		assert.Equal(t, "Alice B", got.FullName)
	})
}

func testList(t *testing.T, run runner) {
	fixture := func(t *testing.T, s accounts.Store) []accounts.User {
		return []accounts.User{
			newUser(t, s, "alice@example.com", "Alice Smith", accounts.RoleUser),
			newUser(t, s, "bob@example.org", "Bob Brown", accounts.RoleManager),
			newUser(t, s, "carol@example.com", "Carol SMITHERS", accounts.RoleContentManager),
			newUser(t, s, "dave@example.com", "Dave 100% Real", accounts.RoleUser),
			newUser(t, s, "erin_x@example.net", "Erin", accounts.RoleSuperuser),
			newUser(t, s, "zoe@example.com", "Zoë ØRSTED", accounts.RoleUser),
		}
	}
	list := func(t *testing.T, s accounts.Store, f accounts.UserFilter) ([]accounts.User, int) {
		t.Helper()
		us, n, err := s.ListUsers(t.Context(), f)
		require.NoError(t, err)
		return us, n
	}

	run(t, "Empty", func(t *testing.T, s accounts.Store) {
		us, n := list(t, s, accounts.UserFilter{})
		assert.Empty(t, us)
		assert.Zero(t, n)
	})

	run(t, "AllByID", func(t *testing.T, s accounts.Store) {
		all := fixture(t, s)
		us, n := list(t, s, accounts.UserFilter{})
		assert.Equal(t, all, us)
		assert.Equal(t, 6, n)
	})

	run(t, "Filters", func(t *testing.T, s accounts.Store) {
		all := fixture(t, s)
		alice, bob, carol, dave, erin, zoe := all[0], all[1], all[2], all[3], all[4], all[5]
		for _, tc := range []struct {
			name string
			f    accounts.UserFilter
			want []accounts.User
		}{
			{"Role", accounts.UserFilter{Role: accounts.RoleUser}, []accounts.User{alice, dave, zoe}},
			{"SearchUnicodeAnyCase", accounts.UserFilter{Search: "zoË ør"}, []accounts.User{zoe}},
			{"SearchAccentsMatter", accounts.UserFilter{Search: "zoe orsted"}, nil},
			{"SearchNameAnyCase", accounts.UserFilter{Search: "smith"}, []accounts.User{alice, carol}},
			{"SearchEmailAnyCase", accounts.UserFilter{Search: "EXAMPLE.ORG"}, []accounts.User{bob}},
			{"SearchAndRole", accounts.UserFilter{Search: "smith", Role: accounts.RoleContentManager}, []accounts.User{carol}},
			{"PercentIsLiteral", accounts.UserFilter{Search: "%"}, []accounts.User{dave}},
			{"UnderscoreIsLiteral", accounts.UserFilter{Search: "_"}, []accounts.User{erin}},
			{"NoMatch", accounts.UserFilter{Search: "zzz"}, nil},
		} {
			us, n := list(t, s, tc.f)
			assert.Equal(t, len(tc.want), n, tc.name)
			if len(tc.want) == 0 {
				assert.Empty(t, us, tc.name)
			} else {
				assert.Equal(t, tc.want, us, tc.name)
			}
		}
	})

	run(t, "Paging", func(t *testing.T, s accounts.Store) {
		all := fixture(t, s)
		us, n := list(t, s, accounts.UserFilter{ListOptions: accounts.ListOptions{Limit: 2, Offset: 1}})
		assert.Equal(t, all[1:3], us)
		assert.Equal(t, 6, n, "the total ignores paging")

		us, n = list(t, s, accounts.UserFilter{ListOptions: accounts.ListOptions{Offset: 3}})
		assert.Equal(t, all[3:], us, "Offset without Limit")
		assert.Equal(t, 6, n)

		us, n = list(t, s, accounts.UserFilter{ListOptions: accounts.ListOptions{Limit: 2, Offset: 10}})
		assert.Empty(t, us, "Offset past the end")
		assert.Equal(t, 6, n)

		us, n = list(t, s, accounts.UserFilter{Role: accounts.RoleUser, ListOptions: accounts.ListOptions{Limit: 1, Offset: 1}})
		assert.Equal(t, all[3:4], us, "paging after filtering")
		assert.Equal(t, 3, n)
	})
}

func testTokens(t *testing.T, run runner) {
	token := func(tb testing.TB, s accounts.Store, secret string, kind accounts.TokenKind, userID int64, created time.Time, ttl time.Duration) string {
		tb.Helper()
		h := accounts.HashToken(secret)
		require.NoError(tb, s.CreateToken(tb.Context(), accounts.Token{
			Hash: h, Kind: kind, UserID: userID, CreatedAt: created, ExpiresAt: created.Add(ttl),
		}), "CreateToken %s", secret)
		return h
	}

	run(t, "ConsumeOnce", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		h := token(t, s, "s1", accounts.TokenVerify, u.ID, T0, time.Hour)

		for range 2 {
			id, err := s.CheckToken(ctx, accounts.TokenVerify, h, T0)
			require.NoError(t, err, "CheckToken must not consume")
			assert.Equal(t, u.ID, id)
		}
		id, err := s.ConsumeToken(ctx, accounts.TokenVerify, h, T0.Add(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, u.ID, id)

		_, err = s.ConsumeToken(ctx, accounts.TokenVerify, h, T0.Add(time.Minute))
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "second ConsumeToken")
		_, err = s.CheckToken(ctx, accounts.TokenVerify, h, T0.Add(time.Minute))
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "CheckToken after ConsumeToken")
	})

	run(t, "Expiry", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		h := token(t, s, "s1", accounts.TokenReset, u.ID, T0, time.Hour)
		end := T0.Add(time.Hour)

		_, err := s.CheckToken(ctx, accounts.TokenReset, h, end)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "CheckToken at ExpiresAt")
		_, err = s.ConsumeToken(ctx, accounts.TokenReset, h, end)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "ConsumeToken at ExpiresAt")
		_, err = s.ConsumeToken(ctx, accounts.TokenReset, h, end.Add(48*time.Hour))
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "ConsumeToken long after")

		id, err := s.ConsumeToken(ctx, accounts.TokenReset, h, end.Add(-time.Microsecond))
		require.NoError(t, err, "ConsumeToken a microsecond before ExpiresAt")
		assert.Equal(t, u.ID, id)
	})

	run(t, "WrongKindOrUnknown", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		h := token(t, s, "s1", accounts.TokenReset, u.ID, T0, time.Hour)

		_, err := s.ConsumeToken(ctx, accounts.TokenVerify, h, T0)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "a reset token used to verify")
		_, err = s.CheckToken(ctx, accounts.TokenVerify, h, T0)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "CheckToken of the wrong kind")
		_, err = s.ConsumeToken(ctx, accounts.TokenReset, accounts.HashToken("unknown"), T0)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "an unknown token")

		id, err := s.ConsumeToken(ctx, accounts.TokenReset, h, T0)
		require.NoError(t, err, "a refused use of the wrong kind must not consume the token")
		assert.Equal(t, u.ID, id)
	})

	run(t, "CreateErrors", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		err := s.CreateToken(ctx, accounts.Token{Hash: accounts.HashToken("x"), Kind: accounts.TokenVerify,
			UserID: 999999, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)})
		assert.ErrorIs(t, err, accounts.ErrNotFound, "a token of a missing user")

		token(t, s, "dup", accounts.TokenVerify, u.ID, T0, time.Hour)
		err = s.CreateToken(ctx, accounts.Token{Hash: accounts.HashToken("dup"), Kind: accounts.TokenReset,
			UserID: u.ID, CreatedAt: T0, ExpiresAt: T0.Add(time.Hour)})
		assert.ErrorIs(t, err, accounts.ErrConflict, "a hash stored twice")
	})

	run(t, "ConcurrentConsumeOneWinner", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		for round := range 3 {
			h := token(t, s, fmt.Sprint("race", round), accounts.TokenReset, u.ID, T0, time.Hour)
			const n = 8
			var (
				wg           sync.WaitGroup
				start        = make(chan struct{})
				wins, losses int
				mu           sync.Mutex
				others       []error
			)
			for range n {
				wg.Go(func() {
					<-start
					id, err := s.ConsumeToken(ctx, accounts.TokenReset, h, T0)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil && id == u.ID:
						wins++
					case err != nil && isTokenInvalid(err):
						losses++
					default:
						others = append(others, fmt.Errorf("id %d: %w", id, err))
					}
				})
			}
			close(start)
			wg.Wait()
			require.Empty(t, others, "round %d: unexpected results", round)
			assert.Equal(t, 1, wins, "round %d: exactly one ConsumeToken must win", round)
			assert.Equal(t, n-1, losses, "round %d: the others must get ErrTokenInvalid", round)
		}
	})

	run(t, "CountTokens", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		a := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		b := newUser(t, s, "bob@example.com", "Bob", accounts.RoleUser)
		token(t, s, "a1", accounts.TokenVerify, a.ID, T0.Add(-2*time.Hour), 48*time.Hour)
		token(t, s, "a2", accounts.TokenVerify, a.ID, T0.Add(-time.Hour), 48*time.Hour)
		token(t, s, "a3", accounts.TokenVerify, a.ID, T0, 48*time.Hour)
		token(t, s, "a4", accounts.TokenReset, a.ID, T0, time.Hour)
		token(t, s, "b1", accounts.TokenVerify, b.ID, T0, 48*time.Hour)

		n, err := s.CountTokens(ctx, a.ID, accounts.TokenVerify, T0.Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 2, n, "since is inclusive; other kinds and users are not counted")
		n, err = s.CountTokens(ctx, a.ID, accounts.TokenReset, T0.Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		n, err = s.CountTokens(ctx, a.ID, accounts.TokenVerify, T0.Add(time.Microsecond))
		require.NoError(t, err)
		assert.Zero(t, n)

		_, err = s.ConsumeToken(ctx, accounts.TokenVerify, accounts.HashToken("a3"), T0)
		require.NoError(t, err)
		n, err = s.CountTokens(ctx, a.ID, accounts.TokenVerify, T0.Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 1, n, "a consumed token is not counted")
	})

	run(t, "DeleteTokens", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		a := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		b := newUser(t, s, "bob@example.com", "Bob", accounts.RoleUser)
		av := token(t, s, "av", accounts.TokenVerify, a.ID, T0, time.Hour)
		ar := token(t, s, "ar", accounts.TokenReset, a.ID, T0, time.Hour)
		bv := token(t, s, "bv", accounts.TokenVerify, b.ID, T0, time.Hour)

		require.NoError(t, s.DeleteTokens(ctx, a.ID, accounts.TokenVerify))
		_, err := s.CheckToken(ctx, accounts.TokenVerify, av, T0)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "deleted kind")
		_, err = s.CheckToken(ctx, accounts.TokenReset, ar, T0)
		assert.NoError(t, err, "another kind stays")
		_, err = s.CheckToken(ctx, accounts.TokenVerify, bv, T0)
		assert.NoError(t, err, "another user's token stays")

		require.NoError(t, s.DeleteTokens(ctx, a.ID, ""))
		_, err = s.CheckToken(ctx, accounts.TokenReset, ar, T0)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, `kind "" deletes every kind`)
		_, err = s.CheckToken(ctx, accounts.TokenVerify, bv, T0)
		assert.NoError(t, err, "another user's token stays")

		require.NoError(t, s.DeleteTokens(ctx, 999999, ""), "deleting nothing is not an error")
	})

	run(t, "DeleteExpiredTokens", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		u := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		token(t, s, "old1", accounts.TokenReset, u.ID, T0.Add(-2*time.Hour), time.Hour)
		token(t, s, "edge", accounts.TokenReset, u.ID, T0.Add(-time.Hour), time.Hour)
		live := token(t, s, "live", accounts.TokenVerify, u.ID, T0.Add(-time.Hour), 48*time.Hour)

		n, err := s.DeleteExpiredTokens(ctx, T0)
		require.NoError(t, err)
		assert.Equal(t, int64(2), n, "tokens expiring at or before now go")
		_, err = s.CheckToken(ctx, accounts.TokenVerify, live, T0)
		assert.NoError(t, err, "a valid token stays")
		n, err = s.DeleteExpiredTokens(ctx, T0)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
}

func isTokenInvalid(err error) bool {
	return err != nil && errors.Is(err, accounts.ErrTokenInvalid)
}

func testEmails(t *testing.T, run runner) {
	rec := func(u accounts.User, kind accounts.NoticeKind, at time.Time) accounts.EmailRecord {
		return accounts.EmailRecord{UserID: u.ID, Kind: kind, At: at}
	}
	quota := func(now time.Time) accounts.EmailQuota {
		return accounts.EmailQuota{KindSince: now.Add(-10 * time.Minute), Max: 3, Since: now.Add(-24 * time.Hour)}
	}

	run(t, "OnePerKindPerInterval", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		a := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		b := newUser(t, s, "bob@example.com", "Bob", accounts.RoleUser)
		ok, err := s.RecordEmail(ctx, rec(a, accounts.NoticeVerify, T0), quota(T0))
		require.NoError(t, err)
		assert.True(t, ok, "the first email")
		now := T0.Add(10*time.Minute - time.Microsecond)
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeVerify, now), quota(now))
		require.NoError(t, err)
		assert.False(t, ok, "the same kind within the interval (KindSince is inclusive)")
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeReset, now), quota(now))
		require.NoError(t, err)
		assert.True(t, ok, "another kind")
		ok, err = s.RecordEmail(ctx, rec(b, accounts.NoticeVerify, now), quota(now))
		require.NoError(t, err)
		assert.True(t, ok, "another user")
		now = T0.Add(10*time.Minute + time.Microsecond)
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeVerify, now), quota(now))
		require.NoError(t, err)
		assert.True(t, ok, "after the interval")
	})

	run(t, "CapOverAllKinds", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		a := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		now := T0
		for i, k := range []accounts.NoticeKind{accounts.NoticeVerify, accounts.NoticeReset, accounts.NoticeAlreadyRegistered} {
			ok, err := s.RecordEmail(ctx, rec(a, k, now), quota(now))
			require.NoError(t, err)
			require.True(t, ok, "email %d", i+1)
		}
		now = T0.Add(time.Hour)
		ok, err := s.RecordEmail(ctx, rec(a, accounts.NoticeVerify, now), quota(now))
		require.NoError(t, err)
		assert.False(t, ok, "Max emails since Since")
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeVerify, now), accounts.EmailQuota{KindSince: now.Add(-time.Minute)})
		require.NoError(t, err)
		assert.True(t, ok, "Max 0 caps nothing")
		now = T0.Add(24*time.Hour + time.Microsecond)
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeReset, now), accounts.EmailQuota{Max: 1, Since: now.Add(-24 * time.Hour)})
		require.NoError(t, err)
		assert.False(t, ok, "the three of T0 left the window, the one of an hour later still counts")
		now = T0.Add(25*time.Hour + time.Microsecond)
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeReset, now), quota(now))
		require.NoError(t, err)
		assert.True(t, ok, "the window slides")
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeAlreadyRegistered, now), accounts.EmailQuota{})
		require.NoError(t, err)
		assert.True(t, ok, "an empty quota refuses nothing")
	})

	run(t, "DeleteEmail", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		a := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		r := rec(a, accounts.NoticeVerify, T0)
		ok, err := s.RecordEmail(ctx, r, quota(T0))
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, s.DeleteEmail(ctx, rec(a, accounts.NoticeReset, T0)), "deleting nothing is not an error")
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeVerify, T0.Add(time.Minute)), quota(T0.Add(time.Minute)))
		require.NoError(t, err)
		require.False(t, ok, "another kind's record was not the one deleted")
		require.NoError(t, s.DeleteEmail(ctx, r))
		ok, err = s.RecordEmail(ctx, rec(a, accounts.NoticeVerify, T0.Add(time.Minute)), quota(T0.Add(time.Minute)))
		require.NoError(t, err)
		assert.True(t, ok, "a deleted record no longer counts")
	})

	run(t, "ErrNotFound", func(t *testing.T, s accounts.Store) {
		_, err := s.RecordEmail(t.Context(), accounts.EmailRecord{UserID: 999999, Kind: accounts.NoticeVerify, At: T0}, quota(T0))
		assert.ErrorIs(t, err, accounts.ErrNotFound)
	})

	run(t, "ConcurrentCallsCountOnce", func(t *testing.T, s accounts.Store) {
		ctx := t.Context()
		a := newUser(t, s, "alice@example.com", "Alice", accounts.RoleUser)
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		var errs []error
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				at := T0.Add(time.Duration(i) * time.Microsecond)
				ok, err := s.RecordEmail(ctx, rec(a, accounts.NoticeVerify, at), quota(at))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
				} else if ok {
					wins++
				}
			})
		}
		close(start)
		wg.Wait()
		require.Empty(t, errs)
		assert.Equal(t, 1, wins, "one email per interval, however many ask at once")
	})
}
