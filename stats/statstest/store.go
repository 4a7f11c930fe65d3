package statstest

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/stats"
)

// Store is a stats.Store computed in Go from any mailing.Store through its
// list methods: the reference the SQL store is checked against, and a
// working double (over mailingtest.MemStore) for tests of code that uses
// stats. It reads everything on every call: fine for tests, not for
// production data.
type Store struct {
	m mailing.Store
}

var _ stats.Store = (*Store)(nil)

// New returns the figures of m.
func New(m mailing.Store) *Store { return &Store{m: m} }

func active(m mailing.Mailing, now time.Time) bool {
	return m.Enabled && m.Status(now) == mailing.StatusRunning
}

// HomeFigures computes the home page's figures at now.
func (s *Store) HomeFigures(ctx context.Context, now time.Time) (stats.HomeFigures, error) {
	ms, _, err := s.m.ListMailings(ctx, mailing.MailingFilter{})
	if err != nil {
		return stats.HomeFigures{}, err
	}
	f := stats.HomeFigures{Mailings: len(ms)}
	for _, m := range ms {
		if active(m, now) {
			f.Active++
		}
		if !m.Enabled {
			continue
		}
		for _, t := range []time.Time{m.Start, m.End} {
			if (t.After(now) || t.Equal(now) && t.Equal(m.End)) && (f.NextChange.IsZero() || t.Before(f.NextChange)) {
				f.NextChange = t
			}
		}
	}
	f.UniqueClients, err = s.uniqueEmails(ctx, ms)
	return f, err
}

// uniqueEmails counts the distinct normalised emails of the clients of ms.
func (s *Store) uniqueEmails(ctx context.Context, ms []mailing.Mailing) (int, error) {
	ids := []int64{}
	for _, m := range ms {
		ids = append(ids, m.ClientIDs...)
	}
	cs, _, err := s.m.ListClients(ctx, mailing.ClientFilter{IDs: ids})
	if err != nil {
		return 0, err
	}
	emails := map[string]bool{}
	for _, c := range cs {
		emails[mailing.NormalizeEmail(c.Email)] = true
	}
	return len(emails), nil
}

// UserFigures computes an owner's figures at now.
func (s *Store) UserFigures(ctx context.Context, ownerID int64, now time.Time) (stats.UserFigures, error) {
	ms, _, err := s.m.ListMailings(ctx, mailing.MailingFilter{OwnerID: ownerID})
	if err != nil {
		return stats.UserFigures{}, err
	}
	f := stats.UserFigures{Mailings: len(ms)}
	for _, m := range ms {
		if active(m, now) {
			f.Active++
		}
	}
	if f.UniqueClients, err = s.uniqueEmails(ctx, ms); err != nil {
		return f, err
	}
	if _, f.Clients, err = s.m.ListClients(ctx, mailing.ClientFilter{OwnerID: ownerID, ListOptions: mailing.ListOptions{Limit: 1}}); err != nil {
		return f, err
	}
	ds, _, err := s.m.ListDeliveries(ctx, mailing.DeliveryFilter{OwnerID: ownerID})
	if err != nil {
		return f, err
	}
	var c stats.DeliveryCounts
	for _, d := range ds {
		c.Add(d.State, 1)
	}
	f.Sent, f.Failed, f.Unknown, f.Pending = c.Sent, c.Failed, c.Unknown, c.Pending
	return f, nil
}

// HourlySends counts the attempts matching f per UTC hour.
func (s *Store) HourlySends(ctx context.Context, f stats.SendsFilter) ([]stats.SendCount, error) {
	as, _, err := s.m.ListAttempts(ctx, mailing.AttemptFilter{OwnerID: f.OwnerID, MailingID: f.MailingID})
	if err != nil {
		return nil, err
	}
	byHour := map[time.Time]*stats.SendCount{}
	for _, a := range as {
		if a.At.Before(f.From) || !a.At.Before(f.To) {
			continue
		}
		h := a.At.UTC().Truncate(time.Hour)
		c := byHour[h]
		if c == nil {
			c = &stats.SendCount{Start: h}
			byHour[h] = c
		}
		c.Add(a.Outcome, 1)
	}
	out := make([]stats.SendCount, 0, len(byHour))
	for _, c := range byHour {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b stats.SendCount) int { return a.Start.Compare(b.Start) })
	return out, nil
}

// ClientStatuses returns the status of every client of the mailing's
// ledger.
func (s *Store) ClientStatuses(ctx context.Context, mailingID int64, o mailing.ListOptions) ([]stats.ClientStatus, int, error) {
	ds, _, err := s.m.ListDeliveries(ctx, mailing.DeliveryFilter{MailingID: mailingID})
	if err != nil {
		return nil, 0, err
	}
	as, _, err := s.m.ListAttempts(ctx, mailing.AttemptFilter{MailingID: mailingID})
	if err != nil {
		return nil, 0, err
	}
	latest := map[int64]mailing.Delivery{}
	for _, d := range ds {
		l, ok := latest[d.ClientID]
		if !ok || d.RunAt.After(l.RunAt) || d.RunAt.Equal(l.RunAt) && d.ID > l.ID {
			latest[d.ClientID] = d
		}
	}
	last := map[int64]mailing.Attempt{}
	for _, a := range as {
		l, ok := last[a.ClientID]
		if !ok || a.At.After(l.At) || a.At.Equal(l.At) && a.ID > l.ID {
			last[a.ClientID] = a
		}
	}
	out := make([]stats.ClientStatus, 0, len(latest))
	for id, d := range latest {
		cs := stats.ClientStatus{ClientID: id, Email: d.Email, Name: d.Name, RunAt: d.RunAt, State: d.State, Attempts: d.Attempts}
		if a, ok := last[id]; ok {
			cs.LastAt, cs.LastRun, cs.Outcome, cs.Code, cs.Response = a.At, a.RunAt, a.Outcome, a.Code, a.Response
		}
		out = append(out, cs)
	}
	slices.SortFunc(out, func(a, b stats.ClientStatus) int { return cmp.Compare(a.ClientID, b.ClientID) })
	total := len(out)
	if o.Offset > 0 {
		out = out[min(o.Offset, len(out)):]
	}
	if o.Limit > 0 && o.Limit < len(out) {
		out = out[:o.Limit]
	}
	return out, total, nil
}

// Catalog reads every mailing's window and every owner's client counts.
func (s *Store) Catalog(ctx context.Context) (stats.Catalog, error) {
	ms, _, err := s.m.ListMailings(ctx, mailing.MailingFilter{})
	if err != nil {
		return stats.Catalog{}, err
	}
	c := stats.Catalog{Mailings: make([]stats.MailingWindow, 0, len(ms)), Owners: map[int64]stats.ClientCounts{}}
	byOwner := map[int64][]mailing.Mailing{}
	for _, m := range ms {
		c.Mailings = append(c.Mailings, stats.MailingWindow{OwnerID: m.OwnerID, Enabled: m.Enabled, Start: m.Start, End: m.End})
		byOwner[m.OwnerID] = append(byOwner[m.OwnerID], m)
	}
	if c.UniqueClients, err = s.uniqueEmails(ctx, ms); err != nil {
		return stats.Catalog{}, err
	}
	cs, _, err := s.m.ListClients(ctx, mailing.ClientFilter{})
	if err != nil {
		return stats.Catalog{}, err
	}
	for _, cl := range cs {
		cc := c.Owners[cl.OwnerID]
		cc.Clients++
		c.Owners[cl.OwnerID] = cc
	}
	for owner, ms := range byOwner {
		n, err := s.uniqueEmails(ctx, ms)
		if err != nil {
			return stats.Catalog{}, err
		}
		if n > 0 {
			cc := c.Owners[owner]
			cc.UniqueClients = n
			c.Owners[owner] = cc
		}
	}
	return c, nil
}

// Ledger counts every owner's deliveries by state and attempts per hour
// from since.
func (s *Store) Ledger(ctx context.Context, since time.Time) (stats.Ledger, error) {
	ds, _, err := s.m.ListDeliveries(ctx, mailing.DeliveryFilter{})
	if err != nil {
		return stats.Ledger{}, err
	}
	l := stats.Ledger{Deliveries: map[int64]stats.DeliveryCounts{}, Hours: map[int64][]stats.SendCount{}}
	owners := map[int64]bool{}
	for _, d := range ds {
		c := l.Deliveries[d.OwnerID]
		c.Add(d.State, 1)
		l.Deliveries[d.OwnerID] = c
		owners[d.OwnerID] = true
	}
	for owner := range owners {
		hours, err := s.HourlySends(ctx, stats.SendsFilter{OwnerID: owner, From: since, To: maxTime})
		if err != nil {
			return stats.Ledger{}, err
		}
		if len(hours) > 0 {
			l.Hours[owner] = hours
		}
	}
	return l, nil
}

// maxTime is later than any attempt.
var maxTime = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
