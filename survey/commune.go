package survey

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"
	"time"
)

// Commune is a commune-level unit (xã, phường or đặc khu) of the city.
type Commune struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	FormerProvince string `json:"former_province"`
}

// Commune types.
const (
	Phuong = "phuong"
	Xa     = "xa"
	DacKhu = "dac_khu"
)

// FormerProvinces are the three provinces merged into the city on 1 July 2025.
var FormerProvinces = []string{"Hồ Chí Minh", "Bình Dương", "Bà Rịa - Vũng Tàu"}

//go:embed communes/hcmc-communes-2025.csv
var communesCSV string

// Communes returns the city's 168 communes from the official list embedded
// in the binary (see communes/README.md for its source).
func Communes() ([]Commune, error) {
	rows, err := csv.NewReader(strings.NewReader(communesCSV)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read embedded commune list: %w", err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "code,name,type,former_province" {
		return nil, fmt.Errorf("embedded commune list has an unexpected header")
	}
	out := make([]Commune, 0, len(rows)-1)
	for _, r := range rows[1:] {
		c := Commune{Code: r[0], Name: r[1], Type: r[2], FormerProvince: r[3]}
		if len(c.Code) != 5 || c.Name == "" || (c.Type != Phuong && c.Type != Xa && c.Type != DacKhu) {
			return nil, fmt.Errorf("embedded commune list: bad row %q", r)
		}
		out = append(out, c)
	}
	return out, nil
}

// Local is the city's time zone (UTC+7, no daylight saving): days and
// periods are counted in it.
var Local = time.FixedZone("ICT", 7*60*60)

// LocalDay returns the city's calendar day of t as "YYYY-MM-DD".
func LocalDay(t time.Time) string { return t.In(Local).Format(DateLayout) }

// DateLayout is how papi writes dates.
const DateLayout = "2006-01-02"
