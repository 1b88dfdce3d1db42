package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	_ "github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// environment starts the servers of one run.
type environment struct {
	o     options
	cats  []*survey.Catalogue
	tmp   string
	round int // the round under way (see -rounds)
}

// dbFile is the path of a server's SQLite file in this round: every round
// starts on a fresh database.
func (env *environment) dbFile(name string) string {
	return filepath.Join(env.tmp, fmt.Sprintf("%s-%d.db", name, env.round))
}

// serveEcho serves h on a fresh loopback port.
func serveEcho(h http.Handler) (string, func() error, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	go func() { _ = srv.Serve(l) }()
	stop := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	}
	return "http://" + l.Addr().String(), stop, nil
}

// decoder decodes and validates a submission the way api does.
type decoder struct {
	validate *validator.Validate
	cats     map[string]*survey.Catalogue
}

func newDecoder(cats []*survey.Catalogue) *decoder {
	d := &decoder{validate: api.NewValidator(), cats: map[string]*survey.Catalogue{}}
	for _, c := range cats {
		d.cats[c.Version] = c
	}
	return d
}

func (d *decoder) decode(c echo.Context) (*api.SubmissionRequest, survey.Visit, error) {
	var req api.SubmissionRequest
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, survey.Visit{}, echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	if err := d.validate.Struct(&req); err != nil {
		return nil, survey.Visit{}, echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	cat, ok := d.cats[req.QuestionnaireVersion]
	if !ok {
		return nil, survey.Visit{}, echo.NewHTTPError(http.StatusBadRequest, "unknown questionnaire version")
	}
	visit, err := cat.ValidateSubmission(survey.Submission{Modules: req.Modules, Answers: req.Answers, Sex: req.Sex, AgeGroup: req.AgeGroup})
	if err != nil {
		return nil, survey.Visit{}, echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	return &req, visit, nil
}

func newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	return e
}

func (env *environment) startBare() (string, []string, func() error, int, error) {
	d := newDecoder(env.cats)
	var ids atomic.Uint64
	e := newEcho()
	e.POST("/api/v1/responses", func(c echo.Context) error {
		if _, _, err := d.decode(c); err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, map[string]any{"id": ids.Add(1)})
	})
	base, stop, err := serveEcho(e)
	return base, nil, stop, 0, err
}

// pgSchema creates a fresh schema on the PostgreSQL server and returns a
// URL whose search_path points at it, and a function that drops it.
func (env *environment) pgSchema(name string) (string, func(), error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	schema := "papiload_" + name + "_" + hex.EncodeToString(b)
	admin, err := gorm.Open(postgres.Open(env.o.postgres), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return "", nil, err
	}
	drop := func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		if db, err := admin.DB(); err == nil {
			db.Close()
		}
	}
	u, err := url.Parse(env.o.postgres)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// sqliteDSN is papi's SQLite DSN for its writer (store.openSQLite): WAL,
// synchronous NORMAL, the write lock taken at BEGIN, a 32 MiB page cache.
func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", "immediate")
	q.Set("_cache_size", "-32768") // papi's writer cache
	return "file:" + path + "?" + q.Encode()
}

// floorRow is what the durable floor stores per request: the submission
// as papi keeps it, without screening, tallies or receipts.
type floorRow struct {
	sid, token, version, modules, answers, sex, age, lang string
	duration                                              int64
	at                                                    time.Time
}

type floorReq struct {
	row  floorRow
	done chan error
}

// startFloor serves the durable floor: decode and validate as bare, then
// hand one row to a single writer goroutine, which inserts every row
// waiting with one multi-row INSERT in one transaction and answers each
// request after the commit.
func (env *environment) startFloor() (string, []string, func() error, int, error) {
	var db *sql.DB
	var err error
	cleanup := func() {}
	pg := env.o.postgres != ""
	create := `CREATE TABLE floor (id INTEGER PRIMARY KEY, submission_id TEXT NOT NULL UNIQUE, token TEXT NOT NULL, version TEXT NOT NULL,
		modules TEXT NOT NULL, answers TEXT NOT NULL, sex TEXT, age_group TEXT, lang TEXT, duration_ms INTEGER, created_at DATETIME NOT NULL)`
	if pg {
		dsn, drop, err := env.pgSchema("floor")
		if err != nil {
			return "", nil, nil, 0, err
		}
		cleanup = drop
		gdb, err := gorm.Open(postgres.Open(dsn), &gorm.Config{Logger: logger.Discard})
		if err != nil {
			drop()
			return "", nil, nil, 0, err
		}
		db, _ = gdb.DB()
		db.SetMaxOpenConns(4)
		create = `CREATE TABLE floor (id BIGSERIAL PRIMARY KEY, submission_id VARCHAR(64) NOT NULL UNIQUE, token VARCHAR(64) NOT NULL, version VARCHAR(32) NOT NULL,
			modules TEXT NOT NULL, answers TEXT NOT NULL, sex VARCHAR(16), age_group VARCHAR(16), lang VARCHAR(8), duration_ms BIGINT, created_at TIMESTAMPTZ NOT NULL)`
	} else {
		if db, err = sql.Open("sqlite3", sqliteDSN(env.dbFile("floor"))); err != nil {
			return "", nil, nil, 0, err
		}
		db.SetMaxOpenConns(1) // one writer, as papi
	}
	if _, err := db.Exec(create); err != nil {
		db.Close()
		cleanup()
		return "", nil, nil, 0, err
	}
	queue := make(chan *floorReq, 512)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		batch := make([]*floorReq, 0, 128)
		for first := range queue {
			batch = append(batch[:0], first)
		drain:
			for len(batch) < cap(batch) {
				select {
				case r, ok := <-queue:
					if !ok {
						break drain
					}
					batch = append(batch, r)
				default:
					break drain
				}
			}
			err := floorCommit(db, pg, batch)
			for _, r := range batch {
				r.done <- err
			}
		}
	}()
	d := newDecoder(env.cats)
	e := newEcho()
	e.POST("/api/v1/responses", func(c echo.Context) error {
		req, visit, err := d.decode(c)
		if err != nil {
			return err
		}
		answers, err := json.Marshal(visit.Answers)
		if err != nil {
			return err
		}
		r := &floorReq{done: make(chan error, 1), row: floorRow{sid: req.SubmissionID, token: req.Token, version: req.QuestionnaireVersion,
			modules: strings.Join(visit.Modules, ","), answers: string(answers), sex: visit.Sex, age: visit.AgeGroup, lang: req.Lang,
			duration: req.DurationMS, at: time.Now().UTC()}}
		queue <- r
		if err := <-r.done; err != nil {
			return echo.NewHTTPError(http.StatusInternalServerError, err.Error())
		}
		return c.JSON(http.StatusCreated, map[string]any{"id": 1})
	})
	base, stopHTTP, err := serveEcho(e)
	stop := func() error {
		err := stopHTTP()
		close(queue)
		<-stopped
		err = errors.Join(err, db.Close())
		cleanup()
		return err
	}
	return base, nil, stop, 0, err
}

// floorCommit writes a batch of rows in one transaction.
func floorCommit(db *sql.DB, pg bool, batch []*floorReq) error {
	var q strings.Builder
	args := make([]any, 0, 11*len(batch))
	q.WriteString("INSERT INTO floor (submission_id, token, version, modules, answers, sex, age_group, lang, duration_ms, created_at) VALUES ")
	for i, r := range batch {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(")
		for j, v := range []any{r.row.sid, r.row.token, r.row.version, r.row.modules, r.row.answers, r.row.sex, r.row.age, r.row.lang, r.row.duration, r.row.at} {
			if j > 0 {
				q.WriteString(", ")
			}
			args = append(args, v)
			if pg {
				q.WriteString("$" + strconv.Itoa(len(args)))
			} else {
				q.WriteString("?")
			}
		}
		q.WriteString(")")
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	if _, err := tx.Exec(q.String(), args...); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// naiveResponse is the row the naive handler inserts.
type naiveResponse struct {
	ID                   uint64 `gorm:"primaryKey"`
	SubmissionID         string `gorm:"not null;uniqueIndex;size:64"`
	Token                string `gorm:"not null;size:64"`
	QuestionnaireVersion string `gorm:"not null;size:32"`
	Modules              string `gorm:"not null"`
	Answers              string `gorm:"not null"`
	Sex                  string `gorm:"size:16"`
	AgeGroup             string `gorm:"size:16"`
	Lang                 string `gorm:"size:8"`
	DurationMS           int64
	CreatedAt            time.Time
}

func (env *environment) startNaive() (string, []string, func() error, int, error) {
	// Default settings: no DSN options (SQLite: rollback journal,
	// go-sqlite3's default busy timeout) and database/sql's default,
	// unbounded pool. The GORM logger is silenced only to keep the output
	// readable.
	dial := sqlite.Open(env.dbFile("naive"))
	cleanup := func() {}
	if env.o.postgres != "" {
		dsn, drop, err := env.pgSchema("naive")
		if err != nil {
			return "", nil, nil, 0, err
		}
		dial, cleanup = postgres.Open(dsn), drop
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		cleanup()
		return "", nil, nil, 0, err
	}
	if err := db.AutoMigrate(&naiveResponse{}); err != nil {
		cleanup()
		return "", nil, nil, 0, err
	}
	d := newDecoder(env.cats)
	e := newEcho()
	e.POST("/api/v1/responses", func(c echo.Context) error {
		req, visit, err := d.decode(c)
		if err != nil {
			return err
		}
		answers, err := json.Marshal(visit.Answers)
		if err != nil {
			return err
		}
		row := naiveResponse{SubmissionID: req.SubmissionID, Token: req.Token, QuestionnaireVersion: req.QuestionnaireVersion,
			Modules: strings.Join(visit.Modules, ","), Answers: string(answers), Sex: visit.Sex, AgeGroup: visit.AgeGroup,
			Lang: req.Lang, DurationMS: req.DurationMS}
		if err := db.WithContext(c.Request().Context()).Create(&row).Error; err != nil {
			return echo.NewHTTPError(http.StatusInternalServerError, err.Error())
		}
		return c.JSON(http.StatusCreated, map[string]any{"id": row.ID})
	})
	base, stopHTTP, err := serveEcho(e)
	stop := func() error {
		err := stopHTTP()
		if sqlDB, e2 := db.DB(); e2 == nil {
			err = errors.Join(err, sqlDB.Close())
		}
		cleanup()
		return err
	}
	return base, nil, stop, 0, err
}

// papiDSN returns the database papi or serve runs on: a fresh schema on
// PostgreSQL, a copy of -papidb, or a new SQLite file.
func (env *environment) papiDSN(name string) (string, func(), error) {
	switch {
	case env.o.postgres != "":
		return env.pgSchema(name)
	case env.o.papiDB != "":
		path := env.dbFile(name)
		if err := copyFile(env.o.papiDB, path); err != nil {
			return "", nil, fmt.Errorf("copy %s: %w", env.o.papiDB, err)
		}
		return path, func() {}, nil
	}
	return env.dbFile(name), func() {}, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	// Written back before the run starts, so that the copy's disk writes
	// do not compete with the load.
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func (env *environment) startPapi() (string, []string, func() error, int, error) {
	ctx := context.Background()
	dsn, cleanup, err := env.papiDSN("papi")
	if err != nil {
		return "", nil, nil, 0, err
	}
	st, err := store.Open(ctx, dsn, store.Options{Catalogues: env.cats})
	if err != nil {
		cleanup()
		return "", nil, nil, 0, err
	}
	communes, err := survey.Communes()
	if err == nil {
		err = st.Seed(ctx, communes)
	}
	var centres []store.Centre
	if err == nil {
		centres, err = st.AllCentres(ctx)
	}
	if err != nil {
		st.Close()
		cleanup()
		return "", nil, nil, 0, err
	}
	tokens := make([]string, len(centres))
	for i, c := range centres {
		tokens[i] = c.Token
	}
	// The service logs one JSON line per submission at info level; format
	// them as it does, into io.Discard.
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := api.New(st, api.Config{RateLimit: api.RateLimit{Off: true}, BaseURL: "http://127.0.0.1"}, log)
	base, stopHTTP, err := serveEcho(srv.Handler())
	if err != nil {
		st.Close()
		cleanup()
		return "", nil, nil, 0, err
	}
	stop := func() error {
		defer cleanup()
		defer st.Close()
		return stopHTTP()
	}
	return base, tokens, stop, 0, nil
}

// startServe builds cmd/papi and runs `papi serve` as a subprocess.
func (env *environment) startServe() (string, []string, func() error, int, error) {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", nil, nil, 0, fmt.Errorf("find the module (run papiload inside the repository): %w", err)
	}
	bin := filepath.Join(env.tmp, "papi")
	build := exec.Command("go", "build", "-o", bin, "./cmd/papi")
	build.Dir = strings.TrimSpace(string(root))
	if out, err := build.CombinedOutput(); err != nil {
		return "", nil, nil, 0, fmt.Errorf("go build ./cmd/papi: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, nil, 0, err
	}
	addr := l.Addr().String()
	l.Close()
	db, cleanup, err := env.papiDSN("serve")
	if err != nil {
		return "", nil, nil, 0, err
	}
	logf, err := os.Create(filepath.Join(env.tmp, "serve.log"))
	if err != nil {
		cleanup()
		return "", nil, nil, 0, err
	}
	cmd := exec.Command(bin, "serve")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAPI_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "PAPI_ADDR="+addr, "PAPI_DB="+db, "PAPI_BASE_URL=http://"+addr, "PAPI_RATE_LIMIT=off")
	cmd.Stdout, cmd.Stderr = logf, logf // info-level JSON logs, as deployed
	if err := cmd.Start(); err != nil {
		logf.Close()
		cleanup()
		return "", nil, nil, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() error {
		defer cleanup()
		defer logf.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			return errors.New("papi serve did not stop within 30 s of SIGTERM; killed")
		}
	}
	base := "http://" + addr
	hc := &http.Client{Timeout: time.Second}
	for ready := time.Now().Add(120 * time.Second); ; {
		resp, err := hc.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(ready) {
			_ = stop()
			return "", nil, nil, 0, errors.New("papi serve did not become healthy within 120 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tokens, err := readTokens(db)
	if err != nil {
		_ = stop()
		return "", nil, nil, 0, err
	}
	return base, tokens, stop, cmd.Process.Pid, nil
}

// readTokens reads the centres' tokens through a short-lived handle on the
// server's database.
func readTokens(dsn string) ([]string, error) {
	var dial gorm.Dialector = sqlite.Open("file:" + dsn + "?mode=ro&_busy_timeout=10000")
	if strings.HasPrefix(dsn, "postgres") {
		dial = postgres.Open(dsn)
	}
	db, err := gorm.Open(dial, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	var out []string
	err = db.Raw("SELECT token FROM centres WHERE open ORDER BY id").Scan(&out).Error
	return out, err
}
