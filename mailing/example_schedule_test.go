package mailing_test

import (
	"fmt"
	"time"

	"github.com/skychimp/skychimp/mailing"
)

// A monthly mailing started on January 31 runs on the last day of every
// shorter month and returns to the 31st when the month has one.
func ExampleSchedule_Next() {
	moscow, err := mailing.LoadLocation("Europe/Moscow")
	if err != nil {
		panic(err)
	}
	s := mailing.Schedule{
		Start:    time.Date(2028, time.January, 31, 9, 0, 0, 0, moscow),
		End:      time.Date(2028, time.June, 1, 0, 0, 0, 0, moscow),
		Period:   mailing.Monthly,
		Location: moscow,
	}
	for run, ok := s.Next(time.Time{}); ok; run, ok = s.Next(run) {
		fmt.Println(run.Format(time.RFC3339), "=", run.In(moscow).Format("Mon Jan 2 15:04 MST"))
	}
	// Output:
	// 2028-01-31T06:00:00Z = Mon Jan 31 09:00 MSK
	// 2028-02-29T06:00:00Z = Tue Feb 29 09:00 MSK
	// 2028-03-31T06:00:00Z = Fri Mar 31 09:00 MSK
	// 2028-04-30T06:00:00Z = Sun Apr 30 09:00 MSK
	// 2028-05-31T06:00:00Z = Wed May 31 09:00 MSK
}

// Due is the run a late engine should catch up on: the latest occurrence at
// or before now, here the 02:30 run of New York's spring-forward night, which
// happens at 03:30 EDT because 02:30 does not exist that night.
func ExampleSchedule_Due() {
	ny, err := mailing.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	s := mailing.Schedule{
		Start:    time.Date(2026, time.March, 7, 2, 30, 0, 0, ny),
		End:      time.Date(2026, time.April, 1, 0, 0, 0, 0, ny),
		Period:   mailing.Daily,
		Location: ny,
	}
	now := time.Date(2026, time.March, 8, 12, 0, 0, 0, time.UTC)
	run, ok := s.Due(now)
	fmt.Println(run.Format(time.RFC3339), run.In(ny).Format("15:04 MST"), ok)
	// Output:
	// 2026-03-08T07:30:00Z 03:30 EDT true
}
