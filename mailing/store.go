package mailing

import (
	"context"
	"time"
)

// Store keeps the mailing domain: clients, messages, mailings and the
// delivery ledger with its attempts.
//
// The contract, for implementers (mailingtest.TestStore checks it):
//   - Every method honours ctx and is safe for concurrent use, also from
//     several processes sharing one database.
//   - Stores filter; they apply no ownership policy (the Service does).
//     A filter's OwnerID of 0 means every owner.
//   - A missing row is an error wrapping ErrNotFound; a unique-key clash
//     (client email per owner, case-insensitive) or a reference still in use
//     (a message used by a mailing) wraps ErrConflict.
//   - Times come back in UTC, truncated to whole microseconds.
//   - Create methods set ID and CreatedAt (and UpdatedAt) on the value given
//     and store a copy; callers' slices are never retained.
type Store interface {
	ClientStore
	MessageStore
	MailingStore
	Ledger
}

// ListOptions pages a list. Limit 0 means no limit.
type ListOptions struct {
	Limit  int
	Offset int
}

// ClientFilter selects clients. Zero fields do not filter.
type ClientFilter struct {
	OwnerID int64
	IDs     []int64 // only these ids (an empty non-nil slice selects nothing)
	Search  string  // case-insensitive substring of email or name
	ListOptions
}

// ClientStore keeps clients.
type ClientStore interface {
	// CreateClient stores c, setting c.ID and c.CreatedAt. A second client of
	// the same owner with the same email (case-insensitive) is ErrConflict.
	CreateClient(ctx context.Context, c *Client) error
	// CreateClients stores all of cs in one transaction, or none of them
	// (ErrConflict names the first clashing email).
	CreateClients(ctx context.Context, cs []*Client) error
	// GetClient returns the client with id, or ErrNotFound.
	GetClient(ctx context.Context, id int64) (Client, error)
	// UpdateClient saves email, name and comment of c.ID (ErrNotFound,
	// ErrConflict). OwnerID and CreatedAt are not changed.
	UpdateClient(ctx context.Context, c Client) error
	// DeleteClient removes the client and takes it out of every mailing's
	// client set. Ledger rows keep their copy of its email. ErrNotFound.
	DeleteClient(ctx context.Context, id int64) error
	// ListClients returns the clients matching f ordered by id, and the
	// number that match f without paging.
	ListClients(ctx context.Context, f ClientFilter) ([]Client, int, error)
}

// MessageFilter selects messages. Zero fields do not filter.
type MessageFilter struct {
	OwnerID int64
	IDs     []int64
	ListOptions
}

// MessageStore keeps messages.
type MessageStore interface {
	// CreateMessage stores m, setting m.ID and m.CreatedAt.
	CreateMessage(ctx context.Context, m *Message) error
	// GetMessage returns the message with id, or ErrNotFound.
	GetMessage(ctx context.Context, id int64) (Message, error)
	// UpdateMessage saves subject and body of m.ID (ErrNotFound).
	UpdateMessage(ctx context.Context, m Message) error
	// DeleteMessage removes a message; ErrConflict while a mailing uses it.
	DeleteMessage(ctx context.Context, id int64) error
	// ListMessages returns the messages matching f ordered by id, and the
	// number that match f without paging.
	ListMessages(ctx context.Context, f MessageFilter) ([]Message, int, error)
}

// MailingFilter selects mailings. Zero fields do not filter.
type MailingFilter struct {
	OwnerID   int64
	IDs       []int64
	MessageID int64
	ClientID  int64 // mailings whose client set holds this client
	ListOptions
}

// MailingStore keeps mailings and their client sets.
type MailingStore interface {
	// CreateMailing stores m with its client set in one transaction, setting
	// m.ID, m.CreatedAt and m.UpdatedAt. A MessageID or ClientID that does
	// not exist is ErrNotFound.
	CreateMailing(ctx context.Context, m *Mailing) error
	// GetMailing returns the mailing with its sorted ClientIDs, or ErrNotFound.
	GetMailing(ctx context.Context, id int64) (Mailing, error)
	// UpdateMailing saves every field of m.ID but OwnerID and CreatedAt,
	// replacing the client set, in one transaction. It sets UpdatedAt.
	// ErrNotFound as for CreateMailing.
	UpdateMailing(ctx context.Context, m *Mailing) error
	// SetMailingEnabled switches a mailing on or off and sets its NextRun
	// (zero clears it). ErrNotFound.
	SetMailingEnabled(ctx context.Context, id int64, enabled bool, nextRun time.Time, now time.Time) error
	// DeleteMailing removes a mailing with its ledger and attempts. ErrNotFound.
	DeleteMailing(ctx context.Context, id int64) error
	// ListMailings returns the mailings matching f ordered by id (with their
	// ClientIDs), and the number that match f without paging.
	ListMailings(ctx context.Context, f MailingFilter) ([]Mailing, int, error)
}

// RunPlan asks the ledger to open one run of a mailing.
type RunPlan struct {
	MailingID int64
	RunAt     time.Time // the occurrence being opened
	// Expect is the mailing's NextRun as the caller read it. The plan is
	// applied only while the stored NextRun still equals it, so two engines
	// that read the same due mailing open its run once. ErrConflict otherwise.
	Expect time.Time
	// Next becomes the mailing's NextRun (zero: nothing left to send).
	Next time.Time
	Now  time.Time
	// Limit is how many deliveries OpenRun creates at once; 0 means all.
	// The rest are created by ExtendRun, so that sending can start before
	// a large run is wholly in the ledger.
	Limit int
}

// RunRef names one run (occurrence) of a mailing.
type RunRef struct {
	MailingID int64
	RunAt     time.Time
}

// ClaimRequest asks for pending deliveries to lease.
type ClaimRequest struct {
	Owner     string        // a unique name for the claiming engine instance
	Now       time.Time     // the current time
	Lease     time.Duration // how long the claim lasts
	Limit     int           // at most this many
	MailingID int64         // only this mailing's deliveries; 0 means any
}

// Result is the end of one attempt, applied to its delivery.
type Result struct {
	Attempt Attempt // DeliveryID set; ID is assigned by the store
	// State is the delivery's new state: sent, failed or unknown; or pending
	// to retry at NextAttemptAt.
	State         DeliveryState
	NextAttemptAt time.Time
}

// DeliveryFilter selects ledger rows. Zero fields do not filter.
type DeliveryFilter struct {
	OwnerID   int64
	MailingID int64
	ClientID  int64
	RunAt     time.Time
	States    []DeliveryState
	ListOptions
}

// AttemptFilter selects attempts. Zero fields do not filter.
type AttemptFilter struct {
	OwnerID    int64
	MailingID  int64
	DeliveryID int64
	ClientID   int64
	ListOptions
}

// Backlog is what is left of some deliveries at one moment.
type Backlog struct {
	Counts map[DeliveryState]int // all the deliveries selected, by state
	// Retry counts the pending deliveries waiting for their next attempt
	// (NextAttemptAt after now); NextRetry is the earliest of them.
	Retry     int
	NextRetry time.Time
	// Leased counts the pending and sending deliveries held by a lease that
	// has not ended (and whose engine lives); LeaseEnds is when the last of
	// those leases ends.
	Leased    int
	LeaseEnds time.Time
}

// Final says whether nothing is left to do: no delivery pending or sending.
func (b Backlog) Final() bool {
	return b.Counts[DeliveryPending] == 0 && b.Counts[DeliverySending] == 0
}

// BacklogFilter selects the deliveries of Ledger.Backlog.
type BacklogFilter struct {
	MailingID int64     // 0: every mailing
	RunAt     time.Time // zero: every run
	// Open counts only deliveries still pending or sending.
	Open bool
}

// RunSummary counts one run's deliveries by state.
type RunSummary struct {
	MailingID int64
	RunAt     time.Time
	Counts    map[DeliveryState]int
}

// Ledger is the delivery ledger the engine drives.
type Ledger interface {
	// DueMailings returns enabled mailings whose NextRun is set and not after
	// now, oldest NextRun first, at most limit (0: all). Their ClientIDs
	// are not loaded (nil): a due mailing may have millions.
	DueMailings(ctx context.Context, now time.Time, limit int) ([]Mailing, error)
	// OpenRun moves the mailing's NextRun from p.Expect to p.Next, records
	// the run p.RunAt as being opened, and creates a pending delivery for
	// each of the first p.Limit clients (by id; 0: all) of the mailing's
	// client set, in one transaction; rows that already exist are left
	// alone (the ledger is idempotent). It returns the number of rows
	// created. Opening a run that exists again starts its opening over, so
	// clients added to the set since are added to the run. A zero p.RunAt
	// creates no rows and only moves NextRun (a mailing that ended while
	// no engine ran). ErrConflict when NextRun no longer equals p.Expect;
	// ErrNotFound.
	OpenRun(ctx context.Context, p RunPlan) (int, error)
	// ExtendRun goes on opening run r: in one transaction it creates
	// pending deliveries for up to limit (0: all) more clients of the
	// mailing's set, those with the next ids after the last client opened,
	// and says whether the run is now wholly open (no client of the set
	// follows). A run that is wholly open, or unknown, creates nothing and
	// is done. Several engines may extend one run at once: each client
	// still gets one delivery.
	ExtendRun(ctx context.Context, r RunRef, limit int, now time.Time) (created int, done bool, err error)
	// OpeningRuns returns the runs not wholly open, of enabled mailings
	// (only mailingID's when it is not 0), oldest first: those an engine
	// must go on opening, also after another engine stopped half-way.
	OpeningRuns(ctx context.Context, mailingID int64) ([]RunRef, error)
	// ClaimDeliveries leases up to r.Limit pending deliveries that are due
	// (NextAttemptAt not after r.Now) and not leased by anyone else (no
	// lease, an expired one, or one whose engine's heartbeat has run out),
	// of enabled mailings whose End is not before
	// r.Now, oldest first. A claimed delivery stays pending, with LeaseOwner
	// and LeaseUntil set. Two concurrent claims never return the same row.
	ClaimDeliveries(ctx context.Context, r ClaimRequest) ([]Delivery, error)
	// StartDeliveries moves the given deliveries, leased by owner, from
	// pending to sending, in one transaction, and returns the ids it moved:
	// a delivery whose lease was lost (expired and taken by another owner),
	// or whose mailing has since been disabled or has ended (End before now),
	// is left out, stays pending, and must not be sent. It also counts the
	// attempt.
	StartDeliveries(ctx context.Context, owner string, ids []int64, now time.Time) ([]int64, error)
	// FinishDeliveries records every result's attempt and moves its delivery
	// from sending to the result's state, in one transaction, clearing the
	// lease. Attempts are always recorded; a delivery no longer held by owner
	// is left as it is.
	FinishDeliveries(ctx context.Context, owner string, results []Result) error
	// AdvanceDeliveries records results as FinishDeliveries does, then
	// starts ids as StartDeliveries does, in one transaction, and returns
	// the ids it started. The engine group-commits with it: a send's result
	// is durable before the worker that sent it starts another, so no more
	// deliveries are ever in sending than the engine has workers.
	AdvanceDeliveries(ctx context.Context, owner string, results []Result, ids []int64, now time.Time) ([]int64, error)
	// Heartbeat records that engine name lives until until (registering it
	// the first time). While an engine's heartbeat has not run out, its
	// leases last as their ClaimRequest.Lease said; once it has run out
	// (until is before now), they are over: ClaimDeliveries may take its
	// pending deliveries and ExpireSending ends its sends at once. An owner
	// that never sent a heartbeat keeps plain leases.
	Heartbeat(ctx context.Context, name string, until, now time.Time) error
	// RetireEngine removes engine name's heartbeat, on a clean stop after
	// its leases were released or finished.
	RetireEngine(ctx context.Context, name string) error
	// ReleaseDeliveries drops owner's lease on pending deliveries it claimed
	// but will not start (a cancelled pass), so others may claim them at once.
	ReleaseDeliveries(ctx context.Context, owner string, ids []int64) error
	// RequeueFailed moves the failed deliveries of one run of a mailing back
	// to pending, due at now, with no lease and their attempt count reset,
	// so the engine tries them again ("resend to failed"). Their earlier
	// attempts stay in the log. It returns how many were moved.
	RequeueFailed(ctx context.Context, mailingID int64, runAt, now time.Time) (int, error)
	// ExpireSending marks deliveries stuck in sending with a lease that ended
	// before now, or whose engine's heartbeat has run out, as unknown,
	// recording an attempt that says so, and returns how many. Their engine
	// died mid-send: the server may have the message.
	ExpireSending(ctx context.Context, now time.Time) (int, error)
	// ListDeliveries returns matching ledger rows ordered by id, and the
	// number that match without paging.
	ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, int, error)
	// ListAttempts returns matching attempts ordered by id, and the number
	// that match without paging.
	ListAttempts(ctx context.Context, f AttemptFilter) ([]Attempt, int, error)
	// Backlog says what is left at now of the deliveries f selects.
	Backlog(ctx context.Context, f BacklogFilter, now time.Time) (Backlog, error)
	// RunSummaries counts each run's deliveries by state for one mailing,
	// newest run first.
	RunSummaries(ctx context.Context, mailingID int64) ([]RunSummary, error)
}

// ExpireResponse is the Response of the attempt every Store's ExpireSending
// records for a send whose engine died mid-way.
const ExpireResponse = "engine stopped during the send (lease expired); the server may have accepted the message"
