package main

// Helpers shared by the process-level reliability tests (crash_test.go,
// burst_test.go): they build the real papi binary, run it as a subprocess on
// a temporary SQLite file and talk to it over loopback only.

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/papi-hcmc/papi/survey"
)

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// papiBinary builds ./cmd/papi once per test run (without -race: the
// subprocess is the system under test, the race detector would only slow it).
func papiBinary(t testing.TB) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "papi-bin-")
		if binErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(binDir, "papi")
		cmd := exec.Command(goTool, "build", "-o", binPath, ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatalf("build papi: %v", binErr)
	}
	return binPath
}

// papiProc is a running `papi serve` subprocess.
type papiProc struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	logf   *os.File
	done   chan struct{}
	waited error
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func papiEnv(db, addr string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAPI_") {
			env = append(env, kv)
		}
	}
	return append(env, "PAPI_DB="+db, "PAPI_ADDR="+addr, "PAPI_BASE_URL=http://"+addr,
		"PAPI_RATE_LIMIT=off", "PAPI_LOG_LEVEL=warn")
}

// startPapi starts `papi serve` on db and waits until /healthz answers 200.
func startPapi(t testing.TB, db, logPath string) *papiProc {
	t.Helper()
	bin := papiBinary(t)
	for attempt := 0; ; attempt++ {
		addr := freeAddr(t)
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "serve")
		cmd.Env = papiEnv(db, addr)
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatal(err)
		}
		p := &papiProc{cmd: cmd, base: "http://" + addr, logf: logf, done: make(chan struct{})}
		go func() { p.waited = cmd.Wait(); close(p.done) }()
		if err := p.waitHealthy(15 * time.Second); err == nil {
			t.Cleanup(func() { p.kill() })
			return p
		}
		p.kill()
		if attempt == 2 {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("papi did not become healthy on %s; log:\n%s", addr, tail(log, 3000))
		}
	}
}

func (p *papiProc) waitHealthy(within time.Duration) error {
	deadline := time.Now().Add(within)
	c := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("papi exited: %v", p.waited)
		default:
		}
		resp, err := c.Get(p.base + "/healthz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no healthy answer within %s", within)
}

// signalKill sends SIGKILL without waiting.
func (p *papiProc) signalKill() { _ = p.cmd.Process.Signal(syscall.SIGKILL) }

// kill sends SIGKILL and waits for the process to be gone.
func (p *papiProc) kill() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
	p.logf.Close()
}

// stop asks for a graceful shutdown (SIGTERM) and waits.
func (p *papiProc) stop(t testing.TB) {
	t.Helper()
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(25 * time.Second):
			t.Errorf("papi did not stop within 25 s of SIGTERM")
			p.kill()
		}
	}
	p.logf.Close()
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// readOnlyDB opens the SQLite file read-only; callers close it before the
// server needs the file for anything else of consequence.
func readOnlyDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	return db
}

// centreTokens lists the seeded centres' tokens (the server must have
// started once on the file).
func centreTokens(t testing.TB, path string) []string {
	t.Helper()
	db := readOnlyDB(t, path)
	defer db.Close()
	rows, err := db.Query("SELECT token FROM centres WHERE open ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var tok string
		if err := rows.Scan(&tok); err != nil {
			t.Fatal(err)
		}
		out = append(out, tok)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no centres in the database")
	}
	return out
}

// storedCounts returns how many rows each submission_id has, and each one's
// response id (the last one seen if there are several).
func storedCounts(t testing.TB, path string) (count map[string]int, ids map[string]uint64) {
	t.Helper()
	db := readOnlyDB(t, path)
	defer db.Close()
	rows, err := db.Query("SELECT submission_id, id FROM responses")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	count, ids = map[string]int{}, map[string]uint64{}
	for rows.Next() {
		var sid string
		var id uint64
		if err := rows.Scan(&sid, &id); err != nil {
			t.Fatal(err)
		}
		count[sid]++
		ids[sid] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return count, ids
}

// duplicateSubmissions lists submission ids stored more than once.
func duplicateSubmissions(t testing.TB, path string) []string {
	t.Helper()
	db := readOnlyDB(t, path)
	defer db.Close()
	rows, err := db.Query("SELECT submission_id FROM responses GROUP BY submission_id HAVING COUNT(*) > 1")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// bodyMaker produces valid submissions quickly: answers are synthesized up
// front into a pool of templates; each body gets a unique submission_id.
type bodyMaker struct {
	mu        sync.Mutex
	templates [][]byte // JSON object bodies without submission_id, starting after '{'
	next      int
}

func newBodyMaker(t testing.TB, tokens []string, n int, seed uint64) *bodyMaker {
	t.Helper()
	cats, err := survey.Catalogues()
	if err != nil {
		t.Fatal(err)
	}
	cat := cats[len(cats)-1]
	rng := rand.New(rand.NewPCG(seed, 7))
	bm := &bodyMaker{}
	for i := 0; i < n; i++ {
		modules := cat.AssignModules(rng.Uint64())
		sub := cat.Synthesize(rng, modules, 0.2+0.6*rng.Float64())
		if _, err := cat.ValidateSubmission(sub); err != nil {
			t.Fatalf("synthetic submission is invalid: %v", err)
		}
		b, err := json.Marshal(map[string]any{
			"token": tokens[rng.IntN(len(tokens))], "questionnaire_version": cat.Version,
			"modules": sub.Modules, "answers": sub.Answers, "sex": sub.Sex, "age_group": sub.AgeGroup,
			"duration_ms": 60000 + rng.IntN(200000), "lang": "vi",
		})
		if err != nil {
			t.Fatal(err)
		}
		bm.templates = append(bm.templates, b[1:]) // drop the leading '{'
	}
	return bm
}

// body returns a valid submission body carrying submissionID.
func (bm *bodyMaker) body(submissionID string) []byte {
	bm.mu.Lock()
	tpl := bm.templates[bm.next%len(bm.templates)]
	bm.next++
	bm.mu.Unlock()
	b := make([]byte, 0, len(tpl)+len(submissionID)+24)
	b = append(b, `{"submission_id":"`...)
	b = append(b, submissionID...)
	b = append(b, `",`...)
	return append(b, tpl...)
}

// submitResult is one POST /api/v1/responses outcome.
type submitResult struct {
	status int
	id     uint64
	err    error
}

func submit(ctx context.Context, c *http.Client, base string, body []byte) submitResult {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/v1/responses", bytes.NewReader(body))
	if err != nil {
		return submitResult{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return submitResult{err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return submitResult{status: resp.StatusCode, err: err}
	}
	var out struct {
		ID uint64 `json:"id"`
	}
	if resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(raw, &out); err != nil || out.ID == 0 {
			return submitResult{status: resp.StatusCode, err: fmt.Errorf("2xx without an id: %s", raw)}
		}
	} else {
		err = fmt.Errorf("status %d: %s", resp.StatusCode, tail(raw, 300))
	}
	return submitResult{status: resp.StatusCode, id: out.ID, err: err}
}

// runRecompute runs `papi recompute` on db and returns its output and error.
func runRecompute(t testing.TB, db string) (string, error) {
	t.Helper()
	cmd := exec.Command(papiBinary(t), "recompute")
	cmd.Env = papiEnv(db, "127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}
