package survey

import "time"

// Period is an inclusive range of the city's calendar days.
type Period struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// ResolvePeriod turns query parameters into a period: explicit from/to, or a
// preset ("month", "quarter", "year": the current one up to today), or by
// default the last 365 days.
func ResolvePeriod(from, to, preset string, now time.Time) (Period, error) {
	today := now.In(Local)
	day := func(t time.Time) string { return t.Format(DateLayout) }
	var p Period
	switch preset {
	case "":
		p = Period{From: day(today.AddDate(0, 0, -364)), To: day(today)}
	case "month":
		p = Period{From: day(time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, Local)), To: day(today)}
	case "quarter":
		q := (int(today.Month()) - 1) / 3
		p = Period{From: day(time.Date(today.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, Local)), To: day(today)}
	case "year":
		p = Period{From: day(time.Date(today.Year(), 1, 1, 0, 0, 0, 0, Local)), To: day(today)}
	default:
		return Period{}, Invalid("period", "Kỳ phải là month, quarter hoặc year.", "period must be month, quarter or year.")
	}
	if from != "" {
		p.From = from
	}
	if to != "" {
		p.To = to
	}
	f, err := time.Parse(DateLayout, p.From)
	if err != nil {
		return Period{}, Invalid("from", "Ngày bắt đầu phải có dạng YYYY-MM-DD.", "from must be a date YYYY-MM-DD.")
	}
	t, err := time.Parse(DateLayout, p.To)
	if err != nil {
		return Period{}, Invalid("to", "Ngày kết thúc phải có dạng YYYY-MM-DD.", "to must be a date YYYY-MM-DD.")
	}
	if t.Before(f) {
		return Period{}, Invalid("to", "Ngày kết thúc không được trước ngày bắt đầu.", "to must not be before from.")
	}
	if t.Sub(f) > 20*366*24*time.Hour {
		return Period{}, Invalid("from", "Kỳ báo cáo dài quá 20 năm.", "The period is longer than 20 years.")
	}
	return p, nil
}

// Previous returns the period of the same length just before p.
func (p Period) Previous() Period {
	f, _ := time.Parse(DateLayout, p.From)
	t, _ := time.Parse(DateLayout, p.To)
	days := int(t.Sub(f).Hours()/24) + 1
	return Period{From: f.AddDate(0, 0, -days).Format(DateLayout), To: f.AddDate(0, 0, -1).Format(DateLayout)}
}

// Disclaimer says what papi's numbers are and are not; every output carries it.
var Disclaimer = Text{
	Vi: "Số liệu từ ý kiến của người dân đã sử dụng dịch vụ và tự nguyện trả lời qua mã QR; là tín hiệu theo dõi xây dựng theo định nghĩa chỉ tiêu của PAPI, không phải điểm PAPI chính thức.",
	En: "Answers from service users who chose to respond by QR code; a monitoring signal built with PAPI's indicator definitions, not the official PAPI score.",
}

// IsMonthStart reports whether day ("YYYY-MM-DD") is the first of a month.
func IsMonthStart(day string) bool {
	t, err := time.Parse(DateLayout, day)
	return err == nil && t.Day() == 1
}

// IsMonthEnd reports whether day ("YYYY-MM-DD") is the last of a month.
func IsMonthEnd(day string) bool {
	t, err := time.Parse(DateLayout, day)
	return err == nil && t.AddDate(0, 0, 1).Day() == 1
}

// WholeMonths reports whether p runs from the first day of a month to the
// last day of a month.
func (p Period) WholeMonths() bool { return IsMonthStart(p.From) && IsMonthEnd(p.To) }

// Months widens p to whole calendar months: from the first day of its first
// month to the last day of its last.
func (p Period) Months() Period {
	f, _ := time.Parse(DateLayout, p.From)
	t, _ := time.Parse(DateLayout, p.To)
	return Period{
		From: time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC).Format(DateLayout),
		To:   time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC).Format(DateLayout),
	}
}

// PreviousMonths returns as many whole months just before p as p spans; p
// is whole months. (Previous, the same number of days before, would start
// mid-month and let two summaries be differenced down to a few days.)
func (p Period) PreviousMonths() Period {
	f, _ := time.Parse(DateLayout, p.From)
	t, _ := time.Parse(DateLayout, p.To)
	months := (t.Year()-f.Year())*12 + int(t.Month()-f.Month()) + 1
	return Period{
		From: f.AddDate(0, -months, 0).Format(DateLayout),
		To:   f.AddDate(0, 0, -1).Format(DateLayout),
	}
}
