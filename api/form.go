package api

import (
	"crypto/rand"
	"encoding/binary"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// formQuestion is a question as the resident's page needs it: texts in
// Vietnamese with the English beside them, so the language switch needs no
// second request.
type formQuestion struct {
	ID        string            `json:"id"`
	Module    string            `json:"module"`
	Type      string            `json:"type"`
	Text      string            `json:"text"`
	TextEn    string            `json:"text_en"`
	Help      string            `json:"help,omitempty"`
	HelpEn    string            `json:"help_en,omitempty"`
	Options   []formOption      `json:"options,omitempty"`
	Required  bool              `json:"required"`
	ShowIf    *survey.Condition `json:"show_if"`
	Min       *float64          `json:"min,omitempty"`
	Max       *float64          `json:"max,omitempty"`
	Unit      string            `json:"unit,omitempty"`
	UnitEn    string            `json:"unit_en,omitempty"`
	MaxLength int               `json:"max_length,omitempty"`
	// Grid names the table (see formGrid) the question is a row of.
	Grid string `json:"grid,omitempty"`
}

// formSection introduces one module of the visit: the page shows its
// heading (and, for sensitive modules, the reassurance) before the module's
// first question, and hides the module while show_if does not hold.
type formSection struct {
	Module        string            `json:"module"`
	Name          string            `json:"name"`
	NameEn        string            `json:"name_en"`
	Heading       string            `json:"heading,omitempty"`
	HeadingEn     string            `json:"heading_en,omitempty"`
	Reassurance   string            `json:"reassurance,omitempty"`
	ReassuranceEn string            `json:"reassurance_en,omitempty"`
	ShowIf        *survey.Condition `json:"show_if,omitempty"`
}

// formGrid is the shared title of consecutive questions shown as a table.
type formGrid struct {
	ID     string `json:"id"`
	Text   string `json:"text"`
	TextEn string `json:"text_en"`
	Help   string `json:"help,omitempty"`
	HelpEn string `json:"help_en,omitempty"`
}

type formOption struct {
	Value     string `json:"value"`
	Label     string `json:"label"`
	LabelEn   string `json:"label_en"`
	Exclusive bool   `json:"exclusive,omitempty"`
}

type formCentre struct {
	ID   uint   `json:"id"`
	Name string `json:"name"`
}

type form struct {
	Centre               formCentre     `json:"centre"`
	Commune              survey.Commune `json:"commune"`
	QuestionnaireVersion string         `json:"questionnaire_version"`
	Modules              []string       `json:"modules"`
	Sections             []formSection  `json:"sections"`
	Grids                []formGrid     `json:"grids,omitempty"`
	Questions            []formQuestion `json:"questions"`
	Profile              []formQuestion `json:"profile"`
	// Minutes and MinutesMax are the honest duration of this visit: its
	// typical and its longest path at survey.SecondsPerQuestion, rounded
	// up; QuestionsMax is the number of questions on the longest path.
	Minutes      int `json:"minutes"`
	MinutesMax   int `json:"minutes_max"`
	QuestionsMax int `json:"questions_max"`
}

func options(list []survey.Option) []formOption {
	out := make([]formOption, len(list))
	for i, o := range list {
		out[i] = formOption{Value: o.Value, Label: o.Label.Vi, LabelEn: o.Label.En, Exclusive: o.Exclusive}
	}
	return out
}

func toFormQuestion(q survey.Question) formQuestion {
	fq := formQuestion{ID: q.ID, Module: q.Module, Type: string(q.Type), Text: q.Text.Vi, TextEn: q.Text.En,
		Options: options(q.Options), Required: q.Required, ShowIf: q.ShowIf, Min: q.Min, Max: q.Max, MaxLength: q.MaxLength, Grid: q.Grid}
	if q.Help != nil {
		fq.Help, fq.HelpEn = q.Help.Vi, q.Help.En
	}
	if q.Unit != nil {
		fq.Unit, fq.UnitEn = q.Unit.Vi, q.Unit.En
	}
	return fq
}

func toFormSection(m survey.Module) formSection {
	fs := formSection{Module: m.ID, Name: m.Name.Vi, NameEn: m.Name.En, ShowIf: m.ShowIf}
	if m.Heading != nil {
		fs.Heading, fs.HeadingEn = m.Heading.Vi, m.Heading.En
	}
	if m.Reassurance != nil {
		fs.Reassurance, fs.ReassuranceEn = m.Reassurance.Vi, m.Reassurance.En
	}
	return fs
}

func toFormGrid(g survey.Grid) formGrid {
	fg := formGrid{ID: g.ID, Text: g.Text.Vi, TextEn: g.Text.En}
	if g.Help != nil {
		fg.Help, fg.HelpEn = g.Help.Vi, g.Help.En
	}
	return fg
}

var profileQuestions = []formQuestion{
	{ID: "sex", Type: "single", Text: "Giới tính", TextEn: "Sex", Options: options(survey.Sexes)},
	{ID: "age_group", Type: "single", Text: "Nhóm tuổi", TextEn: "Age group", Options: options(survey.AgeGroups)},
}

var errCentreClosed = survey.Errorf(survey.ENOTFOUND,
	"Mã QR này không còn hiệu lực hoặc trung tâm tạm ngừng nhận ý kiến.",
	"This QR code is no longer valid or the centre is not taking answers now.")

// openCentre returns the centre of a form token if it takes answers.
func (s *Server) openCentre(c echo.Context, token string) (store.Centre, error) {
	centre, err := s.store.CentreByToken(c.Request().Context(), token)
	if err != nil {
		if survey.ErrorCode(err) == survey.ENOTFOUND {
			return store.Centre{}, errCentreClosed
		}
		return store.Centre{}, err
	}
	if !centre.Open {
		return store.Centre{}, errCentreClosed
	}
	return centre, nil
}

// nextVisit returns the rotation sequence number of a new visit at a centre.
// Each centre starts at a random point so that restarts do not favour the
// first module.
func (s *Server) nextVisit(centreID uint) uint64 {
	s.visitsMu.Lock()
	defer s.visitsMu.Unlock()
	seq, ok := s.visits[centreID]
	if !ok {
		var b [8]byte
		_, _ = rand.Read(b[:])
		seq = binary.LittleEndian.Uint64(b[:]) % 1024
	}
	s.visits[centreID] = seq + 1
	return seq
}

func (s *Server) handleFormGet(c echo.Context) error {
	centre, err := s.openCentre(c, c.Param("token"))
	if err != nil {
		return err
	}
	commune, err := s.store.Commune(c.Request().Context(), centre.CommuneCode)
	if err != nil {
		return err
	}
	cat := s.store.Catalogue()
	modules := cat.AssignModules(s.nextVisit(centre.ID))
	if c.QueryParam("full") == "1" || c.QueryParam("full") == "true" {
		modules = cat.AllModules()
	}
	asked := map[string]bool{}
	for _, m := range modules {
		asked[m] = true
	}
	f := form{
		Centre: formCentre{ID: centre.ID, Name: centre.Name}, Commune: commune,
		QuestionnaireVersion: cat.Version, Modules: modules, Profile: profileQuestions,
	}
	for _, m := range cat.Modules {
		if asked[m.ID] {
			f.Sections = append(f.Sections, toFormSection(m))
		}
	}
	grids := map[string]bool{}
	for _, q := range cat.Questions {
		if !asked[q.Module] {
			continue
		}
		f.Questions = append(f.Questions, toFormQuestion(q))
		if g, ok := cat.Grid(q.Grid); ok && !grids[g.ID] {
			grids[g.ID] = true
			f.Grids = append(f.Grids, toFormGrid(*g))
		}
	}
	length := cat.VisitLength(modules)
	f.Minutes, f.MinutesMax = length.Minutes()
	f.QuestionsMax = length.Max
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, f)
}
