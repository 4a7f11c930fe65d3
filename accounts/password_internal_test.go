package accounts

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPasswordHasherWaitHonoursContext(t *testing.T) {
	h := NewPasswordHasher(Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	for range cap(h.sem) { // every slot busy
		h.sem <- struct{}{}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := h.Hash(ctx, "password")
	assert.ErrorIs(t, err, context.Canceled, "Hash")
	_, err = h.Verify(ctx, "password", "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$ZVrRXqxlLcWfcXCnMyv0m4Rpvh/bnCi7")
	assert.ErrorIs(t, err, context.Canceled, "Verify")
}
