// Package statstest provides a reference stats.Store computed in Go from
// any mailing.Store (Store, for tests of code that shows figures) and the
// conformance suite TestStore, which any stats.Store runs against itself
// with a mailing.Store over the same data:
//
//	statstest.TestStore(t, func(t *testing.T) statstest.Stores {
//		m := openEmptyMigratedMailingStore(t)
//		return statstest.Stores{Mailing: m, Stats: statsStoreOnTheSameDatabase(t)}
//	})
package statstest
