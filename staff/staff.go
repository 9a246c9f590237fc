package staff

import (
	"crypto/sha256"
	"crypto/subtle"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hotline/hotline/caselog"
)

// Token is one staff member's Bearer token. Name is written as the actor of
// everything done with it; Admin may read the audit trail.
type Token struct {
	Name, Token string
	Admin       bool
}

// Options configure a Handler. Log is required.
type Options struct {
	Log    *caselog.Log
	Tokens []Token
	Logger *slog.Logger
	// Now is the clock for deadlines shown, sessions and default date
	// ranges; default the log's clock.
	Now func() time.Time
	// Lease is how long a claimed callback stays with its agent; default 10m.
	Lease time.Duration
}

// Handler serves the staff API and console. It is safe for concurrent use.
type Handler struct {
	log      *caselog.Log
	tokens   []staffToken
	logger   *slog.Logger
	now      func() time.Time
	lease    time.Duration
	loc      *time.Location
	sessions *sessions
	pages    map[string]*template.Template
	api      *gin.Engine

	// claimedVia remembers which token claimed each callback, so that the
	// same desk may complete it without repeating the agent's name.
	claimMu    sync.Mutex
	claimedVia map[string]string // callback id -> token name
}

// staffToken keeps a token's SHA-256 sum only: comparing fixed-length sums
// in constant time does not reveal a token's length either.
type staffToken struct {
	name  string
	admin bool
	sum   [sha256.Size]byte
}

// staff is who a request acts as.
type staff struct {
	Name  string
	Admin bool
}

const staffKey = "staff"

// New builds a Handler. Tokens with an empty name or secret are ignored.
func New(o Options) *Handler {
	if o.Log == nil {
		panic("staff.New: Options.Log is required")
	}
	h := &Handler{
		log:    o.Log,
		logger: o.Logger,
		now:    o.Now,
		lease:  o.Lease,
		loc:    o.Log.Options().Calendar.Location,
	}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	h.logger = h.logger.With("comp", "staff")
	if h.now == nil {
		h.now = o.Log.Now
	}
	if h.lease <= 0 {
		h.lease = 10 * time.Minute
	}
	if h.loc == nil {
		h.loc = time.UTC
	}
	for _, t := range o.Tokens {
		if t.Name == "" || t.Token == "" {
			continue
		}
		h.tokens = append(h.tokens, staffToken{name: t.Name, admin: t.Admin, sum: sha256.Sum256([]byte(t.Token))})
	}
	h.sessions = newSessions(h.now, sessionTTL)
	h.pages = parsePages(h)
	h.api = h.apiRouter()
	return h
}

// Register adds the staff routes: the whole API under /api/v1 and the
// console under /console.
//
// The API has a router of its own, mounted on one catch-all route, so that
// authentication runs before routing: an unknown path or method under
// /api/v1 is 401 without a token, like every other (gin cannot put a
// catch-all next to other routes in one group).
func (h *Handler) Register(r gin.IRoutes) {
	r.Any("/api/v1/*path", gin.WrapH(h.api))

	r.GET("/console", h.consoleHome)
	r.GET("/console/static/:file", h.static)
	r.GET("/console/signin", h.signInPage)
	r.POST("/console/signin", h.signIn)
	r.POST("/console/signout", h.withSession, h.checkCSRF, h.signOut)
	r.GET("/console/search", h.withSession, h.searchPage)
	r.GET("/console/cases/:number", h.withSession, h.casePage)
	r.POST("/console/cases/:number/transitions", h.withSession, h.checkCSRF, h.consoleMove)
	r.GET("/console/callbacks", h.withSession, h.callbacksPage)
	r.GET("/console/callbacks/list", h.withSession, h.callbacksFragment)
	r.POST("/console/callbacks/:id/:verb", h.withSession, h.checkCSRF, h.consoleCallback)
}

func (h *Handler) apiRouter() *gin.Engine {
	api := gin.New()
	api.HandleMethodNotAllowed = true
	api.Use(h.recover, h.authenticate)
	api.NoRoute(func(c *gin.Context) { h.fail(c, errNoRoute) })
	api.NoMethod(func(c *gin.Context) { h.fail(c, errNoMethod) })

	v1 := api.Group("/api/v1")
	v1.GET("/cases", h.listCases)
	v1.GET("/cases/:number", h.getCase)
	v1.POST("/cases/:number/transitions", h.moveCase)
	v1.GET("/callbacks", h.listCallbacks)
	v1.POST("/callbacks/:id/claim", h.claimCallback)
	v1.POST("/callbacks/:id/release", h.releaseCallback)
	v1.POST("/callbacks/:id/complete", h.completeCallback)
	v1.GET("/stats", h.stats)
	v1.GET("/audit", h.requireAdmin, h.auditTrail)
	return api
}

// match returns the staff member whose token is secret. Every configured
// token is compared, whether or not one already matched.
func (h *Handler) match(secret string) (staff, bool) {
	if secret == "" {
		return staff{}, false
	}
	sum := sha256.Sum256([]byte(secret))
	found := -1
	for i := range h.tokens {
		if subtle.ConstantTimeCompare(sum[:], h.tokens[i].sum[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return staff{}, false
	}
	return staff{Name: h.tokens[found].name, Admin: h.tokens[found].admin}, true
}

// Authorize reads an Authorization header as the staff API does, for other
// routes of the server that admit staff (the backup endpoint).
func (h *Handler) Authorize(header string) (Token, bool) {
	scheme, secret, _ := strings.Cut(header, " ")
	who, ok := h.match(strings.TrimSpace(secret))
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return Token{}, false
	}
	return Token{Name: who.Name, Admin: who.Admin}, true
}

func (h *Handler) authenticate(c *gin.Context) {
	scheme, secret, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	who, ok := h.match(strings.TrimSpace(secret))
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		c.Header("WWW-Authenticate", `Bearer realm="hotline staff"`)
		h.fail(c, errUnauthorized)
		c.Abort()
		return
	}
	c.Set(staffKey, who)
	c.Next()
}

func (h *Handler) requireAdmin(c *gin.Context) {
	if !actor(c).Admin {
		h.fail(c, errForbidden)
		c.Abort()
		return
	}
	c.Next()
}

// actor is the signed-in staff member (API token or console session).
func actor(c *gin.Context) staff {
	v, _ := c.Get(staffKey)
	s, _ := v.(staff)
	return s
}

// recover turns a panic into a logged 500 instead of a dropped connection.
func (h *Handler) recover(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			h.logger.Error("panic in staff handler", "path", c.FullPath(), "panic", p)
			if !c.Writer.Written() {
				c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "internal error"})
			}
		}
	}()
	c.Next()
}
