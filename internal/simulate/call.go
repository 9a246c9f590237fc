package simulate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Twilio's defaults for attributes a verb leaves out.
const (
	defaultGatherTimeout = 5    // seconds
	defaultMaxLength     = 3600 // seconds a <Record> may last
	defaultRecordFinish  = "1234567890*#"
	defaultFinishOnKey   = "#"
)

// Call phones the hotline and follows its TwiML until the call ends, then
// posts the call status callback. The transcript holds every request and
// answer even when Call fails. A non-2xx answer is an error that names the
// status and body; as Twilio does, the phone then hangs up and still posts
// the status callback, so the server can close the call.
func Call(ctx context.Context, o Options) (Transcript, error) {
	o, err := o.withDefaults()
	if err != nil {
		return Transcript{}, err
	}
	tr := Transcript{CallSid: sid("CA")}
	c := &call{
		client:  &client{o: o, tr: &tr},
		started: o.Now(),
		in:      &lines{r: bufio.NewReader(o.In), res: make(chan lineResult, 1)},
		echo:    !interactive(o.In),
		status:  "ringing",
	}
	fmt.Fprintf(o.Out, "☎ %s calling %s (%s)\n", o.From, o.To, tr.CallSid)
	incoming := o.PublicURL + "/twilio/voice"
	d, err := c.fetch(ctx, http.MethodPost, incoming, incoming, nil)
	if err != nil {
		return tr, err // the call never connected: nothing to end
	}
	for d != nil && err == nil {
		d, err = c.run(ctx, d)
	}
	end := c.endStatus
	if end == "" {
		end = "completed"
	}
	var se *ServerError
	switch {
	case errors.As(err, &se):
		fmt.Fprintln(o.Out, "(Twilio: “We are sorry, an application error has occurred.” — hangs up)")
	case ctx.Err() != nil:
		fmt.Fprintln(o.Out, "(you hung up)")
	case err != nil:
		return tr, err // the server cannot be reached: nothing to tell it
	}
	// A caller who hung up (ctx cancelled) still ends the call at the
	// server, as Twilio reports every call's end.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := c.finish(sctx, end); serr != nil {
		return tr, errors.Join(err, serr)
	}
	if err == nil {
		err = ctx.Err()
	}
	return tr, err
}

// call is one call in progress.
type call struct {
	*client
	started   time.Time
	in        *lines
	echo      bool   // print what was read (a script, not a terminal)
	status    string // CallStatus of the next request
	endStatus string // set by <Reject>
	requests  int
	langTried bool
}

// doc is a TwiML document and the URL it came from, against which its
// relative URLs resolve.
type doc struct {
	url   string
	verbs []verb
}

// params is the parameter set Twilio sends with every voice request of a
// call (Caller and Called are Twilio's older names for From and To).
func (c *call) params() url.Values {
	p := url.Values{}
	p.Set("AccountSid", c.o.AccountSID)
	p.Set("ApiVersion", "2010-04-01")
	p.Set("CallSid", c.tr.CallSid)
	p.Set("CallStatus", c.status)
	p.Set("Direction", "inbound")
	p.Set("CallerName", "")
	p.Set("ForwardedFrom", "")
	place(p, "From", c.o.From)
	place(p, "Caller", c.o.From)
	place(p, "To", c.o.To)
	place(p, "Called", c.o.To)
	return p
}

// fetch requests the next TwiML document: ref resolved against the URL of
// the current one, with the call's parameters and extra.
func (c *call) fetch(ctx context.Context, method, ref, base string, extra url.Values) (*doc, error) {
	u, err := resolve(base, ref)
	if err != nil {
		return nil, err
	}
	p := c.params()
	for k, vs := range extra {
		p[k] = vs
	}
	b, err := c.send(ctx, method, u, p)
	if err != nil {
		return nil, err
	}
	c.status = "in-progress"
	verbs, err := parseResponse(b)
	if err != nil {
		return nil, fmt.Errorf("answer of %s: %w", u, err)
	}
	return &doc{url: u, verbs: verbs}, nil
}

// send is one request of the call, counted against MaxRequests.
func (c *call) send(ctx context.Context, method, u string, p url.Values) ([]byte, error) {
	c.requests++
	if c.requests > c.o.MaxRequests {
		return nil, fmt.Errorf("call %s: more than %d requests; the server seems to loop", c.tr.CallSid, c.o.MaxRequests)
	}
	return c.do(ctx, method, u, p)
}

func resolve(base, ref string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("url %q: %w", base, err)
	}
	r, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return "", fmt.Errorf("url %q in TwiML: %w", ref, err)
	}
	return b.ResolveReference(r).String(), nil
}

// run plays a document's verbs in order and returns the next document to
// play, or nil when the call is over.
func (c *call) run(ctx context.Context, d *doc) (*doc, error) {
	for _, v := range d.verbs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		switch v.XMLName.Local {
		case "Say", "Play", "Pause":
			c.speak(v)
		case "Gather":
			next, fall, err := c.gather(ctx, d, v)
			if err != nil || !fall {
				return next, err
			}
		case "Record":
			next, fall, err := c.record(ctx, d, v)
			if err != nil || !fall {
				return next, err
			}
		case "Dial":
			next, fall, err := c.dial(ctx, d, v)
			if err != nil || !fall {
				return next, err
			}
		case "Redirect":
			fmt.Fprintln(c.o.Out, "(redirect)")
			return c.fetch(ctx, v.attr("method"), v.text(), d.url, nil)
		case "Hangup":
			fmt.Fprintln(c.o.Out, "(the hotline hangs up)")
			return nil, nil
		case "Reject":
			// Twilio reports a call rejected as busy as busy, any other
			// rejection as not answered.
			c.endStatus = "no-answer"
			if v.attr("reason") == "busy" {
				c.endStatus = "busy"
			}
			fmt.Fprintf(c.o.Out, "(call rejected: %s)\n", c.endStatus)
			return nil, nil
		default:
			fmt.Fprintf(c.o.Out, "(<%s> is not simulated; skipped)\n", v.XMLName.Local)
		}
	}
	fmt.Fprintln(c.o.Out, "(no more TwiML: the call ends)")
	return nil, nil
}

// speak prints what the caller hears from Say, Play and Pause.
func (c *call) speak(v verb) {
	switch v.XMLName.Local {
	case "Say":
		lang := v.attr("language")
		if lang == "" {
			lang = "en-US" // Twilio's default
		}
		c.tr.Said = append(c.tr.Said, Said{Lang: lang, Text: v.text()})
		fmt.Fprintf(c.o.Out, "[%s] %s\n", lang, v.text())
	case "Play":
		if d := v.attr("digits"); d != "" {
			fmt.Fprintf(c.o.Out, "(plays tones %s)\n", d)
		} else {
			fmt.Fprintf(c.o.Out, "(plays %s)\n", v.text())
		}
	case "Pause":
		fmt.Fprintf(c.o.Out, "(pause %d s)\n", v.seconds("length", 1))
	}
}

// gather plays the nested prompts and waits for keys. fall means the
// document goes on with the next verb (no input, and the Gather does not
// post empty results).
func (c *call) gather(ctx context.Context, d *doc, g verb) (next *doc, fall bool, err error) {
	for _, ch := range g.Children {
		c.speak(ch)
	}
	timeout := g.seconds("timeout", defaultGatherTimeout)
	finish, ok := attrOK(g, "finishOnKey")
	if !ok {
		finish = defaultFinishOnKey
	}
	speech := strings.Contains(g.attr("input"), "speech")

	fmt.Fprint(c.o.Out, "keys> ")
	line, how, err := c.pickLanguage(g)
	if line == "" {
		line, how, err = c.read(ctx, time.Duration(timeout)*time.Second)
		if err != nil {
			return nil, false, err
		}
	}
	in := parseKeys(line, finish, g.seconds("numDigits", 0), speech)
	switch {
	case how != "":
		fmt.Fprintln(c.o.Out, how)
	case in.ignored != "":
		fmt.Fprintf(c.o.Out, "(only 0-9, * and # are keys; ignored %q)\n", in.ignored)
	}
	if in.digits == "" && in.speech == "" {
		if g.attr("actionOnEmptyResult") != "true" {
			return nil, true, nil
		}
		next, err := c.fetch(ctx, g.attr("method"), g.attr("action"), d.url, nil)
		return next, false, err
	}
	extra := url.Values{}
	if in.speech != "" {
		extra.Set("SpeechResult", in.speech)
		extra.Set("Confidence", "0.9")
		c.tr.Keys = append(c.tr.Keys, in.speech)
	} else {
		extra.Set("Digits", in.digits)
		if in.finishedOn != "" {
			extra.Set("FinishedOnKey", in.finishedOn)
		}
		c.tr.Keys = append(c.tr.Keys, in.digits)
	}
	next, err = c.fetch(ctx, g.attr("method"), g.attr("action"), d.url, extra)
	return next, false, err
}

// read waits for one line from the caller and prints how it went.
func (c *call) read(ctx context.Context, wait time.Duration) (line, how string, err error) {
	line, got, err := c.in.read(ctx, wait)
	if err != nil {
		return "", "", err
	}
	switch {
	case !got && c.in.eof:
		return "", "(silence)", nil
	case !got && c.echo:
		return "", "(no input in time)", nil
	case !got:
		return "", "\n(no input in time)", nil
	case c.echo && strings.TrimSpace(line) != "":
		fmt.Fprintln(c.o.Out, line)
	}
	if strings.TrimSpace(line) == "" {
		return "", "(silence)", nil
	}
	return line, "", nil
}

// englishKey finds the key a menu names for English, as in "For English,
// please press 9."
var englishKey = regexp.MustCompile(`(?i)english[^.!?。]*?press\s+([0-9*#])\b`)

// pickLanguage answers the first menu of the call for a caller who wants
// English, with the key its prompt names for it.
func (c *call) pickLanguage(g verb) (key, how string, err error) {
	if c.langTried {
		return "", "", nil
	}
	c.langTried = true
	if !strings.HasPrefix(strings.ToLower(c.o.Lang), "en") {
		return "", "", nil
	}
	for _, ch := range g.Children {
		if ch.XMLName.Local != "Say" || strings.HasPrefix(strings.ToLower(ch.attr("language")), "en") {
			continue
		}
		if m := englishKey.FindStringSubmatch(ch.text()); m != nil {
			return m[1], m[1] + "   (chosen for English)", nil
		}
	}
	return "", "", nil
}

type keys struct {
	digits     string
	finishedOn string
	speech     string
	ignored    string
}

// parseKeys reads a typed line as a keypad would: DTMF keys up to the
// finish key or numDigits, whatever else ignored; or, where the gather
// listens for speech and the line is words, as speech.
func parseKeys(line, finish string, numDigits int, speech bool) keys {
	line = strings.TrimSpace(line)
	var k keys
	var digits, ignored strings.Builder
	for _, r := range line {
		switch {
		case r == ' ' || r == '-':
		case strings.ContainsRune("0123456789*#", r):
			if finish != "" && strings.ContainsRune(finish, r) {
				k.finishedOn = string(r)
				k.digits = digits.String()
				return k
			}
			digits.WriteRune(r)
			if numDigits > 0 && digits.Len() == numDigits {
				k.digits = digits.String()
				return k
			}
		default:
			ignored.WriteRune(r)
		}
	}
	if ignored.Len() > 0 && speech {
		return keys{speech: line}
	}
	k.digits, k.ignored = digits.String(), ignored.String()
	return k
}

func attrOK(v verb, name string) (string, bool) {
	for _, a := range v.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// record takes what the caller types as what they say, posts the record
// action, then the recording status and transcription callbacks the verb
// asks for. Silence records nothing and goes on with the next verb, as
// Twilio does.
func (c *call) record(ctx context.Context, d *doc, r verb) (next *doc, fall bool, err error) {
	maxLength := r.seconds("maxLength", defaultMaxLength)
	if r.attr("playBeep") != "false" {
		fmt.Fprint(c.o.Out, "(beep) ")
	}
	fmt.Fprintln(c.o.Out, "type what you would say, then Enter (an empty line is silence)")
	fmt.Fprint(c.o.Out, "say> ")
	// A person types slower than they speak: the whole maxLength is theirs.
	line, how, err := c.read(ctx, time.Duration(maxLength)*time.Second)
	if err != nil {
		return nil, false, err
	}
	text := strings.TrimSpace(line)
	if text == "" {
		fmt.Fprintln(c.o.Out, how+" (nothing recorded)")
		return nil, true, nil
	}
	recSID := sid("RE")
	recURL := fmt.Sprintf("https://api.twilio.com/2010-04-01/Accounts/%s/Recordings/%s", c.o.AccountSID, recSID)
	c.tr.Recordings = append(c.tr.Recordings, recURL)
	duration := strconv.Itoa(min(speechSeconds(text), max(maxLength, 1)))
	finish, ok := attrOK(r, "finishOnKey")
	if !ok {
		finish = defaultRecordFinish
	}
	digits := "hangup"
	switch {
	case strings.Contains(finish, "#"):
		digits = "#"
	case finish != "":
		digits = finish[:1]
	}
	fmt.Fprintf(c.o.Out, "(recorded %s s, ended with %s)\n", duration, digits)

	extra := url.Values{}
	extra.Set("RecordingUrl", recURL)
	extra.Set("RecordingSid", recSID)
	extra.Set("RecordingDuration", duration)
	extra.Set("Digits", digits)
	next, err = c.fetch(ctx, r.attr("method"), r.attr("action"), d.url, extra)
	if err != nil {
		return nil, false, err
	}

	// Twilio posts these once the recording (and its transcription) is
	// ready, while the call goes on; their answers are ignored.
	if cb := r.attr("recordingStatusCallback"); cb != "" && wantsCompleted(r.attr("recordingStatusCallbackEvent")) {
		p := url.Values{}
		p.Set("AccountSid", c.o.AccountSID)
		p.Set("CallSid", c.tr.CallSid)
		p.Set("RecordingSid", recSID)
		p.Set("RecordingUrl", recURL)
		p.Set("RecordingStatus", "completed")
		p.Set("RecordingDuration", duration)
		p.Set("RecordingChannels", "1")
		p.Set("RecordingSource", "RecordVerb")
		p.Set("RecordingStartTime", c.o.Now().UTC().Format(time.RFC1123Z))
		p.Set("ErrorCode", "0")
		if err := c.callback(ctx, r.attr("recordingStatusCallbackMethod"), cb, d.url, p); err != nil {
			return nil, false, err
		}
	}
	// What the caller typed stands for what they said, so it always reaches
	// the case as the recording's transcription. Twilio transcribes English
	// only and the voice line asks only then; for other languages the phone
	// posts to the line's transcription route (the record action's sibling,
	// same query), as a speech-to-text add-on would.
	cb, asked := r.attr("transcribeCallback"), true
	if cb == "" {
		cb, asked = transcriptionURL(r.attr("action")), false
	}
	if cb != "" {
		trSID := sid("TR")
		p := c.params()
		p.Set("TranscriptionSid", trSID)
		p.Set("TranscriptionText", text)
		p.Set("TranscriptionStatus", "completed")
		p.Set("TranscriptionType", "fast")
		p.Set("TranscriptionUrl", fmt.Sprintf("https://api.twilio.com/2010-04-01/Accounts/%s/Transcriptions/%s", c.o.AccountSID, trSID))
		p.Set("RecordingSid", recSID)
		p.Set("RecordingUrl", recURL)
		p.Set("url", d.url)
		if err := c.callback(ctx, http.MethodPost, cb, d.url, p); err != nil {
			return nil, false, err
		}
		if asked {
			fmt.Fprintln(c.o.Out, "(transcription sent)")
		} else {
			fmt.Fprintln(c.o.Out, "(typed text sent as the transcription)")
		}
	}
	if digits == "hangup" {
		fmt.Fprintln(c.o.Out, "(you hung up to end the recording)")
		return nil, false, nil
	}
	return next, false, nil
}

// transcriptionURL is the voice line's transcription route beside a record
// action URL ("" when the action is not the line's own).
func transcriptionURL(action string) string {
	const record, transcription = "/twilio/voice/record", "/twilio/voice/transcription"
	path, query, _ := strings.Cut(action, "?")
	if !strings.HasSuffix(path, record) {
		return ""
	}
	u := strings.TrimSuffix(path, record) + transcription
	if query != "" {
		u += "?" + query
	}
	return u
}

// wantsCompleted reads recordingStatusCallbackEvent (space-separated;
// Twilio's default is "completed").
func wantsCompleted(events string) bool {
	return strings.TrimSpace(events) == "" || strings.Contains(events, "completed")
}

func (c *call) callback(ctx context.Context, method, ref, base string, p url.Values) error {
	u, err := resolve(base, ref)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, method, u, p)
	return err
}

// speechSeconds estimates how long the typed text takes to say: about four
// Chinese characters or two and a half English words a second.
func speechSeconds(text string) int {
	runes := utf8.RuneCountInString(text)
	ascii := 0
	for i := 0; i < len(text); i++ {
		if text[i] < utf8.RuneSelf {
			ascii++
		}
	}
	var s float64
	if ascii*2 >= runes {
		s = float64(len(strings.Fields(text))) / 2.5
	} else {
		s = float64(runes) / 4
	}
	return max(int(math.Ceil(s)), 1)
}

// dial rings the numbers and nobody answers.
func (c *call) dial(ctx context.Context, d *doc, v verb) (next *doc, fall bool, err error) {
	var to []string
	for _, ch := range v.Children {
		if t := ch.text(); t != "" {
			to = append(to, t)
		}
	}
	if t := v.text(); t != "" {
		to = append(to, t)
	}
	fmt.Fprintf(c.o.Out, "(dialling %s … ringing … no answer)\n", strings.Join(to, ", "))
	action := v.attr("action")
	if action == "" {
		return nil, true, nil
	}
	extra := url.Values{}
	extra.Set("DialCallStatus", "no-answer")
	extra.Set("DialCallSid", sid("CA"))
	extra.Set("DialCallDuration", "0")
	extra.Set("DialBridged", "false")
	next, err = c.fetch(ctx, v.attr("method"), action, d.url, extra)
	return next, false, err
}

// finish posts the call status callback for the end of the call.
func (c *call) finish(ctx context.Context, status string) error {
	secs := int(math.Round(c.o.Now().Sub(c.started).Seconds()))
	if status == "completed" {
		secs = max(secs, 1)
	} else {
		secs = 0
	}
	c.status = status
	p := c.params()
	p.Set("CallDuration", strconv.Itoa(secs))
	p.Set("Duration", strconv.Itoa((secs+59)/60))
	p.Set("Timestamp", c.o.Now().UTC().Format(time.RFC1123Z))
	p.Set("CallbackSource", "call-progress-events")
	p.Set("SequenceNumber", "0")
	if _, err := c.send(ctx, http.MethodPost, c.o.PublicURL+"/twilio/voice/status", p); err != nil {
		return err
	}
	c.tr.Status = status
	fmt.Fprintf(c.o.Out, "call ended: %s, %d s\n", status, secs)
	return nil
}

// lines reads the caller's lines with a deadline. A read that times out
// stays outstanding, and its line goes to the next read: In is never read
// ahead by more than the line asked for.
type lines struct {
	r       *bufio.Reader
	res     chan lineResult
	pending bool
	eof     bool
}

type lineResult struct {
	line string
	err  error
}

// read returns the next line (without its newline), got false when none
// came within wait. After the end of input every read is silence at once.
func (l *lines) read(ctx context.Context, wait time.Duration) (line string, got bool, err error) {
	if l.eof {
		return "", false, nil
	}
	if !l.pending {
		l.pending = true
		go func() {
			s, err := l.r.ReadString('\n')
			l.res <- lineResult{s, err}
		}()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case r := <-l.res:
		l.pending = false
		if r.err != nil {
			l.eof = true
			if r.err != io.EOF || r.line == "" {
				return "", false, nil
			}
		}
		return strings.TrimRight(r.line, "\r\n"), true, nil
	case <-t.C:
		return "", false, nil
	case <-ctx.Done():
		return "", false, ctx.Err()
	}
}
