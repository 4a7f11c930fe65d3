package stats

// SetAfterLoad makes m call f after every read of a part ("catalog" or
// "ledger") from the store, published or failed: tests wait on it
// instead of sleeping.
func SetAfterLoad(m *ReadModel, f func(part string, err error)) { m.afterLoad = f }
