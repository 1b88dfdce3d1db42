package main

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

func ms(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms" }
func mb(kb int64) string        { return strconv.FormatFloat(float64(kb)/1024, 'f', 1, 64) + " MB" }

// report prints the run as Markdown: one row per server, failures, the
// ratios between papi and the others, and the targets of issue 12.
func report(rs []result, engine string) {
	label := map[string]string{
		"bare":  "bare (decode + validate, no DB)",
		"floor": "durable floor (decode + validate + one row, group commit, " + engine + ")",
		"naive": "naive (GORM Create per request, " + engine + " defaults)",
		"papi":  "papi (api.New, in process, " + engine + ")",
		"serve": "papi serve (subprocess, " + engine + ")",
	}
	rounds := 1
	for _, r := range rs {
		rounds = max(rounds, r.round)
	}
	each := rs
	if rounds > 1 {
		fmt.Printf("\nEach round, in the order run:\n")
		table(rs, label)
		rs = merged(rs)
		fmt.Printf("\nThe %d rounds of each server merged (requests and time added up, latencies pooled, memory at its highest):\n", rounds)
	}
	table(rs, label)
	by := map[string]result{}
	for _, r := range rs {
		by[r.name] = r
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
	for _, name := range []string{"papi", "serve"} {
		p, ok := by[name]
		if !ok {
			continue
		}
		fmt.Printf("\n%s:\n", label[name])
		for _, other := range []string{"floor", "bare", "naive"} {
			if o, ok := by[other]; ok && o.throughput() > 0 {
				fmt.Printf("- throughput / %s: %.0f / %.0f req/s = %.2f×\n", other, p.throughput(), o.throughput(), p.throughput()/o.throughput())
			}
		}
		if rounds > 1 {
			floors := map[int]float64{}
			for _, r := range each {
				if r.name == "floor" {
					floors[r.round] = r.throughput()
				}
			}
			var parts []string
			for _, r := range each {
				if f := floors[r.round]; r.name == name && f > 0 {
					parts = append(parts, fmt.Sprintf("%.2f×", r.throughput()/f))
				}
			}
			if len(parts) > 0 {
				fmt.Printf("- throughput / floor of the same round, round by round: %s\n", strings.Join(parts, ", "))
			}
		}
		fmt.Printf("- target: 0 failures: %d failed of %d → %s\n", p.failures, p.requests, met(p.failures == 0))
		if f, ok := by["floor"]; ok && f.throughput() > 0 {
			ratio := p.throughput() / f.throughput()
			fmt.Printf("- target: ≥ 0.5 × the durable floor: %.2f× → %s\n", ratio, met(ratio >= 0.5))
		}
		fmt.Printf("- target: p99 < 50 ms: %s → %s\n", ms(p.pct(.99)), met(p.pct(.99) < 50*time.Millisecond))
		if p.sameProcess {
			fmt.Printf("- RSS: peak %s, VmHWM %s, of the whole papiload process (load generator and earlier servers included); see papi serve for the service alone\n", mb(p.rssPeak), mb(p.hwm))
		} else {
			fmt.Printf("- target: RSS < 150 MB: VmHWM %s → %s\n", mb(p.hwm), met(p.hwm < 150*1024))
		}
	}
}

// table prints one row per result.
func table(rs []result, label map[string]string) {
	fmt.Printf("\n| server | requests | failures | throughput (req/s) | p50 | p95 | p99 | max | peak RSS during run | VmHWM after run | load avg before → after |\n")
	fmt.Printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, r := range rs {
		where := " (whole papiload process)"
		if !r.sameProcess {
			where = " (papi process alone)"
		}
		name := label[r.name]
		if r.round > 0 {
			name += fmt.Sprintf(", round %d", r.round)
		}
		fmt.Printf("| %s | %d | %d | %.0f | %s | %s | %s | %s | %s%s | %s%s | %s → %s |\n", name, r.requests, r.failures,
			r.throughput(), ms(r.pct(.50)), ms(r.pct(.95)), ms(r.pct(.99)), ms(r.pct(1)), mb(r.rssPeak), where, mb(r.hwm), where,
			r.loadBefore, r.loadAfter)
	}
}

// merged adds up each server's rounds, in the order of their first round.
func merged(rs []result) []result {
	var out []result
	at := map[string]int{}
	for _, r := range rs {
		i, ok := at[r.name]
		if !ok {
			at[r.name] = len(out)
			r.round, r.lat, r.errSamples = 0, slices.Clone(r.lat), maps.Clone(r.errSamples)
			out = append(out, r)
			continue
		}
		m := &out[i]
		m.requests += r.requests
		m.failures += r.failures
		m.created += r.created
		m.elapsed += r.elapsed
		m.lat = append(m.lat, r.lat...)
		m.rssPeak, m.hwm = max(m.rssPeak, r.rssPeak), max(m.hwm, r.hwm)
		m.loadAfter = r.loadAfter
		for k, n := range r.errSamples {
			if m.errSamples == nil {
				m.errSamples = map[string]int{}
			}
			m.errSamples[k] += n
		}
	}
	for i := range out {
		slices.Sort(out[i].lat)
	}
	return out
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
