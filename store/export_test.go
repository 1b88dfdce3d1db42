package store

import (
	"context"
	"testing"
	"time"
)

// Hooks for the external tests of this package.

// ForgetBursts turns the store's burstMemory off: screening then asks the
// database for every burst count, as it did before the memory.
func ForgetBursts(s *Store) { s.bursts.off = true }

// BurstCountsSkipped is how many burst counts screening left out.
func BurstCountsSkipped(s *Store) int64 { return s.bursts.skips.Load() }

// FoldBetween runs a fold of the delta rows with between run after it has
// read what it rewrites and before it writes, and says how many it folded.
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

// ScreenPlan is the database's plan of the screening query that counts a
// phone answer's identical answers only (phoneSameCounts), a line a step.
func ScreenPlan(t testing.TB, s *Store, centre uint, at time.Time) string {
	it := &item{row: responseRow{CentreID: centre, CreatedAt: at, Fingerprint: "f"}, at: at, skipBurst: true}
	return queryPlan(t, s, s.screenQuery(phoneSameCounts, []*item{it}))
}

// IntakeStats are how many PostgreSQL intake batches were stored by one
// statement, and how many met a stored submission id in it.
func IntakeStats(s *Store) (oneStatement, retried int64) {
	return s.intake.oneStatement.Load(), s.intake.retried.Load()
}
