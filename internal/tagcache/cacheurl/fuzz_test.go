package cacheurl_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/tagcache/cacheurl"
)

// secretMark makes the password FuzzOpen plants recognisable.
const secretMark = "Pw7xQ"

// FuzzOpen reads any text as the --cache setting (Open does not connect).
// Properties: it opens a cache and a release function, or fails with an
// error wrapping ErrURL that never shows the password. "{pw}" in raw
// becomes secretMark+pw, so that the password is known (when it is planted
// once). Seeds are in testdata/fuzz/FuzzOpen too.
func FuzzOpen(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""},
		{"memory", ""},
		{"redis://127.0.0.1:6379/0", ""},
		{"redis://:{pw}@127.0.0.1:6379/15", "secret"},
		{"rediss://user:{pw}@cache.example:6380/1?dial_timeout=1s&read_timeout=500ms", "secret"},
		{"redis://u:{pw}@h:6379/x", "secret"},
		{"redis://u:{pw}@h:6379/0?unknown=1", "secret"},
		{"redis://u:{pw}@h:6379/0?dial_timeout=soon", "secret"},
		{"redis://u:{pw}@h/0/1", "se/cret"},
		{"memcached://h", ""},
		{"Memory", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, pw string) {
		secret := secretMark + pw
		raw = strings.ReplaceAll(raw, "{pw}", secret)
		c, release, err := cacheurl.Open(raw)
		if err == nil {
			require.NotNil(t, c)
			require.NotNil(t, release)
			assert.NoError(t, release())
			return
		}
		assert.Nil(t, c)
		assert.ErrorIs(t, err, cacheurl.ErrURL)
		if strings.Count(raw, secret) == 1 && inPassword(raw, secret) {
			msg := err.Error()
			assert.NotContains(t, msg, secret, "the error shows the password")
			assert.NotContains(t, msg, url.QueryEscape(secret), "the error shows the password, escaped")
		}
	})
}

// inPassword reports whether secret is in raw's password: in the
// authority (after "://"), after the first ":" and before the last "@".
func inPassword(raw, secret string) bool {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return false
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return false
	}
	_, pass, ok := strings.Cut(rest[:at], ":")
	return ok && strings.Contains(pass, secret)
}
