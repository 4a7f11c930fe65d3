package mailing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/accounts"
	"github.com/skychimp/skychimp/mailing"
	"github.com/skychimp/skychimp/mailing/mailingtest"
)

var (
	alice   = accounts.User{ID: 1, Email: "alice@example.com", Role: accounts.RoleUser, Verified: true}
	bob     = accounts.User{ID: 2, Email: "bob@example.com", Role: accounts.RoleUser, Verified: true}
	manager = accounts.User{ID: 3, Email: "manager@example.com", Role: accounts.RoleManager, Verified: true}
	writer  = accounts.User{ID: 4, Email: "content@example.com", Role: accounts.RoleContentManager, Verified: true}
	root    = accounts.User{ID: 5, Email: "root@example.com", Role: accounts.RoleSuperuser, Verified: true}
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	svc     *mailing.Service
	store   *mailingtest.MemStore
	clock   *mailingtest.FakeClock
	changed []int64
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{store: mailingtest.NewMemStore(), clock: mailingtest.NewFakeClock(t0)}
	f.svc = mailing.NewService(f.store, f.clock, mailing.WithChangeHook(func(_ context.Context, id int64) {
		f.changed = append(f.changed, id)
	}))
	return f
}

func as(u accounts.User) context.Context { return accounts.WithUser(context.Background(), u) }

// seed gives u a client, a message and a mailing running now.
func (f *fixture) seed(t *testing.T, u accounts.User) (mailing.Client, mailing.Message, mailing.Mailing) {
	t.Helper()
	ctx := as(u)
	c, err := f.svc.CreateClient(ctx, mailing.Client{Email: "c" + u.Email, Name: "Client of " + u.Email})
	require.NoError(t, err)
	m, err := f.svc.CreateMessage(ctx, mailing.Message{Subject: "Hello {{.Name}}", Body: "<p>Hi {{.Name}}</p>"})
	require.NoError(t, err)
	ml, err := f.svc.CreateMailing(ctx, mailing.Mailing{
		MessageID: m.ID, ClientIDs: []int64{c.ID},
		Start: t0.Add(-time.Hour), End: t0.Add(30 * 24 * time.Hour), Period: mailing.Daily,
	})
	require.NoError(t, err)
	return c, m, ml
}

func fieldErr(t *testing.T, err error, field string) string {
	t.Helper()
	var ve *mailing.ValidationError
	require.ErrorAs(t, err, &ve)
	require.ErrorIs(t, err, mailing.ErrInvalid)
	msg := ve.Field(field)
	require.NotEmpty(t, msg, "no error for field %q in %v", field, err)
	return msg
}

func TestServiceValidation(t *testing.T) {
	f := newFixture(t)
	ctx := as(alice)
	c, m, _ := f.seed(t, alice)
	bc, bm, _ := f.seed(t, bob)

	t.Run("MalformedEmail", func(t *testing.T) {
		_, err := f.svc.CreateClient(ctx, mailing.Client{Email: "not-an-email", Name: "Nobody"})
		assert.Contains(t, fieldErr(t, err, "email"), "not a valid email address")
	})
	t.Run("EmptyName", func(t *testing.T) {
		_, err := f.svc.CreateClient(ctx, mailing.Client{Email: "noname@example.com", Name: "   "})
		assert.Equal(t, "is required", fieldErr(t, err, "name"))
		cur, err := f.svc.GetClient(ctx, c.ID)
		require.NoError(t, err)
		cur.Name = ""
		_, err = f.svc.UpdateClient(ctx, cur)
		assert.Equal(t, "is required", fieldErr(t, err, "name"), "on edit too")
	})
	t.Run("DuplicateEmailIsCaseInsensitive", func(t *testing.T) {
		_, err := f.svc.CreateClient(ctx, mailing.Client{Email: "C" + alice.Email, Name: "Again"})
		assert.Contains(t, fieldErr(t, err, "email"), "already one of your clients")
	})
	t.Run("EmptySubject", func(t *testing.T) {
		_, err := f.svc.CreateMessage(ctx, mailing.Message{Subject: "  ", Body: "x"})
		assert.Equal(t, "is required", fieldErr(t, err, "subject"))
	})
	t.Run("BadTemplate", func(t *testing.T) {
		_, err := f.svc.CreateMessage(ctx, mailing.Message{Subject: "Hi", Body: "{{.Nmae}}"})
		assert.Contains(t, fieldErr(t, err, "body"), "cannot be rendered")
	})
	valid := mailing.Mailing{MessageID: m.ID, ClientIDs: []int64{c.ID}, Start: t0, End: t0.Add(time.Hour), Period: mailing.Weekly}
	t.Run("EndNotAfterStart", func(t *testing.T) {
		in := valid
		in.End = in.Start
		_, err := f.svc.CreateMailing(ctx, in)
		assert.Equal(t, "must be after the start", fieldErr(t, err, "end"))
	})
	t.Run("UnknownPeriod", func(t *testing.T) {
		in := valid
		in.Period = "hourly"
		_, err := f.svc.CreateMailing(ctx, in)
		assert.Contains(t, fieldErr(t, err, "period"), `"hourly" is not a period`)
	})
	t.Run("UnknownTimeZone", func(t *testing.T) {
		in := valid
		in.TimeZone = "Mars/Olympus"
		_, err := f.svc.CreateMailing(ctx, in)
		assert.Contains(t, fieldErr(t, err, "time_zone"), "not a known time zone")
	})
	t.Run("ForeignMessage", func(t *testing.T) {
		in := valid
		in.MessageID = bm.ID
		_, err := f.svc.CreateMailing(ctx, in)
		assert.Contains(t, fieldErr(t, err, "message_id"), "not found")
	})
	t.Run("ForeignClient", func(t *testing.T) {
		in := valid
		in.ClientIDs = []int64{c.ID, bc.ID}
		_, err := f.svc.CreateMailing(ctx, in)
		assert.Contains(t, fieldErr(t, err, "client_ids"), "not found")
	})
	t.Run("ImportReportsEveryBadRow", func(t *testing.T) {
		_, err := f.svc.ImportClients(ctx, []mailing.Client{
			{Email: "ok@example.com", Name: "OK"}, {Email: "bad", Name: "Bad"}, {Email: "OK@example.com", Name: "OK again"}, {Email: "noname@example.com"},
		})
		var ve *mailing.ValidationError
		require.ErrorAs(t, err, &ve)
		assert.NotEmpty(t, ve.Field("row 2: email"))
		assert.Contains(t, ve.Field("row 3: email"), "repeats row 1")
		assert.Equal(t, "is required", ve.Field("row 4: name"))
		list, _, err := f.svc.ListClients(ctx, mailing.ClientFilter{Search: "ok@"})
		require.NoError(t, err)
		assert.Empty(t, list, "nothing half-imported")
	})
}

func TestServiceOwnership(t *testing.T) {
	f := newFixture(t)
	ac, am, aml := f.seed(t, alice)
	f.seed(t, bob)

	t.Run("OwnerReadsAndWrites", func(t *testing.T) {
		ctx := as(alice)
		_, err := f.svc.GetClient(ctx, ac.ID)
		require.NoError(t, err)
		ac.Name = "Renamed"
		_, err = f.svc.UpdateClient(ctx, ac)
		require.NoError(t, err)
		list, total, err := f.svc.ListMailings(ctx, mailing.MailingFilter{OwnerID: bob.ID})
		require.NoError(t, err)
		assert.Equal(t, 1, total, "a user's list is always their own, whatever owner is asked for")
		assert.Equal(t, alice.ID, list[0].OwnerID)
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx := as(bob)
		_, errOther := f.svc.GetClient(ctx, ac.ID)
		_, errMissing := f.svc.GetClient(ctx, 999)
		assert.ErrorIs(t, errOther, mailing.ErrNotFound)
		assert.Equal(t, "client 999: mailing: not found", errMissing.Error())
		_, err := f.svc.GetMessage(ctx, am.ID)
		assert.ErrorIs(t, err, mailing.ErrNotFound)
		_, err = f.svc.GetMailing(ctx, aml.ID)
		assert.ErrorIs(t, err, mailing.ErrNotFound)
		_, err = f.svc.UpdateClient(ctx, ac)
		assert.ErrorIs(t, err, mailing.ErrNotFound)
		assert.ErrorIs(t, f.svc.DeleteClient(ctx, ac.ID), mailing.ErrNotFound)
		assert.ErrorIs(t, f.svc.DeleteMessage(ctx, am.ID), mailing.ErrNotFound)
		assert.ErrorIs(t, f.svc.DeleteMailing(ctx, aml.ID), mailing.ErrNotFound)
		_, err = f.svc.SetMailingEnabled(ctx, aml.ID, false)
		assert.ErrorIs(t, err, mailing.ErrNotFound)
		_, err = f.svc.RunSummaries(ctx, aml.ID)
		assert.ErrorIs(t, err, mailing.ErrNotFound)
	})
	t.Run("ManagerReadsAllChangesNothingButEnabled", func(t *testing.T) {
		ctx := as(manager)
		list, total, err := f.svc.ListMailings(ctx, mailing.MailingFilter{})
		require.NoError(t, err)
		assert.Equal(t, 2, total)
		assert.Len(t, list, 2)
		_, err = f.svc.GetClient(ctx, ac.ID)
		require.NoError(t, err)
		_, err = f.svc.UpdateMailing(ctx, aml)
		assert.ErrorIs(t, err, mailing.ErrForbidden)
		_, err = f.svc.CreateClient(ctx, mailing.Client{Email: "m@example.com", Name: "M"})
		assert.ErrorIs(t, err, mailing.ErrForbidden)
		assert.ErrorIs(t, f.svc.DeleteMessage(ctx, am.ID), mailing.ErrForbidden)

		off, err := f.svc.SetMailingEnabled(ctx, aml.ID, false)
		require.NoError(t, err)
		assert.False(t, off.Enabled)
		assert.True(t, off.NextRun.IsZero(), "a disabled mailing has nothing due")
		on, err := f.svc.SetMailingEnabled(ctx, aml.ID, true)
		require.NoError(t, err)
		assert.True(t, on.Enabled)
		assert.Equal(t, aml.Start, on.NextRun, "re-enabled inside its window: the current run is due at once")
	})
	t.Run("OwnerCannotSwitchEnabled", func(t *testing.T) {
		_, err := f.svc.SetMailingEnabled(as(alice), aml.ID, false)
		assert.ErrorIs(t, err, mailing.ErrForbidden)
	})
	t.Run("UpdateKeepsEnabled", func(t *testing.T) {
		_, err := f.svc.SetMailingEnabled(as(manager), aml.ID, false)
		require.NoError(t, err)
		cur, err := f.svc.GetMailing(as(alice), aml.ID)
		require.NoError(t, err)
		cur.Enabled = true
		got, err := f.svc.UpdateMailing(as(alice), cur)
		require.NoError(t, err)
		assert.False(t, got.Enabled, "only staff switch a mailing on")
	})
	t.Run("ContentManagerForbidden", func(t *testing.T) {
		_, _, err := f.svc.ListClients(as(writer), mailing.ClientFilter{})
		assert.ErrorIs(t, err, mailing.ErrForbidden)
	})
	t.Run("Anonymous", func(t *testing.T) {
		_, _, err := f.svc.ListMailings(context.Background(), mailing.MailingFilter{})
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated)
	})
	t.Run("BlockedUser", func(t *testing.T) {
		blocked := alice
		blocked.Blocked = true
		_, err := f.svc.GetClient(as(blocked), ac.ID)
		assert.ErrorIs(t, err, accounts.ErrUnauthenticated)
	})
	t.Run("SuperuserDoesEverything", func(t *testing.T) {
		ctx := as(root)
		m, err := f.svc.GetMessage(ctx, am.ID)
		require.NoError(t, err)
		m.Subject = "Changed by root"
		_, err = f.svc.UpdateMessage(ctx, m)
		require.NoError(t, err)
		c, err := f.svc.CreateClient(ctx, mailing.Client{OwnerID: alice.ID, Email: "foralice@example.com", Name: "For Alice"})
		require.NoError(t, err)
		assert.Equal(t, alice.ID, c.OwnerID)
	})
	t.Run("MessageInUse", func(t *testing.T) {
		err := f.svc.DeleteMessage(as(alice), am.ID)
		assert.ErrorIs(t, err, mailing.ErrConflict)
		assert.Contains(t, err.Error(), "used by a mailing")
	})
}

func TestServiceNextRun(t *testing.T) {
	f := newFixture(t)
	ctx := as(alice)
	c, m, running := f.seed(t, alice)
	assert.Equal(t, running.Start, running.NextRun, "created inside its window: due at once")
	assert.True(t, running.Enabled)
	assert.Equal(t, []int64{running.ID}, f.changed)

	future, err := f.svc.CreateMailing(ctx, mailing.Mailing{
		MessageID: m.ID, ClientIDs: []int64{c.ID}, Start: t0.Add(48 * time.Hour), End: t0.Add(96 * time.Hour), Period: mailing.Daily,
	})
	require.NoError(t, err)
	assert.Equal(t, t0.Add(48*time.Hour), future.NextRun, "a future start waits for its start")

	short, err := f.svc.CreateMailing(ctx, mailing.Mailing{
		MessageID: m.ID, ClientIDs: []int64{c.ID}, Start: t0.Add(-time.Hour), End: t0.Add(time.Hour), Period: mailing.Daily,
	})
	require.NoError(t, err)

	f.clock.Advance(26 * time.Hour)
	short.Name = "Renamed after its end"
	over, err := f.svc.UpdateMailing(ctx, short)
	require.NoError(t, err, "an ended mailing may be edited while its end stays")
	assert.True(t, over.NextRun.IsZero(), "a mailing that has ended has nothing to send")
	assert.Equal(t, mailing.StatusCompleted, over.Status(f.clock.Now()))

	running.ClientIDs = []int64{c.ID}
	edited, err := f.svc.UpdateMailing(ctx, running)
	require.NoError(t, err)
	assert.Equal(t, running.Start.Add(24*time.Hour), edited.NextRun, "edited inside its window: today's run is due at once")
}

// TestServiceEndInThePast: a mailing that could never send is refused
// with a field error, on create and whenever its end is changed.
func TestServiceEndInThePast(t *testing.T) {
	f := newFixture(t)
	ctx := as(alice)
	c, m, running := f.seed(t, alice)
	past := mailing.Mailing{MessageID: m.ID, ClientIDs: []int64{c.ID}, Start: t0.Add(-96 * time.Hour), End: t0.Add(-48 * time.Hour), Period: mailing.Daily}

	t.Run("CreateErrInvalid", func(t *testing.T) {
		_, err := f.svc.CreateMailing(ctx, past)
		assert.Contains(t, fieldErr(t, err, "end"), "is already past")
		in := past
		in.End = t0
		_, err = f.svc.CreateMailing(ctx, in)
		assert.Contains(t, fieldErr(t, err, "end"), "is already past", "an end of now is past too")
		in.End = t0.Add(time.Second)
		_, err = f.svc.CreateMailing(ctx, in)
		assert.NoError(t, err, "a second to go")
	})
	t.Run("CreateEndBeforeStartSaysSo", func(t *testing.T) {
		in := past
		in.Start, in.End = t0.Add(-time.Hour), t0.Add(-2*time.Hour)
		_, err := f.svc.CreateMailing(ctx, in)
		assert.Equal(t, "must be after the start", fieldErr(t, err, "end"), "one error per field")
	})
	t.Run("CreateReportsEveryField", func(t *testing.T) {
		in := past
		in.Period = ""
		_, err := f.svc.CreateMailing(ctx, in)
		assert.Equal(t, "is required", fieldErr(t, err, "period"))
		assert.Contains(t, fieldErr(t, err, "end"), "is already past")
	})
	t.Run("UpdateToPastEndErrInvalid", func(t *testing.T) {
		in := running
		in.End = t0.Add(-time.Minute)
		_, err := f.svc.UpdateMailing(ctx, in)
		assert.Contains(t, fieldErr(t, err, "end"), "is already past")
		got, err := f.svc.GetMailing(ctx, running.ID)
		require.NoError(t, err)
		assert.Equal(t, running.End, got.End, "nothing saved")
	})
	t.Run("UpdateEndedMailingKeepsItsEnd", func(t *testing.T) {
		f := newFixture(t)
		_, _, ml := f.seed(t, alice)
		f.clock.Set(ml.End.Add(time.Hour))
		ml.Name = "Archived"
		got, err := f.svc.UpdateMailing(ctx, ml)
		require.NoError(t, err, "the end is unchanged")
		assert.Equal(t, mailing.StatusCompleted, got.Status(f.clock.Now()))
		ml.End = ml.End.Add(time.Minute)
		_, err = f.svc.UpdateMailing(ctx, ml)
		assert.Contains(t, fieldErr(t, err, "end"), "is already past", "a changed end must be in the future")
		ml.End = f.clock.Now().Add(24 * time.Hour)
		got, err = f.svc.UpdateMailing(ctx, ml)
		require.NoError(t, err, "given a future end it runs again")
		assert.Equal(t, mailing.StatusRunning, got.Status(f.clock.Now()))
		assert.False(t, got.NextRun.IsZero())
	})
}

func TestServiceErrorsDoNotLeak(t *testing.T) {
	f := newFixture(t)
	ac, _, _ := f.seed(t, alice)
	_, errOther := f.svc.GetClient(as(bob), ac.ID)
	_, errMissing := f.svc.GetClient(as(bob), ac.ID+1000)
	require.Error(t, errOther)
	require.Error(t, errMissing)
	assert.True(t, errors.Is(errOther, mailing.ErrNotFound) && errors.Is(errMissing, mailing.ErrNotFound))
	missing := ac.ID + 1000
	assert.Equal(t, strings.Replace(errMissing.Error(), fmt.Sprint(missing), fmt.Sprint(ac.ID), 1), errOther.Error(),
		"the two errors differ only in the id")
}

func TestServiceUnsubscribe(t *testing.T) {
	f := newFixture(t)
	c, _, m := f.seed(t, alice)
	c2, err := f.svc.CreateClient(as(alice), mailing.Client{Email: "second@example.com", Name: "Second"})
	require.NoError(t, err)
	m.ClientIDs = []int64{c.ID, c2.ID}
	m, err = f.svc.UpdateMailing(as(alice), m)
	require.NoError(t, err)
	secret := []byte("test secret")

	token := mailing.UnsubscribeToken(secret, mailing.Delivery{MailingID: m.ID, ClientID: c.ID})
	require.NoError(t, f.svc.Unsubscribe(context.Background(), secret, token))
	got, err := f.svc.GetMailing(as(alice), m.ID)
	require.NoError(t, err)
	assert.Equal(t, []int64{c2.ID}, got.ClientIDs)
	require.NoError(t, f.svc.Unsubscribe(context.Background(), secret, token), "twice is fine")

	assert.ErrorIs(t, f.svc.Unsubscribe(context.Background(), []byte("other"), token), mailing.ErrBadToken)
	assert.ErrorIs(t, f.svc.Unsubscribe(context.Background(), secret, token[:10]), mailing.ErrBadToken)
}
