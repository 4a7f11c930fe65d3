package accountsmail

import (
	"context"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

// Config says who the emails come from.
type Config struct {
	// From is the sender address, e.g. "noreply@mail.example.com". Required.
	From string
	// FromName is the sender's display name; Product when empty.
	FromName string
	// Product is the service's name as written in the emails; "Skychimp"
	// when empty.
	Product string
}

// Notifier is an accounts.Notifier that sends each notice as one email
// through a mailing.Mailer. It is safe for concurrent use when the Mailer is.
type Notifier struct {
	mailer mailing.Mailer
	cfg    Config
}

var _ accounts.Notifier = (*Notifier)(nil)

// New returns a Notifier sending through m. It fails when cfg.From is not
// a plain email address.
func New(m mailing.Mailer, cfg Config) (*Notifier, error) {
	if m == nil {
		return nil, fmt.Errorf("accountsmail: no mailer")
	}
	if a, err := mail.ParseAddress(cfg.From); err != nil || a.Address != strings.TrimSpace(cfg.From) {
		return nil, fmt.Errorf("accountsmail: sender address %q is not a plain email address", cfg.From)
	}
	cfg.From = strings.TrimSpace(cfg.From)
	if cfg.Product == "" {
		cfg.Product = "Skychimp"
	}
	if cfg.FromName == "" {
		cfg.FromName = cfg.Product
	}
	return &Notifier{mailer: m, cfg: cfg}, nil
}

// Notify renders n and sends it. A failed send returns the Mailer's error
// (a *mailing.SendError).
func (s *Notifier) Notify(ctx context.Context, n accounts.Notice) error {
	e, err := s.Render(n)
	if err != nil {
		return err
	}
	if _, err := s.mailer.Send(ctx, e); err != nil {
		return fmt.Errorf("accountsmail: send %s email to user %d: %w", n.Kind, n.User.ID, err)
	}
	return nil
}

// Render returns the email for n without sending it (for previews).
func (s *Notifier) Render(n accounts.Notice) (mailing.Envelope, error) {
	t, ok := templates[n.Kind]
	if !ok {
		return mailing.Envelope{}, fmt.Errorf("accountsmail: no email for notice kind %q", n.Kind)
	}
	d := data{
		Product:   s.cfg.Product,
		Name:      n.User.FullName,
		Email:     n.User.Email,
		Link:      n.Link,
		LoginLink: n.LoginLink,
		Valid:     humanDuration(n.TTL),
		Expires:   n.Expires,
	}
	if d.Name == "" {
		d.Name = "there"
	}
	var subject, text, html strings.Builder
	if err := t.subject.Execute(&subject, d); err != nil {
		return mailing.Envelope{}, fmt.Errorf("accountsmail: render %s subject: %w", n.Kind, err)
	}
	if err := t.text.Execute(&text, d); err != nil {
		return mailing.Envelope{}, fmt.Errorf("accountsmail: render %s text: %w", n.Kind, err)
	}
	if err := t.html.Execute(&html, d); err != nil {
		return mailing.Envelope{}, fmt.Errorf("accountsmail: render %s HTML: %w", n.Kind, err)
	}
	return mailing.Envelope{
		From:     s.cfg.From,
		FromName: s.cfg.FromName,
		To:       n.User.Email,
		ToName:   n.User.FullName,
		Subject:  strings.TrimSpace(subject.String()),
		Text:     text.String(),
		HTML:     html.String(),
		Headers: map[string]string{
			// RFC 3834: an automatic message; auto-responders must not answer it.
			"Auto-Submitted": "auto-generated",
		},
	}, nil
}

// data is what the templates see.
type data struct {
	Product   string
	Name      string // the recipient's full name, or "there"
	Email     string
	Link      string
	LoginLink string
	Valid     string // how long Link works: "48 hours"
	Expires   time.Time
}

// humanDuration writes d for a person: "1 hour", "48 hours", "30 minutes",
// "7 days".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d <= 0:
		return ""
	case d >= 72*time.Hour && d%(24*time.Hour) == 0:
		return plural(int64(d/(24*time.Hour)), "day")
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	}
	return plural(int64((d+time.Minute-1)/time.Minute), "minute")
}

type emailTemplate struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

func mustTemplate(name, subject, text, body string) emailTemplate {
	return emailTemplate{
		subject: texttemplate.Must(texttemplate.New(name + ".subject").Parse(subject)),
		text:    texttemplate.Must(texttemplate.New(name + ".txt").Parse(text)),
		html:    htmltemplate.Must(htmltemplate.New(name + ".html").Parse(htmlHead + body + htmlFoot)),
	}
}

var templates = map[accounts.NoticeKind]emailTemplate{
	accounts.NoticeVerify: mustTemplate("verify",
		`Confirm your email address for {{.Product}}`,
		`Hello {{.Name}},

Someone, hopefully you, created a {{.Product}} account with this email address. To confirm it, open this link:

{{.Link}}

The link works {{with .Valid}}for {{.}} and {{end}}only once. If you did not create the account, ignore this email: an account that is not confirmed cannot be used.

-- 
{{.Product}}
`,
		`<p>Hello {{.Name}},</p>
<p>Someone, hopefully you, created a {{.Product}} account with this email address. To confirm it, use this button:</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:10px 18px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:4px">Confirm my email address</a></p>
<p>Or copy this link into your browser:<br><a href="{{.Link}}">{{.Link}}</a></p>
<p>The link works {{with .Valid}}for {{.}} and {{end}}only once. If you did not create the account, ignore this email: an account that is not confirmed cannot be used.</p>
`),

	accounts.NoticeReset: mustTemplate("reset",
		`Reset your {{.Product}} password`,
		`Hello {{.Name}},

We received a request to reset the password of your {{.Product}} account ({{.Email}}). To choose a new password, open this link:

{{.Link}}

The link works {{with .Valid}}for {{.}} and {{end}}only once. If you did not ask for it, ignore this email: your password stays as it is.

-- 
{{.Product}}
`,
		`<p>Hello {{.Name}},</p>
<p>We received a request to reset the password of your {{.Product}} account ({{.Email}}). To choose a new password, use this button:</p>
<p><a href="{{.Link}}" style="display:inline-block;padding:10px 18px;background:#2563eb;color:#ffffff;text-decoration:none;border-radius:4px">Choose a new password</a></p>
<p>Or copy this link into your browser:<br><a href="{{.Link}}">{{.Link}}</a></p>
<p>The link works {{with .Valid}}for {{.}} and {{end}}only once. If you did not ask for it, ignore this email: your password stays as it is.</p>
`),

	accounts.NoticeAlreadyRegistered: mustTemplate("already_registered",
		`Someone tried to sign up to {{.Product}} with your email address`,
		`Hello {{.Name}},

Someone tried to create a new {{.Product}} account with your email address, {{.Email}}. You already have an account, so nothing was created and nothing about your account changed.
{{with .LoginLink}}
If it was you, log in here:
{{.}}
{{end}}{{with .Link}}
Forgot your password? Ask for a new one here:
{{.}}
{{end}}
If it was not you, you can ignore this email: your account and its password are safe.

-- 
{{.Product}}
`,
		`<p>Hello {{.Name}},</p>
<p>Someone tried to create a new {{.Product}} account with your email address, {{.Email}}. You already have an account, so nothing was created and nothing about your account changed.</p>
{{with .LoginLink}}<p>If it was you, <a href="{{.}}">log in here</a>.</p>
{{end}}{{with .Link}}<p>Forgot your password? <a href="{{.}}">Ask for a new one here</a>.</p>
{{end}}<p>If it was not you, you can ignore this email: your account and its password are safe.</p>
`),
}

const htmlHead = `<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"></head>
<body style="font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1f2937;max-width:560px;margin:0 auto;padding:16px">
`

const htmlFoot = `<p style="color:#6b7280;font-size:13px">{{.Product}}</p>
</body></html>
`
