package survey

import (
	"strings"
	"testing"
)

func TestRoleRights(t *testing.T) {
	admin := User{Role: RoleAdmin}
	dept := User{Role: RoleDepartment}
	commune := User{Role: RoleCommune, CommuneCode: "26740"}
	cityIssuer := User{Role: RoleIssuer}
	localIssuer := User{Role: RoleIssuer, CommuneCode: "26740"}
	for _, tc := range []struct {
		name                           string
		u                              User
		see, seeOther, city, issue     bool
		issueOther, run, runOther, mon bool
	}{
		{"admin", admin, true, true, true, true, true, true, true, false},
		{"department", dept, true, true, true, true, true, false, false, false},
		{"commune", commune, true, false, false, false, false, true, false, true},
		{"city-wide issuer", cityIssuer, false, false, false, true, true, false, false, false},
		{"commune issuer", localIssuer, false, false, false, true, false, false, false, false},
	} {
		got := []bool{tc.u.CanSeeCommune("26740"), tc.u.CanSeeCommune("25747"), tc.u.CanSeeCity(),
			tc.u.CanIssueReceipts("26740"), tc.u.CanIssueReceipts("25747"), tc.u.CanRunCentres("26740"), tc.u.CanRunCentres("25747"), tc.u.MonthsOnly()}
		want := []bool{tc.see, tc.seeOther, tc.city, tc.issue, tc.issueOther, tc.run, tc.runOther, tc.mon}
		names := []string{"see own", "see other", "city", "issue own", "issue other", "run own", "run other", "months only"}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s %s: got %v, want %v", tc.name, names[i], got[i], want[i])
			}
		}
	}
}

func TestUserValidate(t *testing.T) {
	for _, tc := range []struct {
		u     User
		field string
	}{
		{User{Email: " A@B.vn ", Role: RoleAdmin}, ""},
		{User{Email: "i@b.vn", Role: RoleIssuer}, ""},
		{User{Email: "i@b.vn", Role: RoleIssuer, CommuneCode: "26740"}, ""},
		{User{Email: "c@b.vn", Role: RoleCommune, CommuneCode: "26740"}, ""},
		{User{Email: "c@b.vn", Role: RoleCommune}, "commune_code"},
		{User{Email: "d@b.vn", Role: RoleDepartment, CommuneCode: "26740"}, "commune_code"},
		{User{Email: "Name <n@b.vn>", Role: RoleAdmin}, "email"},
		{User{Email: "n@b.vn", Role: "mayor"}, "role"},
	} {
		err := tc.u.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("%+v: got %v, want valid", tc.u, err)
			}
			continue
		}
		ve, ok := err.(*ValidationError)
		if !ok || ve.Errors[0].Field != tc.field || ve.Errors[0].Message.Vi == "" || strings.Contains(ve.Errors[0].Message.En, "--") {
			t.Errorf("%+v: got %v, want a bilingual error on %s without CLI flag names", tc.u, err, tc.field)
		}
	}
}

func TestPasswordBounds(t *testing.T) {
	for _, tc := range []struct {
		p  string
		ok bool
	}{
		{"1234567", false},
		{"12345678", true},
		{"mật khẩu", true}, // 8 characters, 11 bytes
		{strings.Repeat("a", 256), true},
		{strings.Repeat("a", 257), false},
		{strings.Repeat("ư", 128), true}, // 256 bytes
		{strings.Repeat("ư", 129), false},
	} {
		if err := ValidatePassword(tc.p); (err == nil) != tc.ok {
			t.Errorf("%d bytes: got %v, want ok=%v", len(tc.p), err, tc.ok)
		}
	}
	yes := true
	short := "short"
	for _, tc := range []struct {
		u  UserUpdate
		ok bool
	}{
		{UserUpdate{}, false},
		{UserUpdate{Disabled: &yes}, true},
		{UserUpdate{Password: &short}, false},
	} {
		if err := tc.u.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: got %v, want ok=%v", tc.u, err, tc.ok)
		}
	}
}

func TestClientFlags(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		want []string
	}{{0, []string{FlagUntimed}}, {-5, []string{FlagUntimed}}, {1, nil}, {120000, nil}} {
		if got := ClientFlags(tc.ms); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("ClientFlags(%d): got %v, want %v", tc.ms, got, tc.want)
		}
	}
}

// TestCapabilities checks that what the pages are told an account may do
// is what the server's own rules allow, commune by commune.
func TestCapabilities(t *testing.T) {
	accounts := []User{
		{Role: RoleAdmin}, {Role: RoleDepartment}, {Role: RoleCommune, CommuneCode: "26740"},
		{Role: RoleIssuer}, {Role: RoleIssuer, CommuneCode: "26740"},
	}
	allows := func(scope, code string) bool { return scope == "*" || scope != "" && scope == code }
	for _, u := range accounts {
		c := u.Capabilities()
		if c.City != u.CanSeeCity() || c.MonthsOnly != u.MonthsOnly() {
			t.Errorf("%s %s: got %+v", u.Role, u.CommuneCode, c)
		}
		for _, code := range []string{"26740", "25747", "00001"} {
			if allows(c.Receipts, code) != u.CanIssueReceipts(code) {
				t.Errorf("%s %s: receipts %q for %s, but CanIssueReceipts says %v", u.Role, u.CommuneCode, c.Receipts, code, u.CanIssueReceipts(code))
			}
			if allows(c.RunCentres, code) != u.CanRunCentres(code) {
				t.Errorf("%s %s: run_centres %q for %s, but CanRunCentres says %v", u.Role, u.CommuneCode, c.RunCentres, code, u.CanRunCentres(code))
			}
		}
	}
}
