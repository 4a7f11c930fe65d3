package smtpmailer_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/smtptest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/smtpmailer"
)

// newMailer returns a mailer for srv with short timeouts, closed at the end
// of the test.
func newMailer(tb testing.TB, srv *smtptest.Server, opts ...func(*smtpmailer.Config)) *smtpmailer.Mailer {
	tb.Helper()
	cfg := smtpmailer.Config{
		Host:        srv.Host(),
		Port:        srv.Port(),
		HELO:        "client.test",
		From:        "news@example.com",
		FromName:    "Skychimp News",
		Connections: 2,
		DialTimeout: 2 * time.Second,
		SendTimeout: 2 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := smtpmailer.New(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { _ = m.Close() })
	return m
}

func envelope(to string) mailing.Envelope {
	return mailing.Envelope{To: to, Subject: "Hello", HTML: "<p>Hello</p>"}
}

// requireSendError returns the *mailing.SendError in err, failing the test
// if there is none.
func requireSendError(tb testing.TB, err error) *mailing.SendError {
	tb.Helper()
	require.Error(tb, err)
	var se *mailing.SendError
	require.True(tb, errors.As(err, &se), "not a SendError: %v", err)
	return se
}

func shortTimeout(d time.Duration) func(*smtpmailer.Config) {
	return func(c *smtpmailer.Config) { c.SendTimeout = d }
}

func TestSendOK(t *testing.T) {
	srv := smtptest.Start(t)
	m := newMailer(t, srv)
	e := mailing.Envelope{
		FromName:        "Zoë Müller",
		To:              "Ann@Example.org",
		ToName:          "Ånn Åström",
		Subject:         "Grüße — 10% off ✓",
		HTML:            `<p>Hello <b>Ann</b>,</p><p><a href="https://example.com/x">Read more</a></p>`,
		Text:            "Hello Ann,\nRead more: https://example.com/x\n",
		ListUnsubscribe: "https://skychimp.example/u/abc123",
		Headers:         map[string]string{"X-Skychimp-Delivery": "42"},
	}
	reply, err := m.Send(t.Context(), e)
	require.NoError(t, err)
	assert.Equal(t, 250, reply.Code)
	assert.NotEmpty(t, reply.Text)

	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "news@example.com", msgs[0].From)
	assert.Equal(t, []string{"Ann@Example.org"}, msgs[0].To)

	msg, err := netmail.ReadMessage(bytes.NewReader(msgs[0].Data))
	require.NoError(t, err)
	h := msg.Header
	dec := new(mime.WordDecoder)

	assert.True(t, strings.HasPrefix(h.Get("Subject"), "=?UTF-8?"), "subject not RFC 2047 encoded: %q", h.Get("Subject"))
	subject, err := dec.DecodeHeader(h.Get("Subject"))
	require.NoError(t, err)
	assert.Equal(t, e.Subject, subject)

	assert.Contains(t, strings.ToUpper(h.Get("From")), "=?UTF-8?", "From name not encoded")
	from, err := netmail.ParseAddress(h.Get("From"))
	require.NoError(t, err)
	assert.Equal(t, "Zoë Müller", from.Name)
	assert.Equal(t, "news@example.com", from.Address)
	to, err := netmail.ParseAddress(h.Get("To"))
	require.NoError(t, err)
	assert.Equal(t, "Ånn Åström", to.Name)
	assert.Equal(t, "Ann@Example.org", to.Address)

	assert.Regexp(t, regexp.MustCompile(`^<[A-Za-z0-9]{20,}@example\.com>$`), h.Get("Message-ID"))
	date, err := h.Date()
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), date, time.Hour)
	assert.Equal(t, "<https://skychimp.example/u/abc123>", h.Get("List-Unsubscribe"))
	assert.Equal(t, "List-Unsubscribe=One-Click", h.Get("List-Unsubscribe-Post"))
	assert.Equal(t, "42", h.Get("X-Skychimp-Delivery"))

	parts := readAlternative(t, msg)
	require.Len(t, parts, 2)
	assert.Equal(t, "text/plain", parts[0].typ)
	assert.Equal(t, e.Text, strings.ReplaceAll(parts[0].body, "\r\n", "\n"))
	assert.Equal(t, "text/html", parts[1].typ)
	assert.Equal(t, e.HTML, parts[1].body)
}

func TestSendDerivesText(t *testing.T) {
	srv := smtptest.Start(t)
	m := newMailer(t, srv)
	_, err := m.Send(t.Context(), mailing.Envelope{
		To: "a@example.org", Subject: "Hi",
		HTML: `<html><head><style>p{}</style></head><body><h1>News</h1><p>Sale &amp; more</p><a href="https://x.example/u">unsubscribe</a></body></html>`,
	})
	require.NoError(t, err)
	msg, err := netmail.ReadMessage(bytes.NewReader(srv.Messages()[0].Data))
	require.NoError(t, err)
	parts := readAlternative(t, msg)
	require.Len(t, parts, 2)
	assert.Equal(t, "News\n\nSale & more\n\nunsubscribe (https://x.example/u)\n", strings.ReplaceAll(parts[0].body, "\r\n", "\n"))
}

type part struct{ typ, body string }

func readAlternative(tb testing.TB, msg *netmail.Message) []part {
	tb.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	require.NoError(tb, err)
	require.Equal(tb, "multipart/alternative", mt)
	r := multipart.NewReader(msg.Body, params["boundary"])
	var out []part
	for {
		p, err := r.NextRawPart()
		if err == io.EOF {
			return out
		}
		require.NoError(tb, err)
		typ, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		require.NoError(tb, err)
		var body io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		require.NoError(tb, err)
		out = append(out, part{typ: typ, body: string(b)})
	}
}

func TestSendFailures(t *testing.T) {
	t.Run("Pipelined", func(t *testing.T) { testSendFailures(t, func(*smtpmailer.Config) {}) })
	t.Run("Sequential", func(t *testing.T) {
		testSendFailures(t, func(c *smtpmailer.Config) { c.NoPipelining = true })
	})
}

// testSendFailures runs the failure cases with mode applied to the config.
func testSendFailures(t *testing.T, mode func(*smtpmailer.Config)) {
	t.Run("SlowDataIsUnknown", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Fault: smtptest.SlowData(10 * time.Second)}))
		m := newMailer(t, srv, mode, shortTimeout(300*time.Millisecond))
		start := time.Now()
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Unknown, se.Kind, "%v", err)
		assert.Zero(t, se.Code)
		assert.Less(t, time.Since(start), 5*time.Second, "the send deadline did not fire")
		// The timed-out session is never reused.
		srv.ClearFaults()
		_, err = m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
		assert.EqualValues(t, 2, srv.Connections())
	})
	t.Run("SlowRcptIsTemporary", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Fault: smtptest.Fault{Stage: smtptest.StageRcpt, Delay: 10 * time.Second}}))
		m := newMailer(t, srv, mode, shortTimeout(300*time.Millisecond))
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Temporary, se.Kind, "%v", err)
	})
	t.Run("451RetriedThenSent", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Rcpt: "a@example.org", Tries: 2, Fault: smtptest.Reject(451, "greylisted")}))
		m := newMailer(t, srv, mode)
		for range 2 {
			_, err := m.Send(t.Context(), envelope("a@example.org"))
			se := requireSendError(t, err)
			assert.Equal(t, mailing.Temporary, se.Kind)
			assert.Equal(t, 451, se.Code)
			assert.Contains(t, se.Text, "greylisted")
		}
		reply, err := m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
		assert.Equal(t, 250, reply.Code)
		assert.Equal(t, 3, srv.Tries("a@example.org"))
		assert.EqualValues(t, 1, srv.Accepted())
		assert.EqualValues(t, 1, srv.Connections(), "a 4xx reply must not cost the connection")
	})
	t.Run("421RetriedThenSent", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Tries: 1, Fault: smtptest.Reject(421, "too busy")}))
		m := newMailer(t, srv, mode)
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Temporary, se.Kind)
		assert.Equal(t, 421, se.Code)
		_, err = m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
		assert.EqualValues(t, 2, srv.Connections(), "a 421 closes the connection: the mailer must redial")
	})
	t.Run("451AfterBodyIsTemporary", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Fault: smtptest.RejectData(451, "local error")}))
		m := newMailer(t, srv, mode)
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Temporary, se.Kind)
		assert.Equal(t, 451, se.Code)
	})
	t.Run("550IsPermanentAfterOneAttempt", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Rcpt: "gone@example.org", Fault: smtptest.Reject(550, "5.1.1 no such user")}))
		m := newMailer(t, srv, mode)
		_, err := m.Send(t.Context(), envelope("gone@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Permanent, se.Kind)
		assert.Equal(t, 550, se.Code)
		assert.Contains(t, se.Text, "no such user")
		assert.Equal(t, 1, srv.Tries("gone@example.org"))
		// The session survives a rejected recipient.
		_, err = m.Send(t.Context(), envelope("ok@example.org"))
		require.NoError(t, err)
		assert.EqualValues(t, 1, srv.Connections())
	})
	t.Run("554AfterBodyIsPermanent", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Fault: smtptest.RejectData(554, "spam")}))
		m := newMailer(t, srv, mode)
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Permanent, se.Kind)
		assert.Equal(t, 554, se.Code)
	})
	t.Run("GarbageGreetingIsTemporary", func(t *testing.T) {
		srv := smtptest.Start(t)
		srv.SetGarbageGreeting(true)
		m := newMailer(t, srv, mode)
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Temporary, se.Kind, "%v", err)
		assert.Zero(t, se.Code)
		srv.SetGarbageGreeting(false)
		_, err = m.Send(t.Context(), envelope("a@example.org"))
		assert.NoError(t, err)
	})
	t.Run("DropAfterBodyIsUnknown", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Tries: 1, Fault: smtptest.DropAfterBody()}))
		m := newMailer(t, srv, mode)
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Unknown, se.Kind, "%v", err)
		// The dead session is replaced.
		_, err = m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
		assert.EqualValues(t, 2, srv.Connections())
	})
	t.Run("RefusedIsTemporary", func(t *testing.T) {
		srv := smtptest.Start(t)
		require.NoError(t, srv.Stop())
		m := newMailer(t, srv, mode)
		start := time.Now()
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Temporary, se.Kind)
		assert.Zero(t, se.Code)
		assert.Less(t, time.Since(start), time.Second)
		require.NoError(t, srv.Restart())
		_, err = m.Send(t.Context(), envelope("a@example.org"))
		assert.NoError(t, err)
	})
	t.Run("InvalidEnvelopeIsPermanent", func(t *testing.T) {
		srv := smtptest.Start(t)
		m := newMailer(t, srv, mode)
		for name, e := range map[string]mailing.Envelope{
			"BadTo":          {To: "not an address"},
			"NameInTo":       {To: "Ann <a@example.org>"},
			"ReservedHeader": {To: "a@example.org", Headers: map[string]string{"Subject": "x"}},
			"BadHeaderName":  {To: "a@example.org", Headers: map[string]string{"X Bad": "x"}},
			"BadUnsubscribe": {To: "a@example.org", ListUnsubscribe: "https://x.example/u>\r\nBcc: evil@x"},
		} {
			_, err := m.Send(t.Context(), e)
			se := requireSendError(t, err)
			assert.Equal(t, mailing.Permanent, se.Kind, name)
			assert.ErrorIs(t, err, smtpmailer.ErrInvalidEnvelope, name)
		}
		assert.Zero(t, srv.Connections())
	})
	t.Run("HeaderValueCannotInject", func(t *testing.T) {
		srv := smtptest.Start(t)
		m := newMailer(t, srv, mode)
		e := envelope("a@example.org")
		e.Subject = "hi\r\nBcc: evil@example.net"
		e.Headers = map[string]string{"X-Tag": "v\r\nBcc: evil@example.net"}
		_, err := m.Send(t.Context(), e)
		require.NoError(t, err)
		msg, err := netmail.ReadMessage(bytes.NewReader(srv.Messages()[0].Data))
		require.NoError(t, err)
		assert.Empty(t, msg.Header.Get("Bcc"))
	})
}

func TestSendContext(t *testing.T) {
	t.Run("CancelAfterBodyIsUnknown", func(t *testing.T) {
		reached := make(chan struct{}, 1)
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Fault: smtptest.Fault{Stage: smtptest.StageData, Delay: time.Minute, Signal: reached}}))
		m := newMailer(t, srv, shortTimeout(time.Minute))
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-reached; cancel() }()
		start := time.Now()
		_, err := m.Send(ctx, envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, mailing.Unknown, se.Kind)
		assert.Less(t, time.Since(start), 10*time.Second)
	})
	t.Run("CancelBeforeBodyIsTemporary", func(t *testing.T) {
		reached := make(chan struct{}, 1)
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Fault: smtptest.Fault{Stage: smtptest.StageRcpt, Delay: time.Minute, Signal: reached}}))
		m := newMailer(t, srv, shortTimeout(time.Minute))
		ctx, cancel := context.WithCancel(t.Context())
		go func() { <-reached; cancel() }()
		_, err := m.Send(ctx, envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, mailing.Temporary, se.Kind)
	})
	t.Run("AlreadyCancelled", func(t *testing.T) {
		srv := smtptest.Start(t)
		m := newMailer(t, srv)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := m.Send(ctx, envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, mailing.Temporary, se.Kind)
		assert.Zero(t, srv.Connections())
	})
	t.Run("WaitingForAConnection", func(t *testing.T) {
		reached := make(chan struct{}, 1)
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Rcpt: "slow@example.org", Fault: smtptest.Fault{Stage: smtptest.StageRcpt, Delay: time.Minute, Signal: reached}}))
		m := newMailer(t, srv, shortTimeout(time.Minute), func(c *smtpmailer.Config) { c.Connections = 1 })
		slowCtx, cancelSlow := context.WithCancel(t.Context())
		defer cancelSlow()
		done := make(chan struct{})
		go func() { defer close(done); _, _ = m.Send(slowCtx, envelope("slow@example.org")) }()
		<-reached // the only connection is busy now
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := m.Send(ctx, envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, mailing.Temporary, se.Kind)
		cancelSlow()
		<-done
	})
}

func TestPool(t *testing.T) {
	t.Run("ReusesConnections", func(t *testing.T) {
		srv := smtptest.Start(t)
		m := newMailer(t, srv)
		for range 20 {
			_, err := m.Send(t.Context(), envelope("a@example.org"))
			require.NoError(t, err)
		}
		assert.EqualValues(t, 20, srv.Accepted())
		assert.EqualValues(t, 1, srv.Connections())
	})
	t.Run("Concurrent", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithSink())
		m := newMailer(t, srv, func(c *smtpmailer.Config) { c.Connections = 4 })
		var wg sync.WaitGroup
		errs := make(chan error, 16*10)
		for g := range 16 {
			wg.Go(func() {
				for i := range 10 {
					_, err := m.Send(t.Context(), envelope("g"+string(rune('a'+g))+string(rune('a'+i))+"@example.org"))
					if err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		assert.EqualValues(t, 160, srv.Accepted())
		assert.LessOrEqual(t, srv.Connections(), int64(4))
	})
	t.Run("ReplacesDeadConnection", func(t *testing.T) {
		srv := smtptest.Start(t)
		m := newMailer(t, srv)
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
		// The server restarts: the pooled session is dead, the next send
		// finds out at MAIL FROM and tries once more on a fresh connection.
		require.NoError(t, srv.Stop())
		require.NoError(t, srv.Restart())
		_, err = m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
		assert.EqualValues(t, 2, srv.Accepted())
		assert.EqualValues(t, 2, srv.Connections())
	})
	t.Run("Close", func(t *testing.T) {
		srv := smtptest.Start(t)
		m := newMailer(t, srv)
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
		require.NoError(t, m.Close())
		require.NoError(t, m.Close())
		_, err = m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.ErrorIs(t, err, smtpmailer.ErrClosed)
		assert.Equal(t, mailing.Temporary, se.Kind)
	})
}

func TestTLS(t *testing.T) {
	tlsCfg, err := smtptest.SelfSignedTLS()
	require.NoError(t, err)
	insecure := func(mode smtpmailer.TLSMode, user, pass string) func(*smtpmailer.Config) {
		return func(c *smtpmailer.Config) {
			c.TLS, c.InsecureSkipVerify, c.Username, c.Password = mode, true, user, pass
		}
	}
	t.Run("StartTLSWithAuth", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithStartTLS(tlsCfg), smtptest.WithAuth("user", "secret"))
		m := newMailer(t, srv, insecure(smtpmailer.TLSStartTLS, "user", "secret"))
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
		assert.EqualValues(t, 1, srv.Accepted())
	})
	t.Run("ImplicitTLSWithAuth", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithImplicitTLS(tlsCfg), smtptest.WithAuth("user", "secret"))
		m := newMailer(t, srv, insecure(smtpmailer.TLSImplicit, "user", "secret"))
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		require.NoError(t, err)
	})
	t.Run("WrongPasswordIsTemporary", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithStartTLS(tlsCfg), smtptest.WithAuth("user", "secret"))
		m := newMailer(t, srv, insecure(smtpmailer.TLSStartTLS, "user", "wrong"))
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Temporary, se.Kind)
		assert.Equal(t, 535, se.Code)
	})
	t.Run("UnverifiedCertificateIsRefused", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithStartTLS(tlsCfg))
		m := newMailer(t, srv, func(c *smtpmailer.Config) { c.TLS = smtpmailer.TLSStartTLS })
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		se := requireSendError(t, err)
		assert.Equal(t, mailing.Temporary, se.Kind)
		assert.Zero(t, srv.Accepted())
	})
	t.Run("StartTLSMissingIsAnError", func(t *testing.T) {
		srv := smtptest.Start(t)
		m := newMailer(t, srv, insecure(smtpmailer.TLSStartTLS, "", ""))
		_, err := m.Send(t.Context(), envelope("a@example.org"))
		requireSendError(t, err)
		assert.ErrorIs(t, err, smtpmailer.ErrNoStartTLS)
		assert.Zero(t, srv.Accepted())
	})
}

func TestSendQuotedLocalPart(t *testing.T) {
	srv := smtptest.Start(t)
	m := newMailer(t, srv)
	_, err := m.Send(t.Context(), envelope(`"ann smith"@example.org`))
	require.NoError(t, err)
	require.Len(t, srv.Messages(), 1)
	// The path went out quoted (the server accepted it); go-smtp reports
	// the local part unquoted.
	assert.Equal(t, []string{"ann smith@example.org"}, srv.Messages()[0].To)
}
