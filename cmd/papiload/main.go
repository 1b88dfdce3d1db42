// Command papiload is the intake load run: it drives, one after another and
// on loopback only, several servers with the same stream of valid resident
// submissions spread over all 168 centres, and prints a Markdown table of
// what it measured with the ratios between them.
//
//	go run ./cmd/papiload -clients 32 -duration 20s
//	go run ./cmd/papiload -postgres postgres://postgres@127.0.0.1:5432/test
//
// The servers:
//
//	bare   Echo; decode into papi's request struct, validate with
//	       go-playground/validator and the catalogue; answer 201. No database.
//	floor  the durable floor: bare, then one row per request written by one
//	       writer goroutine that commits every row waiting in one
//	       transaction (group commit) before answering, on papi's SQLite
//	       pragmas (or PostgreSQL). What a durable store on this stack can
//	       do at best.
//	naive  bare, then one GORM Create per request with the driver's default
//	       settings (SQLite: rollback journal, default pool).
//	papi   the real service (api.New on store.Open + Seed), in this process.
//	serve  the built papi binary as a subprocess, so that its memory is
//	       measured alone (-subprocess=false skips it).
//
// With -postgres every server with a database uses PostgreSQL, each in a
// fresh schema that is dropped afterwards. -papidb runs papi and serve on a
// copy of an existing SQLite database (say one holding a million responses)
// instead of an empty one.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/papi-hcmc/papi/survey"
)

// options are papiload's flags.
type options struct {
	clients    int
	duration   time.Duration
	templates  int
	only       map[string]bool
	seed       uint64
	postgres   string
	papiDB     string
	cpuProfile string
	memProfile string
	rounds     int
}

func main() {
	var o options
	only := flag.String("only", "bare,floor,naive,papi,serve", "comma-separated servers to run: bare, floor, naive, papi, serve")
	subprocess := flag.Bool("subprocess", true, "also load a `papi serve` subprocess to measure its RSS alone")
	flag.IntVar(&o.clients, "clients", 32, "concurrent keep-alive clients")
	flag.DurationVar(&o.duration, "duration", 20*time.Second, "load duration per server")
	flag.IntVar(&o.templates, "templates", 500, "distinct synthesized answer sets to cycle through")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed for the synthesized answers")
	flag.StringVar(&o.postgres, "postgres", "", "PostgreSQL URL: run the database-backed servers on PostgreSQL, each in a fresh schema")
	flag.StringVar(&o.papiDB, "papidb", "", "SQLite file to copy and run papi and serve on (default: an empty database)")
	flag.IntVar(&o.rounds, "rounds", 1, "run the servers in turn this many times, each on a fresh database, and report each server's rounds merged: "+
		"alternating keeps the machine's drift out of the ratios")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the in-process papi run to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "write a heap profile (allocations since start, see -sample_index=alloc_space) after the in-process papi run to this file")
	flag.Parse()
	if o.clients < 1 || o.duration <= 0 || o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "papiload: -clients and -rounds must be ≥ 1 and -duration > 0")
		os.Exit(2)
	}
	if o.postgres != "" && o.papiDB != "" {
		fmt.Fprintln(os.Stderr, "papiload: -papidb is a SQLite file; it cannot be combined with -postgres")
		os.Exit(2)
	}
	o.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		o.only[strings.TrimSpace(s)] = true
	}
	if !*subprocess {
		delete(o.only, "serve")
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "papiload:", err)
		os.Exit(1)
	}
}

// target is one server to load: start returns its base URL, the centre
// tokens to spread submissions over (nil: any token does), a stop function
// and the pid whose memory to sample (0: this process).
type target struct {
	name  string
	start func() (base string, tokens []string, stop func() error, pid int, err error)
}

func run(o options) error {
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
	gen := newGenerator(cat, o.templates, o.seed)
	communes, err := survey.Communes()
	if err != nil {
		return err
	}
	engine := "SQLite"
	if o.postgres != "" {
		engine = "PostgreSQL"
	}
	fmt.Printf("machine: %s\n", machine())
	fmt.Printf("command: papiload %s (GOMAXPROCS %d, %d answer templates, %s, %s, %d centres)\n\n",
		strings.Join(os.Args[1:], " "), runtime.GOMAXPROCS(0), o.templates, runtime.Version(), engine, len(communes))

	env := &environment{o: o, cats: cats, tmp: tmp}
	targets := []target{
		{"bare", env.startBare},
		{"floor", env.startFloor},
		{"naive", env.startNaive},
		{"papi", env.startPapi},
		{"serve", env.startServe},
	}
	var results []result
	for round := 1; round <= o.rounds; round++ {
		for _, tg := range targets {
			if !o.only[tg.name] {
				continue
			}
			r, err := env.loadOne(tg, round, gen, communes)
			if err != nil {
				return err
			}
			results = append(results, r)
		}
	}
	report(results, engine)
	return nil
}

// loadOne starts one server, loads it for the run's duration, stops it and
// returns its measurements; the profiles are of the first round's papi.
func (env *environment) loadOne(tg target, round int, gen *generator, communes []survey.Commune) (result, error) {
	o := env.o
	env.round = round
	runtime.GC()
	debug.FreeOSMemory()
	base, tokens, stop, pid, err := tg.start()
	if err != nil {
		return result{}, fmt.Errorf("%s: %w", tg.name, err)
	}
	if len(tokens) == 0 {
		// Servers without centres still get 168 distinct tokens, so
		// every server sees the same spread of bodies.
		for i := range communes {
			tokens = append(tokens, fmt.Sprintf("loadtoken%023d", i))
		}
	}
	fmt.Fprintf(os.Stderr, "loading %s at %s for %s with %d clients over %d centres…\n", tg.name, base, o.duration, o.clients, len(tokens))
	profiling := false
	if tg.name == "papi" && round == 1 && o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return result{}, err
		}
		profiling = true
	}
	before := loadavg()
	r := load(base, tokens, gen, o.clients, o.duration, pid, tg.name)
	r.loadBefore, r.loadAfter = before, loadavg()
	if profiling {
		pprof.StopCPUProfile()
	}
	if tg.name == "papi" && round == 1 && o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return result{}, err
		}
	}
	r.name, r.round = tg.name, round
	if err := stop(); err != nil {
		fmt.Fprintf(os.Stderr, "%s: stop: %v\n", tg.name, err)
	}
	fmt.Fprintf(os.Stderr, "  %d requests, %d failed, %.0f req/s, p99 %s\n", r.requests, r.failures, r.throughput(), ms(r.pct(.99)))
	return r, nil
}

// writeHeapProfile writes the heap profile, whose alloc_space and
// alloc_objects count every allocation since the process started.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
