// Package accounts defines the people who use the service: users, their
// roles, and the context helpers that carry the acting user through a
// request. Other packages (mailing, blog, stats) read the actor from the
// context and apply their own policy; accounts itself never imports them.
package accounts
