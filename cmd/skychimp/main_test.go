package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/internal/app"
	"github.com/skychimp/skychimp/internal/smtptest"
	"github.com/skychimp/skychimp/internal/sqldb"
	"github.com/skychimp/skychimp/mailing"
	mailingsql "github.com/skychimp/skychimp/mailing/sqlstore"
)

// runCLI runs the command line with only the given environment.
func runCLI(t *testing.T, environ map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{getenv: func(k string) string { return environ[k] }, stdin: strings.NewReader(""), stdout: &out, stderr: &errb}
	code = run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "s.db")
	code, out, errOut := runCLI(t, nil, "migrate", "--db", db)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "mailing: applied")

	code, out, _ = runCLI(t, nil, "migrate", "--db", db)
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "applied", "a second run changes nothing")
	assert.Contains(t, out, "up to date")

	t.Run("EnvironmentGivesTheDatabase", func(t *testing.T) {
		code, out, _ := runCLI(t, map[string]string{"SKYCHIMP_DB": db}, "migrate")
		require.Equal(t, 0, code)
		assert.Contains(t, out, "up to date")
	})
	t.Run("BadValue", func(t *testing.T) {
		code, _, errOut := runCLI(t, nil, "migrate", "--db", "nonsense")
		assert.Equal(t, exitUsage, code)
		assert.Equal(t, "skychimp: database \"nonsense\": want sqlite:PATH or mysql:DSN\n", errOut, "one clear line")
	})
	t.Run("Unreachable", func(t *testing.T) {
		code, _, errOut := runCLI(t, nil, "migrate", "--db", "mysql:root:secret@tcp(127.0.0.1:1)/x")
		assert.Equal(t, exitUsage, code)
		assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
		assert.Contains(t, errOut, "127.0.0.1:1")
		assert.NotContains(t, errOut, "secret", "never the password")
	})
}

func TestUsage(t *testing.T) {
	code, _, errOut := runCLI(t, nil)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "usage: skychimp")
	code, _, errOut = runCLI(t, nil, "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Equal(t, "skychimp: unknown command \"frobnicate\" (run skychimp help)\n", errOut)
	code, _, errOut = runCLI(t, nil, "send", "--due", "--mailing", "3")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "not both")
	code, _, errOut = runCLI(t, nil, "send", "--mailing", "x")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "want a mailing id")
	code, out, _ := runCLI(t, nil, "version")
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "skychimp "))
}

// seedDue creates n clients of user 1 and a mailing due now in the database.
func seedDue(t *testing.T, dbURL string, n int) mailing.Mailing {
	t.Helper()
	ctx := context.Background()
	db, d, err := sqldb.OpenURL(ctx, dbURL)
	require.NoError(t, err)
	defer db.Close()
	_, err = app.Migrate(ctx, db, d)
	require.NoError(t, err)
	svc := mailing.NewService(mailingsql.New(db, d), nil)
	me := accounts.WithUser(ctx, accounts.User{ID: 1, Role: accounts.RoleUser})
	var ids []int64
	for i := range n {
		c, err := svc.CreateClient(me, mailing.Client{Email: fmt.Sprintf("c%d-%d@example.com", time.Now().UnixNano(), i), Name: fmt.Sprint("Client ", i)})
		require.NoError(t, err)
		ids = append(ids, c.ID)
	}
	msg, err := svc.CreateMessage(me, mailing.Message{Subject: "Hi {{.Name}}", Body: "<p>Hello</p>"})
	require.NoError(t, err)
	m, err := svc.CreateMailing(me, mailing.Mailing{MessageID: msg.ID, ClientIDs: ids,
		Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour), Period: mailing.Daily})
	require.NoError(t, err)
	return m
}

type sendSummary struct {
	mailing.Summary
	Mailer string `json:"mailer"`
	Error  string `json:"error"`
}

func TestSendDueToSMTP(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "s.db")
	seedDue(t, dbURL, 5)
	srv := smtptest.Start(t)
	environ := map[string]string{
		"SKYCHIMP_DB":          dbURL,
		"SKYCHIMP_SMTP":        fmt.Sprintf("smtp://%s?timeout=2s&dial_timeout=2s", srv.Addr()),
		"SKYCHIMP_SECRET_FILE": filepath.Join(dir, "secret"),
	}
	code, out, errOut := runCLI(t, environ, "send", "--due", "--json")
	require.Equal(t, 0, code, errOut)
	var sum sendSummary
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	assert.Equal(t, 5, sum.Sent)
	assert.Equal(t, int64(5), srv.Accepted())
	msgs := srv.Messages()
	require.NotEmpty(t, msgs)
	assert.Contains(t, string(msgs[0].Data), "List-Unsubscribe: <http://127.0.0.1:8080/unsubscribe/")

	code, out, _ = runCLI(t, environ, "send", "--due")
	require.Equal(t, 0, code)
	assert.Equal(t, "sent 0, failed 0, retried later 0, unknown 0 (runs opened 0, via SMTP "+srv.Addr()+")\nnothing left to send\n", out, "nothing twice")
}

func TestSendToStoppedServerFinishesAndRecords(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "s.db")
	m := seedDue(t, dbURL, 12)
	srv := smtptest.Start(t)
	require.NoError(t, srv.Stop())
	environ := map[string]string{
		"SKYCHIMP_DB":          dbURL,
		"SKYCHIMP_SMTP":        fmt.Sprintf("smtp://%s?timeout=300ms&dial_timeout=300ms", srv.Addr()),
		"SKYCHIMP_SECRET_FILE": filepath.Join(dir, "secret"),
	}
	code, out, errOut := runCLI(t, environ, "send", "--mailing", fmt.Sprint(m.ID), "--json")
	assert.Equal(t, exitFailure, code, "not everything went out")
	assert.Contains(t, errOut, "some deliveries were not sent")
	var sum sendSummary
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	assert.True(t, sum.BreakerOpen, "the breaker stopped hammering the dead server")
	assert.Equal(t, 12, sum.Retried+sum.Deferred)
	assert.Positive(t, sum.Retried)

	// Every failure is in the send log.
	ctx := context.Background()
	db, d, err := sqldb.OpenURL(ctx, dbURL)
	require.NoError(t, err)
	defer db.Close()
	attempts, total, err := mailingsql.New(db, d).ListAttempts(ctx, mailing.AttemptFilter{MailingID: m.ID})
	require.NoError(t, err)
	assert.Equal(t, sum.Retried, total)
	for _, a := range attempts {
		assert.Equal(t, mailing.OutcomeTemporary, a.Outcome)
		assert.NotEmpty(t, a.Response)
	}

	// The state of the run, in words: what waits for a retry, and when.
	code, out, _ = runCLI(t, environ, "send", "--mailing", fmt.Sprint(m.ID))
	assert.Equal(t, exitFailure, code)
	assert.Regexp(t, `the run of \d{4}-\d\d-\d\d \d\d:\d\d UTC is not final: 0 sent; left: .*\d+ waiting for a retry \(next at \d\d:\d\d:\d\d UTC\)`, out)
}

func TestSendWithoutSMTPWritesTheOutbox(t *testing.T) {
	dir := t.TempDir()
	dbURL := "sqlite:" + filepath.Join(dir, "s.db")
	m := seedDue(t, dbURL, 2)
	environ := map[string]string{"SKYCHIMP_DB": dbURL, "SKYCHIMP_OUTBOX": filepath.Join(dir, "out"), "SKYCHIMP_SECRET_FILE": filepath.Join(dir, "secret")}
	code, out, errOut := runCLI(t, environ, "send", "--mailing", fmt.Sprint(m.ID))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "sent 2")
	files, err := filepath.Glob(filepath.Join(dir, "out", "*.eml"))
	require.NoError(t, err)
	assert.Len(t, files, 2)
}
