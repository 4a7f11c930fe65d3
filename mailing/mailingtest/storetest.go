package mailingtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
)

// T0 is the fixed "now" of TestStore: 2026-03-01 09:00 UTC.
var T0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// TestStore checks that a mailing.Store keeps the contract documented on
// mailing.Store and its parts. newStore must return a fresh, empty store
// with its schema in place (and register any cleanup with t.Cleanup); the
// suite calls it once per leaf subtest.
//
// The suite uses fixed times around T0 and never the wall clock, except that
// it checks CreatedAt and UpdatedAt are set, in UTC at whole microseconds.
func TestStore(t *testing.T, newStore func(t *testing.T) mailing.Store) {
	t.Helper()
	run := func(t *testing.T, name string, test func(t *testing.T, f *fixture)) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			test(t, newFixture(t, newStore(t)))
		})
	}
	t.Run("Clients", func(t *testing.T) { testClients(t, run) })
	t.Run("Messages", func(t *testing.T) { testMessages(t, run) })
	t.Run("Mailings", func(t *testing.T) { testMailings(t, run) })
	t.Run("Ledger", func(t *testing.T) { testLedger(t, run) })
	t.Run("Context", func(t *testing.T) { testContext(t, run) })
}

type runner func(t *testing.T, name string, test func(t *testing.T, f *fixture))

// ---------------------------------------------------------------------------
// fixture

// fixture is the data every leaf test starts from: owner 1 has clients Ann,
// Bob and Cat and message Msg1; owner 2 has clients Dan and Ann2 (the same
// address as Ann) and message Msg2. Mailings are made per test.
type fixture struct {
	s mailing.Store
	t *testing.T

	Ann, Bob, Cat mailing.Client // owner 1
	Dan, Ann2     mailing.Client // owner 2
	Msg1, Msg2    mailing.Message
}

func newFixture(t *testing.T, s mailing.Store) *fixture {
	t.Helper()
	require.NotNil(t, s, "newStore returned nil")
	f := &fixture{s: s, t: t}
	f.Ann = f.client(t, 1, "ann@example.com", "Ann Archer")
	f.Bob = f.client(t, 1, "Bob@Example.org", "Bob Brown")
	f.Cat = f.client(t, 1, "cat_1@example.com", "Cat Cole")
	f.Dan = f.client(t, 2, "dan@example.com", "Dan Dale")
	f.Ann2 = f.client(t, 2, "ann@example.com", "Ann Other")
	f.Msg1 = f.message(t, 1, "Hello {{.Name}}")
	f.Msg2 = f.message(t, 2, "News for {{.Name}}")
	return f
}

func (f *fixture) client(tb testing.TB, owner int64, email, name string) mailing.Client {
	tb.Helper()
	c := mailing.Client{OwnerID: owner, Email: email, Name: name, Comment: "comment of " + name}
	require.NoError(tb, f.s.CreateClient(tb.Context(), &c), "CreateClient %s", email)
	require.NotZero(tb, c.ID, "CreateClient must set ID")
	return canonClient(tb, c)
}

func (f *fixture) message(tb testing.TB, owner int64, subject string) mailing.Message {
	tb.Helper()
	m := mailing.Message{OwnerID: owner, Subject: subject, Body: "<p>Dear {{.Name}}</p>"}
	require.NoError(tb, f.s.CreateMessage(tb.Context(), &m))
	require.NotZero(tb, m.ID, "CreateMessage must set ID")
	return canonMessage(tb, m)
}

// mailing creates an enabled daily mailing of owner with message msg sent
// to clients, running from T0-24h to T0+30 days, NextRun T0. mods change it
// before it is stored.
func (f *fixture) mailing(tb testing.TB, owner, msg int64, clients []int64, mods ...func(*mailing.Mailing)) mailing.Mailing {
	tb.Helper()
	m := mailing.Mailing{
		OwnerID:   owner,
		Name:      fmt.Sprintf("mailing of %d", owner),
		MessageID: msg,
		ClientIDs: slices.Clone(clients),
		Start:     T0.Add(-24 * time.Hour),
		End:       T0.Add(30 * 24 * time.Hour),
		Period:    mailing.Daily,
		TimeZone:  "Europe/Moscow",
		Enabled:   true,
		NextRun:   T0,
	}
	for _, mod := range mods {
		mod(&m)
	}
	require.NoError(tb, f.s.CreateMailing(tb.Context(), &m))
	require.NotZero(tb, m.ID, "CreateMailing must set ID")
	return f.getMailing(tb, m.ID)
}

// mailing1 is a mailing of owner 1 to Ann, Bob and Cat.
func (f *fixture) mailing1(tb testing.TB, mods ...func(*mailing.Mailing)) mailing.Mailing {
	tb.Helper()
	return f.mailing(tb, 1, f.Msg1.ID, []int64{f.Ann.ID, f.Bob.ID, f.Cat.ID}, mods...)
}

// mailing2 is a mailing of owner 2 to Dan and Ann2.
func (f *fixture) mailing2(tb testing.TB, mods ...func(*mailing.Mailing)) mailing.Mailing {
	tb.Helper()
	return f.mailing(tb, 2, f.Msg2.ID, []int64{f.Dan.ID, f.Ann2.ID}, mods...)
}

func (f *fixture) getMailing(tb testing.TB, id int64) mailing.Mailing {
	tb.Helper()
	m, err := f.s.GetMailing(tb.Context(), id)
	require.NoError(tb, err, "GetMailing %d", id)
	return canonMailing(tb, m)
}

// open opens the run of mailing id at runAt, expecting its current NextRun
// and moving NextRun one day past runAt. It returns the rows created.
func (f *fixture) open(tb testing.TB, id int64, runAt time.Time) int {
	tb.Helper()
	m := f.getMailing(tb, id)
	n, err := f.s.OpenRun(tb.Context(), mailing.RunPlan{
		MailingID: id, RunAt: runAt, Expect: m.NextRun, Next: runAt.Add(24 * time.Hour), Now: runAt,
	})
	require.NoError(tb, err, "OpenRun of mailing %d at %s", id, runAt)
	return n
}

const testLease = 5 * time.Minute

// canonRuns returns runs with their times in UTC at whole microseconds.
func canonRuns(rs []mailing.RunRef) []mailing.RunRef {
	for i := range rs {
		rs[i].RunAt = rs[i].RunAt.UTC().Truncate(time.Microsecond)
	}
	return rs
}

func (f *fixture) claim(tb testing.TB, owner string, now time.Time, limit int, mailingID int64) []mailing.Delivery {
	tb.Helper()
	ds, err := f.s.ClaimDeliveries(tb.Context(), mailing.ClaimRequest{
		Owner: owner, Now: now, Lease: testLease, Limit: limit, MailingID: mailingID,
	})
	require.NoError(tb, err, "ClaimDeliveries by %s at %s", owner, now)
	for i := range ds {
		ds[i] = canonDelivery(tb, ds[i])
	}
	return ds
}

func (f *fixture) start(tb testing.TB, owner string, ids []int64, now time.Time) []int64 {
	tb.Helper()
	moved, err := f.s.StartDeliveries(tb.Context(), owner, ids, now)
	require.NoError(tb, err, "StartDeliveries by %s", owner)
	return moved
}

func (f *fixture) finish(tb testing.TB, owner string, rs ...mailing.Result) {
	tb.Helper()
	require.NoError(tb, f.s.FinishDeliveries(tb.Context(), owner, rs), "FinishDeliveries by %s", owner)
}

// result is the end of an attempt on d made at at, lasting 1.5 s.
func result(d mailing.Delivery, state mailing.DeliveryState, o mailing.Outcome, code int, text string, at time.Time) mailing.Result {
	return mailing.Result{
		Attempt: mailing.Attempt{
			DeliveryID: d.ID, MailingID: d.MailingID, ClientID: d.ClientID, RunAt: d.RunAt,
			At: at, Duration: 1500 * time.Millisecond, Outcome: o, Code: code, Response: text,
		},
		State: state,
	}
}

// send claims every due delivery of mailing id at now as owner "sender",
// starts them and finishes them in state (sent, failed or unknown).
func (f *fixture) send(tb testing.TB, id int64, now time.Time, state mailing.DeliveryState) []mailing.Delivery {
	tb.Helper()
	ds := f.claim(tb, "sender", now, 0, id)
	require.NotEmpty(tb, ds, "nothing to send for mailing %d at %s", id, now)
	moved := f.start(tb, "sender", ids(ds), now)
	require.Len(tb, moved, len(ds))
	var rs []mailing.Result
	for _, d := range ds {
		switch state {
		case mailing.DeliverySent:
			rs = append(rs, result(d, state, mailing.OutcomeSent, 250, "2.0.0 Ok: queued", now))
		case mailing.DeliveryFailed:
			rs = append(rs, result(d, state, mailing.OutcomePermanent, 550, "5.1.1 No such user", now))
		default:
			rs = append(rs, result(d, state, mailing.OutcomeUnknown, 0, "connection reset", now))
		}
	}
	f.finish(tb, "sender", rs...)
	return ds
}

func (f *fixture) deliveries(tb testing.TB, df mailing.DeliveryFilter) ([]mailing.Delivery, int) {
	tb.Helper()
	ds, n, err := f.s.ListDeliveries(tb.Context(), df)
	require.NoError(tb, err, "ListDeliveries %+v", df)
	for i := range ds {
		ds[i] = canonDelivery(tb, ds[i])
	}
	return ds, n
}

// delivery returns the ledger row id.
func (f *fixture) delivery(tb testing.TB, id int64) mailing.Delivery {
	tb.Helper()
	ds, _ := f.deliveries(tb, mailing.DeliveryFilter{})
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	require.FailNow(tb, "delivery not listed", "delivery %d", id)
	return mailing.Delivery{}
}

func (f *fixture) attempts(tb testing.TB, af mailing.AttemptFilter) ([]mailing.Attempt, int) {
	tb.Helper()
	as, n, err := f.s.ListAttempts(tb.Context(), af)
	require.NoError(tb, err, "ListAttempts %+v", af)
	for i := range as {
		as[i] = canonAttempt(tb, as[i])
	}
	return as, n
}

// ---------------------------------------------------------------------------
// canonical values: every time UTC at whole microseconds

// canonTime checks t is UTC at whole microseconds and returns it in the
// form time.Time.UTC gives, so values compare with assert.Equal.
func canonTime(tb testing.TB, what string, t time.Time) time.Time {
	tb.Helper()
	if t.IsZero() {
		return time.Time{}
	}
	assert.Truef(tb, t.Location() == time.UTC, "%s = %s: want it in UTC", what, t)
	assert.Zerof(tb, t.Nanosecond()%1000, "%s = %s: want whole microseconds", what, t)
	return t.UTC().Round(0)
}

func canonClient(tb testing.TB, c mailing.Client) mailing.Client {
	tb.Helper()
	c.CreatedAt = canonTime(tb, "Client.CreatedAt", c.CreatedAt)
	return c
}

func canonMessage(tb testing.TB, m mailing.Message) mailing.Message {
	tb.Helper()
	m.CreatedAt = canonTime(tb, "Message.CreatedAt", m.CreatedAt)
	return m
}

func canonMailing(tb testing.TB, m mailing.Mailing) mailing.Mailing {
	tb.Helper()
	if len(m.ClientIDs) == 0 {
		m.ClientIDs = nil
	}
	m.Start = canonTime(tb, "Mailing.Start", m.Start)
	m.End = canonTime(tb, "Mailing.End", m.End)
	m.NextRun = canonTime(tb, "Mailing.NextRun", m.NextRun)
	m.CreatedAt = canonTime(tb, "Mailing.CreatedAt", m.CreatedAt)
	m.UpdatedAt = canonTime(tb, "Mailing.UpdatedAt", m.UpdatedAt)
	return m
}

func canonDelivery(tb testing.TB, d mailing.Delivery) mailing.Delivery {
	tb.Helper()
	d.RunAt = canonTime(tb, "Delivery.RunAt", d.RunAt)
	d.NextAttemptAt = canonTime(tb, "Delivery.NextAttemptAt", d.NextAttemptAt)
	d.LeaseUntil = canonTime(tb, "Delivery.LeaseUntil", d.LeaseUntil)
	d.CreatedAt = canonTime(tb, "Delivery.CreatedAt", d.CreatedAt)
	d.UpdatedAt = canonTime(tb, "Delivery.UpdatedAt", d.UpdatedAt)
	return d
}

func canonAttempt(tb testing.TB, a mailing.Attempt) mailing.Attempt {
	tb.Helper()
	a.RunAt = canonTime(tb, "Attempt.RunAt", a.RunAt)
	a.At = canonTime(tb, "Attempt.At", a.At)
	return a
}

// ids returns the IDs of xs in order.
func ids[T mailing.Client | mailing.Message | mailing.Mailing | mailing.Delivery | mailing.Attempt](xs []T) []int64 {
	out := make([]int64, 0, len(xs))
	for _, x := range xs {
		switch v := any(x).(type) {
		case mailing.Client:
			out = append(out, v.ID)
		case mailing.Message:
			out = append(out, v.ID)
		case mailing.Mailing:
			out = append(out, v.ID)
		case mailing.Delivery:
			out = append(out, v.ID)
		case mailing.Attempt:
			out = append(out, v.ID)
		}
	}
	return out
}

// sorted returns a sorted copy of s (an empty result for an empty s).
func sorted(s []int64) []int64 {
	out := append([]int64{}, s...)
	slices.Sort(out)
	return out
}

// assertSet checks that a stamp such as CreatedAt was set.
func assertSet(tb testing.TB, what string, t time.Time) {
	tb.Helper()
	assert.Falsef(tb, t.IsZero(), "%s must be set", what)
}

// ---------------------------------------------------------------------------
// clients

func testClients(t *testing.T, run runner) {
	t.Run("Create", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			assertSet(t, "Client.CreatedAt", f.Ann.CreatedAt)
			assert.NotEqual(t, f.Ann.ID, f.Bob.ID)
			got, err := f.s.GetClient(ctx, f.Ann.ID)
			require.NoError(t, err)
			assert.Equal(t, f.Ann, canonClient(t, got))
			assert.Equal(t, mailing.Client{
				ID: f.Bob.ID, OwnerID: 1, Email: "Bob@Example.org", Name: "Bob Brown",
				Comment: "comment of Bob Brown", CreatedAt: f.Bob.CreatedAt,
			}, f.Bob, "the email keeps its case")
		})
		run(t, "ErrConflict", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			c := mailing.Client{OwnerID: 1, Email: "ANN@example.COM", Name: "Ann again"}
			err := f.s.CreateClient(ctx, &c)
			require.ErrorIs(t, err, mailing.ErrConflict, "same owner, same email in another case")
			assert.Contains(t, strings.ToLower(err.Error()), "ann@example.com", "the error names the email")
			_, n, err := f.s.ListClients(ctx, mailing.ClientFilter{OwnerID: 1})
			require.NoError(t, err)
			assert.Equal(t, 3, n, "nothing stored")

			c = mailing.Client{OwnerID: 3, Email: "ANN@example.COM", Name: "Ann of owner 3"}
			require.NoError(t, f.s.CreateClient(ctx, &c), "another owner may use the address")
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			_, err := f.s.GetClient(t.Context(), f.Ann2.ID+100)
			assert.ErrorIs(t, err, mailing.ErrNotFound)
		})
	})

	t.Run("CreateClients", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			cs := []*mailing.Client{
				{OwnerID: 1, Email: "x1@example.com", Name: "X1"},
				{OwnerID: 1, Email: "x2@example.com", Name: "X2"},
				{OwnerID: 2, Email: "x1@example.com", Name: "X1 of 2"},
			}
			require.NoError(t, f.s.CreateClients(ctx, cs))
			seen := map[int64]bool{}
			for _, c := range cs {
				require.NotZero(t, c.ID)
				assertSet(t, "Client.CreatedAt", c.CreatedAt)
				assert.False(t, seen[c.ID], "ids are distinct")
				seen[c.ID] = true
				got, err := f.s.GetClient(ctx, c.ID)
				require.NoError(t, err)
				assert.Equal(t, canonClient(t, *c), canonClient(t, got))
			}
			require.NoError(t, f.s.CreateClients(ctx, nil), "an empty batch is fine")
		})
		run(t, "ErrConflict", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			clashOld := []*mailing.Client{
				{OwnerID: 1, Email: "new1@example.com"},
				{OwnerID: 1, Email: "BOB@example.org"},
				{OwnerID: 1, Email: "new2@example.com"},
			}
			err := f.s.CreateClients(ctx, clashOld)
			require.ErrorIs(t, err, mailing.ErrConflict, "clash with a stored client")
			assert.Contains(t, strings.ToLower(err.Error()), "bob@example.org", "the error names the email")

			clashNew := []*mailing.Client{
				{OwnerID: 2, Email: "new3@example.com"},
				{OwnerID: 2, Email: "twice@example.com"},
				{OwnerID: 2, Email: "Twice@Example.com"},
			}
			err = f.s.CreateClients(ctx, clashNew)
			require.ErrorIs(t, err, mailing.ErrConflict, "clash inside the batch")
			assert.Contains(t, strings.ToLower(err.Error()), "twice@example.com", "the error names the email")

			all, n, err := f.s.ListClients(ctx, mailing.ClientFilter{})
			require.NoError(t, err)
			assert.Equal(t, 5, n, "nothing of either batch is stored")
			assert.Equal(t, []int64{f.Ann.ID, f.Bob.ID, f.Cat.ID, f.Dan.ID, f.Ann2.ID}, ids(all))
		})
	})

	t.Run("Update", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			c := f.Ann
			c.Email, c.Name, c.Comment = "ann.archer@example.net", "Ann A.", "moved"
			c.OwnerID, c.CreatedAt = 2, T0 // not changed by UpdateClient
			require.NoError(t, f.s.UpdateClient(ctx, c))
			got, err := f.s.GetClient(ctx, f.Ann.ID)
			require.NoError(t, err)
			want := f.Ann
			want.Email, want.Name, want.Comment = "ann.archer@example.net", "Ann A.", "moved"
			assert.Equal(t, want, canonClient(t, got))

			c = f.Bob
			c.Email = "bob@example.org" // its own address in another case
			require.NoError(t, f.s.UpdateClient(ctx, c))
			got, err = f.s.GetClient(ctx, f.Bob.ID)
			require.NoError(t, err)
			assert.Equal(t, "bob@example.org", got.Email)
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			c := f.Ann
			c.ID = f.Ann2.ID + 100
			assert.ErrorIs(t, f.s.UpdateClient(t.Context(), c), mailing.ErrNotFound)
		})
		run(t, "ErrConflict", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			c := f.Bob
			c.Email = "Ann@Example.com"
			require.ErrorIs(t, f.s.UpdateClient(ctx, c), mailing.ErrConflict)
			got, err := f.s.GetClient(ctx, f.Bob.ID)
			require.NoError(t, err)
			assert.Equal(t, f.Bob, canonClient(t, got), "unchanged")

			c = f.Dan
			c.Email = "cat_1@example.com" // owner 1's address: fine for owner 2
			require.NoError(t, f.s.UpdateClient(ctx, c))
		})
	})

	t.Run("Delete", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			other := f.mailing(t, 1, f.Msg1.ID, []int64{f.Cat.ID, f.Bob.ID})
			require.Equal(t, 3, f.open(t, m.ID, T0))

			require.NoError(t, f.s.DeleteClient(ctx, f.Bob.ID))
			_, err := f.s.GetClient(ctx, f.Bob.ID)
			assert.ErrorIs(t, err, mailing.ErrNotFound)
			assert.Equal(t, []int64{f.Ann.ID, f.Cat.ID}, f.getMailing(t, m.ID).ClientIDs, "taken out of the client set")
			assert.Equal(t, []int64{f.Cat.ID}, f.getMailing(t, other.ID).ClientIDs)
			ms, n, err := f.s.ListMailings(ctx, mailing.MailingFilter{ClientID: f.Bob.ID})
			require.NoError(t, err)
			assert.Empty(t, ms)
			assert.Zero(t, n)

			ds, _ := f.deliveries(t, mailing.DeliveryFilter{ClientID: f.Bob.ID})
			require.Len(t, ds, 1, "ledger rows stay")
			assert.Equal(t, "Bob@Example.org", ds[0].Email)
			assert.Equal(t, "Bob Brown", ds[0].Name)

			assert.Equal(t, 2, f.open(t, m.ID, T0.Add(24*time.Hour)), "the next run goes to the remaining clients")
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			require.NoError(t, f.s.DeleteClient(ctx, f.Cat.ID))
			assert.ErrorIs(t, f.s.DeleteClient(ctx, f.Cat.ID), mailing.ErrNotFound)
		})
	})

	t.Run("List", func(t *testing.T) {
		run(t, "Filters", func(t *testing.T, f *fixture) {
			for _, tc := range []struct {
				name string
				f    mailing.ClientFilter
				want []mailing.Client
			}{
				{"all", mailing.ClientFilter{}, []mailing.Client{f.Ann, f.Bob, f.Cat, f.Dan, f.Ann2}},
				{"owner 1", mailing.ClientFilter{OwnerID: 1}, []mailing.Client{f.Ann, f.Bob, f.Cat}},
				{"owner 2", mailing.ClientFilter{OwnerID: 2}, []mailing.Client{f.Dan, f.Ann2}},
				{"owner 3", mailing.ClientFilter{OwnerID: 3}, nil},
				{"ids", mailing.ClientFilter{IDs: []int64{f.Dan.ID, f.Bob.ID}}, []mailing.Client{f.Bob, f.Dan}},
				{"empty ids", mailing.ClientFilter{IDs: []int64{}}, nil},
				{"owner and ids", mailing.ClientFilter{OwnerID: 1, IDs: []int64{f.Bob.ID, f.Dan.ID}}, []mailing.Client{f.Bob}},
				{"search email, other case", mailing.ClientFilter{Search: "EXAMPLE.ORG"}, []mailing.Client{f.Bob}},
				{"search name", mailing.ClientFilter{Search: "cole"}, []mailing.Client{f.Cat}},
				{"search email or name", mailing.ClientFilter{Search: "Ann"}, []mailing.Client{f.Ann, f.Ann2}},
				{"search underscore is literal", mailing.ClientFilter{Search: "_"}, []mailing.Client{f.Cat}},
				{"search percent is literal", mailing.ClientFilter{Search: "%"}, nil},
				{"search and owner", mailing.ClientFilter{OwnerID: 2, Search: "ann"}, []mailing.Client{f.Ann2}},
			} {
				got, n, err := f.s.ListClients(t.Context(), tc.f)
				require.NoError(t, err, tc.name)
				for i := range got {
					got[i] = canonClient(t, got[i])
				}
				if len(tc.want) == 0 {
					assert.Empty(t, got, tc.name)
				} else {
					assert.Equal(t, tc.want, got, tc.name)
				}
				assert.Equal(t, len(tc.want), n, "%s: total", tc.name)
			}
		})
		run(t, "Paging", func(t *testing.T, f *fixture) {
			all := []int64{f.Ann.ID, f.Bob.ID, f.Cat.ID, f.Dan.ID, f.Ann2.ID}
			for _, tc := range []struct {
				name  string
				f     mailing.ClientFilter
				want  []int64
				total int
			}{
				{"limit", mailing.ClientFilter{ListOptions: mailing.ListOptions{Limit: 2}}, all[:2], 5},
				{"limit and offset", mailing.ClientFilter{ListOptions: mailing.ListOptions{Limit: 2, Offset: 2}}, all[2:4], 5},
				{"offset only", mailing.ClientFilter{ListOptions: mailing.ListOptions{Offset: 4}}, all[4:], 5},
				{"offset past the end", mailing.ClientFilter{ListOptions: mailing.ListOptions{Limit: 2, Offset: 10}}, nil, 5},
				{"filtered", mailing.ClientFilter{OwnerID: 1, ListOptions: mailing.ListOptions{Limit: 1, Offset: 1}}, []int64{f.Bob.ID}, 3},
			} {
				got, n, err := f.s.ListClients(t.Context(), tc.f)
				require.NoError(t, err, tc.name)
				assert.Equal(t, sorted(tc.want), ids(got), tc.name)
				assert.Equal(t, tc.total, n, "%s: total", tc.name)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// messages

func testMessages(t *testing.T, run runner) {
	t.Run("Create", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			assertSet(t, "Message.CreatedAt", f.Msg1.CreatedAt)
			assert.NotEqual(t, f.Msg1.ID, f.Msg2.ID)
			got, err := f.s.GetMessage(t.Context(), f.Msg2.ID)
			require.NoError(t, err)
			assert.Equal(t, mailing.Message{
				ID: f.Msg2.ID, OwnerID: 2, Subject: "News for {{.Name}}", Body: "<p>Dear {{.Name}}</p>",
				CreatedAt: f.Msg2.CreatedAt,
			}, canonMessage(t, got))
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			_, err := f.s.GetMessage(t.Context(), f.Msg2.ID+100)
			assert.ErrorIs(t, err, mailing.ErrNotFound)
		})
	})

	t.Run("Update", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.Msg1
			m.Subject, m.Body = "Changed", "<p>changed</p>"
			m.OwnerID, m.CreatedAt = 2, T0 // not changed by UpdateMessage
			require.NoError(t, f.s.UpdateMessage(ctx, m))
			got, err := f.s.GetMessage(ctx, f.Msg1.ID)
			require.NoError(t, err)
			want := f.Msg1
			want.Subject, want.Body = "Changed", "<p>changed</p>"
			assert.Equal(t, want, canonMessage(t, got))
			got, err = f.s.GetMessage(ctx, f.Msg2.ID)
			require.NoError(t, err)
			assert.Equal(t, f.Msg2, canonMessage(t, got), "other messages unchanged")
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			m := f.Msg1
			m.ID = f.Msg2.ID + 100
			assert.ErrorIs(t, f.s.UpdateMessage(t.Context(), m), mailing.ErrNotFound)
		})
	})

	t.Run("Delete", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			require.NoError(t, f.s.DeleteMessage(ctx, f.Msg2.ID))
			_, err := f.s.GetMessage(ctx, f.Msg2.ID)
			assert.ErrorIs(t, err, mailing.ErrNotFound)
			_, err = f.s.GetMessage(ctx, f.Msg1.ID)
			assert.NoError(t, err)
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			assert.ErrorIs(t, f.s.DeleteMessage(t.Context(), f.Msg2.ID+100), mailing.ErrNotFound)
		})
		run(t, "ErrConflict", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			require.ErrorIs(t, f.s.DeleteMessage(ctx, f.Msg1.ID), mailing.ErrConflict, "used by a mailing")
			_, err := f.s.GetMessage(ctx, f.Msg1.ID)
			require.NoError(t, err, "still there")
			require.NoError(t, f.s.DeleteMailing(ctx, m.ID))
			assert.NoError(t, f.s.DeleteMessage(ctx, f.Msg1.ID), "free once the mailing is gone")
		})
	})

	t.Run("List", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			m3 := f.message(t, 1, "Third")
			for _, tc := range []struct {
				name  string
				f     mailing.MessageFilter
				want  []mailing.Message
				total int
			}{
				{"all", mailing.MessageFilter{}, []mailing.Message{f.Msg1, f.Msg2, m3}, 3},
				{"owner 1", mailing.MessageFilter{OwnerID: 1}, []mailing.Message{f.Msg1, m3}, 2},
				{"owner 3", mailing.MessageFilter{OwnerID: 3}, nil, 0},
				{"ids", mailing.MessageFilter{IDs: []int64{m3.ID, f.Msg2.ID}}, []mailing.Message{f.Msg2, m3}, 2},
				{"empty ids", mailing.MessageFilter{IDs: []int64{}}, nil, 0},
				{"owner and ids", mailing.MessageFilter{OwnerID: 2, IDs: []int64{m3.ID, f.Msg2.ID}}, []mailing.Message{f.Msg2}, 1},
				{"limit", mailing.MessageFilter{ListOptions: mailing.ListOptions{Limit: 2}}, []mailing.Message{f.Msg1, f.Msg2}, 3},
				{"offset", mailing.MessageFilter{ListOptions: mailing.ListOptions{Limit: 2, Offset: 1}}, []mailing.Message{f.Msg2, m3}, 3},
				{"filtered page", mailing.MessageFilter{OwnerID: 1, ListOptions: mailing.ListOptions{Offset: 1}}, []mailing.Message{m3}, 2},
			} {
				got, n, err := f.s.ListMessages(t.Context(), tc.f)
				require.NoError(t, err, tc.name)
				for i := range got {
					got[i] = canonMessage(t, got[i])
				}
				if len(tc.want) == 0 {
					assert.Empty(t, got, tc.name)
				} else {
					assert.Equal(t, tc.want, got, tc.name)
				}
				assert.Equal(t, tc.total, n, "%s: total", tc.name)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// mailings

func testMailings(t *testing.T, run runner) {
	t.Run("Create", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			clients := []int64{f.Cat.ID, f.Ann.ID, f.Bob.ID}
			m := mailing.Mailing{
				OwnerID: 1, Name: "Spring news", MessageID: f.Msg1.ID, ClientIDs: clients,
				Start: T0, End: T0.Add(90 * 24 * time.Hour), Period: mailing.Weekly, TimeZone: "Europe/Moscow",
				Enabled: true, NextRun: T0.Add(7 * 24 * time.Hour),
			}
			require.NoError(t, f.s.CreateMailing(ctx, &m))
			require.NotZero(t, m.ID)
			assertSet(t, "Mailing.CreatedAt", m.CreatedAt)
			assertSet(t, "Mailing.UpdatedAt", m.UpdatedAt)
			assert.Equal(t, []int64{f.Cat.ID, f.Ann.ID, f.Bob.ID}, clients, "the caller's slice is not reordered")
			clients[0] = f.Dan.ID // the store keeps no reference to the caller's slice

			want := canonMailing(t, m)
			want.ClientIDs = []int64{f.Ann.ID, f.Bob.ID, f.Cat.ID}
			got := f.getMailing(t, m.ID)
			assert.Equal(t, want, got, "every field round-trips; ClientIDs sorted")

			got.ClientIDs[0] = 999 // the store hands out copies
			assert.Equal(t, want.ClientIDs, f.getMailing(t, m.ID).ClientIDs)

			off := mailing.Mailing{
				OwnerID: 2, MessageID: f.Msg2.ID, ClientIDs: []int64{f.Dan.ID},
				Start: T0, End: T0.Add(time.Hour), Period: mailing.Monthly,
			}
			require.NoError(t, f.s.CreateMailing(ctx, &off))
			got = f.getMailing(t, off.ID)
			assert.False(t, got.Enabled)
			assert.True(t, got.NextRun.IsZero(), "a zero NextRun stays zero")
			assert.Empty(t, got.Name)
			assert.Empty(t, got.TimeZone)
		})
		run(t, "TimesUTCMicroseconds", func(t *testing.T, f *fixture) {
			moscow := time.FixedZone("MSK", 3*60*60)
			start := time.Date(2026, 3, 1, 12, 0, 0, 123456789, moscow)
			m := f.mailing1(t, func(m *mailing.Mailing) {
				m.Start, m.End, m.NextRun = start, start.Add(48*time.Hour), start.Add(time.Hour)
			})
			want := T0.Add(123456 * time.Microsecond)
			assert.Equal(t, want, m.Start)
			assert.Equal(t, want.Add(48*time.Hour), m.End)
			assert.Equal(t, want.Add(time.Hour), m.NextRun)
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := mailing.Mailing{
				OwnerID: 1, MessageID: f.Msg2.ID + 100, ClientIDs: []int64{f.Ann.ID},
				Start: T0, End: T0.Add(time.Hour), Period: mailing.Daily,
			}
			assert.ErrorIs(t, f.s.CreateMailing(ctx, &m), mailing.ErrNotFound, "missing message")
			m.MessageID, m.ClientIDs = f.Msg1.ID, []int64{f.Ann.ID, f.Ann2.ID + 100}
			assert.ErrorIs(t, f.s.CreateMailing(ctx, &m), mailing.ErrNotFound, "missing client")
			ms, n, err := f.s.ListMailings(ctx, mailing.MailingFilter{})
			require.NoError(t, err)
			assert.Empty(t, ms, "nothing stored")
			assert.Zero(t, n)

			_, err = f.s.GetMailing(ctx, 1)
			assert.ErrorIs(t, err, mailing.ErrNotFound)
		})
	})

	t.Run("Update", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			old := f.mailing1(t)
			m := old
			m.OwnerID, m.CreatedAt = 2, T0.Add(-time.Hour) // kept by UpdateMailing
			m.Name, m.MessageID = "Renamed", f.Msg2.ID
			m.ClientIDs = []int64{f.Dan.ID, f.Ann.ID}
			m.Start, m.End = T0.Add(time.Hour), T0.Add(10*24*time.Hour)
			m.Period, m.TimeZone = mailing.Monthly, "America/New_York"
			m.Enabled, m.NextRun = false, T0.Add(2*time.Hour)
			require.NoError(t, f.s.UpdateMailing(ctx, &m))
			assertSet(t, "Mailing.UpdatedAt", m.UpdatedAt)

			got := f.getMailing(t, old.ID)
			assert.Equal(t, mailing.Mailing{
				ID: old.ID, OwnerID: 1, Name: "Renamed", MessageID: f.Msg2.ID,
				ClientIDs: sorted([]int64{f.Dan.ID, f.Ann.ID}),
				Start:     T0.Add(time.Hour), End: T0.Add(10 * 24 * time.Hour),
				Period: mailing.Monthly, TimeZone: "America/New_York",
				Enabled: false, NextRun: T0.Add(2 * time.Hour),
				CreatedAt: old.CreatedAt, UpdatedAt: canonTime(t, "UpdatedAt", m.UpdatedAt),
			}, got, "every field saved but OwnerID and CreatedAt; client set replaced")
			assert.False(t, got.UpdatedAt.Before(got.CreatedAt), "UpdatedAt not before CreatedAt")

			byClient, _, err := f.s.ListMailings(ctx, mailing.MailingFilter{ClientID: f.Bob.ID})
			require.NoError(t, err)
			assert.Empty(t, byClient, "Bob left the client set")
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			old := f.mailing1(t)
			m := old
			m.ID = old.ID + 100
			assert.ErrorIs(t, f.s.UpdateMailing(ctx, &m), mailing.ErrNotFound, "missing mailing")
			m = old
			m.Name, m.MessageID = "changed", f.Msg2.ID+100
			assert.ErrorIs(t, f.s.UpdateMailing(ctx, &m), mailing.ErrNotFound, "missing message")
			m = old
			m.Name, m.ClientIDs = "changed", []int64{f.Ann.ID, f.Ann2.ID + 100}
			assert.ErrorIs(t, f.s.UpdateMailing(ctx, &m), mailing.ErrNotFound, "missing client")
			assert.Equal(t, old, f.getMailing(t, old.ID), "unchanged")
		})
	})

	t.Run("SetEnabled", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			now := T0.Add(time.Hour)
			require.NoError(t, f.s.SetMailingEnabled(ctx, m.ID, false, time.Time{}, now))
			got := f.getMailing(t, m.ID)
			assert.False(t, got.Enabled)
			assert.True(t, got.NextRun.IsZero(), "a zero nextRun clears NextRun")
			assert.Equal(t, now, got.UpdatedAt)
			assert.Equal(t, m.ClientIDs, got.ClientIDs)

			require.NoError(t, f.s.SetMailingEnabled(ctx, m.ID, true, T0.Add(24*time.Hour), now.Add(time.Minute)))
			got = f.getMailing(t, m.ID)
			assert.True(t, got.Enabled)
			assert.Equal(t, T0.Add(24*time.Hour), got.NextRun)
			assert.Equal(t, now.Add(time.Minute), got.UpdatedAt)
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			assert.ErrorIs(t, f.s.SetMailingEnabled(t.Context(), 1, true, T0, T0), mailing.ErrNotFound)
		})
	})

	t.Run("Delete", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m1, m2 := f.mailing1(t), f.mailing2(t)
			f.open(t, m1.ID, T0)
			f.open(t, m2.ID, T0)
			f.send(t, m1.ID, T0, mailing.DeliverySent)
			f.send(t, m2.ID, T0, mailing.DeliveryFailed)

			require.NoError(t, f.s.DeleteMailing(ctx, m1.ID))
			_, err := f.s.GetMailing(ctx, m1.ID)
			assert.ErrorIs(t, err, mailing.ErrNotFound)
			ds, n := f.deliveries(t, mailing.DeliveryFilter{MailingID: m1.ID})
			assert.Empty(t, ds, "its ledger is gone")
			assert.Zero(t, n)
			as, n := f.attempts(t, mailing.AttemptFilter{MailingID: m1.ID})
			assert.Empty(t, as, "its attempts are gone")
			assert.Zero(t, n)
			runs, err := f.s.RunSummaries(ctx, m1.ID)
			require.NoError(t, err)
			assert.Empty(t, runs)

			ds, _ = f.deliveries(t, mailing.DeliveryFilter{})
			assert.Len(t, ds, 2, "the other mailing's ledger stays")
			as, _ = f.attempts(t, mailing.AttemptFilter{})
			assert.Len(t, as, 2, "the other mailing's attempts stay")
			_, err = f.s.GetClient(ctx, f.Ann.ID)
			assert.NoError(t, err, "clients stay")
			_, err = f.s.GetMessage(ctx, f.Msg1.ID)
			assert.NoError(t, err, "the message stays")
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			require.NoError(t, f.s.DeleteMailing(ctx, m.ID))
			assert.ErrorIs(t, f.s.DeleteMailing(ctx, m.ID), mailing.ErrNotFound)
		})
	})

	t.Run("List", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			a := f.mailing1(t)
			b := f.mailing(t, 1, f.Msg1.ID, []int64{f.Cat.ID})
			msg3 := f.message(t, 1, "Third")
			c := f.mailing(t, 1, msg3.ID, []int64{f.Bob.ID, f.Cat.ID})
			d := f.mailing2(t)
			for _, tc := range []struct {
				name  string
				f     mailing.MailingFilter
				want  []mailing.Mailing
				total int
			}{
				{"all", mailing.MailingFilter{}, []mailing.Mailing{a, b, c, d}, 4},
				{"owner 1", mailing.MailingFilter{OwnerID: 1}, []mailing.Mailing{a, b, c}, 3},
				{"owner 3", mailing.MailingFilter{OwnerID: 3}, nil, 0},
				{"ids", mailing.MailingFilter{IDs: []int64{d.ID, b.ID}}, []mailing.Mailing{b, d}, 2},
				{"empty ids", mailing.MailingFilter{IDs: []int64{}}, nil, 0},
				{"message", mailing.MailingFilter{MessageID: f.Msg1.ID}, []mailing.Mailing{a, b}, 2},
				{"client", mailing.MailingFilter{ClientID: f.Cat.ID}, []mailing.Mailing{a, b, c}, 3},
				{"client of one", mailing.MailingFilter{ClientID: f.Ann.ID}, []mailing.Mailing{a}, 1},
				{"client and message", mailing.MailingFilter{ClientID: f.Bob.ID, MessageID: msg3.ID}, []mailing.Mailing{c}, 1},
				{"owner and ids", mailing.MailingFilter{OwnerID: 2, IDs: []int64{a.ID, d.ID}}, []mailing.Mailing{d}, 1},
				{"page", mailing.MailingFilter{ListOptions: mailing.ListOptions{Limit: 2, Offset: 1}}, []mailing.Mailing{b, c}, 4},
				{"filtered page", mailing.MailingFilter{ClientID: f.Cat.ID, ListOptions: mailing.ListOptions{Limit: 1, Offset: 2}}, []mailing.Mailing{c}, 3},
			} {
				got, n, err := f.s.ListMailings(t.Context(), tc.f)
				require.NoError(t, err, tc.name)
				for i := range got {
					got[i] = canonMailing(t, got[i])
				}
				if len(tc.want) == 0 {
					assert.Empty(t, got, tc.name)
				} else {
					assert.Equal(t, tc.want, got, "%s: with their ClientIDs", tc.name)
				}
				assert.Equal(t, tc.total, n, "%s: total", tc.name)
			}
		})
	})
}

// ---------------------------------------------------------------------------
// ledger

func testLedger(t *testing.T, run runner) {
	t.Run("DueMailings", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			late := f.mailing1(t, func(m *mailing.Mailing) { m.NextRun = T0 })
			early := f.mailing2(t, func(m *mailing.Mailing) { m.NextRun = T0.Add(-2 * time.Hour) })
			middle := f.mailing1(t, func(m *mailing.Mailing) { m.NextRun = T0.Add(-time.Hour) })
			f.mailing1(t, func(m *mailing.Mailing) { m.NextRun = T0.Add(-3 * time.Hour); m.Enabled = false })
			f.mailing1(t, func(m *mailing.Mailing) { m.NextRun = time.Time{} })
			f.mailing1(t, func(m *mailing.Mailing) { m.NextRun = T0.Add(time.Second) })

			due, err := f.s.DueMailings(ctx, T0, 0)
			require.NoError(t, err)
			for i := range due {
				due[i] = canonMailing(t, due[i])
			}
			for _, m := range []*mailing.Mailing{&early, &middle, &late} {
				m.ClientIDs = nil
			}
			assert.Equal(t, []mailing.Mailing{early, middle, late}, due,
				"enabled, NextRun set and not after now, oldest NextRun first, without ClientIDs")

			due, err = f.s.DueMailings(ctx, T0, 2)
			require.NoError(t, err)
			assert.Equal(t, []int64{early.ID, middle.ID}, ids(due), "limit")

			due, err = f.s.DueMailings(ctx, T0.Add(-4*time.Hour), 0)
			require.NoError(t, err)
			assert.Empty(t, due)
		})
	})

	t.Run("OpenRun", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			other := f.mailing2(t)
			moscow := time.FixedZone("MSK", 3*60*60)
			runAt := time.Date(2026, 3, 1, 12, 0, 0, 999, moscow) // T0 and 999 ns
			n, err := f.s.OpenRun(ctx, mailing.RunPlan{
				MailingID: m.ID, RunAt: runAt, Expect: T0, Next: T0.Add(24 * time.Hour), Now: T0.Add(time.Minute),
			})
			require.NoError(t, err)
			assert.Equal(t, 3, n)
			assert.Equal(t, T0.Add(24*time.Hour), f.getMailing(t, m.ID).NextRun, "NextRun moved to Next")
			assert.Equal(t, T0, f.getMailing(t, other.ID).NextRun, "other mailings untouched")

			ds, total := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
			require.Len(t, ds, 3)
			assert.Equal(t, 3, total)
			byClient := map[int64]mailing.Delivery{}
			for _, d := range ds {
				byClient[d.ClientID] = d
			}
			for _, c := range []mailing.Client{f.Ann, f.Bob, f.Cat} {
				d, ok := byClient[c.ID]
				require.True(t, ok, "a delivery for client %d", c.ID)
				assert.NotZero(t, d.ID)
				assert.Equal(t, m.ID, d.MailingID)
				assert.Equal(t, int64(1), d.OwnerID, "the mailing's owner")
				assert.Equal(t, T0, d.RunAt, "RunAt in UTC at whole microseconds")
				assert.Equal(t, c.ID, d.ClientID)
				assert.Equal(t, c.Email, d.Email)
				assert.Equal(t, c.Name, d.Name)
				assert.Equal(t, mailing.DeliveryPending, d.State)
				assert.Zero(t, d.Attempts)
				assert.False(t, d.NextAttemptAt.After(T0.Add(time.Minute)), "due at once")
				assert.Empty(t, d.LeaseOwner)
				assert.True(t, d.LeaseUntil.IsZero())
				assert.Empty(t, d.LastError)
				assertSet(t, "Delivery.CreatedAt", d.CreatedAt)
			}
			assert.Len(t, f.claim(t, "e1", T0.Add(time.Minute), 0, 0), 3, "claimable at Now")

			c := f.Ann
			c.Email, c.Name = "ann.new@example.com", "Ann New"
			require.NoError(t, f.s.UpdateClient(ctx, c))
			ds, _ = f.deliveries(t, mailing.DeliveryFilter{ClientID: f.Ann.ID})
			require.Len(t, ds, 1)
			assert.Equal(t, f.Ann.Email, ds[0].Email, "a delivery keeps the address of its run")
			assert.Equal(t, f.Ann.Name, ds[0].Name)

			off := f.mailing1(t, func(m *mailing.Mailing) { m.NextRun = time.Time{} })
			n, err = f.s.OpenRun(ctx, mailing.RunPlan{MailingID: off.ID, RunAt: T0, Next: T0.Add(time.Hour), Now: T0})
			require.NoError(t, err, "a zero Expect matches a zero NextRun")
			assert.Equal(t, 3, n)
			assert.Equal(t, T0.Add(time.Hour), f.getMailing(t, off.ID).NextRun)

			n, err = f.s.OpenRun(ctx, mailing.RunPlan{MailingID: off.ID, RunAt: T0.Add(time.Hour), Expect: T0.Add(time.Hour), Now: T0})
			require.NoError(t, err)
			assert.Equal(t, 3, n)
			assert.True(t, f.getMailing(t, off.ID).NextRun.IsZero(), "a zero Next clears NextRun")
		})
		run(t, "Idempotent", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing(t, 1, f.Msg1.ID, []int64{f.Ann.ID, f.Bob.ID})
			require.Equal(t, 2, f.open(t, m.ID, T0))

			n, err := f.s.OpenRun(ctx, mailing.RunPlan{
				MailingID: m.ID, RunAt: T0, Expect: T0.Add(24 * time.Hour), Next: T0.Add(48 * time.Hour), Now: T0,
			})
			require.NoError(t, err)
			assert.Zero(t, n, "the same run again creates nothing")
			assert.Equal(t, T0.Add(48*time.Hour), f.getMailing(t, m.ID).NextRun)

			m = f.getMailing(t, m.ID)
			m.ClientIDs = []int64{f.Ann.ID, f.Bob.ID, f.Cat.ID}
			require.NoError(t, f.s.UpdateMailing(ctx, &m))
			n, err = f.s.OpenRun(ctx, mailing.RunPlan{
				MailingID: m.ID, RunAt: T0, Expect: T0.Add(48 * time.Hour), Next: T0.Add(24 * time.Hour), Now: T0,
			})
			require.NoError(t, err)
			assert.Equal(t, 1, n, "only the client added since gets the run")

			ds, total := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
			assert.Equal(t, 3, total)
			require.Len(t, ds, 3)
			assert.ElementsMatch(t, []int64{f.Ann.ID, f.Bob.ID, f.Cat.ID}, []int64{ds[0].ClientID, ds[1].ClientID, ds[2].ClientID})
			assert.Equal(t, 3, f.open(t, m.ID, T0.Add(24*time.Hour)), "the next run is a new run")
		})
		run(t, "ErrConflict", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			for _, expect := range []time.Time{T0.Add(-24 * time.Hour), T0.Add(time.Microsecond), {}} {
				n, err := f.s.OpenRun(ctx, mailing.RunPlan{
					MailingID: m.ID, RunAt: T0, Expect: expect, Next: T0.Add(24 * time.Hour), Now: T0,
				})
				assert.ErrorIs(t, err, mailing.ErrConflict, "Expect %s while NextRun is %s", expect, T0)
				assert.Zero(t, n)
			}
			assert.Equal(t, T0, f.getMailing(t, m.ID).NextRun, "NextRun unchanged")
			ds, _ := f.deliveries(t, mailing.DeliveryFilter{})
			assert.Empty(t, ds, "no rows created")

			off := f.mailing1(t, func(m *mailing.Mailing) { m.NextRun = time.Time{} })
			_, err := f.s.OpenRun(ctx, mailing.RunPlan{MailingID: off.ID, RunAt: T0, Expect: T0, Next: T0.Add(time.Hour), Now: T0})
			assert.ErrorIs(t, err, mailing.ErrConflict, "Expect set while NextRun is zero")
		})
		run(t, "ErrNotFound", func(t *testing.T, f *fixture) {
			_, err := f.s.OpenRun(t.Context(), mailing.RunPlan{MailingID: 1, RunAt: T0, Expect: T0, Next: T0, Now: T0})
			assert.ErrorIs(t, err, mailing.ErrNotFound)
		})
		run(t, "ZeroRunAt", func(t *testing.T, f *fixture) {
			// The engine closes a mailing that is over with a plan without a
			// run: NextRun moves (here to zero) and no row is created.
			ctx := t.Context()
			m := f.mailing1(t)
			_, err := f.s.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, Expect: T0.Add(time.Hour), Now: T0})
			assert.ErrorIs(t, err, mailing.ErrConflict, "Expect is still checked")
			n, err := f.s.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, Expect: T0, Now: T0})
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.True(t, f.getMailing(t, m.ID).NextRun.IsZero(), "NextRun cleared")
			ds, total := f.deliveries(t, mailing.DeliveryFilter{})
			assert.Empty(t, ds, "no rows created")
			assert.Zero(t, total)
		})
		run(t, "InChunks", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			other := f.mailing2(t)
			ref := mailing.RunRef{MailingID: m.ID, RunAt: T0}
			n, err := f.s.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, RunAt: T0, Expect: T0, Next: T0.Add(24 * time.Hour), Now: T0, Limit: 2})
			require.NoError(t, err)
			assert.Equal(t, 2, n, "the first chunk")
			ds, _ := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
			require.Len(t, ds, 2)
			assert.ElementsMatch(t, []int64{f.Ann.ID, f.Bob.ID}, []int64{ds[0].ClientID, ds[1].ClientID}, "the clients with the lowest ids first")
			runs, err := f.s.OpeningRuns(ctx, 0)
			require.NoError(t, err)
			assert.Equal(t, []mailing.RunRef{ref}, canonRuns(runs), "the run is still being opened")

			n, done, err := f.s.ExtendRun(ctx, ref, 2, T0)
			require.NoError(t, err)
			assert.Equal(t, 1, n)
			assert.True(t, done, "no client follows")
			runs, err = f.s.OpeningRuns(ctx, 0)
			require.NoError(t, err)
			assert.Empty(t, runs)
			n, done, err = f.s.ExtendRun(ctx, ref, 2, T0)
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.True(t, done, "a run wholly open stays done")
			n, done, err = f.s.ExtendRun(ctx, mailing.RunRef{MailingID: other.ID, RunAt: T0}, 2, T0)
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.True(t, done, "a run never opened has nothing to extend")
			ds, total := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
			assert.Equal(t, 3, total)
			assert.Len(t, ds, 3)

			// A chunk exactly as large as the rest leaves the run open until
			// the next call finds nothing after it.
			n, err = f.s.OpenRun(ctx, mailing.RunPlan{MailingID: other.ID, RunAt: T0, Expect: T0, Next: T0.Add(time.Hour), Now: T0, Limit: 2})
			require.NoError(t, err)
			assert.Equal(t, 2, n)
			n, done, err = f.s.ExtendRun(ctx, mailing.RunRef{MailingID: other.ID, RunAt: T0}, 2, T0)
			require.NoError(t, err)
			assert.Zero(t, n)
			assert.True(t, done)
		})
		run(t, "InChunksReopen", func(t *testing.T, f *fixture) {
			// Opening a run again starts its opening over: a client added to
			// the set since (with an id below the last one opened) gets the run.
			ctx := t.Context()
			m := f.mailing(t, 1, f.Msg1.ID, []int64{f.Ann.ID, f.Cat.ID})
			ref := mailing.RunRef{MailingID: m.ID, RunAt: T0}
			_, err := f.s.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, RunAt: T0, Expect: T0, Next: T0.Add(time.Hour), Now: T0, Limit: 5})
			require.NoError(t, err)
			m = f.getMailing(t, m.ID)
			m.ClientIDs = []int64{f.Ann.ID, f.Bob.ID, f.Cat.ID}
			require.NoError(t, f.s.UpdateMailing(ctx, &m))
			n, done, err := f.s.ExtendRun(ctx, ref, 5, T0)
			require.NoError(t, err)
			assert.Zero(t, n, "the run was wholly open")
			assert.True(t, done)
			n, err = f.s.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, RunAt: T0, Expect: m.NextRun, Next: m.NextRun, Now: T0, Limit: 1})
			require.NoError(t, err)
			assert.Zero(t, n, "Ann has her delivery")
			n, done, err = f.s.ExtendRun(ctx, ref, 0, T0)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "Bob is added; Cat keeps hers")
			assert.True(t, done)
			_, total := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
			assert.Equal(t, 3, total)
		})
		run(t, "OpeningRunsFilter", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m1 := f.mailing1(t)
			m2 := f.mailing2(t, func(m *mailing.Mailing) { m.NextRun = T0.Add(-time.Hour) })
			off := f.mailing1(t)
			for _, p := range []mailing.RunPlan{
				{MailingID: m1.ID, RunAt: T0, Expect: T0, Now: T0, Limit: 1},
				{MailingID: m2.ID, RunAt: T0.Add(-time.Hour), Expect: T0.Add(-time.Hour), Now: T0, Limit: 1},
				{MailingID: off.ID, RunAt: T0, Expect: T0, Now: T0, Limit: 1},
			} {
				_, err := f.s.OpenRun(ctx, p)
				require.NoError(t, err)
			}
			require.NoError(t, f.s.SetMailingEnabled(ctx, off.ID, false, time.Time{}, T0))
			runs, err := f.s.OpeningRuns(ctx, 0)
			require.NoError(t, err)
			assert.Equal(t, []mailing.RunRef{{MailingID: m2.ID, RunAt: T0.Add(-time.Hour)}, {MailingID: m1.ID, RunAt: T0}}, canonRuns(runs),
				"oldest first; a disabled mailing's run waits")
			runs, err = f.s.OpeningRuns(ctx, m1.ID)
			require.NoError(t, err)
			assert.Equal(t, []mailing.RunRef{{MailingID: m1.ID, RunAt: T0}}, canonRuns(runs))
			require.NoError(t, f.s.DeleteMailing(ctx, m1.ID))
			runs, err = f.s.OpeningRuns(ctx, m1.ID)
			require.NoError(t, err)
			assert.Empty(t, runs, "a deleted mailing takes its runs")
		})
		run(t, "InChunksConcurrent", func(t *testing.T, f *fixture) {
			// Engines extending one run at once: every client once.
			ctx := t.Context()
			ids := []int64{f.Ann.ID, f.Bob.ID, f.Cat.ID}
			for i := range 37 {
				ids = append(ids, f.client(t, 1, fmt.Sprintf("c%d@example.com", i), fmt.Sprintf("C %d", i)).ID)
			}
			m := f.mailing(t, 1, f.Msg1.ID, ids)
			ref := mailing.RunRef{MailingID: m.ID, RunAt: T0}
			_, err := f.s.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, RunAt: T0, Expect: T0, Now: T0, Limit: 3})
			require.NoError(t, err)
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for {
						_, done, err := f.s.ExtendRun(ctx, ref, 3, T0)
						if !assert.NoError(t, err) || done {
							return
						}
					}
				})
			}
			wg.Wait()
			ds, total := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
			assert.Equal(t, len(ids), total)
			seen := map[int64]bool{}
			for _, d := range ds {
				assert.False(t, seen[d.ClientID], "client %d twice", d.ClientID)
				seen[d.ClientID] = true
			}
		})
		run(t, "Concurrent", func(t *testing.T, f *fixture) {
			m := f.mailing1(t)
			plan := mailing.RunPlan{MailingID: m.ID, RunAt: T0, Expect: T0, Next: T0.Add(24 * time.Hour), Now: T0}
			const engines = 8
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				ok   int
				rows int
				errs []error
			)
			for range engines {
				wg.Go(func() {
					n, err := f.s.OpenRun(t.Context(), plan)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						ok++
						rows += n
					case errors.Is(err, mailing.ErrConflict):
					default:
						errs = append(errs, err)
					}
				})
			}
			wg.Wait()
			assert.Empty(t, errs, "every losing OpenRun is ErrConflict")
			assert.Equal(t, 1, ok, "exactly one OpenRun applies")
			assert.Equal(t, 3, rows)
			_, total := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
			assert.Equal(t, 3, total, "rows created once")
			assert.Equal(t, T0.Add(24*time.Hour), f.getMailing(t, m.ID).NextRun)
		})
	})

	t.Run("Claim", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			m1, m2 := f.mailing1(t), f.mailing2(t)
			f.open(t, m1.ID, T0)
			f.open(t, m2.ID, T0)
			all, _ := f.deliveries(t, mailing.DeliveryFilter{})
			require.Len(t, all, 5)
			now := T0.Add(time.Minute)

			got := f.claim(t, "e1", now, 2, 0)
			require.Len(t, got, 2)
			assert.Equal(t, ids(all[:2]), ids(got), "oldest first")
			for _, d := range got {
				assert.Equal(t, mailing.DeliveryPending, d.State, "a claimed delivery stays pending")
				assert.Equal(t, "e1", d.LeaseOwner)
				assert.Equal(t, now.Add(testLease), d.LeaseUntil)
				assert.Equal(t, all[0].RunAt, d.RunAt)
				stored := f.delivery(t, d.ID)
				assert.Equal(t, "e1", stored.LeaseOwner, "the lease is stored")
				assert.Equal(t, now.Add(testLease), stored.LeaseUntil)
				assert.Equal(t, mailing.DeliveryPending, stored.State)
			}

			got = f.claim(t, "e2", now, 0, 0)
			assert.Equal(t, ids(all[2:]), ids(got), "the rest, not e1's")
			assert.Empty(t, f.claim(t, "e3", now, 0, 0), "everything is leased")
			assert.Empty(t, f.claim(t, "e1", now.Add(time.Minute), 0, 0), "the owner does not claim its own rows twice")
		})
		run(t, "Concurrent", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			const clients, runs = 150, 2
			cs := make([]*mailing.Client, clients)
			for i := range cs {
				cs[i] = &mailing.Client{OwnerID: 3, Email: fmt.Sprintf("c%03d@example.com", i), Name: fmt.Sprint("C", i)}
			}
			require.NoError(t, f.s.CreateClients(ctx, cs))
			var cids []int64
			for _, c := range cs {
				cids = append(cids, c.ID)
			}
			msg := f.message(t, 3, "Load")
			m := f.mailing(t, 3, msg.ID, cids)
			for r := range runs {
				require.Equal(t, clients, f.open(t, m.ID, T0.Add(time.Duration(r)*time.Hour)))
			}
			now := T0.Add(2 * time.Hour)

			const engines, batch = 8, 7
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				claimed = map[int64]string{}
				dups    []string
				errs    []error
			)
			for e := range engines {
				owner := fmt.Sprint("engine-", e)
				wg.Go(func() {
					for {
						ds, err := f.s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: owner, Now: now, Lease: time.Hour, Limit: batch})
						mu.Lock()
						if err != nil {
							errs = append(errs, err)
						}
						if len(ds) > batch {
							errs = append(errs, fmt.Errorf("%s claimed %d rows with limit %d", owner, len(ds), batch))
						}
						for _, d := range ds {
							if prev, ok := claimed[d.ID]; ok {
								dups = append(dups, fmt.Sprintf("delivery %d claimed by %s and %s", d.ID, prev, owner))
							}
							claimed[d.ID] = owner
							if d.LeaseOwner != owner {
								errs = append(errs, fmt.Errorf("delivery %d claimed by %s has LeaseOwner %q", d.ID, owner, d.LeaseOwner))
							}
						}
						mu.Unlock()
						if err != nil || len(ds) == 0 {
							return
						}
					}
				})
			}
			wg.Wait()
			require.Empty(t, errs)
			assert.Empty(t, dups, "two claims returned the same row")
			assert.Len(t, claimed, clients*runs, "every delivery claimed exactly once")
			ds, _ := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID})
			for _, d := range ds {
				assert.Equal(t, claimed[d.ID], d.LeaseOwner, "delivery %d: stored lease", d.ID)
			}
		})
		run(t, "ExpiredLease", func(t *testing.T, f *fixture) {
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			got := f.claim(t, "e1", T0, 0, 0)
			require.Len(t, got, 3)
			assert.Empty(t, f.claim(t, "e2", T0.Add(testLease-time.Second), 0, 0), "lease still running")

			later := T0.Add(testLease + time.Second)
			taken := f.claim(t, "e2", later, 2, 0)
			require.Len(t, taken, 2, "an expired lease is claimable by another owner")
			assert.Equal(t, ids(got[:2]), ids(taken))
			for _, d := range taken {
				assert.Equal(t, "e2", d.LeaseOwner)
				assert.Equal(t, later.Add(testLease), d.LeaseUntil)
			}
			again := f.claim(t, "e1", later, 0, 0)
			assert.Equal(t, ids(got[2:]), ids(again), "and by its old owner")
		})
		run(t, "NotClaimable", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			off := f.mailing1(t)
			ended := f.mailing2(t, func(m *mailing.Mailing) { m.End = T0.Add(time.Hour) })
			edge := f.mailing(t, 1, f.Msg1.ID, []int64{f.Ann.ID}, func(m *mailing.Mailing) { m.End = T0.Add(2 * time.Hour) })
			f.open(t, off.ID, T0)
			f.open(t, ended.ID, T0)
			f.open(t, edge.ID, T0)
			require.NoError(t, f.s.SetMailingEnabled(ctx, off.ID, false, time.Time{}, T0))

			assert.Empty(t, f.claim(t, "e1", T0.Add(time.Hour+time.Second), 0, off.ID), "disabled mailing")
			assert.Empty(t, f.claim(t, "e1", T0.Add(time.Hour+time.Second), 0, ended.ID), "End before Now")
			got := f.claim(t, "e1", T0.Add(2*time.Hour), 0, 0)
			assert.Len(t, got, 1, "End equal to Now is still claimable")
			assert.Equal(t, edge.ID, got[0].MailingID)

			require.NoError(t, f.s.SetMailingEnabled(ctx, off.ID, true, time.Time{}, T0))
			assert.Len(t, f.claim(t, "e1", T0.Add(time.Hour), 0, 0), 5, "enabled again, all of them before End")
		})
		run(t, "MailingID", func(t *testing.T, f *fixture) {
			m1, m2 := f.mailing1(t), f.mailing2(t)
			f.open(t, m1.ID, T0)
			f.open(t, m2.ID, T0)
			got := f.claim(t, "e1", T0, 0, m2.ID)
			require.Len(t, got, 2)
			for _, d := range got {
				assert.Equal(t, m2.ID, d.MailingID)
			}
			got = f.claim(t, "e1", T0, 1, m1.ID)
			require.Len(t, got, 1)
			assert.Equal(t, m1.ID, got[0].MailingID)
			assert.Len(t, f.claim(t, "e1", T0, 0, 0), 2)
		})
	})

	t.Run("Start", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			all, _ := f.deliveries(t, mailing.DeliveryFilter{})
			got := f.claim(t, "e1", T0, 2, 0)
			require.Len(t, got, 2)

			now := T0.Add(time.Second)
			moved := f.start(t, "e1", append(ids(all), all[2].ID+100), now)
			assert.ElementsMatch(t, ids(got), moved, "only the deliveries e1 leased (an unknown id is left out)")
			for _, d := range got {
				s := f.delivery(t, d.ID)
				assert.Equal(t, mailing.DeliverySending, s.State)
				assert.Equal(t, 1, s.Attempts, "the attempt is counted")
				assert.Equal(t, "e1", s.LeaseOwner, "the lease stays while sending")
			}
			assert.Equal(t, mailing.DeliveryPending, f.delivery(t, all[2].ID).State, "never claimed: not started")

			assert.Empty(t, f.start(t, "e1", ids(got), now), "already sending")
			again := f.claim(t, "e2", T0.Add(time.Hour), 0, 0)
			assert.Equal(t, []int64{all[2].ID}, ids(again), "a sending delivery is never claimed, even with its lease ended")
		})
		run(t, "LeaseLost", func(t *testing.T, f *fixture) {
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			mine := f.claim(t, "e1", T0, 0, 0)
			require.Len(t, mine, 3)
			later := T0.Add(testLease + time.Minute)
			theirs := f.claim(t, "e2", later, 2, 0)
			require.Len(t, theirs, 2)

			moved := f.start(t, "e1", ids(mine), later)
			assert.Equal(t, []int64{mine[2].ID}, moved, "deliveries e2 took are left out")
			assert.Empty(t, f.start(t, "e3", ids(theirs), later), "a stranger starts nothing")
			assert.ElementsMatch(t, ids(theirs), f.start(t, "e2", ids(theirs), later))
			for _, d := range mine {
				s := f.delivery(t, d.ID)
				assert.Equal(t, mailing.DeliverySending, s.State)
				assert.Equal(t, 1, s.Attempts, "counted once")
			}
		})
	})

	t.Run("Finish", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			ds := f.claim(t, "e1", T0, 0, 0)
			require.Len(t, ds, 3)
			require.Len(t, f.start(t, "e1", ids(ds), T0), 3)
			at := T0.Add(time.Second)
			f.finish(t, "e1",
				result(ds[0], mailing.DeliverySent, mailing.OutcomeSent, 250, "2.0.0 Ok: queued as 1234", at),
				result(ds[1], mailing.DeliveryFailed, mailing.OutcomePermanent, 550, "5.1.1 No such user", at),
				result(ds[2], mailing.DeliveryUnknown, mailing.OutcomeUnknown, 0, "connection reset after DATA", at),
			)
			for i, want := range []mailing.DeliveryState{mailing.DeliverySent, mailing.DeliveryFailed, mailing.DeliveryUnknown} {
				d := f.delivery(t, ds[i].ID)
				assert.Equal(t, want, d.State)
				assert.Empty(t, d.LeaseOwner, "lease cleared")
				assert.True(t, d.LeaseUntil.IsZero(), "lease cleared")
				assert.Equal(t, 1, d.Attempts)
			}
			assert.Contains(t, f.delivery(t, ds[1].ID).LastError, "5.1.1 No such user")
			assert.Contains(t, f.delivery(t, ds[2].ID).LastError, "connection reset after DATA")

			list, n := f.attempts(t, mailing.AttemptFilter{MailingID: m.ID})
			require.Len(t, list, 3)
			assert.Equal(t, 3, n)
			as := map[int64]mailing.Attempt{}
			for _, a := range list {
				assert.NotZero(t, a.ID)
				as[a.DeliveryID] = a
			}
			require.Len(t, as, 3, "one attempt per delivery")
			a := as[ds[0].ID]
			assert.Equal(t, mailing.Attempt{
				ID: a.ID, DeliveryID: ds[0].ID, MailingID: m.ID, ClientID: ds[0].ClientID, RunAt: T0,
				At: at, Duration: 1500 * time.Millisecond, Outcome: mailing.OutcomeSent,
				Code: 250, Response: "2.0.0 Ok: queued as 1234",
			}, a, "every field of the attempt is stored")
			assert.Equal(t, mailing.OutcomePermanent, as[ds[1].ID].Outcome)
			assert.Equal(t, 550, as[ds[1].ID].Code)
			assert.Equal(t, "5.1.1 No such user", as[ds[1].ID].Response)
			assert.Equal(t, mailing.OutcomeUnknown, as[ds[2].ID].Outcome)
			assert.Zero(t, as[ds[2].ID].Code)

			assert.Empty(t, f.claim(t, "e2", T0.Add(24*time.Hour), 0, 0), "final deliveries are never claimed")
		})
		run(t, "Retry", func(t *testing.T, f *fixture) {
			m := f.mailing(t, 1, f.Msg1.ID, []int64{f.Ann.ID})
			f.open(t, m.ID, T0)
			ds := f.claim(t, "e1", T0, 0, 0)
			require.Len(t, ds, 1)
			require.Len(t, f.start(t, "e1", ids(ds), T0), 1)
			retryAt := T0.Add(10 * time.Minute)
			r := result(ds[0], mailing.DeliveryPending, mailing.OutcomeTemporary, 451, "4.7.1 Try again later", T0)
			r.NextAttemptAt = retryAt
			f.finish(t, "e1", r)

			d := f.delivery(t, ds[0].ID)
			assert.Equal(t, mailing.DeliveryPending, d.State)
			assert.Equal(t, retryAt, d.NextAttemptAt)
			assert.Empty(t, d.LeaseOwner)
			assert.Contains(t, d.LastError, "4.7.1 Try again later")
			assert.Equal(t, 1, d.Attempts)

			assert.Empty(t, f.claim(t, "e2", retryAt.Add(-time.Second), 0, 0), "not before NextAttemptAt")
			again := f.claim(t, "e2", retryAt, 0, 0)
			require.Len(t, again, 1, "claimable at NextAttemptAt")
			require.Len(t, f.start(t, "e2", ids(again), retryAt), 1)
			assert.Equal(t, 2, f.delivery(t, ds[0].ID).Attempts, "counted per start")
			f.finish(t, "e2", result(again[0], mailing.DeliverySent, mailing.OutcomeSent, 250, "ok", retryAt))
			assert.Equal(t, mailing.DeliverySent, f.delivery(t, ds[0].ID).State)
			_, n := f.attempts(t, mailing.AttemptFilter{DeliveryID: ds[0].ID})
			assert.Equal(t, 2, n)
		})
		run(t, "LeaseLost", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing(t, 1, f.Msg1.ID, []int64{f.Ann.ID, f.Bob.ID})
			f.open(t, m.ID, T0)
			ds := f.claim(t, "e1", T0, 0, 0)
			require.Len(t, ds, 2)
			require.Len(t, f.start(t, "e1", ids(ds), T0), 2)

			// Another owner reports on e1's delivery: recorded, not applied.
			f.finish(t, "e2", result(ds[0], mailing.DeliverySent, mailing.OutcomeSent, 250, "ok", T0))
			d := f.delivery(t, ds[0].ID)
			assert.Equal(t, mailing.DeliverySending, d.State, "left as it is")
			assert.Equal(t, "e1", d.LeaseOwner)

			// e1 reports after its delivery expired to unknown.
			n, err := f.s.ExpireSending(ctx, T0.Add(testLease+time.Minute))
			require.NoError(t, err)
			require.Equal(t, 2, n)
			f.finish(t, "e1", result(ds[1], mailing.DeliverySent, mailing.OutcomeSent, 250, "ok", T0))
			assert.Equal(t, mailing.DeliveryUnknown, f.delivery(t, ds[1].ID).State, "left as it is")

			as, _ := f.attempts(t, mailing.AttemptFilter{MailingID: m.ID})
			var sent int
			for _, a := range as {
				if a.Outcome == mailing.OutcomeSent {
					sent++
				}
			}
			assert.Equal(t, 2, sent, "both late attempts are recorded")
			assert.Len(t, as, 4, "two late attempts and two expiries")
		})
	})

	t.Run("Heartbeat", func(t *testing.T) {
		run(t, "LeasesFollowTheirEngine", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			require.NoError(t, f.s.Heartbeat(ctx, "e1", T0.Add(10*time.Second), T0))
			ds := f.claim(t, "e1", T0, 2, m.ID) // leased for a minute (see claim)
			require.Len(t, ds, 2)
			require.Len(t, f.start(t, "e1", []int64{ds[0].ID}, T0), 1)

			assert.Len(t, f.claim(t, "e2", T0.Add(5*time.Second), 0, m.ID), 1, "only the delivery e1 did not lease")
			n, err := f.s.ExpireSending(ctx, T0.Add(5*time.Second))
			require.NoError(t, err)
			assert.Zero(t, n, "e1 lives")

			require.NoError(t, f.s.Heartbeat(ctx, "e1", T0.Add(20*time.Second), T0.Add(9*time.Second)))
			assert.Empty(t, f.claim(t, "e3", T0.Add(15*time.Second), 0, m.ID), "renewed in time")

			// e1 dies: its heartbeat runs out long before its leases.
			got := f.claim(t, "e3", T0.Add(21*time.Second), 0, m.ID)
			require.Len(t, got, 1, "e1's pending delivery is taken over")
			assert.Equal(t, ds[1].ID, got[0].ID)
			n, err = f.s.ExpireSending(ctx, T0.Add(21*time.Second))
			require.NoError(t, err)
			assert.Equal(t, 1, n, "e1's send is unknown at once")
			assert.Equal(t, mailing.DeliveryUnknown, f.delivery(t, ds[0].ID).State)
		})
		run(t, "Retired", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			require.NoError(t, f.s.Heartbeat(ctx, "e1", T0.Add(time.Second), T0))
			require.Len(t, f.claim(t, "e1", T0, 0, m.ID), 3)
			require.NoError(t, f.s.RetireEngine(ctx, "e1"))
			assert.Empty(t, f.claim(t, "e2", T0.Add(10*time.Second), 0, m.ID), "without a heartbeat a lease lasts as claimed")
			assert.ErrorContains(t, f.s.Heartbeat(ctx, "", T0, T0), "name")
		})
	})
	t.Run("Backlog", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			other := f.mailing2(t)
			f.open(t, m.ID, T0)
			f.open(t, other.ID, T0)
			b, err := f.s.Backlog(ctx, mailing.BacklogFilter{MailingID: m.ID, RunAt: T0}, T0)
			require.NoError(t, err)
			assert.Equal(t, map[mailing.DeliveryState]int{mailing.DeliveryPending: 3}, b.Counts)
			assert.False(t, b.Final())
			assert.Zero(t, b.Retry)
			assert.Zero(t, b.Leased)

			ds := f.claim(t, "e1", T0, 0, m.ID)
			require.Len(t, ds, 3)
			require.Len(t, f.start(t, "e1", ids(ds), T0), 3)
			retry := result(ds[0], mailing.DeliveryPending, mailing.OutcomeTemporary, 451, "4.7.1 try later", T0)
			retry.NextAttemptAt = T0.Add(10 * time.Minute)
			f.finish(t, "e1", retry, result(ds[1], mailing.DeliverySent, mailing.OutcomeSent, 250, "ok", T0))
			// ds[2] stays in sending under e1's lease.

			b, err = f.s.Backlog(ctx, mailing.BacklogFilter{MailingID: m.ID, RunAt: T0}, T0.Add(time.Second))
			require.NoError(t, err)
			assert.Equal(t, map[mailing.DeliveryState]int{mailing.DeliveryPending: 1, mailing.DeliverySent: 1, mailing.DeliverySending: 1}, b.Counts)
			assert.Equal(t, 1, b.Retry)
			assert.Equal(t, T0.Add(10*time.Minute), b.NextRetry)
			assert.Equal(t, 1, b.Leased)
			assert.Equal(t, T0.Add(testLease), b.LeaseEnds)

			b, err = f.s.Backlog(ctx, mailing.BacklogFilter{Open: true}, T0.Add(time.Second))
			require.NoError(t, err)
			assert.Equal(t, map[mailing.DeliveryState]int{mailing.DeliveryPending: 1 + len(other.ClientIDs), mailing.DeliverySending: 1}, b.Counts, "every mailing, open deliveries only")

			b, err = f.s.Backlog(ctx, mailing.BacklogFilter{MailingID: m.ID, RunAt: T0.Add(time.Hour)}, T0)
			require.NoError(t, err)
			assert.True(t, b.Final(), "a run without deliveries")
			assert.Empty(t, b.Counts)
		})
	})
	t.Run("Advance", func(t *testing.T) {
		run(t, "RecordsThenStarts", func(t *testing.T, f *fixture) {
			// One transaction records a worker's result and starts its next
			// delivery: the row it finished is sent, the next is sending.
			ctx := t.Context()
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			ds := f.claim(t, "e1", T0, 0, m.ID)
			require.Len(t, ds, 3)
			first := f.start(t, "e1", []int64{ds[0].ID}, T0)
			require.Equal(t, []int64{ds[0].ID}, first)
			started, err := f.s.AdvanceDeliveries(ctx, "e1",
				[]mailing.Result{result(ds[0], mailing.DeliverySent, mailing.OutcomeSent, 250, "2.0.0 Ok", T0)},
				[]int64{ds[1].ID, ds[2].ID}, T0.Add(time.Second))
			require.NoError(t, err)
			assert.Equal(t, []int64{ds[1].ID, ds[2].ID}, started)
			assert.Equal(t, mailing.DeliverySent, f.delivery(t, ds[0].ID).State)
			for _, d := range ds[1:] {
				got := f.delivery(t, d.ID)
				assert.Equal(t, mailing.DeliverySending, got.State)
				assert.Equal(t, 1, got.Attempts)
			}
			_, n := f.attempts(t, mailing.AttemptFilter{MailingID: m.ID})
			assert.Equal(t, 1, n)

			started, err = f.s.AdvanceDeliveries(ctx, "e2", nil, []int64{ds[1].ID}, T0)
			require.NoError(t, err)
			assert.Empty(t, started, "not e2's lease, and already sending")
			started, err = f.s.AdvanceDeliveries(ctx, "e1", nil, nil, T0)
			require.NoError(t, err)
			assert.Empty(t, started, "nothing to do")
			started, err = f.s.AdvanceDeliveries(ctx, "e1",
				[]mailing.Result{
					result(ds[1], mailing.DeliveryFailed, mailing.OutcomePermanent, 550, "5.1.1 No such user", T0),
					result(ds[2], mailing.DeliverySent, mailing.OutcomeSent, 250, "2.0.0 Ok", T0),
				}, nil, T0)
			require.NoError(t, err)
			assert.Empty(t, started)
			assert.Equal(t, mailing.DeliveryFailed, f.delivery(t, ds[1].ID).State)
			assert.Equal(t, mailing.DeliverySent, f.delivery(t, ds[2].ID).State)
		})
	})
	t.Run("Release", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			ds := f.claim(t, "e1", T0, 0, 0)
			require.Len(t, ds, 3)

			require.NoError(t, f.s.ReleaseDeliveries(t.Context(), "e2", ids(ds)), "a stranger releases nothing")
			assert.Empty(t, f.claim(t, "e2", T0, 0, 0))

			require.NoError(t, f.s.ReleaseDeliveries(t.Context(), "e1", ids(ds[:2])))
			for _, d := range ds[:2] {
				s := f.delivery(t, d.ID)
				assert.Empty(t, s.LeaseOwner)
				assert.Equal(t, mailing.DeliveryPending, s.State)
				assert.Zero(t, s.Attempts)
			}
			got := f.claim(t, "e2", T0, 0, 0)
			assert.Equal(t, ids(ds[:2]), ids(got), "released rows are claimable at once")

			require.Len(t, f.start(t, "e1", ids(ds[2:]), T0), 1)
			require.NoError(t, f.s.ReleaseDeliveries(t.Context(), "e1", ids(ds[2:])))
			assert.Equal(t, mailing.DeliverySending, f.delivery(t, ds[2].ID).State, "a sending row is not released")
			assert.Equal(t, "e1", f.delivery(t, ds[2].ID).LeaseOwner)
		})
	})

	t.Run("ExpireSending", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			early := f.claim(t, "e1", T0, 1, 0)
			late := f.claim(t, "e2", T0.Add(time.Minute), 1, 0)
			idle := f.claim(t, "e3", T0, 1, 0)
			require.Len(t, f.start(t, "e1", ids(early), T0), 1)
			require.Len(t, f.start(t, "e2", ids(late), T0.Add(time.Minute)), 1)

			n, err := f.s.ExpireSending(ctx, T0.Add(testLease-time.Second))
			require.NoError(t, err)
			assert.Zero(t, n, "leases still running")

			now := T0.Add(testLease + 30*time.Second) // e1's lease ended, e2's runs on
			n, err = f.s.ExpireSending(ctx, now)
			require.NoError(t, err)
			assert.Equal(t, 1, n)

			d := f.delivery(t, early[0].ID)
			assert.Equal(t, mailing.DeliveryUnknown, d.State)
			assert.Empty(t, d.LeaseOwner)
			assert.NotEmpty(t, d.LastError)
			assert.Equal(t, mailing.DeliverySending, f.delivery(t, late[0].ID).State)
			assert.Equal(t, mailing.DeliveryPending, f.delivery(t, idle[0].ID).State, "a pending row with an expired lease is not touched")

			as, total := f.attempts(t, mailing.AttemptFilter{DeliveryID: early[0].ID})
			require.Len(t, as, 1)
			assert.Equal(t, 1, total)
			a := as[0]
			assert.Equal(t, mailing.OutcomeUnknown, a.Outcome, "an attempt says so")
			assert.Equal(t, now, a.At)
			assert.Equal(t, m.ID, a.MailingID)
			assert.Equal(t, early[0].ClientID, a.ClientID)
			assert.Equal(t, T0, a.RunAt)
			assert.NotEmpty(t, a.Response)

			n, err = f.s.ExpireSending(ctx, now)
			require.NoError(t, err)
			assert.Zero(t, n, "once only")
			assert.Equal(t, ids(idle), ids(f.claim(t, "e4", now, 0, 0)), "unknown and sending rows are not claimable")
		})
	})

	t.Run("RequeueFailed", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m := f.mailing1(t)
			f.open(t, m.ID, T0)
			failed := f.send(t, m.ID, T0, mailing.DeliveryFailed)
			next := T0.Add(24 * time.Hour)
			f.open(t, m.ID, next)
			f.send(t, m.ID, next, mailing.DeliveryFailed)

			later := T0.Add(time.Hour)
			n, err := f.s.RequeueFailed(ctx, m.ID, T0, later)
			require.NoError(t, err)
			assert.Equal(t, len(failed), n)
			for _, d := range failed {
				got := f.delivery(t, d.ID)
				assert.Equal(t, mailing.DeliveryPending, got.State)
				assert.Zero(t, got.Attempts)
				assert.Equal(t, later, got.NextAttemptAt)
				assert.Empty(t, got.LeaseOwner)
				as, _ := f.attempts(t, mailing.AttemptFilter{DeliveryID: d.ID})
				assert.Len(t, as, 1, "earlier attempts stay in the log")
			}
			other, _ := f.deliveries(t, mailing.DeliveryFilter{MailingID: m.ID, RunAt: next})
			for _, d := range other {
				assert.Equal(t, mailing.DeliveryFailed, d.State, "other runs are left alone")
			}
			assert.Len(t, f.claim(t, "again", later, 0, m.ID), len(failed), "claimable again")

			n, err = f.s.RequeueFailed(ctx, m.ID, T0, later)
			require.NoError(t, err)
			assert.Zero(t, n, "nothing failed any more")
		})
	})

	t.Run("ListDeliveries", func(t *testing.T) {
		run(t, "Filters", func(t *testing.T, f *fixture) {
			m1, m2 := f.mailing1(t), f.mailing2(t)
			day := 24 * time.Hour
			f.open(t, m1.ID, T0)
			f.open(t, m2.ID, T0)
			f.send(t, m1.ID, T0, mailing.DeliverySent)
			f.open(t, m1.ID, T0.Add(day))
			first, _ := f.deliveries(t, mailing.DeliveryFilter{})
			require.Len(t, first, 8)
			// m1 run 1: sent x3; m2 run 1: pending x2; m1 run 2: pending x3, one fails.
			ds := f.claim(t, "e1", T0.Add(day), 1, m1.ID)
			require.Len(t, ds, 1)
			require.Len(t, f.start(t, "e1", ids(ds), T0.Add(day)), 1)
			f.finish(t, "e1", result(ds[0], mailing.DeliveryFailed, mailing.OutcomePermanent, 550, "no", T0.Add(day)))
			failedID := ds[0].ID

			all, _ := f.deliveries(t, mailing.DeliveryFilter{})
			byState := func(states ...mailing.DeliveryState) []int64 {
				var out []int64
				for _, d := range all {
					if slices.Contains(states, d.State) {
						out = append(out, d.ID)
					}
				}
				return out
			}
			var m1run1, m1run2, m2ids, ann []int64
			for _, d := range all {
				switch {
				case d.MailingID == m2.ID:
					m2ids = append(m2ids, d.ID)
				case d.RunAt.Equal(T0):
					m1run1 = append(m1run1, d.ID)
				default:
					m1run2 = append(m1run2, d.ID)
				}
				if d.ClientID == f.Ann.ID {
					ann = append(ann, d.ID)
				}
			}
			require.Len(t, m1run1, 3)
			require.Len(t, m1run2, 3)
			require.Len(t, m2ids, 2)
			allIDs := ids(all)
			for _, tc := range []struct {
				name  string
				f     mailing.DeliveryFilter
				want  []int64
				total int
			}{
				{"all", mailing.DeliveryFilter{}, allIDs, 8},
				{"owner 1", mailing.DeliveryFilter{OwnerID: 1}, sorted(append(slices.Clone(m1run1), m1run2...)), 6},
				{"owner 2", mailing.DeliveryFilter{OwnerID: 2}, m2ids, 2},
				{"owner 3", mailing.DeliveryFilter{OwnerID: 3}, nil, 0},
				{"mailing", mailing.DeliveryFilter{MailingID: m2.ID}, m2ids, 2},
				{"run", mailing.DeliveryFilter{MailingID: m1.ID, RunAt: T0.Add(day)}, m1run2, 3},
				{"run of every mailing", mailing.DeliveryFilter{RunAt: T0}, sorted(append(slices.Clone(m1run1), m2ids...)), 5},
				{"client", mailing.DeliveryFilter{ClientID: f.Ann.ID}, ann, 2},
				{"state", mailing.DeliveryFilter{States: []mailing.DeliveryState{mailing.DeliverySent}}, m1run1, 3},
				{"states", mailing.DeliveryFilter{States: []mailing.DeliveryState{mailing.DeliveryFailed, mailing.DeliverySent}},
					byState(mailing.DeliveryFailed, mailing.DeliverySent), 4},
				{"state and mailing", mailing.DeliveryFilter{MailingID: m1.ID, States: []mailing.DeliveryState{mailing.DeliveryPending}},
					slices.DeleteFunc(slices.Clone(m1run2), func(id int64) bool { return id == failedID }), 2},
				{"page", mailing.DeliveryFilter{ListOptions: mailing.ListOptions{Limit: 3, Offset: 2}}, allIDs[2:5], 8},
				{"filtered page", mailing.DeliveryFilter{OwnerID: 1, ListOptions: mailing.ListOptions{Limit: 2, Offset: 5}}, m1run2[2:], 6},
			} {
				got, n := f.deliveries(t, tc.f)
				assert.Equal(t, sorted(tc.want), ids(got), tc.name)
				assert.Equal(t, tc.total, n, "%s: total", tc.name)
			}
			assert.Equal(t, mailing.DeliveryFailed, f.delivery(t, failedID).State)
			assert.Equal(t, []int64{failedID}, byState(mailing.DeliveryFailed))
		})
	})

	t.Run("ListAttempts", func(t *testing.T) {
		run(t, "Filters", func(t *testing.T, f *fixture) {
			m1, m2 := f.mailing1(t), f.mailing2(t)
			f.open(t, m1.ID, T0)
			f.open(t, m2.ID, T0)
			s1 := f.send(t, m1.ID, T0, mailing.DeliverySent)   // attempts 1-3
			s2 := f.send(t, m2.ID, T0, mailing.DeliveryFailed) // attempts 4-5
			f.open(t, m1.ID, T0.Add(24*time.Hour))
			s3 := f.send(t, m1.ID, T0.Add(24*time.Hour), mailing.DeliveryUnknown) // attempts 6-8

			all, n := f.attempts(t, mailing.AttemptFilter{})
			require.Len(t, all, 8)
			assert.Equal(t, 8, n)
			byDelivery := map[int64]int64{}
			for _, a := range all {
				byDelivery[a.DeliveryID] = a.ID
			}
			pick := func(ds ...[]mailing.Delivery) []int64 {
				var out []int64
				for _, group := range ds {
					for _, d := range group {
						out = append(out, byDelivery[d.ID])
					}
				}
				return sorted(out)
			}
			var annIDs, danIDs []int64
			for _, a := range all {
				switch a.ClientID {
				case f.Ann.ID:
					annIDs = append(annIDs, a.ID)
				case f.Dan.ID:
					danIDs = append(danIDs, a.ID)
				}
			}
			allIDs := ids(all)
			for _, tc := range []struct {
				name  string
				f     mailing.AttemptFilter
				want  []int64
				total int
			}{
				{"owner 1", mailing.AttemptFilter{OwnerID: 1}, pick(s1, s3), 6},
				{"owner 2", mailing.AttemptFilter{OwnerID: 2}, pick(s2), 2},
				{"owner 3", mailing.AttemptFilter{OwnerID: 3}, nil, 0},
				{"mailing", mailing.AttemptFilter{MailingID: m2.ID}, pick(s2), 2},
				{"delivery", mailing.AttemptFilter{DeliveryID: s3[1].ID}, pick(s3[1:2]), 1},
				{"client", mailing.AttemptFilter{ClientID: f.Ann.ID}, annIDs, 2},
				{"client and mailing", mailing.AttemptFilter{ClientID: f.Dan.ID, MailingID: m2.ID}, danIDs, 1},
				{"page", mailing.AttemptFilter{ListOptions: mailing.ListOptions{Limit: 3, Offset: 6}}, allIDs[6:], 8},
				{"filtered page", mailing.AttemptFilter{OwnerID: 1, ListOptions: mailing.ListOptions{Limit: 1}}, pick(s1)[:1], 6},
			} {
				got, n := f.attempts(t, tc.f)
				assert.Equal(t, sorted(tc.want), ids(got), tc.name)
				assert.Equal(t, tc.total, n, "%s: total", tc.name)
			}
		})
	})

	t.Run("RunSummaries", func(t *testing.T) {
		run(t, "OK", func(t *testing.T, f *fixture) {
			ctx := t.Context()
			m1, m2 := f.mailing1(t), f.mailing2(t)
			day := 24 * time.Hour
			f.open(t, m1.ID, T0)
			f.send(t, m1.ID, T0, mailing.DeliverySent)
			f.open(t, m1.ID, T0.Add(day))
			ds := f.claim(t, "e1", T0.Add(day), 2, m1.ID)
			require.Len(t, ds, 2)
			require.Len(t, f.start(t, "e1", ids(ds), T0.Add(day)), 2)
			f.finish(t, "e1", result(ds[0], mailing.DeliveryFailed, mailing.OutcomePermanent, 550, "no", T0.Add(day)))
			// run 2: failed, sending, pending
			f.open(t, m1.ID, T0.Add(2*day))
			f.open(t, m2.ID, T0)

			runs, err := f.s.RunSummaries(ctx, m1.ID)
			require.NoError(t, err)
			for i := range runs {
				runs[i].RunAt = canonTime(t, "RunSummary.RunAt", runs[i].RunAt)
				maps := runs[i].Counts
				for k, v := range maps {
					if v == 0 {
						delete(maps, k) // a zero count may be listed or not
					}
				}
			}
			assert.Equal(t, []mailing.RunSummary{
				{MailingID: m1.ID, RunAt: T0.Add(2 * day), Counts: map[mailing.DeliveryState]int{mailing.DeliveryPending: 3}},
				{MailingID: m1.ID, RunAt: T0.Add(day), Counts: map[mailing.DeliveryState]int{
					mailing.DeliveryFailed: 1, mailing.DeliverySending: 1, mailing.DeliveryPending: 1,
				}},
				{MailingID: m1.ID, RunAt: T0, Counts: map[mailing.DeliveryState]int{mailing.DeliverySent: 3}},
			}, runs, "newest run first, counted by state")

			none := f.mailing1(t)
			runs, err = f.s.RunSummaries(ctx, none.ID)
			require.NoError(t, err)
			assert.Empty(t, runs, "a mailing without runs")
		})
	})
}

// ---------------------------------------------------------------------------
// context

func testContext(t *testing.T, run runner) {
	run(t, "Canceled", func(t *testing.T, f *fixture) {
		m := f.mailing1(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		c := mailing.Client{OwnerID: 1, Email: "late@example.com"}
		for name, call := range map[string]func() error{
			"CreateClient": func() error { return f.s.CreateClient(ctx, &c) },
			"GetClient":    func() error { _, err := f.s.GetClient(ctx, f.Ann.ID); return err },
			"ListClients":  func() error { _, _, err := f.s.ListClients(ctx, mailing.ClientFilter{}); return err },
			"GetMailing":   func() error { _, err := f.s.GetMailing(ctx, m.ID); return err },
			"OpenRun": func() error {
				_, err := f.s.OpenRun(ctx, mailing.RunPlan{MailingID: m.ID, RunAt: T0, Expect: T0, Next: T0.Add(time.Hour), Now: T0})
				return err
			},
			"ClaimDeliveries": func() error {
				_, err := f.s.ClaimDeliveries(ctx, mailing.ClaimRequest{Owner: "e1", Now: T0, Lease: time.Minute})
				return err
			},
			"ListDeliveries": func() error { _, _, err := f.s.ListDeliveries(ctx, mailing.DeliveryFilter{}); return err },
		} {
			assert.ErrorIs(t, call(), context.Canceled, name)
		}
		_, n, err := f.s.ListClients(t.Context(), mailing.ClientFilter{Search: "late@"})
		require.NoError(t, err)
		assert.Zero(t, n, "a cancelled CreateClient stores nothing")
		assert.Equal(t, T0, f.getMailing(t, m.ID).NextRun, "a cancelled OpenRun changes nothing")
	})
}
