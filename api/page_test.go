package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/static"
)

// fetch sends a request with the given headers and returns the answer with
// its body as sent (not decompressed: Accept-Encoding is set by hand).
func (ts *testServer) fetch(t testing.TB, method, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, body
}

func gunzip(t testing.TB, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPages requests every page as a browser would: the status, the
// server-side language and title, what must and must not be there.
func TestPages(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	for _, tc := range []struct {
		name, method, path string
		header             []string
		status             int
		want, not          []string
	}{
		{name: "home", path: "/", status: 200, want: []string{`<html lang="vi"`, `<title>papi — ý kiến người dân`, `id="lang-toggle" href="/?lang=en"`, `<h1`}},
		{name: "home in English by query", path: "/?lang=en", status: 200, want: []string{`<html lang="en"`, "residents’ feedback", `href="/?lang=vi"`}},
		{name: "login in English by cookie", path: "/login", header: []string{"Cookie", "papi_lang=en"}, status: 200, want: []string{`<html lang="en"`, "<title>Staff login · papi</title>", `id="login-email"`}},
		{name: "login keeps next in the switch", path: "/login?next=%2Fstaff%2Fcity", status: 200, want: []string{`href="/login?lang=en&amp;next=%2Fstaff%2Fcity"`}},
		{name: "staff shell", path: "/staff", status: 200, want: []string{"<title>Trang cán bộ · papi</title>", `id="logout-btn"`, `type="module"`}},
		{name: "commune page titled with the commune", path: "/staff/commune/26740", status: 200, want: []string{"<title>Phường Sài Gòn · papi</title>", `data-view="commune" data-code="26740"`}},
		{name: "centres page titled", path: "/staff/centres/26740", status: 200, want: []string{"<title>Điểm tiếp nhận ý kiến &amp; mã QR · Phường Sài Gòn · papi</title>"}},
		{name: "city page", path: "/staff/city", header: []string{"Cookie", "papi_lang=en"}, status: 200, want: []string{"<title>Comparison of communes, wards and special zones · papi</title>"}},
		{name: "unknown commune", path: "/staff/commune/99999", status: 404, want: []string{"Không tìm thấy trang", "This page does not exist"}},
		{name: "unknown view", path: "/staff/nope", status: 404, want: []string{"Không tìm thấy trang"}},
		{name: "city view takes no code", path: "/staff/city/26740", status: 404},
		{name: "commune view needs a code", path: "/staff/commune", status: 404},
		{name: "templates are not files", path: "/static/poster.html", status: 404, not: []string{"{{"}},
		{name: "templates folder not served", path: "/static/templates/report.html", status: 404},
		{name: "layout not served", path: "/static/layout.html", status: 404},
		{name: "Go source not served", path: "/static/embed.go", status: 404},
		{name: "resident form", path: "/s/nope", status: 404, want: []string{`id="not-found"`}},
		{name: "HEAD of a page", method: "HEAD", path: "/login", status: 200, not: []string{"<html"}},
		{name: "HEAD of health", method: "HEAD", path: "/healthz", status: 200},
		{name: "favicon", path: "/favicon.ico", status: 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			res, body := ts.fetch(t, method, tc.path, tc.header...)
			if res.StatusCode != tc.status {
				t.Fatalf("status: got %d, want %d: %.300s", res.StatusCode, tc.status, body)
			}
			for _, w := range tc.want {
				if !bytes.Contains(body, []byte(w)) {
					t.Errorf("body lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if bytes.Contains(body, []byte(n)) {
					t.Errorf("body has %q", n)
				}
			}
			if method == "HEAD" {
				if len(body) != 0 {
					t.Errorf("HEAD body: got %d bytes, want none", len(body))
				}
				if ct := res.Header.Get("Content-Type"); tc.path == "/login" && !strings.HasPrefix(ct, "text/html") {
					t.Errorf("HEAD Content-Type: got %q, want text/html", ct)
				}
			}
		})
	}
	t.Run("the switch's choice is remembered", func(t *testing.T) {
		res, _ := ts.fetch(t, "GET", "/login?lang=en")
		var got string
		for _, c := range res.Cookies() {
			if c.Name == "papi_lang" {
				got = c.Value
			}
		}
		if got != "en" {
			t.Errorf("papi_lang cookie: got %q, want en", got)
		}
	})
	t.Run("pages gzipped", func(t *testing.T) {
		res, body := ts.fetch(t, "GET", "/staff/city", "Accept-Encoding", "gzip")
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("Content-Encoding: got %q, want gzip", res.Header.Get("Content-Encoding"))
		}
		if html := gunzip(t, body); !bytes.Contains(html, []byte("<!DOCTYPE html>")) {
			t.Errorf("gunzipped page: got %.100q", html)
		}
		if res.Header.Get("Cache-Control") != "no-cache" {
			t.Errorf("page Cache-Control: got %q, want no-cache", res.Header.Get("Cache-Control"))
		}
	})
	t.Run("JSON gzipped, PNG not", func(t *testing.T) {
		res, body := ts.fetch(t, "GET", "/api/v1/catalogue", "Accept-Encoding", "gzip")
		if res.Header.Get("Content-Encoding") != "gzip" || !json.Valid(gunzip(t, body)) {
			t.Errorf("catalogue: Content-Encoding %q", res.Header.Get("Content-Encoding"))
		}
		res, _ = ts.fetch(t, "GET", "/favicon.ico", "Accept-Encoding", "gzip")
		if res.Header.Get("Content-Encoding") != "" {
			t.Errorf("favicon: got Content-Encoding %q, want none", res.Header.Get("Content-Encoding"))
		}
	})
}

// assetRE finds the asset URLs a page or stylesheet refers to.
var assetRE = regexp.MustCompile(`/static/[A-Za-z0-9_./-]+\.[a-z0-9]{10}\.[a-z]+`)

// moduleRE finds relative module imports in a served script.
var moduleRE = regexp.MustCompile(`(?:from\s*|import\s*\(?\s*)['"](\.{1,2}/[^'"]+)['"]`)

// TestAssets follows every asset a page refers to, and every module those
// modules import: each answers 200 at a content-hashed URL cached for a
// year, with its own type, gzipped when asked.
func TestAssets(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	seen := map[string]bool{}
	var queue []string
	for _, p := range []string{"/", "/login", "/staff", "/staff/commune/26740", "/staff/nope"} {
		_, body := ts.fetch(t, "GET", p)
		for _, u := range assetRE.FindAllString(string(body), -1) {
			if !seen[u] {
				seen[u] = true
				queue = append(queue, u)
			}
		}
	}
	if len(queue) < 5 {
		t.Fatalf("pages refer to %d assets, want the stylesheets, icon, dictionaries and scripts: %v", len(queue), queue)
	}
	modules := 0
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		res, body := ts.fetch(t, "GET", u, "Accept-Encoding", "gzip")
		if res.StatusCode != 200 {
			t.Errorf("%s: status %d", u, res.StatusCode)
			continue
		}
		if cc := res.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q, want a year, immutable", u, cc)
		}
		want := map[string]string{".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml"}[path.Ext(u)]
		if !strings.HasPrefix(res.Header.Get("Content-Type"), want) {
			t.Errorf("%s: Content-Type %q, want %s", u, res.Header.Get("Content-Type"), want)
		}
		if res.Header.Get("Content-Encoding") == "gzip" {
			body = gunzip(t, body)
		} else if len(body) > 1024 && path.Ext(u) != ".svg" {
			t.Errorf("%s: %d bytes sent without gzip", u, len(body))
		}
		if path.Ext(u) != ".js" {
			continue
		}
		modules++
		for _, m := range moduleRE.FindAllStringSubmatch(string(body), -1) {
			dep := path.Join(path.Dir(u), m[1])
			if !assetRE.MatchString(dep) {
				t.Errorf("%s imports %s, which is not a hashed name", u, m[1])
			}
			if !seen[dep] {
				seen[dep] = true
				queue = append(queue, dep)
			}
		}
	}
	if modules < 15 {
		t.Errorf("followed %d modules, want every staff module", modules)
	}
	// The resident form still links plain names: they are revalidated.
	res, _ := ts.fetch(t, "GET", "/static/app.css")
	etag := res.Header.Get("ETag")
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-cache" || etag == "" {
		t.Fatalf("/static/app.css: status %d, Cache-Control %q, ETag %q", res.StatusCode, res.Header.Get("Cache-Control"), etag)
	}
	if res, _ := ts.fetch(t, "GET", "/static/app.css", "If-None-Match", etag); res.StatusCode != 304 {
		t.Errorf("revalidation: got %d, want 304", res.StatusCode)
	}
	if res, _ := ts.fetch(t, "GET", "/static/form.js"); res.StatusCode != 200 {
		t.Errorf("/static/form.js: got %d, want 200", res.StatusCode)
	}
}

// TestModulesStayShort keeps the front end in files a person can read
// (code review item 7: no JS file over about 400 lines).
func TestModulesStayShort(t *testing.T) {
	err := fs.WalkDir(static.FS, "assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) != ".js" {
			return err
		}
		b, _ := fs.ReadFile(static.FS, name)
		if n := bytes.Count(b, []byte("\n")); n > 400 {
			t.Errorf("%s: %d lines, want at most 400", name, n)
		}
		if bytes.Contains(b, []byte("innerHTML")) {
			t.Errorf("%s builds HTML from strings (innerHTML); build nodes with dom.js", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// keyUses finds where a dictionary key is used: t('key') in scripts,
// data-i18n="key" and .T "key" in templates, d.T("key") in Go.
var keyUses = []*regexp.Regexp{
	regexp.MustCompile(`\bt\(\s*'([A-Za-z0-9_]+)'\s*[,)]`),
	regexp.MustCompile(`\bt\([^()']*\?\s*'([A-Za-z][A-Za-z0-9_]+)'\s*:\s*'([A-Za-z][A-Za-z0-9_]+)'`),
	regexp.MustCompile(`data-i18n="([A-Za-z0-9_]+)"`),
	regexp.MustCompile(`data-i18n-attr="[a-z-]+:([A-Za-z0-9_]+)"`),
	regexp.MustCompile(`\.T "([A-Za-z0-9_]+)"`),
	regexp.MustCompile(`\bd\.T\("([A-Za-z0-9_]+)"`),
}

// prefixUse finds keys built at run time, t('role_' + role): some key must
// start with the prefix.
var prefixUse = regexp.MustCompile(`\bt\(\s*'([A-Za-z0-9]+_)'\s*\+`)

// TestDictionaries checks the two dictionaries have the same keys, no
// empty text, and every key the pages use.
func TestDictionaries(t *testing.T) {
	dict := map[string]map[string]string{}
	for _, lang := range []string{"vi", "en"} {
		b, err := fs.ReadFile(static.FS, "i18n/"+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		d := map[string]string{}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("i18n/%s.json: %v", lang, err)
		}
		dict[lang] = d
	}
	for k, v := range dict["vi"] {
		if en, ok := dict["en"][k]; !ok || en == "" || v == "" {
			t.Errorf("key %q: vi %q, en %q; want both", k, v, en)
		}
	}
	for k := range dict["en"] {
		if _, ok := dict["vi"][k]; !ok {
			t.Errorf("key %q is in en.json only", k)
		}
	}
	used := map[string]string{}
	prefixes := map[string]string{}
	scan := func(name string, b []byte) {
		for _, m := range prefixUse.FindAllSubmatch(b, -1) {
			prefixes[string(m[1])] = name
		}
		for _, re := range keyUses {
			for _, m := range re.FindAllSubmatch(b, -1) {
				for _, k := range m[1:] {
					used[string(k)] = name
				}
			}
		}
	}
	err := fs.WalkDir(static.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == "form.js" || name == "form.html" {
			return err // the form keeps its own dictionary until it moves over
		}
		b, _ := fs.ReadFile(static.FS, name)
		scan(name, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	goFiles, _ := filepath.Glob("*.go")
	for _, f := range goFiles {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		scan(f, b)
	}
	if len(used) < 100 {
		t.Fatalf("found %d keys in use; the scan is broken", len(used))
	}
	for k, where := range used {
		if _, ok := dict["vi"][k]; !ok {
			t.Errorf("%s uses key %q, missing from the dictionaries", where, k)
		}
	}
	for p, where := range prefixes {
		found := false
		for k := range dict["vi"] {
			found = found || strings.HasPrefix(k, p)
		}
		if !found {
			t.Errorf("%s builds keys %s…, and no key starts so", where, p)
		}
	}
}

// TestShortCode: the poster's short address leads to the centre's form,
// for a commune's first and second centres, keeping a receipt code, and
// a wrong or closed one says so on a page.
func TestShortCode(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	ctx := context.Background()
	first := mustCentre(t, ts, "26740")
	second, err := ts.store.CreateCentre(ctx, "test", "26740", "Cơ sở 2", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		path, location string
		status         int
	}{
		{"/c/26740", "/s/" + first.Token, 302},
		{"/c/26740-1", "/s/" + first.Token, 302},
		{"/c/26740-2", "/s/" + second.Token, 302},
		{"/c/26740?r=ABCD2345", "/s/" + first.Token + "?r=ABCD2345", 302},
		{"/c/26740-3", "", 404},
		{"/c/26740-0", "", 404},
		{"/c/99999", "", 404},
		{"/c/abc", "", 404},
	} {
		res, body := ts.fetch(t, "GET", tc.path)
		if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
			t.Errorf("%s: got %d → %q, want %d → %q", tc.path, res.StatusCode, res.Header.Get("Location"), tc.status, tc.location)
		}
		if tc.status == 404 && !bytes.Contains(body, []byte("<!DOCTYPE html>")) {
			t.Errorf("%s: want a page, got %.100q", tc.path, body)
		}
	}
	if _, err := ts.store.SetCentreOpen(ctx, "test", second.ID, false); err != nil {
		t.Fatal(err)
	}
	if res, body := ts.fetch(t, "GET", "/c/26740-2"); res.StatusCode != 404 || !bytes.Contains(body, []byte("không còn hiệu lực")) {
		t.Errorf("closed centre: got %d %.200q, want 404 saying so", res.StatusCode, body)
	}
	// The posters print the short address, not the 58-character form URL.
	for _, tc := range []struct {
		id   uint
		want string
	}{{first.ID, "/c/26740"}, {second.ID, "/c/26740-2"}} {
		_, body := ts.fetch(t, "GET", "/api/v1/centres/"+strconv.FormatUint(uint64(tc.id), 10)+"/poster", "Authorization", "Bearer "+ts.tokens["admin"])
		m := regexp.MustCompile(`id="short-url">([^<]+)<`).FindSubmatch(body)
		host := strings.TrimPrefix(ts.URL, "http://")
		if m == nil || string(m[1]) != host+tc.want {
			t.Errorf("poster of centre %d: short address %q, want %q", tc.id, m, host+tc.want)
		}
	}
}

// TestQRImage: the slip's QR code decodes to the receipt's form link, and
// only papi's own form links are drawn.
func TestQRImage(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	link := ts.URL + "/s/" + mustCentre(t, ts, "26740").Token + "?r=ABCD2345"
	res, body := ts.fetch(t, "GET", "/qr.png?url="+url.QueryEscape(link))
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: status %d, type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeQR(img)
	if err != nil || got != link {
		t.Errorf("QR decodes to %v (%v), want %q", got, err, link)
	}
	for _, bad := range []string{"https://evil.example/s/x", ts.URL + "/api/v1/me", "", ts.URL + "/s/" + strings.Repeat("x", 600)} {
		if res, _ := ts.fetch(t, "GET", "/qr.png?url="+url.QueryEscape(bad)); res.StatusCode != 400 {
			t.Errorf("qr.png?url=%.40q: got %d, want 400", bad, res.StatusCode)
		}
	}
}

// TestReportFormats: the printable report writes numbers and dates as the
// Vietnamese page does (7,99; 81,4 %; 30/11/2026), prints PAPI 2024's
// medians from the reference figures, and lists indicators without a
// value apart instead of as rows of dashes.
func TestReportFormats(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	fill(t, ts, "26740", 400, 0.6, 0)
	res, body := ts.fetch(t, "GET", "/api/v1/communes/26740/summary?format=html", "Authorization", "Bearer "+ts.tokens["commune"])
	if res.StatusCode != 200 {
		t.Fatalf("report: status %d", res.StatusCode)
	}
	html := string(body)
	cells := regexp.MustCompile(`<td class="num[^"]*">(?:<strong>)?([^<]*)`).FindAllStringSubmatch(html, -1)
	viNum := regexp.MustCompile(`^(—|[−+±]?\d{1,3}(\.\d{3})*(,\d+)?(\x{00a0}%)?(( – |–)[−+±]?\d{1,3}(\.\d{3})*(,\d+)?(\x{00a0}%)?)?|\d+ / \d+)$`)
	checked := 0
	for _, c := range cells {
		v := strings.TrimSpace(c[1])
		if v == "" {
			continue
		}
		checked++
		if !viNum.MatchString(v) {
			t.Errorf("report cell %q is not written the Vietnamese way", v)
		}
	}
	if checked < 20 {
		t.Errorf("checked %d number cells, want the report's tables", checked)
	}
	for _, want := range []string{`<td class="num ref">4,93</td>`, `id="report-missing"`, `id="report-responses">400<`} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if !regexp.MustCompile(`Kỳ báo cáo</strong> <span class="en" lang="en">Period</span>: \d\d/\d\d/\d{4} – \d\d/\d\d/\d{4}`).MatchString(html) {
		t.Error("report period is not written dd/mm/yyyy")
	}
	if strings.Contains(html, "style=") {
		t.Error("report has inline style attributes (blocked by the CSP)")
	}
	if n := strings.Count(html, `<tr data-indicator=`); n == 0 || n > 118 {
		t.Errorf("report has %d indicator rows", n)
	}
	if !strings.Contains(html, `class="miss-dim"`) {
		t.Error("report lists no indicator without enough data; 400 answers cannot fill all 118")
	}
}
