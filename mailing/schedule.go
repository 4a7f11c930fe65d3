package mailing

import (
	"fmt"
	"time"
)

// Schedule is a mailing's occurrences: every Period from Start, at Start's local
// wall time in Location, inside [Start, End].
//
// Occurrence k is built from the calendar fields of Start in Location, never
// by adding fixed durations: a daily schedule moves the day by k, a weekly one
// by 7k, and a monthly one moves the month by k counted from Start, with the
// day clamped to the month's last day (Jan 31, Feb 28 or 29, Mar 31, Apr 30).
// A wall time that a daylight-saving gap skips moves forward by the gap
// (02:30 on a spring-forward night in New York is 03:30 EDT), and a wall time
// that a fall-back repeats is its first instance (01:30 EDT, not 01:30 EST).
//
// Occurrences never decrease. Two may coincide only where a zone skipped a
// whole local day (Pacific/Apia, 2011-12-30); Due and Next treat them as one.
//
// A Schedule is a value: its methods are pure functions of their arguments
// and safe for concurrent use. A Period that is not valid repeats never: the
// schedule's only occurrence is Start. A Schedule whose End is before its
// Start has no occurrences.
type Schedule struct {
	Start, End time.Time
	Period     Period
	Location   *time.Location // nil means UTC
}

// Schedule returns the mailing's schedule, with TimeZone loaded by
// LoadLocation. The error is a *ValidationError (matching ErrInvalid) naming
// the "time_zone" or "period" field when either is unusable.
func (m Mailing) Schedule() (Schedule, error) {
	var v validator
	loc, err := LoadLocation(m.TimeZone)
	if err != nil {
		v.add("time_zone", fmt.Sprintf("%q is not a known time zone", m.TimeZone))
	}
	if !m.Period.Valid() {
		v.add("period", fmt.Sprintf("%q is not a period: use daily, weekly or monthly", string(m.Period)))
	}
	if err := v.err(); err != nil {
		return Schedule{}, err
	}
	return Schedule{Start: m.Start, End: m.End, Period: m.Period, Location: loc}, nil
}

// RunDue is the schedule's Due(now): the latest occurrence at or before now
// (and not after End). It reports false before Start, or when the mailing's
// time zone or period is unusable. It ignores Enabled.
func (m Mailing) RunDue(now time.Time) (time.Time, bool) {
	s, err := m.Schedule()
	if err != nil {
		return time.Time{}, false
	}
	return s.Due(now)
}

// RunAfter is the schedule's Next(t): the first occurrence strictly after t
// and not after End. It reports false when there is none, or when the
// mailing's time zone or period is unusable. It ignores Enabled.
func (m Mailing) RunAfter(t time.Time) (time.Time, bool) {
	s, err := m.Schedule()
	if err != nil {
		return time.Time{}, false
	}
	return s.Next(t)
}

// Status returns where the schedule stands at now; it is Mailing.Status.
func (s Schedule) Status(now time.Time) Status {
	switch {
	case now.Before(s.Start):
		return StatusCreated
	case now.After(s.End):
		return StatusCompleted
	default:
		return StatusRunning
	}
}

// Occurrence returns the k-th occurrence (k >= 0) in UTC, whether or not it
// lies before End. Occurrence(0) is Start itself. When Period is not valid,
// Occurrence returns the zero Time for any k other than 0.
func (s Schedule) Occurrence(k int) time.Time {
	if k == 0 {
		return s.Start.UTC()
	}
	loc := s.loc()
	a := s.Start.In(loc)
	y, mo, d := a.Date()
	switch s.Period {
	case Daily:
		y, mo, d = time.Date(y, mo, d+k, 0, 0, 0, 0, time.UTC).Date()
	case Weekly:
		y, mo, d = time.Date(y, mo, d+7*k, 0, 0, 0, 0, time.UTC).Date()
	case Monthly:
		n := int(mo) - 1 + k
		y += floorDiv(n, 12)
		mo = time.Month(n - 12*floorDiv(n, 12) + 1)
		d = min(d, daysIn(y, mo))
	default:
		return time.Time{}
	}
	wall := time.Date(y, mo, d, a.Hour(), a.Minute(), a.Second(), a.Nanosecond(), time.UTC)
	return wallToUTC(wall, loc)
}

// Due returns the latest occurrence at or before now, never one after End:
// after End it is the last occurrence. It reports false when now is before
// Start or the schedule is empty (End before Start).
func (s Schedule) Due(now time.Time) (time.Time, bool) {
	if s.End.Before(s.Start) || now.Before(s.Start) {
		return time.Time{}, false
	}
	if now.After(s.End) {
		now = s.End
	}
	if !s.Period.Valid() {
		return s.Start.UTC(), true
	}
	return s.Occurrence(s.last(now)), true
}

// Next returns the first occurrence strictly after after, if it is not after
// End. Before Start it is Start. It reports false when no occurrence is left.
func (s Schedule) Next(after time.Time) (time.Time, bool) {
	if s.End.Before(s.Start) {
		return time.Time{}, false
	}
	if after.Before(s.Start) {
		return s.Start.UTC(), true
	}
	if !s.Period.Valid() {
		return time.Time{}, false
	}
	next := s.Occurrence(s.last(after) + 1)
	if next.After(s.End) {
		return time.Time{}, false
	}
	return next, true
}

// last returns the largest k with Occurrence(k) <= t, for t >= Start and a
// valid Period. It estimates k from the local calendar dates of Start and t,
// which is off by at most one or two, and then steps to the exact answer.
func (s Schedule) last(t time.Time) int {
	loc := s.loc()
	a, b := s.Start.In(loc), t.In(loc)
	var k int
	switch s.Period {
	case Daily:
		k = dayNumber(b) - dayNumber(a)
	case Weekly:
		k = floorDiv(dayNumber(b)-dayNumber(a), 7)
	case Monthly:
		k = (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
	}
	k = max(k, 0)
	for k > 0 && s.Occurrence(k).After(t) {
		k--
	}
	for !s.Occurrence(k + 1).After(t) {
		k++
	}
	return k
}

func (s Schedule) loc() *time.Location {
	if s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// zoneSpan is one stretch of time during which a location keeps one offset.
// A zero start or end means the span is unbounded on that side.
type zoneSpan struct {
	start, end time.Time
	offset     time.Duration
}

func (z zoneSpan) contains(t time.Time) bool {
	return (z.start.IsZero() || !t.Before(z.start)) && (z.end.IsZero() || t.Before(z.end))
}

// AtWallTime returns the instant at which loc's clocks show the date and
// time of day of wall's fields (wall's own location is ignored), by the
// schedule's rule at daylight saving changes: a wall time that happens twice
// is its first instant, and one that a gap skips moves forward by the gap.
// Hosts read times typed in a mailing's zone with it. A nil loc is UTC.
func AtWallTime(wall time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	y, mo, d := wall.Date()
	return wallToUTC(time.Date(y, mo, d, wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), time.UTC), loc)
}

// wallToUTC returns the instant at which loc's clocks show wall (whose UTC
// fields are the local fields). time.Date leaves the choice open at daylight
// saving changes; this one is fixed: a repeated wall time is its first
// instant, and a skipped one moves forward by the length of the gap.
func wallToUTC(wall time.Time, loc *time.Location) time.Time {
	if loc == time.UTC {
		return wall
	}
	// Every offset in use is well within ±26h, so the instants that can show
	// wall lie in [wall-26h, wall+26h]: collect the zone spans covering it.
	const reach = 26 * time.Hour
	var spans [6]zoneSpan
	n := 0
	limit := wall.Add(reach)
	for x := wall.Add(-reach); n < len(spans); {
		lx := x.In(loc)
		_, off := lx.Zone()
		start, end := lx.ZoneBounds()
		spans[n] = zoneSpan{start: start, end: end, offset: time.Duration(off) * time.Second}
		n++
		if end.IsZero() || end.After(limit) || !end.After(x) {
			break
		}
		x = end
	}
	// The earliest instant whose own offset maps it to wall.
	var first time.Time
	found := false
	for _, z := range spans[:n] {
		u := wall.Add(-z.offset)
		if z.contains(u) && (!found || u.Before(first)) {
			first, found = u, true
		}
	}
	if found {
		return first
	}
	// wall is in a gap: clocks jumped from before to after at end, so read
	// wall with the offset from before the jump.
	for i := 0; i+1 < n; i++ {
		at, before, after := spans[i].end, spans[i].offset, spans[i+1].offset
		if after > before && !wall.Before(at.Add(before)) && wall.Before(at.Add(after)) {
			return wall.Add(-before)
		}
	}
	y, mo, d := wall.Date()
	return time.Date(y, mo, d, wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc).UTC()
}

// dayNumber counts days from 1970-01-01 to t's calendar date in t's location.
func dayNumber(t time.Time) int {
	y, m, d := t.Date()
	return int(floorDiv64(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400))
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
