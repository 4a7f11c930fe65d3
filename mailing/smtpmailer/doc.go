// Package smtpmailer implements mailing.Mailer over SMTP with
// github.com/wneessen/go-mail: a bounded pool of reused connections,
// TLS/STARTTLS/AUTH from configuration, a per-send deadline that also ends
// at once when the caller's context ends, RFC 5322/2047 messages with
// Message-ID, Date and one-click unsubscribe headers, and server replies
// mapped to mailing.Reply or a *mailing.SendError that says whether the
// failure is temporary, permanent or unknown.
//
// Quick start:
//
//	cfg, err := smtpmailer.ParseURL("smtp://user:pass@mail.example.com:587?tls=starttls&connections=8")
//	if err != nil { ... }
//	m, err := smtpmailer.New(cfg)
//	if err != nil { ... }
//	defer m.Close()
//	reply, err := m.Send(ctx, mailing.Envelope{From: "news@example.com", To: "ann@example.org", Subject: "Hello", HTML: "<p>Hi</p>"})
//
// Render builds the exact bytes Send transmits, for writers such as
// mailing/outbox.
package smtpmailer
