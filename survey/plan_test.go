package survey

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// Every catalogue is the appendix (Phụ lục) of Kế hoạch 105/KH-UBND turned
// into data. These tests parse the published appendix text independently
// and compare it with each catalogue file, so a typo, a shifted indicator or
// a misassigned agency in the JSON makes them fail.

const (
	planCatalogueVersion = "2025.1"
	planFile             = "testdata/kh105-phuluc.txt"
)

// planVersions are the catalogue versions checked against the plan: every
// published one.
var planVersions = []string{"2025.1", "2025.2"}

// planIndicator is one chỉ tiêu of the appendix with the cells of its row.
type planIndicator struct {
	Num   int    // number within its sub-dimension, as printed
	Name  string // without numbering and trailing period
	Tasks string // "Nhiệm vụ và giải pháp" cell of its row
	// Cells are the implementing, lead and coordinating agency cells.
	Cells [3]string
}

type planSubdimension struct {
	Name       string
	Indicators []planIndicator
}

type planDimension struct {
	Name          string
	Subdimensions []planSubdimension
}

var numberedCell = regexp.MustCompile(`^(\d+)\.\s`)

// parsePlan reads the appendix table. Rows are ragged: a row starts with a
// dimension cell, a sub-dimension cell and an indicator cell when it opens a
// dimension, with a sub-dimension and an indicator cell when it opens a
// sub-dimension, or with the indicator cell alone when it continues one. The
// first cell that is not numbered is the tasks cell, followed by the agency
// cells. Rows without a numbered cell (title, header, blank separators) are
// skipped.
func parsePlan(text string) ([]planDimension, error) {
	var dims []planDimension
	for lineNo, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") || !strings.Contains(line, "|") {
			continue
		}
		cells := strings.Split(line, "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		i := 0
		for i < len(cells) && cells[i] == "" {
			i++
		}
		var numbered []string
		for i < len(cells) && numberedCell.MatchString(cells[i]) {
			numbered = append(numbered, cells[i])
			i++
		}
		if len(numbered) == 0 {
			continue
		}
		if i >= len(cells) || cells[i] == "" {
			return nil, fmt.Errorf("line %d: no tasks cell after the indicators", lineNo+1)
		}
		tasks := cells[i]
		var agencies [3]string
		for k := 0; k < 3 && i+1+k < len(cells); k++ {
			agencies[k] = cells[i+1+k]
		}
		switch len(numbered) {
		case 3:
			if n := leadingNumber(numbered[0]); n != len(dims)+1 {
				return nil, fmt.Errorf("line %d: dimension numbered %d, want %d", lineNo+1, n, len(dims)+1)
			}
			dims = append(dims, planDimension{Name: planName(numbered[0])})
			numbered = numbered[1:]
			fallthrough
		case 2:
			if len(dims) == 0 {
				return nil, fmt.Errorf("line %d: sub-dimension before any dimension", lineNo+1)
			}
			d := &dims[len(dims)-1]
			if n := leadingNumber(numbered[0]); n != len(d.Subdimensions)+1 {
				return nil, fmt.Errorf("line %d: sub-dimension numbered %d, want %d", lineNo+1, n, len(d.Subdimensions)+1)
			}
			d.Subdimensions = append(d.Subdimensions, planSubdimension{Name: planName(numbered[0])})
			numbered = numbered[1:]
		case 1:
		default:
			return nil, fmt.Errorf("line %d: %d numbered cells before the tasks", lineNo+1, len(numbered))
		}
		if len(dims) == 0 || len(dims[len(dims)-1].Subdimensions) == 0 {
			return nil, fmt.Errorf("line %d: indicators before any sub-dimension", lineNo+1)
		}
		d := &dims[len(dims)-1]
		sd := &d.Subdimensions[len(d.Subdimensions)-1]
		first := len(sd.Indicators) + 1
		if n := leadingNumber(numbered[0]); n != first {
			return nil, fmt.Errorf("line %d: indicator numbered %d, want %d", lineNo+1, n, first)
		}
		for k, part := range splitNumbered(numbered[0], first) {
			sd.Indicators = append(sd.Indicators, planIndicator{
				Num: first + k, Name: planName(part), Tasks: tasks, Cells: agencies,
			})
		}
	}
	return dims, nil
}

func leadingNumber(cell string) int {
	m := numberedCell.FindStringSubmatch(cell)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// splitNumbered splits a cell holding "1. … 2. … 3. …" into its items. It
// only splits at the next expected number preceded by a space, so "1-4",
// "3 năm" or "4 loại" inside an item are left alone.
func splitNumbered(cell string, first int) []string {
	var parts []string
	start := 0
	for n := first + 1; ; n++ {
		marker := " " + strconv.Itoa(n) + ". "
		k := strings.Index(cell[start:], marker)
		if k < 0 {
			break
		}
		parts = append(parts, cell[start:start+k])
		start += k + 1
	}
	return append(parts, cell[start:])
}

// planName strips the numbering, the trailing period and spaces.
func planName(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(numberedCell.ReplaceAllString(s, ""))
	s = strings.TrimSuffix(s, ".")
	return strings.TrimSpace(s)
}

// canonicalAgencies fixes the one agency typo of the plan ("Sở Nông nghiệp
// Môi trường" is Sở Nông nghiệp và Môi trường).
func canonicalAgencies(cell string) string {
	return strings.ReplaceAll(cell, "Sở Nông nghiệp Môi trường", "Sở Nông nghiệp và Môi trường")
}

var indicatorMarker = regexp.MustCompile(`\(chỉ tiêu\s*(?:từ\s*)?([0-9][0-9,\s\-–]*)\)`)

// agencyText returns the part of an agency cell that concerns indicator num:
// the whole cell, or, when the cell assigns bodies per indicator ("X (chỉ tiêu
// 1,2) - Y (chỉ tiêu 3)"), the text before the marker that lists num.
func agencyText(cell string, num int) (string, error) {
	cell = canonicalAgencies(cell)
	marks := indicatorMarker.FindAllStringSubmatchIndex(cell, -1)
	if marks == nil {
		return cell, nil
	}
	prev := 0
	for _, m := range marks {
		segment := cell[prev:m[0]]
		prev = m[1]
		nums, err := markerNumbers(cell[m[2]:m[3]])
		if err != nil {
			return "", err
		}
		if nums[num] {
			return segment, nil
		}
	}
	return "", fmt.Errorf("no agency in %q is marked for indicator %d", cell, num)
}

// markerNumbers reads "1,2", "5" or "1-4" into a set of indicator numbers.
func markerNumbers(s string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, piece := range strings.Split(s, ",") {
		piece = strings.TrimSpace(piece)
		if piece == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(strings.ReplaceAll(piece, "–", "-"), "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("marker %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("marker %q: %w", s, err)
			}
		}
		for n := a; n <= b; n++ {
			out[n] = true
		}
	}
	return out, nil
}

// leftover removes each agency (longest first, once) from text and returns
// what remains apart from separators; it is empty when the agencies cover
// the cell.
func leftover(text string, agencies []string) string {
	sorted := append([]string(nil), agencies...)
	sort.Slice(sorted, func(i, j int) bool { return len(sorted[i]) > len(sorted[j]) })
	for _, a := range sorted {
		text = strings.Replace(text, a, " ", 1)
	}
	return strings.TrimFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func loadPlan(t *testing.T) []planDimension {
	t.Helper()
	data, err := os.ReadFile(planFile)
	if err != nil {
		t.Fatal(err)
	}
	dims, err := parsePlan(string(data))
	if err != nil {
		t.Fatalf("parse %s: %v", planFile, err)
	}
	return dims
}

func loadPlanCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	return MustCatalogue(t, planCatalogueVersion)
}

// MustCatalogue returns the embedded catalogue of version v.
func MustCatalogue(t testing.TB, v string) *Catalogue {
	t.Helper()
	cs, err := Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Version == v {
			return c
		}
	}
	t.Fatalf("catalogue %s not found", v)
	return nil
}

func TestCatalogueMatchesPlan(t *testing.T) {
	plan := loadPlan(t)
	for _, v := range planVersions {
		t.Run(v, func(t *testing.T) { checkCatalogueAgainstPlan(t, plan, MustCatalogue(t, v)) })
	}
}

func checkCatalogueAgainstPlan(t *testing.T, plan []planDimension, c *Catalogue) {

	nSub, nInd := 0, 0
	for _, d := range plan {
		nSub += len(d.Subdimensions)
		for _, sd := range d.Subdimensions {
			nInd += len(sd.Indicators)
		}
	}
	for _, tc := range []struct {
		what      string
		got, want int
	}{
		{"plan dimensions", len(plan), 8},
		{"plan sub-dimensions", nSub, 28},
		{"plan indicators", nInd, 118},
		{"catalogue dimensions", len(c.Dimensions), len(plan)},
		{"catalogue indicators", len(c.Indicators()), nInd},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.what, tc.got, tc.want)
		}
	}

	for di, pd := range plan {
		id := fmt.Sprintf("D%d", di+1)
		t.Run(id, func(t *testing.T) {
			if di >= len(c.Dimensions) {
				t.Fatalf("dimension missing from the catalogue")
			}
			d := c.Dimensions[di]
			if d.Name.Vi != pd.Name {
				t.Errorf("name: got %q, want %q", d.Name.Vi, pd.Name)
			}
			if len(d.Subdimensions) != len(pd.Subdimensions) {
				t.Fatalf("sub-dimensions: got %d, want %d", len(d.Subdimensions), len(pd.Subdimensions))
			}
			for si, psd := range pd.Subdimensions {
				sd := d.Subdimensions[si]
				t.Run(sd.ID, func(t *testing.T) {
					if sd.Name.Vi != psd.Name {
						t.Errorf("name: got %q, want %q", sd.Name.Vi, psd.Name)
					}
					if len(sd.Indicators) != len(psd.Indicators) {
						t.Fatalf("indicators: got %d, want %d", len(sd.Indicators), len(psd.Indicators))
					}
					for ii, pind := range psd.Indicators {
						ind := sd.Indicators[ii]
						t.Run(ind.ID, func(t *testing.T) {
							checkIndicatorAgainstPlan(t, ind, pind)
						})
					}
				})
			}
		})
	}
}

func checkIndicatorAgainstPlan(t *testing.T, ind Indicator, p planIndicator) {
	if want := fmt.Sprintf("%d", p.Num); !strings.HasSuffix(ind.ID, "."+want) {
		t.Errorf("id: got %q, want it to end in .%s", ind.ID, want)
	}
	if ind.Name.Vi != p.Name {
		t.Errorf("name: got %q, want %q", ind.Name.Vi, p.Name)
	}
	if ind.Tasks != p.Tasks {
		t.Errorf("tasks: got %.80q…, want %.80q…", ind.Tasks, p.Tasks)
	}
	roles := []struct {
		role string
		got  []string
	}{
		{"implementing", ind.Agencies.Implementing},
		{"lead", ind.Agencies.Lead},
		{"coordinating", ind.Agencies.Coordinating},
	}
	for k, r := range roles {
		text, err := agencyText(p.Cells[k], p.Num)
		if err != nil {
			t.Errorf("%s: %v", r.role, err)
			continue
		}
		hasText := strings.IndexFunc(text, unicode.IsLetter) >= 0
		switch {
		case hasText && len(r.got) == 0:
			t.Errorf("%s: got no agency, want the agencies of %q", r.role, text)
		case !hasText && len(r.got) > 0:
			t.Errorf("%s: got %q, want none (the plan cell is empty)", r.role, r.got)
		}
		for _, a := range r.got {
			if a == "" || a != strings.TrimSpace(a) {
				t.Errorf("%s: got agency %q, want a trimmed non-empty name", r.role, a)
			} else if !strings.Contains(text, a) {
				t.Errorf("%s: got agency %q, want one named in the plan's %q", r.role, a, text)
			}
		}
		if rest := leftover(text, r.got); rest != "" {
			t.Errorf("%s: got %q, want it to cover the plan's %q (left over: %q)", r.role, r.got, text, rest)
		}
	}
}

// awareness lists the 2025.2 indicators whose "Không biết" is the finding
// (the information did not reach the resident): it counts as not aware,
// in the denominator, instead of being excluded (catalogue review X2).
var awareness = []string{"D1.1.1", "D2.2.1", "D2.3.1", "D6.1.4", "D6.1.5", "D8.3.3"}

func TestCatalogueCounts(t *testing.T) {
	for _, v := range planVersions {
		t.Run(v, func(t *testing.T) { checkCounts(t, MustCatalogue(t, v)) })
	}
}

func checkCounts(t *testing.T, c *Catalogue) {
	subs := 0
	for _, d := range c.Dimensions {
		subs += len(d.Subdimensions)
	}
	inds := c.Indicators()
	for _, tc := range []struct {
		what      string
		got, want int
	}{
		{"dimensions", len(c.Dimensions), 8},
		{"sub-dimensions", subs, 28},
		{"indicators", len(inds), 118},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: got %d, want %d", tc.what, tc.got, tc.want)
		}
	}
	for _, ind := range inds {
		t.Run(ind.ID, func(t *testing.T) {
			for _, id := range ind.Rule.Questions() {
				q, ok := c.Question(id)
				if !ok {
					t.Fatalf("rule question: got %q, want an existing question", id)
				}
				if ind.Rule.AppliesIf != nil {
					dep, ok := c.Question(ind.Rule.AppliesIf.Question)
					if !ok {
						t.Errorf("applies_if question: got %q, want an existing question", ind.Rule.AppliesIf.Question)
					} else if m, _ := c.Module(dep.Module); dep.Module != q.Module && m.Rotating {
						// A condition on another rotating module never holds on the
						// same visit, so the indicator would never be measured.
						t.Errorf("applies_if module: got %q, want %q or a module asked at every visit", dep.Module, q.Module)
					}
				}
				checkDontKnow(t, c, ind, q)
			}
		})
	}
}

// checkDontKnow checks how a rule treats "don't know" and refusals: 2025.1
// has one merged code, always excluded; from 2025.2 a refusal is always
// excluded and "Không biết" too, except in the awareness indicators, where
// it must stay in the denominator.
func checkDontKnow(t *testing.T, c *Catalogue, ind *Indicator, q *Question) {
	excluded := func(v string) bool { return slices.Contains(ind.Rule.Exclude, v) }
	if c.Version == "2025.1" {
		if q.accepts("dk") && !excluded("dk") {
			t.Errorf("exclude: got %q, want it to include \"dk\" (don't know leaves the denominator)", ind.Rule.Exclude)
		}
		return
	}
	if q.accepts("refuse") && !excluded("refuse") {
		t.Errorf("exclude: got %q, want it to include \"refuse\" (a refusal is missing data)", ind.Rule.Exclude)
	}
	aware := slices.Contains(awareness, ind.ID)
	switch {
	case aware && (!q.accepts("dk") || excluded("dk")):
		t.Errorf("%s is an awareness indicator: got exclude %q, want \"dk\" offered and counted as not aware", ind.ID, ind.Rule.Exclude)
	case !aware && q.accepts("dk") && !excluded("dk"):
		t.Errorf("exclude: got %q, want it to include \"dk\"", ind.Rule.Exclude)
	}
	for _, o := range q.Options {
		if o.Value == "dk" && strings.Contains(o.Label.Vi, "Không muốn trả lời") {
			t.Errorf("option dk of %s: got %q, want don't know and refusal as two options", q.ID, o.Label.Vi)
		}
	}
}

// TestCatalogueModules checks the module layout the rotation relies on and
// that question ids are prefixed by their module: "c_" for the modules
// asked at every visit, the module's dimension ("d2_" for d2a and d2b)
// otherwise.
func TestCatalogueModules(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    []string
	}{
		{"2025.1", []string{"core", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"}},
		{"2025.2", []string{"core", "d1", "d2a", "d2b", "d3", "d4", "d5", "d6a", "d6b", "d6c", "d7", "d8", "end"}},
	} {
		t.Run(tc.version, func(t *testing.T) {
			c := MustCatalogue(t, tc.version)
			var got []string
			for _, m := range c.Modules {
				got = append(got, m.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("modules: got %v, want %v", got, tc.want)
			}
			for _, q := range c.Questions {
				m, _ := c.Module(q.Module)
				prefix := strings.TrimRight(q.Module, "abc") + "_"
				if !m.Rotating {
					prefix = "c_"
				}
				if !strings.HasPrefix(q.ID, prefix) {
					t.Errorf("question %s: got module %q, want the id to start with %q", q.ID, q.Module, prefix)
				}
			}
		})
	}
}
