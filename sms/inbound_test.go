package sms

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

// The harness: a case log in t.TempDir (checked for consistency when the
// test ends), the handler mounted behind the real signature middleware,
// requests signed with the production signer over captured-shape Twilio
// bodies (testdata/*.form) and the TwiML reply parsed.

const (
	inboundToken  = "test-auth-token-0123456789abcdef"
	inboundPublic = "https://hotline.example.org"

	// Senders of the fixtures, and one more.
	zhSender    = "+8613800138000" // sms_zh.form, mms.form
	enSender    = "+85291234567"   // sms_en.form
	otherSender = "+8613912345678"
)

type inboundEnv struct {
	log    *caselog.Log
	engine *gin.Engine
	clock  *caselogtest.Clock
	seq    atomic.Int64

	mu     sync.Mutex
	opened []caselog.Case // OnCase calls

	seeds []caselog.Case // cases a table row's setup made, for want and check
}

// seed is the i-th case the row's setup made.
func (e *inboundEnv) seed(i int) caselog.Case { return e.seeds[i] }

// newInboundEnv opens a case log (Compose as its composer, as the server
// configures it) and mounts POST /twilio/sms behind the signature
// middleware. sync false runs without fsync (handler tests); the benchmark
// syncs like production.
func newInboundEnv(tb testing.TB, sync bool, perMinute int) *inboundEnv {
	tb.Helper()
	gin.SetMode(gin.TestMode)
	e := &inboundEnv{clock: caselogtest.NewClock(caselogtest.Monday10)}
	l, _ := caselogtest.Open(tb, caselog.Options{Compose: Compose, Now: e.clock.Now, NoSync: !sync})
	e.log = l
	e.mount(Options{
		Log: l, Now: e.clock.Now, PerMinute: perMinute,
		OnCase: func(c caselog.Case) {
			e.mu.Lock()
			e.opened = append(e.opened, c)
			e.mu.Unlock()
		},
	})
	return e
}

// mount serves a handler built from o on a new engine, behind the
// signature middleware.
func (e *inboundEnv) mount(o Options) {
	e.engine = gin.New()
	v := &twiliohttp.Verifier{AuthToken: inboundToken, PublicURL: inboundPublic}
	New(o).Register(e.engine.Group("", v.Middleware()))
}

// sigMode says how a test request is signed.
type sigMode int

const (
	sigValid sigMode = iota
	sigMissing
	sigWrong
)

// inboundForm reads testdata/name.form and applies overrides (name, value
// pairs; a value replaces the captured one).
func inboundForm(tb testing.TB, name string, kv ...string) url.Values {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".form"))
	if err != nil {
		tb.Fatal(err)
	}
	form, err := url.ParseQuery(strings.TrimSpace(string(raw)))
	if err != nil {
		tb.Fatalf("%s.form: %v", name, err)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		form.Set(kv[i], kv[i+1])
	}
	return form
}

// inboundRequest builds the POST Twilio would send.
func inboundRequest(form url.Values, s sigMode) *http.Request {
	r := httptest.NewRequest(http.MethodPost, RouteSMS, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch s {
	case sigValid:
		r.Header.Set(twiliohttp.SignatureHeader, twiliohttp.Sign(inboundToken, inboundPublic+RouteSMS, form))
	case sigWrong:
		r.Header.Set(twiliohttp.SignatureHeader, twiliohttp.Sign("another-token", inboundPublic+RouteSMS, form))
	}
	return r
}

// sid is a fresh MessageSid.
func (e *inboundEnv) sid() string { return fmt.Sprintf("SM%032x", e.seq.Add(1)) }

// response is a webhook's answer: the status, the text of its <Message>
// ("" for an empty <Response/>) and the raw body.
type response struct {
	status int
	reply  string
	raw    string
}

func (e *inboundEnv) post(t testing.TB, form url.Values, s sigMode) response {
	t.Helper()
	w := httptest.NewRecorder()
	e.engine.ServeHTTP(w, inboundRequest(form, s))
	res := response{status: w.Code, raw: w.Body.String()}
	if w.Code != http.StatusOK {
		return res
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
		t.Errorf("Content-Type %q, want text/xml", ct)
	}
	var doc struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []string `xml:"Message"`
		Other    []struct {
			XMLName xml.Name
		} `xml:",any"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("reply is not TwiML: %v\n%s", err, w.Body)
	}
	if len(doc.Messages) > 1 || len(doc.Other) > 0 {
		t.Fatalf("want at most one <Message> and nothing else:\n%s", w.Body)
	}
	if len(doc.Messages) == 1 {
		res.reply = doc.Messages[0]
		if res.reply == "" {
			t.Errorf("empty <Message>:\n%s", w.Body)
		}
	}
	return res
}

// send posts fixture with a fresh MessageSid and the overrides, signed.
func (e *inboundEnv) send(t testing.TB, fixture string, kv ...string) response {
	t.Helper()
	sid := e.sid()
	kv = append([]string{"MessageSid", sid, "SmsSid", sid, "SmsMessageSid", sid}, kv...)
	return e.post(t, inboundForm(t, fixture, kv...), sigValid)
}

// text sends an SMS with body from sender (the zh fixture's other fields).
func (e *inboundEnv) text(t testing.TB, from, body string) response {
	t.Helper()
	return e.send(t, "sms_zh", "From", from, "Body", body)
}

// open records a case directly in the log (as if opened earlier).
func (e *inboundEnv) open(t testing.TB, caller string, kind caselog.Kind, lang string) caselog.Case {
	t.Helper()
	c, _, err := e.log.Record(context.Background(), "seed:"+e.sid(), caselog.NewCase{
		Caller: caller, Channel: caselog.SMS, Kind: kind, Lang: lang, Text: "earlier " + string(kind),
	})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second) // newest first needs distinct times
	return c
}

func (e *inboundEnv) move(t testing.TB, number string, to ...caselog.Status) {
	t.Helper()
	for _, s := range to {
		if _, err := e.log.Move(context.Background(), number, caselog.Transition{To: s, Actor: "wang"}); err != nil {
			t.Fatal(err)
		}
	}
}

func (e *inboundEnv) get(t testing.TB, number string) caselog.Case {
	t.Helper()
	c, err := e.log.Get(number)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *inboundEnv) cases(t testing.TB, caller string) []caselog.Case {
	t.Helper()
	cs, err := e.log.ByCaller(caller, 0)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// newest is the caller's newest case; the test fails if there is none.
func (e *inboundEnv) newest(t testing.TB, caller string) caselog.Case {
	t.Helper()
	cs := e.cases(t, caller)
	if len(cs) == 0 {
		t.Fatalf("no case for %s", caller)
	}
	return cs[0]
}

// contacts reads every stored inbound contact, oldest first.
func (e *inboundEnv) contacts(t testing.TB) []caselog.Contact {
	t.Helper()
	var out []caselog.Contact
	err := e.log.View(func(tx *caselog.Tx) error {
		for id := 1; ; id++ {
			c, err := tx.Contact(strconv.Itoa(id))
			if errors.Is(err, caselog.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			out = append(out, c)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// lastContact is the newest stored contact; the test fails if there is none.
func (e *inboundEnv) lastContact(t testing.TB) caselog.Contact {
	t.Helper()
	cs := e.contacts(t)
	if len(cs) == 0 {
		t.Fatal("no contact stored")
	}
	return cs[len(cs)-1]
}

func (e *inboundEnv) optedOut(t testing.TB, caller string) bool {
	t.Helper()
	var out bool
	if err := e.log.View(func(tx *caselog.Tx) error { out = tx.OptedOut(caller); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func (e *inboundEnv) callbacks(t testing.TB) []caselog.Callback {
	t.Helper()
	cbs, err := e.log.Callbacks()
	if err != nil {
		t.Fatal(err)
	}
	return cbs
}

func (e *inboundEnv) openedCount() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.opened)
}

// checkNumber returns s with the check digit that makes it a valid case
// number appended.
func checkNumber(s string) string {
	for d := '0'; d <= '9'; d++ {
		if caselog.Valid(s + string(d)) {
			return s + string(d)
		}
	}
	panic("no check digit for " + s)
}

// mistype changes the last digit of a valid number, which Damm always
// catches.
func mistype(n string) string {
	last := n[len(n)-1]
	return n[:len(n)-1] + string('0'+(last-'0'+1)%10)
}

// fullWidth writes ASCII letters, digits and spaces full-width, as Chinese
// input methods do.
func fullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ':
			b.WriteRune('\u3000')
		case r > ' ' && r < 0x7f:
			b.WriteRune(r - 0x21 + 0xFF01)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func due(c caselog.Case) time.Time { return c.DueAt.In(caselogtest.Shanghai) }

// inboundCase is one row of TestHandler_Inbound: an optional setup on a
// fresh log, one webhook request, and what must follow.
type inboundCase struct {
	name    string
	setup   func(t *testing.T, e *inboundEnv) // seeds the log; its result is in e
	fixture string
	set     []string // form overrides (name, value …)
	// body, when set, writes the Body after the setup (to name its cases).
	body   func(e *inboundEnv) string
	raw    bool // post the fixture as it is, without a fresh MessageSid
	sign   sigMode
	status int // default 200
	// want is the exact reply ("" for an empty <Response/>), computed after
	// the request so that it can name the case it made.
	want  func(t *testing.T, e *inboundEnv) string
	check func(t *testing.T, e *inboundEnv)
}

// opensCase checks that the message opened one case of kind in lang with
// text, announced once through OnCase and stored as a contact naming it,
// and returns the expected reply (an enquiry is answered as kept).
func opensCase(caller string, kind caselog.Kind, lang, text string) func(t *testing.T, e *inboundEnv) string {
	return func(t *testing.T, e *inboundEnv) string {
		cs := e.cases(t, caller)
		if len(cs) != 1 {
			t.Fatalf("%d cases, want 1", len(cs))
		}
		c := cs[0]
		if c.Kind != kind || c.Lang != lang || c.Text != text || c.Channel != caselog.SMS || c.Status != caselog.Received {
			t.Errorf("case = kind %s lang %s text %q channel %s status %s; want %s %s %q sms received",
				c.Kind, c.Lang, c.Text, c.Channel, c.Status, kind, lang, text)
		}
		if !strings.HasPrefix(c.Source, "SM") {
			t.Errorf("case source %q, want the MessageSid", c.Source)
		}
		if n := e.openedCount(); n != 1 {
			t.Errorf("OnCase called %d times, want 1", n)
		}
		if ct := e.lastContact(t); ct.Case != c.Number || ct.Command == "" {
			t.Errorf("contact = %+v, want one naming case %s", ct, c.Number)
		}
		if kind == caselog.Enquiry {
			return replyKept(lang, c.Number)
		}
		return ReplyOpened(lang, string(kind), c.Number, due(c))
	}
}

func TestHandler_Inbound(t *testing.T) {
	t.Parallel()
	// Setups.
	ownCase := func(lang string) func(t *testing.T, e *inboundEnv) {
		return func(t *testing.T, e *inboundEnv) {
			e.seeds = append(e.seeds, e.open(t, zhSender, caselog.Complaint, lang))
		}
	}
	twoOwnCases := func(t *testing.T, e *inboundEnv) {
		older := e.open(t, zhSender, caselog.Complaint, "zh")
		newer := e.open(t, zhSender, caselog.Report, "zh")
		e.seeds = append(e.seeds, older, newer)
	}
	othersCase := func(t *testing.T, e *inboundEnv) {
		e.seeds = append(e.seeds, e.open(t, otherSender, caselog.Complaint, "zh"))
	}
	optedOut := func(t *testing.T, e *inboundEnv) {
		if r := e.text(t, zhSender, "退订"); r.reply != ReplyStopped(LangZH) {
			t.Fatalf("STOP reply %q", r.reply)
		}
	}
	noCase := func(t *testing.T, e *inboundEnv) {
		t.Helper()
		if cs := e.cases(t, zhSender); len(cs) != 0 {
			t.Errorf("%d cases, want none", len(cs))
		}
	}
	nothingStored := func(t *testing.T, e *inboundEnv) {
		if cs := e.contacts(t); len(cs) != 0 {
			t.Errorf("%d contacts stored, want none", len(cs))
		}
		noCase(t, e)
	}
	exact := func(s string) func(*testing.T, *inboundEnv) string {
		return func(*testing.T, *inboundEnv) string { return s }
	}
	appended := func(i int, text string, media int) func(t *testing.T, e *inboundEnv) {
		return func(t *testing.T, e *inboundEnv) {
			c := e.get(t, e.seed(i).Number)
			if !strings.HasSuffix(c.Text, "\n"+text) || len(c.Media) != media {
				t.Errorf("case %s text %q media %d; want text ending %q, %d media", c.Number, c.Text, len(c.Media), text, media)
			}
			last := c.Events[len(c.Events)-1]
			if last.Type != caselog.EventAttachment || last.Actor != "consumer" || last.Note != text {
				t.Errorf("last event %+v, want the consumer's attachment %q", last, text)
			}
			if ct := e.lastContact(t); ct.Case != c.Number {
				t.Errorf("contact names case %q, want %s", ct.Case, c.Number)
			}
		}
	}
	unchanged := func(i int) func(t *testing.T, e *inboundEnv) {
		return func(t *testing.T, e *inboundEnv) {
			s := e.seed(i)
			if c := e.get(t, s.Number); c.Text != s.Text || len(c.Events) != 1 {
				t.Errorf("case %s changed: text %q, %d events", c.Number, c.Text, len(c.Events))
			}
		}
	}

	tests := []inboundCase{
		// The request itself.
		{name: "missing signature", fixture: "sms_zh", sign: sigMissing, status: http.StatusForbidden, check: nothingStored},
		{name: "invalid signature", fixture: "sms_zh", sign: sigWrong, status: http.StatusForbidden, check: nothingStored},
		{name: "no params", fixture: "no_params", raw: true, status: http.StatusBadRequest, check: nothingStored},
		{name: "not an SMS webhook", fixture: "not_twilio", raw: true, status: http.StatusBadRequest, check: nothingStored},
		{name: "no From", fixture: "sms_zh", set: []string{"From", ""}, status: http.StatusBadRequest, check: nothingStored},
		{name: "unparsable optional field still kept", fixture: "sms_zh", set: []string{"NumSegments", "two"},
			want: opensCase(zhSender, caselog.Complaint, "zh", "某某电器城拒绝退还故障电水壶的货款")},
		{name: "alphanumeric sender still answered", fixture: "sms_en", set: []string{"From", "QUICKFIX"},
			want: func(t *testing.T, e *inboundEnv) string {
				ct := e.lastContact(t)
				var c caselog.Case
				if ct.Case != "" {
					c = e.get(t, ct.Case)
				}
				if c.Caller != "QUICKFIX" || c.Kind != caselog.Complaint {
					t.Errorf("case %+v, want a complaint from QUICKFIX", c)
				}
				return ReplyOpened(LangEN, "complaint", c.Number, due(c))
			}},

		// Keywords that open a case, both languages, both widths.
		{name: "complaint zh", fixture: "sms_zh",
			want: opensCase(zhSender, caselog.Complaint, "zh", "某某电器城拒绝退还故障电水壶的货款")},
		{name: "complaint en", fixture: "sms_en",
			want: opensCase(enSender, caselog.Complaint, "en", "QuickFix Phones kept my deposit of 500 HKD and will not repair the screen")},
		{name: "complaint en full-width", fixture: "sms_en", set: []string{"Body", fullWidth("COMPLAINT my phone")},
			want: opensCase(enSender, caselog.Complaint, "en", fullWidth("my phone"))},
		{name: "complaint pinyin initials", fixture: "sms_zh", set: []string{"Body", "ts 某某健身房跑路了"},
			want: opensCase(zhSender, caselog.Complaint, "zh", "某某健身房跑路了")},
		{name: "complaint traditional", fixture: "sms_zh", set: []string{"Body", "投訴：酒店拒絕退訂金"},
			want: opensCase(zhSender, caselog.Complaint, "zh", "酒店拒絕退訂金")},
		{name: "report zh", fixture: "sms_zh", set: []string{"Body", "举报 某超市销售过期食品"},
			want: opensCase(zhSender, caselog.Report, "zh", "某超市销售过期食品")},
		{name: "report en lower case", fixture: "sms_en", set: []string{"Body", "report: shop on Main St sells fake chargers"},
			want: opensCase(enSender, caselog.Report, "en", "shop on Main St sells fake chargers")},
		{name: "report full-width zh", fixture: "sms_zh", set: []string{"Body", "【举报】" + fullWidth("JB") + "无证经营"},
			want: opensCase(zhSender, caselog.Report, "zh", fullWidth("JB")+"无证经营")},
		{name: "ask zh", fixture: "sms_zh", set: []string{"Body", "咨询：网购七天无理由退货包括定制商品吗？"},
			want: opensCase(zhSender, caselog.Consultation, "zh", "网购七天无理由退货包括定制商品吗？")},
		{name: "ask en", fixture: "sms_en", set: []string{"Body", "ASK can I return shoes after 7 days?"},
			want: opensCase(enSender, caselog.Consultation, "en", "can I return shoes after 7 days?")},
		{name: "ask full-width en", fixture: "sms_en", set: []string{"Body", fullWidth("ask") + "：refund rules"},
			want: opensCase(enSender, caselog.Consultation, "en", "refund rules")},

		// STATUS.
		{name: "status zh without number and no cases", fixture: "sms_zh", set: []string{"Body", "查询"},
			want: exact(ReplyOpenCases(LangZH, nil)), check: noCase},
		{name: "status en without number lists open cases newest first", setup: twoOwnCases, fixture: "sms_zh", set: []string{"Body", "STATUS"},
			want: func(t *testing.T, e *inboundEnv) string {
				return ReplyOpenCases(LangEN, []string{e.seed(1).Number, e.seed(0).Number})
			}},
		{name: "status without number leaves finished cases out", setup: func(t *testing.T, e *inboundEnv) {
			twoOwnCases(t, e)
			e.move(t, e.seed(1).Number, caselog.Accepted, caselog.Resolved, caselog.Closed)
		}, fixture: "sms_zh", set: []string{"Body", "CX"},
			want: func(t *testing.T, e *inboundEnv) string { return ReplyOpenCases(LangZH, []string{e.seed(0).Number}) }},
		{name: "status zh with number of another caller's case", body: func(e *inboundEnv) string { return "查询" + e.seed(0).Number }, setup: othersCase, fixture: "sms_zh",
			want: func(t *testing.T, e *inboundEnv) string {
				c := e.seed(0)
				return ReplyStatus(LangZH, c.Number, "received", due(c))
			},
			check: unchanged(0)},
		{name: "status en full-width number after transition", body: func(e *inboundEnv) string { return fullWidth("STATUS " + e.seed(0).Number) }, setup: func(t *testing.T, e *inboundEnv) {
			othersCase(t, e)
			e.move(t, e.seed(0).Number, caselog.Accepted)
		}, fixture: "sms_en",
			want: func(t *testing.T, e *inboundEnv) string {
				c := e.get(t, e.seed(0).Number)
				return ReplyStatus(LangEN, c.Number, "accepted", due(c))
			}},
		{name: "status mistyped number", body: func(e *inboundEnv) string { return "查询：" + mistype(e.seed(0).Number) }, setup: othersCase, fixture: "sms_zh",
			want: func(t *testing.T, e *inboundEnv) string { return ReplyBadNumber(LangZH, mistype(e.seed(0).Number)) }},
		{name: "status unknown number", fixture: "sms_en", set: []string{"Body", "STATUS " + checkNumber("1999999")},
			want: exact(ReplyUnknownCase(LangEN, checkNumber("1999999")))},

		// ADD.
		{name: "add zh to own case", body: func(e *inboundEnv) string { return "补充 " + e.seed(0).Number + " 商家电话一直打不通" }, setup: ownCase("zh"), fixture: "sms_zh",
			want:  func(t *testing.T, e *inboundEnv) string { return ReplyAdded(LangZH, e.seed(0).Number, 0) },
			check: appended(0, "商家电话一直打不通", 0)},
		{name: "add en to another caller's case is refused", body: func(e *inboundEnv) string { return "ADD case #" + e.seed(0).Number + " more" }, setup: othersCase, fixture: "sms_zh",
			want:  func(t *testing.T, e *inboundEnv) string { return ReplyNotYours(LangEN, e.seed(0).Number) },
			check: unchanged(0)},
		{name: "add mistyped number", body: func(e *inboundEnv) string { return "补充" + mistype(e.seed(0).Number) + "：补充材料" }, setup: ownCase("zh"), fixture: "sms_zh",
			want:  func(t *testing.T, e *inboundEnv) string { return ReplyBadNumber(LangZH, mistype(e.seed(0).Number)) },
			check: unchanged(0)},
		{name: "add unknown number", fixture: "sms_zh", set: []string{"Body", "BC" + checkNumber("1999999") + " 补充材料"},
			want: exact(ReplyUnknownCase(LangZH, checkNumber("1999999"))), check: noCase},
		{name: "add without number goes to the newest open case", setup: twoOwnCases, fixture: "sms_zh", set: []string{"Body", "补充：对方承认了"},
			want:  func(t *testing.T, e *inboundEnv) string { return ReplyAdded(LangZH, e.seed(1).Number, 0) },
			check: appended(1, "对方承认了", 0)},
		{name: "add without number and no case", fixture: "sms_en", set: []string{"Body", "ADD the receipt is attached"},
			want: exact(ReplyAddNeedsNumber(LangEN))},
		{name: "add MMS media to own case", body: func(e *inboundEnv) string { return "补充 " + e.seed(0).Number + " 发票和故障照片" }, setup: ownCase("zh"), fixture: "mms",
			want: func(t *testing.T, e *inboundEnv) string { return ReplyAdded(LangZH, e.seed(0).Number, 2) },
			check: func(t *testing.T, e *inboundEnv) {
				appended(0, "发票和故障照片", 2)(t, e)
				c := e.get(t, e.seed(0).Number)
				if c.Media[0].ContentType != "image/jpeg" || c.Media[1].ContentType != "application/pdf" ||
					!strings.Contains(c.Media[0].URL, "/Media/ME00112233445566778899aabbccddeeff") {
					t.Errorf("media %+v", c.Media)
				}
				if ct := e.lastContact(t); len(ct.Media) != 2 || ct.Command != "add" {
					t.Errorf("contact %+v, want the add with 2 media", ct)
				}
			}},
		{name: "complaint MMS keeps its media", fixture: "mms", set: []string{"Body", "投诉 屏幕碎了，见照片"},
			want: opensCase(zhSender, caselog.Complaint, "zh", "屏幕碎了，见照片"),
			check: func(t *testing.T, e *inboundEnv) {
				if c := e.newest(t, zhSender); len(c.Media) != 2 {
					t.Errorf("media %+v, want 2", c.Media)
				}
			}},

		// CALLBACK.
		{name: "callback zh with an open case", setup: ownCase("zh"), fixture: "sms_zh", set: []string{"Body", "回拨"},
			want: func(t *testing.T, e *inboundEnv) string { return ReplyCallback(LangZH, e.seed(0).Number) },
			check: func(t *testing.T, e *inboundEnv) {
				cbs := e.callbacks(t)
				if len(cbs) != 1 || cbs[0].Case != e.seed(0).Number || cbs[0].Caller != zhSender || cbs[0].Reason != "caller_request" || cbs[0].Lang != "zh" {
					t.Errorf("callbacks %+v, want one for case %s", cbs, e.seed(0).Number)
				}
			}},
		{name: "callback en without a case keeps the consumer's words", fixture: "sms_en", set: []string{"Body", "CALLBACK about my deposit,  after 6pm"},
			want: exact(ReplyCallback(LangEN, "")),
			check: func(t *testing.T, e *inboundEnv) {
				cbs := e.callbacks(t)
				if len(cbs) != 1 || cbs[0].Case != "" || cbs[0].Caller != enSender || cbs[0].Reason != "about my deposit, after 6pm" {
					t.Errorf("callbacks %+v", cbs)
				}
				if e.openedCount() != 0 {
					t.Error("a callback opened a case")
				}
			}},

		// HELP, STOP, START.
		{name: "help zh", fixture: "sms_zh", set: []string{"Body", "帮助"}, want: exact(ReplyHelp(LangZH)), check: noCase},
		{name: "help en", fixture: "sms_zh", set: []string{"Body", "help"}, want: exact(ReplyHelp(LangEN)), check: noCase},
		{name: "help full-width", fixture: "sms_zh", set: []string{"Body", fullWidth("HELP")}, want: exact(ReplyHelp(LangEN))},
		{name: "stop zh", fixture: "sms_zh", set: []string{"Body", "退订"}, want: exact(ReplyStopped(LangZH)),
			check: func(t *testing.T, e *inboundEnv) {
				if !e.optedOut(t, zhSender) {
					t.Error("not opted out")
				}
				noCase(t, e)
			}},
		{name: "stop en", fixture: "sms_en", set: []string{"Body", "STOP"}, want: exact(ReplyStopped(LangEN)),
			check: func(t *testing.T, e *inboundEnv) {
				if !e.optedOut(t, enSender) {
					t.Error("not opted out")
				}
			}},
		{name: "stop Twilio word", fixture: "sms_en", set: []string{"Body", "unsubscribe"}, want: exact(ReplyStopped(LangEN)),
			check: func(t *testing.T, e *inboundEnv) {
				if !e.optedOut(t, enSender) {
					t.Error("not opted out")
				}
			}},
		{name: "stop by Twilio Advanced Opt-Out", fixture: "sms_en", set: []string{"Body", "ARRET", "OptOutType", "STOP"},
			want: exact(ReplyStopped(LangEN)),
			check: func(t *testing.T, e *inboundEnv) {
				if !e.optedOut(t, enSender) {
					t.Error("Twilio opted the number out; we did not")
				}
				if cs := e.cases(t, enSender); len(cs) != 0 {
					t.Error("the opt-out word was kept as a case")
				}
			}},
		{name: "start zh", setup: optedOut, fixture: "sms_zh", set: []string{"Body", "订阅"}, want: exact(ReplyStarted(LangZH)),
			check: func(t *testing.T, e *inboundEnv) {
				if e.optedOut(t, zhSender) {
					t.Error("still opted out")
				}
			}},
		{name: "start en", setup: optedOut, fixture: "sms_zh", set: []string{"Body", "START"}, want: exact(ReplyStarted(LangEN)),
			check: func(t *testing.T, e *inboundEnv) {
				if e.optedOut(t, zhSender) {
					t.Error("still opted out")
				}
			}},
		{name: "opted out: a complaint is recorded but not answered", setup: optedOut, fixture: "sms_zh",
			want: func(t *testing.T, e *inboundEnv) string {
				if c := e.newest(t, zhSender); c.Kind != caselog.Complaint {
					t.Errorf("case %+v, want the complaint", c)
				}
				return ""
			}},
		{name: "opted out: help is answered", setup: optedOut, fixture: "sms_zh", set: []string{"Body", "HELP"}, want: exact(ReplyHelp(LangEN))},

		// Ratings.
		{name: "rating after a resolved case, in the case's language", setup: func(t *testing.T, e *inboundEnv) {
			ownCase("zh")(t, e)
			e.move(t, e.seed(0).Number, caselog.Accepted, caselog.Mediating, caselog.Resolved)
		}, fixture: "sms_zh", set: []string{"Body", " 4 "},
			want: func(t *testing.T, e *inboundEnv) string { return ReplyRatingThanks(LangZH, e.seed(0).Number, 4) },
			check: func(t *testing.T, e *inboundEnv) {
				if c := e.get(t, e.seed(0).Number); c.Rating != 4 {
					t.Errorf("rating %d, want 4", c.Rating)
				}
			}},
		{name: "rating full-width en case", setup: func(t *testing.T, e *inboundEnv) {
			ownCase("en-US")(t, e)
			e.move(t, e.seed(0).Number, caselog.Accepted, caselog.Closed)
		}, fixture: "sms_zh", set: []string{"Body", "５"},
			want: func(t *testing.T, e *inboundEnv) string { return ReplyRatingThanks(LangEN, e.seed(0).Number, 5) },
			check: func(t *testing.T, e *inboundEnv) {
				if c := e.get(t, e.seed(0).Number); c.Rating != 5 {
					t.Errorf("rating %d, want 5", c.Rating)
				}
			}},
		{name: "digit nobody asked for is kept", fixture: "sms_zh", set: []string{"Body", "3"},
			want: func(t *testing.T, e *inboundEnv) string {
				c := e.newest(t, zhSender)
				if c.Kind != caselog.Enquiry || c.Text != "3" {
					t.Errorf("case %+v, want an enquiry of 3", c)
				}
				return replyKept(LangZH, c.Number)
			}},

		// No keyword.
		{name: "no keyword zh goes to the open case", setup: ownCase("zh"), fixture: "sms_zh", set: []string{"Body", "商家今天又推脱了"},
			want:  func(t *testing.T, e *inboundEnv) string { return replyKept(LangZH, e.seed(0).Number) },
			check: appended(0, "商家今天又推脱了", 0)},
		{name: "no keyword en opens an enquiry", fixture: "sms_en", set: []string{"Body", "Hello, is anyone there?"},
			want: opensCase(enSender, caselog.Enquiry, "en", "Hello, is anyone there?")},
		{name: "English-looking word is not a keyword", fixture: "sms_en", set: []string{"Body", "Reported to police already"},
			want: opensCase(enSender, caselog.Enquiry, "en", "Reported to police already")},
		{name: "bare number answered in the case's language", setup: ownCase("en-US"), fixture: "sms_zh", set: []string{"Body", "13800138000"},
			want:  func(t *testing.T, e *inboundEnv) string { return replyKept(LangEN, e.seed(0).Number) },
			check: appended(0, "13800138000", 0)},
		{name: "photo without text goes to the open case", setup: ownCase("zh"), fixture: "mms", set: []string{"Body", ""},
			want: func(t *testing.T, e *inboundEnv) string { return replyKept(LangZH, e.seed(0).Number) },
			check: func(t *testing.T, e *inboundEnv) {
				if c := e.get(t, e.seed(0).Number); len(c.Media) != 2 {
					t.Errorf("media %+v, want 2", c.Media)
				}
			}},
		{name: "blank message stored, nothing opened", fixture: "sms_zh", set: []string{"Body", "  "},
			want: exact(ReplyHelp(LangZH)),
			check: func(t *testing.T, e *inboundEnv) {
				noCase(t, e)
				if ct := e.lastContact(t); ct.Body != "  " || ct.Command != "none" || ct.Caller != zhSender {
					t.Errorf("contact %+v", ct)
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newInboundEnv(t, false, 0)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			set := tc.set
			if tc.body != nil {
				set = append(slices.Clone(set), "Body", tc.body(e))
			}
			sid := e.sid()
			form := inboundForm(t, tc.fixture, append([]string{"MessageSid", sid, "SmsSid", sid, "SmsMessageSid", sid}, set...)...)
			if tc.raw {
				form = inboundForm(t, tc.fixture)
			}
			contactsBefore := len(e.contacts(t))
			got := e.post(t, form, tc.sign)
			status := tc.status
			if status == 0 {
				status = http.StatusOK
			}
			if got.status != status {
				t.Fatalf("status %d, want %d: %s", got.status, status, got.raw)
			}
			if status == http.StatusOK {
				if n := len(e.contacts(t)) - contactsBefore; n != 1 {
					t.Errorf("%d contacts stored, want 1", n)
				} else if ct := e.lastContact(t); ct.Key != sid || ct.Channel != caselog.SMS || ct.Body != form.Get("Body") {
					t.Errorf("contact %+v, want the message %s verbatim", ct, sid)
				}
			}
			if tc.want != nil {
				if want := tc.want(t, e); got.reply != want {
					t.Errorf("reply\n got %q\nwant %q", got.reply, want)
				}
			}
			if tc.check != nil {
				tc.check(t, e)
			}
		})
	}
}

// TestHandler_Inbound_retry: Twilio delivers the same MessageSid twice; the
// second gets the first's reply byte for byte and makes nothing new.
func TestHandler_Inbound_retry(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"投诉 空调不制冷，商家拒绝上门", "hello?", "CALLBACK"} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			e := newInboundEnv(t, false, 0)
			form := inboundForm(t, "sms_zh", "Body", body)
			first := e.post(t, form, sigValid)
			e.clock.Advance(10 * time.Second)
			again := e.post(t, form, sigValid)
			if first.status != http.StatusOK || again.raw != first.raw || first.reply == "" {
				t.Errorf("retry answered %d %q; first %d %q", again.status, again.raw, first.status, first.raw)
			}
			if n := len(e.cases(t, zhSender)); n > 1 {
				t.Errorf("%d cases after a retry, want at most 1", n)
			}
			if n := len(e.contacts(t)); n != 1 {
				t.Errorf("%d contacts after a retry, want 1", n)
			}
			if n := len(e.callbacks(t)); n > 1 {
				t.Errorf("%d callbacks after a retry, want at most 1", n)
			}
			if n := e.openedCount(); n > 1 {
				t.Errorf("OnCase called %d times, want at most 1", n)
			}
		})
	}
}

// TestHandler_Inbound_stopThenTransition: a consumer who sent STOP still has
// their case moved by staff; the status SMS is queued (the sender skips it)
// and the number stays opted out.
func TestHandler_Inbound_stopThenTransition(t *testing.T) {
	t.Parallel()
	e := newInboundEnv(t, false, 0)
	opened := e.text(t, zhSender, "投诉 外卖少送一份")
	number := e.newest(t, zhSender).Number
	if !strings.Contains(opened.reply, number) {
		t.Fatalf("reply %q does not name case %s", opened.reply, number)
	}
	if r := e.text(t, zhSender, "退订"); r.reply != ReplyStopped(LangZH) {
		t.Fatalf("STOP reply %q", r.reply)
	}
	e.move(t, number, caselog.Accepted)
	if !e.optedOut(t, zhSender) {
		t.Error("number not opted out after STOP and a transition")
	}
	var queued []caselog.Message
	if err := e.log.View(func(tx *caselog.Tx) error {
		var err error
		queued, err = tx.Outbox("", 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || queued[0].Case != number || queued[0].Notice != caselog.NoticeStatus || !strings.Contains(queued[0].Body, number) {
		t.Errorf("outbox %+v, want the status SMS of case %s", queued, number)
	}
	if r := e.text(t, zhSender, "查询"+number); r.reply != "" {
		t.Errorf("opted-out sender answered: %q", r.reply)
	}
}

// TestHandler_Inbound_flood: the 11th message in a minute is recorded and
// does what it asks, but is not answered; once the minute has passed the
// sender is answered again. Other senders are not affected.
func TestHandler_Inbound_flood(t *testing.T) {
	t.Parallel()
	e := newInboundEnv(t, false, 10)
	for i := 1; i <= 11; i++ {
		r := e.text(t, zhSender, fmt.Sprintf("投诉 第%d条", i))
		if r.status != http.StatusOK {
			t.Fatalf("message %d: status %d", i, r.status)
		}
		c := e.newest(t, zhSender)
		if c.Text != fmt.Sprintf("第%d条", i) {
			t.Fatalf("message %d not recorded: newest case text %q", i, c.Text)
		}
		switch {
		case i <= 10 && r.reply != ReplyOpened(LangZH, "complaint", c.Number, due(c)):
			t.Errorf("message %d: reply %q", i, r.reply)
		case i == 11 && (r.reply != "" || !strings.Contains(r.raw, "<Response")):
			t.Errorf("message 11 answered: %s", r.raw)
		}
		e.clock.Advance(time.Second)
	}
	if n := e.openedCount(); n != 11 {
		t.Errorf("%d cases announced, want 11", n)
	}
	if n := len(e.contacts(t)); n != 11 {
		t.Errorf("%d contacts, want 11", n)
	}
	if r := e.text(t, otherSender, "帮助"); r.reply != ReplyHelp(LangZH) {
		t.Errorf("another sender muted: %q", r.reply)
	}
	if r := e.text(t, zhSender, "帮助"); r.reply != "" {
		t.Errorf("still within the minute, answered: %q", r.reply)
	}
	e.clock.Advance(time.Minute)
	if r := e.text(t, zhSender, "帮助"); r.reply != ReplyHelp(LangZH) {
		t.Errorf("after the minute: reply %q, want help", r.reply)
	}
}

// TestHandler_Inbound_logLine: one line per message, with the MessageSid,
// the masked sender, the command and the case, and never the body.
func TestHandler_Inbound_logLine(t *testing.T) {
	t.Parallel()
	e := newInboundEnv(t, false, 0)
	var buf caselogtest.SyncBuffer
	e.mount(Options{Log: e.log, Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	const body = "投诉 某某药店卖假药，店主电话13912345678"
	r := e.text(t, zhSender, body)
	c := e.newest(t, zhSender)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1:\n%s", len(lines), buf.String())
	}
	line := lines[0]
	for _, want := range []string{"comp=sms", "message_sid=SM", "from=+86138****8000", "command=complaint", "case_number=" + c.Number, "replied=true"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line lacks %q: %s", want, line)
		}
	}
	for _, never := range []string{"某某药店", "13912345678", zhSender, r.reply} {
		if strings.Contains(line, never) {
			t.Errorf("log line contains %q: %s", never, line)
		}
	}
}

func TestFloodGate(t *testing.T) {
	t.Parallel()
	g := newFloodGate(2, time.Minute)
	t0 := caselogtest.Monday10
	steps := []struct {
		sender string
		at     time.Duration
		want   bool
	}{
		{"a", 0, true},
		{"a", 10 * time.Second, true},
		{"a", 20 * time.Second, false}, // third within a minute
		{"b", 20 * time.Second, true},
		{"a", 59 * time.Second, false},
		{"a", 60 * time.Second, true},  // the first reply left the window
		{"a", 65 * time.Second, false}, // the second (at 10 s) has not
		{"a", 70 * time.Second, true},
	}
	for i, s := range steps {
		if got := g.take(s.sender, t0.Add(s.at)); got != s.want {
			t.Errorf("step %d (%s at %s) = %v, want %v", i, s.sender, s.at, got, s.want)
		}
	}
	// Idle senders are forgotten.
	g.take("c", t0.Add(5*time.Minute))
	g.mu.Lock()
	n := len(g.senders)
	g.mu.Unlock()
	if n != 1 {
		t.Errorf("%d senders remembered after everyone else went quiet, want 1", n)
	}
}

// TestHandler_Inbound_replySegments drives every branch of the handler in
// both languages, with many cases on file, and counts the segments of every
// reply it gives.
func TestHandler_Inbound_replySegments(t *testing.T) {
	t.Parallel()
	e := newInboundEnv(t, false, -1)
	var replies []string
	say := func(from, body string) {
		t.Helper()
		r := e.text(t, from, body)
		if r.status != http.StatusOK || r.reply == "" {
			t.Fatalf("%q: status %d, no reply: %s", body, r.status, r.raw)
		}
		replies = append(replies, r.reply)
	}
	long := strings.Repeat("商家拒不退款", 40)
	for _, from := range []string{zhSender, enSender} {
		for range 30 {
			say(from, "投诉 "+long)
		}
		newest := e.newest(t, from).Number
		bodies := []string{
			"投诉 " + long, "COMPLAINT " + long, "举报 x", "REPORT x", "咨询 x", "ASK x",
			"查询", "STATUS", "查询" + newest, "STATUS " + newest, "查询" + mistype(newest), "STATUS " + checkNumber("99999999999"),
			"补充 " + newest + " " + long, "ADD " + newest + " x", "补充 " + mistype(newest) + " x", "ADD " + checkNumber("99999999999") + " x",
			"补充 x", "ADD x", "回拨 " + long, "CALLBACK",
			"帮助", "HELP", "3", long, "hello " + long,
			"退订", "订阅", "STOP", "START",
		}
		for _, b := range bodies {
			say(from, b)
		}
		e.move(t, newest, caselog.Accepted, caselog.Closed)
		say(from, "5")
	}
	say(otherSender, "补充 x")
	say(otherSender, "STATUS")
	say(otherSender, "CALLBACK")
	say(otherSender, "no keyword")
	say(zhSender, "ADD "+e.newest(t, otherSender).Number+" x")
	for _, r := range replies {
		if n, enc := Segments(r); n > 2 {
			t.Errorf("%d %s segments: %q", n, enc, r)
		}
	}
}

func TestReplyKept(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{LangZH, LangEN} {
		r := replyKept(lang, "123456789018")
		n, enc := Segments(r)
		if n > 2 || !strings.Contains(r, "123456789018") {
			t.Errorf("%s: %d %s segments, %q", lang, n, enc, r)
		}
		if lang == LangEN && enc != GSM7 {
			t.Errorf("English text is %s: %q", enc, r)
		}
	}
}
