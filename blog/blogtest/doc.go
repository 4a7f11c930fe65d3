// Package blogtest provides test doubles for package blog and the
// conformance suite for its Store: MemStore (an in-memory Store with the
// real behaviour of the contract) and TestStore, which any Store
// implementation runs against itself:
//
//	func TestStore(t *testing.T) {
//		blogtest.TestStore(t, func(t *testing.T) blog.Store {
//			return openEmptyMigratedStore(t)
//		})
//	}
package blogtest
