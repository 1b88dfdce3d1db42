// Command papiload is the intake load run: it drives, one after another and
// on loopback only, three servers with the same stream of valid resident
// submissions and prints a Markdown table of what it measured.
//
//	go run ./cmd/papiload -clients 32 -duration 20s
//
// The servers:
//
//	bare   Echo; decode into papi's request struct, validate with
//	       go-playground/validator and the catalogue; answer 201. No database.
//	naive  the same, then one GORM Create per request on SQLite with default
//	       settings (rollback journal, default pool).
//	papi   the real service (api.New on store.Open + Seed, temp SQLite file),
//	       in this process.
//	papi serve  the built papi binary as a subprocess, so that its memory is
//	       measured alone (-subprocess=false skips it).
//
// Each submission has a unique submission_id; bodies are built from a pool
// of pre-synthesized answer sets (-templates).
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	_ "github.com/mattn/go-sqlite3"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

func main() {
	clients := flag.Int("clients", 32, "concurrent keep-alive clients")
	duration := flag.Duration("duration", 20*time.Second, "load duration per server")
	templates := flag.Int("templates", 500, "distinct synthesized answer sets to cycle through")
	only := flag.String("only", "bare,naive,papi,serve", "comma-separated servers to run: bare, naive, papi, serve")
	subprocess := flag.Bool("subprocess", true, "also load a `papi serve` subprocess to measure its RSS alone")
	seed := flag.Uint64("seed", 1, "random seed for the synthesized answers")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the in-process papi run to this file")
	flag.Parse()
	if *clients < 1 || *duration <= 0 {
		fmt.Fprintln(os.Stderr, "papiload: -clients must be ≥ 1 and -duration > 0")
		os.Exit(2)
	}
	if err := run(*clients, *duration, *templates, *only, *subprocess, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "papiload:", err)
		os.Exit(1)
	}
}

// result is one server's measurements.
type result struct {
	name        string
	requests    int64
	failures    int64
	created     int64 // 201s
	elapsed     time.Duration
	lat         []time.Duration // every request, failures included
	rssPeak     int64           // kB, sampled VmRSS maximum during the run
	hwm         int64           // kB, VmHWM at the end of the run
	sameProcess bool
	errSamples  map[string]int
	loadBefore  string // /proc/loadavg 1-minute figure before and after
	loadAfter   string
}

func (r result) throughput() float64 { return float64(r.requests-r.failures) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p*float64(len(r.lat))+0.5) - 1
	i = max(0, min(i, len(r.lat)-1))
	return r.lat[i]
}

var cpuProfile string

func run(clients int, duration time.Duration, ntpl int, only string, subprocess bool, seed uint64) error {
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		want[strings.TrimSpace(s)] = true
	}
	if !subprocess {
		delete(want, "serve")
	}
	cats, err := survey.Catalogues()
	if err != nil {
		return err
	}
	cat := cats[len(cats)-1]
	tmp, err := os.MkdirTemp("", "papiload-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gen := newGenerator(cat, ntpl, seed)

	fmt.Printf("machine: %s\n", machine())
	fmt.Printf("command: papiload -clients %d -duration %s (GOMAXPROCS %d, %d answer templates, %s)\n\n",
		clients, duration, runtime.GOMAXPROCS(0), ntpl, runtime.Version())

	var results []result
	type target struct {
		name  string
		start func() (base string, tokens []string, stop func() error, pid int, err error)
	}
	targets := []target{
		{"bare", func() (string, []string, func() error, int, error) { return startBare(cats) }},
		{"naive", func() (string, []string, func() error, int, error) {
			return startNaive(cats, filepath.Join(tmp, "naive.db"))
		}},
		{"papi", func() (string, []string, func() error, int, error) {
			return startPapi(cats, filepath.Join(tmp, "papi.db"))
		}},
		{"serve", func() (string, []string, func() error, int, error) { return startServe(tmp) }},
	}
	for _, tg := range targets {
		if !want[tg.name] {
			continue
		}
		runtime.GC()
		debug.FreeOSMemory()
		base, tokens, stop, pid, err := tg.start()
		if err != nil {
			return fmt.Errorf("%s: %w", tg.name, err)
		}
		if len(tokens) == 0 {
			tokens = []string{"loadtoken0000000000000000000000000000000"}
		}
		fmt.Fprintf(os.Stderr, "loading %s at %s for %s with %d clients…\n", tg.name, base, duration, clients)
		profiling := false
		if tg.name == "papi" && cpuProfile != "" {
			f, err := os.Create(cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := pprof.StartCPUProfile(f); err != nil {
				return err
			}
			profiling = true
		}
		before := loadavg()
		r := load(base, tokens, gen, clients, duration, pid, tg.name)
		r.loadBefore, r.loadAfter = before, loadavg()
		if profiling {
			pprof.StopCPUProfile()
		}
		r.name = tg.name
		if err := stop(); err != nil {
			fmt.Fprintf(os.Stderr, "%s: stop: %v\n", tg.name, err)
		}
		results = append(results, r)
		fmt.Fprintf(os.Stderr, "  %d requests, %d failed, %.0f req/s, p99 %s\n", r.requests, r.failures, r.throughput(), ms(r.pct(.99)))
	}
	report(results)
	return nil
}

// loadavg is the host's 1-minute load average: other work on the machine
// skews every figure here, so each run records it.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// machine describes the host: CPUs, model and memory.
func machine() string {
	model, mem := "unknown CPU", ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64); err == nil {
					mem = fmt.Sprintf(", %.1f GiB RAM", float64(kb)/1024/1024)
				}
			}
		}
	}
	return fmt.Sprintf("%d CPUs (nproc), %s%s, %s/%s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH)
}

// ---- bodies

// generator makes valid submission bodies: answer sets are synthesized up
// front; each body gets a unique submission_id and a centre token.
type generator struct {
	rest [][]byte // `"questionnaire_version":…}` without the opening brace
	n    atomic.Uint64
	run  string
}

func newGenerator(cat *survey.Catalogue, n int, seed uint64) *generator {
	rng := rand.New(rand.NewPCG(seed, 0x10ad))
	g := &generator{run: strconv.FormatInt(time.Now().UnixNano()%1e9, 36)}
	for i := 0; i < n; i++ {
		modules := cat.AssignModules(rng.Uint64())
		sub := cat.Synthesize(rng, modules, 0.2+0.6*rng.Float64())
		if _, err := cat.ValidateSubmission(sub); err != nil {
			panic("synthesized submission is invalid: " + err.Error())
		}
		b, _ := json.Marshal(map[string]any{
			"questionnaire_version": cat.Version, "modules": sub.Modules, "answers": sub.Answers,
			"sex": sub.Sex, "age_group": sub.AgeGroup, "duration_ms": 60000 + rng.IntN(240000), "lang": "vi",
		})
		g.rest = append(g.rest, b[1:])
	}
	return g
}

func (g *generator) body(dst []byte, tokens []string, target string) []byte {
	k := g.n.Add(1)
	rest := g.rest[k%uint64(len(g.rest))]
	dst = append(dst[:0], `{"submission_id":"load-`...)
	dst = append(dst, target...)
	dst = append(dst, '-')
	dst = append(dst, g.run...)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, k, 10)
	dst = append(dst, `","token":"`...)
	dst = append(dst, tokens[k%uint64(len(tokens))]...)
	dst = append(dst, `",`...)
	return append(dst, rest...)
}

// ---- load

func load(base string, tokens []string, gen *generator, clients int, duration time.Duration, pid int, target string) result {
	tr := &http.Transport{
		MaxIdleConns: clients, MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := base + "/api/v1/responses"
	if pid == 0 {
		pid = os.Getpid()
	}

	var peak atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _ := procStatus(pid); rss > peak.Load() {
				peak.Store(rss)
			}
			select {
			case <-stopSampling:
				return
			case <-t.C:
			}
		}
	}()

	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      []time.Duration
		requests atomic.Int64
		failures atomic.Int64
		created  atomic.Int64
		errs     = map[string]int{}
	)
	start := time.Now()
	deadline := start.Add(duration)
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				// A fresh buffer per request: the transport may still hold
				// the previous body when Do returns.
				body := gen.body(nil, tokens, target)
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := hc.Do(req)
				var status int
				var answer []byte
				if err == nil {
					status = resp.StatusCode
					answer, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				lat = append(lat, time.Since(t0))
				requests.Add(1)
				if err != nil || status/100 != 2 {
					failures.Add(1)
					msg := fmt.Sprintf("status %d %.90s", status, answer)
					if err != nil {
						msg = shortErr(err)
					}
					mu.Lock()
					errs[msg]++
					mu.Unlock()
				} else if status == http.StatusCreated {
					created.Add(1)
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(stopSampling)
	<-sampled
	rss, hwm := procStatus(pid)
	if rss > peak.Load() {
		peak.Store(rss)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return result{requests: requests.Load(), failures: failures.Load(), created: created.Load(), elapsed: elapsed,
		lat: all, rssPeak: peak.Load(), hwm: hwm, sameProcess: pid == os.Getpid(), errSamples: errs}
}

func shortErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && len(s) > 80 {
		s = s[i+2:]
	}
	return s
}

// procStatus reads VmRSS and VmHWM (kB) of a process.
func procStatus(pid int) (rss, hwm int64) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		switch k {
		case "VmRSS":
			rss = n
		case "VmHWM":
			hwm = n
		}
	}
	return rss, hwm
}

// ---- servers

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

func startBare(cats []*survey.Catalogue) (string, []string, func() error, int, error) {
	d := newDecoder(cats)
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

func startNaive(cats []*survey.Catalogue, path string) (string, []string, func() error, int, error) {
	// Default settings: no DSN options (rollback journal, go-sqlite3's
	// default busy timeout) and database/sql's default, unbounded pool. The
	// GORM logger is silenced only to keep the output readable.
	db, err := gorm.Open(sqlite.Open(path), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return "", nil, nil, 0, err
	}
	if err := db.AutoMigrate(&naiveResponse{}); err != nil {
		return "", nil, nil, 0, err
	}
	d := newDecoder(cats)
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
		return err
	}
	return base, nil, stop, 0, err
}

func startPapi(cats []*survey.Catalogue, path string) (string, []string, func() error, int, error) {
	ctx := context.Background()
	st, err := store.Open(ctx, path, store.Options{Catalogues: cats})
	if err != nil {
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
		return "", nil, nil, 0, err
	}
	stop := func() error {
		defer st.Close()
		return stopHTTP()
	}
	return base, tokens, stop, 0, nil
}

// startServe builds cmd/papi and runs `papi serve` on a temp SQLite file.
func startServe(tmp string) (string, []string, func() error, int, error) {
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", nil, nil, 0, fmt.Errorf("find the module (run papiload inside the repository): %w", err)
	}
	bin := filepath.Join(tmp, "papi")
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
	db := filepath.Join(tmp, "serve.db")
	logf, err := os.Create(filepath.Join(tmp, "serve.log"))
	if err != nil {
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
		return "", nil, nil, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stop := func() error {
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
	for ready := time.Now().Add(20 * time.Second); ; {
		resp, err := hc.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(ready) {
			stop()
			return "", nil, nil, 0, errors.New("papi serve did not become healthy within 20 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tokens, err := readTokens(db)
	if err != nil {
		stop()
		return "", nil, nil, 0, err
	}
	return base, tokens, stop, cmd.Process.Pid, nil
}

// readTokens reads the centres' tokens through a short-lived read-only
// handle on the server's SQLite file.
func readTokens(path string) ([]string, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query("SELECT token FROM centres WHERE open ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// ---- report

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms" }
func mb(kb int64) string        { return strconv.FormatFloat(float64(kb)/1024, 'f', 1, 64) + " MB" }

func report(rs []result) {
	label := map[string]string{
		"bare":  "bare (decode + validate, no DB)",
		"naive": "naive (GORM Create per request, SQLite defaults)",
		"papi":  "papi (api.New, in process)",
		"serve": "papi serve (subprocess)",
	}
	fmt.Printf("\n| server | requests | failures | throughput (req/s) | p50 | p95 | p99 | max | peak RSS during run | VmHWM after run | load avg before → after |\n")
	fmt.Printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	by := map[string]result{}
	for _, r := range rs {
		by[r.name] = r
		where := " (whole papiload process)"
		if !r.sameProcess {
			where = " (papi process alone)"
		}
		fmt.Printf("| %s | %d | %d | %.0f | %s | %s | %s | %s | %s%s | %s%s | %s → %s |\n", label[r.name], r.requests, r.failures,
			r.throughput(), ms(r.pct(.50)), ms(r.pct(.95)), ms(r.pct(.99)), ms(r.pct(1)), mb(r.rssPeak), where, mb(r.hwm), where,
			r.loadBefore, r.loadAfter)
	}
	fmt.Println()
	for _, r := range rs {
		if len(r.errSamples) == 0 {
			continue
		}
		keys := make([]string, 0, len(r.errSamples))
		for k := range r.errSamples {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return r.errSamples[keys[i]] > r.errSamples[keys[j]] })
		var parts []string
		for i, k := range keys {
			if i == 5 {
				break
			}
			parts = append(parts, fmt.Sprintf("%q ×%d", k, r.errSamples[k]))
		}
		fmt.Printf("- %s failures: %s\n", r.name, strings.Join(parts, ", "))
	}
	bare, okB := by["bare"]
	for _, name := range []string{"papi", "serve"} {
		p, ok := by[name]
		if !ok {
			continue
		}
		fmt.Printf("\nTargets for %s:\n", label[name])
		fmt.Printf("- zero failed submissions: %d failed of %d → %s\n", p.failures, p.requests, met(p.failures == 0))
		if okB {
			ratio := p.throughput() / bare.throughput()
			fmt.Printf("- ≥ 70%% of bare throughput: %.0f / %.0f req/s = %.1f%% → %s\n", p.throughput(), bare.throughput(), 100*ratio, met(ratio >= 0.70))
		}
		fmt.Printf("- p99 < 50 ms: %s → %s\n", ms(p.pct(.99)), met(p.pct(.99) < 50*time.Millisecond))
		if p.sameProcess {
			fmt.Printf("- RSS < 150 MB: peak %s, VmHWM %s, but of the whole papiload process (load generator and earlier servers included); see papi serve for the service alone\n", mb(p.rssPeak), mb(p.hwm))
		} else {
			fmt.Printf("- RSS < 150 MB: VmHWM %s → %s\n", mb(p.hwm), met(p.hwm < 150*1024))
		}
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
