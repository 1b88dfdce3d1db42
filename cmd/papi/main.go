// Command papi runs the PAPI-style citizen survey service and its
// maintenance commands.
//
//	papi [serve]                       serve HTTP (creates, migrates and seeds the database)
//	papi user add --email E --role R [--commune CODE]   password on standard input
//	papi user passwd|disable|enable|revoke --email E    account life cycle
//	papi demo --responses N [--seed S] add synthetic responses through the intake validation
//	papi recompute                     check the tallies against the raw responses, rebuilding any that differ
//	papi backup --out FILE             consistent copy of the SQLite database while serving
//	papi xlsform --out FILE [--version V]  the questionnaire as an XLSForm (ODK Collect / KoboToolbox)
//	papi xform --out FILE [--version V]    the same form as an ODK XForm
//	papi import [--channel household] [--partial] FILE  import an ODK Central or KoboToolbox CSV export
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
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
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
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed (PAPI_TRUSTED_PROXIES); none by default.
	TrustedProxies []*net.IPNet
	// MetricsAddr, when set, is the only address serving /metrics
	// (PAPI_METRICS_ADDR, e.g. 127.0.0.1:9090).
	MetricsAddr string
	// Receipts are the receipt rules: PAPI_RECEIPT_DAYS,
	// PAPI_RECEIPT_DAILY_CAP and PAPI_RECEIPT_KEY.
	Receipts store.ReceiptPolicy
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
	set("PAPI_METRICS_ADDR", &cfg.MetricsAddr)
	switch strings.ToLower(getenv("PAPI_RATE_LIMIT")) {
	case "", "on", "1", "true":
	case "off", "0", "false":
		cfg.RateLimit = false
	default:
		return cfg, errors.New("PAPI_RATE_LIMIT must be on or off")
	}
	if v := getenv("PAPI_MIN_N"); v != "" {
		n, err := strconv.Atoi(v) // Sscanf's %d took "30abc" as 30
		cfg.MinN = n
		if err != nil || cfg.MinN < survey.DefaultPolicy.HideBelow {
			return cfg, fmt.Errorf("PAPI_MIN_N must be a whole number of at least %d", survey.DefaultPolicy.HideBelow)
		}
	}
	proxies, err := parseNetworks(getenv("PAPI_TRUSTED_PROXIES"))
	if err != nil {
		return cfg, fmt.Errorf("PAPI_TRUSTED_PROXIES: %w", err)
	}
	cfg.TrustedProxies = proxies
	for _, n := range []struct {
		key string
		dst *int
		max int
	}{{"PAPI_RECEIPT_DAYS", &cfg.Receipts.Days, 366}, {"PAPI_RECEIPT_DAILY_CAP", &cfg.Receipts.DailyCap, 1_000_000}} {
		if v := strings.TrimSpace(getenv(n.key)); v != "" {
			i, err := strconv.Atoi(v)
			if err != nil || i < 1 || i > n.max {
				return cfg, fmt.Errorf("%s must be a whole number from 1 to %d", n.key, n.max)
			}
			*n.dst = i
		}
	}
	if v := getenv("PAPI_RECEIPT_KEY"); v != "" {
		if len(v) < 32 {
			return cfg, errors.New("PAPI_RECEIPT_KEY must be at least 32 characters (for example: openssl rand -hex 32)")
		}
		cfg.Receipts.Key = []byte(v)
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

// parseNetworks reads a comma-separated list of addresses and CIDR ranges;
// a bare address is a range of one.
func parseNetworks(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			ip := net.ParseIP(item)
			if ip == nil {
				return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range such as 10.0.0.0/8", item)
			}
			bits := 128
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(item)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an IP address nor a CIDR range such as 10.0.0.0/8", item)
		}
		out = append(out, n)
	}
	return out, nil
}

func orDefault(v, d string) string {
	if v == "" {
		return d
	}
	return v
}

// usage lists the commands; `papi help`, `papi -h` and `papi --help` print it.
const usage = `papi collects citizen satisfaction surveys and scores them as PAPI does.

Usage: papi [command] [flags]

Commands:
  serve                 serve HTTP (the default): creates, migrates and seeds the database
  user add --email E --role admin|department|commune|issuer [--commune CODE]
                        create a staff account (password on standard input)
  user passwd|disable|enable|revoke --email E
                        set a password (stdin), disable or enable an account, end its sessions
  user list             list staff accounts
  demo --responses N [--seed S] [--days D]
                        add N synthetic responses through the real validation path
  recompute             rebuild the running tallies from the raw responses, report mismatches
  backup --out FILE     write a consistent copy of the SQLite database while serving
  xlsform --out FILE [--version V]
                        write the questionnaire as an XLSForm workbook (ODK, KoboToolbox)
  xform --out FILE [--version V]
                        write the questionnaire as an ODK XForm (XML)
  import [--channel household] [--partial] [--dry-run] FILE
                        import an ODK Central or KoboToolbox CSV export
  simulate [--responses 50,100,150,300] [--reps R] [--seed S] [--spread SD]
                        simulation study: known truths through validation, storage and
                        estimation, in temporary databases; prints coverage and rank error
  version               print the version
  help                  print this text

Configuration is read from environment variables (PAPI_DB, PAPI_ADDR, PAPI_BASE_URL, …);
README.md lists them all.
`

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "help", "-h", "-help", "--help":
			fmt.Fprint(stdout, usage)
			return nil
		case "version", "--version":
			fmt.Fprintln(stdout, version)
			return nil
		}
	}
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
		return user(ctx, cfg, args, stdin, stdout)
	case "demo":
		return demo(ctx, cfg, args, stdout)
	case "recompute":
		return recompute(ctx, cfg, stdout)
	case "backup":
		return backup(ctx, cfg, args, stdout)
	case "xlsform":
		return xlsformCmd(args, stdout)
	case "xform":
		return xformCmd(args, stdout)
	case "import":
		return importCmd(ctx, cfg, args, stdin, stdout)
	case "simulate":
		return simulate(ctx, args, stdout)
	case "version":
		fmt.Fprintln(stdout, version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
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
	st, err := store.Open(ctx, cfg.DB, store.Options{Catalogues: cats, Receipts: cfg.Receipts})
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
	srv := api.New(st, api.Config{BaseURL: cfg.BaseURL, Version: version, RateLimit: rl, TrustedProxies: cfg.TrustedProxies, Population: population, Targets: targets,
		SeparateMetrics: cfg.MetricsAddr != "", Policy: survey.Policy{MinN: cfg.MinN, HideBelow: survey.DefaultPolicy.HideBelow}}, log)
	errc := make(chan error, 2)
	go func() { errc <- srv.Start(cfg.Addr) }()
	var metrics *http.Server
	if cfg.MetricsAddr != "" {
		metrics = &http.Server{Addr: cfg.MetricsAddr, Handler: srv.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := metrics.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("PAPI_METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
			}
		}()
	} else {
		log.Warn("/metrics is served on the public address; set PAPI_METRICS_ADDR (e.g. 127.0.0.1:9090) in production")
	}
	log.Info("papi serving", "addr", cfg.Addr, "metrics_addr", cfg.MetricsAddr, "base_url", cfg.BaseURL, "postgres", st.Postgres(), "questionnaire", st.Catalogue().Version, "version", version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Finish in-flight submissions before closing the database.
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if metrics != nil {
		_ = metrics.Shutdown(shutdownCtx) // scrapes in flight are not worth waiting for
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return <-errc
}

const userUsage = `usage:
  papi user add --email E --role admin|department|commune|issuer [--commune CODE]   (password on standard input)
  papi user passwd --email E          (new password on standard input; the account's sessions end)
  papi user disable --email E         (refuses logins; the account's sessions end at once)
  papi user enable --email E
  papi user revoke --email E          (ends the account's sessions)
  papi user list`

// user runs the account subcommands. Every change is audited with the
// actor "cli", in the transaction of the change.
func user(ctx context.Context, cfg Config, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	email := fs.String("email", "", "account email")
	role := fs.String("role", "", "admin, department, commune or issuer")
	commune := fs.String("commune", "", "commune code, for a commune or issuer account")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w\n%s", err, userUsage)
	}
	switch sub {
	case "add", "passwd", "disable", "enable", "revoke":
		if *email == "" {
			return fmt.Errorf("papi user %s needs --email\n%s", sub, userUsage)
		}
	case "list":
	default:
		return fmt.Errorf("unknown subcommand user %s\n%s", sub, userUsage)
	}
	if (*role != "" || *commune != "") && sub != "add" {
		return fmt.Errorf("--role and --commune belong to papi user add\n%s", userUsage)
	}
	var password string
	if sub == "add" || sub == "passwd" {
		p, err := readPassword(stdin)
		if err != nil {
			return err
		}
		password = p
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := userCommand(ctx, st, sub, *email, survey.Role(*role), *commune, password, stdout); err != nil {
		return plainError(err)
	}
	return nil
}

func userCommand(ctx context.Context, st *store.Store, sub, email string, role survey.Role, commune, password string, stdout io.Writer) error {
	const actor = "cli"
	if sub == "list" {
		users, err := st.Users(ctx)
		if err != nil {
			return err
		}
		for _, u := range users {
			state := "active"
			if u.Disabled {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "%d\t%s\t%s\t%s\t%s\n", u.ID, u.Email, u.Role, orDefault(u.CommuneCode, "-"), state)
		}
		return nil
	}
	if sub == "add" {
		u, err := st.CreateUser(ctx, actor, survey.User{Email: email, Role: role, CommuneCode: commune}, password)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created %s account %s (id %d)\n", u.Role, u.Email, u.ID)
		return nil
	}
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return err
	}
	yes, no := true, false
	switch sub {
	case "passwd":
		if _, err := st.UpdateUser(ctx, actor, u.ID, survey.UserUpdate{Password: &password}, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "set a new password for %s; its sessions have ended\n", u.Email)
	case "disable":
		if _, err := st.UpdateUser(ctx, actor, u.ID, survey.UserUpdate{Disabled: &yes}, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "disabled %s; its sessions have ended\n", u.Email)
	case "enable":
		if _, err := st.UpdateUser(ctx, actor, u.ID, survey.UserUpdate{Disabled: &no}, ""); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "enabled %s\n", u.Email)
	case "revoke":
		n, err := st.RevokeSessions(ctx, actor, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "ended %d session(s) of %s\n", n, u.Email)
	}
	return nil
}

// readPassword reads one line from standard input.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// plainError words a domain error for the terminal (the English message).
func plainError(err error) error {
	var derr *survey.Error
	var verr *survey.ValidationError
	switch {
	case errors.As(err, &derr):
		return errors.New(derr.Message.En)
	case errors.As(err, &verr):
		msgs := make([]string, len(verr.Errors))
		for i, fe := range verr.Errors {
			msgs[i] = fe.Message.En
		}
		return errors.New(strings.Join(msgs, " "))
	}
	return err
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
		n, _, err := storeAll(ctx, st, batch)
		stored += n
		batch = batch[:0]
		return err
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
		sub := cat.SynthesizeAt(rng, modules, q, centres[ci].CommuneCode)
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

// storeAll stores synthetic responses in one batch and returns how many were
// new and how many of those the anomaly checks flagged; any one refused is
// an error (they come from the real validation, so a refusal is a bug).
func storeAll(ctx context.Context, st *store.Store, batch []store.NewResponse) (created, flagged int, err error) {
	results, err := st.CreateResponses(ctx, batch)
	if err != nil {
		return 0, 0, err
	}
	for _, r := range results {
		if r.Err != nil {
			return created, flagged, fmt.Errorf("a synthetic response was refused (a bug): %w", r.Err)
		}
		if r.Created {
			created++
			if r.Flagged {
				flagged++
			}
		}
	}
	return created, flagged, nil
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
	fmt.Fprintf(stdout, "checked the tallies of %d months and %d years against %d responses (%d counted); %d tally rows differed and were rebuilt\n", rep.Months, rep.Years, rep.Responses, rep.Counted, rep.Mismatches)
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
