package survey

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestParseChannels(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		bad  bool
	}{
		{"", nil, false},
		{"qr", []string{"qr"}, false},
		{"household, qr,qr", []string{"qr", "household"}, false},
		{"qr,kiosk,household", []string{"qr", "kiosk", "household"}, false},
		{"qr,sms", nil, true},
		{",", nil, true},
	} {
		got, err := ParseChannels(tc.in)
		if (err != nil) != tc.bad || !slices.Equal(got, tc.want) {
			t.Errorf("ParseChannels(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.bad)
		}
		if err != nil && ErrorCode(err) != EINVALID {
			t.Errorf("ParseChannels(%q): error code %q, want %q", tc.in, ErrorCode(err), EINVALID)
		}
	}
}

// ratioTally is n answers of which yes say yes.
func ratioTally(n, yes float64) Tally { return Tally{N: n, Sum: yes, SumSq: yes} }

func TestCompareChannels(t *testing.T) {
	c := MustMini(t)
	p := Policy{MinN: 30}
	tallies := map[string]map[string]Tally{
		// D1.1.1: 80% of 200 QR answers against 50% of 100 households, a
		// difference of 0.30 with a standard error of about 0.058: a gap.
		// D1.1.2: 60% against 55%, well within sampling error.
		ChannelQR:        {"D1.1.1": ratioTally(200, 160), "D1.1.2": ratioTally(100, 60)},
		ChannelHousehold: {"D1.1.1": ratioTally(100, 50), "D1.1.2": ratioTally(100, 55), "D2.1.2": ratioTally(100, 50)},
		// Too few kiosk answers to show.
		ChannelKiosk: {"D1.1.1": ratioTally(12, 12)},
	}
	got := c.CompareChannels(tallies, map[string]int64{ChannelQR: 200, ChannelHousehold: 100, ChannelKiosk: 12}, p)
	if len(got.Indicators) != 2 || got.Indicators[0].ID != "D1.1.1" || got.Indicators[1].ID != "D1.1.2" {
		t.Fatalf("indicators: %+v, want D1.1.1 and D1.1.2 (D2.1.2 has one channel, the kiosk too few answers)", got.Indicators)
	}
	first := got.Indicators[0]
	if len(first.Values) != 2 || first.Values[0].Channel != ChannelQR || first.Values[1].Channel != ChannelHousehold || first.Values[0].N != 200 {
		t.Errorf("D1.1.1 values: %+v, want qr (n 200) then household", first.Values)
	}
	if len(first.Gaps) != 1 || first.Gaps[0].A != ChannelQR || first.Gaps[0].B != ChannelHousehold || math.Abs(first.Gaps[0].Difference-0.30) > 1e-9 {
		t.Errorf("D1.1.1 gaps: %+v, want qr − household = 0.30", first.Gaps)
	}
	if len(got.Indicators[1].Gaps) != 0 || got.Gaps != 1 {
		t.Errorf("D1.1.2 gaps %+v, total %d; want none and 1 in all", got.Indicators[1].Gaps, got.Gaps)
	}
}

// TestChannelGapRate draws two channels from the same truth many times: the
// gap test should fire about 5% of the time, and about 93% of the time when
// the truths differ by 20 points at these sizes (z ≈ 3.4).
func TestChannelGapRate(t *testing.T) {
	c := MustMini(t)
	rng := rand.New(rand.NewPCG(3, 4))
	draw := func(n int, p float64) Tally {
		yes := 0
		for range n {
			if rng.Float64() < p {
				yes++
			}
		}
		return ratioTally(float64(n), float64(yes))
	}
	rate := func(pQR, pHH float64) float64 {
		const reps = 2000
		gaps := 0
		for range reps {
			tl := map[string]map[string]Tally{ChannelQR: {"D1.1.1": draw(150, pQR)}, ChannelHousehold: {"D1.1.1": draw(120, pHH)}}
			gaps += c.CompareChannels(tl, nil, Policy{MinN: 30}).Gaps
		}
		return float64(gaps) / reps
	}
	if r := rate(0.6, 0.6); r < 0.03 || r > 0.075 {
		t.Errorf("same truth: gaps in %.3f of draws, want about 0.05", r)
	}
	if r := rate(0.75, 0.55); r < 0.88 {
		t.Errorf("20 points apart: gaps in %.3f of draws, want about 0.93", r)
	}
}
