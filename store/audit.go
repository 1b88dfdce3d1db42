package store

import (
	"context"
	"time"
)

type auditRow struct {
	ID     uint64    `gorm:"primaryKey"`
	At     time.Time `gorm:"not null;index"`
	Actor  string    `gorm:"not null"`
	Action string    `gorm:"not null;size:64"`
	Target string
}

func (auditRow) TableName() string { return "audit_log" }

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
}

// Audit records who did what.
func (s *Store) Audit(ctx context.Context, actor, action, target string) error {
	return s.db.WithContext(ctx).Create(&auditRow{At: s.now().UTC(), Actor: actor, Action: action, Target: target}).Error
}

// AuditLog lists the latest entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	var rows []auditRow
	if err := s.read.WithContext(ctx).Order("at DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]AuditEntry, len(rows))
	for i, r := range rows {
		out[i] = AuditEntry{At: r.At, Actor: r.Actor, Action: r.Action, Target: r.Target}
	}
	return out, nil
}
