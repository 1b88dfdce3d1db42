package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/tdewolff/minify/v2"
	"github.com/tdewolff/minify/v2/css"
	"github.com/tdewolff/minify/v2/js"
)

// asset is one browser file held in memory with its gzip form, served at a
// content-hashed URL (cached for a year) and at its plain URL (revalidated).
type asset struct {
	name  string // path in static.FS, e.g. "assets/js/staff/main.js"
	url   string // content-hashed URL, e.g. "/static/js/staff/main.1a2b3c4d5e.js"
	plain string // plain URL, e.g. "/static/js/staff/main.js"
	body  []byte
	gz    []byte // nil when gzip would not help (images already compressed)
	ctype string
	etag  string
}

// assets is the table of every servable browser file, by name and by URL.
type assets struct {
	byName map[string]*asset
	byURL  map[string]*asset
}

// assetRoots maps folders of static.FS to the URL prefix they are served
// under. Templates are absent on purpose: they are rendered, never served.
var assetRoots = []struct{ dir, prefix string }{
	{"assets", "/static/"},
	{"i18n", "/static/i18n/"},
}

// legacyAssets are files outside assets/ served at a plain URL: the
// resident form's script, until it moves onto the shared layout, and the
// kiosk's service worker, whose address sets its scope (/k/).
var legacyAssets = map[string]string{"form.js": "/static/form.js", "kiosk-sw.js": "/k/sw.js"}

// importRE finds the relative module specifiers of static imports and
// exports ("import x from './a.js'", "export {y} from '../b.js'", "import
// './c.js'") and of dynamic imports ("import('./d.js')"), so that a module
// can point at the hashed names of the modules it loads.
var importRE = regexp.MustCompile(`(?m)(?:^\s*(?:import|export)\b[^'"();]*?\bfrom\s*|^\s*import\s*|\bimport\(\s*)['"](\.{1,2}/[^'"]+)['"]`)

// loadAssets reads every asset, rewrites module imports to hashed names and
// precompresses text. Hashes are taken after rewriting, so a module's URL
// changes whenever any module it imports changes.
func loadAssets(fsys fs.FS) (*assets, error) {
	a := &assets{byName: map[string]*asset{}, byURL: map[string]*asset{}}
	raw := map[string][]byte{}
	plain := map[string]string{}
	for _, root := range assetRoots {
		err := fs.WalkDir(fsys, root.dir, func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			body, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			raw[name] = body
			plain[name] = root.prefix + strings.TrimPrefix(name, root.dir+"/")
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read assets: %w", err)
		}
	}
	for name, url := range legacyAssets {
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read assets: %w", err)
		}
		raw[name], plain[name] = body, url
	}
	// Modules are finished depth first: a module's imports are hashed
	// before the module itself. visiting catches import cycles, which
	// content hashing cannot name.
	visiting := map[string]bool{}
	var finish func(name string) (*asset, error)
	finish = func(name string) (*asset, error) {
		if done, ok := a.byName[name]; ok {
			return done, nil
		}
		body, ok := raw[name]
		if !ok {
			return nil, fmt.Errorf("asset %s does not exist", name)
		}
		if visiting[name] {
			return nil, fmt.Errorf("module import cycle through %s", name)
		}
		visiting[name] = true
		if strings.HasSuffix(name, ".js") {
			var ferr error
			body = importRE.ReplaceAllFunc(body, func(m []byte) []byte {
				sub := importRE.FindSubmatch(m)
				spec := string(sub[1])
				dep, err := finish(path.Join(path.Dir(name), spec))
				if err != nil {
					ferr = fmt.Errorf("%s imports %s: %w", name, spec, err)
					return m
				}
				hashed := path.Join(path.Dir(spec), path.Base(dep.url))
				if !strings.HasPrefix(hashed, ".") {
					hashed = "./" + hashed
				}
				return bytes.Replace(m, sub[1], []byte(hashed), 1)
			})
			if ferr != nil {
				return nil, ferr
			}
		}
		body, err := minified(name, body)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		hash := hex.EncodeToString(sum[:5])
		ext := path.Ext(plain[name])
		as := &asset{
			name: name, plain: plain[name], body: body, etag: `"` + hash + `"`,
			url:   strings.TrimSuffix(plain[name], ext) + "." + hash + ext,
			ctype: contentType(ext),
		}
		if compressible(as.ctype) && len(body) > 512 {
			as.gz = gzipBytes(body)
		}
		a.byName[name] = as
		a.byURL[as.url] = as
		a.byURL[as.plain] = as
		delete(visiting, name)
		return as, nil
	}
	for name := range raw {
		if _, err := finish(name); err != nil {
			return nil, fmt.Errorf("load assets: %w", err)
		}
	}
	return a, nil
}

// minifier shrinks scripts and styles as they are loaded, so the sources
// keep their comments and there is still no build step: the resident form
// went from 54 to about 30 KB of script (issue 11: at most 70 KB for the
// whole form).
var minifier = func() *minify.M {
	m := minify.New()
	m.AddFunc("js", js.Minify)
	m.AddFunc("css", css.Minify)
	return m
}()

// minified is an asset's body minified by its kind; JSON is compacted;
// anything else is left as it is.
func minified(name string, body []byte) ([]byte, error) {
	switch path.Ext(name) {
	case ".js", ".css":
		out, err := minifier.Bytes(strings.TrimPrefix(path.Ext(name), "."), body)
		if err != nil {
			return nil, fmt.Errorf("minify %s: %w", name, err)
		}
		return out, nil
	case ".json":
		var buf bytes.Buffer
		if err := json.Compact(&buf, body); err != nil {
			return nil, fmt.Errorf("asset %s is not JSON: %w", name, err)
		}
		return buf.Bytes(), nil
	}
	return body, nil
}

// URL returns the content-hashed URL of an asset; it panics on an unknown
// name, which is a template bug that the page tests catch at once.
func (a *assets) URL(name string) string {
	as, ok := a.byName[name]
	if !ok {
		panic("unknown asset " + name)
	}
	return as.url
}

func contentType(ext string) string {
	switch ext {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".json":
		return "application/json; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".ico":
		return "image/x-icon"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}

// handleAsset serves a browser file. A hashed URL never changes content, so
// browsers keep it for a year without asking again; a plain URL (the
// resident form's, until it moves onto the layout) is revalidated by ETag.
func (s *Server) handleAsset(c echo.Context) error {
	as, ok := s.pages.assets.byURL[c.Request().URL.Path]
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, as.ctype)
	addVary(h, echo.HeaderAcceptEncoding)
	if c.Request().URL.Path == as.url {
		h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		h.Set(echo.HeaderCacheControl, "no-cache")
		h.Set("ETag", as.etag)
		if c.Request().Header.Get("If-None-Match") == as.etag {
			return c.NoContent(http.StatusNotModified)
		}
	}
	body := as.body
	if as.gz != nil && acceptsGzip(c.Request()) {
		h.Set(echo.HeaderContentEncoding, "gzip")
		body = as.gz
	}
	return c.Blob(http.StatusOK, as.ctype, body)
}
