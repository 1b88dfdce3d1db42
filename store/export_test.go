package store

// Hooks for the external tests of this package.

// ForgetBursts turns the store's burstMemory off: screening then asks the
// database for every burst count, as it did before the memory.
func ForgetBursts(s *Store) { s.bursts.off = true }

// BurstCountsSkipped is how many burst counts screening left out.
func BurstCountsSkipped(s *Store) int64 { return s.bursts.skips.Load() }
