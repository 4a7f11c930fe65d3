package mailing

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ErrBadToken is returned for an unsubscribe token that is malformed or
// was not signed with the service's secret.
var ErrBadToken = errors.New("mailing: invalid unsubscribe link")

// UnsubscribeToken signs a delivery's mailing and client with secret, for a
// one-click unsubscribe link. It needs no storage and cannot be forged or
// pointed at another client.
func UnsubscribeToken(secret []byte, d Delivery) string {
	var b [16 + 16]byte
	binary.BigEndian.PutUint64(b[0:], uint64(d.MailingID))
	binary.BigEndian.PutUint64(b[8:], uint64(d.ClientID))
	mac := hmac.New(sha256.New, secret)
	mac.Write(b[:16])
	copy(b[16:], mac.Sum(nil)[:16])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ParseUnsubscribeToken checks a token's signature and returns the mailing
// and client it names.
func ParseUnsubscribeToken(secret []byte, token string) (mailingID, clientID int64, err error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(token) // Strict: one text per token
	if err != nil || len(b) != 32 {
		return 0, 0, ErrBadToken
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(b[:16])
	if !hmac.Equal(mac.Sum(nil)[:16], b[16:]) {
		return 0, 0, ErrBadToken
	}
	return int64(binary.BigEndian.Uint64(b[0:])), int64(binary.BigEndian.Uint64(b[8:])), nil
}

// Unsubscribe takes the client named by a signed token out of the
// mailing's client set, so no later run goes to them. It acts for the
// recipient, not for a logged-in user: the signature is the authority.
// Unsubscribing twice, or from a deleted mailing, is not an error.
func (s *Service) Unsubscribe(ctx context.Context, secret []byte, token string) error {
	mailingID, clientID, err := ParseUnsubscribeToken(secret, token)
	if err != nil {
		return err
	}
	m, err := s.store.GetMailing(ctx, mailingID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	i := slices.Index(m.ClientIDs, clientID)
	if i < 0 {
		return nil
	}
	m.ClientIDs = slices.Delete(m.ClientIDs, i, i+1)
	if err := s.store.UpdateMailing(ctx, &m); err != nil {
		return fmt.Errorf("mailing: unsubscribe: %w", err)
	}
	return nil
}
