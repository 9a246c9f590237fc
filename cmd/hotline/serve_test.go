package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
	"github.com/hotline/hotline/config"
	"github.com/hotline/hotline/internal/twiliohttp"
	"github.com/hotline/hotline/internal/twiliotest"
)

const (
	testAuthToken  = "0123456789abcdef0123456789abcdef"
	testStaffToken = "li-staff-token-0123456789"
	testAdminToken = "boss-admin-token-0123456789"
	testAccount    = "AC0123456789abcdef0123456789abcdef"
)

// testServer is the whole gateway on httptest, with a log buffer that tests
// can search for leaked phone numbers.
type testServer struct {
	*server
	http   *httptest.Server
	logs   *caselogtest.SyncBuffer
	twilio *twiliotest.Server
	dbPath string
}

// newTestServer starts a server whose configuration is env on top of the
// contract's defaults, a fresh database, and a Twilio double.
func newTestServer(t *testing.T, env map[string]string) *testServer {
	t.Helper()
	dir := t.TempDir()
	ts := &testServer{logs: &caselogtest.SyncBuffer{}, dbPath: filepath.Join(dir, "hotline.db")}
	ts.twilio = twiliotest.New(t, testAccount, testAuthToken)
	// The public URL must be known before the config is made: listen first.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	public := "http://" + ln.Addr().String()
	vars := map[string]string{
		"HOTLINE_DB":           ts.dbPath,
		"HOTLINE_PUBLIC_URL":   public,
		"HOTLINE_STAFF_TOKENS": "li:" + testStaffToken + ",boss:" + testAdminToken + ":admin",
		"TWILIO_ACCOUNT_SID":   testAccount,
		"TWILIO_AUTH_TOKEN":    testAuthToken,
		"TWILIO_FROM_NUMBER":   "+8612315000",
		"TWILIO_API_URL":       ts.twilio.URL(),
		"HOTLINE_QUIET_HOURS":  "off",
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] }, filepath.Join(dir, "none.env"))
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts.server, err = newServer(cfg, logger, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts.http = &httptest.Server{Listener: ln, Config: &http.Server{Handler: ts.engine}}
	ts.http.Start()
	ctx, cancel := context.WithCancel(context.Background())
	senderDone := make(chan struct{})
	go func() { ts.sender.Run(ctx); close(senderDone) }()
	t.Cleanup(func() {
		ts.http.Close()
		cancel()
		<-senderDone
		if err := ts.clog.Close(); err != nil {
			t.Error(err)
		}
		if err := caselog.Check(ts.dbPath); err != nil {
			t.Errorf("case log invariants: %v", err)
		}
	})
	return ts
}

// post sends a signed Twilio webhook.
func (ts *testServer) post(t *testing.T, path string, form url.Values) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, ts.http.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliohttp.Sign(testAuthToken, ts.cfg.PublicURL+path, form))
	return do(t, req)
}

func (ts *testServer) api(t *testing.T, method, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.http.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var sidSeq struct {
	sync.Mutex
	n int
}

func sid(prefix string) string {
	sidSeq.Lock()
	defer sidSeq.Unlock()
	sidSeq.n++
	return fmt.Sprintf("%s%032x", prefix, sidSeq.n)
}

func smsForm(from, body string) url.Values {
	s := sid("SM")
	return url.Values{
		"ToCountry": {"CN"}, "SmsMessageSid": {s}, "NumMedia": {"0"}, "SmsSid": {s}, "SmsStatus": {"received"},
		"Body": {body}, "FromCountry": {"CN"}, "To": {"+8612315000"}, "NumSegments": {"1"}, "MessageSid": {s},
		"AccountSid": {testAccount}, "From": {from}, "ApiVersion": {"2010-04-01"},
	}
}

// messageText returns the text of the first <Message> in a TwiML reply.
func messageText(t *testing.T, twiml string) string {
	t.Helper()
	var r struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal([]byte(twiml), &r); err != nil {
		t.Fatalf("reply is not TwiML: %v\n%s", err, twiml)
	}
	if len(r.Messages) == 0 {
		return ""
	}
	return r.Messages[0]
}

var caseNumberRE = regexp.MustCompile(`\d{7,12}`)

func TestServer_Healthz(t *testing.T) {
	ts := newTestServer(t, nil)
	code, body := ts.api(t, http.MethodGet, "/healthz", "", "")
	if code != http.StatusOK || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %s", code, body)
	}
}

func TestServer_WebhookSignatures(t *testing.T) {
	ts := newTestServer(t, nil)
	form := smsForm("+8613800138000", "投诉 测试")
	tests := []struct {
		name string
		sig  string
		body string
		want int
	}{
		{"missing signature", "", form.Encode(), http.StatusForbidden},
		{"invalid signature", "bm90IGEgc2lnbmF0dXJl", form.Encode(), http.StatusForbidden},
		{"valid signature", twiliohttp.Sign(testAuthToken, ts.cfg.PublicURL+"/twilio/sms", form), form.Encode(), http.StatusOK},
		{"no params, signed", twiliohttp.Sign(testAuthToken, ts.cfg.PublicURL+"/twilio/sms", nil), "", http.StatusBadRequest},
		{"body over 64 KiB", "x", "Body=" + strings.Repeat("a", 70<<10), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, ts.http.URL+"/twilio/sms", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.sig != "" {
				req.Header.Set("X-Twilio-Signature", tc.sig)
			}
			if code, body := do(t, req); code != tc.want {
				t.Fatalf("status %d, want %d: %s", code, tc.want, body)
			}
		})
	}
	if code, _ := ts.post(t, "/twilio/ping", url.Values{"AccountSid": {testAccount}}); code != http.StatusOK {
		t.Errorf("signed ping: %d", code)
	}
	_, metrics := ts.api(t, http.MethodGet, "/metrics", "", "")
	if !strings.Contains(metrics, "hotline_webhook_signature_failures_total") {
		t.Error("signature failures not counted in /metrics")
	}
}

func TestServer_LocalModeAndGeneratedToken(t *testing.T) {
	ts := newTestServer(t, map[string]string{"TWILIO_AUTH_TOKEN": "", "HOTLINE_STAFF_TOKENS": ""})
	if ts.generatedToken == "" {
		t.Fatal("no staff token generated without HOTLINE_STAFF_TOKENS")
	}
	var announce bytes.Buffer
	ts.announce(ts.http.Listener.Addr(), &announce)
	if !strings.Contains(announce.String(), ts.generatedToken) || !strings.Contains(announce.String(), "/console") {
		t.Errorf("start-up message lacks the token or console address: %s", announce.String())
	}
	if !strings.Contains(ts.logs.String(), "LOCAL MODE") {
		t.Error("local mode not announced loudly")
	}
	// Unsigned, from loopback: accepted.
	form := smsForm("+8613800138000", "投诉 本地测试")
	req, _ := http.NewRequest(http.MethodPost, ts.http.URL+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	code, body := do(t, req)
	if code != http.StatusOK || !caseNumberRE.MatchString(messageText(t, body)) {
		t.Fatalf("local-mode sms: %d %s", code, body)
	}
	if code, _ := ts.api(t, http.MethodGet, "/api/v1/callbacks", ts.generatedToken, ""); code != http.StatusOK {
		t.Errorf("generated token refused: %d", code)
	}
}

// TestServer_SMSToStatusSMS is the round trip of the contract: a complaint
// by SMS gets its number in the reply, staff find it by any written form of
// the number, accept it, and the status SMS reaches Twilio's API.
func TestServer_SMSToStatusSMS(t *testing.T) {
	ts := newTestServer(t, nil)
	code, body := ts.post(t, "/twilio/sms", smsForm("+8613800138000", "投诉：某商场拒绝退货"))
	reply := messageText(t, body)
	number := caseNumberRE.FindString(reply)
	if code != http.StatusOK || number == "" || !caselog.Valid(number) {
		t.Fatalf("sms reply %d %q: want a case number", code, reply)
	}
	code, body = ts.api(t, http.MethodGet, "/api/v1/cases?caller="+url.QueryEscape("138 0013 8000"), testStaffToken, "")
	var list struct {
		Cases []caselog.Case `json:"cases"`
	}
	if json.Unmarshal([]byte(body), &list); code != http.StatusOK || len(list.Cases) != 1 || list.Cases[0].Number != number {
		t.Fatalf("look-up: %d %s", code, body)
	}
	code, body = ts.api(t, http.MethodPost, "/api/v1/cases/"+number+"/transitions", testStaffToken, `{"status":"accepted","note":"受理"}`)
	if code != http.StatusOK || !strings.Contains(body, `"accepted"`) {
		t.Fatalf("accept: %d %s", code, body)
	}
	if code, _ := ts.api(t, http.MethodPost, "/api/v1/cases/"+number+"/transitions", testStaffToken, `{"status":"resolved"}`); code != http.StatusConflict {
		t.Fatalf("accepted->resolved: %d, want 409", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var found bool
		for _, m := range ts.twilio.Messages() {
			if m.To == "+8613800138000" && strings.Contains(m.Body, number) {
				found = true
				if !strings.HasSuffix(m.StatusCallback, "/twilio/sms/status") {
					t.Errorf("status callback %q", m.StatusCallback)
				}
			}
		}
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status SMS never reached Twilio: %+v\n%s", ts.twilio.Messages(), ts.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServer_Backup(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.post(t, "/twilio/sms", smsForm("+8613800138000", "投诉 备份测试"))
	if code, _ := ts.api(t, http.MethodGet, "/admin/backup", "", ""); code != http.StatusUnauthorized {
		t.Errorf("backup without token: %d", code)
	}
	if code, _ := ts.api(t, http.MethodGet, "/admin/backup", testStaffToken, ""); code != http.StatusForbidden {
		t.Errorf("backup with a non-admin token: %d", code)
	}
	dest := filepath.Join(t.TempDir(), "copy.db")
	var out bytes.Buffer
	if err := cmdBackup(context.Background(), []string{"-url", ts.http.URL, "-token", testAdminToken, dest}, &out); err != nil {
		t.Fatal(err)
	}
	l, err := caselog.Open(dest, caselog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := l.ByCaller("13800138000", 0)
	l.Close()
	if err != nil || len(cs) != 1 {
		t.Fatalf("backup holds %d cases, %v", len(cs), err)
	}
	if err := cmdCheck([]string{dest}, &out); err != nil {
		t.Fatal(err)
	}
}

// TestServer_LogsMaskNumbers drives every channel and staff look-up and
// fails if any full phone number reaches the log.
func TestServer_LogsMaskNumbers(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.post(t, "/twilio/sms", smsForm("+8613800138000", "投诉 号码不应出现在日志"))
	ts.post(t, "/twilio/sms", smsForm("+8613800138000", "查询"))
	call := sid("CA")
	ts.post(t, "/twilio/voice", url.Values{"CallSid": {call}, "AccountSid": {testAccount}, "From": {"+8613900139000"}, "To": {"+8612315000"}, "CallStatus": {"ringing"}, "Direction": {"inbound"}})
	ts.post(t, "/twilio/voice/status", url.Values{"CallSid": {call}, "AccountSid": {testAccount}, "From": {"+8613900139000"}, "To": {"+8612315000"}, "CallStatus": {"completed"}, "CallDuration": {"42"}})
	ts.api(t, http.MethodGet, "/api/v1/cases?caller=13800138000", testStaffToken, "")
	ts.api(t, http.MethodGet, "/api/v1/cases?caller=13900139000", testStaffToken, "")
	logs := ts.logs.String()
	for _, full := range []string{"13800138000", "13900139000", testStaffToken, testAuthToken} {
		if strings.Contains(logs, full) {
			t.Errorf("log output contains %q:\n%s", full, logs)
		}
	}
	if !strings.Contains(logs, "+86138****8000") {
		t.Errorf("masked number not logged at all:\n%s", logs)
	}
}

func TestServer_PanicIsA500AndServingGoesOn(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.engine.GET("/test/panic", func(*gin.Context) { panic("boom") })
	if code, _ := ts.api(t, http.MethodGet, "/test/panic", "", ""); code != http.StatusInternalServerError {
		t.Fatalf("panic: %d", code)
	}
	if code, _ := ts.api(t, http.MethodGet, "/healthz", "", ""); code != http.StatusOK {
		t.Fatal("server stopped serving after a panic")
	}
	if !strings.Contains(ts.logs.String(), "handler panic") {
		t.Error("panic not logged")
	}
}

func TestServer_Metrics(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.post(t, "/twilio/sms", smsForm("+8613800138000", "投诉 指标测试"))
	ts.post(t, "/twilio/sms", smsForm("+8613800138000", "回拨"))
	req, _ := http.NewRequest(http.MethodPost, ts.http.URL+"/twilio/sms", strings.NewReader("a=b"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	do(t, req) // unsigned: a signature failure
	code, body := ts.api(t, http.MethodGet, "/metrics", "", "")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`hotline_http_request_duration_seconds_bucket{code="200",method="POST",route="/twilio/sms"`,
		`hotline_cases_created_total{channel="sms",kind="complaint"} 1`,
		`hotline_webhook_signature_failures_total{reason=`,
		`hotline_outbox_depth`,
		`hotline_callback_queue_depth 1`,
		`hotline_callback_oldest_age_seconds`,
		`hotline_cases_overdue 0`,
		`hotline_caselog_commits_total`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestCalendar checks the one working-day calendar the server builds from
// its configuration (the built-in 2026 arrangement), which sets deadlines
// and when key 0 rings staff.
func TestCalendar(t *testing.T) {
	t.Parallel()
	cfg, err := config.Load(func(string) string { return "" }, filepath.Join(t.TempDir(), "none.env"))
	if err != nil {
		t.Fatal(err)
	}
	cal := calendar(cfg)
	day := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 10, 0, 0, 0, cfg.Location) }
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"ordinary tuesday", day(time.March, 10), true},
		{"ordinary saturday", day(time.March, 14), false},
		{"ordinary sunday", day(time.March, 15), false},
		{"national day thursday", day(time.October, 1), false},
		{"spring festival monday", day(time.February, 16), false},
		{"make-up saturday", day(time.October, 10), true},
		{"make-up sunday", day(time.January, 4), true},
		{"friday evening UTC is saturday in Shanghai", time.Date(2026, 3, 13, 17, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		if got := cal.IsWorkday(tt.t); got != tt.want {
			t.Errorf("%s: IsWorkday(%v) = %v, want %v", tt.name, tt.t, got, tt.want)
		}
	}
}
