package mailing_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // zones load the same on every machine

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skychimp/skychimp/mailing"
)

// at parses an RFC 3339 instant and returns it in UTC.
func at(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(tb, err, "bad test instant %q", s)
	return t.UTC()
}

// zone loads an IANA time zone.
func zone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := mailing.LoadLocation(name)
	require.NoError(tb, err, "load %q", name)
	return loc
}

// occurrences returns Occurrence(0..n-1) in RFC 3339.
func occurrences(s mailing.Schedule, n int) []string {
	out := make([]string, n)
	for k := range out {
		out[k] = s.Occurrence(k).Format(time.RFC3339)
	}
	return out
}

func TestScheduleOccurrence(t *testing.T) {
	tests := []struct {
		name   string
		start  string
		period mailing.Period
		zone   string
		want   []string // Occurrence(0), Occurrence(1), ... in UTC
	}{
		{
			name: "DailyUTC", start: "2026-02-27T09:15:00Z", period: mailing.Daily,
			want: []string{"2026-02-27T09:15:00Z", "2026-02-28T09:15:00Z", "2026-03-01T09:15:00Z", "2026-03-02T09:15:00Z"},
		},
		{
			name: "WeeklyUTC", start: "2026-12-24T18:00:00Z", period: mailing.Weekly,
			want: []string{"2026-12-24T18:00:00Z", "2026-12-31T18:00:00Z", "2027-01-07T18:00:00Z", "2027-01-14T18:00:00Z"},
		},
		{
			name: "MonthlyUTC", start: "2026-11-15T00:00:00Z", period: mailing.Monthly,
			want: []string{"2026-11-15T00:00:00Z", "2026-12-15T00:00:00Z", "2027-01-15T00:00:00Z", "2027-02-15T00:00:00Z"},
		},
		{
			name: "MonthlyFrom31stClampsThroughCommonYear", start: "2027-01-31T10:00:00Z", period: mailing.Monthly,
			want: []string{
				"2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z",
				"2027-05-31T10:00:00Z", "2027-06-30T10:00:00Z", "2027-07-31T10:00:00Z", "2027-08-31T10:00:00Z",
				"2027-09-30T10:00:00Z", "2027-10-31T10:00:00Z", "2027-11-30T10:00:00Z", "2027-12-31T10:00:00Z",
				"2028-01-31T10:00:00Z", "2028-02-29T10:00:00Z", "2028-03-31T10:00:00Z",
			},
		},
		{
			name: "MonthlyFrom31stClampsThroughLeapYear", start: "2027-12-31T23:59:59Z", period: mailing.Monthly,
			want: []string{
				"2027-12-31T23:59:59Z", "2028-01-31T23:59:59Z", "2028-02-29T23:59:59Z", "2028-03-31T23:59:59Z",
				"2028-04-30T23:59:59Z", "2028-05-31T23:59:59Z", "2028-06-30T23:59:59Z", "2028-07-31T23:59:59Z",
				"2028-08-31T23:59:59Z", "2028-09-30T23:59:59Z", "2028-10-31T23:59:59Z", "2028-11-30T23:59:59Z",
				"2028-12-31T23:59:59Z", "2029-01-31T23:59:59Z", "2029-02-28T23:59:59Z",
			},
		},
		{
			name: "MonthlyFrom30thInZone", start: "2027-01-30T06:00:00Z", period: mailing.Monthly, zone: "Europe/Moscow",
			// 09:00 Moscow (UTC+3) on the 30th, the last day of February.
			want: []string{"2027-01-30T06:00:00Z", "2027-02-28T06:00:00Z", "2027-03-30T06:00:00Z"},
		},
		{
			name: "MonthlyFromLeapDay", start: "2028-02-29T12:00:00Z", period: mailing.Monthly,
			want: []string{
				"2028-02-29T12:00:00Z", "2028-03-29T12:00:00Z", "2028-04-29T12:00:00Z", "2028-05-29T12:00:00Z",
				"2028-06-29T12:00:00Z", "2028-07-29T12:00:00Z", "2028-08-29T12:00:00Z", "2028-09-29T12:00:00Z",
				"2028-10-29T12:00:00Z", "2028-11-29T12:00:00Z", "2028-12-29T12:00:00Z", "2029-01-29T12:00:00Z",
				"2029-02-28T12:00:00Z", "2029-03-29T12:00:00Z",
			},
		},
		{
			name: "WeeklyFromLeapDay", start: "2028-02-29T12:00:00Z", period: mailing.Weekly,
			want: []string{"2028-02-29T12:00:00Z", "2028-03-07T12:00:00Z"},
		},
		{
			name: "DailyFromLeapDay", start: "2028-02-28T12:00:00Z", period: mailing.Daily,
			want: []string{"2028-02-28T12:00:00Z", "2028-02-29T12:00:00Z", "2028-03-01T12:00:00Z"},
		},
		{
			// 02:30 does not exist on 2026-03-08 in New York: it becomes 03:30 EDT.
			name: "NewYorkSpringForwardGapMovesForward", start: "2026-03-07T07:30:00Z", period: mailing.Daily, zone: "America/New_York",
			want: []string{"2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"},
		},
		{
			name: "NewYorkSpringForwardBeforeGap", start: "2026-03-07T06:30:00Z", period: mailing.Daily, zone: "America/New_York",
			// 01:30 exists every day: EST, EST, then EDT.
			want: []string{"2026-03-07T06:30:00Z", "2026-03-08T06:30:00Z", "2026-03-09T05:30:00Z"},
		},
		{
			// 01:30 happens twice on 2026-11-01 in New York: the first is 01:30 EDT.
			name: "NewYorkFallBackTakesFirst", start: "2026-10-31T05:30:00Z", period: mailing.Daily, zone: "America/New_York",
			want: []string{"2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z", "2026-11-03T06:30:00Z"},
		},
		{
			name: "NewYorkFallBackAfterFold", start: "2026-10-31T06:30:00Z", period: mailing.Daily, zone: "America/New_York",
			// 02:30 EDT, then 02:30 EST (after the fold) on the change day.
			want: []string{"2026-10-31T06:30:00Z", "2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z"},
		},
		{
			name: "NewYorkWeeklyKeepsWallTimeAcrossDST", start: "2026-03-01T14:00:00Z", period: mailing.Weekly, zone: "America/New_York",
			// 09:00 EST, then 09:00 EDT.
			want: []string{"2026-03-01T14:00:00Z", "2026-03-08T13:00:00Z", "2026-03-15T13:00:00Z"},
		},
		{
			name: "NewYorkWeeklyKeepsWallTimeAcrossFallBack", start: "2026-10-25T13:00:00Z", period: mailing.Weekly, zone: "America/New_York",
			want: []string{"2026-10-25T13:00:00Z", "2026-11-01T14:00:00Z", "2026-11-08T14:00:00Z"},
		},
		{
			name: "NewYorkMonthlyKeepsWallTime", start: "2026-01-31T14:00:00Z", period: mailing.Monthly, zone: "America/New_York",
			want: []string{"2026-01-31T14:00:00Z", "2026-02-28T14:00:00Z", "2026-03-31T13:00:00Z", "2026-04-30T13:00:00Z"},
		},
		{
			name: "Moscow", start: "2026-06-01T06:00:00Z", period: mailing.Daily, zone: "Europe/Moscow",
			want: []string{"2026-06-01T06:00:00Z", "2026-06-02T06:00:00Z", "2026-06-03T06:00:00Z"},
		},
		{
			// Moscow went from UTC+4 to UTC+3 at 02:00 on 2014-10-26.
			name: "MoscowAcross2014Change", start: "2014-10-24T05:00:00Z", period: mailing.Daily, zone: "Europe/Moscow",
			want: []string{"2014-10-24T05:00:00Z", "2014-10-25T05:00:00Z", "2014-10-26T06:00:00Z", "2014-10-27T06:00:00Z"},
		},
		{
			// 01:30 happened twice on 2014-10-26 in Moscow: the first is at UTC+4.
			name: "MoscowRepeated0130In2014TakesFirst", start: "2014-10-24T21:30:00Z", period: mailing.Daily, zone: "Europe/Moscow",
			want: []string{"2014-10-24T21:30:00Z", "2014-10-25T21:30:00Z", "2014-10-26T22:30:00Z"},
		},
		{
			// 01:30 does not exist on 2026-03-29 in London: it becomes 02:30 BST.
			name: "LondonSpringForwardGap", start: "2026-03-28T01:30:00Z", period: mailing.Daily, zone: "Europe/London",
			want: []string{"2026-03-28T01:30:00Z", "2026-03-29T01:30:00Z", "2026-03-30T00:30:00Z"},
		},
		{
			// Lord Howe Island changes by 30 minutes: 02:00 LHDT (+11) becomes
			// 01:30 LHST (+10:30) on 2026-04-05, so 01:45 happens twice.
			name: "LordHoweHalfHourFoldTakesFirst", start: "2026-04-02T14:45:00Z", period: mailing.Daily, zone: "Australia/Lord_Howe",
			want: []string{"2026-04-02T14:45:00Z", "2026-04-03T14:45:00Z", "2026-04-04T14:45:00Z", "2026-04-05T15:15:00Z"},
		},
		{
			// São Paulo sprang forward at midnight: 00:30 on 2018-11-04 became 01:30 (-02).
			name: "SaoPauloMidnightGap", start: "2018-11-03T03:30:00Z", period: mailing.Daily, zone: "America/Sao_Paulo",
			want: []string{"2018-11-03T03:30:00Z", "2018-11-04T03:30:00Z", "2018-11-05T02:30:00Z"},
		},
		{
			// Samoa skipped 2011-12-30 entirely (-10 to +14): 09:00 that day moves
			// forward a whole day and coincides with 09:00 on the 31st.
			name: "ApiaSkippedDayCoincides", start: "2011-12-28T19:00:00Z", period: mailing.Daily, zone: "Pacific/Apia",
			want: []string{"2011-12-28T19:00:00Z", "2011-12-29T19:00:00Z", "2011-12-30T19:00:00Z", "2011-12-30T19:00:00Z", "2011-12-31T19:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mailing.Schedule{Start: at(t, tt.start), End: at(t, "2100-01-01T00:00:00Z"), Period: tt.period}
			if tt.zone != "" {
				s.Location = zone(t, tt.zone)
			}
			assert.Equal(t, tt.want, occurrences(s, len(tt.want)))
		})
	}
}

func TestScheduleOccurrenceKeepsStart(t *testing.T) {
	ny := zone(t, "America/New_York")
	t.Run("StartIsOccurrenceZeroExactly", func(t *testing.T) {
		// The second 01:30 of the fall-back night is a valid start, kept as is;
		// later runs are 01:30 EST as well.
		start := at(t, "2026-11-01T06:30:00Z")
		s := mailing.Schedule{Start: start, End: start.AddDate(1, 0, 0), Period: mailing.Daily, Location: ny}
		assert.True(t, s.Occurrence(0).Equal(start))
		assert.Equal(t, start, s.Occurrence(0))
		assert.Equal(t, at(t, "2026-11-02T06:30:00Z"), s.Occurrence(1))
	})
	t.Run("ConvertsToUTC", func(t *testing.T) {
		start := time.Date(2026, 5, 1, 9, 0, 0, 0, ny)
		s := mailing.Schedule{Start: start, End: start.AddDate(1, 0, 0), Period: mailing.Daily, Location: ny}
		assert.Equal(t, time.UTC, s.Occurrence(0).Location())
		assert.Equal(t, time.UTC, s.Occurrence(3).Location())
		assert.Equal(t, at(t, "2026-05-04T13:00:00Z"), s.Occurrence(3))
	})
	t.Run("KeepsSubSecondPrecision", func(t *testing.T) {
		s := mailing.Schedule{Start: at(t, "2026-05-01T09:00:00.25Z"), End: at(t, "2027-01-01T00:00:00Z"), Period: mailing.Weekly}
		assert.Equal(t, at(t, "2026-05-08T09:00:00.25Z"), s.Occurrence(1))
	})
	t.Run("InvalidPeriodHasOnlyStart", func(t *testing.T) {
		s := mailing.Schedule{Start: at(t, "2026-05-01T09:00:00Z"), End: at(t, "2027-01-01T00:00:00Z"), Period: "hourly"}
		assert.Equal(t, s.Start, s.Occurrence(0))
		assert.True(t, s.Occurrence(1).IsZero())
	})
}

func TestScheduleStatus(t *testing.T) {
	s := mailing.Schedule{Start: at(t, "2026-03-01T09:00:00Z"), End: at(t, "2026-03-31T09:00:00Z"), Period: mailing.Daily}
	m := mailing.Mailing{Start: s.Start, End: s.End, Period: s.Period}
	tests := []struct {
		name string
		now  string
		want mailing.Status
	}{
		{"CreatedBeforeStart", "2026-03-01T08:59:59Z", mailing.StatusCreated},
		{"RunningAtStart", "2026-03-01T09:00:00Z", mailing.StatusRunning},
		{"RunningInside", "2026-03-15T00:00:00Z", mailing.StatusRunning},
		{"RunningAtEnd", "2026-03-31T09:00:00Z", mailing.StatusRunning},
		{"CompletedAfterEnd", "2026-03-31T09:00:01Z", mailing.StatusCompleted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := at(t, tt.now)
			assert.Equal(t, tt.want, s.Status(now))
			assert.Equal(t, m.Status(now), s.Status(now), "Schedule.Status must equal Mailing.Status")
		})
	}
}

func TestScheduleDue(t *testing.T) {
	daily := mailing.Schedule{Start: at(t, "2026-03-01T09:00:00Z"), End: at(t, "2026-03-10T12:00:00Z"), Period: mailing.Daily}
	monthly := mailing.Schedule{Start: at(t, "2027-01-31T10:00:00Z"), End: at(t, "2027-12-31T10:00:00Z"), Period: mailing.Monthly}
	ny := mailing.Schedule{Start: at(t, "2026-03-07T07:30:00Z"), End: at(t, "2026-12-31T00:00:00Z"), Period: mailing.Daily, Location: zone(t, "America/New_York")}
	tests := []struct {
		name string
		s    mailing.Schedule
		now  string
		want string // "" means false
	}{
		{"FalseBeforeStart", daily, "2026-03-01T08:59:59Z", ""},
		{"StartAtStart", daily, "2026-03-01T09:00:00Z", "2026-03-01T09:00:00Z"},
		{"ExactlyAtOccurrence", daily, "2026-03-04T09:00:00Z", "2026-03-04T09:00:00Z"},
		{"JustBeforeOccurrence", daily, "2026-03-04T08:59:59Z", "2026-03-03T09:00:00Z"},
		{"BetweenOccurrences", daily, "2026-03-04T21:00:00Z", "2026-03-04T09:00:00Z"},
		{"AtEnd", daily, "2026-03-10T12:00:00Z", "2026-03-10T09:00:00Z"},
		{"AfterEndIsLastOccurrence", daily, "2027-06-01T00:00:00Z", "2026-03-10T09:00:00Z"},
		{"MonthlyClampedFebruary", monthly, "2027-03-15T00:00:00Z", "2027-02-28T10:00:00Z"},
		{"MonthlyJustBeforeClamped", monthly, "2027-04-30T09:59:59Z", "2027-03-31T10:00:00Z"},
		{"MonthlyEndOnOccurrence", monthly, "2028-05-01T00:00:00Z", "2027-12-31T10:00:00Z"},
		{"DSTGapDay", ny, "2026-03-08T07:30:00Z", "2026-03-08T07:30:00Z"},
		{"DSTGapDayJustBefore", ny, "2026-03-08T07:29:59Z", "2026-03-07T07:30:00Z"},
		{"DSTAfterChange", ny, "2026-03-09T06:30:00Z", "2026-03-09T06:30:00Z"},
		{"DSTAfterChangeJustBefore", ny, "2026-03-09T06:29:59Z", "2026-03-08T07:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.s.Due(at(t, tt.now))
			if tt.want == "" {
				assert.False(t, ok)
				assert.True(t, got.IsZero())
				return
			}
			require.True(t, ok)
			assert.Equal(t, at(t, tt.want), got)
		})
	}
}

func TestScheduleNext(t *testing.T) {
	daily := mailing.Schedule{Start: at(t, "2026-03-01T09:00:00Z"), End: at(t, "2026-03-10T12:00:00Z"), Period: mailing.Daily}
	endOnRun := mailing.Schedule{Start: at(t, "2026-03-01T09:00:00Z"), End: at(t, "2026-03-15T09:00:00Z"), Period: mailing.Weekly}
	fallBack := mailing.Schedule{Start: at(t, "2026-10-31T05:30:00Z"), End: at(t, "2026-12-31T00:00:00Z"), Period: mailing.Daily, Location: zone(t, "America/New_York")}
	tests := []struct {
		name  string
		s     mailing.Schedule
		after string
		want  string // "" means false
	}{
		{"StartBeforeStart", daily, "2020-01-01T00:00:00Z", "2026-03-01T09:00:00Z"},
		{"StartJustBeforeStart", daily, "2026-03-01T08:59:59Z", "2026-03-01T09:00:00Z"},
		{"StrictlyAfterStart", daily, "2026-03-01T09:00:00Z", "2026-03-02T09:00:00Z"},
		{"StrictlyAfterOccurrence", daily, "2026-03-05T09:00:00Z", "2026-03-06T09:00:00Z"},
		{"BetweenOccurrences", daily, "2026-03-05T10:00:00Z", "2026-03-06T09:00:00Z"},
		{"JustBeforeOccurrence", daily, "2026-03-06T08:59:59Z", "2026-03-06T09:00:00Z"},
		{"LastOccurrence", daily, "2026-03-09T09:00:00Z", "2026-03-10T09:00:00Z"},
		{"FalseAfterLastOccurrence", daily, "2026-03-10T09:00:00Z", ""},
		{"FalseAfterEnd", daily, "2027-01-01T00:00:00Z", ""},
		{"EndExactlyOnOccurrenceIncluded", endOnRun, "2026-03-08T09:00:00Z", "2026-03-15T09:00:00Z"},
		{"FalseAfterOccurrenceAtEnd", endOnRun, "2026-03-15T09:00:00Z", ""},
		{"FirstOfRepeatedHour", fallBack, "2026-10-31T05:30:00Z", "2026-11-01T05:30:00Z"},
		{"NotTheSecondOfRepeatedHour", fallBack, "2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.s.Next(at(t, tt.after))
			if tt.want == "" {
				assert.False(t, ok)
				assert.True(t, got.IsZero())
				return
			}
			require.True(t, ok)
			assert.Equal(t, at(t, tt.want), got)
		})
	}
}

func TestScheduleEmptyAndInvalid(t *testing.T) {
	start := at(t, "2026-03-01T09:00:00Z")
	t.Run("EndBeforeStartHasNoRuns", func(t *testing.T) {
		s := mailing.Schedule{Start: start, End: start.Add(-time.Second), Period: mailing.Daily}
		_, ok := s.Due(start.AddDate(0, 0, 5))
		assert.False(t, ok)
		_, ok = s.Next(start.AddDate(0, 0, -5))
		assert.False(t, ok)
	})
	t.Run("EndEqualStartHasOneRun", func(t *testing.T) {
		s := mailing.Schedule{Start: start, End: start, Period: mailing.Daily}
		got, ok := s.Due(start.AddDate(0, 0, 5))
		assert.True(t, ok)
		assert.Equal(t, start, got)
		got, ok = s.Next(start.Add(-time.Second))
		assert.True(t, ok)
		assert.Equal(t, start, got)
		_, ok = s.Next(start)
		assert.False(t, ok)
	})
	t.Run("InvalidPeriodRunsOnceAtStart", func(t *testing.T) {
		s := mailing.Schedule{Start: start, End: start.AddDate(1, 0, 0), Period: "yearly"}
		got, ok := s.Due(start.AddDate(0, 3, 0))
		assert.True(t, ok)
		assert.Equal(t, start, got)
		_, ok = s.Next(start)
		assert.False(t, ok)
	})
}

func TestMailingSchedule(t *testing.T) {
	m := mailing.Mailing{
		Start:    at(t, "2026-03-01T06:00:00Z"),
		End:      at(t, "2026-04-01T00:00:00Z"),
		Period:   mailing.Weekly,
		TimeZone: "Europe/Moscow",
	}
	t.Run("OK", func(t *testing.T) {
		s, err := m.Schedule()
		require.NoError(t, err)
		assert.Equal(t, m.Start, s.Start)
		assert.Equal(t, m.End, s.End)
		assert.Equal(t, mailing.Weekly, s.Period)
		assert.Equal(t, "Europe/Moscow", s.Location.String())
	})
	t.Run("EmptyZoneIsUTC", func(t *testing.T) {
		m := m
		m.TimeZone = ""
		s, err := m.Schedule()
		require.NoError(t, err)
		assert.Equal(t, time.UTC, s.Location)
	})
	t.Run("ErrInvalidZone", func(t *testing.T) {
		m := m
		m.TimeZone = "Mars/Olympus_Mons"
		_, err := m.Schedule()
		require.ErrorIs(t, err, mailing.ErrInvalid)
		var ve *mailing.ValidationError
		require.True(t, errors.As(err, &ve))
		assert.Contains(t, ve.Field("time_zone"), "Mars/Olympus_Mons")
		_, ok := m.RunDue(m.Start)
		assert.False(t, ok, "RunDue with an unknown zone")
		_, ok = m.RunAfter(m.Start)
		assert.False(t, ok, "RunAfter with an unknown zone")
	})
	t.Run("ErrInvalidPeriod", func(t *testing.T) {
		m := m
		m.Period = "hourly"
		_, err := m.Schedule()
		require.ErrorIs(t, err, mailing.ErrInvalid)
		var ve *mailing.ValidationError
		require.True(t, errors.As(err, &ve))
		assert.NotEmpty(t, ve.Field("period"))
	})
	t.Run("RunDue", func(t *testing.T) {
		got, ok := m.RunDue(at(t, "2026-03-15T05:59:59Z"))
		require.True(t, ok)
		assert.Equal(t, at(t, "2026-03-08T06:00:00Z"), got)
		_, ok = m.RunDue(at(t, "2026-02-28T00:00:00Z"))
		assert.False(t, ok, "before start")
	})
	t.Run("RunAfter", func(t *testing.T) {
		got, ok := m.RunAfter(at(t, "2026-03-08T06:00:00Z"))
		require.True(t, ok)
		assert.Equal(t, at(t, "2026-03-15T06:00:00Z"), got)
		_, ok = m.RunAfter(at(t, "2026-03-29T06:00:00Z"))
		assert.False(t, ok, "after the last run")
	})
}

// propertyZones mixes zones with ordinary DST, none, half-hour and
// midnight changes, negative DST, and a skipped day.
var propertyZones = []string{
	"", "America/New_York", "Europe/Moscow", "Europe/London", "Europe/Dublin",
	"Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Tehran",
	"America/Sao_Paulo", "America/St_Johns", "Pacific/Chatham", "Pacific/Apia",
	"Africa/Casablanca", "America/Santiago",
}

// checkScheduleProperties checks Due, Next and Occurrence against a
// brute-force walk over Occurrence(k) for the instants in probes.
func checkScheduleProperties(t *testing.T, s mailing.Schedule, probes []time.Time) {
	t.Helper()
	loc := s.Location
	if loc == nil {
		loc = time.UTC
	}
	// Brute force: every occurrence up to End, in order.
	var all []time.Time
	for k := 0; ; k++ {
		o := s.Occurrence(k)
		if o.After(s.End) {
			break
		}
		all = append(all, o)
	}
	a := s.Start.In(loc)
	for k, o := range all {
		require.Equal(t, time.UTC, o.Location(), "occurrence %d not in UTC", k)
		if k == 0 {
			continue
		}
		require.False(t, o.Before(all[k-1]), "occurrence %d (%s) before occurrence %d (%s)", k, o, k-1, all[k-1])
		l := o.In(loc)
		wantWall := time.Date(2000, 1, 1, a.Hour(), a.Minute(), a.Second(), a.Nanosecond(), time.UTC)
		gotWall := time.Date(2000, 1, 1, l.Hour(), l.Minute(), l.Second(), l.Nanosecond(), time.UTC)
		if gotWall.Equal(wantWall) {
			// First instance: an instant an offset step earlier must not show
			// the same wall time.
			_, off := l.Zone()
			for _, d := range []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour, 2 * time.Hour} {
				e := o.Add(-d).In(loc)
				if _, eoff := e.Zone(); eoff != off {
					require.NotEqual(t, fmt.Sprint(l.Clock()), fmt.Sprint(e.Clock()),
						"occurrence %d (%s) is not the first instance of its wall time (%s is earlier)", k, l, e)
				}
			}
			continue
		}
		// Skipped wall time: moved forward by exactly the gap.
		_, offNow := l.Zone()
		_, offBefore := o.Add(-26 * time.Hour).In(loc).Zone()
		require.Greater(t, offNow, offBefore, "occurrence %d (%s) has wall %s, want %s, without a gap", k, l, gotWall.Format("15:04:05"), wantWall.Format("15:04:05"))
		require.Equal(t, wantWall.Add(time.Duration(offNow-offBefore)*time.Second).Format("15:04:05.999999999"),
			gotWall.Format("15:04:05.999999999"), "occurrence %d (%s) not moved forward by the gap", k, l)
	}
	require.NotEmpty(t, all)
	for _, p := range probes {
		// Reference answers from the walk.
		i := sortSearch(all, p) // first occurrence > p
		due, dueOK := s.Due(p)
		if p.Before(s.Start) {
			require.False(t, dueOK, "Due(%s) before start", p)
		} else {
			require.True(t, dueOK, "Due(%s)", p)
			require.Equal(t, all[i-1], due, "Due(%s)", p)
			require.False(t, due.After(p), "Due(%s) = %s after it", p, due)
		}
		next, nextOK := s.Next(p)
		if i == len(all) {
			require.False(t, nextOK, "Next(%s) = %s after the last occurrence %s", p, next, all[len(all)-1])
			continue
		}
		require.True(t, nextOK, "Next(%s)", p)
		require.Equal(t, all[i], next, "Next(%s)", p)
		require.True(t, next.After(p), "Next(%s) = %s not after it", p, next)
		again, ok := s.Due(next)
		require.True(t, ok)
		require.Equal(t, next, again, "Due(Next(%s))", p)
		if dueOK {
			// Nothing strictly between Due(p) and Next(p).
			for _, o := range all {
				require.False(t, o.After(due) && o.Before(next), "occurrence %s between Due(%s)=%s and Next=%s", o, p, due, next)
			}
		}
	}
}

// sortSearch returns the index of the first occurrence after t.
func sortSearch(all []time.Time, t time.Time) int {
	i, _ := slices.BinarySearchFunc(all, t, func(o, t time.Time) int {
		if o.After(t) {
			return 1
		}
		return -1
	})
	return i
}

// randomSchedule builds a schedule from r, biased towards the 28th-31st and
// the small hours when clocks change.
func randomSchedule(tb testing.TB, r *rand.Rand) mailing.Schedule {
	tb.Helper()
	loc := zone(tb, propertyZones[r.IntN(len(propertyZones))])
	y := 1995 + r.IntN(45)
	mo := time.Month(1 + r.IntN(12))
	d := 1 + r.IntN(31)
	if r.IntN(2) == 0 {
		d = 28 + r.IntN(4)
	}
	h := r.IntN(24)
	if r.IntN(2) == 0 {
		h = r.IntN(4)
	}
	mi := []int{0, 30, 45, r.IntN(60)}[r.IntN(4)]
	start := time.Date(y, mo, d, h, mi, r.IntN(2)*r.IntN(60), 0, loc).UTC()
	period := mailing.Periods[r.IntN(len(mailing.Periods))]
	span := map[mailing.Period]int{mailing.Daily: 400, mailing.Weekly: 3 * 365, mailing.Monthly: 15 * 365}[period]
	end := start.Add(time.Duration(r.IntN(span*24)) * time.Hour).Add(time.Duration(r.IntN(3600)) * time.Second)
	return mailing.Schedule{Start: start, End: end, Period: period, Location: loc}
}

func probesFor(r *rand.Rand, s mailing.Schedule) []time.Time {
	var ps []time.Time
	total := s.End.Sub(s.Start) + 60*24*time.Hour
	for range 25 {
		ps = append(ps, s.Start.Add(-30*24*time.Hour).Add(time.Duration(r.Int64N(int64(total)))))
	}
	// Exactly at, just before and just after some occurrences, and at End.
	for range 5 {
		o := s.Occurrence(r.IntN(40))
		ps = append(ps, o, o.Add(-time.Second), o.Add(time.Second))
	}
	return append(ps, s.Start, s.End, s.End.Add(time.Second))
}

func TestScheduleProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2026, 3))
	n := 300
	if testing.Short() {
		n = 50
	}
	for i := range n {
		s := randomSchedule(t, r)
		t.Run(fmt.Sprintf("%d_%s_%s_%s", i, s.Period, s.Location, s.Start.Format("20060102T150405Z")), func(t *testing.T) {
			checkScheduleProperties(t, s, probesFor(r, s))
		})
	}
}

// FuzzSchedule runs the same properties on fuzzed seeds: go test -fuzz FuzzSchedule ./mailing/
func FuzzSchedule(f *testing.F) {
	for _, seed := range []uint64{1, 2, 3, 20260308, 20261101} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		r := rand.New(rand.NewPCG(seed, seed>>32^0x5c))
		s := randomSchedule(t, r)
		checkScheduleProperties(t, s, probesFor(r, s))
	})
}

func BenchmarkScheduleDue(b *testing.B) {
	start := at(b, "2026-01-01T06:00:00Z")
	s := mailing.Schedule{
		Start:    start,
		End:      start.AddDate(10, 0, 0),
		Period:   mailing.Daily,
		Location: zone(b, "America/New_York"),
	}
	now := s.End.Add(-37 * time.Hour)
	want := at(b, "2035-12-30T06:00:00Z") // 01:00 EST, occurrence 3650
	b.ReportAllocs()
	for b.Loop() {
		got, ok := s.Due(now)
		if !ok || !got.Equal(want) {
			b.Fatalf("Due = %s, %v; want %s", got, ok, want)
		}
	}
}

func TestAtWallTime(t *testing.T) {
	wall := func(s string) time.Time { return at(t, s+"Z") } // the fields; the zone is ignored
	for _, tc := range []struct {
		name, zone, wall, want string
	}{
		{"UTC", "UTC", "2026-03-08T02:30:00", "2026-03-08T02:30:00Z"},
		{"Plain", "Europe/Moscow", "2026-03-08T02:30:00", "2026-03-07T23:30:00Z"},
		{"GapNewYorkForward", "America/New_York", "2026-03-08T02:30:00", "2026-03-08T07:30:00Z"}, // 03:30 EDT
		{"GapBerlinForward", "Europe/Berlin", "2026-03-29T02:30:00", "2026-03-29T01:30:00Z"},     // 03:30 CEST
		{"TwiceNewYorkFirst", "America/New_York", "2026-11-01T01:30:00", "2026-11-01T05:30:00Z"}, // EDT
		{"TwiceBerlinFirst", "Europe/Berlin", "2026-10-25T02:30:00", "2026-10-25T00:30:00Z"},     // CEST
		{"TwiceLordHoweFirst", "Australia/Lord_Howe", "2026-04-05T01:45:00", "2026-04-04T14:45:00Z"},
		{"SkippedDayApia", "Pacific/Apia", "2011-12-30T09:00:00", "2011-12-30T19:00:00Z"}, // 2011-12-31 09:00 +14
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := mailing.AtWallTime(wall(tc.wall), zone(t, tc.zone))
			assert.Equal(t, tc.want, got.UTC().Format(time.RFC3339))
		})
	}
	t.Run("NilIsUTC", func(t *testing.T) {
		w := time.Date(2026, 1, 2, 3, 4, 5, 0, zone(t, "Asia/Tokyo"))
		assert.Equal(t, "2026-01-02T03:04:05Z", mailing.AtWallTime(w, nil).Format(time.RFC3339))
	})
}
