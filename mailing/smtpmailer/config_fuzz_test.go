package smtpmailer_test

import (
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

// formatURL writes cfg as the URL ParseURL reads (every field it sets).
func formatURL(cfg smtpmailer.Config) string {
	u := url.URL{Scheme: "smtp", Host: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))}
	switch {
	case cfg.Password != "":
		u.User = url.UserPassword(cfg.Username, cfg.Password)
	case cfg.Username != "":
		u.User = url.User(cfg.Username)
	}
	q := url.Values{}
	q.Set("tls", cfg.TLS.String())
	q.Set("connections", strconv.Itoa(cfg.Connections))
	q.Set("timeout", cfg.SendTimeout.String())
	q.Set("dial_timeout", cfg.DialTimeout.String())
	q.Set("pipelining", strconv.FormatBool(!cfg.NoPipelining))
	q.Set("insecure_skip_verify", strconv.FormatBool(cfg.InsecureSkipVerify))
	for k, v := range map[string]string{"helo": cfg.HELO, "from": cfg.From, "from_name": cfg.FromName} {
		if v != "" {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// secretMark makes the password FuzzParseURL plants recognisable.
const secretMark = "Pw7xQ"

// FuzzParseURL reads any text as the --smtp setting. Properties: an error
// wraps ErrBadConfig and never shows the password; a configuration read is
// complete and accepted by New as it is (defaults filled); and written back
// as a URL it reads the same.
//
// The password property is checked by planting a password: "{pw}" in raw
// (anywhere; the seeds put it in the user info) becomes secretMark+pw, and
// is checked when it is planted once.
func FuzzParseURL(f *testing.F) {
	for _, s := range [][2]string{
		{"smtp://mail.example.com", ""},
		{"smtp://us%40er:{pw}@mail.example.com:2525?tls=starttls&connections=8&timeout=5s&dial_timeout=2s&helo=me.example&from=news@example.com&from_name=News&insecure_skip_verify=true", "p:ss"},
		{"smtps://user:{pw}@h", "x"},
		{"smtp://[::1]:1025?tls=none&pipelining=false", ""},
		{"SMTP://u:{pw}@h:99999", "secret"},
		{"smtp://u:{pw}@h:abc", "secret"},
		{"smtp://u:{pw}@h?tls=maybe", "secret"},
		{"smtp://u:{pw}@h?connections=0", "secret"},
		{"smtp://u:{pw}@h?timeout=soon", "secret"},
		{"smtp://u:{pw}@h?conections=3", "secret"},
		{"smtp://u:{pw}@h?from=nope", "secret"},
		{"smtp://u:{pw}@h/x", "secret"},
		{"smtp://u:{pw}@h?%zz", "secret"},
		{"smtp://u:{pw}@h?helo=a b", "secret"},
		{"smtp://u:{pw}@[fe80::1%25en0]:25", "secret"},
		{"smtp://u:{pw}@h b", "sec ret"},
		{"smtp:h", ""},
		{"http://h", ""},
		{" smtp://h ", ""},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, pw string) {
		secret := secretMark + pw
		raw = strings.ReplaceAll(raw, "{pw}", secret)
		cfg, err := smtpmailer.ParseURL(raw)
		if err != nil {
			assert.ErrorIs(t, err, smtpmailer.ErrBadConfig)
			if u, perr := url.Parse(strings.TrimSpace(raw)); perr == nil && u.User != nil {
				if p, ok := u.User.Password(); ok && strings.Contains(p, secret) && strings.Count(raw, secret) == 1 {
					assert.NotContains(t, err.Error(), secret, "the error shows the password")
					assert.NotContains(t, err.Error(), url.UserPassword("", secret).String()[1:], "the error shows the password, escaped")
				}
			}
			return
		}
		assert.NotEmpty(t, cfg.Host)
		assert.True(t, cfg.Port >= 1 && cfg.Port <= 65535, "port %d", cfg.Port)
		assert.Positive(t, cfg.Connections)
		assert.Positive(t, cfg.DialTimeout)
		assert.Positive(t, cfg.SendTimeout)

		m, err := smtpmailer.New(cfg)
		require.NoError(t, err, "ParseURL read a configuration New refuses")
		assert.Equal(t, cfg, m.Config(), "New changed a configuration ParseURL completed")
		require.NoError(t, m.Close())

		back := formatURL(cfg)
		again, err := smtpmailer.ParseURL(back)
		require.NoError(t, err, "written back as %q", back)
		assert.Equal(t, cfg, again, "written back as %q", back)
	})
}
