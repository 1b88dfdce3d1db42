package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// migration is one numbered schema step, applied once, in its own
// transaction, and recorded in schema_migrations. Steps are frozen: each
// is explicit SQL for each engine, so that a database created today and one
// upgraded from any earlier version end with the same schema. A change to
// the schema is a new step, never an edit of an old one.
type migration struct {
	version  int
	name     string
	sqlite   []string
	postgres []string
	// after runs in the same transaction once the SQL has run, for steps
	// that also need Go (rebuilding the tallies from the responses).
	after func(ctx context.Context, s *Store, tx *gorm.DB) error
}

// Steps 1 to 5 are the statements GORM's AutoMigrate issued for the schema
// of papi until the tallies were packed (dumped from a fresh database of
// each engine), so that databases it created carry on from step 6.
var migrations = []migration{
	{version: 1, name: "initial schema",
		sqlite: []string{
			"CREATE TABLE `communes` (`code` text,`name` text NOT NULL,`type` text NOT NULL,`former_province` text NOT NULL,PRIMARY KEY (`code`))",
			"CREATE INDEX `idx_communes_former_province` ON `communes`(`former_province`)",
			"CREATE INDEX `idx_communes_type` ON `communes`(`type`)",
			"CREATE TABLE `centres` (`id` integer PRIMARY KEY AUTOINCREMENT,`commune_code` text NOT NULL,`name` text NOT NULL,`token` text NOT NULL,`open` numeric NOT NULL,`created_at` datetime)",
			"CREATE UNIQUE INDEX `idx_centres_token` ON `centres`(`token`)",
			"CREATE INDEX `idx_centres_commune_code` ON `centres`(`commune_code`)",
			"CREATE TABLE `responses` (`id` integer PRIMARY KEY AUTOINCREMENT,`submission_id` text NOT NULL,`centre_id` integer NOT NULL,`commune_code` text NOT NULL,`day` text NOT NULL,`questionnaire_version` text NOT NULL,`modules` text NOT NULL,`answers` text NOT NULL,`sex` text,`age_group` text,`lang` text,`duration_ms` integer,`verified` numeric NOT NULL,`status` text NOT NULL,`flags` text,`fingerprint` text,`created_at` datetime NOT NULL)",
			"CREATE INDEX `idx_responses_status` ON `responses`(`status`)",
			"CREATE INDEX `idx_responses_commune_day` ON `responses`(`commune_code`,`day`)",
			"CREATE INDEX `idx_responses_centre_created` ON `responses`(`centre_id`,`created_at`)",
			"CREATE UNIQUE INDEX `idx_responses_submission_id` ON `responses`(`submission_id`)",
			"CREATE TABLE `users` (`id` integer PRIMARY KEY AUTOINCREMENT,`email` text NOT NULL,`password_hash` text NOT NULL,`role` text NOT NULL,`commune_code` text,`created_at` datetime)",
			"CREATE UNIQUE INDEX `idx_users_email` ON `users`(`email`)",
			"CREATE TABLE `sessions` (`token_hash` text,`user_id` integer NOT NULL,`created_at` datetime,`expires_at` datetime NOT NULL,PRIMARY KEY (`token_hash`))",
			"CREATE INDEX `idx_sessions_expires_at` ON `sessions`(`expires_at`)",
			"CREATE INDEX `idx_sessions_user_id` ON `sessions`(`user_id`)",
			"CREATE TABLE `receipts` (`code_hash` text,`centre_id` integer NOT NULL,`issued_by` text,`created_at` datetime,`used_at` datetime,`response_id` integer,PRIMARY KEY (`code_hash`))",
			"CREATE INDEX `idx_receipts_centre_id` ON `receipts`(`centre_id`)",
			"CREATE TABLE `audit_log` (`id` integer PRIMARY KEY AUTOINCREMENT,`at` datetime NOT NULL,`actor` text NOT NULL,`action` text NOT NULL,`target` text)",
			"CREATE INDEX `idx_audit_log_at` ON `audit_log`(`at`)",
		},
		postgres: []string{
			`CREATE TABLE "communes" ("code" varchar(5),"name" text NOT NULL,"type" varchar(16) NOT NULL,"former_province" text NOT NULL,PRIMARY KEY ("code"))`,
			`CREATE INDEX IF NOT EXISTS "idx_communes_former_province" ON "communes" ("former_province")`,
			`CREATE INDEX IF NOT EXISTS "idx_communes_type" ON "communes" ("type")`,
			`CREATE TABLE "centres" ("id" bigserial,"commune_code" varchar(5) NOT NULL,"name" text NOT NULL,"token" varchar(64) NOT NULL,"open" boolean NOT NULL,"created_at" timestamptz,PRIMARY KEY ("id"))`,
			`CREATE UNIQUE INDEX IF NOT EXISTS "idx_centres_token" ON "centres" ("token")`,
			`CREATE INDEX IF NOT EXISTS "idx_centres_commune_code" ON "centres" ("commune_code")`,
			`CREATE TABLE "responses" ("id" bigserial,"submission_id" varchar(64) NOT NULL,"centre_id" bigint NOT NULL,"commune_code" varchar(5) NOT NULL,"day" varchar(10) NOT NULL,"questionnaire_version" varchar(32) NOT NULL,"modules" text NOT NULL,"answers" text NOT NULL,"sex" varchar(16),"age_group" varchar(16),"lang" varchar(8),"duration_ms" bigint,"verified" boolean NOT NULL,"status" varchar(16) NOT NULL,"flags" text,"fingerprint" varchar(16),"created_at" timestamptz NOT NULL,PRIMARY KEY ("id"))`,
			`CREATE INDEX IF NOT EXISTS "idx_responses_status" ON "responses" ("status")`,
			`CREATE INDEX IF NOT EXISTS "idx_responses_commune_day" ON "responses" ("commune_code","day")`,
			`CREATE INDEX IF NOT EXISTS "idx_responses_centre_created" ON "responses" ("centre_id","created_at")`,
			`CREATE UNIQUE INDEX IF NOT EXISTS "idx_responses_submission_id" ON "responses" ("submission_id")`,
			`CREATE TABLE "users" ("id" bigserial,"email" varchar(254) NOT NULL,"password_hash" text NOT NULL,"role" varchar(16) NOT NULL,"commune_code" varchar(5),"created_at" timestamptz,PRIMARY KEY ("id"))`,
			`CREATE UNIQUE INDEX IF NOT EXISTS "idx_users_email" ON "users" ("email")`,
			`CREATE TABLE "sessions" ("token_hash" varchar(64),"user_id" bigint NOT NULL,"created_at" timestamptz,"expires_at" timestamptz NOT NULL,PRIMARY KEY ("token_hash"))`,
			`CREATE INDEX IF NOT EXISTS "idx_sessions_expires_at" ON "sessions" ("expires_at")`,
			`CREATE INDEX IF NOT EXISTS "idx_sessions_user_id" ON "sessions" ("user_id")`,
			`CREATE TABLE "receipts" ("code_hash" varchar(64),"centre_id" bigint NOT NULL,"issued_by" text,"created_at" timestamptz,"used_at" timestamptz,"response_id" bigint,PRIMARY KEY ("code_hash"))`,
			`CREATE INDEX IF NOT EXISTS "idx_receipts_centre_id" ON "receipts" ("centre_id")`,
			`CREATE TABLE "audit_log" ("id" bigserial,"at" timestamptz NOT NULL,"actor" text NOT NULL,"action" varchar(64) NOT NULL,"target" text,PRIMARY KEY ("id"))`,
			`CREATE INDEX IF NOT EXISTS "idx_audit_log_at" ON "audit_log" ("at")`,
		}},
	{version: 2, name: "running aggregates",
		sqlite: []string{
			"CREATE TABLE `aggregates` (`grain` text,`period` text,`centre_id` integer,`indicator` text,`verified` numeric,`flagged` numeric,`commune_code` text NOT NULL,`n` integer NOT NULL,`sum` real,`sum_sq` real,PRIMARY KEY (`grain`,`period`,`centre_id`,`indicator`,`verified`,`flagged`))",
			"CREATE INDEX `idx_aggregates_commune_code` ON `aggregates`(`commune_code`)",
			"CREATE TABLE `histograms` (`grain` text,`period` text,`centre_id` integer,`indicator` text,`verified` numeric,`flagged` numeric,`value` real,`commune_code` text NOT NULL,`count` integer NOT NULL,PRIMARY KEY (`grain`,`period`,`centre_id`,`indicator`,`verified`,`flagged`,`value`))",
			"CREATE INDEX `idx_histograms_commune_code` ON `histograms`(`commune_code`)",
		},
		postgres: []string{
			`CREATE TABLE "aggregates" ("grain" varchar(1),"period" varchar(10),"centre_id" bigint,"indicator" varchar(16),"verified" boolean,"flagged" boolean,"commune_code" varchar(5) NOT NULL,"n" bigint NOT NULL,"sum" decimal,"sum_sq" decimal,PRIMARY KEY ("grain","period","centre_id","indicator","verified","flagged"))`,
			`CREATE INDEX IF NOT EXISTS "idx_aggregates_commune_code" ON "aggregates" ("commune_code")`,
			`CREATE TABLE "histograms" ("grain" varchar(1),"period" varchar(10),"centre_id" bigint,"indicator" varchar(16),"verified" boolean,"flagged" boolean,"value" decimal,"commune_code" varchar(5) NOT NULL,"count" bigint NOT NULL,PRIMARY KEY ("grain","period","centre_id","indicator","verified","flagged","value"))`,
			`CREATE INDEX IF NOT EXISTS "idx_histograms_commune_code" ON "histograms" ("commune_code")`,
		}},
	// Databases created before answer fingerprints existed lack the column;
	// the ones AutoMigrate created later already have it in step 1.
	{version: 3, name: "answer fingerprints for anomaly screening", after: addFingerprint},
	{version: 4, name: "aggregate look-up by commune and period",
		sqlite: []string{
			"CREATE INDEX IF NOT EXISTS idx_aggregates_commune_period ON aggregates (commune_code, grain, period)",
			"CREATE INDEX IF NOT EXISTS idx_histograms_commune_period ON histograms (commune_code, grain, period)",
		},
		postgres: []string{
			"CREATE INDEX IF NOT EXISTS idx_aggregates_commune_period ON aggregates (commune_code, grain, period)",
			"CREATE INDEX IF NOT EXISTS idx_histograms_commune_period ON histograms (commune_code, grain, period)",
		}},
	{version: 5, name: "covering indexes for city-wide reads",
		sqlite: []string{
			"CREATE INDEX IF NOT EXISTS idx_aggregates_cover ON aggregates (grain, commune_code, indicator, verified, flagged, period, n, sum, sum_sq)",
			"CREATE INDEX IF NOT EXISTS idx_histograms_cover ON histograms (grain, commune_code, indicator, value, flagged, period, count)",
		},
		postgres: []string{
			"CREATE INDEX IF NOT EXISTS idx_aggregates_cover ON aggregates (grain, commune_code, indicator, verified, flagged, period, n, sum, sum_sq)",
			"CREATE INDEX IF NOT EXISTS idx_histograms_cover ON histograms (grain, commune_code, indicator, value, flagged, period, count)",
		}},
	// Channel, residence and the module probabilities of each visit; an
	// assignment it answered; an index on day for month-by-month
	// recomputation. Screening's two indexes become one that its counts
	// read alone, and the status index keeps only the responses held for
	// review (every index costs each insert a page). Times are kept to the minute and durations to the
	// second from now on (screening needs no more, and a precise time can
	// be matched with a queue ticket), so existing rows are coarsened too.
	{version: 6, name: "channel, residence, module probabilities and coarse times of responses",
		sqlite: []string{
			"ALTER TABLE responses ADD COLUMN channel text NOT NULL DEFAULT 'qr'",
			"ALTER TABLE responses ADD COLUMN residence text NOT NULL DEFAULT ''",
			"ALTER TABLE responses ADD COLUMN residence_commune text NOT NULL DEFAULT ''",
			"ALTER TABLE responses ADD COLUMN probs text NOT NULL DEFAULT ''",
			"ALTER TABLE responses ADD COLUMN assignment_id text",
			"CREATE INDEX idx_responses_day ON responses (day)",
			"DROP INDEX idx_responses_centre_created",
			"DROP INDEX idx_responses_centre_fingerprint",
			"CREATE INDEX idx_responses_centre_created ON responses (centre_id, created_at, verified, fingerprint)",
			"DROP INDEX idx_responses_status",
			"CREATE INDEX idx_responses_review ON responses (status, id) WHERE status <> 'counted'",
			"UPDATE responses SET created_at = strftime('%Y-%m-%d %H:%M:00+00:00', created_at) WHERE strftime('%Y-%m-%d %H:%M:00+00:00', created_at) IS NOT NULL",
			"UPDATE responses SET duration_ms = ((duration_ms + 500) / 1000) * 1000 WHERE duration_ms IS NOT NULL",
		},
		postgres: []string{
			"ALTER TABLE responses ADD COLUMN channel varchar(16) NOT NULL DEFAULT 'qr', ADD COLUMN residence varchar(8) NOT NULL DEFAULT '', ADD COLUMN residence_commune varchar(5) NOT NULL DEFAULT '', ADD COLUMN probs text NOT NULL DEFAULT '', ADD COLUMN assignment_id varchar(64)",
			"CREATE INDEX idx_responses_day ON responses (day)",
			"DROP INDEX idx_responses_centre_created",
			"DROP INDEX idx_responses_centre_fingerprint",
			"CREATE INDEX idx_responses_centre_created ON responses (centre_id, created_at, verified, fingerprint)",
			"DROP INDEX idx_responses_status",
			"CREATE INDEX idx_responses_review ON responses (status, id) WHERE status <> 'counted'",
			"UPDATE responses SET created_at = date_trunc('minute', created_at), duration_ms = ((duration_ms + 500) / 1000) * 1000",
		}},
	{version: 7, name: "module assignments",
		sqlite: []string{
			"CREATE TABLE assignments (id text PRIMARY KEY, centre_id integer NOT NULL, modules text NOT NULL, probs text NOT NULL DEFAULT '', full_form numeric NOT NULL DEFAULT 0, completed integer NOT NULL DEFAULT 0, created_at datetime NOT NULL)",
			"CREATE INDEX idx_assignments_centre ON assignments (centre_id, created_at)",
		},
		postgres: []string{
			"CREATE TABLE assignments (id varchar(64) PRIMARY KEY, centre_id bigint NOT NULL, modules text NOT NULL, probs text NOT NULL DEFAULT '', full_form boolean NOT NULL DEFAULT false, completed bigint NOT NULL DEFAULT 0, created_at timestamptz NOT NULL)",
			"CREATE INDEX idx_assignments_centre ON assignments (centre_id, created_at)",
		}},
	// One packed row per (grain, period, commune credited, centre visited,
	// channel, version, verified, flagged) replaces a row per indicator;
	// the new rows are rebuilt from the responses in the same transaction.
	{version: 8, name: "packed tallies",
		sqlite: []string{
			"CREATE TABLE tallies (id integer PRIMARY KEY, grain text NOT NULL, period text NOT NULL, commune_code text NOT NULL, centre_id integer NOT NULL, channel text NOT NULL, questionnaire_version text NOT NULL, verified numeric NOT NULL, flagged numeric NOT NULL, responses integer NOT NULL, resident_here integer NOT NULL, resident_other integer NOT NULL, resident_outside integer NOT NULL, resident_unknown integer NOT NULL, data blob NOT NULL)",
			"CREATE UNIQUE INDEX idx_tallies_key ON tallies (grain, period, commune_code, centre_id, channel, questionnaire_version, verified, flagged)",
			"CREATE INDEX idx_tallies_commune ON tallies (commune_code, grain, period)",
			"DROP TABLE aggregates",
			"DROP TABLE histograms",
		},
		postgres: []string{
			"CREATE TABLE tallies (id bigserial PRIMARY KEY, grain varchar(1) NOT NULL, period varchar(10) NOT NULL, commune_code varchar(5) NOT NULL, centre_id bigint NOT NULL, channel varchar(16) NOT NULL, questionnaire_version varchar(32) NOT NULL, verified boolean NOT NULL, flagged boolean NOT NULL, responses bigint NOT NULL, resident_here bigint NOT NULL, resident_other bigint NOT NULL, resident_outside bigint NOT NULL, resident_unknown bigint NOT NULL, data bytea NOT NULL)",
			"CREATE UNIQUE INDEX idx_tallies_key ON tallies (grain, period, commune_code, centre_id, channel, questionnaire_version, verified, flagged)",
			"CREATE INDEX idx_tallies_commune ON tallies (commune_code, grain, period)",
			"DROP TABLE aggregates",
			"DROP TABLE histograms",
		},
		after: func(ctx context.Context, s *Store, tx *gorm.DB) error {
			_, err := s.rebuildAll(ctx, tx)
			return err
		}},
	{version: 9, name: "account life cycle, idle sessions and counted audit rows",
		sqlite: []string{
			"ALTER TABLE users ADD COLUMN disabled numeric NOT NULL DEFAULT false",
			"ALTER TABLE sessions ADD COLUMN last_seen_at datetime",
			"ALTER TABLE audit_log ADD COLUMN count integer NOT NULL DEFAULT 1",
			"UPDATE sessions SET last_seen_at = created_at",
		},
		postgres: []string{
			"ALTER TABLE users ADD COLUMN disabled boolean NOT NULL DEFAULT false",
			"ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz",
			"ALTER TABLE audit_log ADD COLUMN count bigint NOT NULL DEFAULT 1",
			"UPDATE sessions SET last_seen_at = created_at",
		}},
	// The receipts table is rebuilt: the issuer, the issue and use times
	// and the response link go; issued receipts keep working (their day of
	// issue in city time, valid for 7 days).
	{version: 10, name: "receipts bound to procedure records, without time of use, answer or issuer",
		sqlite: []string{
			"CREATE TABLE receipts_v7 (code_hash text PRIMARY KEY, record_hash text, centre_id integer NOT NULL, " +
				"issued_on text NOT NULL, expires_on text NOT NULL, used numeric NOT NULL DEFAULT false)",
			"INSERT INTO receipts_v7 (code_hash, centre_id, issued_on, expires_on, used) " +
				"SELECT code_hash, centre_id, date(created_at, '+7 hours'), date(created_at, '+7 hours', '+7 days'), used_at IS NOT NULL FROM receipts",
			"CREATE TABLE receipt_counts (issuer_id integer NOT NULL, month text NOT NULL, issued integer NOT NULL DEFAULT 0, " +
				"redeemed integer NOT NULL DEFAULT 0, PRIMARY KEY (issuer_id, month))",
			"CREATE TABLE secrets (name text PRIMARY KEY, value text NOT NULL)",
			"DROP TABLE receipts",
			"ALTER TABLE receipts_v7 RENAME TO receipts",
			"CREATE UNIQUE INDEX idx_receipts_record_hash ON receipts (record_hash)",
			"CREATE INDEX idx_receipts_centre_issued ON receipts (centre_id, issued_on)",
		},
		postgres: []string{
			"CREATE TABLE receipts_v7 (code_hash varchar(64) PRIMARY KEY, record_hash varchar(64), centre_id bigint NOT NULL, " +
				"issued_on varchar(10) NOT NULL, expires_on varchar(10) NOT NULL, used boolean NOT NULL DEFAULT false)",
			"INSERT INTO receipts_v7 (code_hash, centre_id, issued_on, expires_on, used) " +
				"SELECT code_hash, centre_id, to_char(created_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD'), " +
				"to_char((created_at AT TIME ZONE 'Asia/Ho_Chi_Minh') + interval '7 days', 'YYYY-MM-DD'), used_at IS NOT NULL FROM receipts",
			"CREATE TABLE receipt_counts (issuer_id bigint NOT NULL, month varchar(7) NOT NULL, issued bigint NOT NULL DEFAULT 0, " +
				"redeemed bigint NOT NULL DEFAULT 0, PRIMARY KEY (issuer_id, month))",
			"CREATE TABLE secrets (name varchar(32) PRIMARY KEY, value text NOT NULL)",
			"DROP TABLE receipts",
			"ALTER TABLE receipts_v7 RENAME TO receipts",
			"CREATE UNIQUE INDEX idx_receipts_record_hash ON receipts (record_hash)",
			"CREATE INDEX idx_receipts_centre_issued ON receipts (centre_id, issued_on)",
		}},
	// Kiosks: a centre's enrolled tablets, known by the hashes of their
	// one-time enrolment code and of their device secret. Responses name
	// the kiosk they came from, so screening counts a tablet's answers per
	// device; the centre index that screening reads alone gains kiosk_id
	// (phones are counted apart from tablets), and a partial index serves
	// the per-device counts.
	{version: 11, name: "kiosks and the kiosk of each response",
		sqlite: []string{
			"CREATE TABLE kiosks (id integer PRIMARY KEY AUTOINCREMENT, centre_id integer NOT NULL, label text NOT NULL, " +
				"code_hash text, code_expires_at datetime, secret_hash text, created_at datetime NOT NULL, enrolled_at datetime, " +
				"last_seen text NOT NULL DEFAULT '', revoked_at datetime)",
			"CREATE UNIQUE INDEX idx_kiosks_code_hash ON kiosks (code_hash)",
			"CREATE UNIQUE INDEX idx_kiosks_secret_hash ON kiosks (secret_hash)",
			"CREATE INDEX idx_kiosks_centre ON kiosks (centre_id, id)",
			"ALTER TABLE responses ADD COLUMN kiosk_id integer",
			"DROP INDEX idx_responses_centre_created",
			"CREATE INDEX idx_responses_centre_created ON responses (centre_id, created_at, verified, fingerprint, kiosk_id)",
			"CREATE INDEX idx_responses_kiosk ON responses (kiosk_id, created_at, fingerprint) WHERE kiosk_id IS NOT NULL",
		},
		postgres: []string{
			"CREATE TABLE kiosks (id bigserial PRIMARY KEY, centre_id bigint NOT NULL, label text NOT NULL, " +
				"code_hash varchar(64), code_expires_at timestamptz, secret_hash varchar(64), created_at timestamptz NOT NULL, enrolled_at timestamptz, " +
				"last_seen varchar(10) NOT NULL DEFAULT '', revoked_at timestamptz)",
			"CREATE UNIQUE INDEX idx_kiosks_code_hash ON kiosks (code_hash)",
			"CREATE UNIQUE INDEX idx_kiosks_secret_hash ON kiosks (secret_hash)",
			"CREATE INDEX idx_kiosks_centre ON kiosks (centre_id, id)",
			"ALTER TABLE responses ADD COLUMN kiosk_id bigint",
			"DROP INDEX idx_responses_centre_created",
			"CREATE INDEX idx_responses_centre_created ON responses (centre_id, created_at, verified, fingerprint, kiosk_id)",
			"CREATE INDEX idx_responses_kiosk ON responses (kiosk_id, created_at, fingerprint) WHERE kiosk_id IS NOT NULL",
		}},
	// Screening's centre index keeps only answers given at a centre: a
	// household interview (centre 0) is never screened by centre, and its
	// entry cost every imported row a random index insert
	// (BenchmarkStorageFloor: 11,800 rows/s with it, 20,300 without).
	{version: 12, name: "the screening index for answers given at a centre only",
		sqlite: []string{
			"DROP INDEX idx_responses_centre_created",
			"CREATE INDEX idx_responses_centre_created ON responses (centre_id, created_at, verified, fingerprint, kiosk_id) WHERE centre_id > 0",
		},
		postgres: []string{
			"DROP INDEX idx_responses_centre_created",
			"CREATE INDEX idx_responses_centre_created ON responses (centre_id, created_at, verified, fingerprint, kiosk_id) WHERE centre_id > 0",
		}},
	// On SQLite the tallies become a table clustered by their key (WITHOUT
	// ROWID): a tally upsert then searches and writes one B-tree instead of
	// the key index and the table, and a period's rows lie side by side,
	// so reading the city's year no longer jumps from the index to rows
	// scattered over the table. PostgreSQL keeps its heap and key index.
	{version: 13, name: "tallies clustered by their key on SQLite",
		sqlite: []string{
			"CREATE TABLE tallies_keyed (grain text NOT NULL, period text NOT NULL, commune_code text NOT NULL, centre_id integer NOT NULL, channel text NOT NULL, questionnaire_version text NOT NULL, verified numeric NOT NULL, flagged numeric NOT NULL, " +
				"responses integer NOT NULL, resident_here integer NOT NULL, resident_other integer NOT NULL, resident_outside integer NOT NULL, resident_unknown integer NOT NULL, data blob NOT NULL, " +
				"PRIMARY KEY (grain, period, commune_code, centre_id, channel, questionnaire_version, verified, flagged)) WITHOUT ROWID",
			"INSERT INTO tallies_keyed SELECT grain, period, commune_code, centre_id, channel, questionnaire_version, verified, flagged, " +
				"responses, resident_here, resident_other, resident_outside, resident_unknown, data FROM tallies",
			"DROP TABLE tallies",
			"ALTER TABLE tallies_keyed RENAME TO tallies",
			"CREATE INDEX idx_tallies_commune ON tallies (commune_code, grain, period)",
		}},
	// Credits to the commune a visitor lives in, from a centre of another
	// commune, move to one row per commune without the centre (see
	// tallyBatch.add); the tallies are rebuilt from the responses, about
	// 20 s for 1,000,000 of them.
	{version: 14, name: "credits to other communes in one row per commune",
		after: func(ctx context.Context, s *Store, tx *gorm.DB) error {
			_, err := s.rebuildAll(ctx, tx)
			return err
		}},
	// The live intake's delta rows on PostgreSQL (see tallydelta.go);
	// SQLite's came with step 16.
	{version: 15, name: "tally delta rows on PostgreSQL",
		postgres: []string{
			"CREATE TABLE tally_deltas (id bigserial PRIMARY KEY, grain varchar(1) NOT NULL, period varchar(10) NOT NULL, commune_code varchar(5) NOT NULL, centre_id bigint NOT NULL, channel varchar(16) NOT NULL, questionnaire_version varchar(32) NOT NULL, verified boolean NOT NULL, flagged boolean NOT NULL, " +
				"responses bigint NOT NULL, resident_here bigint NOT NULL, resident_other bigint NOT NULL, resident_outside bigint NOT NULL, resident_unknown bigint NOT NULL, data bytea NOT NULL)",
		}},
	// SQLite's live intake appends delta rows too, in place of its cache
	// of tally rows (see tallydelta.go). PostgreSQL has them already. The
	// ids are never reused (AUTOINCREMENT): a fold deletes the rows it
	// read by id (foldRead).
	{version: 16, name: "tally delta rows on SQLite",
		sqlite: []string{
			"CREATE TABLE tally_deltas (id integer PRIMARY KEY AUTOINCREMENT, grain text NOT NULL, period text NOT NULL, commune_code text NOT NULL, centre_id integer NOT NULL, channel text NOT NULL, questionnaire_version text NOT NULL, verified numeric NOT NULL, flagged numeric NOT NULL, " +
				"responses integer NOT NULL, resident_here integer NOT NULL, resident_other integer NOT NULL, resident_outside integer NOT NULL, resident_unknown integer NOT NULL, data blob NOT NULL)",
		}},
	// Year rows beside the day and month rows, so that a year is read from
	// a few rows per commune (see periodsOf), rolled up from the month rows
	// once every delta row is folded: about 3 s for 1,000,000 responses.
	{version: 17, name: "tallies by year",
		after: func(ctx context.Context, s *Store, tx *gorm.DB) error {
			if err := s.foldAll(ctx, tx); err != nil {
				return err
			}
			months, err := s.tallyMonths(ctx, tx)
			if err != nil {
				return err
			}
			var rep RecomputeReport
			return s.rollUpYears(ctx, tx, months, &rep)
		}},
	// Screening's count of a phone answer's identical answers at its
	// centre in the past hour looks them up here, instead of reading every
	// answer of the centre's hour from idx_responses_centre_created: under
	// a flood that took half of the screening query's time. SQLite counts
	// them in memory (phoneMemory), where the index cost more than it saved.
	{version: 18, name: "the identical phone answers at a centre, indexed on PostgreSQL",
		postgres: []string{
			"CREATE INDEX idx_responses_phone_fingerprint ON responses (centre_id, fingerprint, created_at) WHERE centre_id > 0 AND kiosk_id IS NULL",
		}},
	// A fold rewrites the same tally rows every second (today's day, this
	// month, this year). On full pages PostgreSQL puts each new version
	// elsewhere and adds it to all three indexes; with a fifth of each page
	// left free most stay on their page without index entries (HOT):
	// 62 % of the fold's updates instead of 17 %, and its upserts took
	// 313 ms instead of 574 ms in 10 s of load. Pages filled before this
	// step keep their rows; new pages leave the room.
	{version: 19, name: "room on PostgreSQL's tally pages for rows rewritten in place",
		postgres: []string{
			"ALTER TABLE tallies SET (fillfactor = 80)",
		}},
}

// SchemaVersion is the schema version this build creates and understands.
var SchemaVersion = migrations[len(migrations)-1].version

// addFingerprint adds responses.fingerprint and its index where missing.
func addFingerprint(ctx context.Context, s *Store, tx *gorm.DB) error {
	if s.postgres {
		for _, q := range []string{
			`ALTER TABLE responses ADD COLUMN IF NOT EXISTS fingerprint varchar(16)`,
			`CREATE INDEX IF NOT EXISTS "idx_responses_centre_fingerprint" ON "responses" ("centre_id","fingerprint")`,
		} {
			if err := tx.Exec(q).Error; err != nil {
				return fmt.Errorf("add responses.fingerprint: %w", err)
			}
		}
		return nil
	}
	var n int64
	if err := tx.Raw("SELECT COUNT(*) FROM pragma_table_info('responses') WHERE name = 'fingerprint'").Scan(&n).Error; err != nil {
		return fmt.Errorf("look for responses.fingerprint: %w", err)
	}
	if n == 0 {
		if err := tx.Exec("ALTER TABLE `responses` ADD `fingerprint` text").Error; err != nil {
			return fmt.Errorf("add responses.fingerprint: %w", err)
		}
	}
	return tx.Exec("CREATE INDEX IF NOT EXISTS `idx_responses_centre_fingerprint` ON `responses`(`centre_id`,`fingerprint`)").Error
}

// migrationLock is the PostgreSQL advisory lock key under which schema
// steps and seeding run, so that several papi processes starting together
// on one database apply each step once.
const migrationLock = 0x7a91_0105

func (s *Store) migrate(ctx context.Context) error {
	db := s.db.WithContext(ctx)
	create := "CREATE TABLE IF NOT EXISTS `schema_migrations` (`version` integer,`name` text,`applied_at` datetime,PRIMARY KEY (`version`))"
	if s.postgres {
		create = `CREATE TABLE IF NOT EXISTS "schema_migrations" ("version" bigint,"name" text,"applied_at" timestamptz,PRIMARY KEY ("version"))`
	}
	err := db.Transaction(func(tx *gorm.DB) error {
		if err := s.lockSchema(tx); err != nil {
			return err
		}
		return tx.Exec(create).Error
	})
	if err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var done []int
	if err := db.Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&done).Error; err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	if len(done) > 0 && done[len(done)-1] > SchemaVersion {
		return fmt.Errorf("the database schema is at version %d, newer than this papi build, which knows versions up to %d: run a newer papi, or restore a backup made before the upgrade", done[len(done)-1], SchemaVersion)
	}
	for _, m := range migrations {
		if slices.Contains(done, m.version) {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			if err := s.lockSchema(tx); err != nil {
				return err
			}
			// Another process may have applied the step while this one
			// waited for the lock.
			var n int64
			if err := tx.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = ?", m.version).Scan(&n).Error; err != nil || n > 0 {
				return err
			}
			stmts := m.sqlite
			if s.postgres {
				stmts = m.postgres
			}
			for _, q := range stmts {
				if err := tx.Exec(q).Error; err != nil {
					return fmt.Errorf("%s: %w", strings.SplitN(q, "(", 2)[0], err)
				}
			}
			if m.after != nil {
				if err := m.after(ctx, s, tx); err != nil {
					return err
				}
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", m.version, m.name, s.now().UTC()).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// lockSchema serialises schema changes and seeding between processes on
// PostgreSQL for the rest of the transaction. On SQLite the write lock
// taken at BEGIN already does.
func (s *Store) lockSchema(tx *gorm.DB) error {
	if !s.postgres {
		return nil
	}
	return tx.Exec("SELECT pg_advisory_xact_lock(?)", migrationLock).Error
}
