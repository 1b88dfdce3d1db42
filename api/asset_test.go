package api

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestLoadAssetsHashes checks the content hashing of modules: an import
// points at the hashed name of what it imports, so changing a module deep
// in the graph changes the URL of every module above it and nothing else;
// a cycle or a missing module is refused at start-up.
func TestLoadAssetsHashes(t *testing.T) {
	files := func(leaf string) fstest.MapFS {
		return fstest.MapFS{
			"assets/js/main.js":   {Data: []byte("import { a } from './lib/a.js';\nimport './side.js';\nconst later = () => import('./lib/a.js');\n")},
			"assets/js/lib/a.js":  {Data: []byte("export { b } from '../b.js';\nexport const a = 1;\n")},
			"assets/js/b.js":      {Data: []byte("export const b = '" + leaf + "';\n")},
			"assets/js/side.js":   {Data: []byte("document.title = 'x';\n")},
			"assets/app.css":      {Data: []byte("body { color: #000; }\n")},
			"i18n/vi.json":        {Data: []byte(`{"a":"b"}`)},
			"form.js":             {Data: []byte("// the resident form\n")},
			"kiosk-sw.js":         {Data: []byte("// the kiosk's service worker\n")},
			"templates/page.html": {Data: []byte("{{.}}")},
		}
	}
	one, err := loadAssets(files("one"))
	if err != nil {
		t.Fatal(err)
	}
	two, err := loadAssets(files("two"))
	if err != nil {
		t.Fatal(err)
	}
	main := string(one.byName["assets/js/main.js"].body)
	a := one.byName["assets/js/lib/a.js"]
	// Modules are minified after hashing: compare without spaces, with one
	// kind of quote.
	js := strings.NewReplacer(`"`, `'`, " ", "").Replace
	for _, want := range []string{"from './lib/" + strings.TrimPrefix(a.url, "/static/js/lib/") + "'", "import('./lib/" + strings.TrimPrefix(a.url, "/static/js/lib/") + "')", "import './" + strings.TrimPrefix(one.byName["assets/js/side.js"].url, "/static/js/") + "'"} {
		if !strings.Contains(js(main), js(want)) {
			t.Errorf("main.js: got %q, want it to contain %q", main, want)
		}
	}
	if !strings.Contains(js(string(a.body)), js("from '../"+strings.TrimPrefix(one.byName["assets/js/b.js"].url, "/static/js/")+"'")) {
		t.Errorf("lib/a.js: got %q, want its import of ../b.js hashed", a.body)
	}
	for name, changed := range map[string]bool{"assets/js/b.js": true, "assets/js/lib/a.js": true, "assets/js/main.js": true, "assets/js/side.js": false, "assets/app.css": false} {
		if got := one.byName[name].url != two.byName[name].url; got != changed {
			t.Errorf("%s: URL changed %v when b.js changed, want %v", name, got, changed)
		}
	}
	for url, name := range map[string]string{"/static/app.css": "assets/app.css", "/static/i18n/vi.json": "i18n/vi.json", "/static/form.js": "form.js"} {
		if as, ok := one.byURL[url]; !ok || as.name != name {
			t.Errorf("plain URL %s: got %v, want %s", url, as, name)
		}
	}
	if _, ok := one.byName["templates/page.html"]; ok {
		t.Error("a template became an asset")
	}

	cycle := files("x")
	cycle["assets/js/b.js"] = &fstest.MapFile{Data: []byte("import { a } from './lib/a.js';\n")}
	if _, err := loadAssets(cycle); err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("import cycle: got %v, want an error naming the cycle", err)
	}
	missing := files("x")
	missing["assets/js/side.js"] = &fstest.MapFile{Data: []byte("import './nope.js';\n")}
	if _, err := loadAssets(missing); err == nil || !strings.Contains(err.Error(), "nope.js") {
		t.Errorf("missing import: got %v, want an error naming it", err)
	}
}
