package sms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/client"
	twilioapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/config"
	phonenum "github.com/hotline/hotline/internal/phone" // sms tests declare a const named phone
)

// OutboundSMS is one message handed to the carrier.
type OutboundSMS struct {
	To             string
	From           string
	Body           string
	StatusCallback string
}

// MessageAPI sends one SMS and returns the carrier's message SID. A carrier
// refusal is a *client.TwilioRestError (Status and Code say why); any other
// error (network, timeout, an unreadable answer) counts as transient.
type MessageAPI interface {
	SendSMS(ctx context.Context, m OutboundSMS) (sid string, err error)
}

// DefaultTwilioAPIURL is where twilio-go sends requests unless told otherwise.
const DefaultTwilioAPIURL = "https://api.twilio.com"

// NewTwilioAPI returns a MessageAPI over twilio-go's Messages API. baseURL
// replaces https://api.twilio.com (a proxy or a test double such as
// internal/twiliotest); "" keeps Twilio's. The context of each send bounds
// the request (twilio-go itself sends with context.Background, so the
// adapter carries it through its own transport).
func NewTwilioAPI(accountSID, authToken, baseURL string) MessageAPI {
	a := &twilioAPI{sid: accountSID, token: authToken, next: http.DefaultTransport}
	baseURL = strings.TrimRight(baseURL, "/")
	if baseURL != "" && baseURL != DefaultTwilioAPIURL {
		if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
			a.base = u
		}
	}
	return a
}

type twilioAPI struct {
	sid, token string
	base       *url.URL // nil: twilio-go's own host
	next       http.RoundTripper
}

// twilioBackstop bounds a request whose context has no deadline.
const twilioBackstop = time.Minute

func (a *twilioAPI) SendSMS(ctx context.Context, m OutboundSMS) (string, error) {
	rt := &twilioTransport{ctx: ctx, base: a.base, next: a.next}
	c := &client.Client{
		Credentials: client.NewCredentials(a.sid, a.token),
		HTTPClient: &http.Client{
			Transport:     rt,
			Timeout:       twilioBackstop,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(a.sid)
	params := (&twilioapi.CreateMessageParams{}).SetTo(m.To).SetFrom(m.From).SetBody(m.Body)
	if m.StatusCallback != "" {
		params.SetStatusCallback(m.StatusCallback)
	}
	msg, err := twilioapi.NewApiServiceWithClient(c).CreateMessage(params)
	if err != nil {
		if _, ok := errors.AsType[*client.TwilioRestError](err); ok {
			return "", err
		}
		if rt.status >= 200 && rt.status < 300 {
			// Twilio took the message and only its answer was garbled:
			// sending again would text the consumer twice.
			return "", nil
		}
		if rt.status >= 400 {
			// An error page that is not Twilio's JSON (a proxy's HTML).
			return "", &client.TwilioRestError{Status: rt.status, Message: "unreadable error response: " + err.Error()}
		}
		return "", err
	}
	if msg.Sid == nil {
		return "", nil
	}
	return *msg.Sid, nil
}

// twilioTransport gives twilio-go's request the caller's context, sends it
// to the configured base URL, and remembers the answer's status.
type twilioTransport struct {
	ctx    context.Context
	base   *url.URL
	next   http.RoundTripper
	status int
}

func (t *twilioTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	if t.base != nil {
		r.URL.Scheme, r.URL.Host = t.base.Scheme, t.base.Host
		r.URL.Path = strings.TrimRight(t.base.Path, "/") + req.URL.Path
		r.URL.RawPath = ""
		r.Host = ""
	}
	res, err := t.next.RoundTrip(r)
	if err == nil {
		t.status = res.StatusCode
	}
	return res, err
}

// SenderOptions configure a Sender. Zero values take the defaults noted.
type SenderOptions struct {
	Log *caselog.Log
	// Client sends the SMS; nil is local mode: every due message is logged
	// once, as it would have been sent, and settled skipped.
	Client MessageAPI
	From   string
	// StatusCallback is the public URL of /twilio/sms/status.
	StatusCallback string
	QuietHours     config.QuietHours
	Location       *time.Location // for quiet hours; default the Now's location
	Logger         *slog.Logger
	Now            func() time.Time // default the log's clock
	// Lease is how long a claimed message is ours before another pass (or
	// a restarted sender) may send it again; default 3 minutes. It must
	// outlast Batch sends of SendTimeout each.
	Lease time.Duration
	// Batch is how many messages one pass claims; default 10.
	Batch int
	// SendTimeout bounds one request to the carrier; default 15 seconds.
	SendTimeout time.Duration
	// PollInterval is the longest Run sleeps without a signal; default 1 minute.
	PollInterval time.Duration
	// MaxAttempts after which a message that keeps failing transiently is
	// marked failed with the last reason; default 72 (about 2.6 days at the
	// 1 h cap). Negative: never give up.
	MaxAttempts int
	// OnFailure, if set, is called for every failed attempt with a short
	// label: the Twilio error code ("21610", "20429"), "http_502",
	// "timeout" or "network" (a metrics hook).
	OnFailure func(code string)
}

// Sender moves due messages from the outbox to the carrier.
//
// Delivery is at least once, never twice for an acknowledged send: a
// message is claimed (marked sending until now+Lease) in one transaction,
// sent, and settled in the next. A message settled sent is never sent again.
// If the process dies after Twilio accepted a message but before the settle
// committed, the message is sent again once its lease ends: that window, one
// request long, is the only way a consumer gets a text twice.
//
// Retries: 429, 5xx, account-level refusals (bad credentials, unknown
// account: our configuration, not the message), network errors and timeouts
// are retried after 2 s, 4 s, 8 s … doubling to a 1 h cap, each ±20 %
// jitter. Other 4xx refusals (21610 unsubscribed, which also opts the number
// out, 21211 invalid number, 21614 not a mobile, 21408, 21612 …) fail the
// message at once with Twilio's reason.
type Sender struct {
	o   SenderOptions
	log *slog.Logger
}

// Sender defaults.
const (
	DefaultSenderLease       = 3 * time.Minute
	DefaultSenderBatch       = 10
	DefaultSendTimeout       = 15 * time.Second
	DefaultSenderPoll        = time.Minute
	DefaultSendMaxAttempts   = 72
	firstRetryDelay          = 2 * time.Second
	maxRetryDelay            = time.Hour
	retryJitter              = 0.2
	errLocalMode             = "local mode: not sent"
	errOptedOut              = "opted out"
	errNotMobile             = "number cannot take SMS"
	errQuietHours            = "quiet hours"
	errSenderStopped         = "sender stopped before sending"
	optOutSourceUnsubscribed = "twilio 21610"
)

// NewSender returns a sender; call Run to start it.
func NewSender(o SenderOptions) *Sender {
	if o.Now == nil {
		o.Now = o.Log.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Lease <= 0 {
		o.Lease = DefaultSenderLease
	}
	if o.Batch <= 0 {
		o.Batch = DefaultSenderBatch
	}
	if o.SendTimeout <= 0 {
		o.SendTimeout = DefaultSendTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultSenderPoll
	}
	if floor := time.Duration(o.Batch)*o.SendTimeout + 30*time.Second; o.Lease < floor {
		// A lease that ends mid-batch would let a restarted sender send a
		// message this one is about to send.
		o.Lease = floor
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultSendMaxAttempts
	}
	return &Sender{o: o, log: o.Logger.With("comp", "sms")}
}

// Run sends due messages until ctx ends. It wakes when the earliest message
// falls due, when a commit queues a new one, or every PollInterval. When ctx
// ends it finishes the send in flight, gives the rest of its batch back to
// the outbox, and returns nil. It returns an error only when the log fails
// (closed, or a write error).
func (s *Sender) Run(ctx context.Context) error {
	if s.o.Client == nil {
		s.log.Warn("sms sender in local mode: outbound SMS are logged, not sent")
	}
	for {
		n, err := s.SendDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, caselog.ErrClosed) {
				return err
			}
			s.log.Error("sms sender pass failed", "error", err)
		}
		if n >= s.o.Batch && err == nil {
			continue // more may be due right now
		}
		wait := s.o.PollInterval
		var next time.Time
		if s.o.Log.View(func(tx *caselog.Tx) error { next = tx.NextDue(); return nil }) == nil && !next.IsZero() {
			wait = min(wait, max(next.Sub(s.o.Now()), 0))
		}
		if err != nil {
			wait = max(wait, time.Second) // a failing log is not hammered
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-s.o.Log.OutboxSignal():
		case <-timer.C:
		}
		timer.Stop()
	}
}

// claimed is what the claiming transaction decided for one message.
type claimed struct {
	m      caselog.Message
	action string // "send", or the reason it was settled without a send
	until  time.Time
}

// SendDue claims the messages due now (at most Batch), settles those that
// must not be sent (opted out, not a mobile number, quiet hours, local
// mode), sends the rest one by one and settles each. It returns how many
// messages it claimed. If ctx ends between sends, the unsent rest go back to
// the outbox due at once and SendDue returns ctx's error.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	var batch []claimed
	err := s.o.Log.Update(ctx, func(tx *caselog.Tx) error {
		batch = batch[:0] // the function may run again after a batch rollback
		ms, err := tx.ClaimDue(s.o.Batch, s.o.Lease)
		if err != nil {
			return err
		}
		for _, m := range ms {
			c := claimed{m: m, action: "send"}
			var o caselog.SendOutcome
			switch {
			case tx.OptedOut(m.To):
				c.action, o = errOptedOut, caselog.SendOutcome{State: caselog.MsgSkipped, Error: errOptedOut, NoAttempt: true}
			case !phonenum.IsMobile(m.To):
				c.action, o = errNotMobile, caselog.SendOutcome{State: caselog.MsgSkipped, Error: errNotMobile, NoAttempt: true}
			case s.o.Client == nil:
				// Nobody receives it, so nothing waits for quiet hours: a
				// person trying the hotline at night still sees it at once.
				c.action, o = errLocalMode, caselog.SendOutcome{State: caselog.MsgSkipped, Error: errLocalMode, NoAttempt: true}
			case !m.Urgent && s.quiet(tx.Now(), &c.until):
				c.action, o = errQuietHours, caselog.SendOutcome{State: caselog.MsgPending, Error: errQuietHours, RetryAt: c.until, NoAttempt: true}
			}
			if c.action != "send" {
				if _, err := tx.Settle(m.ID, o); err != nil {
					return fmt.Errorf("settle message %s: %w", m.ID, err)
				}
			}
			batch = append(batch, c)
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		return 0, fmt.Errorf("claim due sms: %w", err)
	}

	for i, c := range batch {
		m := c.m
		attrs := []any{"message_id", m.ID, "to", phonenum.Mask(m.To), "case", m.Case}
		switch c.action {
		case "send":
			if ctx.Err() != nil {
				return len(batch), s.release(batch[i:])
			}
			if err := s.send(ctx, m, attrs); err != nil {
				return len(batch), err
			}
		case errLocalMode:
			// The only log line allowed a message body: in local mode no
			// consumer is involved.
			s.log.Info("sms not sent (local mode)", append(attrs, "urgent", m.Urgent, "body", m.Body)...)
		case errQuietHours:
			s.log.Info("sms deferred to the end of quiet hours", append(attrs, "until", c.until)...)
		default:
			s.log.Info("sms skipped", append(attrs, "reason", c.action)...)
		}
	}
	return len(batch), nil
}

// quiet reports whether t falls in quiet hours and sets *until to their end.
func (s *Sender) quiet(t time.Time, until *time.Time) bool {
	loc := s.o.Location
	if loc == nil {
		loc = t.Location()
	}
	end, ok := s.o.QuietHours.Until(t, loc)
	*until = end
	return ok
}

// send hands one message to the carrier and settles it. The send is not cut
// short when ctx ends (a request half made is the double-send window); only
// SendTimeout bounds it.
func (s *Sender) send(ctx context.Context, m caselog.Message, attrs []any) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.SendTimeout)
	sid, sendErr := s.o.Client.SendSMS(sctx, OutboundSMS{To: m.To, From: s.o.From, Body: m.Body, StatusCallback: s.o.StatusCallback})
	timedOut := sctx.Err() != nil
	cancel()

	now := s.o.Now()
	var o caselog.SendOutcome
	optOut := false
	attrs = append(attrs, "attempt", m.Attempts+1)
	if sendErr == nil {
		o = caselog.SendOutcome{State: caselog.MsgSent, SID: sid}
	} else {
		f := classifySendError(sendErr, timedOut)
		if s.o.OnFailure != nil {
			s.o.OnFailure(f.label)
		}
		switch {
		case f.permanent:
			o = caselog.SendOutcome{State: caselog.MsgFailed, Error: f.reason}
			optOut = f.code == 21610
		case s.o.MaxAttempts > 0 && m.Attempts+1 >= s.o.MaxAttempts:
			o = caselog.SendOutcome{State: caselog.MsgFailed, Error: fmt.Sprintf("gave up after %d attempts: %s", m.Attempts+1, f.reason)}
		default:
			o = caselog.SendOutcome{State: caselog.MsgPending, Error: f.reason, RetryAt: now.Add(RetryDelay(m.Attempts+1, rand.Float64()))}
		}
		attrs = append(attrs, "error", f.short)
	}
	err := s.o.Log.Update(context.WithoutCancel(ctx), func(tx *caselog.Tx) error {
		if optOut {
			if err := tx.SetOptOut(m.To, true, optOutSourceUnsubscribed); err != nil {
				return fmt.Errorf("opt out: %w", err)
			}
		}
		_, err := tx.Settle(m.ID, o)
		return err
	})
	if err != nil {
		// The message stays claimed; after the lease it is sent again.
		s.log.Error("sms settle failed", append(attrs, "state", o.State, "message_sid", o.SID, "settle_error", err)...)
		return fmt.Errorf("settle message %s: %w", m.ID, err)
	}
	switch o.State {
	case caselog.MsgSent:
		if sid == "" {
			s.log.Warn("sms accepted without a readable sid; its status callbacks cannot be matched", attrs...)
		} else {
			s.log.Info("sms sent", append(attrs, "message_sid", sid)...)
		}
	case caselog.MsgPending:
		s.log.Warn("sms send failed, will retry", append(attrs, "retry_at", o.RetryAt)...)
	default:
		s.log.Warn("sms send failed permanently", append(attrs, "opted_out", optOut)...)
	}
	return nil
}

// release gives claimed, unsent messages back to the outbox due at once, so
// that a restart does not wait for their lease.
func (s *Sender) release(rest []claimed) error {
	now := s.o.Now()
	err := s.o.Log.Update(context.Background(), func(tx *caselog.Tx) error {
		for _, c := range rest {
			if c.action != "send" {
				continue
			}
			if _, err := tx.Settle(c.m.ID, caselog.SendOutcome{State: caselog.MsgPending, Error: errSenderStopped, RetryAt: now, NoAttempt: true}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release unsent sms: %w", err)
	}
	return context.Canceled
}

// RetryDelay is the wait before retry number attempt (1 after the first
// failure): 2 s doubling to a 1 h cap, scaled by ±20 % jitter. u is a random
// number in [0, 1); 0.5 gives the plain schedule.
func RetryDelay(attempt int, u float64) time.Duration {
	d := maxRetryDelay
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 12 { // 2 s << 11 is already past the cap
		d = min(firstRetryDelay<<(attempt-1), maxRetryDelay)
	}
	return time.Duration(float64(d) * (1 + retryJitter*(2*u-1)))
}

// sendFailure is how one failed send is handled.
type sendFailure struct {
	permanent bool
	code      int    // Twilio error code, 0 if none
	label     string // for OnFailure
	reason    string // stored on the message (staff see it); may quote the number
	short     string // for logs: never a number or a body
}

// Twilio codes that say the request as a whole cannot go through now (our
// credentials, our account, our rate) rather than that this message is
// wrong: retried, so that a configuration slip does not fail every message.
var transientTwilioCodes = map[int]bool{
	14107: true, // SMS rate limit exceeded
	20003: true, // authentication failed
	20005: true, // account not active
	20404: true, // resource not found (wrong account or base URL)
	20429: true, // too many requests
	30001: true, // queue overflow
}

func classifySendError(err error, timedOut bool) sendFailure {
	if te, ok := errors.AsType[*client.TwilioRestError](err); ok {
		f := sendFailure{code: te.Code, label: "http_" + strconv.Itoa(te.Status), short: fmt.Sprintf("twilio HTTP %d", te.Status)}
		if te.Code != 0 {
			f.label = strconv.Itoa(te.Code)
			f.short = fmt.Sprintf("twilio %d (HTTP %d)", te.Code, te.Status)
		}
		f.reason = f.short + ": " + te.Message
		f.permanent = te.Status >= 400 && te.Status < 500 && te.Status != http.StatusTooManyRequests &&
			te.Status != http.StatusUnauthorized && !transientTwilioCodes[te.Code]
		return f
	}
	var ne net.Error
	if timedOut || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return sendFailure{label: "timeout", reason: "timeout: " + err.Error(), short: "timeout: " + err.Error()}
	}
	return sendFailure{label: "network", reason: "network: " + err.Error(), short: "network: " + err.Error()}
}
