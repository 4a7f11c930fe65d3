package smtptest_test

import (
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/smtptest"
)

const body = "Subject: hi\r\n\r\nhello\r\n"

func send(tb testing.TB, addr, to string) error {
	tb.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.SendMail("from@example.com", []string{to}, strings.NewReader(body))
}

func smtpCode(err error) int {
	if e, ok := err.(*smtp.SMTPError); ok {
		return e.Code
	}
	return 0
}

func TestServer(t *testing.T) {
	t.Run("RecordsMessages", func(t *testing.T) {
		srv := smtptest.Start(t)
		require.NoError(t, send(t, srv.Addr(), "to@example.com"))
		msgs := srv.Messages()
		require.Len(t, msgs, 1)
		assert.Equal(t, "from@example.com", msgs[0].From)
		assert.Equal(t, []string{"to@example.com"}, msgs[0].To)
		assert.Equal(t, body, string(msgs[0].Data))
		assert.EqualValues(t, 1, srv.Accepted())
		assert.EqualValues(t, 1, srv.Connections())
		assert.Equal(t, "127.0.0.1", srv.Host())
		assert.NotZero(t, srv.Port())
	})
	t.Run("SinkCountsOnly", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithSink())
		require.NoError(t, send(t, srv.Addr(), "to@example.com"))
		assert.Empty(t, srv.Messages())
		assert.EqualValues(t, 1, srv.Accepted())
		assert.Zero(t, srv.Tries("to@example.com"), "a sink without faults keeps nothing per recipient")
	})
	t.Run("RejectFirstTries", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Rcpt: "A@example.com", Tries: 2, Fault: smtptest.Reject(451, "later")}))
		assert.Equal(t, 451, smtpCode(send(t, srv.Addr(), "a@example.com")))
		assert.Equal(t, 451, smtpCode(send(t, srv.Addr(), "a@example.com")))
		assert.NoError(t, send(t, srv.Addr(), "a@example.com"))
		assert.NoError(t, send(t, srv.Addr(), "b@example.com"))
		assert.Equal(t, 3, srv.Tries("a@example.com"))
	})
	t.Run("RejectData", func(t *testing.T) {
		srv := smtptest.Start(t)
		srv.SetFaults(func(string, int) smtptest.Fault { return smtptest.RejectData(554, "spam") })
		assert.Equal(t, 554, smtpCode(send(t, srv.Addr(), "a@example.com")))
		srv.ClearFaults()
		assert.NoError(t, send(t, srv.Addr(), "a@example.com"))
	})
	t.Run("DropAfterBody", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithRules(smtptest.Rule{Fault: smtptest.DropAfterBody()}))
		err := send(t, srv.Addr(), "a@example.com")
		require.Error(t, err)
		assert.Zero(t, smtpCode(err))
		assert.Zero(t, srv.Accepted())
	})
	t.Run("GarbageGreeting", func(t *testing.T) {
		srv := smtptest.Start(t)
		srv.SetGarbageGreeting(true)
		assert.Error(t, send(t, srv.Addr(), "a@example.com"))
		srv.SetGarbageGreeting(false)
		assert.NoError(t, send(t, srv.Addr(), "a@example.com"))
	})
	t.Run("StopRefusesRestartServes", func(t *testing.T) {
		srv := smtptest.Start(t)
		require.NoError(t, srv.Stop())
		assert.Error(t, send(t, srv.Addr(), "a@example.com"))
		require.NoError(t, srv.Restart())
		assert.NoError(t, send(t, srv.Addr(), "a@example.com"))
	})
	t.Run("AuthRequired", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithAuth("u", "p"))
		assert.Equal(t, 502, smtpCode(send(t, srv.Addr(), "a@example.com")))
	})
}
