package survey

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Validate checks that the catalogue is internally consistent: unique ids, a
// published date, every question in a known module with options fitting its
// type, every show_if and applies_if pointing at an earlier question of the
// same module or of an always-asked module and at answer values that
// question can take, grids of alike consecutive questions, and every
// indicator with a usable rule (only the fields its kind uses, a scale
// matching its points, count or items) and named responsible agencies. It
// also builds the look-up indexes.
func (c *Catalogue) Validate() error {
	c.ix = nil
	ck := &checker{c: c}
	ck.header()
	ck.modules()
	ck.grids()
	ck.questions()
	ck.moduleConditions()
	ck.gridRows()
	ck.dimensions()
	if len(ck.errs) == 0 {
		c.buildIndex()
		return nil
	}
	errs := ck.errs
	if len(errs) > 20 {
		errs = append(errs[:20], fmt.Sprintf("… and %d more", len(errs)-20))
	}
	return fmt.Errorf("catalogue %s is invalid:\n  %s", c.Version, strings.Join(errs, "\n  "))
}

// checker collects every problem of one catalogue, so that its author sees
// them all at once.
type checker struct {
	c    *Catalogue
	errs []string
}

func (ck *checker) bad(format string, args ...any) {
	ck.errs = append(ck.errs, fmt.Sprintf(format, args...))
}

func (ck *checker) header() {
	if ck.c.Version == "" {
		ck.bad("version is empty")
	}
	if _, err := time.Parse(DateLayout, ck.c.Published); err != nil {
		ck.bad("published %q is not a date YYYY-MM-DD", ck.c.Published)
	}
}

func (ck *checker) modules() {
	c := ck.c
	c.modules = map[string]*Module{}
	for i := range c.Modules {
		m := &c.Modules[i]
		if m.ID == "" || m.Name.Vi == "" {
			ck.bad("module %d has no id or Vietnamese name", i)
		}
		if _, dup := c.modules[m.ID]; dup {
			ck.bad("module %q is defined twice", m.ID)
		}
		c.modules[m.ID] = m
		for _, t := range []struct {
			name string
			text *Text
		}{{"heading", m.Heading}, {"reassurance", m.Reassurance}} {
			if t.text != nil && (t.text.Vi == "" || t.text.En == "") {
				ck.bad("module %q: %s needs Vietnamese and English", m.ID, t.name)
			}
		}
	}
	if m, ok := c.modules[CoreModule]; !ok || m.Rotating {
		ck.bad("a non-rotating %q module is required", CoreModule)
	}
}

func (ck *checker) grids() {
	c := ck.c
	c.grids = map[string]*Grid{}
	for i := range c.Grids {
		g := &c.Grids[i]
		if g.ID == "" {
			ck.bad("grid %d has no id", i)
		}
		if _, dup := c.grids[g.ID]; dup {
			ck.bad("grid %q is defined twice", g.ID)
		}
		if g.Text.Vi == "" || g.Text.En == "" {
			ck.bad("grid %q: text needs Vietnamese and English", g.ID)
		}
		c.grids[g.ID] = g
	}
}

func (ck *checker) questions() {
	c := ck.c
	c.questions = map[string]*Question{}
	c.order = map[string]int{}
	c.communes = nil
	for i := range c.Questions {
		q := &c.Questions[i]
		if q.ID == "" {
			ck.bad("question %d has no id", i)
			continue
		}
		if _, dup := c.questions[q.ID]; dup {
			ck.bad("question %q is defined twice", q.ID)
		}
		if _, ok := c.modules[q.Module]; !ok {
			ck.bad("question %q: unknown module %q", q.ID, q.Module)
		}
		if q.Text.Vi == "" || q.Text.En == "" {
			ck.bad("question %q: text needs Vietnamese and English", q.ID)
		}
		if q.ShowIf != nil {
			// show_if may only look back, so the form can be filled top to bottom.
			ck.condition(q.ShowIf, "question "+q.ID+" show_if")
			if dep, ok := c.questions[q.ShowIf.Question]; ok && ck.otherRotating(dep, q.Module) {
				ck.bad("question %q: show_if refers to %q in another rotating module", q.ID, dep.ID)
			}
		}
		if q.Grid != "" {
			if _, ok := c.grids[q.Grid]; !ok {
				ck.bad("question %q: unknown grid %q", q.ID, q.Grid)
			}
			if q.Type != SingleChoice {
				ck.bad("question %q: a grid row must be a single choice", q.ID)
			}
		}
		ck.questionShape(q)
		if q.Type == CommuneChoice && c.communes == nil {
			ck.communeCodes()
		}
		c.questions[q.ID] = q
		c.order[q.ID] = i
	}
}

// otherRotating reports whether dep belongs to a rotating module other than
// module: a condition on it would never hold on a visit asking module.
func (ck *checker) otherRotating(dep *Question, module string) bool {
	m, ok := ck.c.modules[dep.Module]
	return ok && m.Rotating && dep.Module != module
}

// communeCodes loads the codes a commune question accepts.
func (ck *checker) communeCodes() {
	list, err := Communes()
	if err != nil {
		ck.bad("commune question: %v", err)
		return
	}
	ck.c.communeList = list
	ck.c.communes = make(map[string]bool, len(list))
	for _, cm := range list {
		ck.c.communes[cm.Code] = true
	}
}

func (ck *checker) questionShape(q *Question) {
	switch q.Type {
	case SingleChoice, MultipleChoice:
		if len(q.Options) < 2 {
			ck.bad("question %q: a choice needs at least two options", q.ID)
		}
	case ScaleQuestion:
		if q.Min == nil || q.Max == nil || *q.Min >= *q.Max || !isWhole(*q.Min) || !isWhole(*q.Max) {
			ck.bad("question %q: a scale needs whole-number min < max", q.ID)
			break
		}
		// Answers are numbers compared by their decimal form, so an option
		// must be written as one of the whole numbers of the scale.
		for _, o := range q.Options {
			if n, ok := wholeNumber(o.Value); !ok || n < *q.Min || n > *q.Max {
				ck.bad("question %q: scale option %q is not a whole number from %s to %s", q.ID, o.Value, fmtBound(q.Min), fmtBound(q.Max))
			}
		}
	case Number:
		if q.Min != nil && q.Max != nil && *q.Min > *q.Max {
			ck.bad("question %q: min is above max", q.ID)
		}
	case ShortText:
		if q.MaxLength <= 0 {
			ck.bad("question %q: a text question needs max_length", q.ID)
		}
		if len(q.Options) > 0 {
			ck.bad("question %q: a text question has no options", q.ID)
		}
	case CommuneChoice:
		if len(q.Options) > 0 || q.Min != nil || q.Max != nil {
			ck.bad("question %q: a commune question takes no options or bounds (its answers are the city's commune codes)", q.ID)
		}
	default:
		ck.bad("question %q: unknown type %q", q.ID, q.Type)
	}
	values := map[string]bool{}
	for _, o := range q.Options {
		if o.Value == "" || o.Label.Vi == "" || o.Label.En == "" {
			ck.bad("question %q: every option needs a value and labels in both languages", q.ID)
		}
		if values[o.Value] {
			ck.bad("question %q: option %q is listed twice", q.ID, o.Value)
		}
		values[o.Value] = true
	}
}

// condition requires the condition to refer to a question defined earlier
// and to values that question can take.
func (ck *checker) condition(cond *Condition, where string) {
	dep, ok := ck.c.questions[cond.Question]
	if !ok {
		ck.bad("%s: question %q is unknown or comes later", where, cond.Question)
		return
	}
	if len(cond.In) == 0 {
		ck.bad("%s: no values listed", where)
	}
	for _, v := range cond.In {
		if !dep.accepts(v) {
			ck.bad("%s: %q is not an answer of %q", where, v, dep.ID)
		}
	}
}

// moduleConditions checks each module's show_if once every question is
// known: it must name a question of another, always-asked module without a
// condition of its own, asked before any question of the module.
func (ck *checker) moduleConditions() {
	c := ck.c
	for i := range c.Modules {
		m := &c.Modules[i]
		if m.ShowIf == nil {
			continue
		}
		where := "module " + m.ID + " show_if"
		if m.ID == CoreModule {
			ck.bad("%s: the core module is always asked", where)
			continue
		}
		dep, ok := c.questions[m.ShowIf.Question]
		if !ok {
			ck.bad("%s: question %q is unknown", where, m.ShowIf.Question)
			continue
		}
		ck.condition(m.ShowIf, where)
		if dm := c.modules[dep.Module]; dm == nil || dm.Rotating || dm.ShowIf != nil || dep.Module == m.ID {
			ck.bad("%s: %q must belong to another always-asked module without a condition", where, dep.ID)
		}
		for _, q := range c.Questions {
			if q.Module == m.ID && c.order[q.ID] < c.order[dep.ID] {
				ck.bad("%s: %q comes after question %q of the module", where, dep.ID, q.ID)
				break
			}
		}
	}
}

// gridRows requires the rows of each grid to be consecutive questions of one
// module with the same options, so that the form can draw them as a table
// with one header.
func (ck *checker) gridRows() {
	c := ck.c
	for _, g := range c.Grids {
		var rows []int
		for i, q := range c.Questions {
			if q.Grid == g.ID {
				rows = append(rows, i)
			}
		}
		if len(rows) == 0 {
			ck.bad("grid %q has no questions", g.ID)
			continue
		}
		first := &c.Questions[rows[0]]
		for k, i := range rows {
			q := &c.Questions[i]
			if i != rows[0]+k {
				ck.bad("grid %q: question %q is not next to the grid's other questions", g.ID, q.ID)
			}
			if q.Module != first.Module {
				ck.bad("grid %q: question %q is in module %q, not %q", g.ID, q.ID, q.Module, first.Module)
			}
			if !slices.Equal(q.Options, first.Options) {
				ck.bad("grid %q: question %q has other options than %q", g.ID, q.ID, first.ID)
			}
		}
	}
}

func (ck *checker) dimensions() {
	c := ck.c
	c.indicators = map[string]*Indicator{}
	dimIDs := map[string]bool{}
	subIDs := map[string]bool{}
	for di := range c.Dimensions {
		d := &c.Dimensions[di]
		if want := fmt.Sprintf("D%d", di+1); d.ID != want {
			ck.bad("dimension %d has id %q, want %q", di+1, d.ID, want)
		}
		if dimIDs[d.ID] {
			ck.bad("dimension %q is defined twice", d.ID)
		}
		dimIDs[d.ID] = true
		if d.Name.Vi == "" || d.Name.En == "" {
			ck.bad("dimension %q needs a Vietnamese and an English name", d.ID)
		}
		if len(d.Subdimensions) == 0 {
			ck.bad("dimension %q has no sub-dimensions", d.ID)
		}
		for si := range d.Subdimensions {
			sd := &d.Subdimensions[si]
			if want := fmt.Sprintf("%s.%d", d.ID, si+1); sd.ID != want {
				ck.bad("sub-dimension %q should have id %q", sd.ID, want)
			}
			if subIDs[sd.ID] {
				ck.bad("sub-dimension %q is defined twice", sd.ID)
			}
			subIDs[sd.ID] = true
			if sd.Name.Vi == "" || sd.Name.En == "" {
				ck.bad("sub-dimension %q needs a Vietnamese and an English name", sd.ID)
			}
			if len(sd.Indicators) == 0 {
				ck.bad("sub-dimension %q has no indicators", sd.ID)
			}
			for ii := range sd.Indicators {
				ind := &sd.Indicators[ii]
				if want := fmt.Sprintf("%s.%d", sd.ID, ii+1); ind.ID != want {
					ck.bad("indicator %q should have id %q", ind.ID, want)
				}
				ck.indicator(ind)
			}
		}
	}
}

func (ck *checker) indicator(ind *Indicator) {
	c := ck.c
	if _, dup := c.indicators[ind.ID]; dup {
		ck.bad("indicator %q is defined twice", ind.ID)
	}
	c.indicators[ind.ID] = ind
	if ind.Name.Vi == "" || ind.Name.En == "" {
		ck.bad("indicator %q needs a Vietnamese and an English name", ind.ID)
	}
	ck.agencies(ind)
	ck.rule(ind)
	switch ind.About {
	case AboutService, AboutLocality:
	case "":
		ind.About = AboutLocality
		if q, ok := c.questions[ind.Rule.Questions()[0]]; ok && q.Module == CoreModule {
			ind.About = AboutService
		}
	default:
		ck.bad("indicator %q: about must be %q or %q", ind.ID, AboutService, AboutLocality)
	}
	seen := map[string]bool{}
	for _, v := range ind.Comparable {
		switch {
		case v == "" || v == c.Version:
			ck.bad("indicator %q: comparable needs earlier versions, not %q", ind.ID, v)
		case seen[v]:
			ck.bad("indicator %q: comparable lists %q twice", ind.ID, v)
		}
		seen[v] = true
	}
}

func (ck *checker) agencies(ind *Indicator) {
	if len(ind.Agencies.Implementing) == 0 || len(ind.Agencies.Lead) == 0 {
		ck.bad("indicator %q needs implementing and lead agencies", ind.ID)
	}
	for _, list := range [][]string{ind.Agencies.Implementing, ind.Agencies.Lead, ind.Agencies.Coordinating} {
		named := map[string]bool{}
		for _, a := range list {
			if strings.TrimSpace(a) == "" {
				ck.bad("indicator %q: an agency name is blank", ind.ID)
			}
			if named[a] {
				// It would get every follow-up item twice.
				ck.bad("indicator %q: agency %q is listed twice in one role", ind.ID, a)
			}
			named[a] = true
		}
	}
}

// ruleFields are the rule fields a kind does not use: a field set anyway
// would be silently ignored by Observe, so it is an error.
func ruleFields(r *Rule) map[Kind][]struct {
	name string
	set  bool
} {
	return map[Kind][]struct {
		name string
		set  bool
	}{
		KindRatio: {{"points", len(r.Points) > 0}, {"count", len(r.Count) > 0}, {"items", len(r.Items) > 0}, {"from_number", r.FromNumber != nil}},
		KindMean: {
			{"numerator", len(r.Numerator) > 0 && len(r.Items) == 0}, {"count together with points", len(r.Count) > 0 && len(r.Points) > 0},
			{"items together with points or count", len(r.Items) > 0 && (len(r.Points) > 0 || len(r.Count) > 0)}, {"from_number", r.FromNumber != nil},
		},
		KindMedian: {{"numerator", len(r.Numerator) > 0}, {"count", len(r.Count) > 0}, {"items", len(r.Items) > 0}, {"points", len(r.Points) > 0 && r.FromNumber == nil}},
	}
}

func (ck *checker) rule(ind *Indicator) {
	r := &ind.Rule
	qs := ck.ruleQuestions(ind)
	if qs == nil {
		return
	}
	if r.AppliesIf != nil {
		ck.condition(r.AppliesIf, "indicator "+ind.ID+" applies_if")
		// Like show_if: a condition on another rotating module never holds
		// on the visit that answers the rule's question.
		if dep, ok := ck.c.questions[r.AppliesIf.Question]; ok && ck.otherRotating(dep, qs[0].Module) {
			ck.bad("indicator %q: applies_if refers to %q in another rotating module", ind.ID, dep.ID)
		}
	}
	for _, v := range r.Exclude {
		for _, q := range qs {
			if !q.accepts(v) {
				ck.bad("indicator %q: excluded value %q is not an answer of %q", ind.ID, v, q.ID)
			}
		}
	}
	if r.Scale.Max <= r.Scale.Min {
		ck.bad("indicator %q: scale max must be above min", ind.ID)
	}
	for _, f := range ruleFields(r)[ind.Kind] {
		if f.set {
			ck.bad("indicator %q: a %s rule takes no %s", ind.ID, ind.Kind, f.name)
		}
	}
	switch ind.Kind {
	case KindRatio:
		ck.ratioRule(ind, qs[0])
	case KindMean:
		switch {
		case len(r.Items) > 0:
			ck.itemsRule(ind, qs)
		case len(r.Points) > 0:
			ck.pointsRule(ind, qs[0])
		case len(r.Count) > 0:
			ck.countRule(ind, qs[0])
		case qs[0].Type != Number && qs[0].Type != ScaleQuestion:
			ck.bad("indicator %q: a mean without points, count or items needs a number or scale question", ind.ID)
		}
	case KindMedian:
		if r.FromNumber != nil {
			ck.fromNumberRule(ind, qs[0])
		} else if qs[0].Type != Number {
			ck.bad("indicator %q: a median needs a number question", ind.ID)
		}
	default:
		ck.bad("indicator %q: unknown kind %q", ind.ID, ind.Kind)
	}
}

// ruleQuestions returns the questions a rule reads (its question, or its
// items, all in one module), or nil when they are unusable.
func (ck *checker) ruleQuestions(ind *Indicator) []*Question {
	r := &ind.Rule
	if len(r.Items) > 0 && r.Question != "" {
		ck.bad("indicator %q: a rule has either a question or items, not both", ind.ID)
		return nil
	}
	var qs []*Question
	for _, id := range r.Questions() {
		q, ok := ck.c.questions[id]
		if !ok {
			ck.bad("indicator %q: rule question %q does not exist", ind.ID, id)
			return nil
		}
		if slices.Contains(qs, q) {
			ck.bad("indicator %q: item %q is listed twice", ind.ID, id)
			return nil
		}
		if len(qs) > 0 && q.Module != qs[0].Module {
			// One module gives every item the same design weight.
			ck.bad("indicator %q: item %q is in module %q, not %q", ind.ID, id, q.Module, qs[0].Module)
			return nil
		}
		qs = append(qs, q)
	}
	return qs
}

func (ck *checker) ratioRule(ind *Indicator, q *Question) {
	r := &ind.Rule
	if q.Type != SingleChoice && q.Type != MultipleChoice && q.Type != ScaleQuestion {
		ck.bad("indicator %q: a ratio needs a choice or scale question, %q is %s", ind.ID, q.ID, q.Type)
	}
	if len(r.Numerator) == 0 {
		ck.bad("indicator %q: a ratio needs numerator values", ind.ID)
	}
	for _, v := range r.Numerator {
		if !q.accepts(v) {
			ck.bad("indicator %q: numerator value %q is not an answer of %q", ind.ID, v, q.ID)
		}
	}
	if r.Scale.Min != 0 || r.Scale.Max != 1 {
		ck.bad("indicator %q: a ratio's scale is 0 to 1", ind.ID)
	}
}

// itemsRule checks a grid rule: single-choice items that all take the
// numerator's values, and a scale of 0 to 1 (the share of items met).
func (ck *checker) itemsRule(ind *Indicator, qs []*Question) {
	r := &ind.Rule
	if len(r.Numerator) == 0 {
		ck.bad("indicator %q: items need numerator values (the answers that mean an item is met)", ind.ID)
	}
	for _, q := range qs {
		if q.Type != SingleChoice {
			ck.bad("indicator %q: item %q must be a single choice", ind.ID, q.ID)
		}
		for _, v := range r.Numerator {
			if !q.accepts(v) {
				ck.bad("indicator %q: numerator value %q is not an answer of %q", ind.ID, v, q.ID)
			}
		}
	}
	if r.Scale.Min != 0 || r.Scale.Max != 1 {
		ck.bad("indicator %q: an items rule's scale is 0 to 1 (the share of items met)", ind.ID)
	}
}

func (ck *checker) pointsRule(ind *Indicator, q *Question) {
	r := &ind.Rule
	if q.Type != SingleChoice && q.Type != ScaleQuestion {
		ck.bad("indicator %q: points need a single choice or scale question", ind.ID)
	}
	ck.points(ind, q, "")
	lo, hi := pointsRange(r.Points)
	if r.Scale.Min != lo || r.Scale.Max != hi {
		ck.bad("indicator %q: scale %s to %s, want the range of the points, %s to %s", ind.ID, fmtBound(&r.Scale.Min), fmtBound(&r.Scale.Max), fmtBound(&lo), fmtBound(&hi))
	}
}

// points requires every answer of q to have points or be excluded (or be
// the answer taken from a follow-up number, open).
func (ck *checker) points(ind *Indicator, q *Question, open string) {
	r := &ind.Rule
	for v := range r.Points {
		if !q.accepts(v) {
			ck.bad("indicator %q: points for %q, not an answer of %q", ind.ID, v, q.ID)
		}
	}
	scored := func(v string) bool {
		_, ok := r.Points[v]
		return ok || slices.Contains(r.Exclude, v) || v == open
	}
	for _, o := range q.Options {
		if !scored(o.Value) {
			ck.bad("indicator %q: option %q of %q has no points and is not excluded", ind.ID, o.Value, q.ID)
		}
	}
	if q.Type == ScaleQuestion && len(q.Options) == 0 && q.Min != nil && q.Max != nil && isWhole(*q.Min) && isWhole(*q.Max) {
		// Every point of a scale without options is an answer.
		for x := *q.Min; x <= *q.Max; x++ {
			if v := FormatNumber(x); !scored(v) {
				ck.bad("indicator %q: scale point %s of %q has no points and is not excluded", ind.ID, v, q.ID)
				break
			}
		}
	}
}

func pointsRange(points map[string]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, p := range points {
		lo, hi = math.Min(lo, p), math.Max(hi, p)
	}
	return lo, hi
}

func (ck *checker) countRule(ind *Indicator, q *Question) {
	r := &ind.Rule
	if q.Type != MultipleChoice {
		ck.bad("indicator %q: count needs a multiple choice question", ind.ID)
	}
	counted := map[string]bool{}
	for _, v := range r.Count {
		if !q.accepts(v) {
			ck.bad("indicator %q: counted value %q is not an answer of %q", ind.ID, v, q.ID)
		}
		if counted[v] {
			ck.bad("indicator %q: counted value %q is listed twice", ind.ID, v)
		}
		counted[v] = true
		if slices.ContainsFunc(q.Options, func(o Option) bool { return o.Value == v && o.Exclusive }) {
			ck.bad("indicator %q: counted value %q is an exclusive option", ind.ID, v)
		}
	}
	if r.Scale.Min != 0 || r.Scale.Max != float64(len(r.Count)) {
		ck.bad("indicator %q: a count's scale is 0 to %d, the number of counted values", ind.ID, len(r.Count))
	}
}

// fromNumberRule checks a median whose coded answers have points and whose
// answer When is followed by a number question asked only for it.
func (ck *checker) fromNumberRule(ind *Indicator, q *Question) {
	r := &ind.Rule
	fn := r.FromNumber
	if q.Type != SingleChoice {
		ck.bad("indicator %q: from_number needs a single-choice rule question", ind.ID)
		return
	}
	if !q.accepts(fn.When) {
		ck.bad("indicator %q: from_number.when %q is not an answer of %q", ind.ID, fn.When, q.ID)
	}
	if _, coded := r.Points[fn.When]; coded || slices.Contains(r.Exclude, fn.When) {
		ck.bad("indicator %q: from_number.when %q also has points or is excluded", ind.ID, fn.When)
	}
	ck.points(ind, q, fn.When)
	for v, p := range r.Points {
		if p < r.Scale.Min || p > r.Scale.Max {
			ck.bad("indicator %q: points %s for %q lie outside the scale", ind.ID, FormatNumber(p), v)
		}
	}
	nq, ok := ck.c.questions[fn.Question]
	switch {
	case !ok:
		ck.bad("indicator %q: from_number question %q does not exist", ind.ID, fn.Question)
	case nq.Type != Number:
		ck.bad("indicator %q: from_number question %q must be a number", ind.ID, fn.Question)
	case nq.ShowIf == nil || nq.ShowIf.Question != q.ID || !slices.Equal(nq.ShowIf.In, []string{fn.When}):
		// Asked for that one answer only, so no one gives both a coded
		// answer and a number.
		ck.bad("indicator %q: from_number question %q must be shown only when %q is %q", ind.ID, fn.Question, q.ID, fn.When)
	}
}
