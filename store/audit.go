package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/papi-hcmc/papi/survey"
)

type auditRow struct {
	ID     uint64    `gorm:"primaryKey"`
	At     time.Time `gorm:"not null;index"`
	Actor  string    `gorm:"not null"`
	Action string    `gorm:"not null;size:64"`
	Target string
	// Count is how often the event happened in the row's time slot:
	// repeated events (failed logins, receipts issued) share one row per
	// slot, so anonymous requests cannot grow the log without bound.
	Count int64 `gorm:"not null;default:1"`
}

func (auditRow) TableName() string { return "audit_log" }

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID     uint64    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Count  int64     `json:"count"`
}

// Audit records a read-type event (an export, a download). Call it before
// the data leaves and fail the request if it fails: nothing is handed out
// unrecorded. Changes record themselves in their own transaction instead.
func (s *Store) Audit(ctx context.Context, actor, action, target string) error {
	return s.writeAudit(s.db.WithContext(ctx), actor, action, target)
}

// writeAudit adds an audit row with tx, inside the transaction of the
// change it records, so that neither exists without the other.
func (s *Store) writeAudit(tx *gorm.DB, actor, action, target string) error {
	if err := tx.Create(&auditRow{At: s.now().UTC(), Actor: actor, Action: action, Target: target, Count: 1}).Error; err != nil {
		return fmt.Errorf("write audit row %s: %w", action, err)
	}
	return nil
}

// AuditRepeated counts an event in the row of its time slot (the minute or
// the day, per), creating the row on the slot's first event. The row's
// time is the slot's start: no finer time is kept.
func (s *Store) AuditRepeated(ctx context.Context, actor, action, target string, per time.Duration) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return s.auditRepeated(tx, actor, action, target, per)
	})
}

func (s *Store) auditRepeated(tx *gorm.DB, actor, action, target string, per time.Duration) error {
	at := slot(s.now(), per)
	res := tx.Model(&auditRow{}).Where("at = ? AND action = ? AND actor = ? AND target = ?", at, action, actor, target).
		Update("count", gorm.Expr("count + 1"))
	if res.Error != nil {
		return fmt.Errorf("count audit event %s: %w", action, res.Error)
	}
	if res.RowsAffected > 0 {
		return nil
	}
	if err := tx.Create(&auditRow{At: at, Actor: actor, Action: action, Target: target, Count: 1}).Error; err != nil {
		return fmt.Errorf("write audit row %s: %w", action, err)
	}
	return nil
}

// slot is the start of t's time slot: a city day for a day or longer, else
// t truncated to per.
func slot(t time.Time, per time.Duration) time.Time {
	if per >= 24*time.Hour {
		l := t.In(survey.Local)
		return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, survey.Local).UTC()
	}
	return t.UTC().Truncate(per)
}

// AuditFilter selects audit entries: newest first, at most Limit (default
// 200, at most 1000), older than the entry Before (an id, for paging), and
// of one Action or Actor when those are set.
type AuditFilter struct {
	Limit  int
	Before uint64
	Action string
	Actor  string
}

// AuditLog lists audit entries, newest first.
func (s *Store) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 200
	}
	q := s.read.WithContext(ctx).Order("id DESC").Limit(f.Limit)
	if f.Before > 0 {
		q = q.Where("id < ?", f.Before)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	var rows []auditRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read audit log: %w", err)
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = AuditEntry(r)
	}
	return out, nil
}
