// Package static holds the browser side of papi: the resident form, the staff
// pages and the printable poster template, embedded into the binary so that a
// single file serves everything with no CDN or external font.
package static

import "embed"

// FS holds every asset; api mounts it and parses its templates.
//
//go:embed *.html *.js *.css
var FS embed.FS
