package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost parameters of argon2id (RFC 9106).
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes over the memory
	Threads uint8  // lanes
	SaltLen uint32 // bytes of random salt
	KeyLen  uint32 // bytes of derived key
}

// DefaultArgon2 is OWASP's recommended minimum for argon2id: 19 MiB of
// memory, 2 passes, 1 lane (OWASP Password Storage Cheat Sheet), with a
// 16-byte salt and a 32-byte key. It costs about 20-40 ms of one core per
// hash. It is chosen over RFC 9106's 64 MiB profile because the service
// runs on small machines where many people may log in at once: 19 MiB per
// login in flight keeps memory bounded while still making each guess cost
// an attacker real memory bandwidth on a GPU.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// String returns the parameters in PHC form: "m=19456,t=2,p=1".
func (p Argon2Params) String() string {
	return fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, p.Threads)
}

func (p Argon2Params) check() error {
	switch {
	case p.Time < 1:
		return errors.New("accounts: argon2id needs at least one pass")
	case p.Threads < 1:
		return errors.New("accounts: argon2id needs at least one lane")
	case p.Memory < 8*uint32(p.Threads):
		return errors.New("accounts: argon2id needs at least 8 KiB of memory per lane")
	case p.SaltLen < 8:
		return errors.New("accounts: argon2id needs a salt of at least 8 bytes")
	case p.KeyLen < 16 || p.KeyLen > 1024:
		return errors.New("accounts: argon2id key length must be 16 to 1024 bytes")
	}
	return nil
}

// PasswordHasher hashes and checks passwords with argon2id, encoding each
// hash as a PHC string:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>
//
// with salt and key in unpadded standard base64. A hash carries its own
// parameters, so hashes made with older parameters still check; NeedsRehash
// tells when one should be replaced.
//
// At most 2×GOMAXPROCS hashes run at once (the others wait, honouring ctx),
// which bounds the memory a burst of logins can take.
type PasswordHasher struct {
	params Argon2Params
	sem    chan struct{}

	dummyOnce sync.Once
	dummy     string
}

// NewPasswordHasher returns a hasher that makes new hashes with p. It
// panics when p is unusable (no passes, too little memory, a short salt).
func NewPasswordHasher(p Argon2Params) *PasswordHasher {
	if err := p.check(); err != nil {
		panic(err)
	}
	return &PasswordHasher{params: p, sem: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
}

// Params returns the parameters new hashes are made with.
func (h *PasswordHasher) Params() Argon2Params { return h.params }

func (h *PasswordHasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("accounts: hash password: %w", ctx.Err())
	}
}

func (h *PasswordHasher) release() { <-h.sem }

// Hash returns the PHC-encoded argon2id hash of password with a fresh
// random salt.
func (h *PasswordHasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("accounts: hash password: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encodeHash(p, salt, key), nil
}

// Verify reports whether password matches the PHC-encoded hash, comparing
// in constant time. It errs only on a malformed hash or an ended ctx.
func (h *PasswordHasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with parameters other than
// the hasher's (or is not a hash this hasher reads at all).
func (h *PasswordHasher) NeedsRehash(encoded string) bool {
	p, salt, key, err := decodeHash(encoded)
	if err != nil {
		return true
	}
	want := h.params
	return p.Memory != want.Memory || p.Time != want.Time || p.Threads != want.Threads ||
		uint32(len(salt)) != want.SaltLen || uint32(len(key)) != want.KeyLen
}

// verifyDummy spends the time of one Verify without a real hash, so that
// a login for an unknown address takes as long as one with a wrong password.
func (h *PasswordHasher) verifyDummy(ctx context.Context, password string) {
	h.dummyOnce.Do(func() {
		h.dummy, _ = h.Hash(context.WithoutCancel(ctx), "not a password anyone has: "+rand.Text())
	})
	_, _ = h.Verify(ctx, password, h.dummy)
}

var b64 = base64.RawStdEncoding

func encodeHash(p Argon2Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$%s$%s$%s", argon2.Version, p, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// errBadHash is a stored hash this package cannot read.
var errBadHash = errors.New("accounts: the stored password hash is not an argon2id PHC string")

// maxHashMemory caps the memory (KiB) a stored hash may ask for: 1 GiB.
const maxHashMemory = 1 << 20

func decodeHash(s string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, errBadHash
	}
	var m, t, threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &threads); err != nil || n != 3 {
		return p, nil, nil, errBadHash
	}
	if m > maxHashMemory || threads > 255 || t > 1000 {
		return p, nil, nil, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, errBadHash
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, errBadHash
	}
	p = Argon2Params{Memory: m, Time: t, Threads: uint8(threads), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	if p.check() != nil {
		return p, nil, nil, errBadHash
	}
	return p, salt, key, nil
}
