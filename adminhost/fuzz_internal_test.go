package adminhost

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	gform "github.com/GoAdminGroup/go-admin/plugins/admin/modules/form"

	"github.com/skychimp/skychimp/mailing"
)

// fuzzZone picks a zone the form offers (DST in both hemispheres, half
// hours, a zone that skipped a day) or a fuzzed name.
func fuzzZone(i uint8, name string) string {
	zones := []string{"", "UTC", "Europe/Moscow", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia", "Europe/London", "America/Santiago"}
	if int(i) < len(zones) {
		return zones[i]
	}
	return name
}

// ambiguous reports whether t's wall clock in its zone also names another
// instant (when clocks go back).
func ambiguous(t time.Time) bool {
	wall := t.Format(formTime)
	for _, d := range []time.Duration{-2 * time.Hour, -time.Hour, -30 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour} {
		if t.Add(d).Format(formTime) == wall {
			return true
		}
	}
	return false
}

// FuzzFormTime: what the date and time pickers write (and people type)
// reads as a wall time in the mailing's zone. Properties: a time read is
// in that zone, whole seconds, and reads the same when written back as the
// form shows it; a time the form shows reads back as itself, except a wall
// time that happens twice, which reads as its first occurrence; a wall time
// that a gap skips moves forward, never back.
func FuzzFormTime(f *testing.F) {
	for _, s := range []struct {
		text string
		zone uint8
		name string
		unix int64
	}{
		{"2030-03-30 09:00:00", 0, "", 1900000000},
		{"2030-06-30 09:00", 3, "", 1909000000},
		{"2026-03-08T02:30", 3, "", 1772953200},    // skipped in New York
		{"2026-11-01T01:30:00", 3, "", 1793511000}, // twice in New York
		{"2011-12-30", 6, "", 1325239200},          // Apia skipped the day
		{"0999-12-31 23:59:59", 1, "", -30610224001},
		{"9999-12-31 23:59:59", 2, "", 253402300799},
		{"2026-02-30 10:00", 0, "", 0},
		{"2026-1-2 3:04", 0, "", 0},
		{"tomorrow", 0, "", 0},
		{"2026-01-02 10:00:00", 200, "Europe/Berlin", 1767344400},
		{"2026-01-02 10:00:00", 200, "Mars/Olympus", 0},
	} {
		f.Add(s.text, s.zone, s.name, s.unix)
	}
	f.Fuzz(func(t *testing.T, text string, zone uint8, name string, unix int64) {
		loc, err := mailing.LoadLocation(fuzzZone(zone, name))
		if err != nil {
			t.Skip("not a zone")
		}
		if got, ok := parseFormTime(text, loc); ok {
			assert.Equal(t, loc, got.Location())
			assert.Zero(t, got.Nanosecond())
			// The schedule's rule at daylight saving changes: the wall
			// time typed, or the first later one that exists (a gap); and
			// of two instants showing it, the first.
			typed, ok := parseFormTime(text, time.UTC)
			require.True(t, ok, "%q reads in %s but not in UTC", text, loc)
			gotWall := time.Date(got.Year(), got.Month(), got.Day(), got.Hour(), got.Minute(), got.Second(), 0, time.UTC)
			assert.False(t, gotWall.Before(typed), "%q read as %s: back across a gap", text, got)
			if gotWall.Equal(typed) && ambiguous(got) {
				for _, d := range []time.Duration{30 * time.Minute, time.Hour, 2 * time.Hour} {
					assert.NotEqual(t, got.Format(formTime), got.Add(-d).Format(formTime), "%q (twice in %s) read as the later %s", text, loc, got)
				}
			}
			shown := got.Format(formTime)
			again, ok := parseFormTime(shown, loc)
			require.True(t, ok, "%q read as %s, shown as %q, which does not read", text, got, shown)
			assert.True(t, again.Equal(got), "%q read as %s, shown as %q, read back as %s", text, got, shown, again)
		}

		// What the form shows reads back as itself.
		want := time.Unix(unix, 0).In(loc)
		if y := want.Year(); y < 0 || y > 9999 {
			return // not four digits: Validate refuses such times anyway
		}
		shown := want.Format(formTime)
		got, ok := parseFormTime(shown, loc)
		require.True(t, ok, "the form shows %s as %q, which does not read", want, shown)
		assert.Equal(t, shown, got.Format(formTime), "%q read as another wall time", shown)
		if ambiguous(want) {
			assert.False(t, got.After(want), "%q (twice in %s) read as the later %s, not the first occurrence", shown, loc, got)
		} else {
			assert.True(t, got.Equal(want), "the form shows %s as %q, read back as %s", want, shown, got)
		}
	})
}

// FuzzMailingFromForm feeds any form to the mailing form's reader.
// Properties: problems are a *mailing.ValidationError on the fields that
// were typed; a mailing read and valid, shown again in the edit form the way
// the list rows fill it, reads back as the same mailing (but for a wall time
// that happens twice).
func FuzzMailingFromForm(f *testing.F) {
	for _, s := range [][7]string{
		{"4", " N ", "2", "3,1", "2030-03-30 09:00:00", "2030-06-30 09:00", "monthly"},
		{"", "", "1", "1", "2026-03-08 02:30", "2026-04-08", "daily"},
		{"x", "", "-1", "1,x", "tomorrow", "", "hourly"},
		{"", "", "1", " 1 , ,2", "0999-01-01", "9999-12-31 23:59:59", "weekly"},
		{"", "", "1", "1", "2026-11-01 01:30", "2026-11-02 01:30", "daily"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4], s[5], s[6], uint8(3), "")
	}
	f.Add("", "", "1", "9223372036854775807", "2026-01-01", "2027-01-01", "weekly", uint8(200), " Europe/Berlin ")
	f.Fuzz(func(t *testing.T, id, name, messageID, clientIDs, start, end, period string, zone uint8, zoneName string) {
		tz := fuzzZone(zone, zoneName)
		v := gform.Values{"id": {id}, "name": {name}, "message_id": {messageID}, "client_ids[]": strings.Split(clientIDs, ","),
			"start": {start}, "end": {end}, "period": {period}, "time_zone": {tz}}
		m, err := mailingFromForm(v)
		if err != nil {
			var ve *mailing.ValidationError
			require.True(t, errors.As(err, &ve), "not a ValidationError: %v", err)
			require.NotEmpty(t, ve.Fields)
			for _, fe := range ve.Fields {
				assert.Contains(t, []string{"time_zone", "start", "end", "client_ids"}, fe.Field)
				assert.NotEmpty(t, fe.Message)
			}
			return
		}
		if m.Validate() != nil {
			return
		}
		loc, err := mailing.LoadLocation(m.TimeZone)
		require.NoError(t, err)
		shownZone := m.TimeZone
		if shownZone == "" {
			shownZone = "UTC"
		}
		back := gform.Values{"id": {"7"}, "name": {m.Name}, "message_id": {"5"}, "client_ids[]": {joinIDs(m.ClientIDs)},
			"start": {m.Start.In(loc).Format(formTime)}, "end": {m.End.In(loc).Format(formTime)},
			"period": {string(m.Period)}, "time_zone": {shownZone}}
		m2, err := mailingFromForm(back)
		require.NoError(t, err, "the edit form of %+v does not read", m)
		require.NoError(t, m2.Validate(), "the edit form of %+v is not valid", m)
		for _, p := range []struct {
			field    string
			was, got time.Time
		}{{"start", m.Start, m2.Start}, {"end", m.End, m2.End}} {
			if !ambiguous(p.was.In(loc)) {
				assert.True(t, p.got.Equal(p.was), "%s %s shown in the edit form reads back as %s", p.field, p.was, p.got)
			}
		}
		assert.Equal(t, m.Name, m2.Name)
		assert.Equal(t, m.ClientIDs, m2.ClientIDs)
		assert.Equal(t, m.Period, m2.Period)
		if m.TimeZone != "" {
			assert.Equal(t, m.TimeZone, m2.TimeZone)
		}
	})
}
