package api_test

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// fillFull stores n full-questionnaire answers (every module) for each
// commune, of rising quality, so every indicator has answers in each.
func fillFull(t *testing.T, ts *testServer, codes []string, n int) {
	t.Helper()
	cat := ts.store.Catalogue()
	rng := rand.New(rand.NewPCG(21, 22))
	for i, code := range codes {
		centre := mustCentre(t, ts, code)
		for k := 0; k < n; k++ {
			v, err := cat.ValidateSubmission(cat.Synthesize(rng, cat.AllModules(), 0.1+0.8*float64(i)/float64(len(codes)-1)))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := ts.store.CreateResponse(context.Background(), store.NewResponse{SubmissionID: fmt.Sprintf("full-%s-%d", code, k), Centre: centre, Version: cat.Version, Visit: v, At: openSlot(k)}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// compareRow is the part of a comparison row these tests read.
type compareRow struct {
	Commune            survey.Commune
	Responses          int64
	TotalScore         *float64 `json:"total_score"`
	Rank               int
	RankLow            int    `json:"rank_low"`
	RankHigh           int    `json:"rank_high"`
	Band               string `json:"band"`
	VersusAverage      string `json:"versus_average"`
	IndicatorsBorrowed int    `json:"indicators_borrowed"`
	Indicator          *struct {
		ID       string
		Value    *float64
		Estimate string
	}
}

type compareBody struct {
	Estimates string
	Policy    map[string]any
	City      struct {
		Basis          string
		CommunesScored int      `json:"communes_scored"`
		TotalScore     *float64 `json:"total_score"`
	}
	Reference struct {
		NationalMedian float64 `json:"national_median"`
	} `json:"reference_papi_2024"`
	Bands []struct {
		ID, Name string
		NameEn   string `json:"name_en"`
	}
	Rows []compareRow
}

// TestSmallAreaOverHTTP: twelve communes of former Hồ Chí Minh answer; with
// small-area estimates every one of the 168 communes gets a total and a
// rank interval, borrowing from the province or the city; estimate=direct
// ranks only the communes with enough answers of their own.
func TestSmallAreaOverHTTP(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	communes, _ := survey.Communes()
	var codes []string
	for _, cm := range communes {
		if cm.FormerProvince == "Hồ Chí Minh" && len(codes) < 12 {
			codes = append(codes, cm.Code)
		}
	}
	fillFull(t, ts, codes, 35)
	const period = "from=2026-01-01&to=2026-12-31"

	var est compareBody
	if res := ts.do(t, "GET", "/api/v1/compare?"+period, ts.tokens["department"], "", &est); res.StatusCode != 200 {
		t.Fatalf("compare: status %d", res.StatusCode)
	}
	if est.Estimates != survey.EstimatesSmallArea || len(est.Rows) != 168 || est.City.Basis != survey.CityBasis ||
		est.City.CommunesScored != 168 || est.Reference.NationalMedian != 43.48 || len(est.Bands) != 4 || est.Bands[0].ID != "best" {
		t.Fatalf("compare: got estimates %q, %d rows, city %+v, reference %v, bands %+v; want small_area, 168 rows all averaged, PAPI's 43.48 apart, 4 bands",
			est.Estimates, len(est.Rows), est.City, est.Reference.NationalMedian, est.Bands)
	}
	for i, r := range est.Rows {
		inOrder := r.Rank == i+1 || i > 0 && r.Rank == est.Rows[i-1].Rank // ties share a rank
		if r.TotalScore == nil || !inOrder || r.RankLow > r.Rank || r.RankHigh < r.Rank || r.Band == "" || r.VersusAverage == "" {
			t.Errorf("row %d %s: got total %v, rank %d in [%d, %d], band %q, versus %q; want every commune ranked with an interval", i, r.Commune.Code, r.TotalScore, r.Rank, r.RankLow, r.RankHigh, r.Band, r.VersusAverage)
		}
		if r.Responses == 0 && r.IndicatorsBorrowed == 0 {
			t.Errorf("%s has no answers but borrows nothing", r.Commune.Code)
		}
	}
	if est.Policy["min_n"] != 30.0 || est.Policy["MinN"] != nil {
		t.Errorf("policy: got %v, want snake_case min_n 30", est.Policy)
	}

	// Without estimates a commune is scored on its own answers only: the
	// 156 without any are not ranked (and with 35 answers each, the twelve
	// lack enough on the conditional indicators for a total of their own).
	var direct compareBody
	ts.do(t, "GET", "/api/v1/compare?estimate=direct&"+period, ts.tokens["department"], "", &direct)
	if direct.Estimates != survey.EstimatesDirect || len(direct.Rows) != 168 || direct.City.CommunesScored != 0 {
		t.Errorf("estimate=direct: got %q, %d rows, %d averaged, want direct, 168 rows and no totals", direct.Estimates, len(direct.Rows), direct.City.CommunesScored)
	}
	for _, r := range direct.Rows {
		if r.Rank != 0 || r.TotalScore != nil || r.IndicatorsBorrowed != 0 {
			t.Errorf("estimate=direct %s: got rank %d, total %v, %d borrowed, want no rank, no total, nothing borrowed", r.Commune.Code, r.Rank, r.TotalScore, r.IndicatorsBorrowed)
		}
	}

	t.Run("indicator ranking tests every commune against the average", func(t *testing.T) {
		// Quality rises from 0.1 to 0.9 across the twelve communes: by
		// their own intervals some are above the average satisfaction and
		// some below (the interval used to be dropped for indicators).
		var cmp compareBody
		ts.do(t, "GET", "/api/v1/compare?estimate=direct&indicator=D5.3.4&"+period, ts.tokens["department"], "", &cmp)
		seen := map[string]int{}
		for _, r := range cmp.Rows {
			if r.Rank > 0 {
				seen[r.VersusAverage]++
				if r.Indicator == nil || r.Indicator.ID != "D5.3.4" || r.Indicator.Estimate != survey.EstimateDirect {
					t.Errorf("%s: got indicator %+v, want D5.3.4, direct", r.Commune.Code, r.Indicator)
				}
			}
		}
		if seen[survey.Above] == 0 || seen[survey.Below] == 0 {
			t.Errorf("got %v, want communes both above and below the average", seen)
		}
	})

	t.Run("a commune without answers", func(t *testing.T) {
		var sum struct {
			Estimates  string
			Total      *float64 `json:"total_score"`
			Borrowed   int      `json:"indicators_borrowed"`
			Dimensions []struct {
				Subdimensions []struct {
					Indicators []struct {
						ID        string
						Value     *float64
						N         *int
						Estimate  string
						OwnWeight *float64 `json:"own_weight"`
						Area      string
					}
				}
			}
		}
		if res := ts.do(t, "GET", "/api/v1/communes/25747/summary?"+period, ts.tokens["department"], "", &sum); res.StatusCode != 200 {
			t.Fatalf("summary: status %d", res.StatusCode)
		}
		ir := sum.Dimensions[4].Subdimensions[2].Indicators[3] // D5.3.4
		if sum.Estimates != survey.EstimatesSmallArea || sum.Total == nil || sum.Borrowed == 0 ||
			ir.ID != "D5.3.4" || ir.Estimate != survey.EstimateBorrowed || ir.OwnWeight == nil || *ir.OwnWeight != 0 || ir.N != nil || ir.Area != survey.AreaCity {
			t.Errorf("Thủ Dầu Một: got estimates %q, total %v, %d borrowed, D5.3.4 %+v; want a total from the city's distribution, own weight 0, no count",
				sum.Estimates, sum.Total, sum.Borrowed, ir)
		}
		sum.Total = nil
		ts.do(t, "GET", "/api/v1/communes/25747/summary?estimate=direct&"+period, ts.tokens["department"], "", &sum)
		if sum.Estimates != survey.EstimatesDirect || sum.Total != nil {
			t.Errorf("estimate=direct: got %q, total %v, want direct and no total", sum.Estimates, sum.Total)
		}
	})

	t.Run("follow-up by interval", func(t *testing.T) {
		var fu struct {
			Rule      survey.Text
			Target    string
			Estimates string
			Agencies  []struct {
				Agency string
				Items  []struct {
					Commune, Indicator, Role, Estimate string
					Value, CILow, CIHigh, Score        float64
					TargetScore                        float64 `json:"target_score"`
					Distance                           float64
				}
			}
		}
		if res := ts.do(t, "GET", "/api/v1/followup?"+period, ts.tokens["department"], "", &fu); res.StatusCode != 200 || len(fu.Agencies) == 0 {
			t.Fatalf("followup: status %d, %d agencies", res.StatusCode, len(fu.Agencies))
		}
		if fu.Rule.Vi == "" || fu.Rule.En == "" || fu.Target != survey.TargetAverage || fu.Estimates != survey.EstimatesSmallArea {
			t.Errorf("got rule %+v, target %q, estimates %q", fu.Rule, fu.Target, fu.Estimates)
		}
		borrowed := 0
		for _, a := range fu.Agencies {
			for i, it := range a.Items {
				if it.Distance <= 0 || it.Score >= it.TargetScore || (i > 0 && it.Distance > a.Items[i-1].Distance) {
					t.Errorf("%s %s %s: got score %v, target %v, distance %v (after %d items), want listed only below target, sorted by distance",
						a.Agency, it.Commune, it.Indicator, it.Score, it.TargetScore, it.Distance, i)
				}
				if it.Estimate == survey.EstimateBorrowed {
					borrowed++
				}
			}
		}
		t.Logf("follow-up: %d agencies, %d borrowed items", len(fu.Agencies), borrowed)
	})
}

// TestStatsQueryErrors: bad statistics parameters get a 400 naming the
// field, in Vietnamese and English.
func TestStatsQueryErrors(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	for _, tc := range []struct{ path, field string }{
		{"/api/v1/communes/26740/summary?min_n=10", "min_n"}, // below PAPI_MIN_N (30)
		{"/api/v1/communes/26740/summary?min_n=abc", "min_n"},
		{"/api/v1/communes/26740/summary?estimate=guess", "estimate"},
		{"/api/v1/compare?dimension=D9", "dimension"},
		{"/api/v1/compare?indicator=D9.9.9", "indicator"},
		{"/api/v1/compare?dimension=D1&indicator=D1.1.1", "indicator"},
		{"/api/v1/compare?former_province=H%C3%A0%20N%E1%BB%99i", "former_province"},
		{"/api/v1/compare?type=quan", "type"},
		{"/api/v1/followup?type=quan", "type"},
	} {
		var body struct {
			Errors []struct {
				Field     string
				MessageVi string `json:"message_vi"`
				MessageEn string `json:"message_en"`
			}
		}
		res := ts.do(t, "GET", tc.path, ts.tokens["admin"], "", &body)
		if res.StatusCode != 400 || len(body.Errors) != 1 || body.Errors[0].Field != tc.field || body.Errors[0].MessageVi == "" || body.Errors[0].MessageEn == "" {
			t.Errorf("%s: got %d %+v, want 400 on field %s", tc.path, res.StatusCode, body.Errors, tc.field)
		}
	}
	var sum struct{ Policy map[string]float64 }
	if res := ts.do(t, "GET", "/api/v1/communes/26740/summary?min_n=50", ts.tokens["commune"], "", &sum); res.StatusCode != 200 || sum.Policy["min_n"] != 50 || sum.Policy["hide_below"] != 5 {
		t.Errorf("min_n=50: got %d, policy %v, want 200 with min_n 50 and hide_below 5", res.StatusCode, sum.Policy)
	}
	res := ts.do(t, "GET", "/api/v1/compare", ts.tokens["department"], "", nil)
	if data, _ := io.ReadAll(res.Body); !strings.Contains(string(data), `"rank_low"`) || !strings.Contains(string(data), `"band_uncertain"`) {
		t.Errorf("compare: got %.300s, want rank_low and band_uncertain in the rows", data)
	}
}
