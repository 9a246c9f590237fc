// Package simulate is a terminal phone for the hotline: it speaks Twilio's
// webhook protocol to a running server exactly as Twilio does, so a person
// can phone and text their own hotline without a Twilio account, and tests
// can drive the real webhooks end to end.
//
// # What the server sees
//
// Every request is a Twilio form post (or a GET with the parameters in the
// query when the TwiML asks for method="GET") with Twilio's full parameter
// set: AccountSid, a CallSid or MessageSid of Twilio's shape, From/To in
// E.164 with their countries, Caller/Called, CallStatus, Direction,
// ApiVersion. With [Options.AuthToken] set, each request carries the
// X-Twilio-Signature Twilio would compute over [Options.PublicURL] + path +
// query and the parameters, so a server that checks signatures admits it.
//
// # A call
//
// [Call] posts /twilio/voice and then follows the TwiML it gets back: every
// <Say> is printed with its language; at a <Gather> the phone prompts
// "keys> " and reads one line of keys from [Options.In] within the gather's
// timeout (no line in time, an empty line or the end of input is no input,
// as on a phone); at a <Record> it asks the caller to type what they would
// say; a <Dial> rings and nobody answers; <Redirect> and action URLs are
// followed with the method they name; the call ends at <Hangup>, <Reject> or
// a document with no more verbs, and the call status callback
// /twilio/voice/status is posted with CallStatus=completed.
//
// What a caller types at a <Record> stands for speech. Twilio delivers
// speech as a recording (whose URL the phone makes up, in Twilio's form) and,
// only when the <Record> asks for one with transcribeCallback, as a
// transcription. So the typed text reaches a case only through that
// transcription callback: a <Record> without transcribeCallback (our ivr
// asks for transcription in English only) leaves a case with the recording
// URL and no text, exactly as a real call would.
//
// The phone does not spend the time a <Say>, <Play>, <Pause> or <Dial> would
// take; only <Gather> and <Record> wait, for the caller.
//
// # Scripted input
//
// In may be a script rather than a terminal: one line per <Gather> or
// <Record>, an empty line for silence, and the end of input is silence from
// then on (answered at once, without waiting out the timeout), so a script
// runs the same every time. Lines read from a script are echoed to Out so
// that Out reads as a transcript.
package simulate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/hotline/hotline/internal/phone"
	"github.com/hotline/hotline/internal/twiliohttp"
	"github.com/hotline/hotline/sms"
)

// Options configure the phone. BaseURL and From are required.
type Options struct {
	// BaseURL is where the server listens, e.g. http://127.0.0.1:8080.
	BaseURL string
	// PublicURL is the base URL Twilio would call (HOTLINE_PUBLIC_URL):
	// signatures are computed over it. Default BaseURL.
	PublicURL string
	// AuthToken signs every request with X-Twilio-Signature when set
	// (TWILIO_AUTH_TOKEN). Without it the server must be in local mode.
	AuthToken string
	// AccountSID is posted as AccountSid; default a fixed simulator account.
	AccountSID string
	// From is the caller, in any written form (13800138000, +86 138…);
	// numbers without a country code are read in Region.
	From string
	// To is the hotline's number; default DefaultTo.
	To string
	// Region for From and To written without "+"; default "CN".
	Region string
	// Lang is the language the caller wants. When it is English and the
	// first menu names a key for English ("For English, please press 9."),
	// the phone presses that key before anything else, as the caller would.
	Lang string
	// In is the caller's keypad and voice (default: nothing, all silence);
	// Out is the phone's speaker (default: discarded).
	In  io.Reader
	Out io.Writer
	// Client makes the requests; default one with a 30 s timeout.
	Client *http.Client
	// Now is the phone's clock, for call durations and timestamps.
	Now func() time.Time
	// MaxRequests bounds the requests of one call, against a server that
	// redirects forever; default 200.
	MaxRequests int
}

// DefaultTo is the hotline number the phone calls when Options.To is empty.
const DefaultTo = "+15017122661"

// defaultAccountSID is a made-up account of Twilio's shape.
const defaultAccountSID = "AC5e1a7e0d0c0ffee00000000000012315"

func (o Options) withDefaults() (Options, error) {
	if o.BaseURL == "" {
		return o, errors.New("simulate: Options.BaseURL is required")
	}
	if _, err := url.Parse(o.BaseURL); err != nil {
		return o, fmt.Errorf("simulate: base URL: %w", err)
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	if o.PublicURL == "" {
		o.PublicURL = o.BaseURL
	}
	o.PublicURL = strings.TrimRight(o.PublicURL, "/")
	if o.AccountSID == "" {
		o.AccountSID = defaultAccountSID
	}
	if o.Region == "" {
		o.Region = "CN"
	}
	if o.To == "" {
		o.To = DefaultTo
	}
	if strings.TrimSpace(o.From) == "" {
		return o, errors.New("simulate: Options.From is required (the number you call from)")
	}
	from, err := phone.Normalize(o.From, o.Region)
	if err != nil {
		return o, fmt.Errorf("simulate: from number: %w", err)
	}
	to, err := phone.Normalize(o.To, o.Region)
	if err != nil {
		return o, fmt.Errorf("simulate: to number: %w", err)
	}
	o.From, o.To = from, to
	if o.In == nil {
		o.In = strings.NewReader("")
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxRequests <= 0 {
		o.MaxRequests = 200
	}
	return o, nil
}

// Exchange is one request the phone made and the server's answer.
type Exchange struct {
	Method string
	// URL is what Twilio would have requested (on PublicURL); Target is
	// where the request went (on BaseURL).
	URL, Target string
	Params      url.Values
	Signature   string // X-Twilio-Signature sent, "" without AuthToken
	Status      int
	Body        string
}

// Said is one <Say> the phone spoke.
type Said struct {
	Lang string
	Text string
}

// Transcript is what happened on a call, for tests and for the curious.
type Transcript struct {
	CallSid   string
	Exchanges []Exchange
	Said      []Said
	// Keys are the lines sent as Digits (or speech), in order.
	Keys []string
	// Recordings are the RecordingUrls the phone made up.
	Recordings []string
	// Status is the final CallStatus posted to the status callback.
	Status string
}

// SaidText joins every sentence spoken, one a line.
func (t Transcript) SaidText() string {
	var b strings.Builder
	for _, s := range t.Said {
		b.WriteString(s.Text)
		b.WriteByte('\n')
	}
	return b.String()
}

// ServerError is a non-2xx answer from the server.
type ServerError struct {
	Method, URL string
	Status      int
	Body        string
}

func (e *ServerError) Error() string {
	body := strings.TrimSpace(e.Body)
	if len(body) > 500 {
		body = body[:500] + "…"
	}
	return fmt.Sprintf("%s %s: server answered %d %s: %s", e.Method, e.URL, e.Status, http.StatusText(e.Status), body)
}

// client holds what every request of one call or message shares.
type client struct {
	o  Options
	tr *Transcript
}

// target maps a URL Twilio would request onto the server we talk to.
func (c *client) target(public string) string {
	if rest, ok := strings.CutPrefix(public, c.o.PublicURL); ok && (rest == "" || rest[0] == '/' || rest[0] == '?') {
		return c.o.BaseURL + rest
	}
	return public
}

// do sends one webhook as Twilio would: params in a form body (POST) or in
// the query (GET), signed over the public URL.
func (c *client) do(ctx context.Context, method, public string, params url.Values) ([]byte, error) {
	method = strings.ToUpper(strings.TrimSpace(method))
	if method == "" {
		method = http.MethodPost
	}
	if method != http.MethodPost && method != http.MethodGet {
		return nil, fmt.Errorf("%s %s: Twilio requests only with GET or POST", method, public)
	}
	signed, signParams := public, params
	var body io.Reader
	if method == http.MethodGet {
		u, err := url.Parse(public)
		if err != nil {
			return nil, fmt.Errorf("url %q: %w", public, err)
		}
		q := u.Query()
		for k, vs := range params {
			q[k] = append(q[k], vs...)
		}
		u.RawQuery = q.Encode()
		signed, signParams = u.String(), nil
	} else {
		body = strings.NewReader(params.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, c.target(signed), body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, public, err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	req.Header.Set("Accept", "*/*")
	ex := Exchange{Method: method, URL: signed, Target: req.URL.String(), Params: params}
	if c.o.AuthToken != "" {
		ex.Signature = twiliohttp.Sign(c.o.AuthToken, signed, signParams)
		req.Header.Set(twiliohttp.SignatureHeader, ex.Signature)
	}
	resp, err := c.o.Client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%s %s: %w (is the server running? start it with `go run ./cmd/hotline serve`)", method, req.URL, err)
		}
		return nil, fmt.Errorf("%s %s: %w", method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("%s %s: read answer: %w", method, req.URL, err)
	}
	ex.Status, ex.Body = resp.StatusCode, string(b)
	if c.tr != nil {
		c.tr.Exchanges = append(c.tr.Exchanges, ex)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &ServerError{Method: method, URL: req.URL.String(), Status: resp.StatusCode, Body: string(b)}
	}
	return b, nil
}

// sid makes a Twilio identifier: two letters and 32 hex digits.
func sid(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b) // never fails (crypto/rand)
	return prefix + hex.EncodeToString(b)
}

// country is the ISO region of an E.164 number, as Twilio's *Country fields.
func country(e164 string) string {
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(n)
}

// place adds Twilio's geographic fields for a number under prefix (From,
// To, Caller, Called). Twilio leaves city, state and zip empty for numbers
// outside North America; it sends them anyway.
func place(p url.Values, prefix, e164 string) {
	p.Set(prefix, e164)
	p.Set(prefix+"City", "")
	p.Set(prefix+"State", "")
	p.Set(prefix+"Zip", "")
	p.Set(prefix+"Country", country(e164))
}

// SMS sends one text message to the hotline as Twilio delivers it (POST
// /twilio/sms) and returns the text of the <Message> replies, which it also
// prints. An empty <Response/> is no reply.
func SMS(ctx context.Context, o Options, body string) (reply string, err error) {
	o, err = o.withDefaults()
	if err != nil {
		return "", err
	}
	msid := sid("SM")
	segments, _ := sms.Segments(body)
	p := url.Values{}
	place(p, "From", o.From)
	place(p, "To", o.To)
	p.Set("MessageSid", msid)
	p.Set("SmsSid", msid)
	p.Set("SmsMessageSid", msid)
	p.Set("AccountSid", o.AccountSID)
	p.Set("MessagingServiceSid", "")
	p.Set("SmsStatus", "received")
	p.Set("Body", body)
	p.Set("NumMedia", "0")
	p.Set("NumSegments", strconv.Itoa(max(segments, 1)))
	p.Set("ReferralNumMedia", "0")
	p.Set("ApiVersion", "2010-04-01")
	fmt.Fprintf(o.Out, "→ %s to %s: %s\n", o.From, o.To, body)
	c := &client{o: o}
	b, err := c.do(ctx, http.MethodPost, o.PublicURL+"/twilio/sms", p)
	if err != nil {
		return "", err
	}
	reply, err = messages(b)
	if err != nil {
		return "", fmt.Errorf("reply to SMS: %w", err)
	}
	if reply == "" {
		fmt.Fprintln(o.Out, "← (no reply)")
	} else {
		fmt.Fprintf(o.Out, "← %s\n", reply)
	}
	return reply, nil
}

// messages returns the text of every <Message> in a messaging TwiML reply
// (a <Message> may hold its text directly or in a <Body>), one a line.
func messages(b []byte) (string, error) {
	verbs, err := parseResponse(b)
	if err != nil {
		return "", err
	}
	var out []string
	for _, v := range verbs {
		if v.XMLName.Local != "Message" {
			continue
		}
		var text bytes.Buffer
		text.WriteString(v.text())
		for _, ch := range v.Children {
			if ch.XMLName.Local == "Body" {
				text.WriteString(ch.text())
			}
		}
		out = append(out, text.String())
	}
	return strings.Join(out, "\n"), nil
}

// interactive reports whether r is a terminal, where the person sees their
// own typing; a script's lines are echoed instead.
func interactive(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
