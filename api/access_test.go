package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/papi-hcmc/papi/api"
	"github.com/papi-hcmc/papi/survey"
)

// rule is who may pass a route's scope checks.
type rule string

const (
	public     rule = "public"      // no account
	anyAccount rule = "staff"       // every account
	communeOf  rule = "commune"     // admin, department, the commune's own account
	cityWide   rule = "city"        // admin, department
	adminOnly  rule = "admin"       // admin
	issuing    rule = "receipt"     // admin, department, issuer of the commune or city
	runCentre  rule = "centre-runs" // admin, the commune's own account
)

// routeRules declares the access rule of every route the router serves.
// TestAccessMatrix fails for a route that is missing here, so a new route
// needs a decision, and then the matrix checks that its middleware enforces
// it.
var routeRules = map[string]rule{
	"GET /healthz":                             public,
	"GET /readyz":                              public,
	"GET /metrics":                             public,
	"GET /api/v1/openapi.json":                 public,
	"GET /api/v1/catalogue":                    public,
	"GET /api/v1/catalogue/xlsform":            public,
	"GET /api/v1/catalogue/xform":              public,
	"GET /api/v1/communes":                     public,
	"GET /api/v1/forms/:token":                 public,
	"POST /api/v1/responses":                   public,
	"POST /api/v1/auth/login":                  public,
	"POST /api/v1/auth/logout":                 public,
	"GET /s/:token":                            public,
	"GET /k/:token":                            public,
	"POST /api/v1/kiosks/enrol":                public, // a one-time device code, not an account
	"GET /api/v1/kiosks/current":               public, // a device secret, not an account
	"GET /api/v1/centres/:id/kiosks":           communeOf,
	"POST /api/v1/centres/:id/kiosks":          runCentre,
	"DELETE /api/v1/kiosks/:id":                runCentre,
	"GET /":                                    public,
	"GET /login":                               public,
	"GET /staff":                               public,
	"GET /static/*":                            public,
	"GET /k/sw.js":                             public, // the kiosk's service worker
	"GET /favicon.ico":                         public,
	"GET /staff/:view":                         public, // the page shell; its data needs an account
	"GET /staff/:view/:code":                   public,
	"GET /c/:code":                             public,
	"GET /qr.png":                              public, // draws papi's own form links only
	"GET /api/v1/me":                           anyAccount,
	"GET /api/v1/communes/:code/centres":       communeOf,
	"POST /api/v1/communes/:code/centres":      communeOf,
	"GET /api/v1/centres/:id/qr.png":           communeOf,
	"GET /api/v1/centres/:id/poster":           communeOf,
	"POST /api/v1/centres/:id/close":           runCentre,
	"POST /api/v1/centres/:id/open":            runCentre,
	"POST /api/v1/centres/:id/rotate-token":    runCentre,
	"POST /api/v1/centres/:id/receipts":        issuing,
	"GET /api/v1/communes/:code/summary":       communeOf,
	"GET /api/v1/communes/:code/responses.csv": communeOf,
	"GET /api/v1/summary":                      cityWide,
	"GET /api/v1/compare":                      cityWide,
	"GET /api/v1/followup":                     cityWide,
	"GET /api/v1/trend":                        cityWide, // commune= is checked in the handler: see below
	"GET /api/v1/audit":                        adminOnly,
	"GET /api/v1/flags":                        adminOnly,
	"POST /api/v1/responses/:id/quarantine":    adminOnly,
	"POST /api/v1/responses/:id/release":       adminOnly,
	"GET /api/v1/users":                        adminOnly,
	"POST /api/v1/users":                       adminOnly,
	"PATCH /api/v1/users/:id":                  adminOnly,
	"DELETE /api/v1/users/:id/sessions":        adminOnly,
	"GET /api/v1/receipts/issuers":             adminOnly,
	"POST /api/v1/imports":                     adminOnly,
}

// principal is one caller of the matrix: an account, and whether the
// paths name its own commune and centre or another's.
type principal struct {
	name  string
	token string
	own   bool
	allow map[rule]bool
}

// TestAccessMatrix is the role × endpoint matrix generated from the router
// (Server.Routes): every route has a declared rule; every staff route
// answers 401 without an account or with a bad token; and each account,
// on its own commune and on another, passes exactly the scope checks its
// role allows (any status but 401/403) and gets 403 from the others.
func TestAccessMatrix(t *testing.T) {
	ts := MustServer(t, api.RateLimit{Off: true})
	cityIssuer := ts.mustAccount(t, survey.User{Email: "onestop@hcmc.test", Role: survey.RoleIssuer})
	localIssuer := ts.mustAccount(t, survey.User{Email: "onestop26740@hcmc.test", Role: survey.RoleIssuer, CommuneCode: "26740"})
	victim, err := ts.store.CreateUser(t.Context(), "test", survey.User{Email: "victim@papi.test", Role: survey.RoleDepartment}, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	own, other := mustCentre(t, ts, "26740"), mustCentre(t, ts, "25747")
	ownKiosk, _ := mustKiosk(t, ts, own, "Quầy 1")
	otherKiosk, _ := mustKiosk(t, ts, other, "Quầy A")

	all := map[rule]bool{anyAccount: true, communeOf: true, cityWide: true, adminOnly: true, issuing: true, runCentre: true}
	only := func(rs ...rule) map[rule]bool {
		m := map[rule]bool{}
		for _, r := range rs {
			m[r] = true
		}
		return m
	}
	principals := []principal{
		{"admin", ts.tokens["admin"], true, all},
		{"department", ts.tokens["department"], false, only(anyAccount, communeOf, cityWide, issuing)},
		{"commune on its own", ts.tokens["commune"], true, only(anyAccount, communeOf, runCentre)},
		{"commune on another", ts.tokens["commune"], false, only(anyAccount)},
		{"city-wide issuer", cityIssuer, false, only(anyAccount, issuing)},
		{"commune issuer on its own", localIssuer, true, only(anyAccount, issuing)},
		{"commune issuer on another", localIssuer, false, only(anyAccount)},
	}
	path := func(route string, ownSide bool) string {
		code, centre, kiosk := "25747", other.ID, otherKiosk.ID
		if ownSide {
			code, centre, kiosk = "26740", own.ID, ownKiosk.ID
		}
		p := strings.ReplaceAll(route, ":code", code)
		switch {
		case strings.HasPrefix(p, "/api/v1/centres/"):
			p = strings.Replace(p, ":id", fmt.Sprint(centre), 1)
		case strings.HasPrefix(p, "/api/v1/kiosks/"):
			p = strings.Replace(p, ":id", fmt.Sprint(kiosk), 1)
		case strings.HasPrefix(p, "/api/v1/users/"):
			p = strings.Replace(p, ":id", fmt.Sprint(victim.ID), 1)
		case strings.HasPrefix(p, "/api/v1/responses/"):
			p = strings.Replace(p, ":id", "999999", 1)
		}
		return p
	}
	call := func(method, p, token string) int {
		body := ""
		if method != "GET" && method != "DELETE" {
			body = "{}"
		}
		return ts.do(t, method, p, token, body, nil).StatusCode
	}

	routed := map[string]bool{}
	for _, r := range ts.api.Routes() {
		if strings.HasPrefix(r.Method, "echo_route") {
			continue
		}
		key := r.Method + " " + r.Path
		routed[key] = true
		want, ok := routeRules[key]
		if !ok {
			t.Errorf("route %s has no access rule: add it to routeRules (and give it a scope check)", key)
			continue
		}
		if want == public {
			continue
		}
		for _, token := range []string{"", "not-a-real-token"} {
			if st := call(r.Method, path(r.Path, true), token); st != http.StatusUnauthorized {
				t.Errorf("%s with token %q: got %d, want 401", key, token, st)
			}
		}
		for _, p := range principals {
			st := call(r.Method, path(r.Path, p.own), p.token)
			passed := st != http.StatusUnauthorized && st != http.StatusForbidden
			if passed != p.allow[want] {
				t.Errorf("%s as %s (rule %s): got %d, want %s", key, p.name, want, st, map[bool]string{true: "through the scope check", false: "403"}[p.allow[want]])
			}
		}
	}
	for key := range routeRules {
		if !routed[key] {
			t.Errorf("routeRules names %s, which no route serves", key)
		}
	}
	// The trend's commune= scope lives in its handler.
	for _, tc := range []struct {
		who, query string
		want       int
	}{
		{"commune", "?commune=26740", 200},
		{"commune", "?commune=25747", 403},
		{"department", "?commune=25747", 200},
	} {
		if st := ts.do(t, "GET", "/api/v1/trend"+tc.query, ts.tokens[tc.who], "", nil).StatusCode; st != tc.want {
			t.Errorf("trend%s as %s: got %d, want %d", tc.query, tc.who, st, tc.want)
		}
	}
	if st := ts.do(t, "GET", "/api/v1/trend?commune=26740", localIssuer, "", nil).StatusCode; st != 403 {
		t.Errorf("trend of its commune as an issuer: got %d, want 403", st)
	}
}
