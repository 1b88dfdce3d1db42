package api

import (
	"testing"
	"unicode/utf8"

	"github.com/papi-hcmc/papi/survey"
)

func TestFitWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Sở Nội vụ", "Sở Nội vụ"},
		{"Bảo hiểm xã hội Thành phố", "Bảo hiểm xã hội Thành phố"},
		{"Viện Kiểm sát nhân dân Thành phố", "Viện Kiểm sát nhân dân Thành"},
		{"Các sở, ban, ngành có liên quan đến việc này", "Các sở, ban, ngành có liên quan"},
		{"Sở Nông nghiệp và Môi trường, phòng", "Sở Nông nghiệp và Môi trường"},
		{"Mộttừrấtdàikhôngcókhoảngtrắngnàocả", "Mộttừrấtdàikhôngcókhoảngtrắngnà"},
	} {
		got := fitWords(tc.in, maxSheetName)
		if got != tc.want || utf8.RuneCountInString(got) > maxSheetName {
			t.Errorf("fitWords(%q): got %q (%d characters), want %q", tc.in, got, utf8.RuneCountInString(got), tc.want)
		}
	}
}

func TestSheetNamesUnique(t *testing.T) {
	d := document{tables: []table{{name: survey.Text{Vi: "Viện Kiểm sát nhân dân Thành phố"}, cols: []column{{vi: "a", width: 5}}},
		{name: survey.Text{Vi: "Viện Kiểm sát nhân dân Thành phố Hồ Chí Minh"}, cols: []column{{vi: "a", width: 5}}},
		{name: survey.Text{Vi: "Tổng: [a/b]?"}, cols: []column{{vi: "a", width: 5}}}}}
	f, err := d.xlsx(render{format: "xlsx"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := f.GetSheetList()
	want := []string{"Viện Kiểm sát nhân dân Thành", "Viện Kiểm sát nhân dân Thành 2", "Tổng- -a-b--"}
	if len(got) != len(want) {
		t.Fatalf("got sheets %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sheet %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestCSVCell(t *testing.T) {
	for _, tc := range []struct {
		r    render
		v    any
		want string
	}{
		{render{}, 28.0, "28"},
		{render{}, 27.5, "27.5"},
		{render{}, 6.123456, "6.1235"},
		{render{}, -0.00001, "0"},
		{render{comma: true}, 6.123456, "6,1235"},
		{render{comma: true}, share(0.8143), "0,8143"},
		{render{}, int64(1200), "1200"},
		{render{}, nil, ""},
		{render{en: true}, survey.Text{Vi: "Phường", En: "Ward"}, "Ward"},
		{render{}, survey.Text{Vi: "Phường", En: "Ward"}, "Phường"},
	} {
		if got := tc.r.csvCell(tc.v); got != tc.want {
			t.Errorf("csvCell(%v) with %+v: got %q, want %q", tc.v, tc.r, got, tc.want)
		}
	}
}
