package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Role says what a user may do. The zero value is not a valid role.
type Role string

// The roles of the service.
const (
	// RoleUser is a customer: works with their own clients, messages and mailings only.
	RoleUser Role = "user"
	// RoleManager oversees the service: reads every mailing and user, blocks users,
	// disables mailings, and changes nothing else.
	RoleManager Role = "manager"
	// RoleContentManager writes the blog.
	RoleContentManager Role = "content_manager"
	// RoleSuperuser may do everything.
	RoleSuperuser Role = "superuser"
)

// Roles lists every valid role, in display order.
var Roles = []Role{RoleUser, RoleManager, RoleContentManager, RoleSuperuser}

// ParseRole returns the role named s ("user", "manager", "content_manager" or
// "content-manager", "superuser"), case-insensitively.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_"))
	if r.Valid() {
		return r, nil
	}
	return "", fmt.Errorf("accounts: unknown role %q (want one of user, manager, content_manager, superuser)", s)
}

// Valid reports whether r is one of the defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleUser, RoleManager, RoleContentManager, RoleSuperuser:
		return true
	}
	return false
}

// Label is the role's name as shown to people.
func (r Role) Label() string {
	switch r {
	case RoleUser:
		return "User"
	case RoleManager:
		return "Manager"
	case RoleContentManager:
		return "Content manager"
	case RoleSuperuser:
		return "Superuser"
	}
	return string(r)
}

// User is a person who logs in to the service.
type User struct {
	ID           int64
	Email        string // the login; unique, compared case-insensitively
	FullName     string
	PasswordHash string // never shown; empty for a user who cannot log in with a password
	Role         Role
	Verified     bool // the email address has been confirmed
	Blocked      bool // a manager has blocked the user
	CreatedAt    time.Time
}

// IsStaff reports whether the user is a manager or a superuser: someone who
// oversees other users' data.
func (u User) IsStaff() bool { return u.Role == RoleManager || u.Role == RoleSuperuser }

// ErrUnauthenticated is returned when an operation needs an acting user and
// the context carries none.
var ErrUnauthenticated = errors.New("accounts: no user is logged in")

type ctxKey struct{}

// WithUser returns a copy of ctx that carries u as the acting user.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, ctxKey{}, u)
}

// UserFrom returns the acting user carried by ctx, if any.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(ctxKey{}).(User)
	return u, ok
}

// MustUserFrom returns the acting user or ErrUnauthenticated.
func MustUserFrom(ctx context.Context) (User, error) {
	u, ok := UserFrom(ctx)
	if !ok || u.ID == 0 {
		return User{}, ErrUnauthenticated
	}
	return u, nil
}
