package ivr

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
	"github.com/hotline/hotline/internal/twiliohttp"
)

// The harness: a case log in t.TempDir, the handler mounted behind the real
// signature middleware, requests signed with the production signer over
// captured Twilio bodies (testdata/*.form), and TwiML parsed into a small
// tree, since the twiml package writes attributes in random order.

const (
	testToken  = "test-auth-token-0123456789abcdef"
	testPublic = "https://hotline.example.org"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

var staffPhones = []string{"+8657188880001", "+8657188880002"}

type env struct {
	log    *caselog.Log
	tree   *Tree
	engine *gin.Engine
	clock  *caselogtest.Clock
	open   atomic.Bool // staff line open
	cases  atomic.Int64
}

// newEnv opens a case log (checked for consistency when the test ends) and
// mounts the voice routes behind the signature middleware. sync false runs
// without fsync (handler tests); the benchmark syncs like production.
func newEnv(tb testing.TB, sync bool) *env {
	tb.Helper()
	e := &env{clock: caselogtest.NewClock(caselogtest.Monday10)}
	l, _ := caselogtest.Open(tb, caselog.Options{Now: e.clock.Now, NoSync: !sync})
	tree, err := Default()
	if err != nil {
		tb.Fatal(err)
	}
	h, err := New(Options{
		Log: l, Tree: tree, Now: e.clock.Now,
		StaffNumbers: staffPhones, StaffOpen: func(time.Time) bool { return e.open.Load() },
		OnCase: func(caselog.Case) { e.cases.Add(1) },
	})
	if err != nil {
		tb.Fatal(err)
	}
	e.log, e.tree = l, tree
	e.engine = gin.New()
	v := &twiliohttp.Verifier{AuthToken: testToken, PublicURL: testPublic}
	h.Register(e.engine.Group("", v.Middleware()))
	return e
}

// signing says how a test request is signed.
type signing int

const (
	signed signing = iota
	unsigned
	badlySigned
)

// request builds a POST of form to target (path and query) as Twilio sends it.
func request(target string, form url.Values, s signing) *http.Request {
	body := form.Encode()
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch s {
	case signed:
		r.Header.Set(twiliohttp.SignatureHeader, twiliohttp.Sign(testToken, testPublic+target, form))
	case badlySigned:
		r.Header.Set(twiliohttp.SignatureHeader, twiliohttp.Sign("another-token", testPublic+target, form))
	}
	return r
}

func (e *env) do(tb testing.TB, target string, form url.Values, s signing) *httptest.ResponseRecorder {
	tb.Helper()
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, request(target, form, s))
	return w
}

var formCache sync.Map // name -> url.Values

// loadForm reads a captured Twilio body from testdata/<name>.form and sets
// (or, for "-", deletes) the given name, value pairs.
func loadForm(tb testing.TB, name string, kv ...string) url.Values {
	tb.Helper()
	cached, ok := formCache.Load(name)
	if !ok {
		raw, err := os.ReadFile(filepath.Join("testdata", name+".form"))
		if err != nil {
			tb.Fatal(err)
		}
		v, err := url.ParseQuery(strings.TrimSpace(string(raw)))
		if err != nil {
			tb.Fatalf("%s.form: %v", name, err)
		}
		cached, _ = formCache.LoadOrStore(name, v)
	}
	v := url.Values{}
	for k, vs := range cached.(url.Values) {
		v[k] = append([]string(nil), vs...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "-" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	return v
}

// xnode is a parsed XML element.
type xnode struct {
	XMLName xml.Name
	Attrs   []xml.Attr `xml:",any,attr"`
	Text    string     `xml:",chardata"`
	Kids    []*xnode   `xml:",any"`
}

func parseTwiML(tb testing.TB, body string) *xnode {
	tb.Helper()
	var n xnode
	if err := xml.Unmarshal([]byte(body), &n); err != nil {
		tb.Fatalf("TwiML does not parse: %v\n%s", err, body)
	}
	if n.XMLName.Local != "Response" {
		tb.Fatalf("root is <%s>, want <Response>\n%s", n.XMLName.Local, body)
	}
	return &n
}

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// find returns the first element called name, depth first, or nil.
func (n *xnode) find(name string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.Kids {
		if k.XMLName.Local == name {
			return k
		}
		if f := k.find(name); f != nil {
			return f
		}
	}
	return nil
}

func (n *xnode) all(name string) []*xnode {
	var out []*xnode
	for _, k := range n.Kids {
		if k.XMLName.Local == name {
			out = append(out, k)
		}
		out = append(out, k.all(name)...)
	}
	return out
}

// verbs lists the top-level verbs, e.g. "Say Gather Redirect".
func (n *xnode) verbs() string {
	var s []string
	for _, k := range n.Kids {
		s = append(s, k.XMLName.Local)
	}
	return strings.Join(s, " ")
}

// said joins every <Say> text, in order.
func (n *xnode) said() string {
	var s []string
	for _, k := range n.all("Say") {
		s = append(s, strings.TrimSpace(k.Text))
	}
	return strings.Join(s, " | ")
}

var sidSeq atomic.Int64

func newSID(prefix string) string {
	return fmt.Sprintf("%s%032x", prefix, sidSeq.Add(1))
}

// call drives one phone call through the handler the way Twilio does: every
// request goes to a URL taken from the previous answer.
type call struct {
	tb   testing.TB
	e    *env
	sid  string
	from string
	last *xnode
}

func (e *env) call(tb testing.TB, from string) *call {
	return &call{tb: tb, e: e, sid: newSID("CA"), from: from}
}

func (c *call) form(name string, kv ...string) url.Values {
	return loadForm(c.tb, name, append([]string{"CallSid", c.sid, "From", c.from, "Caller", c.from}, kv...)...)
}

// post sends a signed webhook and expects a TwiML answer.
func (c *call) post(target string, form url.Values) *xnode {
	c.tb.Helper()
	w := c.e.do(c.tb, target, form, signed)
	if w.Code != http.StatusOK {
		c.tb.Fatalf("POST %s: %d %s", target, w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
		c.tb.Fatalf("POST %s: Content-Type %q, want text/xml", target, ct)
	}
	return parseTwiML(c.tb, w.Body.String())
}

// answer is the incoming call.
func (c *call) answer() *xnode {
	c.tb.Helper()
	c.last = c.post(string(RouteIncoming), c.form("voice_incoming"))
	return c.last
}

// press keys digits into the <Gather> of the last answer.
func (c *call) press(digits string) *xnode {
	c.tb.Helper()
	g := c.last.find("Gather")
	if g == nil {
		c.tb.Fatalf("pressing %q: no <Gather> in the last answer (%s)", digits, c.last.verbs())
	}
	c.last = c.post(g.attr("action"), c.form("voice_gather", "Digits", digits))
	return c.last
}

// follow takes the <Redirect> of the last answer.
func (c *call) follow() *xnode {
	c.tb.Helper()
	r := c.last.find("Redirect")
	if r == nil {
		c.tb.Fatalf("no <Redirect> in the last answer (%s)", c.last.verbs())
	}
	c.last = c.post(strings.TrimSpace(r.Text), c.form("voice_gather", "Digits", "-"))
	return c.last
}

// recording is what one <Record> produced.
type recording struct {
	action, callback, transcribe string // the URLs the <Record> gave
	sid, url                     string
}

// speak speaks at the <Record> of the last answer; nothing is posted yet.
func (c *call) speak() recording {
	c.tb.Helper()
	r := c.last.find("Record")
	if r == nil {
		c.tb.Fatalf("no <Record> in the last answer (%s)", c.last.verbs())
	}
	sid := newSID("RE")
	return recording{
		action: r.attr("action"), callback: r.attr("recordingStatusCallback"),
		transcribe: r.attr("transcribeCallback"),
		sid:        sid, url: "https://api.twilio.com/2010-04-01/Accounts/AC3f/Recordings/" + sid,
	}
}

// recordAction posts the <Record> action; it becomes the last answer.
func (c *call) recordAction(rec recording) *xnode {
	c.tb.Helper()
	c.last = c.post(rec.action, c.form("voice_record_action", "RecordingSid", rec.sid, "RecordingUrl", rec.url))
	return c.last
}

// recordingCallback posts the recording status callback (no caller hears it).
func (c *call) recordingCallback(rec recording) {
	c.tb.Helper()
	c.post(rec.callback, loadForm(c.tb, "voice_recording_status", "CallSid", c.sid, "RecordingSid", rec.sid, "RecordingUrl", rec.url))
}

func (c *call) transcription(rec recording, text string) {
	c.tb.Helper()
	if rec.transcribe == "" {
		c.tb.Fatal("the <Record> asked for no transcription")
	}
	c.post(rec.transcribe, c.form("voice_transcription", "RecordingSid", rec.sid, "RecordingUrl", rec.url, "TranscriptionText", text))
}

// dialed answers the <Dial> of the last answer with a DialCallStatus.
func (c *call) dialed(status string) *xnode {
	c.tb.Helper()
	d := c.last.find("Dial")
	if d == nil {
		c.tb.Fatalf("no <Dial> in the last answer (%s)", c.last.verbs())
	}
	c.last = c.post(d.attr("action"), c.form("voice_dial_action", "DialCallStatus", status))
	return c.last
}

// hangUp posts the call status callback of a call that lasted seconds.
func (c *call) hangUp(status string, seconds int) {
	c.tb.Helper()
	c.post(string(RouteStatus), c.form("voice_status_completed", "CallStatus", status, "CallDuration", fmt.Sprint(seconds)))
}

// Reading the log back.

func (e *env) casesOf(tb testing.TB, caller string) []caselog.Case {
	tb.Helper()
	cs, err := e.log.ByCaller(caller, 0)
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

func (e *env) oneCase(tb testing.TB, caller string) caselog.Case {
	tb.Helper()
	cs := e.casesOf(tb, caller)
	if len(cs) != 1 {
		tb.Fatalf("%s has %d cases, want 1: %+v", caller, len(cs), cs)
	}
	c, err := e.log.Get(cs[0].Number)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func (e *env) callbacksOf(tb testing.TB, caller string) []caselog.Callback {
	tb.Helper()
	all, err := e.log.Callbacks()
	if err != nil {
		tb.Fatal(err)
	}
	var out []caselog.Callback
	for _, cb := range all {
		if cb.Caller == caller {
			out = append(out, cb)
		}
	}
	return out
}

func (e *env) outbox(tb testing.TB, caseNumber string) []caselog.Message {
	tb.Helper()
	var out []caselog.Message
	err := e.log.View(func(tx *caselog.Tx) error {
		ms, err := tx.Outbox("", 1000)
		for _, m := range ms {
			if m.Case == caseNumber {
				out = append(out, m)
			}
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func (e *env) stats(tb testing.TB) caselog.Stats {
	tb.Helper()
	var s caselog.Stats
	err := e.log.View(func(tx *caselog.Tx) (err error) {
		s, err = tx.Stats(e.clock.Now(), e.clock.Now())
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (e *env) callRecord(tb testing.TB, sid string) caselog.Call {
	tb.Helper()
	var c caselog.Call
	err := e.log.View(func(tx *caselog.Tx) (err error) {
		c, _, err = tx.Call(sid)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
