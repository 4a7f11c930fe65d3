package mailing

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Recipient is the data a message template sees: {{.Name}} and {{.Email}}.
type Recipient struct {
	Name  string
	Email string
}

// Template is a parsed message, ready to be personalised per recipient.
// It is safe for concurrent use.
type Template struct {
	subject *texttemplate.Template
	body    *htmltemplate.Template
}

// TemplateError says which field of a message does not parse or execute.
type TemplateError struct {
	Field string // "subject" or "body"
	Msg   string
}

func (e *TemplateError) Error() string { return "mailing: " + e.Field + " " + e.Msg }

func asTemplateError(err error, target **TemplateError) bool { return errors.As(err, target) }

// ParseTemplate parses a message's subject (plain text) and body (HTML,
// contextually escaped) and checks that both render for a sample recipient.
func ParseTemplate(m Message) (*Template, error) {
	s, err := texttemplate.New("subject").Option("missingkey=error").Parse(m.Subject)
	if err != nil {
		return nil, &TemplateError{"subject", "is not a valid template: " + cleanTemplateErr(err)}
	}
	b, err := htmltemplate.New("body").Option("missingkey=error").Parse(m.Body)
	if err != nil {
		return nil, &TemplateError{"body", "is not a valid template: " + cleanTemplateErr(err)}
	}
	t := &Template{subject: s, body: b}
	if _, _, err := t.Render(Recipient{Name: "Ann Example", Email: "ann@example.com"}); err != nil {
		return nil, err
	}
	return t, nil
}

// Render personalises the subject and body for r. The subject has line
// breaks folded to spaces; values in the body are HTML-escaped.
func (t *Template) Render(r Recipient) (subject, body string, err error) {
	var sb, bb bytes.Buffer
	if err := t.subject.Execute(&sb, r); err != nil {
		return "", "", &TemplateError{"subject", "cannot be rendered: " + cleanTemplateErr(err)}
	}
	if err := t.body.Execute(&bb, r); err != nil {
		return "", "", &TemplateError{"body", "cannot be rendered: " + cleanTemplateErr(err)}
	}
	subject = strings.Join(strings.Fields(sb.String()), " ")
	return subject, bb.String(), nil
}

// cleanTemplateErr drops the "template: name:" prefix Go puts on errors.
func cleanTemplateErr(err error) string {
	msg := err.Error()
	for _, p := range []string{"template: subject:", "template: body:", "html/template:body:"} {
		msg = strings.TrimPrefix(msg, p)
	}
	return fmt.Sprint(strings.TrimSpace(msg))
}
