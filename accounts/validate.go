package accounts

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Input limits.
const (
	// MinPasswordLen is the shortest password accepted, in characters.
	MinPasswordLen = 8
	// MaxPasswordLen is the longest password accepted, in characters.
	MaxPasswordLen = 256
	// MaxEmailLen is the longest email address accepted (RFC 5321 path limit).
	MaxEmailLen = 254
	// MaxNameLen is the longest full name accepted, in characters.
	MaxNameLen = 200
)

// NormalizeEmail returns email as the Service stores it: surrounding
// space removed and the domain lower-cased. The local part keeps its case
// (it is shown and mailed as typed), but addresses are still unique and
// looked up case-insensitively (EmailKey).
func NormalizeEmail(email string) string {
	email = strings.TrimSpace(email)
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		email = email[:at] + strings.ToLower(email[at:])
	}
	return email
}

// checkEmail validates an address already normalised.
func checkEmail(v *validator, email string) {
	switch {
	case email == "":
		v.add("email", "is required")
	case len(email) > MaxEmailLen:
		v.add("email", "must be at most 254 characters long")
	default:
		a, err := mail.ParseAddress(email)
		local, domain, _ := strings.Cut(email, "@")
		if err != nil || a.Address != email || a.Name != "" || local == "" || domain == "" ||
			strings.ContainsAny(email, " \t\r\n<>") {
			v.add("email", "is not a valid email address")
		}
	}
}

// cleanName trims a full name and folds runs of white space to one space.
func cleanName(name string) string { return strings.Join(strings.Fields(name), " ") }

func checkName(v *validator, name string) {
	switch {
	case name == "":
		v.add("full_name", "is required")
	case utf8.RuneCountInString(name) > MaxNameLen:
		v.add("full_name", "must be at most 200 characters long")
	case !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		v.add("full_name", "must not contain control characters")
	}
}

// checkPassword applies the password policy: 8 to 256 characters, and not
// the email address itself. Anything else (spaces, any script) is allowed.
func checkPassword(v *validator, field, password, email string) {
	n := utf8.RuneCountInString(password)
	switch {
	case password == "":
		v.add(field, "is required")
	case n < MinPasswordLen:
		v.add(field, "must be at least 8 characters long")
	case n > MaxPasswordLen:
		v.add(field, "must be at most 256 characters long")
	case email != "" && EmailKey(password) == EmailKey(email):
		v.add(field, "must not be your email address")
	}
}

// CheckPassword returns a *ValidationError (field "password") when password
// breaks the policy for the account with email, or nil. Forms may call it
// before submitting; the Service applies it anyway.
func CheckPassword(password, email string) error {
	var v validator
	checkPassword(&v, "password", password, email)
	return v.err()
}
