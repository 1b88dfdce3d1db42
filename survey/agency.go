package survey

import (
	"slices"
	"strings"
	"sync"
	"unicode"
)

// Agency is one body the plan (Kế hoạch 105/KH-UBND) makes responsible for
// indicators, or one group of bodies it names together as a single
// assignee (e.g. "HĐND, UBMTTQVN và các tổ chức chính trị - xã hội cấp
// xã"). The catalogue files keep the plan's own spellings; AgencyOf maps
// each of them to one Agency, so that the follow-up names every agency once.
type Agency struct {
	// ID is a short stable identifier, e.g. "so-noi-vu".
	ID   string `json:"id"`
	Name Text   `json:"name"`
	// Aliases are the other spellings of the name found in the plan and
	// the catalogues (case, punctuation and spacing aside, which AgencyOf
	// ignores anyway).
	Aliases []string `json:"aliases,omitempty"`
	// Members are, for a group named together, the ids of the single bodies
	// in it, so that a body's follow-up sheet can also list the items it
	// shares with others.
	Members []string `json:"members,omitempty"`
}

// planAgencies is the canonical list. Parenthetical notes the plan adds to a
// body's name ("(đơn vị thường trực …)", "(hướng dẫn hòa giải …)") and its
// courtesy formula for bodies it cannot instruct ("Đề nghị … phối hợp") are
// aliases of that body. Entries without aliases in the plan that serve only
// as members (hdnd-tp, hdnd-xa, ubmttq-xa) are named by the plan only inside
// groups.
var planAgencies = []Agency{
	{ID: "ubnd-xa", Name: Text{"UBND cấp xã", "Commune-level People's Committees"},
		Aliases: []string{"cấp xã", "Ủy ban nhân dân cấp xã", "UBND xã, phường, đặc khu"}},
	{ID: "vp-ubnd-tp", Name: Text{"Văn phòng UBND Thành phố", "Office of the City People's Committee"},
		Aliases: []string{"VPUBND TP", "Văn phòng Ủy ban nhân dân Thành phố"}},
	{ID: "so-noi-vu", Name: Text{"Sở Nội vụ", "Department of Home Affairs"}},
	{ID: "so-tu-phap", Name: Text{"Sở Tư pháp", "Department of Justice"},
		Aliases: []string{"Sở Tư pháp (đơn vị thường trực Hội đồng phối hợp phổ biến, giáo dục pháp luật)"}},
	{ID: "so-tai-chinh", Name: Text{"Sở Tài chính", "Department of Finance"}},
	{ID: "so-xay-dung", Name: Text{"Sở Xây dựng", "Department of Construction"}},
	{ID: "so-nong-nghiep-moi-truong", Name: Text{"Sở Nông nghiệp và Môi trường", "Department of Agriculture and Environment"},
		Aliases: []string{"Sở Nông nghiệp Môi trường", "Sở Nông nghiệp và Môi trường (hướng dẫn hòa giải tranh chấp đất đai)"}},
	{ID: "so-y-te", Name: Text{"Sở Y tế", "Department of Health"}},
	{ID: "so-giao-duc", Name: Text{"Sở Giáo dục và Đào tạo", "Department of Education and Training"}},
	{ID: "so-cong-thuong", Name: Text{"Sở Công Thương", "Department of Industry and Trade"}},
	{ID: "so-khoa-hoc", Name: Text{"Sở Khoa học và Công nghệ", "Department of Science and Technology"}},
	{ID: "so-van-hoa", Name: Text{"Sở Văn hóa và Thể thao", "Department of Culture and Sports"}},
	{ID: "so-dan-toc-ton-giao", Name: Text{"Sở Dân tộc và Tôn giáo", "Department of Ethnic and Religious Affairs"},
		Aliases: []string{"Sở Dân tộc và Tôn giáo và các cơ quan (theo chức năng nhiệm vụ được giao)"}},
	{ID: "so-nganh", Name: Text{"Các sở, ban, ngành có liên quan", "The city's departments and agencies concerned"},
		Aliases: []string{"Các sở, ban, ngành", "Các sở, ngành", "Các sở, ngành có liên quan"}},
	{ID: "thanh-tra", Name: Text{"Thanh tra Thành phố", "City Inspectorate"}},
	{ID: "cong-an", Name: Text{"Công an Thành phố", "City Police"}},
	{ID: "toa-an", Name: Text{"Tòa án nhân dân Thành phố", "City People's Court"}},
	{ID: "vien-kiem-sat", Name: Text{"Viện Kiểm sát nhân dân Thành phố", "City People's Procuracy"}},
	{ID: "bhxh", Name: Text{"Bảo hiểm xã hội Thành phố", "City Social Insurance"}},
	{ID: "vp-dang-ky-dat-dai", Name: Text{"Văn phòng đăng ký đất đai Thành phố", "City Land Registration Office"}},
	// The branches are the office's local units, which the plan makes
	// implement the land indicators at the commune level.
	{ID: "cn-vp-dang-ky-dat-dai", Name: Text{"Chi nhánh Văn phòng đăng ký đất đai", "Branches of the Land Registration Office"}},
	{ID: "ban-quan-ly-kcx-kcn", Name: Text{"Ban Quản lý các khu Chế xuất và Công nghiệp", "Management Board of Export Processing and Industrial Zones"}},
	{ID: "dien-luc", Name: Text{"Công ty điện lực Thành phố", "City Power Corporation"}},
	{ID: "co-so-kham-chua-benh", Name: Text{"Các cơ sở khám chữa bệnh công lập", "Public health-care facilities"},
		Aliases: []string{"Các cơ sở khám chữa bệnh công lập trên địa bàn Thành phố"}},
	{ID: "bao-dai", Name: Text{"Các cơ quan Báo, Đài của Thành phố", "The city's newspapers, radio and television"}},
	{ID: "hdnd-tp", Name: Text{"HĐND Thành phố", "City People's Council"}, Aliases: []string{"Hội đồng nhân dân Thành phố"}},
	{ID: "hdnd-xa", Name: Text{"HĐND cấp xã", "Commune-level People's Councils"}, Aliases: []string{"Hội đồng nhân dân cấp xã"}},
	{ID: "ubmttq-tp", Name: Text{"UBMTTQVN Thành phố", "City Viet Nam Fatherland Front Committee"},
		Aliases: []string{"Đề nghị UBMTTQVN TP phối hợp", "UBMTTQVN TP", "Ủy ban Mặt trận Tổ quốc Việt Nam Thành phố"}},
	{ID: "ubmttq-xa", Name: Text{"UBMTTQVN cấp xã", "Commune-level Viet Nam Fatherland Front Committees"},
		Aliases: []string{"Ủy ban Mặt trận Tổ quốc Việt Nam cấp xã"}},
	{ID: "ctxh", Name: Text{"Các tổ chức chính trị - xã hội", "Socio-political (mass) organisations"},
		Aliases: []string{"Các tổ chức đoàn thể chính trị - xã hội", "Các tổ chức chính trị - xã hội cấp xã", "Các tổ chức đoàn thể ở cơ sở"}},
	{ID: "ubmttq-cac-cap", Name: Text{"UBMTTQVN các cấp", "Viet Nam Fatherland Front Committees at every level"},
		Aliases: []string{"Đề nghị UBMTTQVN các cấp phối hợp"}, Members: []string{"ubmttq-tp", "ubmttq-xa"}},
	{ID: "hdnd-ubmttq-cac-cap", Name: Text{"HĐND, UBMTTQVN các cấp", "People's Councils and Fatherland Front Committees at every level"},
		Members: []string{"hdnd-tp", "hdnd-xa", "ubmttq-tp", "ubmttq-xa"}},
	{ID: "ubnd-xa-doan-the", Name: Text{"UBND cấp xã và các tổ chức đoàn thể ở cơ sở", "Commune People's Committees and grassroots mass organisations"},
		Members: []string{"ubnd-xa", "ctxh"}},
	{ID: "ubmttq-ctxh-xa", Name: Text{"UBMTTQVN và các tổ chức chính trị - xã hội cấp xã", "Commune-level Fatherland Front Committees and socio-political organisations"},
		Members: []string{"ubmttq-xa", "ctxh"}},
	{ID: "hdnd-ubmttq-ctxh-xa", Name: Text{"HĐND, UBMTTQVN và các tổ chức chính trị - xã hội cấp xã", "Commune-level People's Councils, Fatherland Front Committees and socio-political organisations"},
		Members: []string{"hdnd-xa", "ubmttq-xa", "ctxh"}},
}

// PlanAgencies returns the canonical list of the plan's agencies.
func PlanAgencies() []Agency {
	out := slices.Clone(planAgencies)
	for i := range out {
		out[i].Aliases = slices.Clone(out[i].Aliases)
		out[i].Members = slices.Clone(out[i].Members)
	}
	return out
}

// agencyIndex maps every normalised name and alias to its agency's position
// in planAgencies.
var agencyIndex = sync.OnceValue(func() map[string]int {
	idx := map[string]int{}
	for i, a := range planAgencies {
		for _, name := range append([]string{a.Name.Vi}, a.Aliases...) {
			idx[normaliseAgency(name)] = i
		}
	}
	return idx
})

// AgencyOf returns the canonical agency for any spelling of its name used in
// the plan or the catalogues: letter case, spacing, punctuation and the old
// placement of tone marks ("Toà", "Uỷ") do not matter.
func AgencyOf(name string) (Agency, bool) {
	i, ok := agencyIndex()[normaliseAgency(name)]
	if !ok {
		return Agency{}, false
	}
	a := planAgencies[i]
	a.Aliases, a.Members = slices.Clone(a.Aliases), slices.Clone(a.Members)
	return a, true
}

// oldTones rewrites the older placement of tone marks on "oa", "oe" and
// "uy" ("hoà", "uỷ") to the one the plan uses ("hòa", "ủy").
var oldTones = strings.NewReplacer(
	"oà", "òa", "oá", "óa", "oả", "ỏa", "oã", "õa", "oạ", "ọa",
	"oè", "òe", "oé", "óe", "oẻ", "ỏe", "oẽ", "õe", "oẹ", "ọe",
	"uỳ", "ùy", "uý", "úy", "uỷ", "ủy", "uỹ", "ũy", "uỵ", "ụy",
)

// normaliseAgency lowers the case, unifies tone placement and reduces every
// run of characters other than letters and digits to one space.
func normaliseAgency(s string) string {
	s = oldTones.Replace(strings.ToLower(s))
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ")
}
