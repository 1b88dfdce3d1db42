package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/papi-hcmc/papi/survey"
)

type communeRow struct {
	Code           string `gorm:"primaryKey;size:5"`
	Name           string `gorm:"not null"`
	Type           string `gorm:"not null;size:16;index"`
	FormerProvince string `gorm:"not null;index"`
}

func (communeRow) TableName() string { return "communes" }

// Centre is a public-service centre (Trung tâm phục vụ hành chính công) where
// a QR poster invites residents to answer.
type Centre struct {
	ID          uint      `json:"id"`
	CommuneCode string    `json:"commune_code"`
	Name        string    `json:"name"`
	Token       string    `json:"token"`
	Open        bool      `json:"open"`
	CreatedAt   time.Time `json:"created_at"`
}

type centreRow struct {
	ID          uint   `gorm:"primaryKey"`
	CommuneCode string `gorm:"not null;size:5;index"`
	Name        string `gorm:"not null"`
	// Token is the unguessable part of the form URL printed in the QR code.
	Token     string `gorm:"not null;uniqueIndex;size:64"`
	Open      bool   `gorm:"not null"`
	CreatedAt time.Time
}

func (centreRow) TableName() string { return "centres" }

func (r centreRow) centre() Centre {
	return Centre(r)
}

// Seed loads the city's communes and gives every commune without a centre
// one open centre. It is idempotent: later starts change nothing.
func (s *Store) Seed(ctx context.Context, communes []survey.Commune) error {
	rows := make([]communeRow, len(communes))
	for i, c := range communes {
		rows[i] = communeRow{Code: c.Code, Name: c.Name, Type: c.Type, FormerProvince: c.FormerProvince}
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Two processes starting together would both add the missing
		// centres: the lock makes the second see the first's.
		if err := s.lockSchema(tx); err != nil {
			return err
		}
		if err := tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "code"}},
			DoUpdates: clause.AssignmentColumns([]string{"name", "type", "former_province"}),
		}).CreateInBatches(rows, 100).Error; err != nil {
			return fmt.Errorf("seed communes: %w", err)
		}
		var have []string
		if err := tx.Model(&centreRow{}).Distinct("commune_code").Pluck("commune_code", &have).Error; err != nil {
			return fmt.Errorf("read communes with centres: %w", err)
		}
		got := map[string]bool{}
		for _, c := range have {
			got[c] = true
		}
		var centres []centreRow
		for _, c := range communes {
			if got[c.Code] {
				continue
			}
			centres = append(centres, centreRow{CommuneCode: c.Code, Name: DefaultCentreName(c.Name), Token: newToken(), Open: true, CreatedAt: s.now().UTC()})
		}
		if len(centres) == 0 {
			return nil
		}
		return tx.CreateInBatches(centres, 100).Error
	})
}

// DefaultCentreName names a commune's first centre.
func DefaultCentreName(commune string) string {
	return "Trung tâm Phục vụ hành chính công " + commune
}

// newToken returns 160 random bits in lower-case base32: unguessable, short
// enough for a QR code and safe in a URL path.
func newToken() string {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Communes lists every commune by code.
func (s *Store) Communes(ctx context.Context) ([]survey.Commune, error) {
	var rows []communeRow
	if err := s.read.WithContext(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read communes: %w", err)
	}
	out := make([]survey.Commune, len(rows))
	for i, r := range rows {
		out[i] = survey.Commune{Code: r.Code, Name: r.Name, Type: r.Type, FormerProvince: r.FormerProvince}
	}
	return out, nil
}

// Commune returns one commune by code.
func (s *Store) Commune(ctx context.Context, code string) (survey.Commune, error) {
	var r communeRow
	err := s.read.WithContext(ctx).Where("code = ?", code).Take(&r).Error
	if err != nil {
		return survey.Commune{}, translate(err, survey.Text{Vi: "xã/phường " + code, En: "Commune " + code})
	}
	return survey.Commune{Code: r.Code, Name: r.Name, Type: r.Type, FormerProvince: r.FormerProvince}, nil
}

// Centres lists a commune's centres.
func (s *Store) Centres(ctx context.Context, communeCode string) ([]Centre, error) {
	var rows []centreRow
	if err := s.read.WithContext(ctx).Where("commune_code = ?", communeCode).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read centres of %s: %w", communeCode, err)
	}
	out := make([]Centre, len(rows))
	for i, r := range rows {
		out[i] = r.centre()
	}
	return out, nil
}

// AllCentres lists every centre.
func (s *Store) AllCentres(ctx context.Context) ([]Centre, error) {
	var rows []centreRow
	if err := s.read.WithContext(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read centres: %w", err)
	}
	out := make([]Centre, len(rows))
	for i, r := range rows {
		out[i] = r.centre()
	}
	return out, nil
}

// Centre returns a centre by id.
func (s *Store) Centre(ctx context.Context, id uint) (Centre, error) {
	var r centreRow
	err := s.read.WithContext(ctx).Where("id = ?", id).Take(&r).Error
	if err != nil {
		return Centre{}, translate(err, survey.Text{Vi: "trung tâm", En: "Centre"})
	}
	return r.centre(), nil
}

// CentreByToken returns the centre a QR code points to. Every submission
// asks, so answers are remembered for centreCacheTTL: a centre closed by
// another papi process may take answers for that long (one closed through
// this process stops at once).
func (s *Store) CentreByToken(ctx context.Context, token string) (Centre, error) {
	s.centreMu.Lock()
	c, ok := s.centreCache[token]
	s.centreMu.Unlock()
	if ok && time.Since(c.at) < centreCacheTTL {
		return c.centre, nil
	}
	var r centreRow
	err := s.read.WithContext(ctx).Where("token = ?", token).Take(&r).Error
	if err != nil {
		return Centre{}, translate(err, survey.Text{Vi: "trung tâm với mã QR này", En: "Centre for this QR code"})
	}
	s.centreMu.Lock()
	if s.centreCache == nil || len(s.centreCache) > 10000 {
		s.centreCache = map[string]cachedCentre{}
	}
	s.centreCache[token] = cachedCentre{centre: r.centre(), at: time.Now()}
	s.centreMu.Unlock()
	return r.centre(), nil
}

// centreCacheTTL bounds how long CentreByToken trusts what it read.
const centreCacheTTL = 5 * time.Second

type cachedCentre struct {
	centre Centre
	at     time.Time
}

// forgetCentres empties the centre cache after a change made here.
func (s *Store) forgetCentres() {
	s.centreMu.Lock()
	s.centreCache = nil
	s.centreMu.Unlock()
}

// CreateCentre adds an open centre to a commune, audited in the same
// transaction. limit, when above 0, is the most centres the commune may
// have: each centre gets its own throttle and burst window, so only an
// admin adds centres without bound.
func (s *Store) CreateCentre(ctx context.Context, actor, communeCode, name string, limit int) (Centre, error) {
	name = strings.TrimSpace(name)
	if name == "" || len([]rune(name)) > 200 {
		return Centre{}, survey.Invalid("name", "Tên trung tâm cần từ 1 đến 200 ký tự.", "The centre name needs 1 to 200 characters.")
	}
	if _, err := s.Commune(ctx, communeCode); err != nil {
		return Centre{}, err
	}
	r := centreRow{CommuneCode: communeCode, Name: name, Token: newToken(), Open: true, CreatedAt: s.now().UTC()}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if limit > 0 {
			var n int64
			if err := tx.Model(&centreRow{}).Where("commune_code = ?", communeCode).Count(&n).Error; err != nil {
				return fmt.Errorf("count centres: %w", err)
			}
			if n >= int64(limit) {
				return survey.Errorf(survey.EFORBIDDEN,
					fmt.Sprintf("Xã/phường đã có %d điểm khảo sát, mức tối đa; quản trị viên có thể thêm.", n),
					fmt.Sprintf("The commune already has %d survey points, the most allowed; an administrator can add more.", n))
			}
		}
		if err := tx.Create(&r).Error; err != nil {
			return translate(err, survey.Text{Vi: "Trung tâm", En: "Centre"})
		}
		return s.writeAudit(tx, actor, "centre_create", describeCentre(r))
	})
	if err != nil {
		return Centre{}, err
	}
	return r.centre(), nil
}

// describeCentre names a centre in the audit log.
func describeCentre(r centreRow) string {
	return fmt.Sprintf("centre %d (%s): %s", r.ID, r.CommuneCode, r.Name)
}

// SetCentreOpen opens or closes a centre, audited in the same transaction;
// a closed centre takes no answers and its posters show a closed page.
func (s *Store) SetCentreOpen(ctx context.Context, actor string, id uint, open bool) (Centre, error) {
	action := "centre_close"
	if open {
		action = "centre_open"
	}
	return s.changeCentre(ctx, actor, id, action, map[string]any{"open": open})
}

// RotateCentreToken gives a centre a new QR token, for a code that was
// copied or misused: posters with the old one then show a closed page and
// their answers are refused. The centre needs new posters.
func (s *Store) RotateCentreToken(ctx context.Context, actor string, id uint) (Centre, error) {
	return s.changeCentre(ctx, actor, id, "centre_rotate_token", map[string]any{"token": newToken()})
}

func (s *Store) changeCentre(ctx context.Context, actor string, id uint, action string, set map[string]any) (Centre, error) {
	var r centreRow
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&centreRow{}).Where("id = ?", id).Updates(set)
		if res.Error != nil {
			return fmt.Errorf("%s: %w", action, res.Error)
		}
		if res.RowsAffected == 0 {
			return translate(gorm.ErrRecordNotFound, survey.Text{Vi: "trung tâm", En: "Centre"})
		}
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return fmt.Errorf("read centre %d: %w", id, err)
		}
		return s.writeAudit(tx, actor, action, describeCentre(r))
	})
	// A closed or re-tokened centre must stop taking answers at once.
	s.forgetCentres()
	if err != nil {
		return Centre{}, err
	}
	return r.centre(), nil
}
