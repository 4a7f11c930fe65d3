package mailing_test

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
)

// hmacKey is the key HMAC-SHA256 really uses for secret: a key longer than
// the block is hashed, and a shorter one is padded with zeros, so secrets
// with the same hmacKey sign alike.
func hmacKey(secret []byte) []byte {
	if len(secret) > sha256.BlockSize {
		sum := sha256.Sum256(secret)
		secret = sum[:]
	}
	return bytes.TrimRight(secret, "\x00")
}

// FuzzUnsubscribeToken: a token verifies for the mailing and client it was
// made for, under its own secret only; any other text, including the token
// with one character changed, is ErrBadToken.
func FuzzUnsubscribeToken(f *testing.F) {
	for _, s := range []struct {
		secret, other   []byte
		mailing, client int64
		pos             uint
		xor             byte
		token           string
	}{
		{[]byte("0123456789abcdef0123456789abcdef"), []byte("another secret"), 1, 2, 0, 1, ""},
		{[]byte("s"), []byte("s\x00"), 42, 1 << 40, 42, 0x01, "AAAA"},
		{nil, []byte{}, -1, 0, 5, 0x20, "not base64!"},
		{bytes.Repeat([]byte("k"), 100), []byte("k"), 1<<63 - 1, -1 << 63, 43, 0x80, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
	} {
		f.Add(s.secret, s.other, s.mailing, s.client, s.pos, s.xor, s.token)
	}
	f.Fuzz(func(t *testing.T, secret, other []byte, mailingID, clientID int64, pos uint, xor byte, raw string) {
		tok := mailing.UnsubscribeToken(secret, mailing.Delivery{MailingID: mailingID, ClientID: clientID})

		// Round trip.
		m, c, err := mailing.ParseUnsubscribeToken(secret, tok)
		require.NoError(t, err)
		assert.Equal(t, mailingID, m)
		assert.Equal(t, clientID, c)

		// Another secret refuses it.
		if !bytes.Equal(hmacKey(secret), hmacKey(other)) {
			_, _, err := mailing.ParseUnsubscribeToken(other, tok)
			assert.ErrorIs(t, err, mailing.ErrBadToken, "a token verified under another secret")
		}

		// One character changed: never verifies.
		if xor != 0 {
			b := []byte(tok)
			b[pos%uint(len(b))] ^= xor
			_, _, err := mailing.ParseUnsubscribeToken(secret, string(b))
			assert.ErrorIs(t, err, mailing.ErrBadToken, "tampered token %q (from %q) verified", b, tok)
		}

		// Any text: either ErrBadToken, or exactly the token made for what it names.
		if m, c, err := mailing.ParseUnsubscribeToken(secret, raw); err != nil {
			assert.ErrorIs(t, err, mailing.ErrBadToken)
			assert.Zero(t, m)
			assert.Zero(t, c)
		} else {
			assert.Equal(t, mailing.UnsubscribeToken(secret, mailing.Delivery{MailingID: m, ClientID: c}), raw,
				"a token that is not one UnsubscribeToken makes verified")
		}
	})
}
