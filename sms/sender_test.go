package sms

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
	"github.com/hotline/hotline/config"
	"github.com/hotline/hotline/internal/twiliotest"
)

const (
	outAccount  = "AC3f1b4c2d9e8a7b6c5d4e3f2a1b0c9d8e"
	outToken    = "9f3c1e2d4b5a69788796a5b4c3d2e1f0"
	outFrom     = "+15017122661"
	outTo       = "+8613800138000"
	outToMasked = "+86138****8000"
	outCallback = "https://hotline.example.org/twilio/sms/status"
	outBody     = "您的投诉 1234566 已受理。"
)

func outEnqueue(t testing.TB, l *caselog.Log, m caselog.Message) string {
	t.Helper()
	var id string
	err := l.Update(context.Background(), func(tx *caselog.Tx) error {
		got, err := tx.Enqueue(m)
		id = got.ID
		return err
	})
	if err != nil {
		t.Fatalf("enqueue: %v", err)
	}
	return id
}

func outMessage(t testing.TB, l *caselog.Log, id string) caselog.Message {
	t.Helper()
	var m caselog.Message
	if err := l.View(func(tx *caselog.Tx) (err error) { m, err = tx.Message(id); return err }); err != nil {
		t.Fatalf("read message %s: %v", id, err)
	}
	return m
}

func outOptedOut(t testing.TB, l *caselog.Log, n string) bool {
	t.Helper()
	var out bool
	l.View(func(tx *caselog.Tx) error { out = tx.OptedOut(n); return nil })
	return out
}

// outFixture is a sender wired to a fresh log and a fresh Twilio double.
type outFixture struct {
	clk      *caselogtest.Clock
	log      *caselog.Log
	path     string
	twilio   *twiliotest.Server
	logs     *caselogtest.SyncBuffer
	failures []string
	opts     SenderOptions
	sender   *Sender
}

// outSetup starts at 10:00 on a Monday in Shanghai, quiet hours off.
func outSetup(t *testing.T) *outFixture {
	t.Helper()
	f := &outFixture{
		clk:    caselogtest.NewClock(caselogtest.Monday10),
		twilio: twiliotest.New(t, outAccount, outToken),
		logs:   &caselogtest.SyncBuffer{},
	}
	f.log, f.path = caselogtest.Open(t, f.logOptions())
	var mu sync.Mutex
	f.opts = SenderOptions{
		Log:            f.log,
		Client:         NewTwilioAPI(outAccount, outToken, f.twilio.URL()),
		From:           outFrom,
		StatusCallback: outCallback,
		QuietHours:     config.QuietHours{Off: true},
		Location:       caselogtest.Shanghai,
		Logger:         slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:            f.clk.Now,
		SendTimeout:    300 * time.Millisecond,
		OnFailure: func(code string) {
			mu.Lock()
			f.failures = append(f.failures, code)
			mu.Unlock()
		},
	}
	f.sender = NewSender(f.opts)
	return f
}

// logOptions is how every process of a sender test opens the log,
// the first and each restart.
func (f *outFixture) logOptions() caselog.Options {
	return caselog.Options{Now: f.clk.Now, NoSync: true}
}

func (f *outFixture) pass(t *testing.T) int {
	t.Helper()
	n, err := f.sender.SendDue(context.Background())
	if err != nil {
		t.Fatalf("SendDue: %v", err)
	}
	return n
}

// private checks that no log line carries the whole number or the body.
func (f *outFixture) private(t *testing.T) {
	t.Helper()
	out := f.logs.String()
	if strings.Contains(out, outTo) || strings.Contains(out, strings.TrimPrefix(outTo, "+86")) {
		t.Errorf("a log line carries the unmasked number:\n%s", out)
	}
	if strings.Contains(out, outBody) {
		t.Errorf("a log line carries the message body:\n%s", out)
	}
}

func TestSender_SendDue_sends(t *testing.T) {
	t.Parallel()
	f := outSetup(t)
	id := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: outBody})
	if n := f.pass(t); n != 1 {
		t.Fatalf("pass handled %d, want 1", n)
	}
	sent := f.twilio.Messages()
	if len(sent) != 1 {
		t.Fatalf("double got %d messages, want 1", len(sent))
	}
	got := sent[0]
	if got.To != outTo || got.From != outFrom || got.Body != outBody || got.StatusCallback != outCallback {
		t.Errorf("double got %+v", got)
	}
	m := outMessage(t, f.log, id)
	if m.State != caselog.MsgSent || m.SID != got.SID || m.Attempts != 1 || m.Error != "" {
		t.Errorf("message after send: state %s sid %s attempts %d error %q; want sent %s 1", m.State, m.SID, m.Attempts, m.Error, got.SID)
	}
	// Nothing is sent twice, however long we wait.
	f.clk.Advance(24 * time.Hour)
	if n := f.pass(t); n != 0 || f.twilio.Attempts() != 1 {
		t.Errorf("second pass handled %d, double saw %d attempts; want 0, 1", n, f.twilio.Attempts())
	}
	if !strings.Contains(f.logs.String(), outToMasked) {
		t.Errorf("no masked number in the log:\n%s", f.logs.String())
	}
	f.private(t)
}

func TestSender_SendDue_failures(t *testing.T) {
	t.Parallel()
	type fail struct{ n, status, code int }
	tests := []struct {
		name  string
		fails []fail
		hang  bool // the first attempt times out

		wantState    string
		wantAttempts int
		wantError    string // substring of the stored reason
		wantOptOut   bool
		wantFailures []string
	}{
		{name: "429 then success", fails: []fail{{1, 429, 20429}},
			wantState: caselog.MsgSent, wantAttempts: 2, wantFailures: []string{"20429"}},
		{name: "500 three times then success", fails: []fail{{3, 500, 0}},
			wantState: caselog.MsgSent, wantAttempts: 4, wantFailures: []string{"20500", "20500", "20500"}},
		{name: "503 then success", fails: []fail{{1, 503, 0}},
			wantState: caselog.MsgSent, wantAttempts: 2, wantFailures: []string{"20503"}},
		{name: "timeout then success", hang: true,
			wantState: caselog.MsgSent, wantAttempts: 2, wantFailures: []string{"timeout"}},
		{name: "bad credentials are ours, retried", fails: []fail{{2, 401, 20003}},
			wantState: caselog.MsgSent, wantAttempts: 3, wantFailures: []string{"20003", "20003"}},
		{name: "21610 unsubscribed", fails: []fail{{1, 400, 21610}},
			wantState: caselog.MsgFailed, wantAttempts: 1, wantError: "twilio 21610", wantOptOut: true, wantFailures: []string{"21610"}},
		{name: "21211 invalid number", fails: []fail{{1, 400, 21211}},
			wantState: caselog.MsgFailed, wantAttempts: 1, wantError: "twilio 21211", wantFailures: []string{"21211"}},
		{name: "21614 not a mobile", fails: []fail{{1, 400, 21614}},
			wantState: caselog.MsgFailed, wantAttempts: 1, wantError: "twilio 21614", wantFailures: []string{"21614"}},
		{name: "21408 region not enabled", fails: []fail{{1, 403, 21408}},
			wantState: caselog.MsgFailed, wantAttempts: 1, wantError: "twilio 21408", wantFailures: []string{"21408"}},
		{name: "21612 cannot route", fails: []fail{{1, 400, 21612}},
			wantState: caselog.MsgFailed, wantAttempts: 1, wantError: "twilio 21612", wantFailures: []string{"21612"}},
		{name: "429 then 21610", fails: []fail{{1, 429, 20429}, {1, 400, 21610}},
			wantState: caselog.MsgFailed, wantAttempts: 2, wantError: "21610", wantOptOut: true, wantFailures: []string{"20429", "21610"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := outSetup(t)
			for _, fl := range tt.fails {
				f.twilio.FailNext(fl.n, fl.status, fl.code, "refused by the test")
			}
			if tt.hang {
				f.twilio.Hang(time.Minute)
			}
			id := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: outBody, Case: ""})

			for pass := 1; ; pass++ {
				if pass > 10 {
					t.Fatal("still pending after 10 passes")
				}
				start := f.clk.Now()
				f.pass(t)
				if tt.hang {
					f.twilio.Hang(0)
				}
				m := outMessage(t, f.log, id)
				if m.State != caselog.MsgPending {
					break
				}
				// Retry number m.Attempts waits RetryDelay ±20 %; the first
				// within a few seconds.
				wait := m.NextAt.Sub(start)
				plain := RetryDelay(m.Attempts, 0.5)
				if wait < plain*8/10 || wait > plain*12/10 {
					t.Errorf("attempt %d: retry in %v, want %v ±20%%", m.Attempts, wait, plain)
				}
				if m.Attempts == 1 && wait > 3*time.Second {
					t.Errorf("first retry in %v, want within a few seconds", wait)
				}
				// Not before its time.
				f.clk.Set(m.NextAt.Add(-time.Millisecond))
				if n := f.pass(t); n != 0 {
					t.Fatalf("a retry went out %v early", time.Millisecond)
				}
				f.clk.Set(m.NextAt)
			}
			m := outMessage(t, f.log, id)
			if m.State != tt.wantState || m.Attempts != tt.wantAttempts || !strings.Contains(m.Error, tt.wantError) {
				t.Errorf("message: state %s attempts %d error %q; want %s %d %q", m.State, m.Attempts, m.Error, tt.wantState, tt.wantAttempts, tt.wantError)
			}
			if got := outOptedOut(t, f.log, outTo); got != tt.wantOptOut {
				t.Errorf("opted out = %v, want %v", got, tt.wantOptOut)
			}
			if !slices.Equal(f.failures, tt.wantFailures) {
				t.Errorf("OnFailure saw %v, want %v", f.failures, tt.wantFailures)
			}
			wantSent := 0
			if tt.wantState == caselog.MsgSent {
				wantSent = 1
				if sent := f.twilio.Messages(); len(sent) != 1 || sent[0].SID != m.SID {
					t.Errorf("double holds %+v, want one message with sid %s", sent, m.SID)
				}
			}
			// Settled is settled: a failed message is never retried, a sent
			// one never repeated.
			attempts := f.twilio.Attempts()
			f.clk.Advance(48 * time.Hour)
			f.pass(t)
			if f.twilio.Attempts() != attempts || len(f.twilio.Messages()) != wantSent {
				t.Errorf("after settling: %d more attempts, %d messages", f.twilio.Attempts()-attempts, len(f.twilio.Messages()))
			}
			f.private(t)
		})
	}
}

func TestSender_SendDue_maxAttempts(t *testing.T) {
	t.Parallel()
	f := outSetup(t)
	f.opts.MaxAttempts = 3
	f.sender = NewSender(f.opts)
	f.twilio.FailNext(10, 500, 0, "")
	id := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: outBody})
	for range 3 {
		f.pass(t)
		f.clk.Advance(time.Hour + time.Minute)
	}
	m := outMessage(t, f.log, id)
	if m.State != caselog.MsgFailed || m.Attempts != 3 || !strings.Contains(m.Error, "gave up after 3 attempts") {
		t.Errorf("state %s attempts %d error %q; want failed 3 'gave up after 3 attempts'", m.State, m.Attempts, m.Error)
	}
}

func TestSender_SendDue_notSent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		to        string
		optOut    bool
		wantError string
	}{
		{name: "opted out", to: outTo, optOut: true, wantError: errOptedOut},
		{name: "opted out, written without +", to: "+86 138 0013 8000", optOut: true, wantError: errOptedOut},
		{name: "not E.164", to: "13800", wantError: errNotMobile},
		{name: "landline", to: "+861065529988", wantError: errNotMobile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := outSetup(t)
			if tt.optOut {
				if err := f.log.Update(context.Background(), func(tx *caselog.Tx) error {
					return tx.SetOptOut("13800138000", true, "test")
				}); err != nil {
					t.Fatal(err)
				}
			}
			id := outEnqueue(t, f.log, caselog.Message{To: tt.to, Body: outBody, Urgent: true})
			f.pass(t)
			m := outMessage(t, f.log, id)
			if m.State != caselog.MsgSkipped || m.Error != tt.wantError {
				t.Errorf("state %s error %q; want skipped %q", m.State, m.Error, tt.wantError)
			}
			if f.twilio.Attempts() != 0 {
				t.Errorf("the double saw %d attempts, want none", f.twilio.Attempts())
			}
			f.clk.Advance(48 * time.Hour)
			f.pass(t)
			if f.twilio.Attempts() != 0 {
				t.Errorf("a skipped message was sent later")
			}
		})
	}
}

func TestSender_SendDue_quietHours(t *testing.T) {
	t.Parallel()
	f := outSetup(t)
	f.opts.QuietHours = config.QuietHours{Start: 21 * 60, End: 8 * 60}
	f.sender = NewSender(f.opts)
	f.clk.Set(time.Date(2026, 11, 23, 22, 30, 0, 0, caselogtest.Shanghai))
	status := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: "status: accepted"})
	urgent := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: "case number", Urgent: true})

	f.pass(t)
	if sent := f.twilio.Messages(); len(sent) != 1 || sent[0].Body != "case number" {
		t.Fatalf("in quiet hours the double got %+v, want only the urgent message", sent)
	}
	if m := outMessage(t, f.log, urgent); m.State != caselog.MsgSent {
		t.Errorf("urgent message %s, want sent", m.State)
	}
	m := outMessage(t, f.log, status)
	morning := time.Date(2026, 11, 24, 8, 0, 0, 0, caselogtest.Shanghai)
	if m.State != caselog.MsgPending || !m.NextAt.Equal(morning) || m.Attempts != 0 {
		t.Errorf("status message: state %s next %v attempts %d; want pending until %v, no attempt", m.State, m.NextAt, m.Attempts, morning)
	}

	f.clk.Set(morning.Add(-time.Minute))
	f.pass(t)
	if len(f.twilio.Messages()) != 1 {
		t.Fatal("status message went out before quiet hours ended")
	}
	f.clk.Set(morning)
	f.pass(t)
	if sent := f.twilio.Messages(); len(sent) != 2 || sent[1].Body != "status: accepted" {
		t.Fatalf("after quiet hours the double holds %+v", sent)
	}
	if m := outMessage(t, f.log, status); m.State != caselog.MsgSent || m.Attempts != 1 {
		t.Errorf("status message %s after %d attempts, want sent after 1", m.State, m.Attempts)
	}
}

func TestSender_SendDue_localMode(t *testing.T) {
	t.Parallel()
	f := outSetup(t)
	f.opts.Client = nil
	f.sender = NewSender(f.opts)
	id := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: outBody, Case: ""})
	f.pass(t)
	f.clk.Advance(48 * time.Hour)
	f.pass(t)

	m := outMessage(t, f.log, id)
	if m.State != caselog.MsgSkipped || m.Error != "local mode: not sent" || m.SID != "" {
		t.Errorf("state %s error %q sid %q; want skipped 'local mode: not sent'", m.State, m.Error, m.SID)
	}
	out := f.logs.String()
	if c := strings.Count(out, "sms not sent (local mode)"); c != 1 {
		t.Errorf("local-mode line logged %d times, want once:\n%s", c, out)
	}
	if !strings.Contains(out, outToMasked) || !strings.Contains(out, outBody) {
		t.Errorf("local-mode line lacks the masked number or the body:\n%s", out)
	}
	if strings.Contains(out, outTo) {
		t.Errorf("local-mode line carries the unmasked number:\n%s", out)
	}
	if f.twilio.Attempts() != 0 {
		t.Error("local mode reached Twilio")
	}
}

// A restart in the middle of a retry sends the message exactly once: the
// failed attempt is remembered, the retry falls due after reopening, and a
// message settled sent stays sent.
func TestSender_restart(t *testing.T) {
	t.Parallel()
	f := outSetup(t)
	f.twilio.FailNext(1, 500, 0, "")
	retried := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: "retried"})
	f.pass(t)
	if m := outMessage(t, f.log, retried); m.State != caselog.MsgPending || m.Attempts != 1 {
		t.Fatalf("before restart: %s after %d attempts, want pending after 1", m.State, m.Attempts)
	}
	// A second message is claimed by a sender that dies before sending it.
	claimed := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: "claimed", Urgent: true})
	if err := f.log.Update(context.Background(), func(tx *caselog.Tx) error {
		ms, err := tx.ClaimDue(10, DefaultSenderLease)
		if len(ms) != 1 || ms[0].ID != claimed {
			t.Errorf("claimed %v, want message %s", ms, claimed)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := f.log.Close(); err != nil {
		t.Fatal(err)
	}

	for i, step := range []struct {
		advance time.Duration
		want    []string // bodies the double holds afterwards
	}{
		{0, nil},                                          // the retry is not due yet, the claim still leased
		{3 * time.Second, []string{"retried"}},            // the retry goes, once
		{time.Minute, []string{"retried"}},                // the dead sender's lease holds
		{3 * time.Minute, []string{"retried", "claimed"}}, // lease over: sent
		{48 * time.Hour, []string{"retried", "claimed"}},  // and never again
	} {
		// Each step is a new process: reopen the file, new sender.
		f.clk.Advance(step.advance)
		l := caselogtest.OpenAt(t, f.path, f.logOptions())
		opts := f.opts
		opts.Log = l
		if _, err := NewSender(opts).SendDue(context.Background()); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		var bodies []string
		for _, m := range f.twilio.Messages() {
			bodies = append(bodies, m.Body)
		}
		if !slices.Equal(bodies, step.want) {
			t.Fatalf("step %d: double holds %q, want %q", i, bodies, step.want)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	l := caselogtest.OpenAt(t, f.path, f.logOptions())
	for _, id := range []string{retried, claimed} {
		if m := outMessage(t, l, id); m.State != caselog.MsgSent || m.SID == "" {
			t.Errorf("message %s: %s sid %q, want sent", id, m.State, m.SID)
		}
	}
}

// Run wakes on a newly queued message, sends it, and returns after ctx ends.
func TestSender_Run(t *testing.T) {
	t.Parallel()
	f := outSetup(t)
	f.opts.Now = time.Now
	// A log on the real clock: Run sleeps in real time.
	l, _ := caselogtest.Open(t, caselog.Options{Now: time.Now, NoSync: true})
	f.opts.Log = l
	f.opts.PollInterval = time.Hour // only the signal can wake it in time
	s := NewSender(f.opts)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	outEnqueue(t, l, caselog.Message{To: outTo, Body: outBody})
	deadline := time.Now().Add(5 * time.Second)
	for len(f.twilio.Messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Run did not send a queued message within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if n := len(f.twilio.Messages()); n != 1 {
		t.Errorf("double holds %d messages, want 1", n)
	}
}

// A pass whose context ends between sends finishes the send in flight and
// gives the rest back, due at once.
func TestSender_SendDue_cancel(t *testing.T) {
	t.Parallel()
	f := outSetup(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.opts.Client = cancelAfterSend{MessageAPI: f.opts.Client, cancel: cancel}
	f.sender = NewSender(f.opts)
	a := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: "a"})
	b := outEnqueue(t, f.log, caselog.Message{To: outTo, Body: "b"})
	if _, err := f.sender.SendDue(ctx); err == nil {
		t.Error("SendDue after cancel returned nil")
	}
	if m := outMessage(t, f.log, a); m.State != caselog.MsgSent {
		t.Errorf("message in flight: %s, want sent", m.State)
	}
	mb := outMessage(t, f.log, b)
	if mb.State != caselog.MsgPending || mb.Attempts != 0 || mb.NextAt.After(f.clk.Now()) {
		t.Errorf("message not yet sent: %s attempts %d next %v; want pending now, no attempt", mb.State, mb.Attempts, mb.NextAt)
	}
	f.pass(t)
	if n := len(f.twilio.Messages()); n != 2 {
		t.Errorf("double holds %d messages, want 2", n)
	}
}

// cancelAfterSend ends the pass's context while a send is in flight.
type cancelAfterSend struct {
	MessageAPI
	cancel context.CancelFunc
}

func (c cancelAfterSend) SendSMS(ctx context.Context, m OutboundSMS) (string, error) {
	c.cancel()
	return c.MessageAPI.SendSMS(ctx, m)
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attempt int
		u       float64
		want    time.Duration
	}{
		{1, 0.5, 2 * time.Second},
		{1, 0, 1600 * time.Millisecond},
		{1, 1, 2400 * time.Millisecond},
		{2, 0.5, 4 * time.Second},
		{3, 0.5, 8 * time.Second},
		{6, 0.5, 64 * time.Second},
		{11, 0.5, 2048 * time.Second},
		{12, 0.5, time.Hour},
		{13, 0.5, time.Hour},
		{500, 0.5, time.Hour},
		{500, 1, 72 * time.Minute},
		{0, 0.5, 2 * time.Second},
	}
	for _, tt := range tests {
		if got := RetryDelay(tt.attempt, tt.u); got != tt.want {
			t.Errorf("RetryDelay(%d, %v) = %v, want %v", tt.attempt, tt.u, got, tt.want)
		}
	}
}
