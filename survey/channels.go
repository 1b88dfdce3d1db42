package survey

import (
	"math"
	"slices"
	"strings"
)

// ParseChannels reads a channel filter ("qr,household"): every name must be
// one of Channels; empty means every channel. Names come back once each, in
// the order of Channels.
func ParseChannels(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	asked := map[string]bool{}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(Channels, name) {
			return nil, Invalid("channel", "channel phải là một hoặc nhiều kênh qr, kiosk, household, cách nhau bằng dấu phẩy.",
				"channel must be one or more of qr, kiosk, household, separated by commas.")
		}
		asked[name] = true
	}
	var out []string
	for _, ch := range Channels {
		if asked[ch] {
			out = append(out, ch)
		}
	}
	return out, nil
}

// ChannelValue is one channel's own (direct) value of an indicator.
type ChannelValue struct {
	Channel string  `json:"channel"`
	N       int     `json:"n"`
	Value   float64 `json:"value"`
	CILow   float64 `json:"ci_low"`
	CIHigh  float64 `json:"ci_high"`
	Score   float64 `json:"score"`
	se      float64 // of Score
}

// ChannelGap is a difference between two channels' values of an indicator
// that sampling error does not explain: the 95% interval of the difference
// of their scores excludes zero.
type ChannelGap struct {
	// A and B are the channels, in the order of Channels; Difference is
	// A's value minus B's, in the indicator's unit.
	A          string  `json:"a"`
	B          string  `json:"b"`
	Difference float64 `json:"difference"`
}

// ChannelIndicator is an indicator shown for two or more channels.
type ChannelIndicator struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	NameEn string         `json:"name_en"`
	Kind   Kind           `json:"kind"`
	Values []ChannelValue `json:"values"`
	Gaps   []ChannelGap   `json:"gaps"`
}

// ChannelComparison sets the channels of one unit side by side: answers per
// channel and, for every scored or context indicator whose own value is
// shown (n ≥ MinN) for at least two channels, each channel's value and where
// they differ beyond sampling error. QR answers come from service users who
// chose to scan, household interviews from a sample of residents: a gap says
// the channels reach different people (or that one of them is biased), not
// which is right.
type ChannelComparison struct {
	Channels   map[string]int64   `json:"channels"`
	Indicators []ChannelIndicator `json:"indicators"`
	Gaps       int                `json:"gaps"`
	Note       Text               `json:"note"`
}

var channelNote = Text{
	Vi: "Mỗi kênh chỉ dùng câu trả lời của chính kênh đó; chỉ hiện chỉ tiêu có từ hai kênh đủ số phiếu. “Khác biệt” khi khoảng tin cậy 95% của hiệu số hai kênh không chứa 0.",
	En: "Each channel uses its own answers only; an indicator appears when two channels have enough answers. A “gap” is a difference whose 95% interval excludes zero.",
}

// CompareChannels compares the channels' direct values of every indicator.
// tallies holds each channel's tallies of one unit (a commune, a centre)
// over the same period; counts the answers per channel.
func (c *Catalogue) CompareChannels(tallies map[string]map[string]Tally, counts map[string]int64, p Policy) ChannelComparison {
	p = p.withDefaults()
	out := ChannelComparison{Channels: counts, Indicators: []ChannelIndicator{}, Note: channelNote}
	if out.Channels == nil {
		out.Channels = map[string]int64{}
	}
	for _, ind := range c.Indicators() {
		ci := ChannelIndicator{ID: ind.ID, Name: ind.Name.Vi, NameEn: ind.Name.En, Kind: ind.Kind, Values: []ChannelValue{}, Gaps: []ChannelGap{}}
		for _, ch := range Channels {
			r := ind.result(tallies[ch][ind.ID], p)
			if r.Estimate != EstimateDirect {
				continue
			}
			ci.Values = append(ci.Values, ChannelValue{Channel: ch, N: *r.N, Value: *r.Value, CILow: *r.CILow, CIHigh: *r.CIHigh, Score: *r.Score, se: r.se})
		}
		if len(ci.Values) < 2 {
			continue
		}
		for i, a := range ci.Values {
			for _, b := range ci.Values[i+1:] {
				if math.Abs(a.Score-b.Score) > 1.96*math.Hypot(a.se, b.se) {
					ci.Gaps = append(ci.Gaps, ChannelGap{A: a.Channel, B: b.Channel, Difference: a.Value - b.Value})
				}
			}
		}
		out.Gaps += len(ci.Gaps)
		out.Indicators = append(out.Indicators, ci)
	}
	return out
}
