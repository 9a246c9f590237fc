package twiliohttp

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/client"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

const (
	testToken  = "9f3c1e2d4b5a69788796a5b4c3d2e1f0"
	testPublic = "https://hotline.example.org"
)

func readForm(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name+".form"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// countingReader records how much of a body was read.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestVerifier_Middleware(t *testing.T) {
	t.Parallel()
	incoming := readForm(t, "voice_incoming")
	gather := readForm(t, "voice_gather")
	big := "CallSid=CA1&Pad=" + strings.Repeat("x", MaxBodyBytes) // over the limit
	exact := "CallSid=CA1&Pad=" + strings.Repeat("x", MaxBodyBytes-len("CallSid=CA1&Pad="))

	signed := Verifier{AuthToken: testToken, PublicURL: testPublic}
	local := Verifier{}

	tests := []struct {
		name     string
		v        Verifier
		target   string // the URL as the request reaches us
		body     string
		signURL  string // URL to sign with testToken; "" sends no signature
		signBody string // body to sign if not body
		sig      string // literal signature instead of signing
		remote   string // RemoteAddr; default 127.0.0.1:40000
		header   http.Header
		chunked  bool

		wantStatus  int
		wantBody    string // substring of the response body
		wantFailure string // reason passed to OnFailure; "" means not called
		wantUnread  bool   // the body must not have been read
	}{
		{
			name: "valid signature", v: signed,
			target: "/twilio/voice", body: incoming, signURL: testPublic + "/twilio/voice",
			wantStatus: 200, wantBody: "call=CA5e0d7c1b2a39485766554433221100ff",
		},
		{
			name: "valid signature from any address", v: signed, remote: "54.172.60.1:33512",
			target: "/twilio/voice", body: incoming, signURL: testPublic + "/twilio/voice",
			wantStatus: 200, wantBody: "call=CA5e0d7c1b2a39485766554433221100ff",
		},
		{
			name: "missing signature", v: signed,
			target: "/twilio/voice", body: incoming,
			wantStatus: 403, wantBody: "missing X-Twilio-Signature", wantFailure: ReasonMissingSignature, wantUnread: true,
		},
		{
			name: "invalid signature", v: signed,
			target: "/twilio/voice", body: incoming, sig: "vOEb5UThFn24KEfnOFLQY2AE5FY=",
			wantStatus: 403, wantBody: "invalid X-Twilio-Signature", wantFailure: ReasonInvalidSignature,
		},
		{
			name: "signed with another token", v: Verifier{AuthToken: "another-token-0000000000000000", PublicURL: testPublic},
			target: "/twilio/voice", body: incoming, signURL: testPublic + "/twilio/voice",
			wantStatus: 403, wantFailure: ReasonInvalidSignature,
		},
		{
			name: "tampered body", v: signed,
			target: "/twilio/voice", body: strings.Replace(gather, "Digits=1", "Digits=2", 1),
			signURL: testPublic + "/twilio/voice", signBody: gather,
			wantStatus: 403, wantFailure: ReasonInvalidSignature,
		},
		{
			name: "signed for another path", v: signed,
			target: "/twilio/sms", body: incoming, signURL: testPublic + "/twilio/voice",
			wantStatus: 403, wantFailure: ReasonInvalidSignature,
		},
		{
			name: "signature made with explicit :443", v: signed,
			target: "/twilio/voice", body: incoming, signURL: "https://hotline.example.org:443/twilio/voice",
			wantStatus: 200, wantBody: "call=CA5e0d7c1b2a39485766554433221100ff",
		},
		{
			name: "public URL with :443, signature without", v: Verifier{AuthToken: testToken, PublicURL: "https://hotline.example.org:443/"},
			target: "/twilio/voice", body: incoming, signURL: testPublic + "/twilio/voice",
			wantStatus: 200,
		},
		{
			name: "http signature made with explicit :80", v: Verifier{AuthToken: testToken, PublicURL: "http://hotline.example.org"},
			target: "/twilio/voice", body: incoming, signURL: "http://hotline.example.org:80/twilio/voice",
			wantStatus: 200,
		},
		{
			name: "behind TLS-terminating proxy", v: signed,
			target: "http://127.0.0.1:8080/twilio/voice", body: incoming, signURL: testPublic + "/twilio/voice",
			header:     http.Header{"X-Forwarded-Proto": {"https"}, "X-Forwarded-Host": {"hotline.example.org"}},
			wantStatus: 200, wantBody: "call=CA5e0d7c1b2a39485766554433221100ff",
		},
		{
			name: "signature over the internal URL", v: signed,
			target: "http://127.0.0.1:8080/twilio/voice", body: incoming, signURL: "http://127.0.0.1:8080/twilio/voice",
			wantStatus: 403, wantFailure: ReasonInvalidSignature,
		},
		{
			name: "query string in the URL", v: signed,
			target: "/twilio/voice/menu?node=root&lang=zh", body: gather, signURL: testPublic + "/twilio/voice/menu?node=root&lang=zh",
			wantStatus: 200, wantBody: "digits=1",
		},
		{
			name: "query string left out of the signature", v: signed,
			target: "/twilio/voice/menu?node=root&lang=zh", body: gather, signURL: testPublic + "/twilio/voice/menu",
			wantStatus: 403, wantFailure: ReasonInvalidSignature,
		},
		{
			name: "query string changed", v: signed,
			target: "/twilio/voice/menu?node=staff&lang=zh", body: gather, signURL: testPublic + "/twilio/voice/menu?node=root&lang=zh",
			wantStatus: 403, wantFailure: ReasonInvalidSignature,
		},
		{
			name: "no params", v: signed,
			target: "/twilio/voice", body: "", signURL: testPublic + "/twilio/voice",
			wantStatus: 200, wantBody: "params=0 call=",
		},
		{
			name: "no params, no signature", v: signed,
			target: "/twilio/voice", body: "",
			wantStatus: 403, wantFailure: ReasonMissingSignature,
		},
		{
			name: "body over 64 KiB", v: signed,
			target: "/twilio/voice", body: big, sig: "irrelevant",
			wantStatus: 413, wantBody: "request body too large", wantFailure: ReasonBodyTooLarge, wantUnread: true,
		},
		{
			name: "body over 64 KiB without Content-Length", v: signed, chunked: true,
			target: "/twilio/voice", body: big, sig: "irrelevant",
			wantStatus: 413, wantBody: "request body too large", wantFailure: ReasonBodyTooLarge,
		},
		{
			name: "body of exactly 64 KiB", v: signed,
			target: "/twilio/voice", body: exact, signURL: testPublic + "/twilio/voice",
			wantStatus: 200, wantBody: "params=2 call=CA1",
		},
		{
			name: "malformed form", v: signed,
			target: "/twilio/voice", body: "CallSid=%zz", sig: "irrelevant",
			wantStatus: 400, wantFailure: ReasonMalformedForm,
		},
		{
			name: "local mode from 127.0.0.1", v: local,
			target: "/twilio/voice", body: incoming,
			wantStatus: 200, wantBody: "call=CA5e0d7c1b2a39485766554433221100ff",
		},
		{
			name: "local mode from 127.8.9.10", v: local, remote: "127.8.9.10:5000",
			target: "/twilio/voice", body: incoming, wantStatus: 200,
		},
		{
			name: "local mode from ::1", v: local, remote: "[::1]:5000",
			target: "/twilio/voice", body: incoming, wantStatus: 200,
		},
		{
			name: "local mode from IPv4-mapped loopback", v: local, remote: "[::ffff:127.0.0.1]:5000",
			target: "/twilio/voice", body: incoming, wantStatus: 200,
		},
		{
			name: "local mode from 10.1.2.3", v: local, remote: "10.1.2.3:5000",
			target: "/twilio/voice", body: incoming,
			wantStatus: 403, wantBody: "local mode accepts webhooks only from loopback", wantFailure: ReasonNotLoopback, wantUnread: true,
		},
		{
			name: "local mode ignores forwarding headers", v: local, remote: "10.1.2.3:5000",
			header: http.Header{"X-Forwarded-For": {"127.0.0.1"}, "X-Real-Ip": {"127.0.0.1"}},
			target: "/twilio/voice", body: incoming,
			wantStatus: 403, wantFailure: ReasonNotLoopback,
		},
		{
			name: "local mode from a signed remote request", v: local, remote: "10.1.2.3:5000",
			target: "/twilio/voice", body: incoming, signURL: testPublic + "/twilio/voice",
			wantStatus: 403, wantFailure: ReasonNotLoopback,
		},
		{
			name: "local mode body limit", v: local,
			target: "/twilio/voice", body: big,
			wantStatus: 413, wantFailure: ReasonBodyTooLarge,
		},
		{
			name: "insecure mode accepts unsigned remote requests", v: Verifier{AuthToken: testToken, PublicURL: testPublic, Insecure: true},
			remote: "10.1.2.3:5000", target: "/twilio/voice", body: incoming,
			wantStatus: 200, wantBody: "call=CA5e0d7c1b2a39485766554433221100ff",
		},
		{
			name: "insecure mode accepts bad signatures", v: Verifier{AuthToken: testToken, PublicURL: testPublic, Insecure: true},
			remote: "10.1.2.3:5000", target: "/twilio/voice", body: incoming, sig: "bad",
			wantStatus: 200,
		},
		{
			name: "insecure mode without a token", v: Verifier{Insecure: true},
			remote: "10.1.2.3:5000", target: "/twilio/voice", body: incoming,
			wantStatus: 200,
		},
		{
			name: "insecure mode keeps the body limit", v: Verifier{Insecure: true},
			target: "/twilio/voice", body: big,
			wantStatus: 413, wantFailure: ReasonBodyTooLarge,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu       sync.Mutex
				failures []string
			)
			v := tt.v
			v.OnFailure = func(reason string) {
				mu.Lock()
				defer mu.Unlock()
				failures = append(failures, reason)
			}
			r := gin.New()
			r.Use(v.Middleware())
			echo := func(c *gin.Context) {
				// gin's own accessors must see the form the middleware parsed.
				c.String(http.StatusOK, "params=%d call=%s digits=%s", len(c.Request.PostForm), c.PostForm("CallSid"), c.PostForm("Digits"))
			}
			r.POST("/twilio/voice", echo)
			r.POST("/twilio/voice/menu", echo)
			r.POST("/twilio/sms", echo)

			body := &countingReader{r: strings.NewReader(tt.body)}
			req := httptest.NewRequest(http.MethodPost, tt.target, body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, vs := range tt.header {
				req.Header[k] = vs
			}
			req.ContentLength = int64(len(tt.body))
			if tt.chunked {
				req.ContentLength = -1
			}
			req.RemoteAddr = "127.0.0.1:40000"
			if tt.remote != "" {
				req.RemoteAddr = tt.remote
			}
			switch {
			case tt.sig != "":
				req.Header.Set(SignatureHeader, tt.sig)
			case tt.signURL != "":
				sb := tt.body
				if tt.signBody != "" {
					sb = tt.signBody
				}
				params, err := url.ParseQuery(sb)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set(SignatureHeader, Sign(testToken, tt.signURL, params))
			}

			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %q", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if !strings.Contains(rec.Body.String(), tt.wantBody) {
				t.Errorf("body = %q, want it to contain %q", rec.Body.String(), tt.wantBody)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case tt.wantFailure == "" && len(failures) > 0:
				t.Errorf("OnFailure called with %q", failures)
			case tt.wantFailure != "" && (len(failures) != 1 || failures[0] != tt.wantFailure):
				t.Errorf("OnFailure calls = %q, want [%q]", failures, tt.wantFailure)
			}
			if tt.wantUnread && body.n != 0 {
				t.Errorf("read %d body bytes before rejecting", body.n)
			}
		})
	}
}

func TestVerifier_Middleware_DecodeAfter(t *testing.T) {
	t.Parallel()
	v := &Verifier{AuthToken: testToken, PublicURL: testPublic + "/"}
	r := gin.New()
	r.POST("/twilio/sms", v.Middleware(), func(c *gin.Context) {
		var f SMSForm
		if err := Decode(c.Request, &f); err != nil {
			c.String(http.StatusBadRequest, "%v", err)
			return
		}
		c.String(http.StatusOK, "%s|%s|%d", f.MessageSid, f.Body, len(f.Media()))
	})
	body := readForm(t, "sms_mms")
	params, _ := url.ParseQuery(body)
	req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(SignatureHeader, Sign(testToken, testPublic+"/twilio/sms", params))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if want := "MM0a1b2c3d4e5f60718293a4b5c6d7e8f9|ADD 10000017 receipt and photo|2"; rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("got %d %q, want 200 %q", rec.Code, rec.Body.String(), want)
	}
}

func TestVerifier_Middleware_Logs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	v := &Verifier{AuthToken: testToken, PublicURL: testPublic, Logger: slogTo(&buf)}
	r := gin.New()
	r.POST("/twilio/sms", v.Middleware(), func(c *gin.Context) { c.Status(200) })
	body := readForm(t, "sms_incoming")
	req := httptest.NewRequest(http.MethodPost, "/twilio/sms", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(SignatureHeader, "bad")
	r.ServeHTTP(httptest.NewRecorder(), req)
	log := buf.String()
	if !strings.Contains(log, "reason=invalid_signature") {
		t.Errorf("log %q does not give the reason", log)
	}
	for _, secret := range []string{testToken, "8613800138000", "bad"} {
		if strings.Contains(log, secret) {
			t.Errorf("log %q contains %q", log, secret)
		}
	}
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func TestSign(t *testing.T) {
	t.Parallel()
	// The vector twilio-go's own tests use.
	vector := url.Values{
		"Digits": {"1234"}, "CallSid": {"CA1234567890ABCDE"}, "To": {"+18005551212"},
		"Caller": {"+14158675309"}, "From": {"+14158675309"},
		"ReasonConferenceEnded": {"test"}, "Reason": {"Participant"},
	}
	if got, want := Sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", vector), "vOEb5UThFn24KEfnOFLQY2AE5FY="; got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}

	sms, err := url.ParseQuery(readForm(t, "sms_incoming"))
	if err != nil {
		t.Fatal(err)
	}
	const u = testPublic + "/twilio/sms"
	tampered := func(k, v string) url.Values {
		c := url.Values{}
		for key, vs := range sms {
			c[key] = append([]string(nil), vs...)
		}
		c.Set(k, v)
		return c
	}
	tests := []struct {
		name     string
		token    string
		signURL  string
		signWith url.Values
		checkURL string
		check    url.Values
		want     bool
	}{
		{"round trip", testToken, u, sms, u, sms, true},
		{"no params", testToken, u, url.Values{}, u, url.Values{}, true},
		{"unicode body", testToken, u, tampered("Body", "查询 100000017"), u, tampered("Body", "查询 100000017"), true},
		{"tampered body", testToken, u, sms, u, tampered("Body", "STOP"), false},
		{"added param", testToken, u, sms, u, tampered("Extra", "1"), false},
		{"other URL", testToken, u, sms, testPublic + "/twilio/voice", sms, false},
		{"other token", "not-the-token", u, sms, u, sms, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sig := Sign(tt.token, tt.signURL, tt.signWith)
			rv := client.NewRequestValidator(testToken)
			if got := rv.Validate(tt.checkURL, firstValues(tt.check), sig); got != tt.want {
				t.Errorf("Validate = %v, want %v", got, tt.want)
			}
		})
	}
}
