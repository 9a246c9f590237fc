package sms

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline/hotline/caselog"
	phonenum "github.com/hotline/hotline/internal/phone" // sms tests declare a const named phone
	"github.com/hotline/hotline/internal/twiliohttp"
)

// RouteSMS is where Twilio posts incoming SMS and MMS.
const RouteSMS = "/twilio/sms"

// DefaultPerMinute is how many replies one sender gets a minute unless
// Options.PerMinute says otherwise (HOTLINE_SMS_PER_MINUTE).
const DefaultPerMinute = 10

// reasonCallerRequest is the callback reason of a CALLBACK without words of
// its own; the voice line uses the same for key 5.
const reasonCallerRequest = "caller_request"

// maxReasonRunes caps the consumer's words kept as a callback's reason;
// the whole message is in the contact log.
const maxReasonRunes = 200

// Options wire a Handler. Log is required; the rest have defaults.
type Options struct {
	Log    *caselog.Log
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // flood-control clock; default time.Now
	// PerMinute is how many messages from one sender are answered in any
	// sixty seconds (HOTLINE_SMS_PER_MINUTE); default DefaultPerMinute,
	// negative: no limit. Messages beyond it are recorded and do what they
	// ask, but get an empty <Response/>.
	PerMinute int
	// OnCase, if set, is called once for every case an SMS opens, after it
	// has committed, never for a retry (a metrics hook; it must not block).
	OnCase func(caselog.Case)
}

// Handler serves POST /twilio/sms. It is safe for concurrent use.
//
// Every message is stored (caselog.Tx.LogContact) in the same transaction
// as whatever it does, idempotently on its MessageSid, and answered only
// after that transaction has committed; a retry of a MessageSid gets the
// reply the first delivery got, word for word.
//
// Opted-out senders get no reply, except to STOP, START and HELP. Twilio
// refuses to deliver anything else to a number that sent STOP (error
// 21610), and our opt-out list follows Twilio's; what such a sender asks
// for is still done (a complaint still opens a case, which staff see),
// they are just not texted about it until they send START.
type Handler struct {
	log    *caselog.Log
	logger *slog.Logger
	now    func() time.Time
	onCase func(caselog.Case)
	loc    *time.Location // the log's calendar: dates in replies
	flood  *floodGate
}

// New builds a Handler. It panics without o.Log, a wiring mistake.
func New(o Options) *Handler {
	if o.Log == nil {
		panic("sms: Options.Log is required")
	}
	h := &Handler{
		log:    o.Log,
		logger: cmp.Or(o.Logger, slog.New(slog.DiscardHandler)).With("comp", "sms"),
		now:    o.Now,
		onCase: o.OnCase,
		loc:    cmp.Or(o.Log.Options().Calendar.Location, time.UTC),
	}
	if h.now == nil {
		h.now = time.Now
	}
	limit := o.PerMinute
	if limit == 0 {
		limit = DefaultPerMinute
	}
	if limit > 0 {
		h.flood = newFloodGate(limit, time.Minute)
	}
	return h
}

// Register adds POST RouteSMS to r, which must already carry the Twilio
// signature middleware (twiliohttp.Verifier), which also parses the form.
// The status callback route is RegisterStatus's.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST(RouteSMS, h.inbound)
}

// Reasons a reply is withheld, for the log line.
const (
	mutedFlood    = "flood"
	mutedOptedOut = "opted_out"
)

// inbound decodes the form, runs handle in one idempotent step, answers
// TwiML and logs one line. Bad input is a 400 with the reason; only a
// failure to record is a 500 (so that Twilio's retry or fallback can try
// again: nothing was stored and nothing was answered).
func (h *Handler) inbound(c *gin.Context) {
	start := time.Now()
	var f twiliohttp.SMSForm
	decodeErr := twiliohttp.Decode(c.Request, &f)
	attrs := []any{"message_sid", f.MessageSid, "from", phonenum.Mask(f.From)}
	if f.MessageSid == "" || strings.TrimSpace(f.From) == "" {
		// Not an incoming message: nothing to record it against, nobody to
		// answer.
		reason := "not a Twilio SMS webhook"
		if decodeErr != nil {
			reason += ": " + decodeErr.Error()
		}
		h.logger.Warn("sms refused", append(attrs, "status", http.StatusBadRequest, "error", decodeErr)...)
		c.Data(http.StatusBadRequest, "text/plain; charset=utf-8", []byte(reason+"\n"))
		return
	}
	if decodeErr != nil {
		// A field we do not need parsed badly (NumSegments, Latitude…):
		// the message itself is still there and is kept.
		attrs = append(attrs, "form_error", decodeErr)
	}

	m := message{
		SID:  f.MessageSid,
		From: strings.TrimSpace(f.From),
		Body: f.Body,
		Cmd:  command(f),
		Loc:  h.loc,
	}
	for _, md := range f.Media() {
		m.Media = append(m.Media, caselog.Media{URL: md.URL, ContentType: md.ContentType})
	}
	// Taken before the step, which may run more than once and must touch
	// nothing but its transaction: a message over the limit is muted in
	// what is stored, so a retry of it stays muted (and counts, too).
	answer := h.flood == nil || h.flood.take(m.From, h.now())

	var out outcome
	res, replay, err := h.log.Do(c.Request.Context(), key(m.SID), func(tx *caselog.Tx) (caselog.Result, error) {
		var err error
		out, err = handle(tx, m)
		if err != nil {
			return caselog.Result{}, err
		}
		if !answer && out.Reply != "" {
			out.Reply, out.Muted = "", mutedFlood
		}
		return caselog.Result{Case: out.Case, Reply: out.Reply}, nil
	})
	if err != nil {
		h.logger.Error("sms not recorded", append(attrs, "command", m.Cmd.Kind, "status", http.StatusInternalServerError, "error", err, "ms", msSince(start))...)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("message not recorded\n"))
		return
	}
	if !replay && out.Opened != nil && h.onCase != nil {
		h.onCase(*out.Opened)
	}

	body, err := replyTwiML(res.Reply)
	if err != nil {
		// Recorded, but the reply cannot be written: Twilio sends nothing.
		h.logger.Error("sms reply render", append(attrs, "error", err)...)
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("reply not rendered\n"))
		return
	}
	if replay {
		// What the first delivery did is in the stored result; the command
		// is read again from the same body.
		out = outcome{Kind: m.Cmd.Kind}
	}
	attrs = append(attrs, "command", out.Kind, "case_number", res.Case, "replied", res.Reply != "")
	if out.Muted != "" {
		attrs = append(attrs, "muted", out.Muted)
	}
	if replay {
		attrs = append(attrs, "replay", true)
	}
	h.logger.Info("sms", append(attrs, "status", http.StatusOK, "ms", msSince(start))...)
	c.Data(http.StatusOK, "text/xml; charset=utf-8", body)
}

// key is the idempotency key of an incoming message.
func key(messageSID string) string { return "sms:" + messageSID }

// command reads what the message asks for. Twilio's Advanced Opt-Out
// labels the keywords it acted on (OptOutType STOP, START or HELP, in any
// of the languages an account configures); where it did, its verdict wins,
// so that our opt-out list never disagrees with the one Twilio enforces.
func command(f twiliohttp.SMSForm) Command {
	cmd := Parse(f.Body)
	switch strings.ToUpper(strings.TrimSpace(f.OptOutType)) {
	case "STOP":
		cmd.Kind, cmd.Case, cmd.Text = Stop, "", ""
	case "START":
		cmd.Kind, cmd.Case, cmd.Text = Start, "", ""
	case "HELP":
		cmd.Kind, cmd.Case, cmd.Text = Help, "", ""
	}
	return cmd
}

// replyTwiML renders <Response><Message>reply</Message></Response>, or an
// empty <Response/> when reply is "".
func replyTwiML(reply string) ([]byte, error) {
	var verbs []twiml.Element
	if reply != "" {
		verbs = []twiml.Element{twiml.MessagingMessage{Body: reply}}
	}
	s, err := twiml.Messages(verbs)
	return []byte(s), err
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// message is an incoming SMS as handle needs it.
type message struct {
	SID   string
	From  string // as Twilio sent it; caselog normalises it
	Body  string // verbatim, for the contact log
	Media []caselog.Media
	Cmd   Command
	Loc   *time.Location // dates in replies are local dates
}

// outcome is what handle did.
type outcome struct {
	Kind   CommandKind   // what the message was taken as (a rating nobody asked for is None)
	Reply  string        // "" : no reply
	Muted  string        // why a reply was withheld
	Case   string        // the case the message opened or concerned
	Opened *caselog.Case // the case it opened, if it did
}

// handle does everything one incoming message asks, in the caller's
// transaction: it stores the message as a contact (always), does what the
// command says, and chooses the reply. It returns an error only when the
// log fails; anything the consumer got wrong is answered, not failed, so
// that the message is still stored. Like every function passed to
// caselog.Log.Do, it touches nothing but tx.
func handle(tx *caselog.Tx, m message) (outcome, error) {
	out, err := act(tx, m)
	if err != nil {
		return outcome{}, err
	}
	if _, err := tx.LogContact(caselog.Contact{
		Key: m.SID, Caller: m.From, Channel: caselog.SMS, Body: m.Body, Media: m.Media,
		Command: string(out.Kind), Case: out.Case,
	}); err != nil {
		return outcome{}, fmt.Errorf("log sms %s: %w", m.SID, err)
	}
	switch out.Kind {
	case Stop, Start, Help:
	default:
		if out.Reply != "" && tx.OptedOut(m.From) {
			out.Reply, out.Muted = "", mutedOptedOut
		}
	}
	return out, nil
}

// act does what the command says and writes the reply.
func act(tx *caselog.Tx, m message) (outcome, error) {
	cmd := m.Cmd
	lang := cmd.Lang
	out := outcome{Kind: cmd.Kind}
	switch cmd.Kind {
	case Complaint, Report, Ask:
		c, err := tx.OpenCase(caselog.NewCase{
			Caller: m.From, Channel: caselog.SMS, Kind: caselog.Kind(cmd.Kind.CaseKind()),
			Lang: lang, Text: cmd.Text, Media: m.Media, Source: m.SID,
		})
		if err != nil {
			return outcome{}, fmt.Errorf("open case for sms %s: %w", m.SID, err)
		}
		out.Case, out.Opened = c.Number, &c
		out.Reply = ReplyOpened(lang, string(c.Kind), c.Number, c.DueAt.In(m.Loc))
		return out, nil

	case Add:
		number := cmd.Case
		if number == "" {
			open, err := openCases(tx, m.From, 1)
			if err != nil {
				return outcome{}, err
			}
			if len(open) == 0 {
				out.Reply = ReplyAddNeedsNumber(lang)
				return out, nil
			}
			number = open[0].Number
		}
		if !caselog.Valid(number) {
			out.Reply = ReplyBadNumber(lang, number)
			return out, nil
		}
		if cmd.Text == "" && len(m.Media) == 0 {
			// "ADD 1234566" and nothing else: nothing to add; say how.
			out.Reply = ReplyAddNeedsNumber(lang)
			return out, nil
		}
		_, err := tx.Append(number, caselog.Addition{Caller: m.From, Text: cmd.Text, Media: m.Media})
		switch {
		case errors.Is(err, caselog.ErrNotYours):
			out.Reply = ReplyNotYours(lang, number)
		case errors.Is(err, caselog.ErrNotFound), errors.Is(err, caselog.ErrBadNumber):
			out.Reply = ReplyUnknownCase(lang, number)
		case err != nil:
			return outcome{}, fmt.Errorf("add sms %s to case %s: %w", m.SID, number, err)
		default:
			out.Case = number
			out.Reply = ReplyAdded(lang, number, len(m.Media))
		}
		return out, nil

	case Status:
		if cmd.Case == "" {
			open, err := openCases(tx, m.From, 0)
			if err != nil {
				return outcome{}, err
			}
			numbers := make([]string, len(open))
			for i, c := range open {
				numbers[i] = c.Number
			}
			out.Reply = ReplyOpenCases(lang, numbers)
			return out, nil
		}
		if !caselog.Valid(cmd.Case) {
			out.Reply = ReplyBadNumber(lang, cmd.Case)
			return out, nil
		}
		// Like the keypad look-up: any valid number, whoever asks, and no
		// more than its status and due date.
		c, err := tx.Case(cmd.Case)
		switch {
		case errors.Is(err, caselog.ErrNotFound), errors.Is(err, caselog.ErrBadNumber):
			out.Reply = ReplyUnknownCase(lang, cmd.Case)
		case err != nil:
			return outcome{}, fmt.Errorf("look up case %s for sms %s: %w", cmd.Case, m.SID, err)
		default:
			out.Case = c.Number
			out.Reply = ReplyStatus(lang, c.Number, string(c.Status), c.DueAt.In(m.Loc))
		}
		return out, nil

	case Callback:
		open, err := openCases(tx, m.From, 1)
		if err != nil {
			return outcome{}, err
		}
		nc := caselog.NewCallback{Caller: m.From, Reason: callbackReason(cmd.Text), Lang: lang, Priority: caselog.PriorityNormal}
		if len(open) > 0 {
			nc.Case = open[0].Number
		}
		if _, err := tx.EnqueueCallback(nc); err != nil {
			return outcome{}, fmt.Errorf("callback for sms %s: %w", m.SID, err)
		}
		out.Case = nc.Case
		out.Reply = ReplyCallback(lang, nc.Case)
		return out, nil

	case Help:
		out.Reply = ReplyHelp(lang)
		return out, nil

	case Stop, Start:
		stop := cmd.Kind == Stop
		if err := tx.SetOptOut(m.From, stop, key(m.SID)); err != nil {
			return outcome{}, fmt.Errorf("opt-out for sms %s: %w", m.SID, err)
		}
		out.Reply = ReplyStarted(lang)
		if stop {
			out.Reply = ReplyStopped(lang)
		}
		return out, nil

	case Rating:
		n, _ := strconv.Atoi(cmd.Text)
		c, err := tx.Rate(m.From, n)
		switch {
		case errors.Is(err, caselog.ErrNoRatingPending), errors.Is(err, caselog.ErrBadCaller):
			// A lone digit nobody asked for: kept like any other message.
		case err != nil:
			return outcome{}, fmt.Errorf("rating for sms %s: %w", m.SID, err)
		default:
			out.Case = c.Number
			out.Reply = ReplyRatingThanks(caseLang(m, c.Lang), c.Number, n)
			return out, nil
		}
	}
	return keep(tx, m)
}

// keep stores a message that asks for nothing we know: on the sender's
// newest open case, else as a new enquiry, and answers with the help text
// after saying where the message went. A blank message without media opens
// nothing; the contact log has it.
func keep(tx *caselog.Tx, m message) (outcome, error) {
	out := outcome{Kind: None}
	text := strings.TrimSpace(m.Cmd.Text)
	if m.Cmd.Kind != None {
		text = strings.TrimSpace(m.Body)
	}
	open, err := openCases(tx, m.From, 1)
	if err != nil {
		return outcome{}, err
	}
	var concerned string
	if len(open) > 0 {
		concerned = open[0].Lang
	}
	lang := caseLang(m, concerned)
	if text == "" && len(m.Media) == 0 {
		out.Reply = ReplyHelp(lang)
		return out, nil
	}
	if len(open) > 0 {
		c, err := tx.Append(open[0].Number, caselog.Addition{Caller: m.From, Text: text, Media: m.Media})
		if err != nil {
			return outcome{}, fmt.Errorf("keep sms %s on case %s: %w", m.SID, open[0].Number, err)
		}
		out.Case = c.Number
	} else {
		c, err := tx.OpenCase(caselog.NewCase{
			Caller: m.From, Channel: caselog.SMS, Kind: caselog.Enquiry,
			Lang: lang, Text: text, Media: m.Media, Source: m.SID,
		})
		if err != nil {
			return outcome{}, fmt.Errorf("keep sms %s as a new case: %w", m.SID, err)
		}
		out.Case, out.Opened = c.Number, &c
	}
	out.Reply = replyKept(lang, out.Case)
	return out, nil
}

// replyKept answers a message without a keyword: it was recorded under
// case number, and here are the keywords. ReplyHelp leaves room for the
// first sentence within two segments (TestReplyKept counts it).
func replyKept(lang, number string) string {
	if english(lang) {
		help := strings.TrimPrefix(ReplyHelp(lang), enSign)
		if help != "" {
			help = strings.ToUpper(help[:1]) + help[1:]
		}
		return enSign + fmt.Sprintf("your message is recorded under case %s. ", number) + help
	}
	return zhSign + fmt.Sprintf("您的短信已记入案件%s。", number) + strings.TrimPrefix(ReplyHelp(lang), zhSign)
}

// caseLang is the language to answer m in when it concerns a case in
// caseLang: the one the consumer wrote in, except for a body without a
// letter (a rating, a bare number, an emoji, a photo), which says nothing
// about language: then the case's, and without a case the hotline's
// default, Mandarin (whose help text tells English speakers to text HELP).
func caseLang(m message, caseLang string) string {
	if strings.ContainsFunc(m.Body, unicode.IsLetter) {
		return m.Cmd.Lang
	}
	return cmp.Or(caseLang, LangZH)
}

// openCases lists the sender's unfinished cases, newest first; a sender
// that is not a phone number (an alphanumeric id, a short code) has none.
func openCases(tx *caselog.Tx, from string, limit int) ([]caselog.Case, error) {
	cs, err := tx.OpenCases(from, limit)
	if errors.Is(err, caselog.ErrBadCaller) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open cases of %s: %w", phonenum.Mask(from), err)
	}
	return cs, nil
}

// callbackReason is what staff see on the callback entry: the consumer's
// own words when there are any.
func callbackReason(text string) string {
	text = strings.Join(strings.Fields(text), " ")
	if text == "" {
		return reasonCallerRequest
	}
	if r := []rune(text); len(r) > maxReasonRunes {
		return string(r[:maxReasonRunes]) + "…"
	}
	return text
}

// floodGate answers at most limit messages per sender in any window (a
// sliding window over the times of the replies it allowed).
//
// It lives in memory only. It protects consumers and the SMS budget from
// reply storms (a stuck phone, an auto-responder answering our answers),
// not the record: every message is stored whatever the gate says. Losing
// the counters in a restart costs at most one more window of replies to a
// sender that floods, while keeping them in the log would add a write to
// every message for nothing a consumer or staff member ever reads.
type floodGate struct {
	limit  int
	window time.Duration

	mu        sync.Mutex
	senders   map[string][]time.Time // reply times within the window, oldest first
	lastPrune time.Time
}

func newFloodGate(limit int, window time.Duration) *floodGate {
	return &floodGate{limit: limit, window: window, senders: make(map[string][]time.Time)}
}

// take reports whether a message from sender at now may be answered, and
// if so counts the reply.
func (g *floodGate) take(sender string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	// Senders idle for a whole window are forgotten, once a window: the map
	// holds only the senders of the last two windows.
	if now.Sub(g.lastPrune) >= g.window {
		for s, times := range g.senders {
			if now.Sub(times[len(times)-1]) >= g.window {
				delete(g.senders, s)
			}
		}
		g.lastPrune = now
	}
	times := g.senders[sender]
	i := 0
	for i < len(times) && now.Sub(times[i]) >= g.window {
		i++
	}
	times = times[i:]
	if len(times) >= g.limit {
		g.senders[sender] = times
		return false
	}
	g.senders[sender] = append(times, now)
	return true
}
