package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/app"
)

func runUser(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		return usagef("usage: skychimp user add --email E --role R [--name N] [--password-stdin]")
	}
	fs := newFlags(e, "user add")
	config := appFlags(fs, e)
	email := fs.String("email", "", "the login email (required)")
	roleName := fs.String("role", "user", "user, manager, content_manager or superuser")
	name := fs.String("name", "", "full name")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input (otherwise one is generated and printed)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		return usagef("--email is required")
	}
	role, err := accounts.ParseRole(*roleName)
	if err != nil {
		return usagef("--role %q: want user, manager, content_manager or superuser", *roleName)
	}
	password, generated := "", false
	if *fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return usagef("--password-stdin: no password on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		var b [12]byte
		_, _ = rand.Read(b[:])
		password, generated = base64.RawURLEncoding.EncodeToString(b[:]), true
	}
	cfg, err := config()
	if err != nil {
		return err
	}
	a, err := app.Open(ctx, cfg)
	if err != nil {
		return appError(err)
	}
	defer a.Close()
	full := *name
	if full == "" {
		full = strings.SplitN(*email, "@", 2)[0]
	}
	u, err := a.Accounts.AddUser(ctx, accounts.AddInput{Email: *email, FullName: full, Password: password, Role: role, Verified: true})
	var ve *accounts.ValidationError
	switch {
	case errors.As(err, &ve):
		return usagef("%s", ve.Sentence())
	case errors.Is(err, accounts.ErrConflict):
		return usagef("a user with the email %s already exists", accounts.NormalizeEmail(*email))
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "added %s (%s, id %d)\n", u.Email, u.Role.Label(), u.ID)
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n", password)
	}
	return nil
}
