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
	"sort"
	"strconv"
	"strings"
	"time"
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
	Questions  []Question  `json:"questions"`
	Dimensions []Dimension `json:"dimensions"`

	questions  map[string]*Question
	indicators map[string]*Indicator
	modules    map[string]*Module
}

// Module is a block of questions asked together. The core module is asked at
// every visit; each visit also gets rotating modules so that, over many
// visits, every indicator gets respondents without any one resident answering
// the whole questionnaire (matrix sampling).
type Module struct {
	ID       string `json:"id"`
	Name     Text   `json:"name"`
	Rotating bool   `json:"rotating"`
}

// CoreModule is the id of the module every visit answers.
const CoreModule = "core"

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
	if v == c.Version {
		return true
	}
	for _, cv := range ind.Comparable {
		if cv == v {
			return true
		}
	}
	return false
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
	// or the count of checklist items chosen.
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
//   - median: the respondent's value is the number answered.
//
// Scale gives the theoretical range used to put the indicator on PAPI's 1-10
// scale and which end is better.
type Rule struct {
	Question  string             `json:"question"`
	Numerator []string           `json:"numerator,omitempty"`
	AppliesIf *Condition         `json:"applies_if,omitempty"`
	Exclude   []string           `json:"exclude,omitempty"`
	Points    map[string]float64 `json:"points,omitempty"`
	Count     []string           `json:"count,omitempty"`
	Scale     Scale              `json:"scale"`
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
	return out, nil
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

// Validate checks that the catalogue is internally consistent: unique ids, a
// published date, every question in a known module with options fitting its
// type, every show_if and applies_if pointing at an earlier question of the
// same module or of core and at answer values that question can take, and
// every indicator with a usable rule (only the fields its kind uses, a scale
// matching its points or count) and named responsible agencies. It also
// builds the look-up indexes.
func (c *Catalogue) Validate() error {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if c.Version == "" {
		bad("version is empty")
	}
	if _, err := time.Parse(DateLayout, c.Published); err != nil {
		bad("published %q is not a date YYYY-MM-DD", c.Published)
	}
	c.modules = map[string]*Module{}
	for i := range c.Modules {
		m := &c.Modules[i]
		if m.ID == "" || m.Name.Vi == "" {
			bad("module %d has no id or Vietnamese name", i)
		}
		if _, dup := c.modules[m.ID]; dup {
			bad("module %q is defined twice", m.ID)
		}
		c.modules[m.ID] = m
	}
	if m, ok := c.modules[CoreModule]; !ok || m.Rotating {
		bad("a non-rotating %q module is required", CoreModule)
	}

	c.questions = map[string]*Question{}
	for i := range c.Questions {
		q := &c.Questions[i]
		if q.ID == "" {
			bad("question %d has no id", i)
			continue
		}
		if _, dup := c.questions[q.ID]; dup {
			bad("question %q is defined twice", q.ID)
		}
		if _, ok := c.modules[q.Module]; !ok {
			bad("question %q: unknown module %q", q.ID, q.Module)
		}
		if q.Text.Vi == "" || q.Text.En == "" {
			bad("question %q: text needs Vietnamese and English", q.ID)
		}
		if q.ShowIf != nil {
			// show_if may only look back, so the form can be filled top to bottom.
			c.checkCondition(q.ShowIf, "question "+q.ID+" show_if", bad)
			if dep, ok := c.questions[q.ShowIf.Question]; ok && dep.Module != q.Module && dep.Module != CoreModule {
				bad("question %q: show_if refers to %q in another rotating module", q.ID, dep.ID)
			}
		}
		c.checkQuestionShape(q, bad)
		c.questions[q.ID] = q
	}

	c.indicators = map[string]*Indicator{}
	dimIDs := map[string]bool{}
	subIDs := map[string]bool{}
	for di, d := range c.Dimensions {
		if want := fmt.Sprintf("D%d", di+1); d.ID != want {
			bad("dimension %d has id %q, want %q", di+1, d.ID, want)
		}
		if dimIDs[d.ID] {
			bad("dimension %q is defined twice", d.ID)
		}
		dimIDs[d.ID] = true
		if d.Name.Vi == "" || d.Name.En == "" {
			bad("dimension %q needs a Vietnamese and an English name", d.ID)
		}
		if len(d.Subdimensions) == 0 {
			bad("dimension %q has no sub-dimensions", d.ID)
		}
		for si := range d.Subdimensions {
			sd := &c.Dimensions[di].Subdimensions[si]
			if want := fmt.Sprintf("%s.%d", d.ID, si+1); sd.ID != want {
				bad("sub-dimension %q should have id %q", sd.ID, want)
			}
			if subIDs[sd.ID] {
				bad("sub-dimension %q is defined twice", sd.ID)
			}
			subIDs[sd.ID] = true
			if sd.Name.Vi == "" || sd.Name.En == "" {
				bad("sub-dimension %q needs a Vietnamese and an English name", sd.ID)
			}
			if len(sd.Indicators) == 0 {
				bad("sub-dimension %q has no indicators", sd.ID)
			}
			for ii := range sd.Indicators {
				ind := &sd.Indicators[ii]
				if want := fmt.Sprintf("%s.%d", sd.ID, ii+1); ind.ID != want {
					bad("indicator %q should have id %q", ind.ID, want)
				}
				if _, dup := c.indicators[ind.ID]; dup {
					bad("indicator %q is defined twice", ind.ID)
				}
				c.indicators[ind.ID] = ind
				if ind.Name.Vi == "" || ind.Name.En == "" {
					bad("indicator %q needs a Vietnamese and an English name", ind.ID)
				}
				if len(ind.Agencies.Implementing) == 0 || len(ind.Agencies.Lead) == 0 {
					bad("indicator %q needs implementing and lead agencies", ind.ID)
				}
				for _, list := range [][]string{ind.Agencies.Implementing, ind.Agencies.Lead, ind.Agencies.Coordinating} {
					named := map[string]bool{}
					for _, a := range list {
						if strings.TrimSpace(a) == "" {
							bad("indicator %q: an agency name is blank", ind.ID)
						}
						if named[a] {
							// It would get every follow-up item twice.
							bad("indicator %q: agency %q is listed twice in one role", ind.ID, a)
						}
						named[a] = true
					}
				}
				c.checkRule(ind, bad)
				switch ind.About {
				case AboutService, AboutLocality:
				case "":
					ind.About = AboutLocality
					if q, ok := c.questions[ind.Rule.Question]; ok && q.Module == CoreModule {
						ind.About = AboutService
					}
				default:
					bad("indicator %q: about must be %q or %q", ind.ID, AboutService, AboutLocality)
				}
			}
		}
	}
	if len(errs) > 0 {
		if len(errs) > 20 {
			errs = append(errs[:20], fmt.Sprintf("… and %d more", len(errs)-20))
		}
		return fmt.Errorf("catalogue %s is invalid:\n  %s", c.Version, strings.Join(errs, "\n  "))
	}
	return nil
}

func (c *Catalogue) checkQuestionShape(q *Question, bad func(string, ...any)) {
	switch q.Type {
	case SingleChoice, MultipleChoice:
		if len(q.Options) < 2 {
			bad("question %q: a choice needs at least two options", q.ID)
		}
	case ScaleQuestion:
		if q.Min == nil || q.Max == nil || *q.Min >= *q.Max || !isWhole(*q.Min) || !isWhole(*q.Max) {
			bad("question %q: a scale needs whole-number min < max", q.ID)
			break
		}
		// Answers are numbers compared by their decimal form, so an option
		// must be written as one of the whole numbers of the scale.
		for _, o := range q.Options {
			if n, ok := wholeNumber(o.Value); !ok || n < *q.Min || n > *q.Max {
				bad("question %q: scale option %q is not a whole number from %s to %s", q.ID, o.Value, fmtBound(q.Min), fmtBound(q.Max))
			}
		}
	case Number:
		if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
			bad("question %q: min is above max", q.ID)
		}
	case ShortText:
		if q.MaxLength <= 0 {
			bad("question %q: a text question needs max_length", q.ID)
		}
		if len(q.Options) > 0 {
			bad("question %q: a text question has no options", q.ID)
		}
	default:
		bad("question %q: unknown type %q", q.ID, q.Type)
	}
	values := map[string]bool{}
	for _, o := range q.Options {
		if o.Value == "" || o.Label.Vi == "" || o.Label.En == "" {
			bad("question %q: every option needs a value and labels in both languages", q.ID)
		}
		if values[o.Value] {
			bad("question %q: option %q is listed twice", q.ID, o.Value)
		}
		values[o.Value] = true
	}
}

// checkCondition requires the condition to refer to a question defined
// earlier and to values that question can take.
func (c *Catalogue) checkCondition(cond *Condition, where string, bad func(string, ...any)) {
	dep, ok := c.questions[cond.Question]
	if !ok {
		bad("%s: question %q is unknown or comes later", where, cond.Question)
		return
	}
	if len(cond.In) == 0 {
		bad("%s: no values listed", where)
	}
	for _, v := range cond.In {
		if !dep.accepts(v) {
			bad("%s: %q is not an answer of %q", where, v, dep.ID)
		}
	}
}

func (c *Catalogue) checkRule(ind *Indicator, bad func(string, ...any)) {
	r := ind.Rule
	q, ok := c.questions[r.Question]
	if !ok {
		bad("indicator %q: rule question %q does not exist", ind.ID, r.Question)
		return
	}
	if r.AppliesIf != nil {
		c.checkCondition(r.AppliesIf, "indicator "+ind.ID+" applies_if", bad)
		// Like show_if: a condition on another rotating module never holds
		// on the visit that answers the rule's question.
		if dep, ok := c.questions[r.AppliesIf.Question]; ok && dep.Module != q.Module && dep.Module != CoreModule {
			bad("indicator %q: applies_if refers to %q in another rotating module", ind.ID, dep.ID)
		}
	}
	for _, v := range r.Exclude {
		if !q.accepts(v) {
			bad("indicator %q: excluded value %q is not an answer of %q", ind.ID, v, q.ID)
		}
	}
	if r.Scale.Max <= r.Scale.Min {
		bad("indicator %q: scale max must be above min", ind.ID)
	}
	// A field the kind does not use would be silently ignored by Observe.
	unused := map[Kind][]struct {
		name string
		set  bool
	}{
		KindRatio:  {{"points", len(r.Points) > 0}, {"count", len(r.Count) > 0}},
		KindMean:   {{"numerator", len(r.Numerator) > 0}, {"count together with points", len(r.Count) > 0 && len(r.Points) > 0}},
		KindMedian: {{"numerator", len(r.Numerator) > 0}, {"points", len(r.Points) > 0}, {"count", len(r.Count) > 0}},
	}
	for _, f := range unused[ind.Kind] {
		if f.set {
			bad("indicator %q: a %s rule takes no %s", ind.ID, ind.Kind, f.name)
		}
	}
	switch ind.Kind {
	case KindRatio:
		if q.Type != SingleChoice && q.Type != MultipleChoice && q.Type != ScaleQuestion {
			bad("indicator %q: a ratio needs a choice or scale question, %q is %s", ind.ID, q.ID, q.Type)
		}
		if len(r.Numerator) == 0 {
			bad("indicator %q: a ratio needs numerator values", ind.ID)
		}
		for _, v := range r.Numerator {
			if !q.accepts(v) {
				bad("indicator %q: numerator value %q is not an answer of %q", ind.ID, v, q.ID)
			}
		}
		if r.Scale.Min != 0 || r.Scale.Max != 1 {
			bad("indicator %q: a ratio's scale is 0 to 1", ind.ID)
		}
	case KindMean:
		switch {
		case len(r.Points) > 0:
			if q.Type != SingleChoice && q.Type != ScaleQuestion {
				bad("indicator %q: points need a single choice or scale question", ind.ID)
			}
			for v := range r.Points {
				if !q.accepts(v) {
					bad("indicator %q: points for %q, not an answer of %q", ind.ID, v, q.ID)
				}
			}
			for _, o := range q.Options {
				if _, scored := r.Points[o.Value]; !scored && !contains(r.Exclude, o.Value) {
					bad("indicator %q: option %q of %q has no points and is not excluded", ind.ID, o.Value, q.ID)
				}
			}
			if q.Type == ScaleQuestion && len(q.Options) == 0 && q.Min != nil && q.Max != nil && isWhole(*q.Min) && isWhole(*q.Max) {
				// Every point of a scale without options is an answer.
				for x := *q.Min; x <= *q.Max; x++ {
					if v := FormatNumber(x); !hasKey(r.Points, v) && !contains(r.Exclude, v) {
						bad("indicator %q: scale point %s of %q has no points and is not excluded", ind.ID, v, q.ID)
						break
					}
				}
			}
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, p := range r.Points {
				lo, hi = math.Min(lo, p), math.Max(hi, p)
			}
			if r.Scale.Min != lo || r.Scale.Max != hi {
				bad("indicator %q: scale %s to %s, want the range of the points, %s to %s", ind.ID, fmtBound(&r.Scale.Min), fmtBound(&r.Scale.Max), fmtBound(&lo), fmtBound(&hi))
			}
		case len(r.Count) > 0:
			if q.Type != MultipleChoice {
				bad("indicator %q: count needs a multiple choice question", ind.ID)
			}
			counted := map[string]bool{}
			for _, v := range r.Count {
				if !q.accepts(v) {
					bad("indicator %q: counted value %q is not an answer of %q", ind.ID, v, q.ID)
				}
				if counted[v] {
					bad("indicator %q: counted value %q is listed twice", ind.ID, v)
				}
				counted[v] = true
				for _, o := range q.Options {
					if o.Value == v && o.Exclusive {
						bad("indicator %q: counted value %q is an exclusive option", ind.ID, v)
					}
				}
			}
			if r.Scale.Min != 0 || r.Scale.Max != float64(len(r.Count)) {
				bad("indicator %q: a count's scale is 0 to %d, the number of counted values", ind.ID, len(r.Count))
			}
		default:
			if q.Type != Number && q.Type != ScaleQuestion {
				bad("indicator %q: a mean without points or count needs a number or scale question", ind.ID)
			}
		}
	case KindMedian:
		if q.Type != Number {
			bad("indicator %q: a median needs a number question", ind.ID)
		}
	default:
		bad("indicator %q: unknown kind %q", ind.ID, ind.Kind)
	}
}

// accepts reports whether v is a possible answer value of q, as used in
// conditions and rules.
func (q *Question) accepts(v string) bool {
	for _, o := range q.Options {
		if o.Value == v {
			return true
		}
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

func hasKey(m map[string]float64, k string) bool {
	_, ok := m[k]
	return ok
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}
