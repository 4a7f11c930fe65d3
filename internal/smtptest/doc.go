// Package smtptest runs a real SMTP server in-process on 127.0.0.1, for
// tests and benchmarks of SMTP clients.
//
// The server is built on github.com/emersion/go-smtp. It records what it
// receives (or only counts it, in sink mode) and can misbehave on demand:
// slow or missing replies, 4xx and 5xx replies for chosen recipients and
// tries, a connection dropped after the message body, a garbage greeting,
// and refused connections (Stop, then Restart on the same port).
//
// Quick start in a test:
//
//	srv := smtptest.Start(t)
//	srv.AddRule(smtptest.Rule{Rcpt: "a@example.com", Tries: 2, Fault: smtptest.Reject(451, "try later")})
//	// ... send mail to srv.Host(), srv.Port() ...
//	msgs := srv.Messages()
package smtptest
