package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/internal/sqldb/sqldbtest"
)

// TestServiceOnSQL runs the main flows of accounts.Service on the SQL
// store: the Service's own tests use MemStore.
func TestServiceOnSQL(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, d sqldb.Dialect) {
		ctx := t.Context()
		store := newStore(t, sqldbtest.New(t, d), d)
		mail := &accountstest.FakeNotifier{}
		clock := accountstest.NewFakeClock(accountstest.T0)
		var ended []int64
		svc := accounts.NewService(store, mail,
			accounts.WithClock(clock), accounts.WithPasswordHasher(accountstest.FastHasher()),
			accounts.WithBaseURL("https://mail.example.com"),
			accounts.WithSessionEnder(func(_ context.Context, id int64) error { ended = append(ended, id); return nil }))

		u, err := svc.Register(ctx, accounts.RegisterInput{Email: "Alice@Example.com", FullName: "Alice", Password: "correct horse"})
		require.NoError(t, err)
		n, ok := mail.Last(accounts.NoticeVerify, "alice@example.com")
		require.True(t, ok)
		_, err = svc.Verify(ctx, accountstest.TokenFrom(n.Link))
		require.NoError(t, err)
		_, err = svc.Verify(ctx, accountstest.TokenFrom(n.Link))
		assert.ErrorIs(t, err, accounts.ErrTokenInvalid, "single use")

		got, err := svc.Authenticate(ctx, "ALICE@example.com", "correct horse")
		require.NoError(t, err)
		assert.Equal(t, u.ID, got.ID)

		_, err = svc.Register(ctx, accounts.RegisterInput{Email: "alice@EXAMPLE.com", FullName: "Mallory", Password: "other password"})
		require.NoError(t, err)
		_, ok = mail.Last(accounts.NoticeAlreadyRegistered, "alice@example.com")
		assert.True(t, ok)

		require.NoError(t, svc.RequestPasswordReset(ctx, "alice@example.com"))
		n, ok = mail.Last(accounts.NoticeReset, "alice@example.com")
		require.True(t, ok)
		clock.Advance(59 * time.Minute)
		_, err = svc.ResetPassword(ctx, accountstest.TokenFrom(n.Link), "new password")
		require.NoError(t, err)
		_, err = svc.Authenticate(ctx, "alice@example.com", "new password")
		require.NoError(t, err)

		m, err := svc.AddUser(ctx, accounts.AddInput{Email: "m@example.com", FullName: "M", Password: "manager password", Role: accounts.RoleManager, Verified: true})
		require.NoError(t, err)
		_, err = svc.Block(accounts.WithUser(ctx, m), u.ID)
		require.NoError(t, err)
		_, err = svc.Authenticate(ctx, "alice@example.com", "new password")
		assert.Same(t, accounts.ErrBlocked, err)
		assert.Equal(t, []int64{u.ID, u.ID}, ended, "reset and block end the sessions")

		us, total, err := svc.ListUsers(accounts.WithUser(ctx, m), accounts.UserFilter{Search: "ALICE"})
		require.NoError(t, err)
		assert.Equal(t, 1, total)
		require.Len(t, us, 1)
		assert.Empty(t, us[0].PasswordHash)
		assert.True(t, us[0].Blocked)
	})
}
