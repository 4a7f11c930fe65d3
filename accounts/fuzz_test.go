package accounts_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
)

// Fuzz targets for what strangers type into the public account forms
// (registration, reset) and the links they follow. Run one for longer with:
// go test -run '^$' -fuzz '^FuzzRegister$' -fuzztime 1m ./accounts/

// fuzzService is a Service on a fresh MemStore with cheap hashing, no email
// limit and no logging, and its notifier.
func fuzzService() (*accounts.Service, *accountstest.FakeNotifier) {
	n := &accountstest.FakeNotifier{}
	s := accounts.NewService(accountstest.NewMemStore(), n,
		accounts.WithPasswordHasher(accountstest.FastHasher()),
		accounts.WithClock(accountstest.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))),
		accounts.WithBaseURL("https://skychimp.example"),
		accounts.WithEmailLimits(0, 0),
		accounts.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	return s, n
}

// requireFields checks that err is a *ValidationError (matching ErrInvalid)
// naming only fields from allowed, each with a message and a sentence.
func requireFields(tb testing.TB, err error, allowed ...string) {
	tb.Helper()
	require.ErrorIs(tb, err, accounts.ErrInvalid)
	var ve *accounts.ValidationError
	require.ErrorAs(tb, err, &ve, "not a *ValidationError: %v", err)
	require.NotEmpty(tb, ve.Fields)
	for _, f := range ve.Fields {
		require.Contains(tb, allowed, f.Field, "unexpected field in %v", err)
		require.NotEmpty(tb, f.Message)
	}
	require.NotEmpty(tb, accounts.Message(err))
}

// requireStorable checks what a text column (utf8mb4, VARCHAR(max)) needs.
func requireStorable(tb testing.TB, field, s string, max int) {
	tb.Helper()
	require.True(tb, utf8.ValidString(s), "%s %q is not UTF-8", field, s)
	require.LessOrEqual(tb, utf8.RuneCountInString(s), max, "%s %q is too long for its column", field, s)
}

// tamper changes one byte of s (xor != 0), at pos modulo its length.
func tamper(s string, pos uint, xor byte) string {
	b := []byte(s)
	b[pos%uint(len(b))] ^= xor
	return string(b)
}

func FuzzRegister(f *testing.F) {
	for _, s := range [][3]string{
		{"ann@example.com", "Ann Archer", "correct horse battery"},
		{"  Ann@Example.COM ", "  Ann \t  Archer ", "12345678"},
		{"Иван@Пример.РФ", "Иван Петров", "пароль-пароль"},
		{"ann@example.com", "Ann", "ANN@example.com"},
		{"ann", "Ann", "password"},
		{"Ann <ann@example.com>", "Ann", "password"},
		{"", "", ""},
		{"a@b", "x\x00y", "short"},
		{"a@b", "bad \xff name", strings.Repeat("p", accounts.MaxPasswordLen+1)},
		{"a@b", strings.Repeat("İ", accounts.MaxNameLen), "password"},
		{"a@" + strings.Repeat("x", 250) + ".com", "Ann", "password"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, email, name, password string) {
		ctx := context.Background()
		s, notices := fuzzService()
		u, err := s.Register(ctx, accounts.RegisterInput{Email: email, FullName: name, Password: password})
		if err != nil {
			requireFields(t, err, "email", "full_name", "password")
			assert.Empty(t, notices.Notices(), "an email was sent for a refused registration")
			// The password rules are the same before and after the form.
			if pwErr := accounts.CheckPassword(password, accounts.NormalizeEmail(email)); pwErr != nil {
				var ve *accounts.ValidationError
				require.ErrorAs(t, err, &ve)
				assert.NotEmpty(t, ve.Field("password"), "CheckPassword refuses what Register accepts")
			}
			return
		}
		require.NoError(t, accounts.CheckPassword(password, u.Email), "Register accepts what CheckPassword refuses")

		// Stored as normalised, and the normal form is stable.
		norm := accounts.NormalizeEmail(email)
		assert.Equal(t, norm, u.Email)
		assert.Equal(t, norm, accounts.NormalizeEmail(norm), "NormalizeEmail is not idempotent")
		assert.Equal(t, accounts.EmailKey(email), accounts.EmailKey(norm))
		assert.Equal(t, strings.Join(strings.Fields(name), " "), u.FullName)
		assert.Equal(t, accounts.RoleUser, u.Role)
		assert.False(t, u.Verified)
		assert.Empty(t, u.PasswordHash)
		requireStorable(t, "email", u.Email, accounts.MaxEmailLen)
		requireStorable(t, "email key", accounts.EmailKey(u.Email), accounts.MaxEmailLen)
		requireStorable(t, "name", u.FullName, accounts.MaxNameLen)
		requireStorable(t, "name key", strings.ToLower(u.FullName), accounts.MaxNameLen)
		assert.Equal(t, -1, strings.IndexFunc(u.FullName, unicode.IsControl), "control character in name %q", u.FullName)
		assert.False(t, strings.ContainsAny(u.Email, " \t\r\n<>"), "space or bracket in email %q", u.Email)

		// The same address again, typed differently, creates nobody.
		again, err := s.Register(ctx, accounts.RegisterInput{Email: " " + email + "\t", FullName: "Someone Else", Password: password + "-2"})
		require.NoError(t, err)
		assert.Zero(t, again.ID, "a second account for %q", email)

		// The confirmation link works once; a changed one never.
		n, ok := notices.Last(accounts.NoticeVerify, u.Email)
		require.True(t, ok, "no confirmation email")
		tok := accountstest.TokenFrom(n.Link)
		require.NoError(t, s.CheckToken(ctx, accounts.TokenVerify, tok))
		assert.ErrorIs(t, s.CheckToken(ctx, accounts.TokenReset, tok), accounts.ErrTokenInvalid)
		vu, err := s.Verify(ctx, tok)
		require.NoError(t, err)
		assert.Equal(t, u.ID, vu.ID)
		assert.True(t, vu.Verified)
		_, err = s.Verify(ctx, tok)
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "a confirmation link worked twice")

		// And the account logs in with the password as typed.
		lu, err := s.Authenticate(ctx, " "+email+" ", password)
		require.NoError(t, err)
		assert.Equal(t, u.ID, lu.ID)
	})
}

// FuzzAccountTokens: confirmation and reset links work for their purpose,
// once; any other text (a changed link, a guessed one) is ErrTokenInvalid
// from every method that takes a token.
func FuzzAccountTokens(f *testing.F) {
	f.Add(uint(0), byte(1), "", true)
	f.Add(uint(42), byte(0x20), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", false)
	f.Add(uint(7), byte(0x80), "not a token", true)
	f.Add(uint(42), byte(1), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false)
	f.Fuzz(func(t *testing.T, pos uint, xor byte, guess string, reset bool) {
		ctx := context.Background()
		s, notices := fuzzService()
		const email, password, newPassword = "ann@example.com", "correct horse battery", "staple staple staple"
		_, err := s.AddUser(ctx, accounts.AddInput{Email: email, FullName: "Ann", Password: password, Verified: reset})
		require.NoError(t, err)
		kind, other, notice := accounts.TokenVerify, accounts.TokenReset, accounts.NoticeVerify
		if reset {
			kind, other, notice = accounts.TokenReset, accounts.TokenVerify, accounts.NoticeReset
			require.NoError(t, s.RequestPasswordReset(ctx, email))
		} else {
			require.NoError(t, s.ResendVerification(ctx, email))
		}
		n, ok := notices.Last(notice, email)
		require.True(t, ok, "no %s email", notice)
		tok := accountstest.TokenFrom(n.Link)
		require.Len(t, tok, 43, "link %q", n.Link)

		refused := func(what, bad string) {
			t.Helper()
			if bad == tok {
				return
			}
			assert.ErrorIs(t, s.CheckToken(ctx, kind, bad), accounts.ErrTokenInvalid, "CheckToken took %s %q", what, bad)
			_, err := s.Verify(ctx, bad)
			assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "Verify took %s %q", what, bad)
			_, err = s.ResetPassword(ctx, bad, newPassword)
			assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "ResetPassword took %s %q", what, bad)
		}
		if xor != 0 {
			refused("a changed token", tamper(tok, pos, xor))
		}
		refused("a guess", guess)
		refused("a longer token", tok+guess[:min(len(guess), 1)]+"A")
		assert.ErrorIs(t, s.CheckToken(ctx, other, tok), accounts.ErrTokenInvalid, "a %s link works as a %s link", kind, other)

		// The link itself works, once.
		require.NoError(t, s.CheckToken(ctx, kind, tok))
		if reset {
			_, err = s.ResetPassword(ctx, tok, newPassword)
			require.NoError(t, err)
			_, err = s.Authenticate(ctx, email, newPassword)
			require.NoError(t, err)
			_, err = s.ResetPassword(ctx, tok, newPassword+"!")
		} else {
			_, err = s.Verify(ctx, tok)
			require.NoError(t, err)
			_, err = s.Verify(ctx, tok)
		}
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "a %s link worked twice", kind)
	})
}
