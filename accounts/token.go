package accounts

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// tokenBytes is the size of a token's secret: 256 random bits.
const tokenBytes = 32

// tokenLen is the length of a token's secret in unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// newToken returns a fresh secret (43 base64url characters, for a link)
// and its hash (for the store).
func newToken() (secret, hash string) {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashToken(secret)
}

// HashToken returns the stored form of a token's secret: the SHA-256 of
// its text, in lower-case hex. A fast hash is enough here: the secret has
// 256 random bits, so there is nothing to guess.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// wellFormedToken reports whether s could be a secret newToken made; the
// Service refuses anything else before asking the store.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}
