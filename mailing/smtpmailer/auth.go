package smtpmailer

import (
	"errors"
	"slices"
	"strings"

	"github.com/wneessen/go-mail/smtp"
)

// autoAuth picks a mechanism the server offers: PLAIN, LOGIN or CRAM-MD5
// over TLS, CRAM-MD5 first in clear text. go-mail's PLAIN and LOGIN refuse
// to send a password unencrypted to anything but localhost. One value per
// connection (it remembers the chosen mechanism).
type autoAuth struct {
	user, pass, host string
	next             smtp.Auth
}

func (a *autoAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	offered := make([]string, len(si.Auth))
	for i, m := range si.Auth {
		offered[i] = strings.ToUpper(m)
	}
	order := []string{"PLAIN", "LOGIN", "CRAM-MD5"}
	if !si.TLS {
		order = []string{"CRAM-MD5", "PLAIN", "LOGIN"}
	}
	for _, mech := range order {
		if !slices.Contains(offered, mech) {
			continue
		}
		switch mech {
		case "PLAIN":
			a.next = smtp.PlainAuth("", a.user, a.pass, a.host, false)
		case "LOGIN":
			a.next = smtp.LoginAuth(a.user, a.pass, a.host, false)
		case "CRAM-MD5":
			a.next = smtp.CRAMMD5Auth(a.user, a.pass)
		}
		return a.next.Start(si)
	}
	return "", nil, errors.New("server offers none of PLAIN, LOGIN, CRAM-MD5 (offered: " + strings.Join(si.Auth, " ") + ")")
}

func (a *autoAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if a.next == nil {
		return nil, errors.New("auth not started")
	}
	return a.next.Next(fromServer, more)
}
