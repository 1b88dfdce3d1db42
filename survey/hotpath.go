package survey

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Every response (a submission, a row of a household import, a stored
// response re-counted) runs the skip logic and every indicator's rule. The
// index below lets that work go by question and module positions instead of
// string-keyed maps: an import checks tens of thousands of rows a second,
// each with some 150 answers.

// index is what Validate compiles from a valid catalogue for the
// per-response work.
type index struct {
	question map[string]int // position in Questions by id
	module   map[string]int // position in Modules by id
	// qModule is the position of each question's module, and conds the
	// conditions that put it on the form: its module's show_if, then its
	// own.
	qModule []int
	conds   [][]compiledCondition
	// options holds each question's option values as answers: putting a
	// string into an interface allocates, and answers are mostly options.
	options [][]any
	fixed   []bool // the modules every visit asks (core and those that do not rotate)
	byID    []int  // module positions in the order of their ids, as Visit.Modules lists them
	rules   []compiledRule
	// responses are reused: a fresh one per response made the garbage
	// collector the largest cost of a household import.
	responses sync.Pool
}

// compiledCondition is a Condition with the position of its question.
type compiledCondition struct {
	*Condition
	q int
}

// compiledRule is an indicator's rule with the positions of its questions.
type compiledRule struct {
	ind        *Indicator
	appliesIf  *compiledCondition
	question   int   // the rule's Question; -1 for a grid
	items      []int // the rule's Items
	fromNumber int   // FromNumber's question; -1 without
	module     int   // the module of the rule's (first) question, for the design weight
}

// buildIndex compiles the index of a catalogue that passed every check.
func (c *Catalogue) buildIndex() {
	ix := &index{question: make(map[string]int, len(c.Questions)), module: make(map[string]int, len(c.Modules))}
	for i, m := range c.Modules {
		ix.module[m.ID] = i
		ix.fixed = append(ix.fixed, !m.Rotating || m.ID == CoreModule)
		ix.byID = append(ix.byID, i)
	}
	slices.SortFunc(ix.byID, func(a, b int) int { return strings.Compare(c.Modules[a].ID, c.Modules[b].ID) })
	for i, q := range c.Questions {
		ix.question[q.ID] = i
		values := make([]any, len(q.Options))
		for k, o := range q.Options {
			values[k] = o.Value
		}
		ix.options = append(ix.options, values)
	}
	compile := func(cond *Condition) *compiledCondition {
		if cond == nil {
			return nil
		}
		return &compiledCondition{Condition: cond, q: ix.question[cond.Question]}
	}
	for _, q := range c.Questions {
		m := ix.module[q.Module]
		ix.qModule = append(ix.qModule, m)
		var conds []compiledCondition
		for _, cond := range []*Condition{c.Modules[m].ShowIf, q.ShowIf} {
			if cond != nil {
				conds = append(conds, *compile(cond))
			}
		}
		ix.conds = append(ix.conds, conds)
	}
	position := func(id string) int {
		if i, ok := ix.question[id]; ok {
			return i
		}
		return -1
	}
	for _, ind := range c.Indicators() {
		r := &ind.Rule
		cr := compiledRule{ind: ind, appliesIf: compile(r.AppliesIf), question: -1, fromNumber: -1,
			module: ix.qModule[ix.question[r.Questions()[0]]]}
		if len(r.Items) == 0 {
			cr.question = position(r.Question)
		}
		for _, id := range r.Items {
			cr.items = append(cr.items, ix.question[id])
		}
		if r.FromNumber != nil {
			cr.fromNumber = position(r.FromNumber.Question)
		}
		ix.rules = append(ix.rules, cr)
	}
	c.ix = ix
}

// response is one visit's answers laid out by question position, with the
// modules it asks and, once decided, which questions its form showed.
type response struct {
	c     *Catalogue
	asked []bool // by module position
	vals  []answer
	shown []bool
}

// answer is the answer to one question with the values conditions and
// rules compare it by (answerStrings).
type answer struct {
	v       any
	present bool
	strs    []string
	one     [1]string // strs of a single value, without an allocation of its own
}

// newResponse returns an empty response that asks the modules every visit
// asks; give it back with release once done.
func (c *Catalogue) newResponse() *response {
	r, ok := c.ix.responses.Get().(*response)
	if !ok {
		n := len(c.Questions)
		return &response{c: c, asked: slices.Clone(c.ix.fixed), vals: make([]answer, n), shown: make([]bool, n)}
	}
	copy(r.asked, c.ix.fixed)
	clear(r.vals)
	clear(r.shown)
	return r
}

// release gives the response back for reuse; it must not be used after.
func (r *response) release() { r.c.ix.responses.Put(r) }

// responseTo lays out a visit's answers, ignoring modules and answers the
// catalogue does not know, and decides which questions its form showed.
func (c *Catalogue) responseTo(v Visit) *response {
	r := c.newResponse()
	for _, id := range v.Modules {
		r.ask(id)
	}
	for id, a := range v.Answers {
		if i, ok := c.ix.question[id]; ok {
			r.set(i, a)
		}
	}
	r.decideAll()
	return r
}

// ask adds a module to the visit and reports whether the catalogue has it.
func (r *response) ask(module string) bool {
	m, ok := r.c.ix.module[module]
	if ok {
		r.asked[m] = true
	}
	return ok
}

// set records the answer v to question i.
func (r *response) set(i int, v any) {
	a := &r.vals[i]
	a.v, a.present = v, true
	switch x := v.(type) {
	case string:
		a.one[0] = x
		a.strs = a.one[:]
	case []string:
		a.strs = x
	case float64:
		a.one[0] = numberText(x)
		a.strs = a.one[:]
	default:
		a.strs = nil
	}
}

// holds reports whether the condition is met by the answers.
func (r *response) holds(cond *compiledCondition) bool {
	a := &r.vals[cond.q]
	return a.present && slices.ContainsFunc(a.strs, func(s string) bool { return slices.Contains(cond.In, s) })
}

// decide settles whether question i was on the form and returns the id of
// the question whose answer kept it off, or "" when it was shown or its
// module was not asked. It reads only earlier questions' answers and
// decisions: conditions only look back (Validate).
func (r *response) decide(i int) (hiddenBy string) {
	if !r.asked[r.c.ix.qModule[i]] {
		return ""
	}
	for k := range r.c.ix.conds[i] {
		cond := &r.c.ix.conds[i][k]
		if !r.holds(cond) || !r.shown[cond.q] {
			return cond.Question
		}
	}
	r.shown[i] = true
	return ""
}

// decideAll decides every question, in catalogue order.
func (r *response) decideAll() {
	for i := range r.shown {
		r.decide(i)
	}
}

// moduleIDs lists the modules asked, in the order of their ids.
func (r *response) moduleIDs() []string {
	ids := make([]string, 0, len(r.asked))
	for _, m := range r.c.ix.byID {
		if r.asked[m] {
			ids = append(ids, r.c.Modules[m].ID)
		}
	}
	return ids
}

// numberText is FormatNumber without an allocation for the small whole
// numbers (scale points) most number answers are.
func numberText(x float64) string {
	if x >= 0 && x < 100 && x == float64(int(x)) && !math.Signbit(x) {
		return strconv.Itoa(int(x))
	}
	return FormatNumber(x)
}
