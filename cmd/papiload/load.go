package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/papi-hcmc/papi/survey"
)

// result is one server's measurements.
type result struct {
	name        string
	round       int // 1, 2, … (see -rounds); 0 for rounds merged
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
	slices.Sort(all)
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
