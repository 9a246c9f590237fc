package staff

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
)

// browser is a cookie-keeping client that does not follow redirects, so
// that tests see them.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.e.srv.URL + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.e.srv.URL+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// signIn signs in with token and fails the test unless it works.
func (b *browser) signIn(token string) {
	b.t.Helper()
	b.get("/console/signin")
	resp, body := b.post("/console/signin", url.Values{"csrf": {b.csrf}, "token": {token}})
	if resp.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign in: %d %s", resp.StatusCode, body)
	}
	b.get("/console/search") // picks up the session's CSRF token
}

func TestConsole_SignInOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser(t)

	resp, _ := b.get("/console/search")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/signin") {
		t.Fatalf("signed out search: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := b.get("/console/signin")
	if resp.StatusCode != 200 || !strings.Contains(body, "员工令牌 Staff token") || b.csrf == "" {
		t.Fatalf("sign-in page: %d %s", resp.StatusCode, body)
	}
	if resp, _ := b.post("/console/signin", url.Values{"token": {liToken}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in without CSRF token: %d", resp.StatusCode)
	}
	if resp, body := b.post("/console/signin", url.Values{"csrf": {b.csrf}, "token": {"nope"}}); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not a staff token") {
		t.Fatalf("wrong token: %d %s", resp.StatusCode, body)
	}
	resp, _ = b.post("/console/signin", url.Values{"csrf": {b.csrf}, "token": {liToken}, "next": {"/console/callbacks"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/callbacks" {
		t.Fatalf("sign in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			session = c
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/console" ||
		strings.Contains(session.Value, liToken) || len(session.Value) < 40 {
		t.Fatalf("session cookie %+v", session)
	}
	resp, body = b.get("/console/search")
	if resp.StatusCode != 200 || !strings.Contains(body, ">li<") {
		t.Fatalf("signed in search: %d", resp.StatusCode)
	}

	// Sign-out needs the CSRF token too.
	if resp, _ := b.post("/console/signout", nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-out without CSRF: %d", resp.StatusCode)
	}
	resp, _ = b.post("/console/signout", url.Values{"csrf": {b.csrf}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out: %d", resp.StatusCode)
	}
	if resp, _ := b.get("/console/search"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", resp.StatusCode)
	}
	// The old session id is dead on the server, not just forgotten by the browser.
	req, _ := http.NewRequest("GET", e.srv.URL+"/console/search", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: session.Value})
	r2, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode != http.StatusSeeOther {
		t.Fatalf("replayed session after sign-out: %d", r2.StatusCode)
	}
	// Sessions end after a shift.
	b.signIn(liToken)
	e.clock.Advance(sessionTTL + time.Minute)
	if resp, _ := b.get("/console/search"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("expired session: %d", resp.StatusCode)
	}
	// An open redirect is not followed.
	b.get("/console/signin")
	resp, _ = b.post("/console/signin", url.Values{"csrf": {b.csrf}, "token": {liToken}, "next": {"//evil.example/"}})
	if resp.Header.Get("Location") != "/console/search" {
		t.Fatalf("next=//evil: %s", resp.Header.Get("Location"))
	}
}

func TestConsole_CSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.record("SM1", caselog.NewCase{Caller: "13800138000"})
	cb, _ := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13800138000", Reason: "requested"})
	li, wang := e.browser(t), e.browser(t)
	li.signIn(liToken)
	wang.signIn(wangToken)

	posts := []struct {
		path string
		form url.Values
	}{
		{"/console/cases/" + c.Number + "/transitions", url.Values{"status": {"accepted"}}},
		{"/console/callbacks/" + cb.ID + "/claim", url.Values{}},
		{"/console/signout", url.Values{}},
	}
	for _, p := range posts {
		for name, tok := range map[string]string{"missing": "", "wrong": "x" + li.csrf[1:], "another session's": wang.csrf} {
			t.Run(p.path+"/"+name, func(t *testing.T) {
				form := url.Values{}
				for k, v := range p.form {
					form[k] = v
				}
				if tok != "" {
					form.Set("csrf", tok)
				}
				resp, body := li.post(p.path, form)
				if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "CSRF") {
					t.Fatalf("status %d, want 403", resp.StatusCode)
				}
			})
		}
	}
	if got, _ := e.log.Get(c.Number); got.Status != caselog.Received {
		t.Fatalf("forged form moved the case to %s", got.Status)
	}
	if got, _ := e.log.Callback(cb.ID); got.ClaimedBy != "" {
		t.Fatalf("forged form claimed the callback for %s", got.ClaimedBy)
	}
	// Without a session a form post is refused outright.
	anon := e.browser(t)
	if resp, _ := anon.post(posts[0].path, url.Values{"status": {"accepted"}, "csrf": {li.csrf}}); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("post without session: %d", resp.StatusCode)
	}
	// With the right token the same forms work.
	form := url.Values{"status": {"accepted"}, "csrf": {li.csrf}, "note": {"受理"}}
	resp, _ := li.post(posts[0].path, form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("move with CSRF token: %d", resp.StatusCode)
	}
	got, _ := e.log.Get(c.Number)
	if got.Status != caselog.Accepted || got.Events[len(got.Events)-1].Actor != "li" {
		t.Fatalf("case after console move: %+v", got)
	}
	if resp, _ := li.post(posts[1].path, url.Values{"csrf": {li.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim with CSRF token: %d", resp.StatusCode)
	}
	// An illegal move shows the case again with the reason and the legal moves.
	resp, body := li.post(posts[0].path, url.Values{"status": {"received"}, "csrf": {li.csrf}})
	if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "调解中 Mediating") {
		t.Fatalf("illegal move: %d %s", resp.StatusCode, body)
	}
}

func TestConsole_EscapesConsumerText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const evil = `<script>alert(1)</script>`
	c := e.record("SM1", caselog.NewCase{Caller: "13800138000", Text: evil,
		Media: []caselog.Media{{URL: "javascript:alert(1)", ContentType: `<img src=x onerror=alert(1)>`}}})
	if _, err := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13800138000", Case: c.Number, Reason: evil}); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	b.signIn(liToken)
	for _, path := range []string{"/console/search?caller=13800138000", "/console/cases/" + c.Number, "/console/callbacks", "/console/callbacks/list"} {
		t.Run(path, func(t *testing.T) {
			resp, body := b.get(path)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") || strings.Contains(body, `href="javascript:`) {
				t.Fatalf("consumer text reached the page unescaped:\n%s", body)
			}
			if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
				t.Fatalf("escaped text missing:\n%s", body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Fatalf("CSP %q", csp)
			}
		})
	}
}

func TestConsole_Search(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	old := e.record("SM1", caselog.NewCase{Caller: "13800138000", Text: "旧案"})
	e.clock.Advance(30 * 24 * time.Hour) // the first case is long overdue
	fresh := e.record("SM2", caselog.NewCase{Caller: "13800138000", Text: "新案"})
	b := e.browser(t)
	b.signIn(wangToken)

	for _, form := range []string{"138 0013 8000", "+86 138-0013-8000", "008613800138000"} {
		resp, body := b.get("/console/search?caller=" + url.QueryEscape(form))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", form, resp.StatusCode)
		}
		i, j := strings.Index(body, fresh.Number), strings.Index(body, old.Number)
		if i < 0 || j < 0 || i > j {
			t.Fatalf("%s: results not newest first", form)
		}
		if strings.Count(body, "已超期 Overdue") != 1 {
			t.Fatalf("%s: overdue case not marked once:\n%s", form, body)
		}
	}
	resp, body := b.get("/console/search?caller=hello")
	if resp.StatusCode != 400 || !strings.Contains(body, "not a phone number") {
		t.Fatalf("garbage: %d %s", resp.StatusCode, body)
	}
	resp, body = b.get("/console/cases/1000001")
	if resp.StatusCode != 400 || !strings.Contains(body, "check digit") {
		t.Fatalf("mistyped number: %d", resp.StatusCode)
	}
	resp, _ = b.get("/console/cases/" + unknownNumber(t, e))
	if resp.StatusCode != 404 {
		t.Fatalf("unknown case: %d", resp.StatusCode)
	}
	resp, body = b.get("/console/cases/" + old.Number)
	if resp.StatusCode != 200 || !strings.Contains(body, "旧案") || !strings.Contains(body, `value="accepted"`) {
		t.Fatalf("case page: %d", resp.StatusCode)
	}
	lookups, views := 0, 0
	for _, a := range e.audit() {
		switch {
		case a.Actor == "wang" && a.Action == "lookup_caller" && a.Target == "+8613800138000":
			lookups++
		case a.Actor == "wang" && a.Action == "view_case" && a.Target == old.Number:
			views++
		}
	}
	if lookups != 3 || views != 1 {
		t.Fatalf("console audit: %d look-ups, %d views; want 3 and 1", lookups, views)
	}
}

func TestConsole_CallbackQueue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cb, _ := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13800138000", Reason: "requested"})
	li, wang := e.browser(t), e.browser(t)
	li.signIn(liToken)
	wang.signIn(wangToken)

	resp, body := li.get("/console/callbacks/list")
	if resp.StatusCode != 200 || strings.Contains(body, "<html") || !strings.Contains(body, "/console/callbacks/"+cb.ID+"/claim") {
		t.Fatalf("fragment: %d %s", resp.StatusCode, body)
	}
	if resp, _ := li.post("/console/callbacks/"+cb.ID+"/claim", url.Values{"csrf": {li.csrf}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("claim: %d", resp.StatusCode)
	}
	if resp, body := wang.post("/console/callbacks/"+cb.ID+"/claim", url.Values{"csrf": {wang.csrf}}); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "li") {
		t.Fatalf("claim held by li: %d", resp.StatusCode)
	}
	_, body = wang.get("/console/callbacks/list")
	if strings.Contains(body, "/complete") {
		t.Fatal("complete offered to someone who does not hold the entry")
	}
	_, body = li.get("/console/callbacks/list")
	if !strings.Contains(body, "/console/callbacks/"+cb.ID+"/complete") {
		t.Fatal("holder not offered complete")
	}
	if resp, body := li.post("/console/callbacks/"+cb.ID+"/complete", url.Values{"csrf": {li.csrf}, "outcome": {"sometimes"}}); resp.StatusCode != 400 || !strings.Contains(body, "no_answer") {
		t.Fatalf("bad outcome: %d", resp.StatusCode)
	}
	if resp, _ := li.post("/console/callbacks/"+cb.ID+"/complete", url.Values{"csrf": {li.csrf}, "outcome": {"reached"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("complete: %d", resp.StatusCode)
	}
	if got, _ := e.log.Callback(cb.ID); got.State != caselog.CBDone || got.History[0].Agent != "li" {
		t.Fatalf("callback after console complete: %+v", got)
	}
	// The poller is told to sign in again when the session is gone.
	anon := e.browser(t)
	if resp, _ := anon.get("/console/callbacks/list"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("fragment without session: %d", resp.StatusCode)
	}
	if resp, body := li.get("/console/static/console.js"); resp.StatusCode != 200 || !strings.Contains(body, "setInterval") {
		t.Fatalf("console.js: %d", resp.StatusCode)
	}
}
