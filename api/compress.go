package api

import (
	"compress/gzip"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// minGzip is the smallest body worth compressing: below about a kilobyte
// gzip's framing and the CPU cost outweigh the bytes saved (the intake's
// {"id":…} answers stay plain).
const minGzip = 1024

// acceptsGzip reports whether the client takes gzip-encoded bodies.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get(echo.HeaderAcceptEncoding), ",") {
		coding, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}

// addVary adds a field to Vary unless it is there already.
func addVary(h http.Header, field string) {
	for _, v := range h.Values(echo.HeaderVary) {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), field) {
				return
			}
		}
	}
	h.Add(echo.HeaderVary, field)
}

// compressible reports whether a content type is text that gzip shrinks;
// images, spreadsheets (already zip files) and PDFs are left alone.
func compressible(ctype string) bool {
	ctype, _, _ = strings.Cut(ctype, ";")
	ctype = strings.TrimSpace(strings.ToLower(ctype))
	switch {
	case strings.HasPrefix(ctype, "text/"):
		return true
	case ctype == "application/json", ctype == "application/javascript", ctype == "image/svg+xml",
		ctype == "application/xml", ctype == "application/problem+json":
		return true
	}
	return false
}

var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(io.Discard, gzip.DefaultCompression); return w }}

// compressText gzips text responses (pages, JSON, CSV) for clients that
// accept it. The choice is made when the body starts, from its content type
// and the size of its first write, so binary downloads, tiny answers and
// bodies the handler compressed itself (precompressed assets, /metrics) pass
// through unchanged.
func compressText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !acceptsGzip(c.Request()) {
			return next(c)
		}
		res := c.Response()
		addVary(res.Header(), echo.HeaderAcceptEncoding)
		gw := &gzipWriter{ResponseWriter: res.Writer}
		res.Writer = gw
		defer func() {
			gw.close()
			res.Writer = gw.ResponseWriter
		}()
		return next(c)
	}
}

// gzipWriter holds the status line back until the first write, when it
// knows enough to decide whether to compress.
type gzipWriter struct {
	http.ResponseWriter
	status  int
	decided bool
	zw      *gzip.Writer
}

func (w *gzipWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *gzipWriter) decide(first []byte) {
	w.decided = true
	if w.status == 0 {
		w.status = http.StatusOK
	}
	h := w.Header()
	size := len(first)
	if cl, err := strconv.Atoi(h.Get(echo.HeaderContentLength)); err == nil {
		size = cl
	}
	ctype := h.Get(echo.HeaderContentType)
	if ctype == "" && len(first) > 0 {
		ctype = http.DetectContentType(first)
	}
	if w.status >= 200 && w.status != http.StatusNoContent && w.status != http.StatusNotModified &&
		h.Get(echo.HeaderContentEncoding) == "" && size >= minGzip && compressible(ctype) {
		h.Del(echo.HeaderContentLength)
		h.Set(echo.HeaderContentEncoding, "gzip")
		w.zw = gzipPool.Get().(*gzip.Writer)
		w.zw.Reset(w.ResponseWriter)
	}
	w.ResponseWriter.WriteHeader(w.status)
}

func (w *gzipWriter) Write(b []byte) (int, error) {
	if !w.decided {
		w.decide(b)
	}
	if w.zw != nil {
		return w.zw.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

// Flush sends what is compressed so far: streamed exports keep streaming.
func (w *gzipWriter) Flush() {
	if !w.decided {
		return
	}
	if w.zw != nil {
		_ = w.zw.Flush()
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the connection.
func (w *gzipWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *gzipWriter) close() {
	if !w.decided {
		if w.status == 0 {
			return // nothing was answered (the client went away)
		}
		w.decide(nil)
	}
	if w.zw != nil {
		_ = w.zw.Close()
		gzipPool.Put(w.zw)
		w.zw = nil
	}
}

// headAsGet answers HEAD for every GET route: the request is routed as a
// GET and its body dropped, so the headers are exactly those of the GET.
func headAsGet(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method != http.MethodHead {
			return next(c)
		}
		c.Request().Method = http.MethodGet
		res := c.Response()
		res.Writer = headWriter{res.Writer}
		return next(c)
	}
}

// headWriter keeps the headers and status of a response and drops its body.
type headWriter struct{ http.ResponseWriter }

func (headWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
