package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// migration is one numbered schema step, applied once, in its own
// transaction, and recorded in schema_migrations.
type migration struct {
	version int
	name    string
	up      func(tx *gorm.DB) error
}

type schemaMigration struct {
	Version   int `gorm:"primaryKey;autoIncrement:false"`
	Name      string
	AppliedAt time.Time
}

var migrations = []migration{
	{1, "initial schema", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&communeRow{}, &centreRow{}, &responseRow{}, &userRowV1{}, &sessionRowV1{}, &receiptRowV1{}, &auditRowV1{})
	}},
	{2, "running aggregates", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&aggregateRow{}, &histogramRow{})
	}},
	{3, "answer fingerprints for anomaly screening", func(tx *gorm.DB) error {
		return tx.AutoMigrate(&responseRow{})
	}},
	{4, "aggregate look-up by commune and period", func(tx *gorm.DB) error {
		// One commune's summary reads its month and day rows of a period
		// without walking the commune's other rows.
		for _, table := range []string{"aggregates", "histograms"} {
			if err := tx.Exec("CREATE INDEX IF NOT EXISTS idx_" + table + "_commune_period ON " + table + " (commune_code, grain, period)").Error; err != nil {
				return err
			}
		}
		return nil
	}},
	{5, "covering indexes for city-wide reads", func(tx *gorm.DB) error {
		// A comparison groups every commune's rows of a period: in this
		// index order SQLite reads them already grouped, from the index
		// alone, instead of sorting table rows in a temporary B-tree.
		for _, stmt := range []string{
			"CREATE INDEX IF NOT EXISTS idx_aggregates_cover ON aggregates (grain, commune_code, indicator, verified, flagged, period, n, sum, sum_sq)",
			"CREATE INDEX IF NOT EXISTS idx_histograms_cover ON histograms (grain, commune_code, indicator, value, flagged, period, count)",
		} {
			if err := tx.Exec(stmt).Error; err != nil {
				return err
			}
		}
		return nil
	}},
	{6, "account life cycle, idle sessions and counted audit rows", func(tx *gorm.DB) error {
		return execDialect(tx, map[string][]string{
			"sqlite": {
				"ALTER TABLE users ADD COLUMN disabled numeric NOT NULL DEFAULT false",
				"ALTER TABLE sessions ADD COLUMN last_seen_at datetime",
				"ALTER TABLE audit_log ADD COLUMN count integer NOT NULL DEFAULT 1",
			},
			"postgres": {
				"ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false",
				"ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz",
				"ALTER TABLE audit_log ADD COLUMN count bigint NOT NULL DEFAULT 1",
			},
			"": {"UPDATE sessions SET last_seen_at = created_at"},
		})
	}},
	{7, "receipts bound to procedure records, without time of use, answer or issuer", func(tx *gorm.DB) error {
		// The receipts table is rebuilt: the issuer, the issue and use
		// times and the response link go; issued receipts keep working
		// (their day of issue in city time, valid for 7 days).
		return execDialect(tx, map[string][]string{
			"sqlite": {
				"CREATE TABLE receipts_v7 (code_hash text PRIMARY KEY, record_hash text, centre_id integer NOT NULL, " +
					"issued_on text NOT NULL, expires_on text NOT NULL, used numeric NOT NULL DEFAULT false)",
				"INSERT INTO receipts_v7 (code_hash, centre_id, issued_on, expires_on, used) " +
					"SELECT code_hash, centre_id, date(created_at, '+7 hours'), date(created_at, '+7 hours', '+7 days'), used_at IS NOT NULL FROM receipts",
				"CREATE TABLE receipt_counts (issuer_id integer NOT NULL, month text NOT NULL, issued integer NOT NULL DEFAULT 0, " +
					"redeemed integer NOT NULL DEFAULT 0, PRIMARY KEY (issuer_id, month))",
				"CREATE TABLE secrets (name text PRIMARY KEY, value text NOT NULL)",
			},
			"postgres": {
				"CREATE TABLE receipts_v7 (code_hash varchar(64) PRIMARY KEY, record_hash varchar(64), centre_id bigint NOT NULL, " +
					"issued_on varchar(10) NOT NULL, expires_on varchar(10) NOT NULL, used boolean NOT NULL DEFAULT false)",
				"INSERT INTO receipts_v7 (code_hash, centre_id, issued_on, expires_on, used) " +
					"SELECT code_hash, centre_id, to_char(created_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD'), " +
					"to_char((created_at AT TIME ZONE 'Asia/Ho_Chi_Minh') + interval '7 days', 'YYYY-MM-DD'), used_at IS NOT NULL FROM receipts",
				"CREATE TABLE receipt_counts (issuer_id bigint NOT NULL, month varchar(7) NOT NULL, issued bigint NOT NULL DEFAULT 0, " +
					"redeemed bigint NOT NULL DEFAULT 0, PRIMARY KEY (issuer_id, month))",
				"CREATE TABLE secrets (name varchar(32) PRIMARY KEY, value text NOT NULL)",
			},
			"": {
				"DROP TABLE receipts",
				"ALTER TABLE receipts_v7 RENAME TO receipts",
				"CREATE UNIQUE INDEX idx_receipts_record_hash ON receipts (record_hash)",
				"CREATE INDEX idx_receipts_centre_issued ON receipts (centre_id, issued_on)",
			},
		})
	}},
}

// execDialect runs the statements of the database's dialect, then those
// under "" (the same for both).
func execDialect(tx *gorm.DB, stmts map[string][]string) error {
	for _, stmt := range append(stmts[tx.Dialector.Name()], stmts[""]...) {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	if err := db.AutoMigrate(&schemaMigration{}); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var done []int
	if err := db.Model(&schemaMigration{}).Pluck("version", &done).Error; err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	applied := map[int]bool{}
	for _, v := range done {
		applied[v] = true
	}
	for _, m := range migrations {
		if applied[m.version] {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := m.up(tx); err != nil {
				return err
			}
			return tx.Create(&schemaMigration{Version: m.version, Name: m.name, AppliedAt: s.now().UTC()}).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
