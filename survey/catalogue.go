// Package survey is papi's domain: the versioned PAPI questionnaire catalogue
// (dimensions, sub-dimensions, indicators, questions and their rules), the
// validation of a resident's answers, module rotation and the arithmetic that
// turns answers into indicator values and scores. It depends on no database,
// HTTP framework or clock.
package survey

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Text is a user-facing string in Vietnamese (the default) with its English
// translation.
type Text struct {
	Vi string `json:"vi"`
	En string `json:"en"`
}

// In returns the text in lang ("en" or anything else for Vietnamese), falling
// back to Vietnamese when no translation exists.
func (t Text) In(lang string) string {
	if lang == "en" && t.En != "" {
		return t.En
	}
	return t.Vi
}

// Catalogue is one published version of the questionnaire: the PAPI hierarchy
// from the appendix of Kế hoạch 105/KH-UBND, the questions residents answer and
// the rule that turns answers into each indicator. A published version never
// changes; a revision is a new file with a new version.
type Catalogue struct {
	Version    string      `json:"version"`
	Title      Text        `json:"title"`
	Source     string      `json:"source"`
	Published  string      `json:"published"`
	Modules    []Module    `json:"modules"`
	Grids      []Grid      `json:"grids,omitempty"`
	Questions  []Question  `json:"questions"`
	Dimensions []Dimension `json:"dimensions"`

	questions  map[string]*Question
	indicators map[string]*Indicator
	modules    map[string]*Module
	grids      map[string]*Grid
	// order is each question's position in Questions: conditions may only
	// look back, so that the form can be filled from top to bottom.
	order map[string]int
	// communes holds the codes a commune question accepts, and communeList
	// the communes in the official order; built only when the catalogue has
	// a commune question.
	communes    map[string]bool
	communeList []Commune
	// ix serves the per-response work (hotpath.go); nil until Validate
	// passes.
	ix *index
}

// Module is a block of questions asked together. The core module is asked at
// every visit, and so is every other module that does not rotate (such as a
// closing comment); each visit also gets one rotating module so that, over
// many visits, every indicator gets respondents without any one resident
// answering the whole questionnaire (matrix sampling). The form shows the
// questions in catalogue order, so modules listed later come later.
type Module struct {
	ID       string `json:"id"`
	Name     Text   `json:"name"`
	Rotating bool   `json:"rotating"`
	// Heading is the one line the form shows before the module's first
	// question, so the resident knows what the next questions are about
	// (today's service, or the place where they live).
	Heading *Text `json:"heading,omitempty"`
	// Reassurance is a line shown under the heading of sensitive modules
	// (corruption, land), reminding the resident that answers are anonymous.
	Reassurance *Text `json:"reassurance,omitempty"`
	// ShowIf asks the module's questions only when it holds; it refers to a
	// question of an always-asked module. Modules about the respondent's
	// locality use it to skip residents of other provinces, whose answers
	// about their locality would count for no commune of the city.
	ShowIf *Condition `json:"show_if,omitempty"`
}

// CoreModule is the id of the module every visit answers first.
const CoreModule = "core"

// Grid gives a shared title to consecutive single-choice questions with the
// same options, which the form shows together as a table (one row per
// question). Each row stays a question of its own, with its own id and
// answer.
type Grid struct {
	ID   string `json:"id"`
	Text Text   `json:"text"`
	Help *Text  `json:"help,omitempty"`
}

// Dimension is a PAPI dimension (chỉ số nội dung), scored 1 to 10.
type Dimension struct {
	ID            string         `json:"id"`
	Name          Text           `json:"name"`
	Subdimensions []Subdimension `json:"subdimensions"`
}

// Subdimension is a PAPI sub-dimension (nội dung thành phần).
type Subdimension struct {
	ID         string      `json:"id"`
	Name       Text        `json:"name"`
	Indicators []Indicator `json:"indicators"`
}

// Indicator is one PAPI indicator (chỉ tiêu) with the agencies the plan makes
// responsible for it and the plan's tasks and solutions for it.
type Indicator struct {
	ID       string   `json:"id"`
	Name     Text     `json:"name"`
	Kind     Kind     `json:"kind"`
	Rule     Rule     `json:"rule"`
	Agencies Agencies `json:"agencies"`
	Tasks    string   `json:"tasks"`
	// About says whose performance the indicator measures: the service at
	// the centre visited, or the respondent's locality (see Credits). When
	// the file leaves it out, indicators of core-module questions are about
	// the service and all others about the locality.
	About About `json:"about,omitempty"`
	// Context indicators are computed and shown but never scored: they
	// describe who uses the centre (e.g. the share of visitors with a land
	// procedure), not how well the commune performs.
	Context bool `json:"context,omitempty"`
	// Comparable lists the earlier catalogue versions whose answers measure
	// this indicator the same way: their observations of the same id count
	// for it. An indicator whose question changed leaves them out.
	Comparable []string `json:"comparable,omitempty"`
	// PapiItem names the item of the PAPI questionnaire or indicator table
	// that the indicator follows, or starts with "ours" where the question
	// is this project's adaptation. PAPI references that could not be
	// checked against the questionnaire carry "[recalled]".
	PapiItem string `json:"papi_item,omitempty"`
}

// Carries reports whether observations of indicator id from a response to
// catalogue version v count for that indicator in this catalogue: always for
// this catalogue's own version, and for an earlier one when the indicator
// lists it as comparable.
func (c *Catalogue) Carries(v, id string) bool {
	ind, ok := c.indicators[id]
	if !ok {
		return false
	}
	return v == c.Version || slices.Contains(ind.Comparable, v)
}

// About is what an indicator describes.
type About string

// What indicators describe.
const (
	AboutService  About = "service"
	AboutLocality About = "locality"
)

// Agencies are the bodies the plan assigns to an indicator: who carries out
// the work (cơ quan thực hiện), who leads and inspects (cơ quan chủ trì; kiểm
// tra, đôn đốc) and who coordinates (cơ quan phối hợp).
type Agencies struct {
	Implementing []string `json:"implementing"`
	Lead         []string `json:"lead"`
	Coordinating []string `json:"coordinating"`
}

// Kind says how an indicator's value is computed from the answers.
type Kind string

// Indicator kinds.
const (
	// KindRatio is the share of applicable respondents whose answer is in
	// the rule's numerator values (0 to 1).
	KindRatio Kind = "ratio"
	// KindMean is the mean of a coded answer: points of a rating, a number,
	// the count of checklist items chosen, or the share of a grid's items
	// that were met.
	KindMean Kind = "mean"
	// KindMedian is the median of a numeric answer, used for money amounts
	// and other skewed quantities.
	KindMedian Kind = "median"
)

// Rule says which answers make up an indicator.
//
// For every kind, a respondent counts (is in the denominator) when the rule's
// question was shown to them, AppliesIf holds, and they answered with a value
// not listed in Exclude. Then:
//   - ratio: the respondent adds 1 to the numerator when the answer is one of
//     Numerator (for multiple choice: when any of them was chosen);
//   - mean: the respondent's value is Points[answer] for a single choice or
//     scale with Points, the number itself for a number or scale, or the count
//     of Count values chosen for a multiple choice;
//   - mean with Items (a grid): instead of one Question, several single-choice
//     questions; the respondent's value is the share of the items they rated
//     (answered, shown and not Excluded, e.g. "not sure") whose answer is in
//     Numerator. A respondent who rated none is not counted;
//   - median: the respondent's value is the number answered, or, with Points
//     and FromNumber, Points[answer] for the coded answers and the follow-up
//     number (capped at Scale.Max) for the answer FromNumber.When.
//
// Scale gives the theoretical range used to put the indicator on PAPI's 1-10
// scale and which end is better.
type Rule struct {
	Question   string             `json:"question,omitempty"`
	Items      []string           `json:"items,omitempty"`
	Numerator  []string           `json:"numerator,omitempty"`
	AppliesIf  *Condition         `json:"applies_if,omitempty"`
	Exclude    []string           `json:"exclude,omitempty"`
	Points     map[string]float64 `json:"points,omitempty"`
	Count      []string           `json:"count,omitempty"`
	FromNumber *FromNumber        `json:"from_number,omitempty"`
	Scale      Scale              `json:"scale"`
}

// FromNumber takes a respondent's value from a follow-up number question
// when the rule's question is answered When (e.g. "I would report from a
// certain amount", then the amount), so that the other answers can be coded
// by points and stay in the indicator (e.g. "would never report" at the top
// of the scale) instead of dropping out.
type FromNumber struct {
	When     string `json:"when"`
	Question string `json:"question"`
}

// Questions lists the questions the rule reads for its value: its Question,
// or its Items.
func (r *Rule) Questions() []string {
	if len(r.Items) > 0 {
		return r.Items
	}
	return []string{r.Question}
}

// Scale is an indicator's theoretical range: Min maps to 1 and Max to 10 on
// PAPI's scale when HigherIsBetter, the other way round otherwise.
type Scale struct {
	Min            float64 `json:"min"`
	Max            float64 `json:"max"`
	HigherIsBetter bool    `json:"higher_is_better"`
}

// Condition holds when the answer to Question is one of In (for a multiple
// choice: when any of In was chosen). Numbers compare by their decimal form,
// so a scale answer of 4 matches "4".
type Condition struct {
	Question string   `json:"question"`
	In       []string `json:"in"`
}

// QuestionType is the kind of answer a question takes.
type QuestionType string

// Question types.
const (
	SingleChoice   QuestionType = "single"
	MultipleChoice QuestionType = "multiple"
	Number         QuestionType = "number"
	ScaleQuestion  QuestionType = "scale"
	ShortText      QuestionType = "text"
	// CommuneChoice is answered with the code of one of the city's communes
	// (see Communes); the form offers a searchable list instead of options.
	CommuneChoice QuestionType = "commune"
)

// Question is one item of the questionnaire.
type Question struct {
	ID       string       `json:"id"`
	Module   string       `json:"module"`
	Type     QuestionType `json:"type"`
	Text     Text         `json:"text"`
	Help     *Text        `json:"help,omitempty"`
	Options  []Option     `json:"options,omitempty"`
	Required bool         `json:"required"`
	ShowIf   *Condition   `json:"show_if,omitempty"`
	// Grid names the grid (table) the question is a row of.
	Grid string `json:"grid,omitempty"`
	// Min and Max bound number and scale answers.
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
	// Unit names what a number counts, e.g. "triệu đồng".
	Unit *Text `json:"unit,omitempty"`
	// MaxLength bounds a short text answer, in characters.
	MaxLength int `json:"max_length,omitempty"`
}

// Option is one allowed answer of a choice or scale question.
type Option struct {
	Value string `json:"value"`
	Label Text   `json:"label"`
	// Exclusive options (such as "none of these") cannot be chosen with
	// others in a multiple choice.
	Exclusive bool `json:"exclusive,omitempty"`
}

//go:embed catalogue/*.json
var catalogueFiles embed.FS

// Catalogues loads and validates every published catalogue version embedded
// in the binary, oldest first: ordered by their published date, then by
// version (see compareVersions) for versions published on the same day. The
// file names play no part in the order.
func Catalogues() ([]*Catalogue, error) {
	return loadCatalogues(catalogueFiles, "catalogue")
}

func loadCatalogues(fsys fs.FS, dir string) ([]*Catalogue, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(names) // only so that errors are reported in a stable order
	var out []*Catalogue
	seen := map[string]string{}
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		c, err := ParseCatalogue(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if prev, dup := seen[c.Version]; dup {
			return nil, fmt.Errorf("%s: version %q is already published in %s", name, c.Version, prev)
		}
		seen[c.Version] = name
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no catalogue found under %s", dir)
	}
	// Published is a validated YYYY-MM-DD date, so its text sorts as the date.
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Published != out[j].Published {
			return out[i].Published < out[j].Published
		}
		return compareVersions(out[i].Version, out[j].Version) < 0
	})
	if err := checkComparable(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkComparable requires every version an indicator names as comparable
// to be published before the catalogue that names it: otherwise answers
// would be carried from a version that does not exist or from the future.
func checkComparable(sorted []*Catalogue) error {
	earlier := map[string]bool{}
	for _, c := range sorted {
		for _, ind := range c.Indicators() {
			for _, v := range ind.Comparable {
				if !earlier[v] {
					return fmt.Errorf("catalogue %s: indicator %s is comparable with %q, which is not an earlier published version", c.Version, ind.ID, v)
				}
			}
		}
		earlier[c.Version] = true
	}
	return nil
}

// compareVersions orders version strings such as "2025.1" and "2025.10":
// they are split at dots and compared part by part, numerically when both
// parts are whole numbers (so 2025.2 comes before 2025.10) and as text
// otherwise; a version that is a prefix of another comes first.
func compareVersions(a, b string) int {
	pa, pb := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(pa) && i < len(pb); i++ {
		na, errA := strconv.ParseUint(pa[i], 10, 64)
		nb, errB := strconv.ParseUint(pb[i], 10, 64)
		switch {
		case errA == nil && errB == nil && na != nb:
			if na < nb {
				return -1
			}
			return 1
		case (errA != nil || errB != nil) && pa[i] != pb[i]:
			return strings.Compare(pa[i], pb[i])
		}
	}
	switch {
	case len(pa) < len(pb):
		return -1
	case len(pa) > len(pb):
		return 1
	}
	return strings.Compare(a, b)
}

// ParseCatalogue decodes a catalogue file, which must hold exactly one JSON
// object, and validates it.
func ParseCatalogue(data []byte) (*Catalogue, error) {
	var c Catalogue
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode catalogue: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("decode catalogue: unexpected data after the catalogue object")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Question returns the question with the given id.
func (c *Catalogue) Question(id string) (*Question, bool) {
	q, ok := c.questions[id]
	return q, ok
}

// Indicator returns the indicator with the given id.
func (c *Catalogue) Indicator(id string) (*Indicator, bool) {
	ind, ok := c.indicators[id]
	return ind, ok
}

// Module returns the module with the given id.
func (c *Catalogue) Module(id string) (*Module, bool) {
	m, ok := c.modules[id]
	return m, ok
}

// Indicators lists every indicator in catalogue order.
func (c *Catalogue) Indicators() []*Indicator {
	var out []*Indicator
	for di := range c.Dimensions {
		for si := range c.Dimensions[di].Subdimensions {
			sd := &c.Dimensions[di].Subdimensions[si]
			for ii := range sd.Indicators {
				out = append(out, &sd.Indicators[ii])
			}
		}
	}
	return out
}

// Grid returns the grid with the given id.
func (c *Catalogue) Grid(id string) (*Grid, bool) {
	g, ok := c.grids[id]
	return g, ok
}

// RotatingModules lists the ids of the modules that rotate between visits.
func (c *Catalogue) RotatingModules() []string {
	var out []string
	for _, m := range c.Modules {
		if m.Rotating {
			out = append(out, m.ID)
		}
	}
	return out
}

// FixedModules lists the ids of the modules every visit is asked: core and
// any other module that does not rotate.
func (c *Catalogue) FixedModules() []string {
	var out []string
	for _, m := range c.Modules {
		if !m.Rotating {
			out = append(out, m.ID)
		}
	}
	return out
}

// accepts reports whether v is a possible answer value of q, as used in
// conditions and rules. A commune question's codes are checked by the
// catalogue (see decode); no condition or rule may name them.
func (q *Question) accepts(v string) bool {
	if slices.ContainsFunc(q.Options, func(o Option) bool { return o.Value == v }) {
		return true
	}
	if q.Type == ScaleQuestion && q.Min != nil && q.Max != nil && len(q.Options) == 0 {
		n, ok := wholeNumber(v)
		return ok && n >= *q.Min && n <= *q.Max
	}
	return false
}

// wholeNumber parses v when it is a whole number written as answers are
// compared (FormatNumber: no sign "+", no leading zeros, no decimals).
func wholeNumber(v string) (float64, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || strconv.FormatInt(n, 10) != v || math.Abs(float64(n)) > 1<<53 {
		return 0, false
	}
	return float64(n), true
}

// isWhole reports whether x is a whole number small enough to be exact.
func isWhole(x float64) bool {
	return x == math.Trunc(x) && math.Abs(x) <= 1<<53
}

// SecondsPerQuestion is the time a resident takes per question on a phone,
// from the review's 10–15 seconds an item; grid rows are quicker, so
// estimates from it err on the long side.
const SecondsPerQuestion = 12

// Length is how many questions a visit shows, each grid row counting as one
// question. Typical is the expected number when every answer that opens or
// closes later questions is equally likely (more than most residents see,
// since most follow-ups are about rare experiences); Max is the longest
// path through the skip logic. Both take the modules as asked, ignoring
// module conditions such as the residence of the respondent.
type Length struct {
	Typical float64
	Max     int
}

// Minutes returns the typical and the longest duration in whole minutes,
// rounded up, at SecondsPerQuestion.
func (l Length) Minutes() (typical, longest int) {
	return int(math.Ceil(l.Typical * SecondsPerQuestion / 60)), int(math.Ceil(float64(l.Max) * SecondsPerQuestion / 60))
}

// VisitLength returns the length of a visit asking modules (and the modules
// that do not rotate). Conditions form a forest, since each question depends
// on at most one earlier question, so both numbers come from one pass over
// each tree.
func (c *Catalogue) VisitLength(modules []string) Length {
	asked := c.moduleSet(modules)
	children := map[string][]*Question{}
	var roots []*Question
	for i := range c.Questions {
		q := &c.Questions[i]
		switch {
		case !asked[q.Module]:
		case q.ShowIf == nil:
			roots = append(roots, q)
		default:
			children[q.ShowIf.Question] = append(children[q.ShowIf.Question], q)
		}
	}
	var walk func(q *Question) (float64, int)
	walk = func(q *Question) (float64, int) {
		kids := children[q.ID]
		if len(kids) == 0 {
			return 1, 1
		}
		each, together := c.answerSets(q)
		typical, longest := 1.0, 0
		for i, a := range append(each, together...) {
			n := 0
			for _, k := range kids {
				if slices.ContainsFunc(a, func(v string) bool { return slices.Contains(k.ShowIf.In, v) }) {
					t, m := walk(k)
					n += m
					if i < len(each) {
						typical += t / float64(len(each))
					}
				}
			}
			longest = max(longest, n)
		}
		return typical, 1 + longest
	}
	var l Length
	for _, q := range roots {
		t, m := walk(q)
		l.Typical += t
		l.Max += m
	}
	return l
}

// answerSets lists the answers q can be given, as the sets of values a
// condition sees: each option (each point of a bare scale) alone, and, for a
// multiple choice, all its non-exclusive options together.
func (c *Catalogue) answerSets(q *Question) (each, together [][]string) {
	for _, o := range q.Options {
		each = append(each, []string{o.Value})
	}
	if q.Type == ScaleQuestion && len(q.Options) == 0 && q.Min != nil && q.Max != nil {
		for x := *q.Min; x <= *q.Max && len(each) < 1000; x++ {
			each = append(each, []string{FormatNumber(x)})
		}
	}
	if q.Type == MultipleChoice {
		var all []string
		for _, o := range q.Options {
			if !o.Exclusive {
				all = append(all, o.Value)
			}
		}
		together = append(together, all)
	}
	return each, together
}
