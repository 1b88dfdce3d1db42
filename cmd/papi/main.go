// Command papi runs the PAPI-style citizen survey service and its
// maintenance commands.
//
//	papi [serve]                       serve HTTP (creates, migrates and seeds the database)
//	papi user add --email E --role R [--commune CODE]   password on standard input
//	papi demo --responses N [--seed S] add synthetic responses through the intake validation
//	papi recompute                     check the tallies against the raw responses, rebuilding any that differ
//	papi backup --out FILE             consistent copy of the SQLite database while serving
package main

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/survey"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "papi:", err)
		os.Exit(1)
	}
}

// Config is papi's configuration: defaults, then environment variables, then
// flags.
type Config struct {
	Addr      string
	DB        string
	BaseURL   string
	RateLimit bool
	MinN      int
	LogLevel  slog.Level
	// Population is a CSV of sex × age margins per commune for weighted
	// summaries (commune_code,sex,age_group,population).
	Population string
	// Targets is a CSV of follow-up targets (indicator,target).
	Targets string
}

func loadConfig(getenv func(string) string) (Config, error) {
	cfg := Config{Addr: ":8080", DB: "papi.db", BaseURL: "http://localhost:8080", RateLimit: true, MinN: survey.DefaultPolicy.MinN}
	set := func(key string, dst *string) {
		if v := strings.TrimSpace(getenv(key)); v != "" {
			*dst = v
		}
	}
	set("PAPI_ADDR", &cfg.Addr)
	set("PAPI_DB", &cfg.DB)
	set("PAPI_BASE_URL", &cfg.BaseURL)
	set("PAPI_POPULATION", &cfg.Population)
	set("PAPI_TARGETS", &cfg.Targets)
	switch strings.ToLower(getenv("PAPI_RATE_LIMIT")) {
	case "", "on", "1", "true":
	case "off", "0", "false":
		cfg.RateLimit = false
	default:
		return cfg, errors.New("PAPI_RATE_LIMIT must be on or off")
	}
	if v := getenv("PAPI_MIN_N"); v != "" {
		if _, err := fmt.Sscanf(v, "%d", &cfg.MinN); err != nil || cfg.MinN < survey.DefaultPolicy.HideBelow {
			return cfg, fmt.Errorf("PAPI_MIN_N must be a whole number of at least %d", survey.DefaultPolicy.HideBelow)
		}
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(orDefault(getenv("PAPI_LOG_LEVEL"), "info"))); err != nil {
		return cfg, errors.New("PAPI_LOG_LEVEL must be debug, info, warn or error")
	}
	if !strings.HasPrefix(cfg.BaseURL, "http://") && !strings.HasPrefix(cfg.BaseURL, "https://") {
		return cfg, errors.New("PAPI_BASE_URL must start with http:// or https://")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	return cfg, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, args, stderr)
	case "user":
		if len(args) == 0 || args[0] != "add" {
			return errors.New("usage: papi user add --email E --role admin|department|commune [--commune CODE] (password on stdin)")
		}
		return userAdd(ctx, cfg, args[1:], stdin, stdout)
	case "demo":
		return demo(ctx, cfg, args, stdout)
	case "recompute":
		return recompute(ctx, cfg, stdout)
	case "backup":
		return backup(ctx, cfg, args, stdout)
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, "usage: papi [serve | user add | demo | recompute | backup | version]; see README.md")
		return nil
	}
	return fmt.Errorf("unknown command %q; try papi help", cmd)
}

// openStore opens the database and seeds the catalogue's communes and one
// centre per commune (idempotent).
func openStore(ctx context.Context, cfg Config) (*store.Store, error) {
	cats, err := survey.Catalogues()
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DB, store.Options{Catalogues: cats})
	if err != nil {
		return nil, err
	}
	communes, err := survey.Communes()
	if err == nil {
		err = st.Seed(ctx, communes)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func serve(ctx context.Context, cfg Config, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.Addr, "addr", cfg.Addr, "listen address (PAPI_ADDR)")
	fs.StringVar(&cfg.DB, "db", cfg.DB, "SQLite file or postgres:// URL (PAPI_DB)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rl := api.DefaultRateLimit
	rl.Off = !cfg.RateLimit
	var population survey.Population
	if cfg.Population != "" {
		f, err := os.Open(cfg.Population)
		if err != nil {
			return fmt.Errorf("PAPI_POPULATION: %w", err)
		}
		population, err = survey.ReadPopulation(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("PAPI_POPULATION %s: %w", cfg.Population, err)
		}
	}
	var targets map[string]float64
	if cfg.Targets != "" {
		f, err := os.Open(cfg.Targets)
		if err != nil {
			return fmt.Errorf("PAPI_TARGETS: %w", err)
		}
		targets, err = st.Catalogue().ReadTargets(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("PAPI_TARGETS %s: %w", cfg.Targets, err)
		}
	}
	srv := api.New(st, api.Config{BaseURL: cfg.BaseURL, Version: version, RateLimit: rl, Population: population, Targets: targets,
		Policy: survey.Policy{MinN: cfg.MinN, HideBelow: survey.DefaultPolicy.HideBelow}}, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Start(cfg.Addr) }()
	log.Info("papi serving", "addr", cfg.Addr, "base_url", cfg.BaseURL, "postgres", st.Postgres(), "questionnaire", st.Catalogue().Version, "version", version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Finish in-flight submissions before closing the database.
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-errc
}

func userAdd(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	email := fs.String("email", "", "account email")
	role := fs.String("role", "", "admin, department or commune")
	commune := fs.String("commune", "", "commune code, for a commune account")
	if err := fs.Parse(args); err != nil {
		return err
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read password from standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.CreateUser(ctx, survey.User{Email: *email, Role: survey.Role(*role), CommuneCode: *commune}, password)
	if err != nil {
		var derr *survey.Error
		if errors.As(err, &derr) {
			return errors.New(derr.Message.En)
		}
		return err
	}
	_ = st.Audit(ctx, "cli", "user_create", u.Email+" ("+string(u.Role)+")")
	fmt.Fprintf(stdout, "created %s account %s (id %d)\n", u.Role, u.Email, u.ID)
	return nil
}

// demo adds synthetic responses through the same validation as the HTTP
// intake, spread over communes and the last 180 days; the same seed gives
// the same answers, centres and days (relative to today).
func demo(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	n := fs.Int("responses", 1000, "how many responses")
	seed := fs.Uint64("seed", 1, "random seed")
	days := fs.Int("days", 180, "spread over this many past days")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 0 || *days < 1 {
		return errors.New("--responses must be ≥ 0 and --days ≥ 1")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	start := time.Now()
	stored, err := Generate(ctx, st, *n, *seed, *days, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "stored %d synthetic responses in %s\n", stored, time.Since(start).Round(time.Millisecond))
	return nil
}

// Generate stores n synthetic responses reproducibly for a seed. Each
// commune gets a lasting quality level and a trend, so comparisons and
// trends show real differences.
func Generate(ctx context.Context, st *store.Store, n int, seed uint64, days int, now time.Time) (int, error) {
	centres, err := st.AllCentres(ctx)
	if err != nil {
		return 0, err
	}
	if len(centres) == 0 {
		return 0, errors.New("no service centres: the database was not seeded")
	}
	cat := st.Catalogue()
	rng := rand.New(rand.NewPCG(seed, 0x9a91))
	quality := make([]float64, len(centres))
	trend := make([]float64, len(centres))
	for i := range centres {
		quality[i] = 0.25 + 0.5*rng.Float64()
		trend[i] = (rng.Float64() - 0.5) * 0.3
	}
	// Each run adds its n responses, even with a seed used before: the
	// answers repeat, their submission ids do not.
	var nonce [6]byte
	_, _ = crand.Read(nonce[:])
	run := hex.EncodeToString(nonce[:])
	// Busy centres get more visits: a skewed pick. Visits fall in opening
	// hours (Monday to Saturday, 07:30 to 17:00) and take a believable time,
	// as real ones do, so the anomaly checks leave them alone.
	stored := 0
	batch := make([]store.NewResponse, 0, 500)
	flush := func() error {
		results, err := st.CreateResponses(ctx, batch)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r.Err != nil {
				return r.Err
			}
			if r.Created {
				stored++
			}
		}
		batch = batch[:0]
		return nil
	}
	for i := 0; i < n; i++ {
		if err := ctx.Err(); err != nil {
			return stored, err
		}
		ci := int(float64(len(centres)) * rng.Float64() * rng.Float64() * 1.999)
		if ci >= len(centres) {
			ci = len(centres) - 1
		}
		ci = (ci*7919 + int(seed)) % len(centres)
		ago := rng.IntN(days)
		day := now.In(survey.Local).AddDate(0, 0, -ago)
		if day.Weekday() == time.Sunday {
			day = day.AddDate(0, 0, -1)
		}
		at := time.Date(day.Year(), day.Month(), day.Day(), 7, 30, 0, 0, survey.Local).Add(time.Duration(rng.IntN(int(9.5*3600))) * time.Second)
		if at.After(now) {
			at = at.AddDate(0, 0, -7) // not yet today: same time last week
		}
		q := quality[ci] + trend[ci]*(1-float64(ago)/float64(days))
		modules := cat.AssignModules(rng.Uint64())
		sub := cat.Synthesize(rng, modules, q)
		visit, err := cat.ValidateSubmission(sub)
		if err != nil {
			return stored, fmt.Errorf("synthetic response failed validation (a bug): %w", err)
		}
		batch = append(batch, store.NewResponse{
			SubmissionID: fmt.Sprintf("demo-%s-%d", run, i), Centre: centres[ci], Version: cat.Version,
			Visit: visit, Lang: "vi", DurationMS: int64(len(visit.Answers)) * int64(4000+rng.IntN(6000)), At: at,
		})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return stored, err
			}
		}
	}
	return stored, flush()
}

func recompute(ctx context.Context, cfg Config, stdout io.Writer) error {
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := st.Recompute(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "checked the tallies of %d months against %d responses (%d counted); %d tally rows differed and were rebuilt\n", rep.Months, rep.Responses, rep.Counted, rep.Mismatches)
	if rep.Mismatches > 0 {
		return fmt.Errorf("%d tally rows did not match the raw responses; they are now rebuilt", rep.Mismatches)
	}
	return nil
}

func backup(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	out := fs.String("out", "", "file to write the copy to (must not exist)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("usage: papi backup --out FILE")
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote a consistent copy of %s to %s\n", cfg.DB, *out)
	return nil
}
