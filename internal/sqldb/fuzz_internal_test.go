package sqldb

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretMark makes the password FuzzParseURL plants recognisable.
const secretMark = "Pw7xQ"

// driverPassword is where go-sql-driver/mysql reads the password of dsn
// from, even in a DSN it then refuses: after the first ":" and before the
// last "@" that precedes the last "/".
func driverPassword(dsn string) string {
	slash := strings.LastIndexByte(dsn, '/')
	if slash < 0 {
		return ""
	}
	at := strings.LastIndexByte(dsn[:slash], '@')
	if at < 0 {
		return ""
	}
	_, pass, _ := strings.Cut(dsn[:at], ":")
	return pass
}

// FuzzParseURL reads any text as the --db setting, without opening a
// database. Properties: an error never shows a MySQL password; a MySQL
// configuration is adjusted as the stores need (parseTime, UTC, found rows,
// interpolation, a timeout, a database name), and written back as a DSN it
// reads the same; a SQLite path is a plain file path. "{pw}" in raw becomes
// secretMark+pw, so that the password is known (when it is planted once).
func FuzzParseURL(f *testing.F) {
	for _, s := range [][2]string{
		{"sqlite:skychimp.db", ""},
		{"sqlite:/var/lib/skychimp/data.db", ""},
		{"sqlite::memory:", ""},
		{"sqlite:file:x.db?mode=memory", ""},
		{"sqlite:", ""},
		{"mysql:root@tcp(127.0.0.1:3306)/skychimp", ""},
		{"mysql:user:{pw}@tcp(127.0.0.1:3306)/skychimp?parseTime=false&loc=Local&timeout=3s", "secret"},
		{"mysql:user:{pw}@unix(/run/mysqld/mysqld.sock)/skychimp?charset=utf8mb4", "p@ss/w:rd"},
		{"mysql:user:{pw}@tcp(db.example)/", "secret"},
		{"mysql:user:{pw}@tcp(db.example/skychimp", "secret"},
		{"mysql:user:{pw}@tcp(db.example)/skychimp?parseTime=maybe", "secret"},
		{"mysql:user:{pw}@tcp(db.example)/skychimp?unknown%zz=1", "secret"},
		{"mysql:user:{pw}@tcp(db.example)/sky%zzchimp", "secret"},
		{"mysql:user:{pw}@tcp(db.example)skychimp", "secret"},
		{"mysql:user:{pw}@tcp(db.example)/skychimp?tls=custom", "secret"},
		{"mysql:user:{pw}@tcp(db.example)/skychimp?x=a@b/c", "secret"},
		{"postgres://user:{pw}@db.example/skychimp", "secret"},
		{"MYSQL:user:{pw}@tcp(h)/db", "secret"},
		{"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, raw, pw string) {
		secret := secretMark + pw
		raw = strings.ReplaceAll(raw, "{pw}", secret)
		d, path, cfg, err := parseURL(raw)
		scheme, rest, _ := strings.Cut(raw, ":")
		if err != nil {
			msg := err.Error()
			// Errors read on one line (the driver's own text aside).
			if inner := errors.Unwrap(err); inner == nil || !strings.Contains(inner.Error(), "\n") {
				assert.NotContains(t, msg, "\n", "errors read on one line")
			}
			once := strings.Count(raw, secret) == 1 // else it may show elsewhere
			if once && scheme == string(MySQL) && strings.Contains(driverPassword(rest), secret) {
				assert.NotContains(t, msg, secret, "the error shows the password")
			}
			if scheme != string(MySQL) && scheme != string(SQLite) {
				if at := strings.LastIndex(raw, "@"); at >= 0 {
					if _, pass, ok := strings.Cut(raw[:at], ":"); ok && once && strings.Contains(pass, secret) {
						assert.NotContains(t, msg, secret, "the error shows the password")
					}
				}
			}
			return
		}
		switch d {
		case SQLite:
			assert.Equal(t, rest, path)
			assert.Nil(t, cfg)
			assert.NotEmpty(t, path)
			assert.False(t, strings.ContainsAny(path, "?#"), "path %q would change the DSN's pragmas", path)
		case MySQL:
			require.NotNil(t, cfg)
			assert.True(t, cfg.ParseTime)
			assert.Equal(t, time.UTC, cfg.Loc)
			assert.True(t, cfg.ClientFoundRows)
			assert.True(t, cfg.InterpolateParams)
			assert.Positive(t, cfg.Timeout)
			assert.NotEmpty(t, cfg.DBName)
			// Written back, the DSN reads the same, and needs no more
			// adjusting. (Not for a TCP address that is no host:port: the
			// driver then adds a port each time, as in "([)/db".)
			if _, _, err := net.SplitHostPort(cfg.Addr); cfg.Net == "tcp" && err != nil {
				return
			}
			dsn := cfg.FormatDSN()
			d2, _, cfg2, err := parseURL("mysql:" + dsn)
			require.NoError(t, err, "written back as %q", dsn)
			assert.Equal(t, MySQL, d2)
			assert.Equal(t, dsn, cfg2.FormatDSN())
			if _, err := mysql.NewConnector(cfg); err != nil {
				t.Logf("the driver refuses to connect with %q: %v", redactDSN(dsn), err)
			}
		default:
			t.Fatalf("parseURL(%q) gave dialect %q without an error", raw, d)
		}
	})
}
