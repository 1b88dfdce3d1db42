package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeMetricsAddr: with PAPI_METRICS_ADDR set, papi serve answers
// /metrics there and 404 on the public address (L3).
func TestServeMetricsAddr(t *testing.T) {
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	env := map[string]string{"PAPI_DB": filepath.Join(t.TempDir(), "papi.db"), "PAPI_ADDR": addr, "PAPI_METRICS_ADDR": metricsAddr, "PAPI_LOG_LEVEL": "error"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
	}()
	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			return 0, ""
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, _ := get("http://" + addr + "/healthz"); st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("papi serve did not come up")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, _ := get("http://" + addr + "/metrics"); st != 404 {
		t.Errorf("/metrics on the public address: got %d, want 404", st)
	}
	if st, body := get("http://" + metricsAddr + "/metrics"); st != 200 || !strings.Contains(body, "papi_http_requests_total") {
		t.Errorf("/metrics on PAPI_METRICS_ADDR: got %d, want the metrics", st)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("papi serve did not stop")
	}
	if st, _ := get("http://" + metricsAddr + "/metrics"); st != 0 {
		t.Errorf("metrics address still answers after shutdown: %d", st)
	}
}
