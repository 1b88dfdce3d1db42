package survey

import (
	"errors"
	"testing"
	"time"
)

func TestResolvePeriod(t *testing.T) {
	// 2026-11-25 10:00 in the city (UTC+7).
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, Local)
	for _, tc := range []struct {
		name             string
		from, to, preset string
		now              time.Time
		want             Period
		wantField        string
	}{
		// 2026-11-25 − 364 days = 2025-11-26: 365 days counting both ends.
		{name: "default last 365 days", now: now, want: Period{"2025-11-26", "2026-11-25"}},
		{name: "month", preset: "month", now: now, want: Period{"2026-11-01", "2026-11-25"}},
		{name: "quarter", preset: "quarter", now: now, want: Period{"2026-10-01", "2026-11-25"}},
		{name: "year", preset: "year", now: now, want: Period{"2026-01-01", "2026-11-25"}},
		{name: "quarter on its last day", preset: "quarter", now: time.Date(2026, 3, 31, 23, 0, 0, 0, Local), want: Period{"2026-01-01", "2026-03-31"}},
		{name: "quarter in December", preset: "quarter", now: time.Date(2026, 12, 31, 8, 0, 0, 0, Local), want: Period{"2026-10-01", "2026-12-31"}},
		{name: "quarter on its first day", preset: "quarter", now: time.Date(2026, 7, 1, 0, 0, 0, 0, Local), want: Period{"2026-07-01", "2026-07-01"}},
		// 2026-10-31 20:00 UTC is already 1 November in the city.
		{name: "month in city time", preset: "month", now: time.Date(2026, 10, 31, 20, 0, 0, 0, time.UTC), want: Period{"2026-11-01", "2026-11-01"}},
		// 2026-03-01 − 364 days crosses 29 February only in a leap year;
		// 2028 is one: 2028-03-01 − 364 = 2027-03-03.
		{name: "default across a leap day", now: time.Date(2028, 3, 1, 12, 0, 0, 0, Local), want: Period{"2027-03-03", "2028-03-01"}},
		{name: "explicit from and to", from: "2026-01-15", to: "2026-02-15", now: now, want: Period{"2026-01-15", "2026-02-15"}},
		{name: "explicit one day", from: "2026-02-15", to: "2026-02-15", now: now, want: Period{"2026-02-15", "2026-02-15"}},
		{name: "from overrides the preset", from: "2026-10-15", preset: "month", now: now, want: Period{"2026-10-15", "2026-11-25"}},
		{name: "to overrides the default", to: "2026-06-30", now: now, want: Period{"2025-11-26", "2026-06-30"}},
		{name: "unknown preset", preset: "week", now: now, wantField: "period"},
		{name: "bad from", from: "2026-13-01", now: now, wantField: "from"},
		{name: "from in another layout", from: "25/11/2026", now: now, wantField: "from"},
		{name: "bad to", to: "2026-02-30", now: now, wantField: "to"},
		{name: "to before from", from: "2026-02-16", to: "2026-02-15", now: now, wantField: "to"},
		{name: "too long", from: "2000-01-01", to: "2026-01-01", now: now, wantField: "from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolvePeriod(tc.from, tc.to, tc.preset, tc.now)
			if tc.wantField != "" {
				var ve *ValidationError
				if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Field != tc.wantField {
					t.Fatalf("got %v, %v, want a validation error on %q", got, err, tc.wantField)
				}
				if m := ve.Errors[0].Message; m.Vi == "" || m.En == "" {
					t.Errorf("message: got %+v, want both languages", m)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestPeriodPrevious(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    Period
		want Period
	}{
		// 1-30 November is 30 days; the 30 days before end on 31 October
		// and start on 31 − 29 = 2 October.
		{"thirty days", Period{"2026-11-01", "2026-11-30"}, Period{"2026-10-02", "2026-10-31"}},
		// Same length, not the previous calendar month: March is 31 days,
		// February 28, so the 31 days before take 3 days of January (29-31).
		{"calendar month", Period{"2026-03-01", "2026-03-31"}, Period{"2026-01-29", "2026-02-28"}},
		// In a leap year February has 29 days: 31 − 29 = 2 days of January.
		{"calendar month, leap year", Period{"2028-03-01", "2028-03-31"}, Period{"2028-01-30", "2028-02-29"}},
		{"one day", Period{"2026-01-01", "2026-01-01"}, Period{"2025-12-31", "2025-12-31"}},
		// 365 days ending 2026-11-25 → the 365 ending 2025-11-25.
		{"default year", Period{"2025-11-26", "2026-11-25"}, Period{"2024-11-26", "2025-11-25"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Previous(); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestWholeMonths(t *testing.T) {
	for _, tc := range []struct {
		p            Period
		whole        bool
		months, prev Period
	}{
		{Period{"2026-03-01", "2026-03-31"}, true, Period{"2026-03-01", "2026-03-31"}, Period{"2026-02-01", "2026-02-28"}},
		{Period{"2028-03-01", "2028-03-31"}, true, Period{"2028-03-01", "2028-03-31"}, Period{"2028-02-01", "2028-02-29"}},
		{Period{"2026-01-01", "2026-12-31"}, true, Period{"2026-01-01", "2026-12-31"}, Period{"2025-01-01", "2025-12-31"}},
		{Period{"2025-12-01", "2026-02-28"}, true, Period{"2025-12-01", "2026-02-28"}, Period{"2025-09-01", "2025-11-30"}},
		{Period{"2025-11-26", "2026-11-25"}, false, Period{"2025-11-01", "2026-11-30"}, Period{"2024-10-01", "2025-10-31"}},
		{Period{"2026-02-14", "2026-02-14"}, false, Period{"2026-02-01", "2026-02-28"}, Period{"2026-01-01", "2026-01-31"}},
		{Period{"2026-02-01", "2026-02-27"}, false, Period{"2026-02-01", "2026-02-28"}, Period{"2026-01-01", "2026-01-31"}},
	} {
		if got := tc.p.WholeMonths(); got != tc.whole {
			t.Errorf("%+v.WholeMonths(): got %v, want %v", tc.p, got, tc.whole)
		}
		m := tc.p.Months()
		if m != tc.months {
			t.Errorf("%+v.Months(): got %+v, want %+v", tc.p, m, tc.months)
		}
		if got := m.PreviousMonths(); got != tc.prev {
			t.Errorf("%+v.PreviousMonths(): got %+v, want %+v", m, got, tc.prev)
		}
	}
}
