package survey

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
)

// Band is one of PAPI's four performance groups: quartiles of the units
// ranked, best first.
type Band struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	NameEn string `json:"name_en"`
}

// Bands are PAPI's performance groups, best first; the only copy of their
// names (the pages read them from the API).
var Bands = []Band{
	{ID: "best", Name: "Nhóm đạt điểm cao nhất", NameEn: "Best performers"},
	{ID: "high_average", Name: "Nhóm trung bình cao", NameEn: "High average"},
	{ID: "low_average", Name: "Nhóm trung bình thấp", NameEn: "Low average"},
	{ID: "poor", Name: "Nhóm đạt điểm thấp nhất", NameEn: "Poor performers"},
}

// MinBanded is the fewest scored units for which bands mean anything.
const MinBanded = 8

// Versus the average of the scored units.
const (
	Above        = "above"
	Below        = "below"
	NotDifferent = "not_different"
)

// Rank intervals are simulated: RankDraws draws of every unit's score from
// its estimate's normal distribution, with a fixed seed so the same data
// always give the same intervals.
const (
	RankDraws = 1000
	rankSeed1 = 2024
	rankSeed2 = 105
)

// RankInput is one unit's score with its uncertainty. A nil Score means not
// scored. SE is the standard error of Score; CILow and CIHigh its 95%
// interval on the same scale, higher being better.
type RankInput struct {
	Score  *float64
	SE     float64
	CILow  *float64
	CIHigh *float64
}

// Standing is one unit's place among others. Rank 0 and empty bands mean
// not ranked: not scored, or (bands) too few scored units.
type Standing struct {
	// Rank follows the point scores, 1 the best; ties share a rank.
	Rank int `json:"rank"`
	// RankLow and RankHigh bound the 90% rank interval: in 90% of draws
	// from the estimates' distributions the unit's rank lies between them
	// (RankLow the better, smaller number).
	RankLow  int `json:"rank_low"`
	RankHigh int `json:"rank_high"`
	// Band is PAPI's quartile group of Rank. BandFrom and BandTo are the
	// bands of RankLow and RankHigh; BandUncertain is set when they
	// differ, i.e. the unit cannot be told apart from units of a
	// neighbouring band.
	Band          string `json:"band"`
	BandFrom      string `json:"band_from"`
	BandTo        string `json:"band_to"`
	BandUncertain bool   `json:"band_uncertain"`
	// VersusAverage is Above or Below when the unit's 95% interval
	// excludes the average of all scored units, NotDifferent otherwise
	// (also when it has no interval), and empty when it is not scored.
	VersusAverage string `json:"versus_average"`
}

// Rank orders units from best to worst. Ranks follow the point scores
// (ties share a rank); rank intervals come from RankDraws simulated draws of
// every score from N(Score, SE²), independently across units; bands are
// quartiles of the scored units; and each scored unit's interval is tested
// against the average of all scored units.
func Rank(units []RankInput) []Standing {
	out := make([]Standing, len(units))
	var idx []int
	sum := 0.0
	for i, u := range units {
		if u.Score != nil && !math.IsNaN(*u.Score) {
			idx = append(idx, i)
			sum += *u.Score
		}
	}
	n := len(idx)
	if n == 0 {
		return out
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(*units[b].Score, *units[a].Score) })
	avg := sum / float64(n)
	for pos, i := range idx {
		rank := pos + 1
		if pos > 0 && *units[idx[pos-1]].Score == *units[i].Score {
			rank = out[idx[pos-1]].Rank
		}
		out[i].Rank = rank
		u := units[i]
		out[i].VersusAverage = NotDifferent
		switch {
		case u.CILow != nil && *u.CILow > avg:
			out[i].VersusAverage = Above
		case u.CIHigh != nil && *u.CIHigh < avg:
			out[i].VersusAverage = Below
		}
	}
	rankIntervals(units, idx, out)
	if n >= MinBanded {
		for _, i := range idx {
			s := &out[i]
			s.Band, s.BandFrom, s.BandTo = bandOf(s.Rank, n), bandOf(s.RankLow, n), bandOf(s.RankHigh, n)
			s.BandUncertain = s.BandFrom != s.BandTo
		}
	}
	return out
}

// bandOf is the quartile group of a rank among n.
func bandOf(rank, n int) string { return Bands[(rank-1)*4/n].ID }

// rankIntervals fills RankLow and RankHigh of the scored units idx: the
// 5th and 95th percentiles of each unit's rank over the draws, widened to
// include the point rank (which uses the point scores and can differ
// by a place when scores are close). In a draw a unit's rank is one plus
// the number of draws above it, so equal draws share a rank, as equal
// scores do.
func rankIntervals(units []RankInput, idx []int, out []Standing) {
	n := len(idx)
	rng := rand.New(rand.NewPCG(rankSeed1, rankSeed2))
	ranks := make([][]int32, n)
	for k := range ranks {
		ranks[k] = make([]int32, RankDraws)
	}
	draw := make([]float64, n)
	sorted := make([]float64, n)
	for r := 0; r < RankDraws; r++ {
		for k, i := range idx {
			draw[k] = *units[i].Score + units[i].SE*rng.NormFloat64()
		}
		copy(sorted, draw)
		slices.Sort(sorted)
		for k, v := range draw {
			// sorted[at:] are the draws above v.
			at, found := slices.BinarySearch(sorted, v)
			for found && at < n && sorted[at] == v {
				at++
			}
			ranks[k][r] = int32(n - at + 1)
		}
	}
	lo, hi := RankDraws/20, RankDraws-RankDraws/20-1
	for k, i := range idx {
		slices.Sort(ranks[k])
		out[i].RankLow = min(int(ranks[k][lo]), out[i].Rank)
		out[i].RankHigh = max(int(ranks[k][hi]), out[i].Rank)
	}
}
