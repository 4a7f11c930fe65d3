package accounts_test

import (
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountstest"
)

func TestPasswordHasher(t *testing.T) {
	ctx := t.Context()
	h := accountstest.FastHasher()

	t.Run("PHCFormat", func(t *testing.T) {
		enc, err := h.Hash(ctx, "correct horse")
		require.NoError(t, err)
		assert.Regexp(t, regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`), enc)
		again, err := h.Hash(ctx, "correct horse")
		require.NoError(t, err)
		assert.NotEqual(t, enc, again, "every hash has its own salt")
	})

	t.Run("Verify", func(t *testing.T) {
		enc, err := h.Hash(ctx, "correct horse")
		require.NoError(t, err)
		ok, err := h.Verify(ctx, "correct horse", enc)
		require.NoError(t, err)
		assert.True(t, ok, "right password")
		ok, err = h.Verify(ctx, "correct horsE", enc)
		require.NoError(t, err)
		assert.False(t, ok, "wrong password")
	})

	t.Run("VerifyKnownVector", func(t *testing.T) {
		// The argon2id vector of golang.org/x/crypto/argon2's tests, made with
		// the reference CLI: password "password", salt "somesalt", t=1, m=64,
		// p=1, a 24-byte key.
		key, err := hex.DecodeString("655ad15eac652dc59f7170a7332bf49b8469be1fdb9c28bb")
		require.NoError(t, err)
		enc := "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$" + base64.RawStdEncoding.EncodeToString(key)
		ok, err := h.Verify(ctx, "password", enc)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.True(t, h.NeedsRehash(enc), "a 24-byte key and an 8-byte salt are not the hasher's")
	})

	t.Run("NeedsRehash", func(t *testing.T) {
		enc, err := h.Hash(ctx, "x")
		require.NoError(t, err)
		assert.False(t, h.NeedsRehash(enc))
		stronger := accounts.NewPasswordHasher(accounts.Argon2Params{Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
		assert.True(t, stronger.NeedsRehash(enc))
		assert.True(t, h.NeedsRehash("not a hash"))
	})

	t.Run("ErrMalformed", func(t *testing.T) {
		for _, enc := range []string{
			"", "plain", "$2a$10$abcdefghijklmnopqrstuv", // bcrypt
			"$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"$argon2id$v=16$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
			"$argon2id$v=19$m=64,t=1,p=1$!!!$aGFzaGhhc2hoYXNoaGFzaA",
		} {
			ok, err := h.Verify(ctx, "password", enc)
			assert.Error(t, err, "%q", enc)
			assert.False(t, ok, "%q", enc)
		}
	})

	t.Run("DefaultParams", func(t *testing.T) {
		assert.Equal(t, "m=19456,t=2,p=1", accounts.DefaultArgon2.String())
		d := accounts.NewPasswordHasher(accounts.DefaultArgon2)
		enc, err := d.Hash(ctx, "correct horse battery")
		require.NoError(t, err)
		assert.Contains(t, enc, "$m=19456,t=2,p=1$")
		ok, err := d.Verify(ctx, "correct horse battery", enc)
		require.NoError(t, err)
		assert.True(t, ok)
	})

	t.Run("PanicsOnUnusableParams", func(t *testing.T) {
		assert.Panics(t, func() {
			accounts.NewPasswordHasher(accounts.Argon2Params{Memory: 64, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32})
		})
		assert.Panics(t, func() {
			accounts.NewPasswordHasher(accounts.Argon2Params{Memory: 4, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
		})
	})
}
