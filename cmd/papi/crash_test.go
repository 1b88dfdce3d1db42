package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAcknowledgedSubmissionsSurviveKill9 checks the promise in README.md:
// "an acknowledged submission is committed before the 2xx is sent and
// survives a crash of the process". 16 clients submit as fast as they can
// while the server is killed with SIGKILL at three different moments; after
// each restart on the same SQLite file every acknowledged submission must be
// stored exactly once with the id it was acknowledged with, a retry of it
// must answer 200 with that id, and `papi recompute` must find the
// aggregates equal to the raw responses.
func TestAcknowledgedSubmissionsSurviveKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the papi binary")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "papi.db")
	logPath := filepath.Join(dir, "papi.log")
	srv := startPapi(t, db, logPath)
	tokens := centreTokens(t, db)
	bm := newBodyMaker(t, tokens, 300, 1)

	type ack struct {
		id   uint64
		body []byte
	}
	const clients = 16
	kills := []time.Duration{1500 * time.Millisecond, 900 * time.Millisecond, 2100 * time.Millisecond}
	jitter := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	var totalAcked, totalLost, totalStoredUnacked int

	for round, after := range kills {
		after += time.Duration(jitter.IntN(40)) * time.Millisecond
		var (
			mu      sync.Mutex
			acked   = map[string]ack{}
			unacked []string
			early   []string // failures answered by a live server
			killed  atomic.Bool
			wg      sync.WaitGroup
		)
		ctx, cancel := context.WithCancel(context.Background())
		tr := &http.Transport{MaxIdleConnsPerHost: clients}
		hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for seq := 0; ctx.Err() == nil && !killed.Load(); seq++ {
					sid := fmt.Sprintf("crash-r%d-c%02d-%07d", round, c, seq)
					body := bm.body(sid)
					sentBeforeKill := !killed.Load()
					res := submit(ctx, hc, srv.base, body)
					mu.Lock()
					switch {
					case res.err == nil && res.status/100 == 2:
						acked[sid] = ack{res.id, body}
					case sentBeforeKill:
						unacked = append(unacked, sid)
						if res.status != 0 && !killed.Load() {
							early = append(early, fmt.Sprintf("%s: %v", sid, res.err))
						}
					}
					mu.Unlock()
				}
			}()
		}
		time.Sleep(after)
		// Kill in the middle of the stream: the clients are not stopped, each
		// has a request in flight when the signal is sent. Requests sent
		// after it are refused and not counted as in flight.
		srv.signalKill()
		killed.Store(true)
		srv.kill()
		cancel()
		wg.Wait()
		tr.CloseIdleConnections()

		if len(early) > 0 {
			t.Errorf("round %d: %d submissions failed while the server was up, e.g. %s", round, len(early), early[0])
		}
		if len(acked) == 0 {
			t.Fatalf("round %d: nothing was acknowledged in %s; log:\n%s", round, after, logTail(logPath))
		}

		// Restart on the same file (this also recovers the WAL).
		srv = startPapi(t, db, logPath)
		count, ids := storedCounts(t, db)
		lost, storedUnacked, bad := 0, 0, 0
		for sid, a := range acked {
			if count[sid] != 1 || ids[sid] != a.id {
				bad++
			}
			switch {
			case count[sid] == 0:
				t.Errorf("round %d: acknowledged submission %s (id %d) is missing after kill -9", round, sid, a.id)
			case count[sid] > 1:
				t.Errorf("round %d: acknowledged submission %s is stored %d times", round, sid, count[sid])
			case ids[sid] != a.id:
				t.Errorf("round %d: submission %s was acknowledged as id %d but is stored as id %d", round, sid, a.id, ids[sid])
			}
		}
		for _, sid := range unacked {
			switch count[sid] {
			case 0:
				lost++
			case 1:
				storedUnacked++ // committed, but the answer died with the process
			default:
				t.Errorf("round %d: unacknowledged submission %s is stored %d times", round, sid, count[sid])
			}
		}
		if dups := duplicateSubmissions(t, db); len(dups) > 0 {
			t.Errorf("round %d: %d submission ids stored more than once, e.g. %s", round, len(dups), dups[0])
		}

		// A retry of an acknowledged submission (what the resident's page does
		// after a network drop) must answer 200 with the same id.
		retryClient := &http.Client{Timeout: 5 * time.Second}
		retried := 0
		for sid, a := range acked {
			if retried == 64 {
				break
			}
			retried++
			res := submit(context.Background(), retryClient, srv.base, a.body)
			if res.err != nil || res.status != http.StatusOK || res.id != a.id {
				t.Errorf("round %d: retry of acknowledged %s: status %d id %d err %v; want 200 with id %d", round, sid, res.status, res.id, res.err, a.id)
			}
		}

		// Aggregates must equal what the raw responses give.
		out, err := runRecompute(t, db)
		if err != nil {
			t.Errorf("round %d: papi recompute: %v\n%s", round, err, out)
		}
		t.Logf("round %d: killed after %s: %d acknowledged (%d not stored exactly once), %d in flight not acknowledged: %d lost, %d committed without an answer; recompute: %s",
			round, after.Round(time.Millisecond), len(acked), bad, len(unacked), lost, storedUnacked, out)
		totalAcked += len(acked)
		totalLost += lost
		totalStoredUnacked += storedUnacked
	}
	srv.stop(t)
	t.Logf("total over %d kills: %d acknowledged, %d lost in flight (never acknowledged), %d stored but unacknowledged",
		len(kills), totalAcked, totalLost, totalStoredUnacked)
}

func logTail(path string) string {
	b, _ := os.ReadFile(path)
	return tail(b, 3000)
}
