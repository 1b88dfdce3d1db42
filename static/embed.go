// Package static holds the browser side of papi, embedded into the binary so
// that a single file serves everything with no CDN or external font:
//
//   - templates/: the pages and printable documents, rendered by api through
//     html/template on one base layout (never served as files);
//   - assets/: stylesheets, native ES modules and icons, served by api under
//     /static/ with content-hashed names;
//   - i18n/: one dictionary per language, read by the server for the pages
//     and fetched by the scripts;
//   - form.html and form.js: the resident form (moving onto the layout later),
//     and kiosk-sw.js, the kiosk's service worker (served at /k/sw.js).
package static

import "embed"

// FS holds every file above; api parses its templates and serves its assets.
//
//go:embed templates assets i18n form.html form.js kiosk-sw.js
var FS embed.FS
