// Package accountsmail sends the emails of package accounts (address
// confirmation, password reset, "someone tried to register with your
// address") through a mailing.Mailer, as plain text with an HTML
// alternative.
//
// It is the one place where accounts meets mailing: accounts defines the
// Notifier it needs and never imports mailing (which imports accounts for
// the acting user); this package imports both.
//
//	n, err := accountsmail.New(mailer, accountsmail.Config{From: "noreply@example.com", FromName: "Skychimp"})
//	...
//	svc := accounts.NewService(store, n, accounts.WithBaseURL("https://mail.example.com"))
package accountsmail
