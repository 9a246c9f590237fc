package simulate

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
	"github.com/hotline/hotline/internal/twiliohttp"
	"github.com/hotline/hotline/ivr"
)

const (
	testToken  = "simulate-test-token-0123456789"
	testPublic = "https://hotline.example.org"
	testFrom   = "13800138000"
	testE164   = "+8613800138000"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

var (
	reCallSid      = regexp.MustCompile(`^CA[0-9a-f]{32}$`)
	reRecordingURL = regexp.MustCompile(`^https://api\.twilio\.com/2010-04-01/Accounts/AC[0-9a-f]{32}/Recordings/RE[0-9a-f]{32}$`)
)

// mustOpen opens a case log in t.TempDir and checks its invariants when the
// test ends.
func mustOpen(t *testing.T) *caselog.Log {
	t.Helper()
	// The simulator runs on the wall clock and the default (UTC) calendar.
	l, _ := caselogtest.Open(t, caselog.Options{NoSync: true, Now: time.Now, Calendar: caselog.Calendar{Location: time.UTC}})
	return l
}

// hotline runs the real voice line behind the real signature middleware on
// loopback, as `hotline serve` mounts it.
func hotline(t *testing.T, o ivr.Options) (*httptest.Server, *caselog.Log) {
	t.Helper()
	if o.Log == nil {
		o.Log = mustOpen(t)
	}
	h, err := ivr.New(o)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	g := r.Group("", (&twiliohttp.Verifier{AuthToken: testToken, PublicURL: testPublic}).Middleware())
	h.Register(g)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, o.Log
}

func phoneOptions(srv *httptest.Server, keys string, out io.Writer) Options {
	return Options{
		BaseURL: srv.URL, PublicURL: testPublic, AuthToken: testToken,
		From: testFrom, In: strings.NewReader(keys), Out: out, Client: srv.Client(),
	}
}

// checkCall asserts what every simulated call must do: a Twilio-shaped
// CallSid, signed requests that all succeeded, ringing then in-progress,
// and the status callback last.
func checkCall(t *testing.T, tr Transcript) {
	t.Helper()
	if !reCallSid.MatchString(tr.CallSid) {
		t.Errorf("CallSid %q", tr.CallSid)
	}
	if len(tr.Exchanges) < 2 {
		t.Fatalf("%d exchanges", len(tr.Exchanges))
	}
	for i, ex := range tr.Exchanges {
		if ex.Status != http.StatusOK || ex.Signature == "" {
			t.Errorf("exchange %d %s: status %d, signature %q", i, ex.URL, ex.Status, ex.Signature)
		}
		if !strings.HasPrefix(ex.URL, testPublic+"/twilio/voice") {
			t.Errorf("exchange %d went to %s", i, ex.URL)
		}
		if got := ex.Params.Get("CallSid"); got != tr.CallSid {
			t.Errorf("exchange %d CallSid %q", i, got)
		}
	}
	first, last := tr.Exchanges[0], tr.Exchanges[len(tr.Exchanges)-1]
	if first.URL != testPublic+"/twilio/voice" || first.Params.Get("CallStatus") != "ringing" {
		t.Errorf("first request %s %s", first.URL, first.Params.Get("CallStatus"))
	}
	for _, k := range []string{"AccountSid", "From", "To", "Caller", "Called", "Direction", "ApiVersion", "FromCountry", "ToCountry", "CallerCountry"} {
		if first.Params.Get(k) == "" {
			t.Errorf("incoming call without %s", k)
		}
	}
	if first.Params.Get("From") != testE164 || first.Params.Get("FromCountry") != "CN" || first.Params.Get("Direction") != "inbound" {
		t.Errorf("incoming From %s %s %s", first.Params.Get("From"), first.Params.Get("FromCountry"), first.Params.Get("Direction"))
	}
	if last.URL != testPublic+"/twilio/voice/status" || last.Params.Get("CallStatus") != tr.Status || last.Params.Get("CallDuration") == "" {
		t.Errorf("last request %s CallStatus %q CallDuration %q", last.URL, last.Params.Get("CallStatus"), last.Params.Get("CallDuration"))
	}
	if tr.Status != "completed" {
		t.Errorf("call ended %q", tr.Status)
	}
}

func requestsTo(tr Transcript, path string) []Exchange {
	var out []Exchange
	for _, ex := range tr.Exchanges {
		if u, err := url.Parse(ex.URL); err == nil && u.Path == path {
			out = append(out, ex)
		}
	}
	return out
}

func TestCall_Complaint(t *testing.T) {
	t.Parallel()
	const told = "The kettle I bought at Sunshine Electric broke after two days and they refuse a refund."
	const toldZH = "我在网上买的电水壶两天就坏了，商家拒绝退款。"
	tests := []struct {
		name     string
		lang     string
		keys     string
		wantLang string
		wantText string
	}{
		{"english by key 9", "", "9\n1\n" + told + "\n", "en-US", told},
		{"english by --lang en", "en", "1\n" + told + "\n", "en-US", told},
		{"mandarin typed text still reaches the case", "", "1\n" + toldZH + "\n", "zh-CN", toldZH},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, l := hotline(t, ivr.Options{})
			var out bytes.Buffer
			o := phoneOptions(srv, tc.keys, &out)
			o.Lang = tc.lang
			tr, err := Call(context.Background(), o)
			if err != nil {
				t.Fatalf("call: %v\n%s", err, out.String())
			}
			checkCall(t, tr)
			cases, err := l.ByCaller(testFrom, 0)
			if err != nil || len(cases) != 1 {
				t.Fatalf("cases of caller: %v %v", cases, err)
			}
			c := cases[0]
			if c.Kind != caselog.Complaint || c.Channel != caselog.Voice || c.Lang != tc.wantLang || c.Source != tr.CallSid {
				t.Errorf("case %+v", c)
			}
			if len(tr.Recordings) != 1 || c.RecordingURL != tr.Recordings[0] || !reRecordingURL.MatchString(c.RecordingURL) {
				t.Errorf("recording %q, made %v", c.RecordingURL, tr.Recordings)
			}
			if c.Text != tc.wantText {
				t.Errorf("case text %q, want %q", c.Text, tc.wantText)
			}
			// The line reads the number out digit by digit, in groups.
			spoken := 0
			for _, s := range tr.Said {
				if strings.Contains(digitsOf(s.Text), c.Number) {
					spoken++
				}
			}
			if spoken != 2 {
				t.Errorf("case number %s not spoken:\n%s", c.Number, out.String())
			}
			rec := requestsTo(tr, "/twilio/voice/record")
			if len(rec) != 1 || rec[0].Params.Get("Digits") != "#" || rec[0].Params.Get("RecordingDuration") == "" {
				t.Errorf("record action %+v", rec)
			}
			if st := requestsTo(tr, "/twilio/voice/recording"); len(st) != 1 || st[0].Params.Get("RecordingStatus") != "completed" {
				t.Errorf("recording status callbacks %+v", st)
			}
			trans := requestsTo(tr, "/twilio/voice/transcription")
			if (tc.wantText != "") != (len(trans) == 1) {
				t.Errorf("%d transcription callbacks", len(trans))
			}
			if len(trans) == 1 && (trans[0].Params.Get("TranscriptionText") != tc.wantText || trans[0].Params.Get("TranscriptionStatus") != "completed") {
				t.Errorf("transcription %v", trans[0].Params)
			}
			if !strings.Contains(out.String(), "keys> ") || !strings.Contains(out.String(), "say> ") {
				t.Errorf("output:\n%s", out.String())
			}
		})
	}
}

func TestCall_StatusQuery(t *testing.T) {
	t.Parallel()
	srv, l := hotline(t, ivr.Options{})
	var out bytes.Buffer
	if _, err := Call(context.Background(), phoneOptions(srv, "1\n电视购物买的按摩椅与宣传不符\n", &out)); err != nil {
		t.Fatalf("complaint call: %v\n%s", err, out.String())
	}
	cases, err := l.ByCaller(testFrom, 1)
	if err != nil || len(cases) != 1 {
		t.Fatalf("cases: %v %v", cases, err)
	}
	number := cases[0].Number

	out.Reset()
	tr, err := Call(context.Background(), phoneOptions(srv, "4\n"+number+"#\n", &out))
	if err != nil {
		t.Fatalf("status call: %v\n%s", err, out.String())
	}
	checkCall(t, tr)
	said := tr.SaidText()
	if !strings.Contains(said, "目前的状态是：已登记，等待受理") || !strings.Contains(digitsOf(said), number) {
		t.Errorf("status not told:\n%s", said)
	}
	steps := requestsTo(tr, "/twilio/voice/step")
	found := false
	for _, ex := range steps {
		if ex.Params.Get("Digits") == number && ex.Params.Get("FinishedOnKey") == "#" {
			found = true
		}
	}
	if !found {
		t.Errorf("no step posted Digits=%s", number)
	}
	if got := strings.Join(tr.Keys, ","); got != "4,"+number {
		t.Errorf("keys %q", got)
	}
}

// A caller who says nothing hears the menu again, then the no-input menu,
// and is hung up on; the Gathers post empty results with no Digits, as
// Twilio does with actionOnEmptyResult.
func TestCall_Silence(t *testing.T) {
	t.Parallel()
	srv, l := hotline(t, ivr.Options{})
	var out bytes.Buffer
	start := time.Now()
	tr, err := Call(context.Background(), phoneOptions(srv, "", &out))
	if err != nil {
		t.Fatalf("call: %v\n%s", err, out.String())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("silence at the end of a script took %s; it should not wait out timeouts", d)
	}
	checkCall(t, tr)
	if len(tr.Keys) != 0 {
		t.Errorf("keys %v", tr.Keys)
	}
	for _, ex := range requestsTo(tr, "/twilio/voice/step") {
		if _, ok := ex.Params["Digits"]; ok {
			t.Errorf("empty gather posted Digits=%q", ex.Params.Get("Digits"))
		}
	}
	said := tr.SaidText()
	if n := strings.Count(said, "投诉请按1"); n != 3 {
		t.Errorf("main menu said %d times, want 3 (1 + no_input_repeats 2):\n%s", n, said)
	}
	if !strings.Contains(said, "我们没有收到您的选择") {
		t.Errorf("no-input menu not said:\n%s", said)
	}
	if !strings.Contains(out.String(), "(silence)") {
		t.Errorf("output:\n%s", out.String())
	}
	if cases, _ := l.ByCaller(testFrom, 0); len(cases) != 0 {
		t.Errorf("silence made cases %v", cases)
	}
}

func TestCall_DialNobodyAnswers(t *testing.T) {
	t.Parallel()
	srv, l := hotline(t, ivr.Options{
		StaffNumbers: []string{"+862160000001"},
		StaffOpen:    func(time.Time) bool { return true },
	})
	var out bytes.Buffer
	tr, err := Call(context.Background(), phoneOptions(srv, "0\n", &out))
	if err != nil {
		t.Fatalf("call: %v\n%s", err, out.String())
	}
	checkCall(t, tr)
	if !strings.Contains(out.String(), "(dialling +862160000001 … ringing … no answer)") {
		t.Errorf("dial not shown:\n%s", out.String())
	}
	var dial *Exchange
	for i, ex := range tr.Exchanges {
		if ex.Params.Get("DialCallStatus") != "" {
			dial = &tr.Exchanges[i]
		}
	}
	if dial == nil || dial.Params.Get("DialCallStatus") != "no-answer" || !reCallSid.MatchString(dial.Params.Get("DialCallSid")) {
		t.Fatalf("dial action %+v", dial)
	}
	if !strings.Contains(tr.SaidText(), "工作人员暂时无法接听") {
		t.Errorf("no-answer message not said:\n%s", tr.SaidText())
	}
	cbs, err := l.Callbacks()
	if err != nil || len(cbs) != 1 || cbs[0].Caller != testE164 || cbs[0].Reason != "staff_unavailable" {
		t.Errorf("callbacks %+v %v", cbs, err)
	}
}

// Signatures are checked by the real middleware in every test above; here
// the phone signs with the wrong token, and the error shows the answer.
func TestCall_WrongToken(t *testing.T) {
	t.Parallel()
	srv, _ := hotline(t, ivr.Options{})
	o := phoneOptions(srv, "", io.Discard)
	o.AuthToken = "not-the-token"
	_, err := Call(context.Background(), o)
	var se *ServerError
	if !errors.As(err, &se) || se.Status != http.StatusForbidden {
		t.Fatalf("err %v, want a 403 ServerError", err)
	}
	if !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "invalid X-Twilio-Signature") {
		t.Errorf("error does not show status and body: %v", err)
	}
}

func TestCall_ServerDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Call(context.Background(), Options{BaseURL: "http://" + addr, From: testFrom})
	if err == nil || !strings.Contains(err.Error(), "is the server running? start it with `go run ./cmd/hotline serve`") {
		t.Fatalf("err %v", err)
	}
	_, err = SMS(context.Background(), Options{BaseURL: "http://" + addr, From: testFrom}, "帮助")
	if err == nil || !strings.Contains(err.Error(), "is the server running?") {
		t.Fatalf("sms err %v", err)
	}
}

// fakeTwiML serves fixed documents behind the signature middleware and keeps
// every form it was sent, to exercise verbs our ivr does not write.
type fakeTwiML struct {
	mu    sync.Mutex
	forms map[string][]url.Values
}

func newFake(t *testing.T, docs map[string]string) (*httptest.Server, *fakeTwiML) {
	t.Helper()
	f := &fakeTwiML{forms: map[string][]url.Values{}}
	r := gin.New()
	g := r.Group("", (&twiliohttp.Verifier{AuthToken: testToken, PublicURL: testPublic}).Middleware())
	handle := func(c *gin.Context) {
		f.mu.Lock()
		form := url.Values{}
		for k, v := range c.Request.Form {
			form[k] = v
		}
		f.forms[c.Request.URL.Path] = append(f.forms[c.Request.URL.Path], form)
		f.mu.Unlock()
		c.Data(http.StatusOK, "text/xml", []byte(docs[c.Request.URL.Path]))
	}
	g.POST("/*path", handle)
	g.GET("/*path", handle)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return srv, f
}

func (f *fakeTwiML) got(path string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[path]
}

func TestCall_Verbs(t *testing.T) {
	t.Parallel()
	srv, fake := newFake(t, map[string]string{
		"/twilio/voice": `<?xml version="1.0" encoding="UTF-8"?><Response>
			<Say>hello</Say><Play>https://example.org/tone.mp3</Play><Pause length="2"/>
			<Gather action="/g?step=1&amp;x=y" numDigits="2" timeout="1"><Say language="zh-CN">请按两位</Say></Gather>
			<Say>no keys</Say><Hangup/></Response>`,
		"/g":                   `<Response><Enqueue>support</Enqueue><Redirect method="GET">/r?x=1</Redirect></Response>`,
		"/r":                   `<Response><Record action="rec" recordingStatusCallback="/recstatus" maxLength="60" finishOnKey="#"/></Response>`,
		"/rec":                 `<Response><Dial action="/dialed" timeout="20"><Number>+8610123456</Number></Dial></Response>`,
		"/dialed":              `<Response><Reject reason="busy"/></Response>`,
		"/recstatus":           `<Response/>`,
		"/twilio/voice/status": `<Response/>`,
	})
	var out bytes.Buffer
	o := phoneOptions(srv, "123#\nhello there, I want my money back\n", &out)
	tr, err := Call(context.Background(), o)
	if err != nil {
		t.Fatalf("call: %v\n%s", err, out.String())
	}
	if g := fake.got("/g"); len(g) != 1 || g[0].Get("Digits") != "12" || g[0].Get("step") != "1" || g[0].Get("CallStatus") != "in-progress" {
		t.Errorf("gather action got %v", g)
	}
	r := fake.got("/r")
	if len(r) != 1 || r[0].Get("x") != "1" || r[0].Get("CallSid") != tr.CallSid {
		t.Errorf("GET redirect got %v", r)
	}
	for _, ex := range tr.Exchanges {
		if strings.Contains(ex.URL, "/r?") && (ex.Method != http.MethodGet || !strings.Contains(ex.URL, "CallSid=")) {
			t.Errorf("redirect request %s %s", ex.Method, ex.URL)
		}
	}
	rec := fake.got("/rec")
	if len(rec) != 1 || rec[0].Get("Digits") != "#" || !reRecordingURL.MatchString(rec[0].Get("RecordingUrl")) {
		t.Errorf("record action (relative to /r) got %v", rec)
	}
	if st := fake.got("/recstatus"); len(st) != 1 || st[0].Get("RecordingUrl") != rec[0].Get("RecordingUrl") || st[0].Get("RecordingSid") != rec[0].Get("RecordingSid") {
		t.Errorf("recording status callback got %v", st)
	}
	for path, forms := range fake.forms {
		for _, f := range forms {
			if f.Get("TranscriptionText") != "" {
				t.Errorf("%s got a transcription although none was asked for", path)
			}
		}
	}
	if d := fake.got("/dialed"); len(d) != 1 || d[0].Get("DialCallStatus") != "no-answer" {
		t.Errorf("dial action got %v", d)
	}
	if s := fake.got("/twilio/voice/status"); len(s) != 1 || s[0].Get("CallStatus") != "busy" || tr.Status != "busy" {
		t.Errorf("status callback got %v, transcript %q", s, tr.Status)
	}
	for _, want := range []string{"[en-US] hello", "[zh-CN] 请按两位", "(plays https://example.org/tone.mp3)", "(pause 2 s)", "keys> 123#", "<Enqueue> is not simulated", "say> hello there", "(call rejected: busy)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "no keys") {
		t.Errorf("went on after a gather that had input:\n%s", out.String())
	}
}

// A gather nobody answers in time goes on with the next verb, as on a
// phone: the phone really waits the gather's timeout.
func TestCall_GatherTimeout(t *testing.T) {
	t.Parallel()
	srv, fake := newFake(t, map[string]string{
		"/twilio/voice":        `<Response><Gather action="/g" timeout="1"><Say>press a key</Say></Gather><Say>fell through</Say></Response>`,
		"/g":                   `<Response><Say>wrong</Say></Response>`,
		"/twilio/voice/status": `<Response/>`,
	})
	pr, pw := io.Pipe()
	defer pw.Close()
	var out bytes.Buffer
	o := phoneOptions(srv, "", &out)
	o.In = pr
	start := time.Now()
	tr, err := Call(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("returned after %s, before the gather's 1 s timeout", d)
	}
	if len(fake.got("/g")) != 0 {
		t.Error("posted the action of a gather without input")
	}
	if !strings.Contains(out.String(), "(no input in time)") || !strings.Contains(tr.SaidText(), "fell through") || tr.Status != "completed" {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestParseKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		line, finish string
		num          int
		speech       bool
		want         keys
	}{
		{"1", "#", 1, false, keys{digits: "1"}},
		{"123", "#", 1, false, keys{digits: "1"}},
		{" 1000017# ", "#", 0, false, keys{digits: "1000017", finishedOn: "#"}},
		{"100 0017", "#", 0, false, keys{digits: "1000017"}},
		{"#", "#", 0, false, keys{finishedOn: "#"}},
		{"*", "#", 1, false, keys{digits: "*"}},
		{"complaint", "#", 1, true, keys{speech: "complaint"}},
		{"1x", "#", 0, false, keys{digits: "1", ignored: "x"}},
		{"", "#", 1, true, keys{}},
	}
	for _, tc := range tests {
		if got := parseKeys(tc.line, tc.finish, tc.num, tc.speech); got != tc.want {
			t.Errorf("parseKeys(%q, %q, %d, %v) = %+v, want %+v", tc.line, tc.finish, tc.num, tc.speech, got, tc.want)
		}
	}
}

// digitsOf keeps the digits of s, ASCII or spoken in Chinese.
func digitsOf(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if i := strings.IndexRune("零一二三四五六七八九", r); i >= 0 {
			return '0' + rune(i/3) // three bytes a character
		}
		return -1
	}, s)
}
