package stats

import (
	"context"
	"fmt"
	"time"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
)

// DefaultDays is the span of the dashboard's chart.
const DefaultDays = 30

// Service is what the host calls for figures and reports. It applies the
// policy, once:
//
//   - Home needs no user: the figures are public.
//   - Dashboard shows a user their own figures, and managers and
//     superusers the whole service's.
//   - MailingReport shows a user reports of their own mailings only
//     (another's is mailing.ErrNotFound), managers and superusers every
//     mailing's.
//   - A content manager has no access to mailing data
//     (mailing.ErrForbidden); no user at all is
//     accounts.ErrUnauthenticated.
//
// Errors wrap the mailing package's sentinels, so a host maps them once.
type Service struct {
	store    Store
	mailings *mailing.Service
	clock    mailing.Clock
}

// NewService returns a Service computing figures with store and checking
// access to mailings with mailings. A nil clock means mailing.SystemClock.
// Give it a ReadModel so that pages do not read the whole ledger.
func NewService(store Store, mailings *mailing.Service, clock mailing.Clock) *Service {
	if clock == nil {
		clock = mailing.SystemClock{}
	}
	return &Service{store: store, mailings: mailings, clock: clock}
}

// Home returns the home page's figures.
func (s *Service) Home(ctx context.Context) (HomeFigures, error) {
	return s.store.HomeFigures(ctx, s.clock.Now().UTC())
}

// viewer returns whose figures the acting user sees: their own (a user),
// or everyone's (0, staff).
func viewer(ctx context.Context) (int64, error) {
	u, err := accounts.MustUserFrom(ctx)
	if err != nil {
		return 0, err
	}
	if u.Blocked {
		return 0, fmt.Errorf("%w: the account is blocked", accounts.ErrUnauthenticated)
	}
	switch u.Role {
	case accounts.RoleUser:
		return u.ID, nil
	case accounts.RoleManager, accounts.RoleSuperuser:
		return 0, nil
	}
	return 0, fmt.Errorf("%w: a %s has no access to mailings", mailing.ErrForbidden, u.Role.Label())
}

// Dashboard is the panel's overview for the acting user.
type Dashboard struct {
	Figures UserFigures
	// Days counts attempts per day in the location asked for, oldest
	// first, ending today; days without attempts are included, as zeros.
	Days []SendCount
}

// Dashboard returns the acting user's figures and their attempts per day
// over the last days days (DefaultDays when days <= 0) in loc (nil: UTC).
// Attempts are grouped by the UTC hour they fall in: in a zone whose
// offset is not whole hours, an attempt within the offset's odd minutes
// of midnight may count on the neighbouring day.
func (s *Service) Dashboard(ctx context.Context, days int, loc *time.Location) (Dashboard, error) {
	owner, err := viewer(ctx)
	if err != nil {
		return Dashboard{}, err
	}
	now := s.clock.Now().UTC()
	fig, err := s.store.UserFigures(ctx, owner, now)
	if err != nil {
		return Dashboard{}, err
	}
	perDay, err := s.sendsPerDay(ctx, SendsFilter{OwnerID: owner}, days, loc, now)
	if err != nil {
		return Dashboard{}, err
	}
	return Dashboard{Figures: fig, Days: perDay}, nil
}

// sendsPerDay groups HourlySends into the last days days of loc.
func (s *Service) sendsPerDay(ctx context.Context, f SendsFilter, days int, loc *time.Location, now time.Time) ([]SendCount, error) {
	if days <= 0 {
		days = DefaultDays
	}
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := now.In(loc).Date()
	out := make([]SendCount, days)
	keys := make([]int, days) // each day's local date as yyyymmdd
	for i := range out {
		out[i].Start = startOfDay(y, m, d-(days-1)+i, loc)
		keys[i] = dateKey(out[i].Start)
	}
	first := out[0].Start
	// Hours starting before first may still hold its early minutes in a
	// zone with a half-hour offset: ask from the hour that contains it.
	f.From, f.To = first.UTC().Truncate(time.Hour), now.Add(time.Microsecond)
	hours, err := s.store.HourlySends(ctx, f)
	if err != nil {
		return nil, err
	}
	// Hours and days are both in time order: walk them together. An hour
	// counts on the local date its start falls on: plainly day i's when it
	// starts 3 hours or more from both of day i's ends (more than any
	// clock change), else as its date says.
	i := 0
	for _, h := range hours {
		inside := i+1 < len(out) && !h.Start.Before(out[i].Start.Add(3*time.Hour)) && h.Start.Before(out[i+1].Start.Add(-3*time.Hour))
		if !inside {
			k := dateKey(h.Start.In(loc))
			for i+1 < len(keys) && keys[i+1] <= k {
				i++
			}
			if keys[i] != k {
				continue // before the first day, or after the last
			}
		}
		out[i].Sent += h.Sent
		out[i].Failed += h.Failed
		out[i].Retried += h.Retried
		out[i].Unknown += h.Unknown
	}
	return out, nil
}

// startOfDay is the first instant of the local date y-m-d (normalised as
// time.Date does) in loc. Where a clock change skips midnight, time.Date
// gives an instant of the day before (Santiago's 2026-09-06 00:00 is
// 09-05 23:00 -04): the day starts at the change instead.
func startOfDay(y int, m time.Month, d int, loc *time.Location) time.Time {
	t := time.Date(y, m, d, 0, 0, 0, 0, loc)
	if want := time.Date(y, m, d, 12, 0, 0, 0, time.UTC); t.Day() != want.Day() {
		_, t = t.ZoneBounds()
	}
	return t
}

// dateKey is t's date as the number yyyymmdd, in t's location.
func dateKey(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// RunCount counts one run's deliveries by state: a bar of the chart of a
// mailing's sends per run.
type RunCount struct {
	RunAt   time.Time
	Sent    int
	Failed  int
	Unknown int
	Pending int // not sent yet, or being sent
}

// Total is every delivery of the run.
func (c RunCount) Total() int { return c.Sent + c.Failed + c.Unknown + c.Pending }

// Report is a mailing's send report.
type Report struct {
	Mailing mailing.Mailing
	// Runs counts each run's deliveries by state, oldest run first (the
	// order of a chart).
	Runs []RunCount
	// Clients is one page of the clients' statuses, by client id, and
	// ClientsTotal the number of clients with any delivery.
	Clients      []ClientStatus
	ClientsTotal int
}

// MailingReport returns the report of a mailing the acting user may read,
// with the page of client statuses o selects.
func (s *Service) MailingReport(ctx context.Context, mailingID int64, o mailing.ListOptions) (Report, error) {
	m, err := s.mailings.GetMailing(ctx, mailingID) // the ownership check
	if err != nil {
		return Report{}, err
	}
	sums, err := s.mailings.RunSummaries(ctx, mailingID)
	if err != nil {
		return Report{}, err
	}
	r := Report{Mailing: m, Runs: make([]RunCount, 0, len(sums))}
	for i := len(sums) - 1; i >= 0; i-- {
		c := sums[i].Counts
		r.Runs = append(r.Runs, RunCount{
			RunAt: sums[i].RunAt, Sent: c[mailing.DeliverySent], Failed: c[mailing.DeliveryFailed],
			Unknown: c[mailing.DeliveryUnknown], Pending: c[mailing.DeliveryPending] + c[mailing.DeliverySending],
		})
	}
	r.Clients, r.ClientsTotal, err = s.store.ClientStatuses(ctx, mailingID, o)
	if err != nil {
		return Report{}, err
	}
	return r, nil
}

// MailingSends counts the attempts of a mailing the acting user may read
// per day, over the last days days in loc (see Dashboard).
func (s *Service) MailingSends(ctx context.Context, mailingID int64, days int, loc *time.Location) ([]SendCount, error) {
	if _, err := s.mailings.GetMailing(ctx, mailingID); err != nil {
		return nil, err
	}
	return s.sendsPerDay(ctx, SendsFilter{MailingID: mailingID}, days, loc, s.clock.Now().UTC())
}
