package stats_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
	"github.com/skychimp/skychimp/stats"
	"github.com/skychimp/skychimp/stats/statstest"
)

var (
	owner1    = accounts.User{ID: 1, Role: accounts.RoleUser}
	owner2    = accounts.User{ID: 2, Role: accounts.RoleUser}
	manager   = accounts.User{ID: 50, Role: accounts.RoleManager}
	superUser = accounts.User{ID: 51, Role: accounts.RoleSuperuser}
	writer    = accounts.User{ID: 52, Role: accounts.RoleContentManager}
	blocked   = accounts.User{ID: 1, Role: accounts.RoleUser, Blocked: true}
)

func as(u accounts.User) context.Context { return accounts.WithUser(context.Background(), u) }

type fixture struct {
	*statstest.Fixture
	clock    *mailingtest.FakeClock
	mailings *mailing.Service
	svc      *stats.Service
}

// newFixture seeds statstest's fixture in a MemStore, with the clock at
// the seeded sends' end plus 55 minutes (2026-03-02 10:00 UTC).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	m := mailingtest.NewMemStore()
	f := &fixture{Fixture: statstest.NewFixture(t, m, statstest.New(m))}
	f.Seed(t)
	f.clock = mailingtest.NewFakeClock(statstest.Run2.Add(time.Hour))
	f.mailings = mailing.NewService(m, f.clock)
	f.svc = stats.NewService(f.S, f.mailings, f.clock)
	return f
}

func TestHome(t *testing.T) {
	f := newFixture(t)
	got, err := f.svc.Home(context.Background())
	require.NoError(t, err, "no user needed")
	assert.Equal(t, stats.HomeFigures{Mailings: 4, Active: 2, UniqueClients: 4, NextChange: f.M3.End}, got,
		"M1 and M3 run at 2026-03-02 10:00")
}

func TestDashboard(t *testing.T) {
	f := newFixture(t)
	t.Run("User", func(t *testing.T) {
		d, err := f.svc.Dashboard(as(owner1), 30, nil)
		require.NoError(t, err)
		assert.Equal(t, stats.UserFigures{Mailings: 2, Active: 1, Clients: 3, UniqueClients: 3, Sent: 1, Failed: 1, Unknown: 1, Pending: 1}, d.Figures)
		require.Len(t, d.Days, 30)
		today := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
		assert.Equal(t, today, d.Days[29].Start, "the last day is today")
		assert.Equal(t, today.AddDate(0, 0, -29), d.Days[0].Start)
		assert.Equal(t, stats.SendCount{Start: today.AddDate(0, 0, -1), Sent: 1, Retried: 1, Failed: 1}, d.Days[28])
		assert.Equal(t, stats.SendCount{Start: today, Unknown: 1}, d.Days[29])
		for _, day := range d.Days[:28] {
			assert.Zero(t, day.Total(), day.Start)
		}
	})
	t.Run("OtherUserSeesOwn", func(t *testing.T) {
		d, err := f.svc.Dashboard(as(owner2), 7, nil)
		require.NoError(t, err)
		assert.Equal(t, 2, d.Figures.Mailings)
		assert.Len(t, d.Days, 7)
		for _, day := range d.Days {
			assert.Zero(t, day.Total(), "owner 1's sends are not owner 2's")
		}
	})
	t.Run("StaffSeeEverything", func(t *testing.T) {
		for _, u := range []accounts.User{manager, superUser} {
			d, err := f.svc.Dashboard(as(u), 0, nil)
			require.NoError(t, err)
			assert.Equal(t, 4, d.Figures.Mailings, u.Role)
			assert.Equal(t, 6, d.Figures.Clients, u.Role)
			assert.Len(t, d.Days, stats.DefaultDays)
		}
	})
	t.Run("TimeZone", func(t *testing.T) {
		hawaii, err := time.LoadLocation("Pacific/Honolulu") // UTC-10
		require.NoError(t, err)
		d, err := f.svc.Dashboard(as(owner1), 3, hawaii)
		require.NoError(t, err)
		require.Len(t, d.Days, 3)
		// It is 2026-03-02 00:00 in Honolulu: run 1's first two attempts
		// (09:01 and 09:02 UTC on March 1) fell on February 28 there.
		assert.Equal(t, time.Date(2026, 3, 2, 0, 0, 0, 0, hawaii), d.Days[2].Start)
		assert.Equal(t, stats.SendCount{Start: time.Date(2026, 2, 28, 0, 0, 0, 0, hawaii), Sent: 1, Retried: 1}, d.Days[0])
		assert.Equal(t, stats.SendCount{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, hawaii), Failed: 1, Unknown: 1}, d.Days[1])
		assert.Zero(t, d.Days[2].Total())
	})
	t.Run("Refused", func(t *testing.T) {
		_, err := f.svc.Dashboard(context.Background(), 30, nil)
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated)
		_, err = f.svc.Dashboard(as(blocked), 30, nil)
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated)
		_, err = f.svc.Dashboard(as(writer), 30, nil)
		assert.ErrorIs(t, err, mailing.ErrForbidden)
	})
}

func TestMailingReport(t *testing.T) {
	f := newFixture(t)
	t.Run("Owner", func(t *testing.T) {
		r, err := f.svc.MailingReport(as(owner1), f.M1.ID, mailing.ListOptions{})
		require.NoError(t, err)
		assert.Equal(t, f.M1.ID, r.Mailing.ID)
		assert.Equal(t, []stats.RunCount{
			{RunAt: statstest.Run1, Sent: 1, Failed: 1},
			{RunAt: statstest.Run2, Unknown: 1, Pending: 1},
		}, r.Runs, "oldest run first")
		assert.Equal(t, 2, r.Runs[0].Total())
		assert.Equal(t, 2, r.ClientsTotal)
		require.Len(t, r.Clients, 2)
		assert.Equal(t, f.Ann.ID, r.Clients[0].ClientID)
		assert.Equal(t, mailing.OutcomeSent, r.Clients[0].Outcome)
		assert.Equal(t, 250, r.Clients[0].Code)
		assert.Equal(t, "2.0.0 OK queued", r.Clients[0].Response)
		assert.Equal(t, mailing.DeliveryUnknown, r.Clients[1].State)

		page, err := f.svc.MailingReport(as(owner1), f.M1.ID, mailing.ListOptions{Limit: 1, Offset: 1})
		require.NoError(t, err)
		assert.Equal(t, 2, page.ClientsTotal)
		require.Len(t, page.Clients, 1)
		assert.Equal(t, f.Bob.ID, page.Clients[0].ClientID)
	})
	t.Run("Staff", func(t *testing.T) {
		for _, u := range []accounts.User{manager, superUser} {
			r, err := f.svc.MailingReport(as(u), f.M1.ID, mailing.ListOptions{})
			require.NoError(t, err, u.Role)
			assert.Len(t, r.Runs, 2)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := f.svc.MailingReport(as(owner2), f.M1.ID, mailing.ListOptions{})
		assert.ErrorIs(t, err, mailing.ErrNotFound, "another user's mailing does not exist for them")
		_, err = f.svc.MailingReport(as(owner1), 404, mailing.ListOptions{})
		assert.ErrorIs(t, err, mailing.ErrNotFound)
	})
	t.Run("Refused", func(t *testing.T) {
		_, err := f.svc.MailingReport(as(writer), f.M1.ID, mailing.ListOptions{})
		assert.ErrorIs(t, err, mailing.ErrForbidden)
		_, err = f.svc.MailingReport(context.Background(), f.M1.ID, mailing.ListOptions{})
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated)
	})
	t.Run("NoRunsYet", func(t *testing.T) {
		r, err := f.svc.MailingReport(as(owner2), f.M3.ID, mailing.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, r.Runs)
		assert.Empty(t, r.Clients)
		assert.Zero(t, r.ClientsTotal)
	})
}

func TestMailingSends(t *testing.T) {
	f := newFixture(t)
	days, err := f.svc.MailingSends(as(owner1), f.M1.ID, 2, nil)
	require.NoError(t, err)
	assert.Equal(t, []stats.SendCount{
		{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Sent: 1, Retried: 1, Failed: 1},
		{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Unknown: 1},
	}, days)
	_, err = f.svc.MailingSends(as(owner2), f.M1.ID, 2, nil)
	assert.ErrorIs(t, err, mailing.ErrNotFound)
}

// hoursStore answers HourlySends with fixed hours (those in [From, To)).
type hoursStore struct {
	stats.Store
	hours []stats.SendCount
}

func (s hoursStore) HourlySends(_ context.Context, f stats.SendsFilter) ([]stats.SendCount, error) {
	var out []stats.SendCount
	for _, h := range s.hours {
		if !h.Start.Before(f.From) && h.Start.Before(f.To) {
			out = append(out, h)
		}
	}
	return out, nil
}

// Every hour counts on the local date it starts on, in any zone: checked
// against grouping by the formatted date, over every hour of 40 days
// around clock changes (Santiago's happen at midnight, Lord Howe's are
// half an hour, India is half an hour off UTC).
func TestDashboardDaysInZones(t *testing.T) {
	for _, zone := range []string{"UTC", "America/New_York", "America/Santiago", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham"} {
		loc, err := time.LoadLocation(zone)
		require.NoError(t, err)
		for _, now := range []time.Time{
			time.Date(2026, 4, 20, 12, 0, 0, 0, time.UTC), // after Santiago's and Lord Howe's April changes
			time.Date(2026, 9, 20, 3, 30, 0, 0, time.UTC), // after Santiago's September change
			time.Date(2026, 11, 15, 23, 0, 0, 0, time.UTC),
			time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC), // the first day is Santiago's, without a midnight
		} {
			var hours []stats.SendCount
			for h := now.Add(-40 * 24 * time.Hour).Truncate(time.Hour); h.Before(now); h = h.Add(time.Hour) {
				hours = append(hours, stats.SendCount{Start: h, Sent: 1, Failed: int(h.Unix()/3600) % 3})
			}
			m := mailingtest.NewMemStore()
			clock := mailingtest.NewFakeClock(now)
			svc := stats.NewService(hoursStore{Store: statstest.New(m), hours: hours}, mailing.NewService(m, clock), clock)
			d, err := svc.Dashboard(as(owner1), 30, loc)
			require.NoError(t, err)

			want := map[string][2]int{}
			first := d.Days[0].Start
			for _, h := range hours {
				if h.Start.In(loc).Before(first) && h.Start.In(loc).Format(time.DateOnly) != first.Format(time.DateOnly) {
					continue
				}
				c := want[h.Start.In(loc).Format(time.DateOnly)]
				want[h.Start.In(loc).Format(time.DateOnly)] = [2]int{c[0] + h.Sent, c[1] + h.Failed}
			}
			seen := map[string]bool{}
			for _, day := range d.Days {
				date := day.Start.Format(time.DateOnly)
				assert.False(t, seen[date], "%s: %s twice", zone, date)
				seen[date] = true
				w := want[date]
				assert.Equal(t, w, [2]int{day.Sent, day.Failed}, "%s, %s", zone, day.Start.Format(time.DateOnly))
			}
		}
	}
}
