package survey

// Reference is a set of published PAPI figures shown beside papi's own
// numbers. They come from PAPI's random household sample, a different survey
// design, so they are shown apart and labelled as reference only.
type Reference struct {
	Year   int    `json:"year"`
	Source string `json:"source"`
	Note   Text   `json:"note"`
	// NationalMedian is the median total of the provinces scored (8–80).
	NationalMedian float64 `json:"national_median"`
	// Rank15Score is the total of the 15th-ranked province, the edge of the
	// best-performers band that Kế hoạch 105 aims for.
	Rank15Score float64 `json:"rank_15_score"`
	// Totals of the three provinces merged into the city on 1 July 2025.
	HCMCFormer   float64 `json:"hcmc_former"`
	BinhDuong    float64 `json:"binh_duong"`
	BaRiaVungTau float64 `json:"ba_ria_vung_tau"`
	// DimensionMedian is the national median of each dimension D1–D8
	// (1–10).
	DimensionMedian []float64 `json:"dimension_median"`
}

// Reference2024 holds PAPI 2024's figures from the official provincial
// workbook, unweighted aggregate, 61 provinces scored (README, "Data
// sources").
var Reference2024 = Reference{
	Year:   2024,
	Source: "PAPI 2024 (UNDP, CECODES, VFF-CRT), bảng chỉ tiêu cấp tỉnh",
	Note: Text{
		Vi: "Điểm PAPI 2024 do khảo sát PAPI thực hiện với mẫu hộ gia đình ngẫu nhiên; thiết kế khảo sát khác, chỉ để tham chiếu.",
		En: "PAPI 2024 scores come from PAPI's random household sample: a different survey design, shown for reference only.",
	},
	NationalMedian:  43.480,
	Rank15Score:     44.738,
	HCMCFormer:      42.813,
	BinhDuong:       45.391,
	BaRiaVungTau:    45.532,
	DimensionMedian: []float64{4.932, 5.332, 4.307, 7.010, 7.224, 7.513, 3.678, 3.408},
}
