package store

import "context"

// Hooks for the external tests of this package.

// ForgetBursts turns the store's burstMemory off: screening then asks the
// database for every burst count, as it did before the memory.
func ForgetBursts(s *Store) { s.bursts.off = true }

// BurstCountsSkipped is how many burst counts screening left out.
func BurstCountsSkipped(s *Store) int64 { return s.bursts.skips.Load() }

// FoldBetween runs a fold of the delta rows (SQLite) with between run after
// it has read them and before it writes, and says how many it folded.
func FoldBetween(s *Store, between func()) (int, error) {
	s.afterFoldRead = between
	defer func() { s.afterFoldRead = nil }()
	n, _, err := s.fold(context.Background())
	return n, err
}

// SetFoldCells bounds the tally cells of a SQLite fold (foldRead).
func SetFoldCells(s *Store, n int) { s.foldCells = n }

// ForgetPhones turns the store's phoneMemory off: screening then has the
// database count every answer's neighbours.
func ForgetPhones(s *Store) { s.phones.off = true }

// PhonesAnswered is how many phone answers the phoneMemory counted the
// neighbours of.
func PhonesAnswered(s *Store) int64 { return s.phones.answered.Load() }
