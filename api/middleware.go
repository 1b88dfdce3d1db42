package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/papi-hcmc/papi/survey"
)

// contentSecurityPolicy allows only this origin's scripts: the pages have
// no inline script and no handler attributes, so an injected <script> or
// onerror= does not run. Styles allow 'unsafe-inline' because the poster
// and the printable report carry <style> blocks and the pages set style=
// attributes (widths of score bars); a style cannot run code. img-src
// allows data: for the QR codes the server embeds as data URIs.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// securityHeaders sets the browser protections on every answer. The
// resident form sends no referrer at all, so the centre's token in its URL
// never reaches another site; HSTS is sent once the public address is
// https (browsers ignore it over plain http).
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	hsts := strings.HasPrefix(s.cfg.BaseURL, "https://")
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set(echo.HeaderXContentTypeOptions, "nosniff")
		h.Set(echo.HeaderXFrameOptions, "DENY")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if p := c.Request().URL.Path; strings.HasPrefix(p, "/s/") || strings.HasPrefix(p, "/k/") {
			h.Set(echo.HeaderReferrerPolicy, "no-referrer")
		} else {
			h.Set(echo.HeaderReferrerPolicy, "same-origin")
		}
		if hsts {
			h.Set(echo.HeaderStrictTransportSecurity, "max-age=31536000")
		}
		return next(c)
	}
}

// noStore keeps staff data, login answers (they carry the bearer token) and
// downloads out of browser and proxy caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(echo.HeaderCacheControl, "no-store")
		h.Set("Pragma", "no-cache")
		return next(c)
	}
}

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// requestID names every request for the logs. A proxy's id is kept when it
// is short and plain; anything else (a client can send 1 MB of header) is
// replaced, so it is neither echoed nor written to the log.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !requestIDPattern.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

var errCrossSite = survey.Errorf(survey.EFORBIDDEN,
	"Yêu cầu đến từ một trang khác nên bị từ chối; hãy thao tác trên trang papi.",
	"The request came from another site's page and was refused; use papi's own pages.")

// originOf is the scheme://host[:port] of a base URL, as browsers write it
// in the Origin header.
func originOf(base string) string {
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// fromThisOrigin reports whether a browser says the request comes from one
// of papi's own pages: an Origin equal to PAPI_BASE_URL's, or, when a
// browser sends no Origin, Sec-Fetch-Site: same-origin.
func (s *Server) fromThisOrigin(r *http.Request) bool {
	if o := r.Header.Get(echo.HeaderOrigin); o != "" {
		return strings.EqualFold(o, s.origin)
	}
	return r.Header.Get("Sec-Fetch-Site") == "same-origin"
}

// fromOtherSite reports whether a browser says the request comes from
// another site's page. A request with neither header is an API client, not
// a page.
func (s *Server) fromOtherSite(r *http.Request) bool {
	if o := r.Header.Get(echo.HeaderOrigin); o != "" {
		return !strings.EqualFold(o, s.origin)
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return false
	}
	return true
}

// unsafeMethod reports whether a request may change something.
func unsafeMethod(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// safeNext reports whether a next= value is a path on this origin. Browsers
// drop tabs and newlines inside URLs, so "/\t/host" becomes "//host", another
// origin: control characters, spaces and backslashes are refused outright,
// then the value must parse as a path without scheme or host.
func safeNext(n string) bool {
	if !strings.HasPrefix(n, "/") || strings.HasPrefix(n, "//") {
		return false
	}
	for i := 0; i < len(n); i++ {
		if n[i] <= ' ' || n[i] == 0x7f || n[i] == '\\' {
			return false
		}
	}
	u, err := url.Parse(n)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == ""
}

// checkNext sends a login page with an unsafe next= to the plain login
// page, so the page's script never sees it (M1: an open redirect after
// login is a phishing lure).
func checkNext(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if n, ok := c.QueryParams()["next"]; ok && (len(n) != 1 || !safeNext(n[0])) {
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		return next(c)
	}
}
