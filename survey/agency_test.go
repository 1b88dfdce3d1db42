package survey

import (
	"slices"
	"strings"
	"testing"
)

// splitAgencies cuts an agency cell of the plan into the agency names it
// lists. The plan separates names with commas, semicolons and dashes, but
// names contain commas too ("các cơ quan Báo, Đài của Thành phố"), so the
// cell is read as a sequence of known names, longest first: whatever no
// known name covers is returned as rest.
func splitAgencies(cell string) (names []string, rest string) {
	cell = indicatorMarker.ReplaceAllString(cell, " ")
	words := strings.Fields(normaliseAgency(cell))
	idx := agencyIndex()
	for i := 0; i < len(words); {
		k := len(words) - i
		for ; k > 0; k-- {
			if _, ok := idx[strings.Join(words[i:i+k], " ")]; ok {
				break
			}
		}
		if k == 0 {
			return names, strings.Join(words[i:], " ")
		}
		names = append(names, strings.Join(words[i:i+k], " "))
		i += k
	}
	return names, ""
}

// TestAgenciesCoverPlan reads every agency cell of the plan's appendix and
// every agency string of both catalogue files: each must map to one
// canonical agency, and every canonical agency must be named by the plan,
// directly or as a member of a group it names.
func TestAgenciesCoverPlan(t *testing.T) {
	used := map[string]bool{}
	use := func(a Agency) {
		used[a.ID] = true
		for _, m := range a.Members {
			used[m] = true
		}
	}
	cells := 0
	for _, d := range loadPlan(t) {
		for _, sd := range d.Subdimensions {
			for _, ind := range sd.Indicators {
				for _, cell := range ind.Cells {
					if strings.TrimSpace(cell) == "" {
						continue
					}
					cells++
					names, rest := splitAgencies(cell)
					if rest != "" {
						t.Errorf("plan cell %q: %q is no known agency", cell, rest)
					}
					for _, n := range names {
						a, ok := AgencyOf(n)
						if !ok {
							t.Fatalf("AgencyOf(%q): not found", n)
						}
						use(a)
					}
				}
			}
		}
	}
	if cells < 300 {
		t.Errorf("read %d agency cells of the plan, want every indicator's (over 300)", cells)
	}
	for _, v := range planVersions {
		for _, ind := range MustCatalogue(t, v).Indicators() {
			for _, list := range [][]string{ind.Agencies.Implementing, ind.Agencies.Lead, ind.Agencies.Coordinating} {
				for _, name := range list {
					a, ok := AgencyOf(name)
					if !ok {
						t.Errorf("%s %s: agency %q maps to no canonical agency", v, ind.ID, name)
						continue
					}
					if names, rest := splitAgencies(name); len(names) != 1 || rest != "" {
						t.Errorf("%s %s: agency %q reads as %q + %q, want exactly one agency", v, ind.ID, name, names, rest)
					}
					use(a)
				}
			}
		}
	}
	for _, a := range PlanAgencies() {
		if !used[a.ID] {
			t.Errorf("agency %s (%s) is named nowhere in the plan", a.ID, a.Name.Vi)
		}
	}
}

// TestAgenciesDistinct checks the canonical list itself: unique ids, names
// in both languages, no spelling shared by two agencies (which would make
// them one body), and groups whose members are single listed bodies.
func TestAgenciesDistinct(t *testing.T) {
	list := PlanAgencies()
	ids := map[string]Agency{}
	for _, a := range list {
		if _, dup := ids[a.ID]; dup || a.ID == "" {
			t.Errorf("agency id %q: empty or listed twice", a.ID)
		}
		ids[a.ID] = a
		if a.Name.Vi == "" || a.Name.En == "" {
			t.Errorf("agency %s: name needs Vietnamese and English", a.ID)
		}
	}
	owner := map[string]string{}
	for _, a := range list {
		for _, name := range append([]string{a.Name.Vi}, a.Aliases...) {
			n := normaliseAgency(name)
			if prev, taken := owner[n]; taken && prev != a.ID {
				t.Errorf("spelling %q belongs to both %s and %s", name, prev, a.ID)
			}
			owner[n] = a.ID
		}
		for _, m := range a.Members {
			member, ok := ids[m]
			switch {
			case !ok:
				t.Errorf("agency %s: member %q is not listed", a.ID, m)
			case m == a.ID || len(member.Members) > 0:
				t.Errorf("agency %s: member %q must be a single body other than itself", a.ID, m)
			}
		}
	}
}

func TestAgencyOf(t *testing.T) {
	for _, tc := range []struct {
		name   string
		wantID string // "" for no agency
	}{
		// The spellings the follow-up used to split (issue 8).
		{"Viện Kiểm sát nhân dân Thành phố", "vien-kiem-sat"},
		{"Viện kiểm sát nhân dân Thành phố", "vien-kiem-sat"},
		{"VPUBND TP", "vp-ubnd-tp"},
		{"Văn phòng UBND Thành phố", "vp-ubnd-tp"},
		{"cấp xã", "ubnd-xa"},
		{"UBND cấp xã", "ubnd-xa"},
		// Case, spacing, punctuation and tone placement.
		{"  ubnd   CẤP XÃ. ", "ubnd-xa"},
		{"- Sở Y tế,", "so-y-te"},
		{"Toà án nhân dân Thành phố", "toa-an"},
		{"Đề nghị UBMTTQVN TP phối hợp", "ubmttq-tp"},
		{"Sở Nông nghiệp Môi trường", "so-nong-nghiep-moi-truong"},
		// Not agencies of the plan.
		{"Bộ Công an", ""},
		{"", ""},
		{"Sở", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := AgencyOf(tc.name)
			if ok != (tc.wantID != "") || a.ID != tc.wantID {
				t.Errorf("got %q (found %v), want %q", a.ID, ok, tc.wantID)
			}
		})
	}
	// The result is a copy: changing it leaves the list alone.
	a, _ := AgencyOf("Sở Tư pháp")
	a.Aliases[0] = "changed"
	if b, _ := AgencyOf("Sở Tư pháp"); slices.Contains(b.Aliases, "changed") {
		t.Error("AgencyOf returned the list's own slice")
	}
}
