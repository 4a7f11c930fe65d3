// Package outbox implements mailing.Mailer by writing each message as an
// .eml file to a directory, for development and for running without an SMTP
// server. The bytes are exactly those smtpmailer would send.
//
//	ob, err := outbox.New("var/outbox", "news@example.com", "News")
//	reply, err := ob.Send(ctx, envelope) // reply.Text: "written to 20260102T150405.000000000Z-ann@example.org-1a2b3c4d.eml"
package outbox
