package main

import (
	"fmt"
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

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
