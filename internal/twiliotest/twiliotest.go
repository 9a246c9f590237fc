// Package twiliotest is a stand-in for Twilio's REST Messages API on
// loopback, for tests of any package and for end-to-end runs: point
// TWILIO_API_URL (or sms.NewTwilioAPI's base URL) at [Server.URL].
//
// It answers POST /2010-04-01/Accounts/{AccountSid}/Messages.json as Twilio
// does: Basic auth with the account SID and auth token, a form body as
// twilio-go sends it, 201 with the message resource in JSON (sid "SM" + 32
// hex digits, status "queued"), or Twilio's error JSON
// ({"code":21610,"message":…,"more_info":…,"status":400}). Tests make it fail
// on demand ([Server.FailNext]), answer late ([Server.Hang]) and post the
// status callbacks Twilio would post ([Server.SendStatus]), signed like
// Twilio signs them.
package twiliotest

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotline/hotline/internal/twiliohttp"
)

// Sent is one message the double accepted.
type Sent struct {
	SID            string
	To             string
	From           string
	Body           string
	StatusCallback string
	At             time.Time
	// Status is "queued", then whatever the last SendStatus reported.
	Status string
}

// failure is one queued FailNext answer.
type failure struct {
	status  int
	code    int
	message string
}

// Server is the double. It is safe for concurrent use.
type Server struct {
	srv        *httptest.Server
	accountSID string
	authToken  string
	closed     chan struct{}

	mu       sync.Mutex
	sent     []Sent
	fails    []failure
	hang     time.Duration
	attempts int
}

// New starts a double that accepts accountSID and authToken, and stops it
// when the test ends. The credentials must be what twilio-go accepts
// (letters and digits).
func New(t testing.TB, accountSID, authToken string) *Server {
	t.Helper()
	s := &Server{accountSID: accountSID, authToken: authToken, closed: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(func() {
		close(s.closed) // release hanging requests so Close does not wait for them
		s.srv.Close()
	})
	return s
}

// URL is the base URL to give the client in place of https://api.twilio.com.
func (s *Server) URL() string { return s.srv.URL }

// Messages returns a copy of the messages accepted so far, in order.
func (s *Server) Messages() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Sent, len(s.sent))
	copy(out, s.sent)
	return out
}

// Attempts counts authenticated create requests, accepted or failed
// (including those that hung until the client gave up).
func (s *Server) Attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// FailNext makes the next n create requests fail with the HTTP status and
// Twilio error code given, after the ones already queued. code 0 picks the
// code Twilio uses for the status (20429, 20500, 20503…); message "" a
// generic one. The message is not stored.
func (s *Server) FailNext(n int, status int, code int, message string) {
	if code == 0 {
		code = 20000 + status
	}
	if message == "" {
		message = http.StatusText(status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fails = append(s.fails, failure{status: status, code: code, message: message})
	}
}

// Hang delays every answer by d until Hang(0) or Reset. A client that gives
// up first leaves nothing stored: the double models a request that never
// reached Twilio, not one whose answer was lost.
func (s *Server) Hang(d time.Duration) {
	s.mu.Lock()
	s.hang = d
	s.mu.Unlock()
}

// Reset forgets messages, queued failures, the delay and the attempt count.
func (s *Server) Reset() {
	s.mu.Lock()
	s.sent, s.fails, s.hang, s.attempts = nil, nil, 0, 0
	s.mu.Unlock()
}

// SendStatus posts a message status callback for the accepted message sid
// to its StatusCallback URL, signed with the auth token over that URL as
// Twilio signs it, and returns the HTTP status of the answer. errorCode is
// Twilio's numeric error as text ("30003"), or "" for none.
func (s *Server) SendStatus(ctx context.Context, sid, status, errorCode string) (int, error) {
	s.mu.Lock()
	i := s.indexLocked(sid)
	var m Sent
	if i >= 0 {
		s.sent[i].Status = status
		m = s.sent[i]
	}
	s.mu.Unlock()
	if i < 0 {
		return 0, fmt.Errorf("twiliotest: no message %s", sid)
	}
	if m.StatusCallback == "" {
		return 0, fmt.Errorf("twiliotest: message %s has no StatusCallback", sid)
	}
	form := url.Values{
		"AccountSid":    {s.accountSID},
		"ApiVersion":    {"2010-04-01"},
		"From":          {m.From},
		"To":            {m.To},
		"MessageSid":    {sid},
		"SmsSid":        {sid},
		"MessageStatus": {status},
		"SmsStatus":     {status},
	}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.StatusCallback, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, fmt.Errorf("twiliotest: status callback: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(twiliohttp.SignatureHeader, twiliohttp.Sign(s.authToken, m.StatusCallback, form))
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("twiliotest: status callback: %w", err)
	}
	res.Body.Close()
	return res.StatusCode, nil
}

func (s *Server) indexLocked(sid string) int {
	for i := range s.sent {
		if s.sent[i].SID == sid {
			return i
		}
	}
	return -1
}

// restError is Twilio's error body.
type restError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

func writeError(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(restError{
		Code: code, Message: message, Status: status,
		MoreInfo: "https://www.twilio.com/docs/errors/" + strconv.Itoa(code),
	})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(user), []byte(s.accountSID)) != 1 ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(s.authToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="Twilio API"`)
		writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/2010-04-01/Accounts/")
	account, resource, _ := strings.Cut(rest, "/")
	if !ok || resource != "Messages.json" {
		writeError(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if account != s.accountSID {
		writeError(w, http.StatusForbidden, 20003, "Authenticate")
		return
	}
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		writeError(w, http.StatusBadRequest, 20001, "Unsupported content type "+ct)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 20001, "Malformed form body")
		return
	}

	s.mu.Lock()
	s.attempts++
	hang := s.hang
	var fail *failure
	if len(s.fails) > 0 {
		f := s.fails[0]
		s.fails = s.fails[1:]
		fail = &f
	}
	s.mu.Unlock()

	if hang > 0 {
		t := time.NewTimer(hang)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return // the client gave up: nothing stored
		case <-s.closed:
			return
		}
	}
	if fail != nil {
		writeError(w, fail.status, fail.code, fail.message)
		return
	}

	f := r.PostForm
	to, from, body := f.Get("To"), f.Get("From"), f.Get("Body")
	switch {
	case to == "":
		writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case from == "" && f.Get("MessagingServiceSid") == "":
		writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case body == "" && f.Get("MediaUrl") == "" && f.Get("ContentSid") == "":
		writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case utf8.RuneCountInString(body) > 1600:
		writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}

	now := time.Now().UTC()
	m := Sent{SID: newSID(), To: to, From: from, Body: body, StatusCallback: f.Get("StatusCallback"), At: now, Status: "queued"}
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.mu.Unlock()

	uri := "/2010-04-01/Accounts/" + s.accountSID + "/Messages/" + m.SID
	date := now.Format(time.RFC1123Z)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{
		"account_sid":           s.accountSID,
		"api_version":           "2010-04-01",
		"body":                  body,
		"date_created":          date,
		"date_sent":             nil,
		"date_updated":          date,
		"direction":             "outbound-api",
		"error_code":            nil,
		"error_message":         nil,
		"from":                  from,
		"messaging_service_sid": nil,
		"num_media":             "0",
		"num_segments":          strconv.Itoa(segments(body)),
		"price":                 nil,
		"price_unit":            "USD",
		"sid":                   m.SID,
		"status":                "queued",
		"subresource_uris":      map[string]string{"media": uri + "/Media.json"},
		"to":                    to,
		"uri":                   uri + ".json",
	})
}

// newSID is a message SID as Twilio writes them: "SM" and 32 hex digits.
func newSID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "SM" + hex.EncodeToString(b)
}

// segments estimates the SMS segments a body takes: GSM-7 when it is plain
// ASCII (160 alone, 153 a segment when split), UCS-2 otherwise (70, 67).
// Good enough for a double; the real count lives in package sms.
func segments(body string) int {
	ascii := true
	units := 0
	for _, r := range body {
		if r >= 0x80 {
			ascii = false
		}
		units++
		if r > 0xFFFF {
			units++
		}
	}
	single, multi := 70, 67
	if ascii {
		single, multi = 160, 153
	}
	if units <= single {
		return 1
	}
	return (units + multi - 1) / multi
}
