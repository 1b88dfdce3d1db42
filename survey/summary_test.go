package survey

import "testing"

func TestSummarize(t *testing.T) {
	c := MustMini(t)
	communes, data := smallAreaFixture()
	d := data["C05"]
	d.VerifiedResponses = 5
	d.Channels = map[string]int64{ChannelQR: 10, ChannelKiosk: 5}
	d.Residence = ResidenceCounts{Here: 9, Other: 2, Outside: 1, Unknown: 3}
	data["C05"] = d

	est, err := Summarize(c, communes, data, "C05", SummaryOptions{Policy: DefaultPolicy, Estimates: true})
	if err != nil {
		t.Fatal(err)
	}
	if est.Estimates != EstimatesSmallArea || est.Total == nil || est.Borrowed != 7 || est.Scored != 7 {
		t.Errorf("small-area: got estimates %q, total %v, %d of %d borrowed, want a total with 7 of 7 borrowed (D1.2.2 from the city's pooled model)", est.Estimates, est.Total, est.Borrowed, est.Scored)
	}
	ir := est.indicator("D1.1.1")
	if ir.Estimate != EstimateBorrowed || ir.OwnWeight == nil || *ir.OwnWeight <= 0 || *ir.OwnWeight >= 1 || ir.Area != "Hồ Chí Minh" ||
		!ir.Suppressed || ir.Numerator != nil || ir.N == nil || *ir.N != 15 {
		t.Errorf("D1.1.1: got %+v, want a borrowed value from Hồ Chí Minh with its own weight, the count 15 and no numerator", ir)
	}
	// Counts and shares: 5 of 15 verified; 9 of the 12 asked live here.
	MustNear(t, "verified share", est.VerifiedShare, 1.0/3, 1e-12)
	MustNear(t, "resident share", est.ResidentShare, 0.75, 1e-12)
	if est.Channels[ChannelKiosk] != 5 || est.Policy != DefaultPolicy || est.Reference.NationalMedian != 43.48 {
		t.Errorf("got channels %v, policy %+v, reference %v", est.Channels, est.Policy, est.Reference.NationalMedian)
	}

	direct, err := Summarize(c, communes, data, "C05", SummaryOptions{Policy: DefaultPolicy})
	if err != nil {
		t.Fatal(err)
	}
	if direct.Estimates != EstimatesDirect || direct.Total != nil || direct.Borrowed != 0 {
		t.Errorf("direct: got estimates %q, total %v, %d borrowed, want no total (15 answers each)", direct.Estimates, direct.Total, direct.Borrowed)
	}
	if ir := direct.indicator("D1.1.1"); ir.Value != nil || ir.Estimate != "" || !ir.Suppressed {
		t.Errorf("direct D1.1.1: got %+v, want it withheld", ir)
	}

	if _, err := Summarize(c, communes, data, "99999", SummaryOptions{}); ErrorCode(err) != ENOTFOUND {
		t.Errorf("unknown commune: got %v, want not found", err)
	}

	t.Run("pooled", func(t *testing.T) {
		pooled := SummarizePooled(c, Commune{Name: "Hai phường"}, Merge(data["C00"], data["C05"]), DefaultPolicy)
		// 40 + 15 answers; D1.1.1: round(40·.3) + round(15·.4) = 12 + 6 of 55.
		if pooled.CountedResponses != 55 || pooled.Estimates != EstimatesDirect {
			t.Errorf("got %d counted (%s), want 55, direct", pooled.CountedResponses, pooled.Estimates)
		}
		MustNear(t, "D1.1.1", pooled.indicator("D1.1.1").Value, 18.0/55, 1e-12)
	})
}

func TestResidentShare(t *testing.T) {
	if got := (ResidenceCounts{Unknown: 7}).ResidentShare(); got != nil {
		t.Errorf("nobody asked: got %v, want nil", *got)
	}
	MustNear(t, "share", ResidenceCounts{Here: 3, Outside: 1, Unknown: 9}.ResidentShare(), 0.75, 1e-12)
}
