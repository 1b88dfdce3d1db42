package api

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"deflate, gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"br", false},
		{"x-gzip", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept-Encoding", tc.header)
		if got := acceptsGzip(r); got != tc.want {
			t.Errorf("Accept-Encoding %q: got %v, want %v", tc.header, got, tc.want)
		}
	}
}

// TestCompressText drives the middleware through a bare Echo router: text
// of a kilobyte or more is gzipped for clients that accept it, everything
// else passes through unchanged, and HEAD answers with the GET's headers
// and no body.
func TestCompressText(t *testing.T) {
	text := strings.Repeat("Phường Sài Gòn, 7,99; ", 100)
	e := echo.New()
	e.Pre(headAsGet)
	e.Use(compressText)
	e.GET("/text", func(c echo.Context) error { return c.String(http.StatusOK, text) })
	e.GET("/tiny", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]int{"id": 1}) })
	e.GET("/png", func(c echo.Context) error { return c.Blob(http.StatusOK, "image/png", []byte(text)) })
	e.GET("/own", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentEncoding, "gzip")
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(text))
		_ = zw.Close()
		return c.Blob(http.StatusOK, "text/plain", buf.Bytes())
	})
	e.GET("/stream", func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderContentType, "text/csv")
		c.Response().WriteHeader(http.StatusOK)
		for i := 0; i < 3; i++ {
			_, _ = c.Response().Write([]byte(text))
			c.Response().Flush()
		}
		return nil
	})
	e.GET("/none", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	for _, tc := range []struct {
		name, method, path, accept string
		wantStatus                 int
		wantGzip                   bool
		wantBody                   string
	}{
		{"text gzipped", "GET", "/text", "gzip", 200, true, text},
		{"text plain without gzip", "GET", "/text", "", 200, false, text},
		{"tiny JSON stays plain", "GET", "/tiny", "gzip", 200, false, "{\"id\":1}\n"},
		{"images stay plain", "GET", "/png", "gzip", 200, false, text},
		{"handler's own encoding kept", "GET", "/own", "gzip", 200, true, text},
		{"streamed text gzipped", "GET", "/stream", "gzip", 200, true, text + text + text},
		{"no content", "GET", "/none", "gzip", 204, false, ""},
		{"HEAD has no body", "HEAD", "/text", "gzip", 200, true, ""},
		{"HEAD of an unknown path", "HEAD", "/nope", "", 404, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.accept != "" {
				req.Header.Set("Accept-Encoding", tc.accept)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != tc.wantStatus {
				t.Fatalf("status: got %d, want %d", rec.Code, tc.wantStatus)
			}
			gz := rec.Header().Get("Content-Encoding") == "gzip"
			if gz != tc.wantGzip {
				t.Fatalf("Content-Encoding gzip: got %v, want %v", gz, tc.wantGzip)
			}
			body := rec.Body.Bytes()
			if tc.method == "HEAD" {
				if len(body) != 0 {
					t.Fatalf("HEAD body: got %d bytes, want none", len(body))
				}
				return
			}
			if gz {
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				if body, err = io.ReadAll(zr); err != nil {
					t.Fatal(err)
				}
			}
			if string(body) != tc.wantBody {
				t.Errorf("body: got %.60q…, want %.60q…", body, tc.wantBody)
			}
			if tc.accept != "" && tc.wantStatus == 200 && !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
				t.Errorf("Vary: got %q, want Accept-Encoding", rec.Header().Get("Vary"))
			}
		})
	}
}
