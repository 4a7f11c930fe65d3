package mailing_test

import (
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/newsletter"
	"github.com/skychimp/skychimp/mailing"
)

// FuzzTemplate: any subject and body either parse, and then render for
// any recipient within the limits and in bounded time, or are refused
// with a *TemplateError; never a panic, never a hang.
func FuzzTemplate(f *testing.F) {
	for _, seed := range [][2]string{
		{newsletter.Subject, newsletter.HTML},
		{"Hi {{.Name}}", "<p>{{if .Name}}Dear {{.Name}}{{else}}Hello{{end}}</p>"},
		{"{{.Name | default \"friend\" | upper}}", `<a href="{{.UnsubscribeURL}}">x</a> {{lower .Email}}`},
		{"x", "{{range 10000}}{{range 10000}}x{{end}}{{end}}"},
		{"x", `{{define "a"}}{{template "a" .}}{{end}}{{template "a" .}}`},
		{"x", `{{printf "%999999999d" 1}}`},
		{"x", `<a href="https://e.example/?e={{.Email}}">{{.Name}}</a>`},
		{"{{", "}}"},
		{"x", "<script>{{.Name}}</script><style>{{.Email}}</style>"},
		{"x", "{{/* c */}}{{- .Name -}} {{$x := .Email}}{{$x}}"},
	} {
		f.Add(seed[0], seed[1], "Ann", "ann@example.com")
	}
	f.Fuzz(func(t *testing.T, subject, body, name, email string) {
		start := time.Now()
		tmpl, err := mailing.ParseTemplate(mailing.Message{Subject: subject, Body: body})
		if err != nil {
			var te *mailing.TemplateError
			require.True(t, errors.As(err, &te), "%T %v", err, err)
			return
		}
		c, err := tmpl.Render(mailing.Recipient{Name: name, Email: email, UnsubscribeURL: "https://example.com/u/x"})
		assert.Less(t, time.Since(start), 5*time.Second)
		if err != nil {
			var te *mailing.TemplateError
			require.True(t, errors.As(err, &te), "%T %v", err, err)
			return
		}
		assert.LessOrEqual(t, len(c.Subject), mailing.MaxRenderedSubject)
		assert.LessOrEqual(t, len(c.HTML), mailing.MaxRenderedBody)
		assert.NotContains(t, c.Subject, "\n")
		if utf8.ValidString(body) && utf8.ValidString(name) && utf8.ValidString(email) {
			assert.True(t, utf8.ValidString(c.Text), "the text part of UTF-8 input is UTF-8")
		}
	})
}
