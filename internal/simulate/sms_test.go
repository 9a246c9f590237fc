package simulate

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/hotline/hotline/internal/twiliohttp"
)

// smsParams is the parameter set Twilio posts for an incoming SMS (captured
// in internal/twiliohttp/testdata/sms_incoming.form).
var smsParams = []string{
	"AccountSid", "ApiVersion", "Body", "From", "FromCity", "FromCountry", "FromState", "FromZip",
	"MessageSid", "MessagingServiceSid", "NumMedia", "NumSegments", "SmsMessageSid", "SmsSid", "SmsStatus",
	"To", "ToCity", "ToCountry", "ToState", "ToZip",
}

var reMessageSid = regexp.MustCompile(`^SM[0-9a-f]{32}$`)

func TestSMS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		body      string
		segments  int
		answer    string
		status    int
		wantReply string
		wantErr   bool
	}{
		{"complaint answered", "投诉：某某电器城拒绝退还故障电水壶的货款", 1,
			`<?xml version="1.0" encoding="UTF-8"?><Response><Message>【消费者热线】已登记，案件编号1000017。</Message></Response>`,
			http.StatusOK, "【消费者热线】已登记，案件编号1000017。", false},
		{"message with body element", "STATUS 1000017", 1,
			`<Response><Message><Body>Case 1000017 is received.</Body></Message></Response>`,
			http.StatusOK, "Case 1000017 is received.", false},
		{"long text is two segments", "退款" + string(bytes.Repeat([]byte("商家一直拖延"), 12)), 2,
			`<Response/>`, http.StatusOK, "", false},
		{"server error shows status and body", "help", 1, "database is locked", http.StatusInternalServerError, "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got *http.Request
			r := gin.New()
			r.POST("/twilio/sms", (&twiliohttp.Verifier{AuthToken: testToken, PublicURL: testPublic}).Middleware(), func(c *gin.Context) {
				got = c.Request
				var f twiliohttp.SMSForm
				if err := twiliohttp.Decode(c.Request, &f); err != nil {
					c.String(http.StatusBadRequest, err.Error())
					return
				}
				c.Data(tc.status, "text/xml", []byte(tc.answer))
			})
			srv := httptest.NewServer(r)
			defer srv.Close()

			var out bytes.Buffer
			reply, err := SMS(context.Background(), Options{
				BaseURL: srv.URL, PublicURL: testPublic, AuthToken: testToken,
				From: "138 0013 8000", Out: &out, Client: srv.Client(),
			}, tc.body)
			if tc.wantErr {
				var se *ServerError
				if !errors.As(err, &se) || se.Status != tc.status || !bytes.Contains([]byte(err.Error()), []byte(tc.answer)) {
					t.Fatalf("err %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("sms: %v", err)
			}
			if reply != tc.wantReply {
				t.Errorf("reply %q, want %q", reply, tc.wantReply)
			}
			if !bytes.Contains(out.Bytes(), []byte(tc.body)) || (reply != "" && !bytes.Contains(out.Bytes(), []byte("← "+reply))) {
				t.Errorf("output:\n%s", out.String())
			}
			f := got.PostForm
			for _, k := range smsParams {
				if _, ok := f[k]; !ok {
					t.Errorf("no %s", k)
				}
			}
			if !reMessageSid.MatchString(f.Get("MessageSid")) || f.Get("SmsSid") != f.Get("MessageSid") || f.Get("SmsMessageSid") != f.Get("MessageSid") {
				t.Errorf("sids %q %q %q", f.Get("MessageSid"), f.Get("SmsSid"), f.Get("SmsMessageSid"))
			}
			if f.Get("From") != testE164 || f.Get("FromCountry") != "CN" || f.Get("To") != DefaultTo || f.Get("ToCountry") != "US" {
				t.Errorf("from %s %s to %s %s", f.Get("From"), f.Get("FromCountry"), f.Get("To"), f.Get("ToCountry"))
			}
			if f.Get("Body") != tc.body || f.Get("NumMedia") != "0" || f.Get("NumSegments") != itoa(tc.segments) || f.Get("MessagingServiceSid") != "" || f.Get("ApiVersion") != "2010-04-01" {
				t.Errorf("form %v", f)
			}
		})
	}
}

func TestSMS_WrongSignatureIsRefused(t *testing.T) {
	t.Parallel()
	r := gin.New()
	r.POST("/twilio/sms", (&twiliohttp.Verifier{AuthToken: testToken, PublicURL: testPublic}).Middleware(), func(c *gin.Context) {
		c.Data(http.StatusOK, "text/xml", []byte("<Response/>"))
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	// Signed over the wrong public URL: the server computes another one.
	_, err := SMS(context.Background(), Options{BaseURL: srv.URL, AuthToken: testToken, From: testFrom, Client: srv.Client()}, "帮助")
	var se *ServerError
	if !errors.As(err, &se) || se.Status != http.StatusForbidden {
		t.Fatalf("err %v, want 403", err)
	}
}

func itoa(n int) string { return string(rune('0' + n)) }
