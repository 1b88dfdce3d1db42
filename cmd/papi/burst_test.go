package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDisconnectBurstLeavesNothingBehind sends ~300 submissions at once (far
// above the one writer connection and eight readers papi keeps on SQLite)
// whose clients all go away mid-request: (a) headers announcing 5000 bytes
// and only part of the body, (b) a whole valid submission and a close
// without reading the answer, (c) a body trickled byte by byte and dropped
// halfway. Right after, the server must answer /healthz and a fresh
// submission within a second each, take 50 more submissions, let its
// in-flight gauge fall back to the scrape itself, and hold no duplicate or
// half-received submission.
func TestDisconnectBurstLeavesNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the papi binary")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "papi.db")
	logPath := filepath.Join(dir, "papi.log")
	srv := startPapi(t, db, logPath)
	tokens := centreTokens(t, db)
	bm := newBodyMaker(t, tokens, 300, 2)
	addr := strings.TrimPrefix(srv.base, "http://")

	const n = 300
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		mu       sync.Mutex
		partial  []string // ids that never had their whole body sent
		complete []string // ids sent whole, answer not read
		dialErrs int
	)
	header := func(length int) string {
		return "POST /api/v1/responses HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(length) + "\r\n\r\n"
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sid := fmt.Sprintf("burst-%d-%04d", i%3, i)
			body := bm.body(sid)
			<-start
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				mu.Lock()
				dialErrs++
				mu.Unlock()
				return
			}
			defer conn.Close()
			_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
			switch i % 3 {
			case 0: // (a) announce 5000 bytes, send part, hang up
				cut := len(body) / 2
				_, _ = io.WriteString(conn, header(5000)+string(body[:cut]))
				mu.Lock()
				partial = append(partial, sid)
				mu.Unlock()
			case 1: // (b) whole submission, hang up without reading
				_, _ = io.WriteString(conn, header(len(body))+string(body))
				mu.Lock()
				complete = append(complete, sid)
				mu.Unlock()
			case 2: // (c) trickle the body, hang up halfway
				if _, err := io.WriteString(conn, header(len(body))); err != nil {
					return
				}
				for k := 0; k < len(body)/2; k++ {
					if _, err := conn.Write(body[k : k+1]); err != nil {
						break
					}
					if k%4 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
				mu.Lock()
				partial = append(partial, sid)
				mu.Unlock()
			}
			if tc, ok := conn.(*net.TCPConn); ok && i%2 == 0 {
				_ = tc.SetLinger(0) // half of them reset instead of closing cleanly
			}
		}()
	}
	burstStart := time.Now()
	close(start)
	wg.Wait()
	t.Logf("burst of %d disconnecting clients sent in %s (%d dial errors)", n, time.Since(burstStart).Round(time.Millisecond), dialErrs)

	// Immediately after: health and a fresh submission, each within 1 s.
	quick := &http.Client{Timeout: time.Second}
	t0 := time.Now()
	resp, err := quick.Get(srv.base + "/healthz")
	if err != nil {
		t.Fatalf("/healthz right after the burst: %v (after %s); log:\n%s", err, time.Since(t0), logTail(logPath))
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz right after the burst: status %d", resp.StatusCode)
	}
	healthIn := time.Since(t0)
	t0 = time.Now()
	res := submit(context.Background(), quick, srv.base, bm.body("after-burst-first"))
	if res.err != nil || res.status != http.StatusCreated {
		t.Fatalf("fresh submission right after the burst: status %d err %v (after %s); log:\n%s", res.status, res.err, time.Since(t0), logTail(logPath))
	}
	submitIn := time.Since(t0)

	// 50 more normal submissions, 10 at a time, all stored.
	var (
		failMu   sync.Mutex
		failures []string
		swg      sync.WaitGroup
	)
	normal := &http.Client{Timeout: 5 * time.Second}
	sem := make(chan struct{}, 10)
	for i := 0; i < 50; i++ {
		swg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; swg.Done() }()
			r := submit(context.Background(), normal, srv.base, bm.body(fmt.Sprintf("after-burst-%03d", i)))
			if r.err != nil || r.status != http.StatusCreated {
				failMu.Lock()
				failures = append(failures, fmt.Sprintf("status %d err %v", r.status, r.err))
				failMu.Unlock()
			}
		}()
	}
	swg.Wait()
	if len(failures) > 0 {
		t.Errorf("%d of 50 submissions after the burst failed, e.g. %s", len(failures), failures[0])
	}

	// The in-flight gauge falls back to the scrape itself.
	var inFlight float64 = -1
	deadline := time.Now().Add(5 * time.Second)
	for {
		inFlight, err = scrapeInFlight(quick, srv.base)
		if err == nil && inFlight <= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("papi_http_requests_in_flight is still %v (err %v) 5 s after the burst", inFlight, err)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Nothing duplicated, nothing half-received stored.
	srv.stop(t)
	count, _ := storedCounts(t, db)
	if dups := duplicateSubmissions(t, db); len(dups) > 0 {
		t.Errorf("%d submission ids stored more than once, e.g. %s", len(dups), dups[0])
	}
	for _, sid := range partial {
		if count[sid] != 0 {
			t.Errorf("submission %s was stored although its body never arrived whole", sid)
		}
	}
	storedB := 0
	for _, sid := range complete {
		storedB += count[sid]
	}
	if count["after-burst-first"] != 1 {
		t.Errorf("after-burst-first stored %d times", count["after-burst-first"])
	}
	t.Logf("after the burst: /healthz in %s, fresh submission in %s, 50 more: %d failed, in-flight gauge %v; "+
		"%d whole submissions whose client hung up: %d stored; %d partial bodies: none stored; %d rows in all",
		healthIn.Round(time.Microsecond), submitIn.Round(time.Microsecond), len(failures), inFlight,
		len(complete), storedB, len(partial), len(count))
}

// scrapeInFlight reads papi_http_requests_in_flight from /metrics.
func scrapeInFlight(c *http.Client, base string) (float64, error) {
	resp, err := c.Get(base + "/metrics")
	if err != nil {
		return -1, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "papi_http_requests_in_flight "); ok {
			return strconv.ParseFloat(strings.TrimSpace(rest), 64)
		}
	}
	if err := sc.Err(); err != nil {
		return -1, err
	}
	return -1, fmt.Errorf("papi_http_requests_in_flight not in /metrics")
}
