package mailing

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// Client is a recipient of mailings, owned by one user.
type Client struct {
	ID        int64
	OwnerID   int64
	Email     string // unique per owner, compared case-insensitively
	Name      string
	Comment   string
	CreatedAt time.Time
}

// Message is the subject and body a mailing sends, owned by one user.
// Subject and body are Go templates (text/template for the subject,
// html/template for the body) that may use {{.Name}} and {{.Email}}.
type Message struct {
	ID        int64
	OwnerID   int64
	Subject   string
	Body      string
	CreatedAt time.Time
}

// Period is how often a mailing repeats.
type Period string

// The periods a mailing may repeat with.
const (
	Daily   Period = "daily"
	Weekly  Period = "weekly"
	Monthly Period = "monthly"
)

// Periods lists the valid periods in display order.
var Periods = []Period{Daily, Weekly, Monthly}

// Valid reports whether p is a known period.
func (p Period) Valid() bool { return p == Daily || p == Weekly || p == Monthly }

// Status is where a mailing stands in time.
type Status string

// The statuses of a mailing; they follow from its window and the time.
const (
	StatusCreated   Status = "created"   // before its start
	StatusRunning   Status = "running"   // between start and end
	StatusCompleted Status = "completed" // after its end
)

// Mailing sends one message to a set of its owner's clients, every period,
// at the start's local time of day in TimeZone, from Start until End.
type Mailing struct {
	ID        int64
	OwnerID   int64
	Name      string // optional label shown in lists; defaults to the message subject
	MessageID int64
	ClientIDs []int64 // sorted, unique
	Start     time.Time
	End       time.Time
	Period    Period
	TimeZone  string // IANA name, e.g. "Europe/Moscow"; "" means UTC
	Enabled   bool   // a manager may switch a mailing off; a disabled mailing sends nothing

	// NextRun is the next occurrence the engine must process, maintained by
	// the Service and the engine; zero when nothing is left to send.
	NextRun time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// DeliveryState is where one delivery (mailing x run x client) stands.
//
//	pending ──claim+start──▶ sending ──2xx──────────────▶ sent
//	   ▲                        ├──5xx───────────────────▶ failed
//	   └────4xx / network error─┤   (retry at NextAttemptAt; failed after MaxAttempts)
//	                            └──lost after DATA / lease──▶ unknown
//	                               expired while sending
//
// A pending delivery may be leased by one engine (LeaseOwner, LeaseUntil)
// before it starts; a lease that expires makes it claimable again. A delivery
// moves to sending (committed) before its SMTP transaction begins, so a crash
// can leave at most the in-flight messages unknown, never silently skipped and
// never sent twice.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending DeliveryState = "pending"
	DeliverySending DeliveryState = "sending"
	DeliverySent    DeliveryState = "sent"
	DeliveryFailed  DeliveryState = "failed"
	DeliveryUnknown DeliveryState = "unknown"
)

// Final reports whether no further attempt will be made.
func (s DeliveryState) Final() bool {
	return s == DeliverySent || s == DeliveryFailed || s == DeliveryUnknown
}

// Delivery is one row of the ledger: one client's copy of one run of a
// mailing. (MailingID, RunAt, ClientID) is unique: the idempotency key.
type Delivery struct {
	ID            int64
	MailingID     int64
	OwnerID       int64
	RunAt         time.Time // the scheduled time of the run (UTC)
	ClientID      int64
	Email         string // the client's address when the run was created
	Name          string // the client's name when the run was created
	State         DeliveryState
	Attempts      int       // attempts made so far
	NextAttemptAt time.Time // a pending delivery is not tried before this time
	LeaseOwner    string    // the engine holding the delivery; "" when none
	LeaseUntil    time.Time // the lease ends at this time
	LastError     string    // the last server answer or error, for lists
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Outcome is the result of one attempt.
type Outcome string

// The outcomes of an attempt.
const (
	OutcomeSent      Outcome = "sent"      // the server accepted the message (2xx)
	OutcomeTemporary Outcome = "temporary" // 4xx or a network error before the body: retried
	OutcomePermanent Outcome = "permanent" // 5xx: never retried
	OutcomeUnknown   Outcome = "unknown"   // lost after the body: the server may have it
)

// Succeeded reports whether the attempt delivered the message.
func (o Outcome) Succeeded() bool { return o == OutcomeSent }

// Attempt is one try to deliver one delivery: the send log.
type Attempt struct {
	ID         int64
	DeliveryID int64
	MailingID  int64
	ClientID   int64
	RunAt      time.Time
	At         time.Time // when the attempt started
	Duration   time.Duration
	Outcome    Outcome
	Code       int    // SMTP reply code, 0 when the server did not answer
	Response   string // the server's text, or the error
}

// Status returns the mailing's status at now.
func (m Mailing) Status(now time.Time) Status {
	switch {
	case now.Before(m.Start):
		return StatusCreated
	case now.After(m.End):
		return StatusCompleted
	default:
		return StatusRunning
	}
}

// DisplayName is Name, or a fallback that identifies the mailing.
func (m Mailing) DisplayName() string {
	if m.Name != "" {
		return m.Name
	}
	return fmt.Sprintf("Mailing #%d", m.ID)
}

// Limits on field lengths, shared by validation and the SQL schemas.
const (
	MaxEmailLen   = 254
	MaxNameLen    = 200
	MaxCommentLen = 2000
	MaxSubjectLen = 300
	MaxBodyLen    = 1 << 20
)

// NormalizeEmail trims an address and lower-cases it for comparison.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validateEmail returns "" when s is a plain addr-spec (no display name).
func validateEmail(s string) string {
	switch {
	case s == "":
		return "is required"
	case len(s) > MaxEmailLen:
		return fmt.Sprintf("must be at most %d characters", MaxEmailLen)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return fmt.Sprintf("%q is not a valid email address", s)
	}
	return ""
}

// Validate checks a client's own fields (not ownership): the email and the
// full name are required. It trims spaces.
func (c *Client) Validate() error {
	var v validator
	c.Email = strings.TrimSpace(c.Email)
	c.Name = strings.TrimSpace(c.Name)
	c.Comment = strings.TrimSpace(c.Comment)
	if msg := validateEmail(c.Email); msg != "" {
		v.add("email", msg)
	}
	if c.Name == "" {
		v.add("name", "is required")
	} else {
		v.text("name", c.Name, MaxNameLen)
	}
	v.text("comment", c.Comment, MaxCommentLen)
	return v.err()
}

// Validate checks a message's own fields, including that subject and body
// are valid templates.
func (m *Message) Validate() error {
	var v validator
	m.Subject = strings.TrimSpace(m.Subject)
	switch {
	case m.Subject == "":
		v.add("subject", "is required")
	case !utf8.ValidString(m.Subject):
		v.add("subject", notUTF8)
	case utf8.RuneCountInString(m.Subject) > MaxSubjectLen:
		v.add("subject", fmt.Sprintf("must be at most %d characters", MaxSubjectLen))
	case strings.ContainsAny(m.Subject, "\r\n"):
		v.add("subject", "must be a single line")
	}
	switch {
	case strings.TrimSpace(m.Body) == "":
		v.add("body", "is required")
	case len(m.Body) > MaxBodyLen:
		v.add("body", fmt.Sprintf("must be at most %d bytes", MaxBodyLen))
	case !utf8.ValidString(m.Body):
		v.add("body", notUTF8)
	}
	if len(v.fields) == 0 {
		if _, err := ParseTemplate(*m); err != nil {
			var te *TemplateError
			if ok := asTemplateError(err, &te); ok {
				v.add(te.Field, te.Msg)
			} else {
				v.add("body", err.Error())
			}
		}
	}
	return v.err()
}

// Validate checks a mailing's own fields (not ownership of its message and
// clients, which the Service checks). It normalises times to UTC seconds and
// sorts and de-duplicates ClientIDs.
func (m *Mailing) Validate() error {
	var v validator
	m.Name = strings.TrimSpace(m.Name)
	v.text("name", m.Name, MaxNameLen)
	v.check(m.MessageID > 0, "message_id", "is required")
	m.ClientIDs = uniqueSorted(m.ClientIDs)
	v.check(len(m.ClientIDs) > 0, "client_ids", "must name at least one client")
	for _, id := range m.ClientIDs {
		if id <= 0 {
			v.add("client_ids", fmt.Sprintf("contains an invalid id %d", id))
			break
		}
	}
	switch {
	case m.Start.IsZero():
		v.add("start", "is required")
	case m.End.IsZero():
		v.add("end", "is required")
	case !storableYear(m.Start):
		v.add("start", yearRange)
	case !storableYear(m.End):
		v.add("end", yearRange)
	case !m.End.After(m.Start):
		v.add("end", "must be after the start")
	}
	m.Start = m.Start.UTC().Truncate(time.Second)
	m.End = m.End.UTC().Truncate(time.Second)
	if !m.Period.Valid() {
		if m.Period == "" {
			v.add("period", "is required")
		} else {
			v.add("period", fmt.Sprintf("%q is not a period: use daily, weekly or monthly", string(m.Period)))
		}
	}
	m.TimeZone = strings.TrimSpace(m.TimeZone)
	if _, err := LoadLocation(m.TimeZone); err != nil {
		v.add("time_zone", fmt.Sprintf("%q is not a known time zone", m.TimeZone))
	}
	return v.err()
}

// yearRange is the message for a time the stores cannot keep: both write
// "YYYY-MM-DD hh:mm:ss" in UTC, and MySQL's DATETIME holds years 1000 to 9999.
const yearRange = "must be between the years 1000 and 9999"

func storableYear(t time.Time) bool {
	y := t.UTC().Year()
	return y >= 1000 && y <= 9999
}

// ValidateAt is Validate and the rule that needs the time: the end must
// lie after now, or the mailing would never send anything. The Service
// applies it to every new mailing and to every change of a mailing's end.
func (m *Mailing) ValidateAt(now time.Time) error {
	err := m.Validate()
	ve := &ValidationError{}
	if err != nil && !errors.As(err, &ve) {
		return err
	}
	if !m.End.IsZero() && !m.End.After(now) && ve.Field("end") == "" {
		ve.Fields = append(ve.Fields, FieldError{"end", "is already past: a mailing must end in the future, or it would never send"})
	}
	if len(ve.Fields) == 0 {
		return nil
	}
	return ve
}

func uniqueSorted(ids []int64) []int64 {
	if len(ids) == 0 {
		return nil
	}
	out := append([]int64(nil), ids...)
	sortInt64s(out)
	j := 0
	for i := range out {
		if i == 0 || out[i] != out[j-1] {
			out[j] = out[i]
			j++
		}
	}
	return out[:j]
}
