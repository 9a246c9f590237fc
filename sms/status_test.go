package sms

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
	"github.com/hotline/hotline/internal/twiliohttp"
)

const (
	statusPublic = "https://hotline.example.org"
	// The SIDs of the captured callbacks in internal/twiliohttp/testdata.
	statusSIDDelivered   = "SMaa00bb11cc22dd33ee44ff5566778899"
	statusSIDUndelivered = "SMbb11cc22dd33ee44ff5566778899aa00"
)

// statusForm reads a captured Twilio status callback body; the fixtures
// live with the form decoder they were captured for.
func statusForm(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "internal", "twiliohttp", "testdata", name+".form"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// statusSent puts a message in the outbox and settles it sent under sid,
// as the sender would have.
func statusSent(t testing.TB, l *caselog.Log, sid string) string {
	t.Helper()
	id := outEnqueue(t, l, caselog.Message{To: outTo, Body: outBody})
	err := l.Update(context.Background(), func(tx *caselog.Tx) error {
		if _, err := tx.ClaimDue(10, time.Minute); err != nil {
			return err
		}
		_, err := tx.Settle(id, caselog.SendOutcome{State: caselog.MsgSent, SID: sid})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// statusEngine is the webhook stack of production: the signature check,
// then the status route.
func statusEngine(l *caselog.Log, public string, logs *caselogtest.SyncBuffer) *gin.Engine {
	logger := slog.New(slog.NewTextHandler(logs, nil))
	e := gin.New()
	hooks := e.Group("", (&twiliohttp.Verifier{AuthToken: outToken, PublicURL: public, Logger: logger}).Middleware())
	RegisterStatus(hooks, l, logger)
	return e
}

func statusDeliveries(m caselog.Message) []string {
	var out []string
	for _, d := range m.Delivery {
		s := d.Status
		if d.ErrorCode != "" {
			s += "/" + d.ErrorCode
		}
		out = append(out, s)
	}
	return out
}

func TestStatusHandler_Handle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		sign string // "valid" (default), "none", "invalid"

		wantStatus    int
		wantDelivered []string // delivery history of the delivered-fixture message
		wantFailedMsg []string // and of the undelivered-fixture one
		wantState     string   // state of the message named in the body
		wantLog       string
	}{
		{name: "delivered", body: statusForm(t, "sms_status_delivered"),
			wantStatus: 200, wantDelivered: []string{"delivered"}, wantState: caselog.MsgDelivered},
		{name: "undelivered with error code", body: statusForm(t, "sms_status_failed"),
			wantStatus: 200, wantFailedMsg: []string{"undelivered/30003"}, wantState: caselog.MsgFailed, wantLog: "sms not delivered"},
		{name: "unknown message", body: strings.ReplaceAll(statusForm(t, "sms_status_delivered"), statusSIDDelivered, "SM00000000000000000000000000000000"),
			wantStatus: 200, wantLog: "sms status for an unknown message"},
		{name: "missing signature", body: statusForm(t, "sms_status_delivered"), sign: "none", wantStatus: 403},
		{name: "invalid signature", body: statusForm(t, "sms_status_delivered"), sign: "invalid", wantStatus: 403},
		{name: "no params", body: "", wantStatus: 400},
		{name: "no status", body: "MessageSid=" + statusSIDDelivered, wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, _ := caselogtest.Open(t, caselog.Options{Now: caselogtest.NewClock(time.Date(2026, 11, 26, 15, 12, 0, 0, caselogtest.Shanghai)).Now, NoSync: true})
			delivered := statusSent(t, l, statusSIDDelivered)
			undelivered := statusSent(t, l, statusSIDUndelivered)
			logs := &caselogtest.SyncBuffer{}
			e := statusEngine(l, statusPublic, logs)

			req := httptest.NewRequest(http.MethodPost, RouteSMSStatus, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = "203.0.113.7:40000" // not loopback: the signature decides
			form, err := url.ParseQuery(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			switch tt.sign {
			case "", "valid":
				req.Header.Set(twiliohttp.SignatureHeader, twiliohttp.Sign(outToken, statusPublic+RouteSMSStatus, form))
			case "invalid":
				req.Header.Set(twiliohttp.SignatureHeader, twiliohttp.Sign("0000000000000000ffffffffffffffff", statusPublic+RouteSMSStatus, form))
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, req)

			if w.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %q", w.Code, tt.wantStatus, w.Body.String())
			}
			if tt.wantStatus == 200 && !strings.Contains(w.Body.String(), "<Response") {
				t.Errorf("body %q, want empty TwiML", w.Body.String())
			}
			md, mu := outMessage(t, l, delivered), outMessage(t, l, undelivered)
			if got := statusDeliveries(md); !slices.Equal(got, tt.wantDelivered) {
				t.Errorf("delivered-fixture message history %v, want %v", got, tt.wantDelivered)
			}
			if got := statusDeliveries(mu); !slices.Equal(got, tt.wantFailedMsg) {
				t.Errorf("undelivered-fixture message history %v, want %v", got, tt.wantFailedMsg)
			}
			if tt.wantState != "" {
				m := md
				if tt.wantFailedMsg != nil {
					m = mu
				}
				if m.State != tt.wantState {
					t.Errorf("state %s, want %s", m.State, tt.wantState)
				}
			}
			if tt.wantLog != "" && !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
			if strings.Contains(logs.String(), outTo) {
				t.Errorf("a log line carries the unmasked number:\n%s", logs.String())
			}
		})
	}
}

// The whole loop: the sender sends through twilio-go to the double, the
// double posts signed status callbacks to the hotline's route, and every
// callback is kept in arrival order.
func TestStatusHandler_fromDouble(t *testing.T) {
	t.Parallel()
	f := outSetup(t)
	logs := &caselogtest.SyncBuffer{}
	var e *gin.Engine
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { e.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	e = statusEngine(f.log, srv.URL, logs)
	f.opts.StatusCallback = srv.URL + RouteSMSStatus
	f.sender = NewSender(f.opts)

	id := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: outBody})
	f.pass(t)
	sent := f.twilio.Messages()
	if len(sent) != 1 {
		t.Fatalf("double holds %d messages, want 1", len(sent))
	}
	ctx := context.Background()
	steps := []struct{ status, code string }{{"queued", ""}, {"sent", ""}, {"delivered", ""}, {"sent", ""}}
	for _, st := range steps {
		code, err := f.twilio.SendStatus(ctx, sent[0].SID, st.status, st.code)
		if err != nil || code != http.StatusOK {
			t.Fatalf("callback %s: %d %v, want 200", st.status, code, err)
		}
	}
	m := outMessage(t, f.log, id)
	if got, want := statusDeliveries(m), []string{"queued", "sent", "delivered", "sent"}; !slices.Equal(got, want) {
		t.Errorf("history %v, want %v", got, want)
	}
	if m.State != caselog.MsgDelivered {
		t.Errorf("state %s, want delivered (a late 'sent' does not undo it)", m.State)
	}
}
