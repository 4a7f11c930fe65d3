// Package mailingtest provides test doubles for package mailing and the
// conformance suite for its Store: FakeClock (time that moves only when a
// test says so), FakeMailer (a scriptable Mailer that records what it
// sends), MemStore (an in-memory Store with the real behaviour of the
// contract) and TestStore, which any Store implementation runs against
// itself, the way testing/fstest.TestFS checks a file system:
//
//	func TestStore(t *testing.T) {
//		mailingtest.TestStore(t, func(t *testing.T) mailing.Store {
//			return openEmptyMigratedStore(t)
//		})
//	}
package mailingtest
