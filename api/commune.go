package api

import (
	"encoding/base64"
	"net/http"
	"strconv"

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
	Questions  []formQuestion  `json:"questions"`
}

type moduleView struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	NameEn   string `json:"name_en"`
	Rotating bool   `json:"rotating"`
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
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	NameEn   string          `json:"name_en"`
	Kind     survey.Kind     `json:"kind"`
	Rule     survey.Rule     `json:"rule"`
	Agencies survey.Agencies `json:"agencies"`
	Tasks    string          `json:"tasks"`
}

func viewCatalogue(cat *survey.Catalogue) catalogueView {
	v := catalogueView{Version: cat.Version, Title: cat.Title.Vi, TitleEn: cat.Title.En, Source: cat.Source, Published: cat.Published}
	for _, m := range cat.Modules {
		v.Modules = append(v.Modules, moduleView{ID: m.ID, Name: m.Name.Vi, NameEn: m.Name.En, Rotating: m.Rotating})
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
					Kind: ind.Kind, Rule: ind.Rule, Agencies: ind.Agencies, Tasks: ind.Tasks})
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
	ct, err := s.store.CreateCentre(c.Request().Context(), c.Param("code"), req.Name)
	if err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), currentUser(c).Email, "centre_create", c.Param("code")+": "+ct.Name)
	return c.JSON(http.StatusCreated, s.centreItem(ct))
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
	_ = s.store.Audit(c.Request().Context(), currentUser(c).Email, "download_qr", "centre "+uitoa(ct.ID)+" ("+ct.CommuneCode+")")
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
	_ = s.store.Audit(c.Request().Context(), currentUser(c).Email, "download_poster", "centre "+uitoa(ct.ID)+" ("+ct.CommuneCode+")")
	return s.posterPage(c, commune, ct)
}

func (s *Server) handleReceiptCreate(c echo.Context) error {
	ct := scopedCentre(c)
	code, err := s.store.CreateReceipt(c.Request().Context(), ct.ID, currentUser(c).Email)
	if err != nil {
		return err
	}
	_ = s.store.Audit(c.Request().Context(), currentUser(c).Email, "receipt_issue", "centre "+uitoa(ct.ID)+" ("+ct.CommuneCode+")")
	url := s.formURL(ct.Token) + "?r=" + code
	// The QR for the paper receipt comes with the code, so the one-stop
	// system can print it without another call.
	png, err := qrPNG(url, 256)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"code": code, "form_url": url,
		"qr_data_uri": "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)})
}

func uitoa(v uint) string { return strconv.FormatUint(uint64(v), 10) }
