package api

import (
	"net/http"

	"github.com/labstack/echo/v4/middleware"

	"github.com/papi-hcmc/papi/store"
)

// maxResponseBody bounds a resident's submission: the full questionnaire
// with every text answer at its maximum fits in well under this.
const maxResponseBody = "64K"

// submissionRoute takes residents' answers, from phones and kiosks.
const submissionRoute = "/api/v1/responses"

func (s *Server) routes() {
	e := s.echo
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{RedirectCode: http.StatusMovedPermanently}))
	e.Pre(headAsGet)
	e.Use(requestID)
	e.Use(s.observe)
	e.Use(middleware.Recover())
	e.Use(s.securityHeaders)
	e.Use(compressText)

	// Public.
	e.GET("/healthz", s.handleHealth)
	e.GET("/readyz", s.handleReady)
	if !s.cfg.SeparateMetrics {
		e.GET("/metrics", s.handleMetrics)
	}
	e.GET("/api/v1/openapi.json", s.handleOpenAPI)
	e.GET("/api/v1/catalogue", s.handleCatalogueGet)
	e.GET("/api/v1/catalogue/xlsform", s.handleXLSFormGet)
	e.GET("/api/v1/catalogue/xform", s.handleXFormGet)
	e.GET("/api/v1/communes", s.handleCommuneList)
	e.GET("/api/v1/forms/:token", s.handleFormGet)
	e.POST(submissionRoute, s.handleResponseCreate, middleware.BodyLimit(maxResponseBody), s.throttle)
	e.POST("/api/v1/auth/login", s.handleLogin, noStore, middleware.BodyLimit("4K"))
	e.POST("/api/v1/auth/logout", s.handleLogout, noStore)
	e.POST("/api/v1/kiosks/enrol", s.handleKioskEnrol, noStore, middleware.BodyLimit("4K"), s.throttle)
	e.GET("/api/v1/kiosks/current", s.handleKioskCurrent, noStore)

	// Pages (api/page.go) and their assets.
	e.GET("/static/*", s.handleAsset)
	e.GET("/favicon.ico", s.handleFavicon)
	e.GET("/", s.handleIndexPage)
	e.GET("/login", s.handleLoginPage, checkNext)
	e.GET("/staff", s.handleStaffPage)
	e.GET("/staff/:view", s.handleStaffPage)
	e.GET("/staff/:view/:code", s.handleStaffPage)
	e.GET("/s/:token", s.handleFormPage)
	e.GET("/k/:token", s.handleKioskPage)
	e.GET("/k/sw.js", s.handleAsset) // the kiosk's service worker (static/kiosk-sw.js)
	e.GET("/c/:code", s.handleShortCode)
	e.GET("/qr.png", s.handleQRImage)

	// Staff.
	staff := e.Group("/api/v1", noStore, s.authenticate)
	staff.GET("/me", s.handleMe)
	staff.GET("/communes/:code/centres", s.handleCentreList, s.communeScope)
	staff.POST("/communes/:code/centres", s.handleCentreCreate, s.communeScope, middleware.BodyLimit("4K"))
	staff.POST("/centres/:id/close", s.handleCentreClose, s.centreRunScope)
	staff.POST("/centres/:id/open", s.handleCentreOpen, s.centreRunScope)
	staff.POST("/centres/:id/rotate-token", s.handleCentreRotate, s.centreRunScope)
	staff.GET("/centres/:id/qr.png", s.handleCentreQR, s.centreScope)
	staff.GET("/centres/:id/poster", s.handleCentrePoster, s.centreScope)
	staff.GET("/centres/:id/kiosks", s.handleKioskList, s.centreScope)
	staff.POST("/centres/:id/kiosks", s.handleKioskCreate, s.centreRunScope, middleware.BodyLimit("4K"))
	staff.DELETE("/kiosks/:id", s.handleKioskRevoke, s.kioskRunScope)
	staff.POST("/centres/:id/receipts", s.handleReceiptCreate, s.receiptScope, middleware.BodyLimit("4K"))
	staff.GET("/receipts/issuers", s.handleReceiptIssuers, s.adminOnly)
	staff.GET("/communes/:code/summary", s.handleSummary, s.communeScope)
	staff.GET("/communes/:code/responses.csv", s.handleResponsesExport, s.communeScope)
	staff.GET("/summary", s.handleUnitSummary, s.cityScope)
	staff.GET("/compare", s.handleCompare, s.cityScope)
	staff.GET("/followup", s.handleFollowup, s.cityScope)
	staff.GET("/trend", s.handleTrend)
	staff.GET("/audit", s.handleAudit, s.adminOnly)
	staff.GET("/flags", s.handleFlagList, s.adminOnly)
	staff.POST("/imports", s.handleImportCreate, s.adminOnly, middleware.BodyLimit(maxImportBody))
	staff.POST("/responses/:id/quarantine", s.setStatus(store.StatusQuarantined), s.adminOnly)
	staff.POST("/responses/:id/release", s.setStatus(store.StatusCounted), s.adminOnly)
	staff.GET("/users", s.handleUserList, s.adminOnly)
	staff.POST("/users", s.handleUserCreate, s.adminOnly, middleware.BodyLimit("4K"))
	staff.PATCH("/users/:id", s.handleUserUpdate, s.adminOnly, middleware.BodyLimit("4K"))
	staff.DELETE("/users/:id/sessions", s.handleUserSessionsDelete, s.adminOnly)
}
