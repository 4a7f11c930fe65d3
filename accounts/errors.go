package accounts

import (
	"errors"
	"strings"
)

// Sentinel errors. Stores and the Service wrap them with %w; check them
// with errors.Is. Their text is for logs; Message gives the sentence to
// show a person.
var (
	// ErrNotFound: the user does not exist (or, for a non-staff caller,
	// is someone else).
	ErrNotFound = errors.New("accounts: not found")
	// ErrConflict: the email address is already registered (compared
	// case-insensitively), or a token hash is already stored.
	ErrConflict = errors.New("accounts: conflict")
	// ErrInvalid: the input failed validation; the error is a *ValidationError.
	ErrInvalid = errors.New("accounts: invalid input")
	// ErrForbidden: the acting user's role may not do this (a user listing
	// users, a manager blocking a superuser, anyone blocking themselves).
	ErrForbidden = errors.New("accounts: not allowed")
	// ErrTokenInvalid: a verification or reset link is unknown, already
	// used, expired, or meant for the other purpose.
	ErrTokenInvalid = errors.New("accounts: the link is invalid, already used or expired")
	// ErrInvalidLogin: the email is unknown or the password is wrong. The
	// two cases are one error on purpose: a login form must not tell
	// strangers which addresses have an account.
	ErrInvalidLogin = errors.New("accounts: the email or password is wrong")
	// ErrNotVerified: the password was right but the email address is not
	// confirmed yet. Returned only after the password was checked.
	ErrNotVerified = errors.New("accounts: confirm your email first: we sent you a link")
	// ErrBlocked: the password was right but a manager blocked the account.
	// Returned only after the password was checked.
	ErrBlocked = errors.New("accounts: the account is blocked")
	// ErrNotify: the user was saved but the email about it could not be sent.
	ErrNotify = errors.New("accounts: the email could not be sent")
)

// Message returns a sentence about err fit to show the person who caused
// it, keeping internal details (SQL, mail server replies) out. A nil error
// gives "".
func Message(err error) string {
	var ve *ValidationError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ve):
		return ve.Sentence()
	case errors.Is(err, ErrInvalidLogin):
		return "The email or password is wrong."
	case errors.Is(err, ErrNotVerified):
		return "Confirm your email first: we sent you a link."
	case errors.Is(err, ErrBlocked):
		return "This account is blocked. Contact the service's staff if you think this is a mistake."
	case errors.Is(err, ErrTokenInvalid):
		return "This link is invalid, was already used or has expired. Ask for a new one."
	case errors.Is(err, ErrUnauthenticated):
		return "Log in first."
	case errors.Is(err, ErrForbidden):
		return "You are not allowed to do that."
	case errors.Is(err, ErrNotFound):
		return "No such user."
	case errors.Is(err, ErrConflict):
		return "An account with this email address already exists."
	case errors.Is(err, ErrNotify):
		return "We could not send you the email. Try again in a few minutes."
	}
	return "Something went wrong. Try again in a few minutes."
}

// FieldError is one problem with one input field, worded for a form.
type FieldError struct {
	Field   string // the field's name as in forms and JSON: "email", "full_name", "password"
	Message string // a sentence for a person: "must be at least 8 characters long"
}

// ValidationError lists every problem found in one input. It matches ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("accounts: invalid input: ")
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(f.Field)
		b.WriteString(" ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// Field returns the message for field name, or "".
func (e *ValidationError) Field(name string) string {
	for _, f := range e.Fields {
		if f.Field == name {
			return f.Message
		}
	}
	return ""
}

// fieldLabels name the fields in sentences.
var fieldLabels = map[string]string{
	"email":            "The email address",
	"full_name":        "The full name",
	"password":         "The password",
	"current_password": "The current password",
	"role":             "The role",
}

// Sentence returns the problems as sentences for a person, e.g. "The
// password must be at least 8 characters long."
func (e *ValidationError) Sentence() string {
	var b strings.Builder
	for i, f := range e.Fields {
		if i > 0 {
			b.WriteString(" ")
		}
		label, ok := fieldLabels[f.Field]
		if !ok {
			label = "The " + strings.ReplaceAll(f.Field, "_", " ")
		}
		b.WriteString(label)
		b.WriteString(" ")
		b.WriteString(f.Message)
		b.WriteString(".")
	}
	return b.String()
}

// validator collects field errors.
type validator struct{ fields []FieldError }

func (v *validator) add(field, msg string) { v.fields = append(v.fields, FieldError{field, msg}) }

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}
