package survey

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestPostStratify(t *testing.T) {
	margins := map[string]float64{Cell("female", "18_29"): 300, Cell("male", "18_29"): 100, Cell("male", "60_plus"): 50}
	visits := []Visit{
		{Sex: "female", AgeGroup: "18_29"},
		{Sex: "male", AgeGroup: "18_29"}, {Sex: "male", AgeGroup: "18_29"}, {Sex: "male", AgeGroup: "18_29"},
		{}, // no profile
	}
	w, err := PostStratify(visits, margins)
	if err != nil {
		t.Fatal(err)
	}
	// 4 respondents with a profile; cells present: female 18-29 (pop 300)
	// and male 18-29 (pop 100); male 60+ has no respondent and is dropped,
	// so shares are 300/400 and 100/400.
	// female: 0.75 · 4 / 1 = 3; male: 0.25 · 4 / 3 = 1/3; no profile: 1.
	want := []float64{3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1}
	for i := range want {
		if math.Abs(w[i]-want[i]) > 1e-12 {
			t.Errorf("weight %d: got %v, want %v", i, w[i], want[i])
		}
	}
	if _, err := PostStratify(visits, nil); ErrorCode(err) != EINVALID {
		t.Errorf("no margins: got %v, want invalid", err)
	}
}

func TestWeightedTallies(t *testing.T) {
	data, err := os.ReadFile("testdata/mini.json")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := ParseCatalogue(data)
	if err != nil {
		t.Fatal(err)
	}
	// D1.2.1 counts "no" to c_paid. Values: 1, 0, 0, 1, 0.
	paid := []string{"no", "yes", "yes", "no", "yes"}
	visits := make([]Visit, len(paid))
	for i, p := range paid {
		visits[i] = Visit{Modules: []string{"core"}, Answers: Answers{"c_proc": "other", "c_sat": 3.0, "c_paid": p}}
	}
	weights := []float64{3, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1}
	tl := cat.WeightedTallies(visits, weights)["D1.2.1"]
	// Σw = 3 + 3·(1/3) + 1 = 5; Σw·x = 3 + 1/3 = 10/3; p = 2/3.
	// Σw² = 9 + 3·(1/9) + 1 = 31/3; n_eff = 25 / (31/3) = 75/31 ≈ 2.4194.
	neff := 75.0 / 31
	if math.Abs(tl.EffectiveN()-neff) > 1e-9 || math.Abs(tl.Mean()-2.0/3) > 1e-9 || tl.N != 5 {
		t.Errorf("got n %v, n_eff %v and p %v, want 5, %v and 2/3", tl.N, tl.EffectiveN(), tl.Mean(), neff)
	}
	// With equal weights the weighted tally is the plain one.
	ones := []float64{1, 1, 1, 1, 1}
	plain := cat.WeightedTallies(visits, ones)["D1.2.3"] // c_sat = 3 for all
	if plain.N != 5 || plain.Sum != 15 || math.Abs(plain.SumSq-45) > 1e-9 {
		t.Errorf("equal weights: got %+v, want n 5, sum 15, sumsq 45", plain)
	}
}

func TestReadPopulation(t *testing.T) {
	good := "commune_code,sex,age_group,population\n26740,female,18_29,1200\n26740,male,18_29,1100\n"
	p, err := ReadPopulation(strings.NewReader(good))
	if err != nil || p["26740"][Cell("female", "18_29")] != 1200 || len(p["26740"]) != 2 {
		t.Fatalf("got %v, %v", p, err)
	}
	for _, bad := range []string{
		"code,sex,age,pop\n",
		"commune_code,sex,age_group,population\n26740,female,18_29,many\n",
		"commune_code,sex,age_group,population\n26740,other,18_29,10\n",
		"commune_code,sex,age_group,population\n26740,female,15_17,10\n",
		"commune_code,sex,age_group,population\n26740,female,18_29,-1\n",
	} {
		if _, err := ReadPopulation(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestReadTargets(t *testing.T) {
	data, err := os.ReadFile("testdata/mini.json")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := ParseCatalogue(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cat.ReadTargets(strings.NewReader("indicator,target\nD1.1.1,0.5\nD1.2.3,4\nD2.1.1,25\n"))
	if err != nil {
		t.Fatal(err)
	}
	// 0.5 of 0..1 → 1 + 9·0.5 = 5.5; 4 of 1..5 → 1 + 9·0.75 = 7.75;
	// 25 of 0..100, lower better → 1 + 9·0.75 = 7.75.
	want := map[string]float64{"D1.1.1": 5.5, "D1.2.3": 7.75, "D2.1.1": 7.75}
	for id, w := range want {
		if math.Abs(got[id]-w) > 1e-12 {
			t.Errorf("%s: got %v, want %v", id, got[id], w)
		}
	}
	for _, bad := range []string{"ind,target\n", "indicator,target\nD9.9.9,1\n", "indicator,target\nD1.1.1,1.5\n", "indicator,target\nD1.1.1,high\n"} {
		if _, err := cat.ReadTargets(strings.NewReader(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestDenormaliseInvertsNormalise(t *testing.T) {
	for _, s := range []Scale{{0, 1, true}, {1, 5, true}, {0, 100, false}, {0, 8, true}} {
		for _, x := range []float64{s.Min, (s.Min + s.Max) / 2, s.Max, s.Min + (s.Max-s.Min)/3} {
			if got := s.Denormalise(s.Normalise(x)); math.Abs(got-x) > 1e-9 {
				t.Errorf("scale %+v: Denormalise(Normalise(%v)) = %v", s, x, got)
			}
		}
	}
}
