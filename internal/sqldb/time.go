package sqldb

import (
	"fmt"
	"time"
)

// TimeLayout is the time column format: UTC, whole microseconds, fixed
// width, so that in SQLite (a TEXT column) text order is time order and
// comparisons with an argument in the same layout are correct. MySQL
// DATETIME(6) columns take the same text and compare it as a time.
const TimeLayout = "2006-01-02 15:04:05.000000"

// TimeArg returns t as a query argument for a time column: UTC truncated
// to whole microseconds in TimeLayout, or nil (SQL NULL) for the zero time.
// Passing text rather than a time.Time keeps the stored value independent
// of the driver's own time conversion (its loc and time format settings).
func TimeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return FormatTime(t)
}

// FormatTime returns t in TimeLayout (UTC, whole microseconds).
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(TimeLayout)
}

// Micro returns t in UTC truncated to whole microseconds, as a time read
// back from a time column is; the zero time stays zero.
func Micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// ScanTime returns a sql.Scanner that reads a time column into *t: SQL
// NULL becomes the zero time; text in TimeLayout (or with fewer fraction
// digits) and a driver's time.Time both become UTC. A time.Time from the
// driver is read by its wall clock, as the column has no zone: what was
// written is what comes back, whatever loc the driver was given.
func ScanTime(t *time.Time) *TimeScanner { return (*TimeScanner)(t) }

// TimeScanner is the sql.Scanner returned by ScanTime.
type TimeScanner time.Time

// Scan implements sql.Scanner.
func (s *TimeScanner) Scan(src any) error {
	var t time.Time
	switch v := src.(type) {
	case nil:
	case time.Time:
		if !v.IsZero() {
			t = time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), time.UTC)
		}
	case string:
		var err error
		if t, err = ParseTime(v); err != nil {
			return err
		}
	case []byte:
		var err error
		if t, err = ParseTime(string(v)); err != nil {
			return err
		}
	default:
		return fmt.Errorf("sqldb: cannot scan %T into a time", src)
	}
	*s = TimeScanner(Micro(t))
	return nil
}

// ParseTime reads a time column's text: TimeLayout, with any number of
// fraction digits, or RFC 3339. The zero MySQL date reads as the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" || s == "0000-00-00 00:00:00" || s == "0000-00-00 00:00:00.000000" {
		return time.Time{}, nil
	}
	if t, ok := parseLayout(s); ok {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", s, time.UTC); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqldb: %q is not a time", s)
	}
	return t.UTC(), nil
}

// parseLayout reads exactly TimeLayout, the format the stores write, about
// ten times faster than time.Parse; anything else is left to time.Parse.
func parseLayout(s string) (time.Time, bool) {
	if len(s) != len(TimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' || s[19] != '.' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	micro, ok7 := num(20, 26)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, micro*1000, time.UTC)
	if t.Day() != day { // February 30th and the like
		return time.Time{}, false
	}
	return t, true
}
