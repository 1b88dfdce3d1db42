package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/store"
	"github.com/papi-hcmc/papi/store/storetest"
	"github.com/papi-hcmc/papi/survey"
)

// BenchmarkHandlers times the summary and comparison endpoints end to end
// (routing, store read, scoring, JSON) on the benchmark databases that
// store's benchmarks build in PAPI_BENCH_DIR (run those first). Databases
// not built yet are skipped.
func BenchmarkHandlers(b *testing.B) {
	dir := os.Getenv("PAPI_BENCH_DIR")
	sizes := os.Getenv("PAPI_BENCH_SIZES")
	if dir == "" || sizes == "" {
		b.Skip("set PAPI_BENCH_DIR and PAPI_BENCH_SIZES to the databases store's benchmarks built")
	}
	for _, f := range strings.Split(sizes, ",") {
		n, _ := strconv.Atoi(strings.TrimSpace(f))
		path := filepath.Join(dir, fmt.Sprintf("papi-bench-%d.db", n))
		if _, err := os.Stat(path); err != nil {
			b.Logf("skip %d: %v", n, err)
			continue
		}
		for _, ep := range []struct{ name, path string }{
			{"summary", "/api/v1/communes/26740/summary?from=2025-01-01&to=2025-12-31"},
			{"compare", "/api/v1/compare?from=2025-01-01&to=2025-12-31"},
		} {
			b.Run(fmt.Sprintf("%s/responses=%d", ep.name, n), func(b *testing.B) {
				h, token := benchServer(b, path)
				req := httptest.NewRequest(http.MethodGet, ep.path, nil)
				req.Header.Set("Authorization", "Bearer "+token)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d: %.300s", w.Code, w.Body.String())
					}
				}
			})
		}
	}
}

func benchServer(b *testing.B, path string) (http.Handler, string) {
	b.Helper()
	ctx := context.Background()
	st := storetest.MustOpen(b, path, store.Options{})
	const email = "bench@sonoivu.test"
	if _, err := st.CreateUser(ctx, "test", survey.User{Email: email, Role: survey.RoleDepartment}, "a bench password"); err != nil && survey.ErrorCode(err) != survey.ECONFLICT {
		b.Fatal(err)
	}
	token, _, err := st.Login(ctx, email, "a bench password")
	if err != nil {
		b.Fatal(err)
	}
	return api.New(st, api.Config{BaseURL: "http://bench", Version: "bench"}, slog.New(slog.NewTextHandler(io.Discard, nil))), token
}
