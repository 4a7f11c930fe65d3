package mailing_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/internal/newsletter"
	"github.com/skychimp/skychimp/mailing"
)

func TestTemplateRender(t *testing.T) {
	tmpl, err := mailing.ParseTemplate(mailing.Message{Subject: newsletter.Subject, Body: newsletter.HTML})
	require.NoError(t, err)
	for _, r := range []mailing.Recipient{
		{Name: "Анна Иванова", Email: "anna@example.ru", UnsubscribeURL: "https://example.com/u/abc"},
		{Name: "Tom & <Jerry>", Email: "tom+x@example.org", UnsubscribeURL: "https://example.com/u/x?y=1&z=2"},
		{Name: "", Email: "nobody@example.org"},
	} {
		c, err := tmpl.Render(r)
		require.NoError(t, err)
		assert.Equal(t, r.Name+", here is what happened this week", c.Subject)
		assert.Contains(t, c.HTML, "because "+strings.ReplaceAll(r.Email, "+", "&#43;")+" is subscribed")
		// The text derived from the template's source is what converting
		// this recipient's HTML gives.
		want, err := mailing.TextOf(c.HTML)
		require.NoError(t, err)
		assert.Equal(t, want, c.Text)
		assert.Contains(t, c.Text, "Hello "+r.Name+",")
		assert.Contains(t, c.Text, "because "+r.Email+" is subscribed")
	}
}

func TestTemplateTextFallback(t *testing.T) {
	// An action inside a URL is escaped by HTML: the text is converted from
	// each rendered body instead of derived once, and stays right.
	tmpl, err := mailing.ParseTemplate(mailing.Message{Subject: "Hi", Body: `<p>Hi {{.Name}}</p><a href="https://example.com/prefs?email={{.Email}}">Preferences</a>`})
	require.NoError(t, err)
	c, err := tmpl.Render(mailing.Recipient{Name: "Ann", Email: "ann+news@example.org"})
	require.NoError(t, err)
	assert.Equal(t, "Hi Ann\n\nPreferences (https://example.com/prefs?email=ann%2bnews%40example.org)\n", c.Text)
}

func TestTemplateFunctions(t *testing.T) {
	tmpl, err := mailing.ParseTemplate(mailing.Message{
		Subject: `{{.Name | default "friend" | upper}}`,
		Body:    `<p>{{if .Name}}Dear {{trim .Name}}{{else}}Hello{{end}}, {{lower .Email}}</p>`,
	})
	require.NoError(t, err)
	c, err := tmpl.Render(mailing.Recipient{Email: "ANN@EXAMPLE.ORG"})
	require.NoError(t, err)
	assert.Equal(t, "FRIEND", c.Subject)
	assert.Equal(t, "Hello, ann@example.org\n", c.Text)
	c, err = tmpl.Render(mailing.Recipient{Name: "  Ann ", Email: "a@example.org"})
	require.NoError(t, err)
	assert.Equal(t, "ANN", c.Subject)
	assert.Equal(t, "Dear Ann, a@example.org\n", c.Text)
}

func TestTemplateLimits(t *testing.T) {
	for name, tc := range map[string]struct {
		subject, body string
		want          string
	}{
		"RangeBomb":      {"Hi", "{{range 10000}}{{range 10000}}x{{end}}{{end}}", "body uses range (a loop), which messages do not support"},
		"RangeInSubject": {"{{range 3}}x{{end}}", "Hi", "subject uses range (a loop)"},
		"Printf":         {"Hi", `{{printf "%999999999d" 1}}`, `body calls the function "printf", which messages do not support`},
		"Define":         {"Hi", `{{define "a"}}{{template "a" .}}{{template "a" .}}{{end}}{{template "a" .}}`, "body defines sub-templates"},
		"Block":          {"Hi", `{{block "a" .}}x{{end}}`, "body defines sub-templates"},
		"Call":           {"Hi", `{{call .Name}}`, `body calls the function "call"`},
		"TooLong":        {"Hi", strings.Repeat("x", mailing.MaxTemplateSize+1), "body is longer than 256 KB"},
		"UnknownField":   {"Hi", "{{.Phone}}", "body cannot be rendered"},
		"Syntax":         {"Hi {{.Name", "x", "subject is not a valid template"},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, err := mailing.ParseTemplate(mailing.Message{Subject: tc.subject, Body: tc.body})
			assert.Less(t, time.Since(start), 100*time.Millisecond)
			var te *mailing.TemplateError
			require.True(t, errors.As(err, &te), "%v", err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	t.Run("RenderedBodyTooLarge", func(t *testing.T) {
		tmpl, err := mailing.ParseTemplate(mailing.Message{Subject: "Hi", Body: strings.Repeat("{{.Name}}", 20000)})
		require.NoError(t, err)
		_, err = tmpl.Render(mailing.Recipient{Name: strings.Repeat("n", 200)})
		assert.ErrorContains(t, err, "body renders to more than 2 MB (the limit)")
	})
	t.Run("RenderedSubjectTooLong", func(t *testing.T) {
		tmpl, err := mailing.ParseTemplate(mailing.Message{Subject: "{{.Name}}{{.Name}}", Body: "x"})
		require.NoError(t, err)
		_, err = tmpl.Render(mailing.Recipient{Name: strings.Repeat("n", 600)})
		assert.ErrorContains(t, err, "subject is longer than 998 characters when rendered")
	})
}

func BenchmarkTemplateRender(b *testing.B) {
	tmpl, err := mailing.ParseTemplate(mailing.Message{Subject: newsletter.Subject, Body: newsletter.HTML})
	require.NoError(b, err)
	r := mailing.Recipient{Name: "Client 1", Email: "client1@example.org", UnsubscribeURL: "https://example.com/u/abc"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(r); err != nil {
			b.Fatal(err)
		}
	}
}
