package staff

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hotline/hotline/caselog"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

const (
	sessionCookie = "hotline_session"
	signinCookie  = "hotline_signin" // double-submit CSRF token of the sign-in form
	cookiePath    = "/console"
	sessionCtxKey = "console_session"
)

// page is what every console template gets.
type page struct {
	Title     string
	Staff     string
	CSRF      string
	Error     string
	Notice    string
	Now       time.Time
	Query     string
	Searched  bool
	Cases     []caselog.Case
	Case      caselog.Case
	Legal     []caselog.Status
	Callbacks []caselog.Callback
	Outcomes  []string

	cause error // what went wrong, for the log only
}

// labels are the console's words, Chinese then English.
var labels = map[string]string{
	"received": "登记 Received", "accepted": "受理 Accepted", "rejected": "不予受理 Rejected",
	"transferred": "转办 Transferred", "mediating": "调解中 Mediating", "resolved": "办结 Resolved",
	"mediation_ended": "终止调解 Mediation ended", "withdrawn": "撤回 Withdrawn", "closed": "结案 Closed",
	"complaint": "投诉 Complaint", "report": "举报 Report", "consultation": "咨询 Consultation",
	"callback": "回拨 Callback", "enquiry": "其他 Enquiry",
	"voice": "电话 Voice", "sms": "短信 SMS",
	"reached": "已接通 Reached", "no_answer": "无人接听 No answer", "wrong_number": "号码错误 Wrong number",
	"cancelled": "取消 Cancelled",
	"opened":    "登记 Opened", "status": "状态 Status", "note": "备注 Note", "attachment": "附件 Attachment",
	"rating": "评价 Rating", "contact": "来电来信 Contact",
}

func label(s any) string {
	var k string
	switch v := s.(type) {
	case string:
		k = v
	case caselog.Status:
		k = string(v)
	case caselog.Kind:
		k = string(v)
	case caselog.Channel:
		k = string(v)
	}
	if l, ok := labels[k]; ok {
		return l
	}
	return k
}

func (h *Handler) funcs() template.FuncMap {
	return template.FuncMap{
		"label": label,
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(h.loc).Format("2006-01-02 15:04")
		},
	}
}

// parsePages parses each page together with the layout and the partials.
func parsePages(h *Handler) map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"signin", "search", "case", "callbacks", "queue"} {
		t := template.New(name).Funcs(h.funcs())
		out[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/queue.html", "templates/"+name+".html"))
	}
	return out
}

// render executes a page into a buffer first, so that a template error is
// a clean 500 and not half a page.
func (h *Handler) render(c *gin.Context, status int, name string, p page) {
	if sess := currentSession(c); sess != nil {
		p.Staff, p.CSRF = sess.staff.Name, sess.csrf
	}
	p.Now = h.now()
	var buf bytes.Buffer
	entry := "layout"
	if name == "queue" {
		entry = "queue"
	}
	if err := h.pages[name].ExecuteTemplate(&buf, entry, p); err != nil {
		h.logger.Error("render console page", "page", name, "err", err)
		status, buf = http.StatusInternalServerError, *bytes.NewBufferString("internal error")
	}
	securityHeaders(c)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	h.logRequest(c, status, p.cause)
}

func securityHeaders(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	c.Header("X-Frame-Options", "DENY")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Referrer-Policy", "same-origin")
}

// consoleFail shows an error on a page of its own kind.
func (h *Handler) consoleFail(c *gin.Context, name string, p page, err error) {
	status, body := problem(err)
	p.Error, p.cause = body.Error, err
	if len(body.Legal) > 0 {
		legal := make([]string, len(body.Legal))
		for i, s := range body.Legal {
			legal[i] = label(s)
		}
		p.Error += " — 可选 legal: " + strings.Join(legal, ", ")
	}
	h.render(c, status, name, p)
}

func (h *Handler) static(c *gin.Context) {
	name := c.Param("file")
	b, err := fs.ReadFile(staticFS, "static/"+name)
	if err != nil || strings.Contains(name, "/") {
		c.Status(http.StatusNotFound)
		return
	}
	ct := "text/plain; charset=utf-8"
	switch {
	case strings.HasSuffix(name, ".css"):
		ct = "text/css; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		ct = "text/javascript; charset=utf-8"
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, ct, b)
}

func setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https",
	})
}

func currentSession(c *gin.Context) *session {
	v, _ := c.Get(sessionCtxKey)
	s, _ := v.(*session)
	return s
}

// withSession admits signed-in users. A page request without a session is
// sent to the sign-in page; anything else gets a 401.
func (h *Handler) withSession(c *gin.Context) {
	id, _ := c.Cookie(sessionCookie)
	sess, ok := h.sessions.get(id)
	if !ok {
		if c.Request.Method == http.MethodGet && c.FullPath() != "/console/callbacks/list" {
			c.Redirect(http.StatusSeeOther, "/console/signin?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		} else {
			h.consoleFail(c, "signin", page{Title: "登录 Sign in"}, errNoSession)
		}
		c.Abort()
		return
	}
	c.Set(sessionCtxKey, sess)
	c.Set(staffKey, sess.staff)
	c.Next()
}

// checkCSRF refuses a form post whose CSRF token is not the session's.
func (h *Handler) checkCSRF(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	sess := currentSession(c)
	if sess == nil || !sameToken(c.PostForm("csrf"), sess.csrf) {
		h.consoleFail(c, "signin", page{Title: "登录 Sign in"}, errCSRF)
		c.Abort()
		return
	}
	c.Next()
}

func (h *Handler) consoleHome(c *gin.Context) {
	c.Redirect(http.StatusSeeOther, "/console/search")
}

func (h *Handler) signInPage(c *gin.Context) {
	tok, err := c.Cookie(signinCookie)
	if err != nil || len(tok) < 32 {
		tok = randomToken()
		setCookie(c, signinCookie, tok, 3600)
	}
	h.render(c, http.StatusOK, "signin", page{Title: "登录 Sign in", CSRF: tok, Query: safeNext(c.Query("next"))})
}

// safeNext keeps a post-sign-in redirect inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/console/") && !strings.HasPrefix(next, "//") && !strings.Contains(next, "\\") {
		return next
	}
	return "/console/search"
}

func (h *Handler) signIn(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxBody)
	cookieTok, _ := c.Cookie(signinCookie)
	formTok := c.PostForm("csrf")
	if !sameToken(cookieTok, formTok) {
		h.consoleFail(c, "signin", page{Title: "登录 Sign in"}, errCSRF)
		return
	}
	who, ok := h.match(strings.TrimSpace(c.PostForm("token")))
	if !ok {
		h.consoleFail(c, "signin", page{Title: "登录 Sign in", CSRF: formTok, Query: safeNext(c.PostForm("next"))}, errBadToken)
		return
	}
	id, _ := h.sessions.create(who)
	setCookie(c, sessionCookie, id, int(sessionTTL/time.Second))
	setCookie(c, signinCookie, "", -1)
	c.Set(staffKey, who)
	h.logger.Info("console sign-in", "actor", who.Name)
	c.Redirect(http.StatusSeeOther, safeNext(c.PostForm("next")))
}

func (h *Handler) signOut(c *gin.Context) {
	id, _ := c.Cookie(sessionCookie)
	h.sessions.end(id)
	setCookie(c, sessionCookie, "", -1)
	h.logger.Info("console sign-out", "actor", actor(c).Name)
	c.Redirect(http.StatusSeeOther, "/console/signin")
}

func (h *Handler) searchPage(c *gin.Context) {
	p := page{Title: "查询 Search", Query: c.Query("caller")}
	if strings.TrimSpace(p.Query) == "" {
		h.render(c, http.StatusOK, "search", p)
		return
	}
	p.Searched = true
	cs, err := h.lookup(c.Request.Context(), actor(c), p.Query, 100)
	if err != nil {
		h.consoleFail(c, "search", p, err)
		return
	}
	p.Cases = cs
	h.render(c, http.StatusOK, "search", p)
}

func (h *Handler) casePage(c *gin.Context) {
	number := c.Param("number")
	p := page{Title: "案件 Case " + number}
	cs, err := h.viewCase(c.Request.Context(), actor(c), number)
	if err != nil {
		h.consoleFail(c, "case", p, err)
		return
	}
	p.Case, p.Legal = cs, caselog.Legal(cs.Kind, cs.Status)
	if s := c.Query("moved"); s != "" {
		p.Notice = "状态已更新 Status changed: " + label(s)
	}
	h.render(c, http.StatusOK, "case", p)
}

func (h *Handler) consoleMove(c *gin.Context) {
	number := c.Param("number")
	req := moveRequest{
		Status: c.PostForm("status"), Note: c.PostForm("note"), Department: c.PostForm("department"),
		Reason: c.PostForm("reason"), Referral: c.PostForm("referral"),
	}
	cs, err := h.move(c.Request.Context(), actor(c), number, req)
	if err != nil {
		p := page{Title: "案件 Case " + number}
		// Show the case again (it is the page the form was on); the failed
		// move is no new look-up, so no audit entry.
		if cur, gerr := h.log.Get(number); gerr == nil {
			p.Case, p.Legal = cur, caselog.Legal(cur.Kind, cur.Status)
		}
		h.consoleFail(c, "case", p, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/cases/"+url.PathEscape(cs.Number)+"?moved="+url.QueryEscape(string(cs.Status)))
}

func (h *Handler) queuePage(c *gin.Context, name string, p page) {
	cbs, err := h.log.Callbacks()
	if err != nil {
		h.consoleFail(c, name, p, err)
		return
	}
	p.Callbacks, p.Outcomes = cbs, caselog.Outcomes
	h.render(c, http.StatusOK, name, p)
}

func (h *Handler) callbacksPage(c *gin.Context) {
	p := page{Title: "回拨队列 Callback queue"}
	switch c.Query("done") {
	case "claim":
		p.Notice = "已认领 Claimed"
	case "release":
		p.Notice = "已释放 Released"
	case "complete":
		p.Notice = "已完成 Completed"
	}
	h.queuePage(c, "callbacks", p)
}

// callbacksFragment is the queue table alone, which the page polls.
func (h *Handler) callbacksFragment(c *gin.Context) {
	h.queuePage(c, "queue", page{})
}

func (h *Handler) consoleCallback(c *gin.Context) {
	verb := c.Param("verb")
	req := callbackRequest{Outcome: c.PostForm("outcome"), Note: c.PostForm("note")}
	if _, err := h.callbackVerb(c.Request.Context(), actor(c), c.Param("id"), verb, req); err != nil {
		p := page{Title: "回拨队列 Callback queue"}
		if cbs, lerr := h.log.Callbacks(); lerr == nil {
			p.Callbacks, p.Outcomes = cbs, caselog.Outcomes
		}
		h.consoleFail(c, "callbacks", p, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/callbacks?done="+url.QueryEscape(verb))
}
