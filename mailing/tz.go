package mailing

import (
	"slices"
	"sync"
	"time"
)

var locations sync.Map // name -> *time.Location

// LoadLocation is time.LoadLocation with a cache; "" means UTC.
func LoadLocation(name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}

func sortInt64s(s []int64) { slices.Sort(s) }
