// Package adminhost is the admin panel: GoAdmin (v1.2.26, adminlte theme)
// on gin, wired to the domain services. It holds no business rules and no
// SQL on the service's tables: every list, form, delete and action calls
// mailing.Service or accounts.Service as the logged-in user, so ownership
// and "a manager cannot edit" hold whatever URL, query parameter or form
// is sent.
//
// Quick start, in the binary (the database migrated with Schema among the
// other packages' schemas):
//
//	acc := accounts.NewService(store, notifier, adminhost.AccountOptions(db, dialect, log)...)
//	h, err := adminhost.New(ctx, adminhost.Deps{
//		DB: db, DatabaseURL: "sqlite:skychimp.db",
//		Mailings: mailings, Accounts: acc, Engine: engine, Logger: log,
//	})
//	if err != nil { ... }
//	srv := &http.Server{Addr: "127.0.0.1:8080", Handler: h.Handler()}
//
// What the host adds to GoAdmin:
//
//   - a guard in front of every GoAdmin route (see guard.go): an
//     allow-list of routes, the session's user re-read from accounts on
//     every request, tables and actions per role, and every primary key a
//     request names checked through the services (another user's object is
//     404) before GoAdmin runs;
//   - GoAdmin's own tables created by goose migrations on SQLite and
//     MySQL (Schema); roles, permissions and menus written from code at
//     every start; users copied from accounts (AccountOptions keeps them
//     in step; a block deletes the user's sessions at once);
//   - the configuration in code always wins over goadmin_site;
//   - cross-origin protection on every state-changing request, SameSite
//     session cookies, installer and menu editor routes closed, the
//     operation log off (it would store passwords), SQL panics turned into
//     logged 500s, nothing printed to stdout per request.
//
// GoAdmin keeps its configuration in process globals: New succeeds once
// per process.
package adminhost
