package survey

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// standing is the part of a comparison row a table case checks.
type standing struct {
	code   string
	rank   int
	versus string
}

func TestCompareDirect(t *testing.T) {
	c := MustMini(t)
	// From communeTallies (direct values, see there): A has D1 = (7.3 +
	// 3.7)/2 = 5.5 and D2 = 5.5, total 11; B has D1.1.2 withheld, so only
	// 2 of D1's 5 indicators and no D1 or total, D2 = 10; C has neither.
	// D1.1.1's intervals on the 1-10 scale: A [7.93, 9.64], B [4.17, 6.83];
	// their average 7.3 lies between, so A is above and B below it. D2:
	// B's 30 answers are all 3 (interval [10, 10]), A's [4.51, 6.49]: both
	// exclude the average 7.75. D1.1.2: A [4.03, 6.98] holds the average
	// 4.15, C [1.95, 4.13] lies below it.
	for _, tc := range []struct {
		name string
		opts CompareOptions
		want []standing // in row order
	}{
		{"total", CompareOptions{}, []standing{{"A", 1, NotDifferent}, {"B", 0, ""}, {"C", 0, ""}}},
		{"dimension", CompareOptions{By: RankDimension, ID: "D2"}, []standing{{"B", 1, Above}, {"A", 2, Below}, {"C", 0, ""}}},
		{"indicator", CompareOptions{By: RankIndicator, ID: "D1.1.1"}, []standing{{"A", 1, Above}, {"B", 2, Below}, {"C", 0, ""}}},
		{"indicator shown in one commune", CompareOptions{By: RankIndicator, ID: "D1.1.2"}, []standing{{"A", 1, NotDifferent}, {"C", 2, Below}, {"B", 0, ""}}},
		{"former province", CompareOptions{Province: "Bình Dương", By: RankDimension, ID: "D2"}, []standing{{"B", 1, NotDifferent}}},
		{"type", CompareOptions{Type: DacKhu}, []standing{{"C", 0, ""}}},
		{"province and type match nothing", CompareOptions{Province: "Bình Dương", Type: Phuong}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compare(c, abc, abcData(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var rows []standing
			for _, r := range got.Rows {
				rows = append(rows, standing{r.Commune.Code, r.Rank, r.VersusAverage})
			}
			if fmt.Sprint(rows) != fmt.Sprint(tc.want) {
				t.Errorf("rows: got %v, want %v", rows, tc.want)
			}
			if got.Estimates != EstimatesDirect || got.Reference.Year != 2024 || len(got.Bands) != 4 || got.Note != Disclaimer {
				t.Errorf("header: got estimates %q, reference %d, %d bands, want direct, 2024, 4 and the disclaimer", got.Estimates, got.Reference.Year, len(got.Bands))
			}
		})
	}
	t.Run("row contents", func(t *testing.T) {
		got, _ := Compare(c, abc, abcData(), CompareOptions{By: RankIndicator, ID: "D1.1.1"})
		a := got.Rows[0]
		MustNear(t, "A total", a.TotalScore, 11, 1e-12)
		MustNear(t, "A D1", a.Dimensions[0].Score, 5.5, 1e-12)
		MustNear(t, "A D1.1.1 score", a.Indicator.Score, 9.1, 1e-12)
		if a.Indicator.ID != "D1.1.1" || a.RankLow != 1 || a.RankHigh != 1 || a.Dimensions[1].Rank != 2 {
			t.Errorf("A: got indicator %s, rank [%d, %d], D2 rank %d, want D1.1.1, [1, 1] (intervals far apart), D2 rank 2",
				a.Indicator.ID, a.RankLow, a.RankHigh, a.Dimensions[1].Rank)
		}
		// City headline: the average of the communes' totals: A's alone.
		if got.City.Basis != CityBasis || got.City.Communes != 1 || got.City.TotalScore == nil || *got.City.TotalScore != 11 {
			t.Errorf("city: got %+v, want the average of the one total, 11", got.City)
		}
		MustNear(t, "city D2", got.City.Dimensions[1].Score, 7.75, 1e-12) // (5.5 + 10)/2
	})
}

func TestRankable(t *testing.T) {
	c := MustMiniWith(t, func(c *Catalogue) { indicator(c, "D1.2.2").Context = true })
	got := c.Rankable()
	var ids []string
	for _, g := range got {
		for _, sg := range g.Subdimensions {
			for _, it := range sg.Indicators {
				ids = append(ids, g.ID+"/"+sg.ID+"/"+it.ID)
			}
		}
	}
	want := "[D1/D1.1/D1.1.1 D1/D1.1/D1.1.2 D1/D1.2/D1.2.1 D1/D1.2/D1.2.3 D2/D2.1/D2.1.1 D2/D2.1/D2.1.2]"
	if fmt.Sprint(ids) != want || got[0].Name == "" || got[0].Subdimensions[0].Indicators[0].Kind != KindRatio {
		t.Errorf("got %v, want %s grouped by dimension and sub-dimension, without the context D1.2.2", ids, want)
	}
}

func TestCompareOptionErrors(t *testing.T) {
	c := MustMiniWith(t, func(c *Catalogue) { indicator(c, "D1.2.2").Context = true })
	for _, tc := range []struct {
		name  string
		opts  CompareOptions
		field string
	}{
		{"unknown ranking", CompareOptions{By: "score"}, "by"},
		{"unknown dimension", CompareOptions{By: RankDimension, ID: "D9"}, "dimension"},
		{"unknown indicator", CompareOptions{By: RankIndicator, ID: "D9.9.9"}, "indicator"},
		{"context indicator", CompareOptions{By: RankIndicator, ID: "D1.2.2"}, "indicator"},
		{"unknown province", CompareOptions{Province: "Hà Nội"}, "former_province"},
		{"unknown type", CompareOptions{Type: "quan"}, "type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(c, abc, abcData(), tc.opts)
			var v *ValidationError
			if !errors.As(err, &v) || len(v.Errors) != 1 || v.Errors[0].Field != tc.field || v.Errors[0].Message.Vi == "" || v.Errors[0].Message.En == "" {
				t.Errorf("got %v, want a bilingual error on field %q", err, tc.field)
			}
		})
	}
}

func TestRankInputLowerIsBetter(t *testing.T) {
	// D2.1.1 (0–100, lower is better): a median of 20 in [20, 50] scores
	// 8.2 with the interval [5.5, 8.2] on the 1-10 scale.
	ir := IndicatorResult{Score: fp(8.2), CILow: fp(20), CIHigh: fp(50), se: 0.5}
	in := ir.rankInput(Scale{Min: 0, Max: 100})
	MustNear(t, "low", in.CILow, 5.5, 1e-12)
	MustNear(t, "high", in.CIHigh, 8.2, 1e-12)
	if in.SE != 0.5 || *in.Score != 8.2 {
		t.Errorf("got score %v se %v, want 8.2 and .5", *in.Score, in.SE)
	}
}

// smallAreaFixture has 24 communes answering every indicator of mini.json:
// C00 and C01 with 40 answers each (direct), the others with 15 (borrowed).
// Shares and means rise with the commune's number. D1.2.2 has answers in
// C00–C06 only (7 communes): no area distribution, so it is outside the
// set every commune has a value for and counts only where shown (C00,
// C01). Provinces: C00–C13 Hồ Chí Minh, C14–C19 Bình Dương
// and C20–C23 Bà Rịa - Vũng Tàu (both too small: they borrow from the city).
func smallAreaFixture() ([]Commune, map[string]CommuneData) {
	var communes []Commune
	data := map[string]CommuneData{}
	for i := range 24 {
		code := fmt.Sprintf("C%02d", i)
		province := "Hồ Chí Minh"
		if i >= 14 {
			province = "Bình Dương"
		}
		if i >= 20 {
			province = "Bà Rịa - Vũng Tàu"
		}
		communes = append(communes, Commune{Code: code, Name: "Phường " + code, Type: Phuong, FormerProvince: province})
		n := 15.0
		if i < 2 {
			n = 40
		}
		share := 0.3 + 0.02*float64(i)
		ratio := Tally{N: n, Sum: math.Round(n * share), SumSq: math.Round(n * share)}
		mean := func(m float64) Tally { return Tally{N: n, Sum: n * m, SumSq: n*m*m + (n - 1)} }
		ts := map[string]Tally{
			"D1.1.1": ratio, "D1.1.2": ratio, "D1.2.1": ratio,
			"D1.2.3": mean(2 + 2*share), "D2.1.2": mean(1.5 + share),
			"D2.1.1": {N: n, Sum: n * 30, SumSq: n * 1200, Hist: map[float64]float64{10: n / 3, float64(20 + i): n / 3, 60: n / 3}},
		}
		if i < 7 {
			ts["D1.2.2"] = mean(1 + share)
		}
		data[code] = CommuneData{Counts: Counts{Responses: int64(n), CountedResponses: int64(n)}, Tallies: ts}
	}
	return communes, data
}

func TestCompareSmallArea(t *testing.T) {
	c := MustMini(t)
	communes, data := smallAreaFixture()
	est, err := Compare(c, communes, data, CompareOptions{Estimates: true})
	if err != nil {
		t.Fatal(err)
	}
	direct, err := Compare(c, communes, data, CompareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if est.Estimates != EstimatesSmallArea || direct.Estimates != EstimatesDirect {
		t.Errorf("estimates: got %q and %q, want %q and %q", est.Estimates, direct.Estimates, EstimatesSmallArea, EstimatesDirect)
	}
	ranked := 0
	for _, r := range direct.Rows {
		if r.Rank != 0 {
			ranked++
		}
	}
	if ranked != 2 {
		t.Errorf("direct: got %d communes ranked, want the 2 with 40 answers", ranked)
	}
	// With estimates every commune has a total on the same seven
	// indicators: the six fitted ones and D1.2.2, answered in 7 communes
	// only, from the city's pooled model. The 22 small communes borrow all
	// seven.
	for i, r := range est.Rows {
		wantBorrowed, wantScored := 7, 7
		if r.Commune.Code == "C00" || r.Commune.Code == "C01" {
			wantBorrowed, wantScored = 0, 7
		}
		if r.TotalScore == nil || r.Rank != i+1 || r.Borrowed != wantBorrowed || r.Scores.Scored != wantScored {
			t.Errorf("%s: got total %v, rank %d (row %d), %d of %d indicators borrowed, want a total, rank %d, %d of %d borrowed",
				r.Commune.Code, r.TotalScore, r.Rank, i, r.Borrowed, r.Scores.Scored, i+1, wantBorrowed, wantScored)
		}
		if r.RankLow > r.Rank || r.RankHigh < r.Rank || r.VersusAverage == "" || r.Band == "" {
			t.Errorf("%s: got rank %d in [%d, %d], band %q, versus %q, want an interval around the rank, a band and a test", r.Commune.Code, r.Rank, r.RankLow, r.RankHigh, r.Band, r.VersusAverage)
		}
	}
	if est.City.Communes != 24 {
		t.Errorf("city: got %d communes averaged, want 24", est.City.Communes)
	}
	// The seven indicators have a value everywhere; D1.2.2 counts directly
	// where shown and is borrowed from the pooled model elsewhere.
	if len(est.Rows) != 24 || len(direct.Rows) != 24 {
		t.Fatalf("got %d and %d rows, want 24", len(est.Rows), len(direct.Rows))
	}
	find := func(cmp Comparison, code string) CompareRow {
		for _, r := range cmp.Rows {
			if r.Commune.Code == code {
				return r
			}
		}
		t.Fatalf("no row %s", code)
		return CompareRow{}
	}
	d122 := func(r CompareRow) IndicatorResult { return r.Scores.indicator("D1.2.2") }
	if e, d := d122(find(est, "C00")), d122(find(direct, "C00")); !e.InScore || !d.InScore || e.Estimate != EstimateDirect || e.Value == nil {
		t.Errorf("C00 D1.2.2: got in score %v (estimates) and %v (direct), want its direct value counted in both", e.InScore, d.InScore)
	}
	if b := d122(find(est, "C10")); b.Value == nil || !b.InScore || b.Estimate != EstimateBorrowed || b.Area != AreaCity || *b.OwnWeight != 0 {
		t.Errorf("C10 D1.2.2: got %+v, want the city's pooled distribution (no answers of its own)", b)
	}
	t.Run("filters do not change the estimates", func(t *testing.T) {
		bd, err := Compare(c, communes, data, CompareOptions{Estimates: true, Province: "Bình Dương"})
		if err != nil {
			t.Fatal(err)
		}
		if len(bd.Rows) != 6 {
			t.Fatalf("got %d rows, want Bình Dương's 6", len(bd.Rows))
		}
		for _, r := range bd.Rows {
			if a, b := *r.TotalScore, *find(est, r.Commune.Code).TotalScore; a != b {
				t.Errorf("%s: got total %v filtered, %v unfiltered, want the same", r.Commune.Code, a, b)
			}
		}
	})
}
