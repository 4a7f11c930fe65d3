// Package examples shows how to embed the skychimp mailing engine in your
// own program. The runnable examples in this package use the test doubles
// of mailingtest (no database, no SMTP server, no sleeping); the program
// in examples/embed wires the real pieces: SQLite, the outbox or an SMTP
// server, and the go-quartz scheduler.
package examples
