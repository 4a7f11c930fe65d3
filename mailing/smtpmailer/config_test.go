package smtpmailer_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

func TestParseURL(t *testing.T) {
	ok := []struct {
		name, url string
		want      smtpmailer.Config
	}{
		{"Defaults", "smtp://mail.example.com", smtpmailer.Config{
			Host: "mail.example.com", Port: 25, Connections: 4, DialTimeout: 10 * time.Second, SendTimeout: 30 * time.Second,
		}},
		{"Everything", "smtp://us%40er:p%3Ass@mail.example.com:2525?tls=starttls&connections=8&timeout=5s&dial_timeout=2s&helo=me.example&from=news@example.com&from_name=News&insecure_skip_verify=true",
			smtpmailer.Config{
				Host: "mail.example.com", Port: 2525, Username: "us@er", Password: "p:ss", TLS: smtpmailer.TLSStartTLS,
				InsecureSkipVerify: true, HELO: "me.example", From: "news@example.com", FromName: "News",
				Connections: 8, DialTimeout: 2 * time.Second, SendTimeout: 5 * time.Second,
			}},
		{"StartTLSDefaultPort", "smtp://h?tls=starttls", smtpmailer.Config{
			Host: "h", Port: 587, TLS: smtpmailer.TLSStartTLS, Connections: 4, DialTimeout: 10 * time.Second, SendTimeout: 30 * time.Second,
		}},
		{"SMTPS", "smtps://h", smtpmailer.Config{
			Host: "h", Port: 465, TLS: smtpmailer.TLSImplicit, Connections: 4, DialTimeout: 10 * time.Second, SendTimeout: 30 * time.Second,
		}},
		{"IPv6", "smtp://[::1]:1025?tls=none", smtpmailer.Config{
			Host: "::1", Port: 1025, Connections: 4, DialTimeout: 10 * time.Second, SendTimeout: 30 * time.Second,
		}},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			got, err := smtpmailer.ParseURL(tc.url)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}

	bad := []struct{ name, url, msg string }{
		{"Scheme", "http://h", `scheme "http"`},
		{"NoHost", "smtp://", "no host"},
		{"NoHostOpaque", "smtp:h", "no host"},
		{"Port", "smtp://h:99999", "port"},
		{"PortText", "smtp://h:abc", "not a URL"},
		{"TLS", "smtp://h?tls=maybe", `tls="maybe"`},
		{"Connections", "smtp://h?connections=0", "connections"},
		{"Timeout", "smtp://h?timeout=soon", "timeout"},
		{"Unknown", "smtp://h?conections=3", `unknown parameter "conections"`},
		{"From", "smtp://h?from=nope", "from"},
		{"Path", "smtp://h/x", "path"},
		{"Insecure", "smtp://h?insecure_skip_verify=yes please", "insecure_skip_verify"},
	}
	for _, tc := range bad {
		t.Run("Err"+tc.name, func(t *testing.T) {
			_, err := smtpmailer.ParseURL(tc.url)
			require.Error(t, err)
			assert.ErrorIs(t, err, smtpmailer.ErrBadConfig)
			assert.Contains(t, err.Error(), tc.msg)
			assert.NotContains(t, err.Error(), "\n")
		})
	}
	t.Run("ErrDoesNotLeakPassword", func(t *testing.T) {
		_, err := smtpmailer.ParseURL("smtp://user:s3cret@h:bad")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), "s3cret")
	})
}

func TestNewValidates(t *testing.T) {
	for name, cfg := range map[string]smtpmailer.Config{
		"NoHost":      {},
		"Connections": {Host: "h", Connections: -1},
		"Timeout":     {Host: "h", SendTimeout: -time.Second},
		"TLSMode":     {Host: "h", TLS: 7},
	} {
		_, err := smtpmailer.New(cfg)
		assert.ErrorIs(t, err, smtpmailer.ErrBadConfig, name)
	}
	m, err := smtpmailer.New(smtpmailer.Config{Host: "mail.example.com", TLS: smtpmailer.TLSStartTLS})
	require.NoError(t, err)
	assert.Equal(t, "mail.example.com:587", m.Server())
	require.NoError(t, m.Close())
}
