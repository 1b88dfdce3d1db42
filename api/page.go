package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// langCookie remembers the language a person chose (the scripts set it when
// the switch is used), so the server renders the next page in it.
const langCookie = "papi_lang"

// pageSpec is what a page template needs around it in the layout.
type pageSpec struct {
	styles []string
	script string // module entry point; empty for none
	chrome bool   // site header with brand and language switch
	narrow bool   // narrow column (login, messages)
	class  string // body class
}

var (
	staffStyles = []string{"assets/app.css", "assets/staff.css"}
	pageSpecs   = map[string]pageSpec{
		"index":    {styles: staffStyles, script: "assets/js/index.js", chrome: true, class: "staff"},
		"login":    {styles: staffStyles, script: "assets/js/login.js", chrome: true, narrow: true, class: "staff"},
		"staff":    {styles: staffStyles, script: "assets/js/staff/main.js", chrome: true, class: "staff"},
		"notfound": {styles: staffStyles, script: "assets/js/index.js", chrome: true, narrow: true, class: "staff"},
		"poster":   {styles: []string{"assets/poster.css"}},
		"report":   {styles: []string{"assets/report.css"}, script: "assets/js/print.js"},
	}
)

// pages holds the parsed templates, the dictionaries and the asset table.
type pages struct {
	tmpl   map[string]*template.Template
	form   *template.Template
	dict   map[string]map[string]string
	assets *assets
}

// mustLoadPages parses every template and dictionary embedded in the
// binary; a failure is a bug in the embedded files, caught by any test that
// starts a server.
func mustLoadPages(fsys fs.FS) *pages {
	p, err := loadPages(fsys)
	if err != nil {
		panic(err)
	}
	return p
}

func loadPages(fsys fs.FS) (*pages, error) {
	a, err := loadAssets(fsys)
	if err != nil {
		return nil, err
	}
	p := &pages{tmpl: map[string]*template.Template{}, dict: map[string]map[string]string{}, assets: a}
	for _, lang := range []string{"vi", "en"} {
		data, err := fs.ReadFile(fsys, "i18n/"+lang+".json")
		if err != nil {
			return nil, fmt.Errorf("read dictionary: %w", err)
		}
		d := map[string]string{}
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("read dictionary i18n/%s.json: %w", lang, err)
		}
		p.dict[lang] = d
	}
	base, err := template.New("layout.html").Funcs(templateFuncs(a)).ParseFS(fsys, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	for name := range pageSpecs {
		t, err := template.Must(base.Clone()).ParseFS(fsys, "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p.tmpl[name] = t
	}
	// The resident form keeps its own page until it moves onto the layout.
	if p.form, err = template.ParseFS(fsys, "form.html"); err != nil {
		return nil, fmt.Errorf("parse form page: %w", err)
	}
	return p, nil
}

// pageData is what the layout and every page template see.
type pageData struct {
	Lang        string
	Title       string
	Description string
	Page        string
	NoIndex     bool
	Chrome      bool
	Narrow      bool
	BodyClass   string
	Styles      []string
	Script      string
	Home        string
	LangHref    string
	Data        any
	dict        map[string]string
}

// T returns the dictionary text for key in the page's language, with
// {name} placeholders filled from name, value pairs.
func (d pageData) T(key string, pairs ...string) string {
	s, ok := d.dict[key]
	if !ok {
		return key
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		s = strings.ReplaceAll(s, "{"+pairs[i]+"}", pairs[i+1])
	}
	return s
}

// Other is the language the switch leads to.
func (d pageData) Other() string {
	if d.Lang == "en" {
		return "vi"
	}
	return "en"
}

// requestLang is the page language: ?lang= first (the switch's link), then
// the remembered choice, else Vietnamese.
func requestLang(c echo.Context) string {
	l := c.QueryParam("lang")
	if l == "vi" || l == "en" {
		// Without scripts the switch is a plain link: remember its choice.
		c.SetCookie(&http.Cookie{Name: langCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	} else {
		if ck, err := c.Cookie(langCookie); err == nil {
			l = ck.Value
		}
	}
	if l == "en" {
		return "en"
	}
	return "vi"
}

// newPage fills the layout's fields for one page of this request.
func (s *Server) newPage(c echo.Context, name string) pageData {
	spec := pageSpecs[name]
	lang := requestLang(c)
	d := pageData{
		Lang: lang, Page: name, NoIndex: name != "index", Chrome: spec.chrome, Narrow: spec.narrow,
		BodyClass: spec.class, Styles: spec.styles, Script: spec.script, Home: "/", dict: s.pages.dict[lang],
	}
	// The switch links to this page with the other language, keeping its
	// query (a login's next=, a period).
	q := c.Request().URL.Query()
	q.Set("lang", d.Other())
	d.LangHref = c.Request().URL.Path + "?" + q.Encode()
	return d
}

// render executes a page on the layout and sends it. Pages depend on the
// language cookie and may change with every release, so they are
// revalidated; their assets are the ones cached for good.
func (s *Server) render(c echo.Context, status int, name string, d pageData) error {
	var buf bytes.Buffer
	if err := s.pages.tmpl[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("render page %s: %w", name, err)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "no-cache")
	addVary(h, "Cookie")
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) handleIndexPage(c echo.Context) error {
	d := s.newPage(c, "index")
	d.Title = d.T("idxTitle")
	d.Description = d.T("idxLead")
	return s.render(c, http.StatusOK, "index", d)
}

func (s *Server) handleLoginPage(c echo.Context) error {
	d := s.newPage(c, "login")
	d.Title = d.T("titleLogin")
	return s.render(c, http.StatusOK, "login", d)
}

// staffViews are the views of the staff app and whether each is about one
// commune (/staff/commune/26740) or the whole city (/staff/city).
var staffViews = map[string]bool{"": false, "city": false, "followup": false, "commune": true, "centres": true}

// staffView is what the staff shell tells its script: which view to draw.
type staffView struct {
	View, Code, Heading string
}

// handleStaffPage serves the staff app's shell for every view, with a
// server-side title naming the commune on commune pages; the script draws
// the view from the API. Data stays behind the API's access checks.
func (s *Server) handleStaffPage(c echo.Context) error {
	view, code := c.Param("view"), c.Param("code")
	perCommune, ok := staffViews[view]
	if !ok || perCommune != (code != "") {
		return s.notFoundPage(c)
	}
	d := s.newPage(c, "staff")
	d.Home = "/staff"
	v := staffView{View: view, Code: code}
	switch view {
	case "":
		v.Heading = d.T("staffHome")
	case "city":
		v.Heading = d.T("cityTitle")
	case "followup":
		v.Heading = d.T("fuTitle")
	case "commune", "centres":
		commune, err := s.store.Commune(c.Request().Context(), code)
		if survey.ErrorCode(err) == survey.ENOTFOUND {
			return s.notFoundPage(c)
		} else if err != nil {
			return err
		}
		if view == "commune" {
			v.Heading = commune.Name
		} else {
			v.Heading = d.T("centresTitle") + " · " + commune.Name
		}
	}
	d.Title = v.Heading + " · papi"
	d.Data = v
	return s.render(c, http.StatusOK, "staff", d)
}

// notFoundText is the page for an address that leads nowhere, in both
// languages because residents typing a short address may not have chosen one.
var notFoundText = survey.Text{
	Vi: "Không tìm thấy trang này. Vui lòng kiểm tra lại địa chỉ.",
	En: "This page does not exist. Please check the address.",
}

func (s *Server) notFoundPage(c echo.Context) error {
	return s.messagePage(c, http.StatusNotFound, survey.Text{Vi: "Không tìm thấy trang", En: "Page not found"}, notFoundText)
}

// messagePage answers with a short bilingual message on the layout.
func (s *Server) messagePage(c echo.Context, status int, heading, text survey.Text) error {
	d := s.newPage(c, "notfound")
	other := text.En
	if d.Lang == "en" {
		heading.Vi, text.Vi, other = heading.En, text.En, text.Vi
	}
	d.Title = heading.Vi + " · papi"
	d.Data = struct{ Heading, Text, Other string }{heading.Vi, text.Vi, other}
	return s.render(c, status, "notfound", d)
}

// handleFormPage serves the resident page; it loads its questions itself.
func (s *Server) handleFormPage(c echo.Context) error {
	status := http.StatusOK
	if _, err := s.openCentre(c, c.Param("token")); err != nil {
		var derr *survey.Error
		if !errors.As(err, &derr) || derr.Code != survey.ENOTFOUND {
			return err
		}
		// Still serve the page: it shows the resident a friendly message.
		status = http.StatusNotFound
	}
	return s.formPage(c, status, false)
}

// shortCodeRE matches a short centre address: a commune code for the
// commune's first centre, or code-N for its N-th centre (in the order the
// centres were added, closed ones included, so an address never moves).
var shortCodeRE = regexp.MustCompile(`^(\d{5})(?:-(\d{1,3}))?$`)

// handleShortCode sends a resident who typed the poster's short address
// (/c/26740) to the centre's form.
func (s *Server) handleShortCode(c echo.Context) error {
	m := shortCodeRE.FindStringSubmatch(c.Param("code"))
	if m == nil {
		return s.notFoundPage(c)
	}
	n := 1
	if m[2] != "" {
		n, _ = strconv.Atoi(m[2])
	}
	centres, err := s.store.Centres(c.Request().Context(), m[1])
	if err != nil {
		return err
	}
	if n < 1 || n > len(centres) {
		return s.notFoundPage(c)
	}
	ct := centres[n-1]
	if !ct.Open {
		return s.messagePage(c, http.StatusNotFound, survey.Text{Vi: "Điểm tiếp nhận đã đóng", En: "Feedback point closed"}, errCentreClosed.Message)
	}
	target := "/s/" + url.PathEscape(ct.Token)
	if q := c.Request().URL.RawQuery; q != "" {
		target += "?" + q // a receipt code (?r=) travels along
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Redirect(http.StatusFound, target)
}

// shortURL is the address printed on a centre's poster for people who
// cannot scan: the base URL without its scheme, then /c/ and the short code.
func (s *Server) shortURL(communeCode string, centreID uint, centres []uint) string {
	code := communeCode
	for i, id := range centres {
		if id == centreID && i > 0 {
			code += "-" + strconv.Itoa(i+1)
		}
	}
	base := strings.TrimPrefix(strings.TrimPrefix(s.cfg.BaseURL, "https://"), "http://")
	return base + "/c/" + code
}

// handleQRImage draws a QR code of one of papi's own resident addresses
// (a receipt's form link, for the printed slip). Other addresses are
// refused, so this is no general QR service.
func (s *Server) handleQRImage(c echo.Context) error {
	u := c.QueryParam("url")
	ok := len(u) <= 512
	if ok {
		ok = false
		for _, p := range []string{"/s/", "/c/", "/k/"} {
			if strings.HasPrefix(u, s.cfg.BaseURL+p) {
				ok = true
			}
		}
	}
	if !ok {
		return survey.Invalid("url", "url phải là một đường dẫn phiếu khảo sát của papi.", "url must be one of papi's own form links.")
	}
	png, err := qrPNG(u, 384)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "private, max-age=86400")
	return c.Blob(http.StatusOK, "image/png", png)
}

// handleFavicon serves the icon browsers ask for on their own.
func (s *Server) handleFavicon(c echo.Context) error {
	as := s.pages.assets.byName["assets/favicon.ico"]
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
	return c.Blob(http.StatusOK, as.ctype, as.body)
}

// templateFuncs formats numbers and dates the way the pages do in
// Vietnamese (7,99; 81,4 %; 20.000; 30/11/2026): printed documents are read
// by Vietnamese officials first.
func templateFuncs(a *assets) template.FuncMap {
	return template.FuncMap{
		"asset": a.URL,
		"num": func(p *float64) string {
			if p == nil {
				return "—"
			}
			return viNumber(*p, 2)
		},
		"signed": func(p *float64) string {
			if p == nil {
				return "—"
			}
			switch {
			case *p > 0:
				return "+" + viNumber(*p, 2)
			case *p < 0:
				return "−" + viNumber(-*p, 2)
			}
			return "±" + viNumber(0, 2)
		},
		"value": func(p *float64, k survey.Kind) string {
			if p == nil {
				return "—"
			}
			return viValue(*p, k)
		},
		// interval writes a 95% interval with one unit sign: 76,6–85,3 %.
		"interval": func(lo, hi *float64, k survey.Kind) string {
			if lo == nil || hi == nil {
				return "—"
			}
			if k == survey.KindRatio {
				return viNumber(*lo*100, 1) + "–" + viNumber(*hi*100, 1) + "\u00a0%"
			}
			return strings.TrimSuffix(viValue(*lo, k), "\u00a0%") + "–" + viValue(*hi, k)
		},
		"int":  func(n int64) string { return viNumber(float64(n), 0) },
		"add":  func(a, b int) int { return a + b },
		"intp": func(n *int) string { return viIntp(n) },
		"date": viDate,
		// width is an SVG length on 0-100, so it keeps the decimal point.
		"width": func(p *float64) string {
			if p == nil {
				return "0"
			}
			return strconv.FormatFloat(math.Max(0, math.Min(100, (*p-1)/9*100)), 'f', 1, 64)
		},
	}
}

// viNumber writes x with d decimals, a decimal comma and dots between
// thousands.
func viNumber(x float64, d int) string {
	s := strconv.FormatFloat(math.Abs(x), 'f', d, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if x < 0 && s != strconv.FormatFloat(0, 'f', d, 64) {
		b.WriteString("−")
	}
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("," + frac)
	}
	return b.String()
}

// viValue writes an indicator value in its unit: a share as a percentage,
// a large mean or median (money, minutes) without decimals.
func viValue(x float64, k survey.Kind) string {
	if k == survey.KindRatio {
		return viNumber(x*100, 1) + "\u00a0%"
	}
	if math.Abs(x) >= 100 {
		return viNumber(x, 0)
	}
	return viNumber(x, 2)
}

func viIntp(n *int) string {
	if n == nil {
		return "—"
	}
	return viNumber(float64(*n), 0)
}

// viDate turns 2026-11-30 into 30/11/2026.
func viDate(iso string) string {
	p := strings.Split(iso, "-")
	if len(p) != 3 {
		return iso
	}
	return p[2] + "/" + p[1] + "/" + p[0]
}

// posterPage renders a centre's printable A4 poster: the QR code of its
// form and, for people who cannot scan, the short address.
func (s *Server) posterPage(c echo.Context, commune survey.Commune, ct store.Centre) error {
	all, err := s.store.Centres(c.Request().Context(), ct.CommuneCode)
	if err != nil {
		return err
	}
	ids := make([]uint, len(all))
	for i, x := range all {
		ids[i] = x.ID
	}
	png, err := qrPNG(s.formURL(ct.Token), 1024)
	if err != nil {
		return err
	}
	d := s.newPage(c, "poster")
	d.Lang = "vi" // the poster is bilingual, Vietnamese first
	d.Title = "Áp phích mã QR – " + commune.Name
	d.Data = map[string]any{
		"CommuneName": commune.Name, "CentreName": ct.Name, "ShortURL": s.shortURL(ct.CommuneCode, ct.ID, ids),
		"QRDataURI": template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		"Version":   s.store.Catalogue().Version,
	}
	return s.render(c, http.StatusOK, "poster", d)
}
