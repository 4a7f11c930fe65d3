package accounts

import (
	"context"
	"time"
)

// Notifier tells a user, by email, about their account. The Service calls
// it; accounts/accountsmail implements it over a mailing.Mailer (accounts
// itself never imports mailing, which depends on accounts).
//
// Implementations must be safe for concurrent use and return promptly when
// ctx ends.
type Notifier interface {
	Notify(ctx context.Context, n Notice) error
}

// NoticeKind says what a Notice is about.
type NoticeKind string

// The kinds of notice.
const (
	// NoticeVerify asks the user to confirm their address: Link verifies it.
	NoticeVerify NoticeKind = "verify"
	// NoticeReset answers a password reset request: Link sets a new password.
	NoticeReset NoticeKind = "reset"
	// NoticeAlreadyRegistered tells the owner of a confirmed account that
	// someone tried to register with their address. Link leads to the
	// "forgot password" page, LoginLink to the login page; Expires is zero.
	NoticeAlreadyRegistered NoticeKind = "already_registered"
)

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, n Notice) error

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, n Notice) error { return f(ctx, n) }

// Notice is one email about an account.
type Notice struct {
	Kind NoticeKind
	// User is the recipient (without PasswordHash).
	User User
	// Link is the action the email offers (see NoticeKind).
	Link string
	// LoginLink is the login page.
	LoginLink string
	// Expires is when Link stops working; zero when it does not expire.
	Expires time.Time
	// TTL is how long Link works from the moment it was made ("48 hours").
	TTL time.Duration
}
