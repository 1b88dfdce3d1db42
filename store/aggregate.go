package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/papi-hcmc/papi/survey"
)

// Aggregates are kept at two grains, per centre and indicator: by day and by
// month. A period query reads whole months from the month rows and only the
// ragged edges from the day rows, so reading a year costs about the same
// whether the city stored ten thousand responses or a million.
const (
	grainDay   = "d"
	grainMonth = "m"
	// responsesIndicator is the pseudo-indicator counting responses.
	responsesIndicator = "_responses"
)

type aggregateRow struct {
	Grain     string `gorm:"primaryKey;size:1"`
	Period    string `gorm:"primaryKey;size:10"`
	CentreID  uint   `gorm:"primaryKey;autoIncrement:false"`
	Indicator string `gorm:"primaryKey;size:16"`
	Verified  bool   `gorm:"primaryKey"`
	// Flagged rows hold responses the anomaly checks flagged: kept apart
	// so scores leave them out by default but can include them on request.
	Flagged     bool   `gorm:"primaryKey"`
	CommuneCode string `gorm:"not null;size:5;index"`
	N           int64  `gorm:"not null"`
	Sum         float64
	SumSq       float64
}

func (aggregateRow) TableName() string { return "aggregates" }

type histogramRow struct {
	Grain       string  `gorm:"primaryKey;size:1"`
	Period      string  `gorm:"primaryKey;size:10"`
	CentreID    uint    `gorm:"primaryKey;autoIncrement:false"`
	Indicator   string  `gorm:"primaryKey;size:16"`
	Verified    bool    `gorm:"primaryKey"`
	Flagged     bool    `gorm:"primaryKey"`
	Value       float64 `gorm:"primaryKey"`
	CommuneCode string  `gorm:"not null;size:5;index"`
	Count       int64   `gorm:"not null"`
}

func (histogramRow) TableName() string { return "histograms" }

// aggBuffer merges the aggregate changes of a batch of responses so that
// each aggregate row is written once per transaction.
type aggBuffer struct {
	aggs map[aggKey]*aggregateRow
	hist map[histKey]*histogramRow
}

type aggKey struct {
	grain, period, indicator string
	centre                   uint
	verified, flagged        bool
}

type histKey struct {
	aggKey
	value float64
}

func newAggBuffer() *aggBuffer {
	return &aggBuffer{aggs: map[aggKey]*aggregateRow{}, hist: map[histKey]*histogramRow{}}
}

// add adds (sign +1) or removes (sign -1) one response's observations.
// Quarantined responses are in no aggregate.
func (b *aggBuffer) add(cat *survey.Catalogue, r *responseRow, v survey.Visit, sign int64) {
	if r.Status == StatusQuarantined {
		return
	}
	flagged := r.Status == StatusFlagged
	obs := cat.Observe(v)
	s := float64(sign)
	for _, grain := range []struct{ g, p string }{{grainDay, r.Day}, {grainMonth, r.Day[:7]}} {
		bump := func(indicator string, x float64, n int64) {
			k := aggKey{grain.g, grain.p, indicator, r.CentreID, r.Verified, flagged}
			row := b.aggs[k]
			if row == nil {
				row = &aggregateRow{Grain: grain.g, Period: grain.p, CentreID: r.CentreID, Indicator: indicator, Verified: r.Verified, Flagged: flagged, CommuneCode: r.CommuneCode}
				b.aggs[k] = row
			}
			row.N += n
			row.Sum += s * x
			row.SumSq += s * x * x
		}
		bump(responsesIndicator, 0, sign)
		for _, o := range obs {
			bump(o.Indicator, o.X, sign)
			if ind, _ := cat.Indicator(o.Indicator); ind.Kind == survey.KindMedian {
				k := histKey{aggKey{grain.g, grain.p, o.Indicator, r.CentreID, r.Verified, flagged}, o.X}
				h := b.hist[k]
				if h == nil {
					h = &histogramRow{Grain: grain.g, Period: grain.p, CentreID: r.CentreID, Indicator: o.Indicator, Verified: r.Verified, Flagged: flagged, Value: o.X, CommuneCode: r.CommuneCode}
					b.hist[k] = h
				}
				h.Count += sign
			}
		}
	}
}

// flush writes the merged changes with one upsert per chunk of rows.
func (b *aggBuffer) flush(tx *gorm.DB) error {
	aggs := make([]aggregateRow, 0, len(b.aggs))
	for _, r := range b.aggs {
		aggs = append(aggs, *r)
	}
	hist := make([]histogramRow, 0, len(b.hist))
	for _, h := range b.hist {
		hist = append(hist, *h)
	}
	// Key order: neighbouring rows share B-tree pages, so a batch touches
	// each page once instead of hopping around the index.
	sort.Slice(aggs, func(i, j int) bool {
		a, b := &aggs[i], &aggs[j]
		if a.Grain != b.Grain {
			return a.Grain < b.Grain
		}
		if a.Period != b.Period {
			return a.Period < b.Period
		}
		if a.CentreID != b.CentreID {
			return a.CentreID < b.CentreID
		}
		return a.Indicator < b.Indicator
	})
	// Chunks stay under SQLite's limit of 32766 bound parameters.
	for start := 0; start < len(aggs); start += 500 {
		end := min(start+500, len(aggs))
		err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "grain"}, {Name: "period"}, {Name: "centre_id"}, {Name: "indicator"}, {Name: "verified"}, {Name: "flagged"}},
			DoUpdates: clause.Set{
				{Column: clause.Column{Name: "n"}, Value: gorm.Expr("aggregates.n + excluded.n")},
				{Column: clause.Column{Name: "sum"}, Value: gorm.Expr("aggregates.sum + excluded.sum")},
				{Column: clause.Column{Name: "sum_sq"}, Value: gorm.Expr("aggregates.sum_sq + excluded.sum_sq")},
			},
		}).Create(aggs[start:end]).Error
		if err != nil {
			return err
		}
	}
	for start := 0; start < len(hist); start += 500 {
		end := min(start+500, len(hist))
		err := tx.Clauses(clause.OnConflict{
			Columns: []clause.Column{{Name: "grain"}, {Name: "period"}, {Name: "centre_id"}, {Name: "indicator"}, {Name: "verified"}, {Name: "flagged"}, {Name: "value"}},
			DoUpdates: clause.Set{
				{Column: clause.Column{Name: "count"}, Value: gorm.Expr("histograms.count + excluded.count")},
			},
		}).Create(hist[start:end]).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// Filter selects the responses a summary is computed from.
type Filter struct {
	From, To string // inclusive local days, "YYYY-MM-DD"
	// Communes limits to these communes; empty means the whole city.
	Communes []string
	// CentreID limits to one centre when non-zero.
	CentreID uint
	// VerifiedOnly keeps only responses that carried a valid receipt.
	VerifiedOnly bool
	// IncludeFlagged adds the responses the anomaly checks flagged.
	IncludeFlagged bool
}

// Tallies are indicator tallies per commune, with the number of responses
// they come from (Responses, of which Verified carried a receipt) and the
// number of flagged responses left out (Flagged, zero when included).
type Tallies struct {
	Responses map[string]int64
	Verified  map[string]int64
	Flagged   map[string]int64
	ByCommune map[string]map[string]survey.Tally
}

// periodRange is a span of aggregate rows of one grain, inclusive.
type periodRange struct{ grain, lo, hi string }

// periodRanges covers [from, to] with whole months and day-level edges.
func periodRanges(from, to string) ([]periodRange, error) {
	f, err := time.Parse(survey.DateLayout, from)
	if err != nil {
		return nil, survey.Invalid("from", "Ngày bắt đầu phải có dạng YYYY-MM-DD.", "from must be a date YYYY-MM-DD.")
	}
	t, err := time.Parse(survey.DateLayout, to)
	if err != nil {
		return nil, survey.Invalid("to", "Ngày kết thúc phải có dạng YYYY-MM-DD.", "to must be a date YYYY-MM-DD.")
	}
	if t.Before(f) {
		return nil, survey.Invalid("to", "Ngày kết thúc phải sau ngày bắt đầu.", "to must not be before from.")
	}
	// First whole month: the month of from if from is its first day, else
	// the next one. Last whole month: the month of to if to is its last day.
	firstMonth := time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC)
	if f.Day() != 1 {
		firstMonth = firstMonth.AddDate(0, 1, 0)
	}
	lastMonth := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	if t.AddDate(0, 0, 1).Month() == t.Month() {
		lastMonth = lastMonth.AddDate(0, -1, 0)
	}
	if lastMonth.Before(firstMonth) {
		return []periodRange{{grainDay, from, to}}, nil
	}
	out := []periodRange{{grainMonth, firstMonth.Format("2006-01"), lastMonth.Format("2006-01")}}
	if headEnd := firstMonth.AddDate(0, 0, -1); !headEnd.Before(f) {
		out = append(out, periodRange{grainDay, from, headEnd.Format(survey.DateLayout)})
	}
	if tailStart := lastMonth.AddDate(0, 1, 0); !t.Before(tailStart) {
		out = append(out, periodRange{grainDay, tailStart.Format(survey.DateLayout), to})
	}
	return out, nil
}

// Tallies sums the aggregates over a period, per commune and indicator.
// Each grain's span is read with its own query so that it walks the
// (commune, grain, period) index or the primary key as a range.
func (s *Store) Tallies(ctx context.Context, f Filter) (Tallies, error) {
	ranges, err := periodRanges(f.From, f.To)
	if err != nil {
		return Tallies{}, err
	}
	out := Tallies{Responses: map[string]int64{}, Verified: map[string]int64{}, Flagged: map[string]int64{}, ByCommune: map[string]map[string]survey.Tally{}}
	for _, pr := range ranges {
		scope := func(q *gorm.DB) *gorm.DB {
			q = q.Where("grain = ? AND period >= ? AND period <= ?", pr.grain, pr.lo, pr.hi)
			if len(f.Communes) > 0 {
				q = q.Where("commune_code IN ?", f.Communes)
			}
			if f.CentreID != 0 {
				q = q.Where("centre_id = ?", f.CentreID)
			}
			if f.VerifiedOnly {
				q = q.Where("verified = ?", true)
			}
			return q
		}
		if err := s.addTallies(ctx, &out, f, scope); err != nil {
			return Tallies{}, err
		}
	}
	return out, nil
}

func (s *Store) addTallies(ctx context.Context, out *Tallies, f Filter, scope func(*gorm.DB) *gorm.DB) error {
	// Rows are scanned by hand: a year of the city groups a few hundred
	// thousand aggregate rows, and reflection per result row adds up.
	aggs, hists := s.read.WithContext(ctx).Model(&aggregateRow{}), s.read.WithContext(ctx).Model(&histogramRow{})
	if !s.postgres && len(f.Communes) == 0 && f.CentreID == 0 {
		// City-wide: SQLite's planner prefers the primary key's period range
		// and then sorts every row to group it; the covering index reads
		// them already grouped, about three times faster at a full year.
		aggs = aggs.Table("aggregates INDEXED BY idx_aggregates_cover")
		hists = hists.Table("histograms INDEXED BY idx_histograms_cover")
	}
	rows, err := scope(aggs).
		Select("commune_code, indicator, verified, flagged, SUM(n) AS n, SUM(sum) AS sum, SUM(sum_sq) AS sum_sq").
		Group("commune_code, indicator, verified, flagged").Rows()
	if err != nil {
		return fmt.Errorf("read aggregates: %w", err)
	}
	defer rows.Close()
	var (
		commune, indicator string
		verified, flagged  bool
		n                  int64
		sum, sumSq         float64
	)
	for rows.Next() {
		if err := rows.Scan(&commune, &indicator, &verified, &flagged, &n, &sum, &sumSq); err != nil {
			return fmt.Errorf("read aggregates: %w", err)
		}
		if n == 0 {
			continue // every response once in this cell was moved out
		}
		if flagged && !f.IncludeFlagged {
			if indicator == responsesIndicator {
				out.Flagged[commune] += n
			}
			continue
		}
		if indicator == responsesIndicator {
			out.Responses[commune] += n
			if verified {
				out.Verified[commune] += n
			}
			continue
		}
		m := out.ByCommune[commune]
		if m == nil {
			m = map[string]survey.Tally{}
			out.ByCommune[commune] = m
		}
		t := m[indicator]
		t.Merge(survey.Tally{N: float64(n), Sum: sum, SumSq: sumSq})
		m[indicator] = t
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read aggregates: %w", err)
	}
	var hist []struct {
		CommuneCode string
		Indicator   string
		Value       float64
		Count       int64
	}
	hq := scope(hists)
	if !f.IncludeFlagged {
		hq = hq.Where("flagged = ?", false)
	}
	err = hq.Select("commune_code, indicator, value, SUM(count) AS count").
		Group("commune_code, indicator, value").Scan(&hist).Error
	if err != nil {
		return fmt.Errorf("read histograms: %w", err)
	}
	for _, h := range hist {
		if h.Count == 0 {
			continue
		}
		m := out.ByCommune[h.CommuneCode]
		if m == nil {
			m = map[string]survey.Tally{}
			out.ByCommune[h.CommuneCode] = m
		}
		t := m[h.Indicator]
		if t.Hist == nil {
			t.Hist = map[float64]float64{}
		}
		t.Hist[h.Value] += float64(h.Count)
		m[h.Indicator] = t
	}
	return nil
}

// FlaggedTotal is the number of flagged responses left out, over all
// communes.
func (t Tallies) FlaggedTotal() int64 {
	n := int64(0)
	for _, v := range t.Flagged {
		n += v
	}
	return n
}

// Combined merges per-commune tallies into one set (a former province or
// the whole city).
func (t Tallies) Combined() (responses, verified int64, tallies map[string]survey.Tally) {
	tallies = map[string]survey.Tally{}
	for c, n := range t.Responses {
		responses += n
		verified += t.Verified[c]
	}
	for _, m := range t.ByCommune {
		for id, tl := range m {
			x := tallies[id]
			x.Merge(tl)
			tallies[id] = x
		}
	}
	return responses, verified, tallies
}

// RecomputeReport says what papi recompute found.
type RecomputeReport struct {
	Responses  int64 `json:"responses"`
	Counted    int64 `json:"counted"`
	Mismatches int   `json:"mismatches"`
}

// Recompute rebuilds the aggregates from the raw responses, the source of
// truth, in one transaction, and reports how many aggregate rows differed
// from the rebuilt ones before replacing them.
func (s *Store) Recompute(ctx context.Context) (RecomputeReport, error) {
	var rep RecomputeReport
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var before []aggregateRow
		if err := tx.Where("n <> 0").Find(&before).Error; err != nil {
			return err
		}
		if err := tx.Where("1 = 1").Delete(&aggregateRow{}).Error; err != nil {
			return err
		}
		if err := tx.Where("1 = 1").Delete(&histogramRow{}).Error; err != nil {
			return err
		}
		// Pages by id: one SQLite connection cannot read and write at once,
		// and a million responses should not sit in memory together.
		var last uint64
		for {
			var page []responseRow
			if err := tx.Where("id > ?", last).Order("id").Limit(2000).Find(&page).Error; err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			// One buffer per page: its changes merge and are written once.
			buf := newAggBuffer()
			for i := range page {
				r := &page[i]
				last = r.ID
				rep.Responses++
				if r.Status == StatusQuarantined {
					continue
				}
				cat, ok := s.catalogues[r.QuestionnaireVersion]
				if !ok {
					return fmt.Errorf("response %d uses questionnaire %s, which this build does not know", r.ID, r.QuestionnaireVersion)
				}
				ans, err := survey.ParseAnswers([]byte(r.Answers))
				if err != nil {
					return fmt.Errorf("response %d: %w", r.ID, err)
				}
				buf.add(cat, r, survey.Visit{Modules: splitList(r.Modules), Answers: ans}, +1)
				rep.Counted++
			}
			if err := buf.flush(tx); err != nil {
				return err
			}
		}
		var after []aggregateRow
		if err := tx.Where("n <> 0").Find(&after).Error; err != nil {
			return err
		}
		rep.Mismatches = diffAggregates(before, after)
		return nil
	})
	return rep, err
}

func diffAggregates(a, b []aggregateRow) int {
	type key struct {
		g, p, ind string
		c         uint
		v, f      bool
	}
	m := map[key]aggregateRow{}
	for _, r := range a {
		m[key{r.Grain, r.Period, r.Indicator, r.CentreID, r.Verified, r.Flagged}] = r
	}
	diff := 0
	for _, r := range b {
		k := key{r.Grain, r.Period, r.Indicator, r.CentreID, r.Verified, r.Flagged}
		o, ok := m[k]
		delete(m, k)
		if !ok || o.N != r.N || !nearlyEqual(o.Sum, r.Sum) || !nearlyEqual(o.SumSq, r.SumSq) {
			diff++
		}
	}
	return diff + len(m)
}

func nearlyEqual(a, b float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d < 1e-6*(1+abs(a))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
