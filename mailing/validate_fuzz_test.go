package mailing_test

import (
	"encoding/binary"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
)

// Fuzz targets for the validation of what people type into the client,
// message and mailing forms (and send through the API). Run one for longer
// with: go test -run '^$' -fuzz '^FuzzClientValidate$' -fuzztime 1m ./mailing/

// requireFields checks that err is nil or a *ValidationError (matching
// ErrInvalid) naming only fields from allowed, each with a message, and
// returns the fields it names.
func requireFields(tb testing.TB, err error, allowed ...string) []string {
	tb.Helper()
	if err == nil {
		return nil
	}
	require.ErrorIs(tb, err, mailing.ErrInvalid)
	var ve *mailing.ValidationError
	require.ErrorAs(tb, err, &ve, "not a *ValidationError: %v", err)
	require.NotEmpty(tb, ve.Fields, "a ValidationError without fields")
	var names []string
	for _, f := range ve.Fields {
		require.Contains(tb, allowed, f.Field, "unexpected field in %v", err)
		require.NotEmpty(tb, f.Message, "field %q without a message", f.Field)
		names = append(names, f.Field)
	}
	return names
}

// requireStorableText checks what every text column (utf8mb4 in MySQL)
// needs from a value that passed validation.
func requireStorableText(tb testing.TB, field, s string, maxRunes int) {
	tb.Helper()
	require.True(tb, utf8.ValidString(s), "%s %q passed validation but is not UTF-8", field, s)
	require.LessOrEqual(tb, utf8.RuneCountInString(s), maxRunes, "%s passed validation but is too long", field)
}

func FuzzClientValidate(f *testing.F) {
	for _, s := range [][3]string{
		{"ann@example.com", "Ann Archer", "VIP"},
		{"  Ann@Example.COM \t", " Ann ", " note "},
		{"Иван@пример.рф", "Иван Петров", ""},
		{"ann@localhost", "", ""},
		{"Ann <ann@example.com>", "", ""},
		{`"quoted local"@example.com`, "", ""},
		{"ann@[127.0.0.1]", "", ""},
		{"", "no email", ""},
		{"a@b.c", strings.Repeat("n", mailing.MaxNameLen+1), ""},
		{"İ@example.com", "İİ", "K"},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, email, name, comment string) {
		c := mailing.Client{Email: email, Name: name, Comment: comment}
		err := c.Validate()
		requireFields(t, err, "email", "name", "comment")

		// Validate trims, whatever the outcome.
		assert.Equal(t, strings.TrimSpace(email), c.Email)
		assert.Equal(t, strings.TrimSpace(name), c.Name)
		assert.Equal(t, strings.TrimSpace(comment), c.Comment)

		// Validating the result again changes nothing and says the same.
		again := c
		err2 := again.Validate()
		assert.Equal(t, c, again, "a second Validate changed the client")
		assert.Equal(t, err == nil, err2 == nil, "a second Validate disagrees: %v / %v", err, err2)
		if err != nil {
			assert.Equal(t, err.Error(), err2.Error())
			return
		}

		// A valid client is a bare address (no display name), and its
		// normalised form is stable and fits the email_norm column.
		a, perr := mail.ParseAddress(c.Email)
		require.NoError(t, perr, "valid email %q does not parse", c.Email)
		assert.Equal(t, c.Email, a.Address)
		assert.Empty(t, a.Name)
		requireStorableText(t, "email", c.Email, mailing.MaxEmailLen)
		norm := mailing.NormalizeEmail(c.Email)
		assert.Equal(t, norm, mailing.NormalizeEmail(norm), "NormalizeEmail is not idempotent")
		requireStorableText(t, "normalised email", norm, mailing.MaxEmailLen)
		requireStorableText(t, "name", c.Name, mailing.MaxNameLen)
		requireStorableText(t, "lower-cased name", strings.ToLower(c.Name), mailing.MaxNameLen)
		requireStorableText(t, "comment", c.Comment, mailing.MaxCommentLen)
	})
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ann@example.com", " Ann@Example.COM ", "İSTANBUL@EXAMPLE.COM", "\u212a@example.com", "\xff@x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := mailing.NormalizeEmail(s)
		assert.Equal(t, n, mailing.NormalizeEmail(n), "not idempotent")
		assert.Equal(t, n, strings.TrimSpace(n), "not trimmed")
		assert.Equal(t, n, strings.ToLower(n), "not lower-cased")
		// Surrounding space and case never make two addresses differ.
		assert.Equal(t, n, mailing.NormalizeEmail("\t"+s+" "))
		assert.Equal(t, n, mailing.NormalizeEmail(strings.ToLower(s)))
	})
}

func FuzzMessageValidate(f *testing.F) {
	// Plain text and the two fields a template may use; the template
	// language itself has its own target next to template.go.
	for _, s := range [][2]string{
		{"Hello", "<p>Hello</p>"},
		{"  Hello {{.Name}}  ", "<p>Hi {{.Name}}, your address is {{.Email}}</p>"},
		{"", "body"},
		{"subject", "   \n\t "},
		{"two\nlines", "body"},
		{"carriage\rreturn", "body"},
		{strings.Repeat("s", mailing.MaxSubjectLen+1), "body"},
		{"{{.Nope}}", "body"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, subject, body string) {
		if len(body) > mailing.MaxBodyLen+16 {
			t.Skip("bodies over the limit are refused by length alone")
		}
		m := mailing.Message{Subject: subject, Body: body}
		err := m.Validate()
		requireFields(t, err, "subject", "body")
		assert.Equal(t, strings.TrimSpace(subject), m.Subject)
		assert.Equal(t, body, m.Body, "Validate must not change the body")

		again := m
		err2 := again.Validate()
		assert.Equal(t, m, again, "a second Validate changed the message")
		assert.Equal(t, err == nil, err2 == nil, "a second Validate disagrees: %v / %v", err, err2)
		if err != nil {
			return
		}
		assert.NotEmpty(t, m.Subject)
		assert.NotContains(t, m.Subject, "\n")
		assert.NotContains(t, m.Subject, "\r")
		requireStorableText(t, "subject", m.Subject, mailing.MaxSubjectLen)
		assert.NotEmpty(t, strings.TrimSpace(m.Body))
		assert.LessOrEqual(t, len(m.Body), mailing.MaxBodyLen)
		require.True(t, utf8.ValidString(m.Body), "body %q passed validation but is not UTF-8", m.Body)
		// A valid message renders for any recipient.
		tpl, perr := mailing.ParseTemplate(m)
		require.NoError(t, perr)
		_, rerr := tpl.Render(mailing.Recipient{Name: "Zoë \"<b>\"", Email: "z@example.com"})
		assert.NoError(t, rerr)
	})
}

// int64s reads little-endian int64s from b (a fuzzer cannot pass slices).
func int64s(b []byte) []int64 {
	var out []int64
	for len(b) >= 8 {
		out = append(out, int64(binary.LittleEndian.Uint64(b)))
		b = b[8:]
	}
	for _, c := range b { // small ids are the interesting ones: one byte each
		out = append(out, int64(int8(c)))
	}
	return out
}

func FuzzMailingValidate(f *testing.F) {
	day := int64(24 * 3600)
	start := time.Date(2026, 3, 29, 9, 0, 0, 0, time.UTC).Unix()
	type seed struct {
		name       string
		msg        int64
		ids        []byte
		start, end int64
		nanos      uint32
		period, tz string
	}
	for _, s := range []seed{
		{"Weekly news", 1, []byte{1, 2, 3}, start, start + 30*day, 0, "weekly", "Europe/Moscow"},
		{"", 7, []byte{3, 1, 3, 2}, start, start + day, 999_999_999, "daily", ""},
		{"  Spaces  ", 1, []byte{5}, start, start + 365*day, 0, "monthly", " America/New_York "},
		{"", 0, nil, 0, 0, 0, "", ""},
		{"", 1, []byte{0xff, 1}, start, start - 1, 0, "hourly", "Mars/Olympus"},
		{"", 1, []byte{1}, start, start, 0, "daily", "UTC"},
		{"", 1, []byte{1}, -30610224000, 253402300799, 0, "daily", "Local"}, // 1000-01-01 to 9999-12-31
	} {
		f.Add(s.name, s.msg, s.ids, s.start, s.end, s.nanos, s.period, s.tz)
	}
	f.Fuzz(func(t *testing.T, name string, msgID int64, ids []byte, startSec, endSec int64, nanos uint32, period, tz string) {
		in := mailing.Mailing{
			Name: name, MessageID: msgID, ClientIDs: int64s(ids),
			Start: time.Unix(startSec, int64(nanos%1e9)), End: time.Unix(endSec, int64(nanos%1e9)),
			Period: mailing.Period(period), TimeZone: tz,
		}
		idsBefore := slices.Clone(in.ClientIDs)
		m := in
		err := m.Validate()
		requireFields(t, err, "name", "message_id", "client_ids", "start", "end", "period", "time_zone")
		assert.Equal(t, idsBefore, in.ClientIDs, "Validate changed the caller's ClientIDs slice")

		// Normalisation happens whatever the outcome.
		assert.True(t, slices.IsSorted(m.ClientIDs), "ClientIDs not sorted: %v", m.ClientIDs)
		assert.Equal(t, m.ClientIDs, slices.Compact(slices.Clone(m.ClientIDs)), "ClientIDs not unique")
		assert.Equal(t, time.UTC, m.Start.Location())
		assert.Equal(t, time.UTC, m.End.Location())
		assert.Zero(t, m.Start.Nanosecond())
		assert.Zero(t, m.End.Nanosecond())

		again := m
		err2 := again.Validate()
		assert.Equal(t, m, again, "a second Validate changed the mailing")
		assert.Equal(t, err == nil, err2 == nil, "a second Validate disagrees: %v / %v", err, err2)
		if err != nil {
			return
		}
		assert.Positive(t, m.MessageID)
		require.NotEmpty(t, m.ClientIDs)
		assert.Positive(t, m.ClientIDs[0])
		assert.True(t, m.End.After(m.Start))
		assert.True(t, m.Period.Valid())
		requireStorableText(t, "name", m.Name, mailing.MaxNameLen)
		// Both stores keep times as "YYYY-MM-DD hh:mm:ss" (MySQL DATETIME:
		// years 1000 to 9999): a valid mailing can be stored and read back.
		for _, tm := range []time.Time{m.Start, m.End} {
			assert.True(t, tm.Year() >= 1000 && tm.Year() <= 9999, "%s passed validation but cannot be stored", tm)
		}

		// A valid mailing has a schedule whose first run is its start.
		s, serr := m.Schedule()
		require.NoError(t, serr)
		first, ok := s.Due(m.Start)
		require.True(t, ok, "no run due at the start")
		assert.True(t, first.Equal(m.Start), "first run %s, start %s", first, m.Start)
	})
}
