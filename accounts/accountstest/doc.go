// Package accountstest provides test doubles for package accounts and the
// conformance suite for its Store: MemStore (an in-memory Store with the
// real behaviour of the contract), FakeNotifier (records the emails the
// Service would send, and can be told to fail), FakeClock, FastHasher
// (argon2id with tiny parameters, for quick tests) and TestStore, which
// any Store implementation runs against itself:
//
//	func TestStore(t *testing.T) {
//		accountstest.TestStore(t, func(t *testing.T) accounts.Store {
//			return openEmptyMigratedStore(t)
//		})
//	}
package accountstest
