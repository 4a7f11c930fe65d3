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
//		Blog: content.Blog, Stats: content.Stats, // optional features
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
//   - cross-origin protection on every state-changing request, and under
//     the prefix a POST must show it comes from this site (Sec-Fetch-Site,
//     Origin or a same-host Referer; none of them is 403); SameSite
//     session cookies, installer and menu editor routes closed, the
//     operation log off (it would store passwords), SQL panics turned into
//     logged 500s, nothing printed to stdout per request;
//   - logging out is a POST from a button in the header (GoAdmin's GET
//     logout answers 405 with the button); the footer names the panel
//     only, not GoAdmin or its version;
//   - a Content-Security-Policy on every panel page (csp.go: the login
//     page allows its own script and style by hash; GoAdmin's pages need
//     'unsafe-inline' and 'unsafe-eval', and get nothing from elsewhere);
//   - paging and order parameters checked before GoAdmin reads them (its
//     paginator divides by __pageSize): out of range is 400 with the
//     reason; a refused action answers with its status (404 for an
//     unknown or another user's id, 403, 409), not 200 with an error code;
//   - sign-ins limited per client address (a token bucket: Deps.SignInBurst,
//     then one every Deps.SignInEvery; over it 429 with the reason); the
//     address is the connection's unless Deps.TrustedProxies name the
//     proxy in front;
//   - pages of its own in GoAdmin's layout (custompages.go): a mailing's
//     report with an inline SVG chart and "Resend to failed" (Deps.Stats),
//     the CSV import of clients, and a dashboard with the user's figures
//     and sends per day; the blog table for content managers (Deps.Blog);
//   - a self-contained login page (inline style and script, system fonts:
//     nothing from a third party) and /favicon.ico; lists that fit a
//     1366px screen (GoAdmin's 1600px table width lifted, the less useful
//     fields on detail pages only).
//
// How each route is held to the services' rules, after the guard has
// found the session's user (accounts.SessionUser) and checked that the
// role sees the table (else 404) and may do the operation (else 403); T is
// clients, messages, mailings, deliveries, attempts, users or posts:
//
//	GET  /admin/info/T         rows from the service's List* as the user; ?owner_id= only
//	                           narrows a staff member's view; ?__pk= ids looked up first
//	GET  /admin/info/T/detail  __goadmin_detail_pk looked up with the service's Get* (404)
//	GET  /admin/info/T/edit    __goadmin_edit_pk looked up (404); select options are the
//	                           owner's own messages and clients, from the service
//	POST /admin/edit/T         the form's id looked up (404); saved by Update*, which
//	                           re-checks the owner, the message and every client
//	POST /admin/new/T          saved by Create*: the owner is the user whatever the form
//	                           says; a foreign message or client is "not found"
//	POST /admin/delete/T       every id looked up (404); deleted by Delete*
//	POST /admin/export/T       every id looked up (404); rows from List*
//	POST /admin/update/T       closed (404): no table has single-field edits
//	POST /admin/new|edit/posts the one file allowed anywhere, field "image" of the blog
//	                           form: read into memory and taken out of the form before
//	                           GoAdmin runs (its own upload would store it unchecked), then
//	                           given to blog.Service.SetImage, which checks type, size and
//	                           decoding before writing; a refused image changes nothing
//	GET  /admin/report/ID      a mailing's report: users, managers, superusers (content
//	                           managers 404); ID looked up with GetMailing (another
//	                           user's is 404); figures from stats.Service.MailingReport
//	POST /admin/report/ID/resend  owners and superusers (a manager 403); ID looked up
//	                           (404); one-time form token; mailing.Service.ResendFailed
//	GET  /admin/import/clients users and superusers (others 404)
//	POST /admin/import/clients the same, multipart with one file (bounded), form token;
//	                           clientcsv.Import stores every row or none
//	POST /admin/signin         limited per client address (429 over the limit)
//	POST /admin/logout         ends the session, 303 to the login page (a GET: 405)
//	POST /admin/operation/ID   actions allowed per role (else 404); the handler calls
//	                           the service as the user of its own request; an unknown
//	                           or another user's object 404, not allowed 403, nothing
//	                           to send 409
//	?__page, ?__pageSize,      whole numbers 1-1,000,000 and 1-100, id, asc or desc;
//	?__sort, ?__sort_type      anything else 400 (the report's ?page= too)
//	any POST                   403 without Sec-Fetch-Site, Origin or a same-host Referer
//	anything else              404: installer, menu editor, GoAdmin's own user, role,
//	                           permission, log and site tables, JSON API, plugins
//
// The send log and users tables have no per-object pages (the services
// look them up by list only), so their primary-key routes are 404.
//
// GoAdmin keeps its configuration in process globals: New succeeds once
// per process.
package adminhost
