package survey

// The per-response hot path as it was before the catalogue indexes
// (hotpath.go): the reference the differential tests compare against.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

func (c *Catalogue) refValidateSubmission(sub Submission) (Visit, error) {
	var errs []FieldError
	fail := func(field, vi, en string) { errs = append(errs, FieldError{field, Text{vi, en}}) }

	modules, ok := c.refModulesFor(sub, fail)
	answers := Answers{}
	if ok {
		for id, raw := range sub.Answers {
			field := "answers." + id
			q, known := c.questions[id]
			if !known {
				fail(field, "Câu hỏi không có trong bảng hỏi này.", "This question is not part of this questionnaire.")
				continue
			}
			if !modules[q.Module] {
				fail(field, "Câu hỏi này không được hỏi trong lượt trả lời này.", "This question was not asked in this visit.")
				continue
			}
			v, present, msg := c.refDecode(q, raw)
			if msg != nil {
				fail(field, msg.Vi, msg.En)
				continue
			}
			if present {
				answers[id] = v
			}
		}
	}
	if ok && len(errs) == 0 {
		for i := range c.Questions {
			q := &c.Questions[i]
			field := "answers." + q.ID
			shown := c.refShown(q, modules, answers)
			_, answered := answers[q.ID]
			switch {
			case answered && !shown:
				if by := c.refHiddenBy(q, modules, answers); by != "" {
					fail(field, fmt.Sprintf("Không cần trả lời câu này vì câu trả lời cho câu %q.", by),
						fmt.Sprintf("This question does not apply given the answer to %q; leave it blank.", by))
				} else {
					fail(field, "Câu hỏi này không được hỏi trong lượt trả lời này.", "This question was not asked in this visit.")
				}
			case !answered && shown && q.Required:
				fail(field, "Vui lòng trả lời câu hỏi này.", "Please answer this question.")
			}
		}
	}
	if sub.Sex != "" && !hasOption(Sexes, sub.Sex) {
		fail("sex", "Giá trị giới tính không hợp lệ.", "Unknown value for sex.")
	}
	if sub.AgeGroup != "" && !hasOption(AgeGroups, sub.AgeGroup) {
		fail("age_group", "Nhóm tuổi không hợp lệ.", "Unknown age group.")
	}
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return Visit{}, &ValidationError{Errors: errs}
	}
	ids := slices.Sorted(maps.Keys(modules))
	v := Visit{Modules: ids, Answers: answers, Sex: sub.Sex, AgeGroup: sub.AgeGroup}
	if r, ok := answers[ResidenceQuestion].(string); ok {
		v.Residence = r
		if r == ResidenceOther {
			v.ResidenceCommune, _ = answers[ResidenceCommuneQuestion].(string)
		}
	}
	return v, nil
}

func (c *Catalogue) refModulesFor(sub Submission, fail func(field, vi, en string)) (map[string]bool, bool) {
	modules := c.refModuleSet(nil)
	if len(sub.Modules) == 0 {
		for id := range sub.Answers {
			if q, ok := c.questions[id]; ok {
				modules[q.Module] = true
			}
		}
		return modules, true
	}
	ok := true
	for _, m := range sub.Modules {
		if _, known := c.modules[m]; !known {
			fail("modules", fmt.Sprintf("Phần hỏi %q không có trong bảng hỏi này.", m), fmt.Sprintf("Module %q is not part of this questionnaire.", m))
			ok = false
			continue
		}
		modules[m] = true
	}
	return modules, ok
}

func (c *Catalogue) refShown(q *Question, modules map[string]bool, answers Answers) bool {
	return c.refHiddenBy(q, modules, answers) == "" && modules[q.Module]
}

func (c *Catalogue) refHiddenBy(q *Question, modules map[string]bool, answers Answers) string {
	if !modules[q.Module] {
		return ""
	}
	var conds []*Condition
	if m := c.modules[q.Module]; m != nil && m.ShowIf != nil {
		conds = append(conds, m.ShowIf)
	}
	if q.ShowIf != nil {
		conds = append(conds, q.ShowIf)
	}
	for _, cond := range conds {
		dep := c.questions[cond.Question]
		if !refHolds(cond, answers) || !c.refShown(dep, modules, answers) {
			return cond.Question
		}
	}
	return ""
}

func (c *Catalogue) refModuleSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids)+2)
	m[CoreModule] = true
	for _, mod := range c.Modules {
		if !mod.Rotating {
			m[mod.ID] = true
		}
	}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func refHolds(cond *Condition, answers Answers) bool {
	v, ok := answers[cond.Question]
	if !ok {
		return false
	}
	return slices.ContainsFunc(refAnswerStrings(v), func(s string) bool { return slices.Contains(cond.In, s) })
}

func refAnswerStrings(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []string:
		return x
	case float64:
		return []string{FormatNumber(x)}
	}
	return nil
}

func (c *Catalogue) refDecode(q *Question, raw json.RawMessage) (v any, present bool, msg *Text) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	switch q.Type {
	case CommuneChoice:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false, &Text{"Cần chọn một xã, phường, đặc khu trong danh sách.", "Choose a commune from the list (its code as a string)."}
		}
		if !c.communes[s] {
			return nil, false, &Text{fmt.Sprintf("Mã %q không phải là mã của một trong 168 xã, phường, đặc khu của Thành phố; vui lòng chọn lại trong danh sách.", s),
				fmt.Sprintf("%q is not the code of one of the city's 168 communes; choose one from the list.", s)}
		}
		return s, true, nil
	case SingleChoice:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false, &Text{"Cần chọn một phương án.", "Choose one option (a string value)."}
		}
		if !q.accepts(s) {
			return nil, false, &Text{fmt.Sprintf("Phương án %q không có trong câu hỏi này.", s), fmt.Sprintf("%q is not one of this question's options.", s)}
		}
		return s, true, nil
	case MultipleChoice:
		var list []string
		if json.Unmarshal(raw, &list) != nil {
			return nil, false, &Text{"Cần một danh sách các phương án đã chọn.", "Send the chosen options as a list of strings."}
		}
		if len(list) == 0 {
			return nil, false, nil
		}
		seen := map[string]bool{}
		exclusive := false
		for _, s := range list {
			if !q.accepts(s) {
				return nil, false, &Text{fmt.Sprintf("Phương án %q không có trong câu hỏi này.", s), fmt.Sprintf("%q is not one of this question's options.", s)}
			}
			if seen[s] {
				return nil, false, &Text{fmt.Sprintf("Phương án %q được chọn hai lần.", s), fmt.Sprintf("%q is chosen twice.", s)}
			}
			seen[s] = true
			if slices.ContainsFunc(q.Options, func(o Option) bool { return o.Value == s && o.Exclusive }) {
				exclusive = true
			}
		}
		if exclusive && len(list) > 1 {
			return nil, false, &Text{"Phương án “không có” không thể chọn cùng các phương án khác.", "A “none” option cannot be chosen together with other options."}
		}
		out := append([]string(nil), list...)
		sort.Strings(out)
		return out, true, nil
	case Number, ScaleQuestion:
		var n float64
		if json.Unmarshal(raw, &n) != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, false, &Text{"Cần nhập một con số.", "Enter a number."}
		}
		if n == 0 {
			n = 0 // no negative zero: answers compare by their decimal form
		}
		if q.Type == ScaleQuestion && (n != math.Trunc(n) || len(q.Options) > 0 && !q.accepts(FormatNumber(n))) {
			return nil, false, &Text{"Cần chọn một mức trên thang điểm.", "Choose one of the points of the scale."}
		}
		if (q.Min != nil && n < *q.Min) || (q.Max != nil && n > *q.Max) {
			return nil, false, &Text{fmt.Sprintf("Giá trị phải từ %s đến %s.", fmtBound(q.Min), fmtBound(q.Max)), fmt.Sprintf("The value must be between %s and %s.", fmtBound(q.Min), fmtBound(q.Max))}
		}
		return n, true, nil
	case ShortText:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false, &Text{"Cần nhập văn bản.", "Send text as a string."}
		}
		if !utf8.ValidString(s) {
			return nil, false, &Text{"Văn bản có ký tự không hợp lệ.", "The text is not valid UTF-8."}
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return nil, false, nil
		}
		if n := utf8.RuneCountInString(s); n > q.MaxLength {
			return nil, false, &Text{fmt.Sprintf("Văn bản dài tối đa %d ký tự (hiện có %d).", q.MaxLength, n), fmt.Sprintf("At most %d characters (got %d).", q.MaxLength, n)}
		}
		return redact(s), true, nil
	}
	return nil, false, &Text{"Loại câu hỏi không được hỗ trợ.", "Unsupported question type."}
}

func (c *Catalogue) refObserve(v Visit) []Observation {
	modules := c.refModuleSet(v.Modules)
	var out []Observation
	for _, ind := range c.Indicators() {
		if x, ok := c.refMeasure(ind, modules, v.Answers); ok {
			out = append(out, Observation{Indicator: ind.ID, X: x, W: v.weight(c.questions[ind.Rule.Questions()[0]].Module)})
		}
	}
	return out
}

func (c *Catalogue) refCredits(v Visit, visited string) []Credit {
	obs := c.refObserve(v)
	home := visited
	switch v.Residence {
	case ResidenceOther:
		home = v.ResidenceCommune
	case ResidenceOutside:
		home = ""
	}
	if home == visited {
		return []Credit{{Commune: visited, Observations: obs}}
	}
	service := Credit{Commune: visited}
	locality := Credit{Commune: home}
	for _, o := range obs {
		if c.indicators[o.Indicator].About == AboutService {
			service.Observations = append(service.Observations, o)
		} else if home != "" {
			locality.Observations = append(locality.Observations, o)
		}
	}
	out := []Credit{service}
	if home != "" {
		out = append(out, locality)
	}
	return out
}

func (c *Catalogue) refMeasure(ind *Indicator, modules map[string]bool, answers Answers) (float64, bool) {
	r := &ind.Rule
	if r.AppliesIf != nil && !refHolds(r.AppliesIf, answers) {
		return 0, false
	}
	if len(r.Items) > 0 {
		return c.refMeasureItems(r, modules, answers)
	}
	q := c.questions[r.Question]
	if !c.refShown(q, modules, answers) {
		return 0, false
	}
	a, ok := answers[r.Question]
	if !ok {
		return 0, false
	}
	values := refAnswerStrings(a)
	if slices.ContainsFunc(values, func(v string) bool { return slices.Contains(r.Exclude, v) }) {
		return 0, false
	}
	switch {
	case ind.Kind == KindRatio:
		if slices.ContainsFunc(values, func(v string) bool { return slices.Contains(r.Numerator, v) }) {
			return 1, true
		}
		return 0, true
	case r.FromNumber != nil && values[0] == r.FromNumber.When:
		n, ok := answers[r.FromNumber.Question].(float64)
		if !ok || !c.refShown(c.questions[r.FromNumber.Question], modules, answers) {
			return 0, false
		}
		// Capped at the scale, so that "from a very large amount" and
		// "never" both sit at the top.
		return math.Max(r.Scale.Min, math.Min(r.Scale.Max, n)), true
	case len(r.Points) > 0:
		p, ok := r.Points[values[0]]
		return p, ok
	case len(r.Count) > 0:
		n := 0
		for _, v := range values {
			if slices.Contains(r.Count, v) {
				n++
			}
		}
		return float64(n), true
	}
	x, ok := a.(float64)
	return x, ok
}

func (c *Catalogue) refMeasureItems(r *Rule, modules map[string]bool, answers Answers) (float64, bool) {
	met, rated := 0, 0
	for _, id := range r.Items {
		s, ok := answers[id].(string)
		if !ok || slices.Contains(r.Exclude, s) || !c.refShown(c.questions[id], modules, answers) {
			continue
		}
		rated++
		if slices.Contains(r.Numerator, s) {
			met++
		}
	}
	if rated == 0 {
		return 0, false
	}
	return float64(met) / float64(rated), true
}

func refParseAnswers(data []byte) (Answers, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("stored answers are not valid JSON: %w", err)
	}
	out := make(Answers, len(raw))
	for id, v := range raw {
		switch x := v.(type) {
		case string, float64:
			out[id] = x
		case []any:
			list := make([]string, 0, len(x))
			for _, e := range x {
				s, ok := e.(string)
				if !ok {
					return nil, fmt.Errorf("stored answer %q holds a non-string choice", id)
				}
				list = append(list, s)
			}
			out[id] = list
		default:
			return nil, fmt.Errorf("stored answer %q has an unexpected type %T", id, v)
		}
	}
	return out, nil
}
