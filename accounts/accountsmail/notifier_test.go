package accountsmail_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/accounts/accountsmail"
	"github.com/skychimp/skychimp/accounts/accountstest"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

var alice = accounts.User{ID: 7, Email: "Alice@example.com", FullName: "Alice Archer", Role: accounts.RoleUser}

func newNotifier(t *testing.T) (*accountsmail.Notifier, *mailingtest.FakeMailer) {
	t.Helper()
	m := mailingtest.NewFakeMailer()
	n, err := accountsmail.New(m, accountsmail.Config{From: "noreply@mail.example.com"})
	require.NoError(t, err)
	return n, m
}

func TestNotify(t *testing.T) {
	const link = "https://mail.example.com/verify?token=abc_DEF-123"
	for _, tc := range []struct {
		kind    accounts.NoticeKind
		notice  accounts.Notice
		subject string
		says    []string
	}{
		{accounts.NoticeVerify,
			accounts.Notice{Kind: accounts.NoticeVerify, User: alice, Link: link, TTL: 48 * time.Hour, Expires: accountstest.T0.Add(48 * time.Hour)},
			"Confirm your email address for Skychimp",
			[]string{"Hello Alice Archer,", "created a Skychimp account", "works for 48 hours and only once"}},
		{accounts.NoticeReset,
			accounts.Notice{Kind: accounts.NoticeReset, User: alice, Link: link, TTL: time.Hour, Expires: accountstest.T0.Add(time.Hour)},
			"Reset your Skychimp password",
			[]string{"reset the password of your Skychimp account (Alice@example.com)", "works for 1 hour and only once", "your password stays as it is"}},
		{accounts.NoticeAlreadyRegistered,
			accounts.Notice{Kind: accounts.NoticeAlreadyRegistered, User: alice, Link: link, LoginLink: "https://mail.example.com/login"},
			"Someone tried to sign up to Skychimp with your email address",
			[]string{"Someone tried to create a new Skychimp account with your email address, Alice@example.com", "https://mail.example.com/login", "your account and its password are safe"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			n, m := newNotifier(t)
			require.NoError(t, n.Notify(t.Context(), tc.notice))
			sent := m.SentTo("alice@example.com")
			require.Len(t, sent, 1)
			e := sent[0]
			assert.Equal(t, "noreply@mail.example.com", e.From)
			assert.Equal(t, "Skychimp", e.FromName)
			assert.Equal(t, "Alice@example.com", e.To)
			assert.Equal(t, "Alice Archer", e.ToName)
			assert.Equal(t, tc.subject, e.Subject)
			assert.Equal(t, "auto-generated", e.Headers["Auto-Submitted"])
			assert.Empty(t, e.ListUnsubscribe, "account emails are not a list")
			for _, s := range tc.says {
				assert.Contains(t, e.Text, s, "text")
			}
			assert.Contains(t, e.Text, link, "the text carries the link as is")
			assert.Contains(t, e.HTML, `href="https://mail.example.com/verify?token=abc_DEF-123"`, "the HTML links it")
			assert.Contains(t, e.HTML, "Hello Alice Archer,")
			assert.True(t, strings.HasPrefix(e.HTML, "<!DOCTYPE html>"))
		})
	}
}

func TestRenderEscapesHTML(t *testing.T) {
	n, _ := newNotifier(t)
	u := alice
	u.FullName = `<script>alert("x")</script>`
	e, err := n.Render(accounts.Notice{Kind: accounts.NoticeVerify, User: u, Link: "javascript:alert(1)", TTL: time.Hour})
	require.NoError(t, err)
	assert.NotContains(t, e.HTML, "<script>")
	assert.Contains(t, e.HTML, "&lt;script&gt;")
	assert.NotContains(t, e.HTML, `href="javascript:`, "html/template defuses unsafe URLs")
}

func TestRenderDurations(t *testing.T) {
	n, _ := newNotifier(t)
	for ttl, want := range map[time.Duration]string{
		30 * time.Minute: "for 30 minutes", time.Hour: "for 1 hour", 2 * time.Hour: "for 2 hours",
		48 * time.Hour: "for 48 hours", 7 * 24 * time.Hour: "for 7 days", 90 * time.Second: "for 2 minutes",
	} {
		e, err := n.Render(accounts.Notice{Kind: accounts.NoticeReset, User: alice, Link: "https://x/reset?token=t", TTL: ttl})
		require.NoError(t, err)
		assert.Contains(t, e.Text, "works "+want+" and only once", ttl.String())
	}
}

func TestNotifyErrors(t *testing.T) {
	t.Run("SendErrorPassesThrough", func(t *testing.T) {
		n, m := newNotifier(t)
		m.FailNext(1, mailingtest.PermError(550, "5.1.1 no such user"))
		err := n.Notify(t.Context(), accounts.Notice{Kind: accounts.NoticeVerify, User: alice, Link: "https://x/verify?token=t"})
		var se *mailing.SendError
		require.ErrorAs(t, err, &se)
		assert.Equal(t, 550, se.Code)
	})
	t.Run("UnknownKind", func(t *testing.T) {
		n, m := newNotifier(t)
		assert.Error(t, n.Notify(t.Context(), accounts.Notice{Kind: "welcome", User: alice}))
		assert.Zero(t, m.Count())
	})
	t.Run("BadConfig", func(t *testing.T) {
		for _, from := range []string{"", "not an address", "Skychimp <noreply@example.com>"} {
			_, err := accountsmail.New(mailingtest.NewFakeMailer(), accountsmail.Config{From: from})
			assert.Error(t, err, "%q", from)
		}
		_, err := accountsmail.New(nil, accountsmail.Config{From: "a@example.com"})
		assert.Error(t, err)
	})
}

// TestWithService runs the Service over the real Notifier: what the
// person receives is a link the Service accepts.
func TestWithService(t *testing.T) {
	ctx := t.Context()
	m := mailingtest.NewFakeMailer()
	n, err := accountsmail.New(m, accountsmail.Config{From: "noreply@mail.example.com", FromName: "Skychimp accounts", Product: "Skychimp"})
	require.NoError(t, err)
	svc := accounts.NewService(accountstest.NewMemStore(), n,
		accounts.WithBaseURL("https://mail.example.com"), accounts.WithPasswordHasher(accountstest.FastHasher()))

	_, err = svc.Register(ctx, accounts.RegisterInput{Email: "alice@example.com", FullName: "Alice", Password: "correct horse"})
	require.NoError(t, err)
	sent := m.SentTo("alice@example.com")
	require.Len(t, sent, 1)
	assert.Equal(t, "Skychimp accounts", sent[0].FromName)
	var link string
	for _, line := range strings.Split(sent[0].Text, "\n") {
		if strings.HasPrefix(line, "https://mail.example.com/verify?token=") {
			link = line
		}
	}
	require.NotEmpty(t, link, "the text has the link on a line of its own:\n%s", sent[0].Text)
	_, err = svc.Verify(ctx, accountstest.TokenFrom(link))
	require.NoError(t, err)

	m.FailNext(1, nil)
	_, err = svc.Register(ctx, accounts.RegisterInput{Email: "bob@example.com", FullName: "Bob", Password: "correct horse"})
	assert.ErrorIs(t, err, accounts.ErrNotify)
	assert.True(t, errors.As(err, new(*mailing.SendError)), "the send error stays in the chain")
}
