package survey

// Counts are the responses behind one unit's figures over a period.
type Counts struct {
	// Responses counts every answer stored (quarantined ones aside);
	// CountedResponses those the scores are built from, which leaves out
	// FlaggedResponses unless flagged answers were included;
	// VerifiedResponses the counted answers that carried a receipt code.
	Responses         int64 `json:"responses"`
	CountedResponses  int64 `json:"counted_responses"`
	VerifiedResponses int64 `json:"verified_responses"`
	FlaggedResponses  int64 `json:"flagged_responses"`
	// Channels counts the counted responses per channel (ChannelQR, …).
	Channels map[string]int64 `json:"channels"`
	// Residence splits the visits at the unit's centres by where the
	// respondent lives.
	Residence ResidenceCounts `json:"residence"`
}

// ResidenceCounts split visits by the respondent's residence: in the
// commune visited, in another commune of the city, outside the city, or not
// asked (questionnaires before 2025.2).
type ResidenceCounts struct {
	Here    int64 `json:"here"`
	Other   int64 `json:"other"`
	Outside int64 `json:"outside"`
	Unknown int64 `json:"unknown"`
}

// ResidentShare is the share of visitors living in the commune visited
// among those who said where they live; nil when nobody was asked.
func (r ResidenceCounts) ResidentShare() *float64 {
	asked := r.Here + r.Other + r.Outside
	if asked == 0 {
		return nil
	}
	return ptr(float64(r.Here) / float64(asked))
}

// VerifiedShare is the share of counted responses that carried a receipt
// code; nil when nothing was counted.
func (c Counts) VerifiedShare() *float64 {
	if c.CountedResponses == 0 {
		return nil
	}
	return ptr(float64(c.VerifiedResponses) / float64(c.CountedResponses))
}

// Add adds another unit's counts.
func (c *Counts) Add(o Counts) {
	c.Responses += o.Responses
	c.CountedResponses += o.CountedResponses
	c.VerifiedResponses += o.VerifiedResponses
	c.FlaggedResponses += o.FlaggedResponses
	for ch, n := range o.Channels {
		if c.Channels == nil {
			c.Channels = map[string]int64{}
		}
		c.Channels[ch] += n
	}
	c.Residence.Here += o.Residence.Here
	c.Residence.Other += o.Residence.Other
	c.Residence.Outside += o.Residence.Outside
	c.Residence.Unknown += o.Residence.Unknown
}

// CommuneData is what scoring needs about one commune over a period: its
// response counts and its indicator tallies (observations credited to it,
// keyed by indicator id). The store's results convert to it.
type CommuneData struct {
	Counts
	Tallies map[string]Tally
}

// Merge pools several communes' data into one unit's (a centre, a former
// province, the city).
func Merge(data ...CommuneData) CommuneData {
	out := CommuneData{Tallies: map[string]Tally{}}
	for _, d := range data {
		out.Add(d.Counts)
		for id, t := range d.Tallies {
			m := out.Tallies[id]
			m.Merge(t)
			out.Tallies[id] = m
		}
	}
	return out
}

// How a summary or comparison estimated commune values.
const (
	// EstimatesSmallArea gives every commune a value for every scored
	// indicator: direct where its own answers suffice, borrowed otherwise.
	EstimatesSmallArea = "small_area"
	// EstimatesDirect uses each commune's own answers only.
	EstimatesDirect = "direct"
)

// SummaryOptions choose how a commune is summarised.
type SummaryOptions struct {
	Policy Policy
	// Estimates turns on small-area estimates (see Estimate).
	Estimates bool
}

// Summary is one unit's results over a period: its counts, scores and the
// rules they were computed under.
type Summary struct {
	Commune Commune `json:"commune"`
	Counts
	VerifiedShare *float64 `json:"verified_share"`
	ResidentShare *float64 `json:"resident_share"`
	Policy        Policy   `json:"policy"`
	// Estimates is EstimatesSmallArea or EstimatesDirect.
	Estimates string    `json:"estimates"`
	Note      Text      `json:"note"`
	Reference Reference `json:"reference_papi_2024"`
	Scores
}

// Summarize scores one commune. With small-area estimates the other
// communes' data inform its borrowed values, so data should hold every
// commune of the city (communes without answers may be left out).
func Summarize(cat *Catalogue, communes []Commune, data map[string]CommuneData, code string, opts SummaryOptions) (Summary, error) {
	var cm *Commune
	for i := range communes {
		if communes[i].Code == code {
			cm = &communes[i]
		}
	}
	if cm == nil {
		return Summary{}, Errorf(ENOTFOUND, "Không có xã/phường mã "+code+".", "No commune with code "+code+".")
	}
	out := newSummary(*cm, data[code].Counts, opts.Policy)
	if !opts.Estimates {
		out.Scores = cat.Score(data[code].Tallies, out.Policy)
		return out, nil
	}
	out.Estimates = EstimatesSmallArea
	e := cat.estimate(communes, tallies(data), out.Policy, map[string]bool{code: true})
	out.Scores = cat.ScoreEstimated(code, data[code].Tallies, out.Policy, e)
	return out, nil
}

// SummarizePooled scores a unit from its pooled answers, direct estimates
// only: a centre, a former province or the whole city.
func SummarizePooled(cat *Catalogue, unit Commune, d CommuneData, p Policy) Summary {
	out := newSummary(unit, d.Counts, p)
	out.Scores = cat.Score(d.Tallies, out.Policy)
	return out
}

func newSummary(cm Commune, c Counts, p Policy) Summary {
	if c.Channels == nil {
		c.Channels = map[string]int64{}
	}
	return Summary{Commune: cm, Counts: c, VerifiedShare: c.VerifiedShare(), ResidentShare: c.Residence.ResidentShare(),
		Policy: p.withDefaults(), Estimates: EstimatesDirect, Note: Disclaimer, Reference: Reference2024}
}

// tallies keeps only the tallies of each commune's data.
func tallies(data map[string]CommuneData) map[string]map[string]Tally {
	out := make(map[string]map[string]Tally, len(data))
	for code, d := range data {
		out[code] = d.Tallies
	}
	return out
}
