package stats

import (
	"context"
	"time"

	"github.com/skychimp/skychimp/mailing"
)

// HomeFigures are the figures of the public home page.
type HomeFigures struct {
	// Mailings counts every mailing.
	Mailings int
	// Active counts the mailings running now: enabled, and now between
	// their start and end (both included).
	Active int
	// UniqueClients counts the distinct client email addresses (compared
	// case-insensitively, across all owners) that belong to at least one
	// mailing.
	UniqueClients int
	// NextChange is the earliest start (after now) or end (not before now)
	// of an enabled mailing: the next moment at which Active changes by
	// the clock alone. Zero when there is none.
	NextChange time.Time
}

// UserFigures are one owner's figures (or everyone's) for the panel's
// dashboard.
type UserFigures struct {
	Mailings int // the owner's mailings
	Active   int // of them, running now (as HomeFigures.Active)
	Clients  int // the owner's clients
	// UniqueClients counts the distinct emails of the owner's clients that
	// belong to at least one of the owner's mailings.
	UniqueClients int
	// The owner's ledger rows (one per mailing, run and client) by state;
	// Pending includes those being sent.
	Sent, Failed, Unknown, Pending int
	// AsOf is when the ledger counts were read: zero when they were read
	// for this call (a Store), the snapshot's time from a ReadModel.
	AsOf time.Time
}

// Catalog is what the figures need of the mailings and clients, for every
// owner at once: a ReadModel keeps it in memory and computes HomeFigures
// and UserFigures from it at any moment.
type Catalog struct {
	// Mailings holds every mailing's owner, enabled flag and window, in
	// any order.
	Mailings []MailingWindow
	// Owners counts each owner's clients; owners without clients may be
	// left out.
	Owners map[int64]ClientCounts
	// UniqueClients is HomeFigures.UniqueClients: distinct emails across
	// all owners of the clients in at least one mailing.
	UniqueClients int
}

// MailingWindow is one mailing as the figures see it.
type MailingWindow struct {
	OwnerID    int64
	Enabled    bool
	Start, End time.Time
}

// ClientCounts are UserFigures.Clients and UserFigures.UniqueClients of
// one owner.
type ClientCounts struct {
	Clients, UniqueClients int
}

// Ledger counts every owner's deliveries by state and attempts per hour:
// what a ReadModel keeps of the ledger.
type Ledger struct {
	// Deliveries counts each owner's ledger rows by state; owners without
	// any may be left out.
	Deliveries map[int64]DeliveryCounts
	// Hours counts each owner's attempts from the since given to
	// Store.Ledger per UTC hour, in hour order, leaving out hours (and
	// owners) without any.
	Hours map[int64][]SendCount
}

// DeliveryCounts are ledger rows by state, as in UserFigures: Pending
// includes those being sent.
type DeliveryCounts struct {
	Sent, Failed, Unknown, Pending int
}

// Add counts n rows in state st.
func (c *DeliveryCounts) Add(st mailing.DeliveryState, n int) {
	switch st {
	case mailing.DeliverySent:
		c.Sent += n
	case mailing.DeliveryFailed:
		c.Failed += n
	case mailing.DeliveryUnknown:
		c.Unknown += n
	default:
		c.Pending += n
	}
}

// SendCount counts attempts by outcome in one period (an hour from the
// store, a day from the Service) starting at Start.
type SendCount struct {
	Start time.Time
	// Sent: delivered (2xx). Failed: refused for good (5xx). Retried:
	// refused for now (4xx, network errors), tried again later. Unknown:
	// lost after the message was handed over.
	Sent, Failed, Retried, Unknown int
}

// Total is every attempt counted.
func (c SendCount) Total() int { return c.Sent + c.Failed + c.Retried + c.Unknown }

// Add counts n attempts with outcome o.
func (c *SendCount) Add(o mailing.Outcome, n int) {
	switch o {
	case mailing.OutcomeSent:
		c.Sent += n
	case mailing.OutcomePermanent:
		c.Failed += n
	case mailing.OutcomeTemporary:
		c.Retried += n
	case mailing.OutcomeUnknown:
		c.Unknown += n
	}
}

// SendsFilter selects the attempts of HourlySends. Zero ids do not filter.
type SendsFilter struct {
	OwnerID   int64
	MailingID int64
	From, To  time.Time // attempts with From <= At < To
}

// ClientStatus is where one client stands in one mailing: its latest run
// and its last attempt, with the mail server's answer.
type ClientStatus struct {
	ClientID int64
	Email    string // as when the run was created (kept after the client is deleted)
	Name     string
	RunAt    time.Time             // the client's latest run of the mailing
	State    mailing.DeliveryState // its delivery's state in that run
	Attempts int                   // attempts made in that run
	// The last attempt to this client in any run of the mailing; LastAt is
	// zero when none was made yet.
	LastAt   time.Time
	LastRun  time.Time
	Outcome  mailing.Outcome
	Code     int    // SMTP reply code, 0 when the server did not answer
	Response string // the server's text, or the error
}

// Store computes the figures from the mailing data. It only reads.
//
// The contract, for implementers (statstest.TestStore checks it):
//   - Every method honours ctx and is safe for concurrent use.
//   - An owner id of 0 means every owner.
//   - Times come back in UTC.
type Store interface {
	// HomeFigures computes the home page's figures at now.
	HomeFigures(ctx context.Context, now time.Time) (HomeFigures, error)
	// UserFigures computes an owner's figures at now.
	UserFigures(ctx context.Context, ownerID int64, now time.Time) (UserFigures, error)
	// HourlySends counts the attempts matching f per UTC hour, in hour
	// order, leaving out hours without any.
	HourlySends(ctx context.Context, f SendsFilter) ([]SendCount, error)
	// ClientStatuses returns the status of every client with a delivery in
	// the mailing, ordered by client id, and the number of such clients
	// without paging. A missing mailing has none.
	ClientStatuses(ctx context.Context, mailingID int64, o mailing.ListOptions) ([]ClientStatus, int, error)
	// Catalog reads every mailing's window and every owner's client
	// counts, from one snapshot of the data.
	Catalog(ctx context.Context) (Catalog, error)
	// Ledger counts every owner's deliveries by state and their attempts
	// at or after since per UTC hour, from one snapshot of the data.
	Ledger(ctx context.Context, since time.Time) (Ledger, error)
}
