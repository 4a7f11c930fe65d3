package blog

import (
	"errors"
	"strings"
)

// Sentinel errors. Stores and the Service wrap them with %w; check them with errors.Is.
var (
	// ErrNotFound: the post does not exist, or is a draft and the reader is
	// not an editor.
	ErrNotFound = errors.New("blog: not found")
	// ErrConflict: the change clashes with the stored state (a slug taken).
	ErrConflict = errors.New("blog: conflict")
	// ErrInvalid: the input failed validation; the error is a *ValidationError.
	ErrInvalid = errors.New("blog: invalid input")
	// ErrForbidden: the acting user may not edit the blog (only content
	// managers and superusers may).
	ErrForbidden = errors.New("blog: not allowed")
	// ErrImage: an uploaded image was refused (wrong type, too large,
	// damaged); the error says why, in words fit for the person uploading.
	ErrImage = errors.New("blog: image refused")
)

// FieldError is one problem with one input field, worded for a form.
type FieldError struct {
	Field   string // the field's name as in forms and JSON: "title", "content", "image"
	Message string // a sentence for a person: "is required"
}

// ValidationError lists every problem found in one input. It matches ErrInvalid.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("blog: invalid input: ")
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

func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}
