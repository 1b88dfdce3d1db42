package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// catalogueView is the catalogue as the API shows it: names and texts as
// Vietnamese strings with the English beside them (name, name_en), as in
// every other answer of the API.
type catalogueView struct {
	Version    string          `json:"version"`
	Title      string          `json:"title"`
	TitleEn    string          `json:"title_en"`
	Source     string          `json:"source"`
	Published  string          `json:"published"`
	Dimensions []dimensionView `json:"dimensions"`
	Modules    []moduleView    `json:"modules"`
	Grids      []formGrid      `json:"grids,omitempty"`
	Questions  []formQuestion  `json:"questions"`
}

type moduleView struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	NameEn        string            `json:"name_en"`
	Rotating      bool              `json:"rotating"`
	Heading       string            `json:"heading,omitempty"`
	HeadingEn     string            `json:"heading_en,omitempty"`
	Reassurance   string            `json:"reassurance,omitempty"`
	ReassuranceEn string            `json:"reassurance_en,omitempty"`
	ShowIf        *survey.Condition `json:"show_if,omitempty"`
}

type dimensionView struct {
	ID            string             `json:"id"`
	Name          string             `json:"name"`
	NameEn        string             `json:"name_en"`
	Subdimensions []subdimensionView `json:"subdimensions"`
}

type subdimensionView struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	NameEn     string          `json:"name_en"`
	Indicators []indicatorView `json:"indicators"`
}

type indicatorView struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	NameEn     string          `json:"name_en"`
	Kind       survey.Kind     `json:"kind"`
	Rule       survey.Rule     `json:"rule"`
	Agencies   survey.Agencies `json:"agencies"`
	Tasks      string          `json:"tasks"`
	About      survey.About    `json:"about"`
	Context    bool            `json:"context"`
	Comparable []string        `json:"comparable"`
	PapiItem   string          `json:"papi_item,omitempty"`
}

func viewCatalogue(cat *survey.Catalogue) catalogueView {
	v := catalogueView{Version: cat.Version, Title: cat.Title.Vi, TitleEn: cat.Title.En, Source: cat.Source, Published: cat.Published}
	for _, m := range cat.Modules {
		fs := toFormSection(m)
		v.Modules = append(v.Modules, moduleView{ID: m.ID, Name: m.Name.Vi, NameEn: m.Name.En, Rotating: m.Rotating,
			Heading: fs.Heading, HeadingEn: fs.HeadingEn, Reassurance: fs.Reassurance, ReassuranceEn: fs.ReassuranceEn, ShowIf: m.ShowIf})
	}
	for _, g := range cat.Grids {
		v.Grids = append(v.Grids, toFormGrid(g))
	}
	for _, q := range cat.Questions {
		v.Questions = append(v.Questions, toFormQuestion(q))
	}
	for _, d := range cat.Dimensions {
		dv := dimensionView{ID: d.ID, Name: d.Name.Vi, NameEn: d.Name.En}
		for _, sd := range d.Subdimensions {
			sv := subdimensionView{ID: sd.ID, Name: sd.Name.Vi, NameEn: sd.Name.En}
			for _, ind := range sd.Indicators {
				sv.Indicators = append(sv.Indicators, indicatorView{ID: ind.ID, Name: ind.Name.Vi, NameEn: ind.Name.En,
					Kind: ind.Kind, Rule: ind.Rule, Agencies: ind.Agencies, Tasks: ind.Tasks,
					About: ind.About, Context: ind.Context, Comparable: append([]string{}, ind.Comparable...), PapiItem: ind.PapiItem})
			}
			dv.Subdimensions = append(dv.Subdimensions, sv)
		}
		v.Dimensions = append(v.Dimensions, dv)
	}
	return v
}

func (s *Server) handleCatalogueGet(c echo.Context) error {
	cat := s.store.Catalogue()
	if v := c.QueryParam("version"); v != "" {
		var ok bool
		if cat, ok = s.store.CatalogueVersion(v); !ok {
			return survey.Errorf(survey.ENOTFOUND, "Không có phiên bản bảng hỏi "+v+".", "No questionnaire version "+v+".")
		}
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
	return c.JSON(http.StatusOK, viewCatalogue(cat))
}

type communeItem struct {
	Code           string `json:"code"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	FormerProvince string `json:"former_province"`
}

func (s *Server) handleCommuneList(c echo.Context) error {
	list, err := s.store.Communes(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]communeItem, len(list))
	for i, cm := range list {
		out[i] = communeItem(cm)
	}
	return c.JSON(http.StatusOK, out)
}

type centreItem struct {
	ID          uint   `json:"id"`
	CommuneCode string `json:"commune_code"`
	Name        string `json:"name"`
	Token       string `json:"token"`
	Open        bool   `json:"open"`
	FormURL     string `json:"form_url"`
	QRURL       string `json:"qr_url"`
	PosterURL   string `json:"poster_url"`
}

func (s *Server) formURL(token string) string { return s.cfg.BaseURL + "/s/" + token }

func (s *Server) centreItem(ct store.Centre) centreItem {
	return centreItem{
		ID: ct.ID, CommuneCode: ct.CommuneCode, Name: ct.Name, Token: ct.Token, Open: ct.Open,
		FormURL:   s.formURL(ct.Token),
		QRURL:     "/api/v1/centres/" + uitoa(ct.ID) + "/qr.png",
		PosterURL: "/api/v1/centres/" + uitoa(ct.ID) + "/poster",
	}
}

func (s *Server) handleCentreList(c echo.Context) error {
	code := c.Param("code")
	if _, err := s.store.Commune(c.Request().Context(), code); err != nil {
		return err
	}
	list, err := s.store.Centres(c.Request().Context(), code)
	if err != nil {
		return err
	}
	out := make([]centreItem, len(list))
	for i, ct := range list {
		out[i] = s.centreItem(ct)
	}
	return c.JSON(http.StatusOK, out)
}

type centreRequest struct {
	Name string `json:"name" validate:"required,max=200"`
}

func (s *Server) handleCentreCreate(c echo.Context) error {
	var req centreRequest
	if err := s.bindJSON(c, &req); err != nil {
		return err
	}
	limit := survey.MaxCentresPerCommune
	if currentUser(c).Role == survey.RoleAdmin {
		limit = 0
	}
	ct, err := s.store.CreateCentre(c.Request().Context(), currentUser(c).Email, c.Param("code"), req.Name, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, s.centreItem(ct))
}

// handleCentreClose stops a centre taking answers; its posters then show a
// closed page.
func (s *Server) handleCentreClose(c echo.Context) error {
	ct, err := s.store.SetCentreOpen(c.Request().Context(), currentUser(c).Email, scopedCentre(c).ID, false)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.centreItem(ct))
}

// handleCentreOpen lets a closed centre take answers again.
func (s *Server) handleCentreOpen(c echo.Context) error {
	ct, err := s.store.SetCentreOpen(c.Request().Context(), currentUser(c).Email, scopedCentre(c).ID, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.centreItem(ct))
}

// handleCentreRotate gives a centre a new QR token: for a code that was
// copied or misused. The answer carries the new form URL; the poster and QR
// downloads then print it, and old posters show a closed page.
func (s *Server) handleCentreRotate(c echo.Context) error {
	ct, err := s.store.RotateCentreToken(c.Request().Context(), currentUser(c).Email, scopedCentre(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, s.centreItem(ct))
}

// qrPNG encodes a form URL; medium error correction survives a scuffed or
// partly covered poster.
func qrPNG(url string, size int) ([]byte, error) {
	return qrcode.Encode(url, qrcode.Medium, size)
}

func (s *Server) handleCentreQR(c echo.Context) error {
	ct := scopedCentre(c)
	png, err := qrPNG(s.formURL(ct.Token), 512)
	if err != nil {
		return err
	}
	if err := s.store.Audit(c.Request().Context(), currentUser(c).Email, "download_qr", "centre "+uitoa(ct.ID)+" ("+ct.CommuneCode+")"); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `inline; filename="papi-qr-`+ct.CommuneCode+`-`+uitoa(ct.ID)+`.png"`)
	return c.Blob(http.StatusOK, "image/png", png)
}

// handleCentrePoster renders the printable A4 poster with the centre's QR.
func (s *Server) handleCentrePoster(c echo.Context) error {
	ct := scopedCentre(c)
	commune, err := s.store.Commune(c.Request().Context(), ct.CommuneCode)
	if err != nil {
		return err
	}
	if err := s.store.Audit(c.Request().Context(), currentUser(c).Email, "download_poster", "centre "+uitoa(ct.ID)+" ("+ct.CommuneCode+")"); err != nil {
		return err
	}
	return s.posterPage(c, commune, ct)
}

type receiptRequest struct {
	// Record is the procedure's record number in the one-stop-shop
	// system; it is kept only as a keyed hash, one receipt per record. The
	// issuer service account must send it; admin and department staff may
	// issue an unbound receipt by sending no body at all.
	Record string `json:"record" validate:"omitempty,max=64"`
}

// handleReceiptCreate issues a receipt for a finished procedure. Only
// accounts that may issue for the centre's commune get here (receiptScope):
// never the commune's own staff, whose results a receipt would "verify".
func (s *Server) handleReceiptCreate(c echo.Context) error {
	ct := scopedCentre(c)
	var req receiptRequest
	// An empty body (no content, no type) asks for an unbound receipt; any
	// body must be JSON.
	empty := c.Request().ContentLength == 0 && c.Request().Header.Get(echo.HeaderContentType) == ""
	if !empty {
		if err := s.bindJSON(c, &req); err != nil {
			return err
		}
	}
	if req.Record == "" && (!empty || currentUser(c).Role == survey.RoleIssuer) {
		return survey.Invalid("record", "Cần số hồ sơ thủ tục (1–64 ký tự in được).", "The procedure's record number is required (1–64 printable characters).")
	}
	r, err := s.store.CreateReceipt(c.Request().Context(), currentUser(c), ct.ID, req.Record)
	if err != nil {
		if survey.ErrorCode(err) == survey.ETOOMANY {
			c.Response().Header().Set("Retry-After", strconv.Itoa(untilMidnight(s.now())))
		}
		return err
	}
	url := s.formURL(ct.Token) + "?r=" + r.Code
	// The QR for the paper receipt comes with the code, so the one-stop
	// system can print it without another call.
	png, err := qrPNG(url, 256)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"code": r.Code, "form_url": url, "issued_on": r.IssuedOn, "expires_on": r.ExpiresOn,
		"qr_data_uri": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)})
}

// untilMidnight is the number of seconds to the next midnight in the city.
func untilMidnight(now time.Time) int {
	l := now.In(survey.Local)
	next := time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, survey.Local)
	return int(next.Sub(l).Seconds()) + 1
}

// issuerMonth is one month of an issuer's receipts.
type issuerMonth struct {
	Month    string `json:"month"`
	Issued   int64  `json:"issued"`
	Redeemed int64  `json:"redeemed"`
}

// issuerReceipts is an issuing account's receipts over a period.
type issuerReceipts struct {
	ID          uint          `json:"id"`
	Email       string        `json:"email"`
	Role        survey.Role   `json:"role"`
	CommuneCode string        `json:"commune_code,omitempty"`
	Issued      int64         `json:"issued"`
	Redeemed    int64         `json:"redeemed"`
	Share       *float64      `json:"redeemed_share"`
	Months      []issuerMonth `json:"months"`
}

// handleReceiptIssuers shows, per issuing account, how many receipts it
// issued and how many came back with an answer, month by month (whole
// months from the month of from to the month of to). A share far above
// the others' is worth a look: receipts handed to friends, or answered at
// the counter.
func (s *Server) handleReceiptIssuers(c echo.Context) error {
	p, err := survey.ResolvePeriod(c.QueryParam("from"), c.QueryParam("to"), c.QueryParam("period"), s.now())
	if err != nil {
		return err
	}
	from, to := p.From[:7], p.To[:7]
	counts, err := s.store.ReceiptCounts(c.Request().Context(), from, to)
	if err != nil {
		return err
	}
	users, err := s.store.Users(c.Request().Context())
	if err != nil {
		return err
	}
	byID := map[uint]survey.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	out := []issuerReceipts{}
	for _, rc := range counts {
		if len(out) == 0 || out[len(out)-1].ID != rc.IssuerID {
			u := byID[rc.IssuerID]
			out = append(out, issuerReceipts{ID: rc.IssuerID, Email: u.Email, Role: u.Role, CommuneCode: u.CommuneCode, Months: []issuerMonth{}})
		}
		ir := &out[len(out)-1]
		ir.Issued += rc.Issued
		ir.Redeemed += rc.Redeemed
		ir.Months = append(ir.Months, issuerMonth{Month: rc.Month, Issued: rc.Issued, Redeemed: rc.Redeemed})
	}
	for i := range out {
		if out[i].Issued > 0 {
			share := float64(out[i].Redeemed) / float64(out[i].Issued)
			out[i].Share = &share
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"period": survey.Period{From: from, To: to}, "issuers": out})
}

func uitoa(v uint) string { return strconv.FormatUint(uint64(v), 10) }
