package survey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Answers are a resident's validated answers by question id. A value is a
// string (single choice, text), a []string (multiple choice, sorted) or a
// float64 (number, scale).
type Answers map[string]any

// Submission is what a resident sends for one visit, before validation.
type Submission struct {
	// Modules are the modules the form showed; empty means "infer from the
	// answers" (core plus every module answered).
	Modules  []string
	Answers  map[string]json.RawMessage
	Sex      string
	AgeGroup string
}

// Profile values a resident may give, for post-stratification weights.
var (
	Sexes     = []Option{{Value: "female", Label: Text{"Nữ", "Female"}}, {Value: "male", Label: Text{"Nam", "Male"}}, {Value: "other", Label: Text{"Khác / Không muốn trả lời", "Other / prefer not to say"}}}
	AgeGroups = []Option{{Value: "18_29", Label: Text{"18–29 tuổi", "18–29"}}, {Value: "30_39", Label: Text{"30–39 tuổi", "30–39"}}, {Value: "40_49", Label: Text{"40–49 tuổi", "40–49"}}, {Value: "50_59", Label: Text{"50–59 tuổi", "50–59"}}, {Value: "60_plus", Label: Text{"Từ 60 tuổi trở lên", "60 or older"}}}
)

// FieldError is one problem with one field of a submission, worded for the
// resident in both languages.
type FieldError struct {
	Field   string `json:"field"`
	Message Text   `json:"message"`
}

// ValidationError lists every problem found in a submission; nothing of a
// submission with a ValidationError is stored.
type ValidationError struct {
	Errors []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Field + ": " + fe.Message.En
	}
	return "invalid submission: " + strings.Join(parts, "; ")
}

// Invalid returns a ValidationError for a single field.
func Invalid(field string, vi, en string) *ValidationError {
	return &ValidationError{Errors: []FieldError{{Field: field, Message: Text{vi, en}}}}
}

// Visit is a validated submission: the modules shown and the answers given.
type Visit struct {
	Modules  []string
	Answers  Answers
	Sex      string
	AgeGroup string
	// Channel is how the answers arrived (ChannelQR when empty).
	Channel string
	// Residence is where the respondent lives relative to the commune of
	// the centre visited (ResidenceHere, ResidenceOther with
	// ResidenceCommune, ResidenceOutside); empty when the questionnaire did
	// not ask (2025.1).
	Residence        string
	ResidenceCommune string
	// Probs are the probabilities with which the visit's rotating modules
	// were assigned, by module id; a module not listed was certain (core,
	// the full questionnaire).
	Probs map[string]float64
}

// Channels through which answers arrive.
const (
	// ChannelQR is a resident's own phone after scanning the poster.
	ChannelQR = "qr"
	// ChannelKiosk is the centre's tablet at the counter.
	ChannelKiosk = "kiosk"
	// ChannelHousehold is a face-to-face household interview (ODK/Kobo).
	ChannelHousehold = "household"
)

// Channels lists every channel, in the order outputs show them.
var Channels = []string{ChannelQR, ChannelKiosk, ChannelHousehold}

// Residence answers (question c_residence from catalogue 2025.2).
const (
	ResidenceHere    = "here"
	ResidenceOther   = "other"
	ResidenceOutside = "outside"
)

// The questions that say where the respondent lives (from catalogue 2025.2):
// ValidateSubmission copies their answers into Visit.Residence and
// Visit.ResidenceCommune.
const (
	ResidenceQuestion        = "c_residence"
	ResidenceCommuneQuestion = "c_residence_commune"
)

// ValidateSubmission checks a submission against this questionnaire: known
// modules and questions, answer types and option values (a commune answer
// must be one of the city's commune codes), bounds, required answers, and
// skip logic (no answer to a question that its show_if or its module's
// show_if hides). It returns the normalised visit, with the residence taken
// from the answers, or a *ValidationError listing every problem.
func (c *Catalogue) ValidateSubmission(sub Submission) (Visit, error) {
	var errs []FieldError
	fail := func(field, vi, en string) { errs = append(errs, FieldError{field, Text{vi, en}}) }

	r := c.newResponse()
	defer r.release()
	ok := c.modulesFor(sub, r, fail)
	answers := make(Answers, len(sub.Answers))
	if ok {
		for id, raw := range sub.Answers {
			i, known := c.ix.question[id]
			if !known {
				fail("answers."+id, "Câu hỏi không có trong bảng hỏi này.", "This question is not part of this questionnaire.")
				continue
			}
			if !r.asked[c.ix.qModule[i]] {
				fail("answers."+id, "Câu hỏi này không được hỏi trong lượt trả lời này.", "This question was not asked in this visit.")
				continue
			}
			v, present, msg := c.decode(i, raw)
			if msg != nil {
				fail("answers."+id, msg.Vi, msg.En)
				continue
			}
			if present {
				answers[id] = v
				r.set(i, v)
			}
		}
	}
	if ok && len(errs) == 0 {
		for i := range c.Questions {
			q := &c.Questions[i]
			by := r.decide(i)
			answered := r.vals[i].present
			switch {
			case answered && !r.shown[i]:
				if by != "" {
					fail("answers."+q.ID, fmt.Sprintf("Không cần trả lời câu này vì câu trả lời cho câu %q.", by),
						fmt.Sprintf("This question does not apply given the answer to %q; leave it blank.", by))
				} else {
					fail("answers."+q.ID, "Câu hỏi này không được hỏi trong lượt trả lời này.", "This question was not asked in this visit.")
				}
			case !answered && r.shown[i] && q.Required:
				fail("answers."+q.ID, "Vui lòng trả lời câu hỏi này.", "Please answer this question.")
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
	v := Visit{Modules: r.moduleIDs(), Answers: answers, Sex: sub.Sex, AgeGroup: sub.AgeGroup}
	if r, ok := answers[ResidenceQuestion].(string); ok {
		v.Residence = r
		if r == ResidenceOther {
			v.ResidenceCommune, _ = answers[ResidenceCommuneQuestion].(string)
		}
	}
	return v, nil
}

// modulesFor resolves the modules of a submission into r: the ones the form
// listed, or, when it listed none, the modules of the questions answered;
// the modules that do not rotate are always part of a visit.
func (c *Catalogue) modulesFor(sub Submission, r *response, fail func(field, vi, en string)) bool {
	if len(sub.Modules) == 0 {
		for id := range sub.Answers {
			if i, ok := c.ix.question[id]; ok {
				r.asked[c.ix.qModule[i]] = true
			}
		}
		return true
	}
	ok := true
	for _, m := range sub.Modules {
		if !r.ask(m) {
			fail("modules", fmt.Sprintf("Phần hỏi %q không có trong bảng hỏi này.", m), fmt.Sprintf("Module %q is not part of this questionnaire.", m))
			ok = false
		}
	}
	return ok
}

// ValidateModules checks the module list that a form sent with its
// answers: known modules, and a set a form can ask, that is the modules that
// do not rotate plus exactly one rotating module (AssignModules) or every
// module (the full form, AllModules). The estimates weight each rotating
// module by the share of visits that asked it, so a visit listing two
// rotating modules, or none, would be miscounted. An empty list is left to
// ValidateSubmission, which then takes the modules from the answers.
func (c *Catalogue) ValidateModules(ids []string) error {
	set := c.moduleSet(nil)
	for _, m := range ids {
		if _, known := c.modules[m]; !known {
			return Invalid("modules", fmt.Sprintf("Phần hỏi %q không có trong bảng hỏi này.", m), fmt.Sprintf("Module %q is not part of this questionnaire.", m))
		}
		set[m] = true
	}
	rot := c.RotatingModules()
	if len(ids) == 0 || len(rot) == 0 {
		return nil
	}
	asked := 0
	for _, m := range rot {
		if set[m] {
			asked++
		}
	}
	if asked == 1 || asked == len(rot) {
		return nil
	}
	list := strings.Join(rot, ", ")
	return Invalid("modules",
		fmt.Sprintf("Mỗi lượt trả lời gồm phần chung và đúng một phần hỏi luân phiên (%s), hoặc toàn bộ bảng hỏi; biểu mẫu gửi %d phần luân phiên. Vui lòng tải lại trang.", list, asked),
		fmt.Sprintf("A visit asks the core and exactly one rotating module (%s), or the whole questionnaire; this form sent %d rotating modules. Reload the form.", list, asked))
}

// Shown reports whether the question with this id was on a visit's form:
// its module was asked, and its module's show_if and its own show_if hold
// (and, recursively, the questions they depend on were shown).
func (c *Catalogue) Shown(id string, v Visit) bool {
	i, ok := c.ix.question[id]
	if !ok {
		return false
	}
	r := c.responseTo(v)
	defer r.release()
	return r.shown[i]
}

// moduleSet is the set of modules a visit asks: ids plus every module that
// does not rotate.
func (c *Catalogue) moduleSet(ids []string) map[string]bool {
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

// answerStrings gives the values an answer compares by in conditions.
func answerStrings(v any) []string {
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

var (
	// Long digit runs (phone or ID numbers) and e-mail addresses are removed
	// from free text: residents are anonymous and the text is shown to staff.
	// Vietnamese phone and ID numbers start with 0 or +84; amounts and dates
	// ("1.500.000 đồng", "12.03.2025") are left alone.
	phoneLike = regexp.MustCompile(`(?:\+84[ .\-]?|\b0)\d(?:[ .\-]?\d){7,10}`)
	emailLike = regexp.MustCompile(`[^\s@]+@[^\s@]+\.[^\s@]+`)
)

// redact removes contact details a resident may have typed into free text.
func redact(s string) string {
	// The expressions cannot match without eight digits or an @; most
	// comments have neither, and matching costs more than counting.
	if digits(s) >= 8 {
		s = phoneLike.ReplaceAllString(s, "[…]")
	}
	if strings.IndexByte(s, '@') >= 0 {
		s = emailLike.ReplaceAllString(s, "[…]")
	}
	return s
}

func digits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// decode turns one raw JSON answer to the question at position i into its
// normalised value. present is false for null and for blank text, which
// count as not answered.
func (c *Catalogue) decode(i int, raw json.RawMessage) (v any, present bool, msg *Text) {
	q := &c.Questions[i]
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, false, nil
	}
	switch q.Type {
	case CommuneChoice:
		s, err := plainOrUnmarshal(raw)
		if err != nil {
			return nil, false, &Text{"Cần chọn một xã, phường, đặc khu trong danh sách.", "Choose a commune from the list (its code as a string)."}
		}
		if !c.communes[s] {
			return nil, false, &Text{fmt.Sprintf("Mã %q không phải là mã của một trong 168 xã, phường, đặc khu của Thành phố; vui lòng chọn lại trong danh sách.", s),
				fmt.Sprintf("%q is not the code of one of the city's 168 communes; choose one from the list.", s)}
		}
		return s, true, nil
	case SingleChoice:
		if v, plain := plainString(raw); plain {
			if k := q.optionIndex(v); k >= 0 {
				return c.ix.options[i][k], true, nil
			}
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false, &Text{"Cần chọn một phương án.", "Choose one option (a string value)."}
		}
		if !q.accepts(s) {
			return nil, false, &Text{fmt.Sprintf("Phương án %q không có trong câu hỏi này.", s), fmt.Sprintf("%q is not one of this question's options.", s)}
		}
		return s, true, nil
	case MultipleChoice:
		list, plain := q.optionList(raw)
		if !plain && json.Unmarshal(raw, &list) != nil {
			return nil, false, &Text{"Cần một danh sách các phương án đã chọn.", "Send the chosen options as a list of strings."}
		}
		if len(list) == 0 {
			return nil, false, nil
		}
		exclusive := false
		for k, s := range list {
			o := q.option([]byte(s))
			if o == nil {
				return nil, false, &Text{fmt.Sprintf("Phương án %q không có trong câu hỏi này.", s), fmt.Sprintf("%q is not one of this question's options.", s)}
			}
			if slices.Contains(list[:k], s) {
				return nil, false, &Text{fmt.Sprintf("Phương án %q được chọn hai lần.", s), fmt.Sprintf("%q is chosen twice.", s)}
			}
			exclusive = exclusive || o.Exclusive
		}
		if exclusive && len(list) > 1 {
			return nil, false, &Text{"Phương án “không có” không thể chọn cùng các phương án khác.", "A “none” option cannot be chosen together with other options."}
		}
		sort.Strings(list) // list is decode's own
		return list, true, nil
	case Number, ScaleQuestion:
		n, err := parseNumber(raw)
		if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
			return nil, false, &Text{"Cần nhập một con số.", "Enter a number."}
		}
		if n == 0 {
			n = 0 // no negative zero: answers compare by their decimal form
		}
		if q.Type == ScaleQuestion && (n != math.Trunc(n) || len(q.Options) > 0 && !q.accepts(numberText(n))) {
			return nil, false, &Text{"Cần chọn một mức trên thang điểm.", "Choose one of the points of the scale."}
		}
		if (q.Min != nil && n < *q.Min) || (q.Max != nil && n > *q.Max) {
			return nil, false, &Text{fmt.Sprintf("Giá trị phải từ %s đến %s.", fmtBound(q.Min), fmtBound(q.Max)), fmt.Sprintf("The value must be between %s and %s.", fmtBound(q.Min), fmtBound(q.Max))}
		}
		return n, true, nil
	case ShortText:
		s, err := plainOrUnmarshal(raw)
		if err != nil {
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

// plainOrUnmarshal decodes a JSON string, by hand when it is plain.
func plainOrUnmarshal(raw []byte) (string, error) {
	if v, plain := plainString(raw); plain {
		return string(v), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

// FormatNumber writes a number as conditions compare it: decimal, no
// exponent, no trailing zeros.
func FormatNumber(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func fmtBound(b *float64) string {
	if b == nil {
		return "…"
	}
	return FormatNumber(*b)
}

func hasOption(opts []Option, v string) bool {
	return slices.ContainsFunc(opts, func(o Option) bool { return o.Value == v })
}

// ParseAnswers re-reads stored answers (JSON written from a validated Visit)
// into their normalised types; used to rebuild aggregates from raw responses.
func ParseAnswers(data []byte) (Answers, error) {
	if a, ok := parsePlainAnswers(data); ok {
		return a, nil
	}
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
