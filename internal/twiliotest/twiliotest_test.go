package twiliotest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/client"
	twilioapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotline/hotline/internal/twiliohttp"
	"github.com/hotline/hotline/internal/twiliotest"
)

const (
	accountSID = "AC3f1b4c2d9e8a7b6c5d4e3f2a1b0c9d8e"
	authToken  = "9f3c1e2d4b5a69788796a5b4c3d2e1f0"
	from       = "+15017122661"
	to         = "+8613800138000"
)

// toDouble sends twilio-go's requests, addressed to api.twilio.com, to the
// double instead.
type toDouble struct{ base *url.URL }

func (t toDouble) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.URL.Scheme, r.URL.Host, r.Host = t.base.Scheme, t.base.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

// apiFor is twilio-go's Messages API pointed at the double, with the given
// credentials and request timeout.
func apiFor(t *testing.T, s *twiliotest.Server, sid, token string, timeout time.Duration) *twilioapi.ApiService {
	t.Helper()
	base, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := &client.Client{
		Credentials: client.NewCredentials(sid, token),
		HTTPClient:  &http.Client{Transport: toDouble{base}, Timeout: timeout},
	}
	c.SetAccountSid(sid)
	return twilioapi.NewApiServiceWithClient(c)
}

func params(body string) *twilioapi.CreateMessageParams {
	return (&twilioapi.CreateMessageParams{}).SetTo(to).SetFrom(from).SetBody(body).
		SetStatusCallback("https://hotline.example.org/twilio/sms/status")
}

var sidPattern = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

func TestServer_CreateMessage(t *testing.T) {
	t.Parallel()
	s := twiliotest.New(t, accountSID, authToken)
	api := apiFor(t, s, accountSID, authToken, 5*time.Second)
	body := "您的投诉已受理，编号 1234566。"
	msg, err := api.CreateMessage(params(body))
	if err != nil {
		t.Fatalf("CreateMessage: %v", err)
	}
	if msg.Sid == nil || !sidPattern.MatchString(*msg.Sid) {
		t.Fatalf("sid = %v, want SM + 32 hex", msg.Sid)
	}
	for name, got := range map[string]*string{"status": msg.Status, "to": msg.To, "from": msg.From, "body": msg.Body, "account_sid": msg.AccountSid, "direction": msg.Direction, "num_segments": msg.NumSegments} {
		want := map[string]string{"status": "queued", "to": to, "from": from, "body": body, "account_sid": accountSID, "direction": "outbound-api", "num_segments": "1"}[name]
		if got == nil || *got != want {
			t.Errorf("%s = %v, want %q", name, got, want)
		}
	}
	sent := s.Messages()
	if len(sent) != 1 {
		t.Fatalf("Messages() has %d, want 1", len(sent))
	}
	m := sent[0]
	if m.SID != *msg.Sid || m.To != to || m.From != from || m.Body != body ||
		m.StatusCallback != "https://hotline.example.org/twilio/sms/status" || m.At.IsZero() || m.Status != "queued" {
		t.Errorf("stored %+v", m)
	}
	if s.Attempts() != 1 {
		t.Errorf("Attempts() = %d, want 1", s.Attempts())
	}
	s.Reset()
	if len(s.Messages()) != 0 || s.Attempts() != 0 {
		t.Errorf("Reset left %d messages, %d attempts", len(s.Messages()), s.Attempts())
	}
}

func TestServer_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		sid, token string
		setup      func(*twiliotest.Server)
		body       string
		wantStatus int
		wantCode   int
		wantMsg    string
	}{
		{name: "wrong token", sid: accountSID, token: "0000000000000000ffffffffffffffff", wantStatus: 401, wantCode: 20003},
		{name: "other account", sid: "AC00000000000000000000000000000000", token: authToken, wantStatus: 401, wantCode: 20003},
		{name: "429", setup: func(s *twiliotest.Server) { s.FailNext(1, 429, 0, "") }, wantStatus: 429, wantCode: 20429, wantMsg: "Too Many Requests"},
		{name: "500", setup: func(s *twiliotest.Server) { s.FailNext(1, 500, 0, "") }, wantStatus: 500, wantCode: 20500},
		{name: "unsubscribed", setup: func(s *twiliotest.Server) {
			s.FailNext(1, 400, 21610, "Attempt to send to unsubscribed recipient")
		}, wantStatus: 400, wantCode: 21610, wantMsg: "Attempt to send to unsubscribed recipient"},
		{name: "no body", body: "-", wantStatus: 400, wantCode: 21602},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := twiliotest.New(t, accountSID, authToken)
			if tt.setup != nil {
				tt.setup(s)
			}
			sid, token := accountSID, authToken
			if tt.sid != "" {
				sid, token = tt.sid, tt.token
			}
			p := params("hello")
			if tt.body == "-" {
				p.Body = nil
			}
			_, err := apiFor(t, s, sid, token, 5*time.Second).CreateMessage(p)
			te, ok := errors.AsType[*client.TwilioRestError](err)
			if !ok {
				t.Fatalf("err = %v, want a *client.TwilioRestError", err)
			}
			if te.Status != tt.wantStatus || te.Code != tt.wantCode {
				t.Errorf("status %d code %d, want %d %d", te.Status, te.Code, tt.wantStatus, tt.wantCode)
			}
			if tt.wantMsg != "" && te.Message != tt.wantMsg {
				t.Errorf("message %q, want %q", te.Message, tt.wantMsg)
			}
			if te.MoreInfo == "" {
				t.Error("more_info empty")
			}
			if n := len(s.Messages()); n != 0 {
				t.Errorf("%d messages stored after a failure", n)
			}
			// A failure is used up: the next send goes through.
			if tt.setup != nil {
				if _, err := apiFor(t, s, sid, token, 5*time.Second).CreateMessage(params("again")); err != nil {
					t.Errorf("send after the failure: %v", err)
				}
			}
		})
	}
}

func TestServer_FailNext_queues(t *testing.T) {
	t.Parallel()
	s := twiliotest.New(t, accountSID, authToken)
	s.FailNext(1, 429, 0, "")
	s.FailNext(2, 503, 0, "")
	api := apiFor(t, s, accountSID, authToken, 5*time.Second)
	var got []int
	for range 4 {
		_, err := api.CreateMessage(params("x"))
		if te, ok := errors.AsType[*client.TwilioRestError](err); ok {
			got = append(got, te.Status)
		} else if err != nil {
			t.Fatal(err)
		} else {
			got = append(got, 201)
		}
	}
	if want := []int{429, 503, 503, 201}; !slices.Equal(got, want) {
		t.Errorf("statuses %v, want %v", got, want)
	}
	if s.Attempts() != 4 {
		t.Errorf("Attempts() = %d, want 4", s.Attempts())
	}
}

func TestServer_Hang(t *testing.T) {
	t.Parallel()
	s := twiliotest.New(t, accountSID, authToken)
	s.Hang(time.Minute)
	start := time.Now()
	_, err := apiFor(t, s, accountSID, authToken, 200*time.Millisecond).CreateMessage(params("x"))
	if err == nil {
		t.Fatal("a hanging double answered")
	}
	if _, ok := errors.AsType[*client.TwilioRestError](err); ok {
		t.Fatalf("err = %v, want a timeout, not a Twilio error", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timed out after %v", d)
	}
	if len(s.Messages()) != 0 || s.Attempts() != 1 {
		t.Errorf("after a timeout: %d messages, %d attempts; want 0, 1", len(s.Messages()), s.Attempts())
	}

	// A delay shorter than the client's patience only slows the answer.
	s.Hang(50 * time.Millisecond)
	if _, err := apiFor(t, s, accountSID, authToken, 5*time.Second).CreateMessage(params("x")); err != nil {
		t.Fatalf("short hang: %v", err)
	}
	s.Hang(0)
	if _, err := apiFor(t, s, accountSID, authToken, 5*time.Second).CreateMessage(params("y")); err != nil {
		t.Fatalf("after Hang(0): %v", err)
	}
	if len(s.Messages()) != 2 {
		t.Errorf("%d messages, want 2", len(s.Messages()))
	}
}

func TestServer_SendStatus(t *testing.T) {
	t.Parallel()
	var (
		mu  sync.Mutex
		got []url.Values
	)
	// The hotline's public URL is the test server's own, as in an
	// end-to-end run, so the verifier is built once the URL is known.
	var e *gin.Engine
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	v := &twiliohttp.Verifier{AuthToken: authToken, PublicURL: srv.URL}
	e = gin.New()
	e.POST("/twilio/sms/status", v.Middleware(), func(c *gin.Context) {
		mu.Lock()
		got = append(got, c.Request.PostForm)
		mu.Unlock()
		c.Status(http.StatusNoContent)
	})

	s := twiliotest.New(t, accountSID, authToken)
	msg, err := apiFor(t, s, accountSID, authToken, 5*time.Second).CreateMessage(
		(&twilioapi.CreateMessageParams{}).SetTo(to).SetFrom(from).SetBody("x").SetStatusCallback(srv.URL + "/twilio/sms/status"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, st := range []struct{ status, code string }{{"sent", ""}, {"undelivered", "30003"}} {
		code, err := s.SendStatus(ctx, *msg.Sid, st.status, st.code)
		if err != nil || code != http.StatusNoContent {
			t.Fatalf("SendStatus(%s) = %d, %v; want 204 (signature accepted)", st.status, code, err)
		}
	}
	if _, err := s.SendStatus(ctx, "SM00000000000000000000000000000000", "sent", ""); err == nil {
		t.Error("SendStatus for an unknown sid did not fail")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 {
		t.Fatalf("%d callbacks arrived, want 2", len(got))
	}
	if g := got[0]; g.Get("MessageSid") != *msg.Sid || g.Get("MessageStatus") != "sent" || g.Get("To") != to || g.Get("From") != from || g.Has("ErrorCode") {
		t.Errorf("first callback %v", g)
	}
	if g := got[1]; g.Get("MessageStatus") != "undelivered" || g.Get("ErrorCode") != "30003" || g.Get("AccountSid") != accountSID {
		t.Errorf("second callback %v", g)
	}
	if st := s.Messages()[0].Status; st != "undelivered" {
		t.Errorf("stored status %q, want undelivered", st)
	}
}
