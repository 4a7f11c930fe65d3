package mailing

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Stores and the Service wrap them with %w; check them with errors.Is.
var (
	// ErrNotFound: the object does not exist, or belongs to another user.
	ErrNotFound = errors.New("mailing: not found")
	// ErrConflict: the change clashes with the stored state (a duplicate client
	// email, a message still used by a mailing, a lease held by another engine).
	ErrConflict = errors.New("mailing: conflict")
	// ErrInvalid: the input failed validation; the error is a *ValidationError.
	ErrInvalid = errors.New("mailing: invalid input")
	// ErrForbidden: the acting user's role may not do this at all (a manager
	// editing a mailing, a content manager reading clients).
	ErrForbidden = errors.New("mailing: not allowed")
)

// FieldError is one problem with one input field, worded for a form.
type FieldError struct {
	Field   string // the field's name as in forms and JSON: "email", "end", "client_ids"
	Message string // a sentence for a person: "must be after the start"
}

// ValidationError lists every problem found in one input. It matches ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("mailing: invalid input: ")
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

// validator collects field errors.
type validator struct{ fields []FieldError }

func (v *validator) add(field, msg string) { v.fields = append(v.fields, FieldError{field, msg}) }

func (v *validator) check(ok bool, field, msg string) {
	if !ok {
		v.add(field, msg)
	}
}

// notUTF8 is the message for text that is not valid UTF-8, which the
// stores' utf8mb4 columns refuse.
const notUTF8 = "must be UTF-8 text"

// text checks a free-text field: valid UTF-8 of at most max characters.
func (v *validator) text(field, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		v.add(field, notUTF8)
	case utf8.RuneCountInString(s) > max:
		v.add(field, fmt.Sprintf("must be at most %d characters", max))
	}
}

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}
