package ivr

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/twilio/twilio-go/twiml"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/internal/phone"
	"github.com/hotline/hotline/internal/twiliohttp"
)

// The routes Twilio is configured with; the others (RouteStep …) are reached
// only through action URLs in our own TwiML.
const (
	RouteIncoming Route = "/twilio/voice"        // incoming call
	RouteStatus   Route = "/twilio/voice/status" // call status callback
)

// Per-day counters the staff statistics read (caselog.Stats). Every call
// counts once in calls.in. A call counts once in calls.answered when it first
// leaves something a person will act on: a case (a recording, or a hang-up at
// the beep), a callback entry, or a transfer a member of staff picked up. A
// call that ends without any of these counts in calls.abandoned; if a late
// recording turns an abandoned call into a case, it moves from abandoned to
// answered.
const (
	metricCallsIn        = "calls.in"
	metricCallsAnswered  = "calls.answered"
	metricCallsAbandoned = "calls.abandoned"
)

// Call outcomes kept in caselog.Call.Outcome.
const (
	outcomeCase        = "case"
	outcomeCallback    = "callback"
	outcomeTransferred = "transferred"
	outcomeAbandoned   = "abandoned"
)

// reasonAbandoned is the callback reason for a long call that ended in the
// menu.
const reasonAbandoned = "abandoned"

// hangupText is the text of the case a caller leaves by hanging up at a
// record node before the beep. Staff read it; it is in both languages staff
// may work in.
const hangupText = "来电人在提示音前挂机，没有留下录音。(The caller hung up before the beep; no recording.)"

// callEnded maps the CallStatus values that end a call (Twilio sends no more
// for it afterwards); the others (queued, ringing, in-progress) change nothing.
var callEnded = map[string]bool{
	"completed": true, "busy": true, "no-answer": true, "failed": true, "canceled": true,
}

// Do keys. Each names the one thing it makes, so that a retried webhook, or
// the second of two webhooks that make the same thing, replays it.
func keyIncoming(sid string) string   { return "voice:" + sid + ":in" }
func keyEnd(sid string) string        { return "voice:" + sid + ":end" }
func keyCase(sid, node string) string { return "voice:" + sid + ":" + node + ":case" }
func keyRecording(sid, node string) string {
	return "voice:" + sid + ":" + node + ":recording"
}
func keyTranscription(sid, node string) string {
	return "voice:" + sid + ":" + node + ":transcription"
}
func keyCallback(sid, node string) string { return "voice:" + sid + ":" + node + ":callback" }
func keyDial(sid, node string) string     { return "voice:" + sid + ":" + node + ":dial" }

// keyAbandoned marks the abandoned-call callback of a number on a local day
// (Tx.Seen/Mark): at most one a day, however often the number gives up.
func keyAbandoned(caller, day string) string { return "voice:abandoned:" + caller + ":" + day }

// caseRef is where a call record remembers the case a record node made, for
// the transcription that arrives later.
func caseRef(node string) string { return "case:" + node }

// Options wire a Handler. Log is required; the rest have defaults.
type Options struct {
	Log    *caselog.Log
	Tree   *Tree        // default: the embedded tree
	Logger *slog.Logger // default: discard
	Now    func() time.Time
	// StaffNumbers are the phones a transfer rings, all at once.
	StaffNumbers []string
	// StaffOpen says whether staff take calls at a time (business hours,
	// holidays). Required when StaffNumbers is set; nil with no numbers
	// sends every transfer to its fallback.
	StaffOpen func(time.Time) bool
	// AbandonedAfter: a call that ends in the menu after longer than this
	// leaves a callback entry (default 20s).
	AbandonedAfter time.Duration
	// OnCase, if set, is called once for every case the voice line opens,
	// after it has committed (a metrics hook; it must not block).
	OnCase func(caselog.Case)
}

// Handler serves the voice webhooks. It is safe for concurrent use.
type Handler struct {
	log            *caselog.Log
	tree           *Tree
	logger         *slog.Logger
	now            func() time.Time
	staff          []string
	staffOpen      func(time.Time) bool
	abandonedAfter time.Duration
	onCase         func(caselog.Case)
	loc            *time.Location // the log's calendar: "a day" for the abandoned rule
}

// New checks o and builds a Handler.
func New(o Options) (*Handler, error) {
	if o.Log == nil {
		return nil, errors.New("ivr: Options.Log is required")
	}
	if len(o.StaffNumbers) > 0 && o.StaffOpen == nil {
		return nil, errors.New("ivr: Options.StaffOpen is required when StaffNumbers are set")
	}
	if o.AbandonedAfter < 0 {
		return nil, fmt.Errorf("ivr: Options.AbandonedAfter %s is negative", o.AbandonedAfter)
	}
	h := &Handler{
		log:            o.Log,
		tree:           o.Tree,
		logger:         cmp.Or(o.Logger, slog.New(slog.DiscardHandler)).With("comp", "ivr"),
		now:            o.Now,
		staff:          append([]string(nil), o.StaffNumbers...),
		staffOpen:      o.StaffOpen,
		abandonedAfter: cmp.Or(o.AbandonedAfter, 20*time.Second),
		onCase:         o.OnCase,
		loc:            cmp.Or(o.Log.Options().Calendar.Location, time.UTC),
	}
	if h.tree == nil {
		t, err := Default()
		if err != nil {
			return nil, err
		}
		h.tree = t
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.staffOpen == nil {
		h.staffOpen = func(time.Time) bool { return false }
	}
	return h, nil
}

// Register lists every voice route. r must already carry the Twilio
// signature middleware (twiliohttp.Verifier), which also parses the form.
func (h *Handler) Register(r gin.IRoutes) {
	r.POST(string(RouteIncoming), h.webhook(RouteIncoming, h.incoming))
	r.POST(string(RouteStep), h.webhook(RouteStep, h.step))
	r.POST(string(RouteRecord), h.webhook(RouteRecord, h.record))
	r.POST(string(RouteRecording), h.webhook(RouteRecording, h.recording))
	r.POST(string(RouteTranscription), h.webhook(RouteTranscription, h.transcription))
	r.POST(string(RouteStatus), h.webhook(RouteStatus, h.status))
}

// outcome is what one webhook did: the step to answer with (nil: an empty
// <Response/>, for callbacks nobody listens to) and what to log.
type outcome struct {
	step     *Step
	event    string
	node     string
	number   string // case number
	callback string // callback id
}

type webhookFunc func(ctx context.Context, f *twiliohttp.VoiceForm, st State) (outcome, error)

// webhook is the one shape of every voice handler: decode the form, call one
// function, render TwiML, log one line.
func (h *Handler) webhook(route Route, fn webhookFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		var f twiliohttp.VoiceForm
		decodeErr := twiliohttp.Decode(c.Request, &f)
		st := ParseState(c.Request.URL.Query())
		attrs := []any{"route", string(route), "call_sid", f.CallSid, "from", phone.Mask(f.From)}

		var out outcome
		var err error
		switch {
		case f.CallSid == "" && f.AccountSid == "":
			// Not a Twilio webhook at all (nothing Twilio always sends).
			h.logger.Warn("voice webhook refused", append(attrs, "status", http.StatusBadRequest, "error", decodeErr)...)
			c.Data(http.StatusBadRequest, "text/plain; charset=utf-8", []byte("not a Twilio voice webhook\n"))
			return
		case f.CallSid == "":
			// Twilio-shaped but without a call: nothing can be recorded
			// against it. A caller (if any) is sent back to the start,
			// which Twilio's next request, carrying its CallSid, enters.
			out = outcome{event: "no_call_sid"}
			if route != RouteRecording && route != RouteTranscription && route != RouteStatus {
				out.step = &Step{State: State{Node: h.tree.Start, Lang: st.Lang}}
			}
		default:
			if decodeErr != nil {
				// A field that did not parse (a garbled duration) costs
				// that field, not the call.
				attrs = append(attrs, "form_error", decodeErr.Error())
			}
			out, err = fn(c.Request.Context(), &f, st)
		}
		attrs = append(attrs, "event", out.event, "node", out.node)
		if out.number != "" {
			attrs = append(attrs, "case_number", out.number)
		}
		if out.callback != "" {
			attrs = append(attrs, "callback", out.callback)
		}
		if err != nil {
			// Only the store fails here. No TwiML: Twilio then plays its
			// error or the fallback URL, and retries of callbacks come back.
			h.logger.Error("voice webhook failed", append(attrs, "error", err, "ms", msSince(start))...)
			c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte("internal error\n"))
			return
		}
		body, rerr := h.render(out.step)
		if rerr != nil {
			h.logger.Error("voice webhook render", append(attrs, "error", rerr)...)
			body, _ = twiml.Voice([]twiml.Element{twiml.VoiceHangup{}})
		}
		c.Data(http.StatusOK, "text/xml", []byte(body))
		level := slog.LevelInfo
		if decodeErr != nil || f.CallSid == "" {
			level = slog.LevelWarn
		}
		h.logger.Log(c.Request.Context(), level, "voice webhook", append(attrs, "status", http.StatusOK, "ms", msSince(start))...)
	}
}

func (h *Handler) render(s *Step) (string, error) {
	if s == nil {
		return twiml.Voice(nil)
	}
	return Render(h.tree, *s)
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// incoming answers a new call: the call is recorded (and counted in
// calls.in, once per CallSid) before the greeting goes out.
func (h *Handler) incoming(ctx context.Context, f *twiliohttp.VoiceForm, _ State) (outcome, error) {
	s := Start(h.tree)
	_, _, err := h.update(ctx, keyIncoming(f.CallSid), f, func(tx *caselog.Tx, call *caselog.Call) (caselog.Result, error) {
		call.Node, call.Lang = s.State.Node, s.State.Lang
		call.Status = f.CallStatus
		return caselog.Result{}, nil
	})
	if err != nil {
		return outcome{}, fmt.Errorf("incoming call %s: %w", f.CallSid, err)
	}
	return h.act(ctx, f, s, "incoming")
}

// step answers a <Gather>, <Dial> or <Redirect> action.
func (h *Handler) step(ctx context.Context, f *twiliohttp.VoiceForm, st State) (outcome, error) {
	in := Input{Digits: strings.TrimSpace(f.Digits), Speech: f.SpeechResult, DialStatus: f.DialCallStatus}
	return h.act(ctx, f, Next(h.tree, st, in, caselog.Valid), "step")
}

// record answers the <Record> action: the case is recorded (or found, if
// the recording status callback came first) and the caller hears its number.
func (h *Handler) record(ctx context.Context, f *twiliohttp.VoiceForm, st State) (outcome, error) {
	in := Input{RecordingURL: strings.TrimSpace(f.RecordingUrl)}
	return h.act(ctx, f, Next(h.tree, st, in, caselog.Valid), "record")
}

// act carries out what step s asks for, keeps the call record's position up
// to date, and returns the step to render.
func (h *Handler) act(ctx context.Context, f *twiliohttp.VoiceForm, s Step, event string) (outcome, error) {
	out := outcome{event: event, node: s.From.Node}
	sid := f.CallSid
	// moved is set when the call record already holds the new position.
	moved := false
	switch s.Action {
	case ActionRecordCase:
		number, err := h.recordCase(ctx, f, s.From.Node, s.From.Lang, s.CaseKind, s.Recording)
		if err != nil {
			return outcome{}, err
		}
		s = Recorded(h.tree, s, number)
		out.event, out.number = "case_recorded", number

	case ActionLookupCase:
		var c caselog.Case
		err := h.log.View(func(tx *caselog.Tx) error {
			var err error
			c, err = tx.Case(s.Number)
			return err
		})
		found := err == nil
		if err != nil && !errors.Is(err, caselog.ErrNotFound) && !errors.Is(err, caselog.ErrBadNumber) {
			return outcome{}, fmt.Errorf("look up case for call %s: %w", sid, err)
		}
		// The number is the caller's to know; we say no more than status
		// and due date, whoever asks.
		s = StatusResult(h.tree, s, found, string(c.Status), c.DueAt.In(h.loc))
		out.event = "case_status"
		if found {
			out.number = c.Number
		} else {
			out.event = "case_not_found"
		}

	case ActionCallback:
		res, _, err := h.update(ctx, keyCallback(sid, s.State.Node), f, func(tx *caselog.Tx, call *caselog.Call) (caselog.Result, error) {
			cb, err := tx.EnqueueCallback(caselog.NewCallback{
				Caller: call.Caller, Case: call.Case, Reason: s.Reason,
				Lang: s.State.Lang, Priority: caselog.PriorityNormal,
			})
			if err != nil {
				return caselog.Result{}, err
			}
			setOutcome(tx, call, outcomeCallback)
			call.Node, call.Lang = s.State.Node, s.State.Lang
			return caselog.Result{Callback: cb.ID}, nil
		})
		if err != nil {
			return outcome{}, fmt.Errorf("callback for call %s: %w", sid, err)
		}
		moved = true
		out.event, out.callback = "callback", res.Callback

	case ActionTransfer:
		s = Transfer(h.tree, s, h.staffOpen(h.now()), h.staff)
		out.event = "transfer"
		if len(s.Dial) == 0 {
			out.event = "transfer_closed"
		}
	}

	// A <Dial> that a member of staff answered ends the call in their hands.
	if n := h.tree.Nodes[s.From.Node]; n != nil && n.Kind == KindTransfer && s.From.Try > 0 && s.State.Node == "" &&
		(f.DialCallStatus == "completed" || f.DialCallStatus == "answered") {
		_, _, err := h.update(ctx, keyDial(sid, s.From.Node), f, func(tx *caselog.Tx, call *caselog.Call) (caselog.Result, error) {
			setOutcome(tx, call, outcomeTransferred)
			call.Node = ""
			return caselog.Result{}, nil
		})
		if err != nil {
			return outcome{}, fmt.Errorf("transfer of call %s: %w", sid, err)
		}
		moved = true
		out.event = "transferred"
	}

	if !moved {
		if err := h.move(ctx, f, s.State); err != nil {
			return outcome{}, err
		}
	}
	out.step = &s
	return out, nil
}

// move records the node the caller is now at and the call's language, so
// that the end of the call knows where it ended (a hang-up before the beep)
// and in which language to call back. Redirects (Try 0) and hang-ups change
// nothing: the next request or the status callback says where the call went.
// Only a change is written.
func (h *Handler) move(ctx context.Context, f *twiliohttp.VoiceForm, st State) error {
	if st.Try <= 0 || st.Node == "" {
		return nil
	}
	var call caselog.Call
	var ok bool
	if err := h.log.View(func(tx *caselog.Tx) (err error) {
		call, ok, err = tx.Call(f.CallSid)
		return err
	}); err != nil {
		return fmt.Errorf("read call %s: %w", f.CallSid, err)
	}
	if ok && call.Node == st.Node && call.Lang == st.Lang {
		return nil
	}
	_, _, err := h.update(ctx, "", f, func(tx *caselog.Tx, call *caselog.Call) (caselog.Result, error) {
		call.Node, call.Lang = st.Node, st.Lang
		return caselog.Result{}, nil
	})
	if err != nil {
		return fmt.Errorf("move call %s to %s: %w", f.CallSid, st.Node, err)
	}
	return nil
}

// update runs fn on the call record in one step of the log under key and
// writes the record back. A call the log has not seen (the incoming webhook
// is the usual first) is started from the form and counted in calls.in.
func (h *Handler) update(ctx context.Context, key string, f *twiliohttp.VoiceForm, fn func(*caselog.Tx, *caselog.Call) (caselog.Result, error)) (caselog.Result, bool, error) {
	return h.log.Do(ctx, key, func(tx *caselog.Tx) (caselog.Result, error) {
		call, ok, err := tx.Call(f.CallSid)
		if err != nil {
			return caselog.Result{}, err
		}
		if !ok {
			call = caselog.Call{
				SID: f.CallSid, Caller: h.caller(f.From), Lang: h.tree.lang("").Code,
				StartedAt: tx.Now(), Status: f.CallStatus,
			}
			if err := tx.Count(metricCallsIn, 1); err != nil {
				return caselog.Result{}, err
			}
		}
		res, err := fn(tx, &call)
		if err != nil {
			return caselog.Result{}, err
		}
		return res, tx.PutCall(call)
	})
}

// setOutcome records the first thing a call left for staff and counts the
// call as answered then; a call already counted as abandoned (its status
// callback overtook a late recording) is moved over.
func setOutcome(tx *caselog.Tx, call *caselog.Call, o string) {
	switch call.Outcome {
	case "":
		_ = tx.Count(metricCallsAnswered, 1) // fails only in a read-only Tx
	case outcomeAbandoned:
		_ = tx.Count(metricCallsAbandoned, -1)
		_ = tx.Count(metricCallsAnswered, 1)
	default:
		return // the first outcome stands
	}
	call.Outcome = o
}

// caller is the call's number as the log indexes it, or as sent when it is
// no phone number (a withheld caller id).
func (h *Handler) caller(raw string) string {
	raw = strings.TrimSpace(raw)
	if n, err := h.log.NormalizeCaller(raw); err == nil {
		return n
	}
	return raw
}

// recordCase makes sure the case of record node node exists for the call
// and returns its number. The record action and the recording status
// callback both call it, in either order, each as often as Twilio retries:
// the first makes the case, the others find it (one Do key per call and
// node) and attach the recording if the case has none yet. An empty
// recording is a caller who hung up before the beep.
func (h *Handler) recordCase(ctx context.Context, f *twiliohttp.VoiceForm, node, lang, kind, recording string) (string, error) {
	sid := f.CallSid
	var opened caselog.Case
	res, replay, err := h.update(ctx, keyCase(sid, node), f, func(tx *caselog.Tx, call *caselog.Call) (caselog.Result, error) {
		text := ""
		if recording == "" {
			text = hangupText
		}
		c, err := tx.OpenCase(caselog.NewCase{
			Caller: call.Caller, Channel: caselog.Voice, Kind: caselog.Kind(kind),
			Lang: lang, Text: text, RecordingURL: recording, Source: sid,
			Notify: phone.IsMobile(call.Caller),
		})
		if err != nil {
			return caselog.Result{}, err
		}
		opened = c // a re-run overwrites it, so it is what committed
		if call.Data == nil {
			call.Data = map[string]string{}
		}
		call.Data[caseRef(node)] = c.Number
		call.Case = c.Number
		setOutcome(tx, call, outcomeCase)
		return caselog.Result{Case: c.Number}, nil
	})
	if err != nil {
		return "", fmt.Errorf("record case of call %s at %s: %w", sid, node, err)
	}
	if !replay {
		if h.onCase != nil {
			h.onCase(opened)
		}
		return res.Case, nil
	}
	if recording == "" {
		return res.Case, nil
	}
	// The case exists; the common case is that it already holds this
	// recording, which a read tells without a write.
	var c caselog.Case
	if err := h.log.View(func(tx *caselog.Tx) (err error) {
		c, err = tx.Case(res.Case)
		return err
	}); err != nil {
		return "", fmt.Errorf("read case %s of call %s: %w", res.Case, sid, err)
	}
	if c.RecordingURL != "" {
		return res.Case, nil
	}
	_, _, err = h.log.Do(ctx, keyRecording(sid, node), func(tx *caselog.Tx) (caselog.Result, error) {
		_, err := tx.Append(res.Case, caselog.Addition{Actor: "system", RecordingURL: recording})
		return caselog.Result{Case: res.Case}, err
	})
	if err != nil {
		return "", fmt.Errorf("attach recording to case %s: %w", res.Case, err)
	}
	return res.Case, nil
}

// recordNode finds the record node a callback is about: the one in its
// query, else the one the call was last at.
func (h *Handler) recordNode(st State, call caselog.Call) (string, *Node) {
	for _, name := range []string{st.Node, call.Node} {
		if n := h.tree.Nodes[name]; n != nil && n.Kind == KindRecord {
			return name, n
		}
	}
	return "", nil
}

func (h *Handler) readCall(sid string) (call caselog.Call, ok bool, err error) {
	err = h.log.View(func(tx *caselog.Tx) error {
		call, ok, err = tx.Call(sid)
		return err
	})
	if err != nil {
		return caselog.Call{}, false, fmt.Errorf("read call %s: %w", sid, err)
	}
	return call, ok, nil
}

// recording handles the recording status callback: the same case as the
// record action, whichever of the two comes first.
func (h *Handler) recording(ctx context.Context, f *twiliohttp.VoiceForm, st State) (outcome, error) {
	out := outcome{event: "recording_" + cmp.Or(f.RecordingStatus, "completed"), node: st.Node}
	url := strings.TrimSpace(f.RecordingUrl)
	if url == "" || (f.RecordingStatus != "" && f.RecordingStatus != "completed") {
		// absent (silence) or failed: nothing to keep. A silent caller
		// goes on through the menu; one who hung up is handled by the
		// status callback.
		return out, nil
	}
	call, _, err := h.readCall(f.CallSid)
	if err != nil {
		return outcome{}, err
	}
	name, n := h.recordNode(st, call)
	if n == nil {
		out.event = "recording_unplaced"
		return out, nil
	}
	lang := h.tree.lang(cmp.Or(st.Lang, call.Lang)).Code
	number, err := h.recordCase(ctx, f, name, lang, n.CaseKind, url)
	if err != nil {
		return outcome{}, err
	}
	out.node, out.number = name, number
	return out, nil
}

// transcription attaches Twilio's transcription to the case the recording
// made (found through the call record), making the case first should the
// transcription somehow overtake both recording webhooks.
func (h *Handler) transcription(ctx context.Context, f *twiliohttp.VoiceForm, st State) (outcome, error) {
	out := outcome{event: "transcription", node: st.Node}
	text := strings.TrimSpace(f.TranscriptionText)
	if text == "" || (f.TranscriptionStatus != "" && f.TranscriptionStatus != "completed") {
		out.event = "transcription_" + cmp.Or(f.TranscriptionStatus, "empty")
		return out, nil
	}
	call, _, err := h.readCall(f.CallSid)
	if err != nil {
		return outcome{}, err
	}
	name, n := h.recordNode(st, call)
	number := call.Data[caseRef(name)]
	if number == "" && n != nil {
		lang := h.tree.lang(cmp.Or(st.Lang, call.Lang)).Code
		if number, err = h.recordCase(ctx, f, name, lang, n.CaseKind, strings.TrimSpace(f.RecordingUrl)); err != nil {
			return outcome{}, err
		}
	}
	number = cmp.Or(number, call.Case)
	if number == "" {
		out.event = "transcription_unplaced"
		return out, nil
	}
	_, _, err = h.log.Do(ctx, keyTranscription(f.CallSid, cmp.Or(name, "call")), func(tx *caselog.Tx) (caselog.Result, error) {
		_, err := tx.Append(number, caselog.Addition{Transcription: text})
		return caselog.Result{Case: number}, err
	})
	if err != nil {
		return outcome{}, fmt.Errorf("attach transcription to case %s: %w", number, err)
	}
	out.node, out.number = name, number
	return out, nil
}

// status handles the call status callback. A call that ends is marked
// ended; one that ended in the menu without a case, a callback entry or a
// transfer is abandoned, and, if it lasted longer than AbandonedAfter,
// leaves a callback entry (one per number a day).
//
// A caller who hangs up at a record node before the beep leaves a case:
// its kind (complaint, report, voicemail) says what they wanted, staff find
// it by number like any other, its SMS gives the caller a number to add to
// by text, and it shares the record node's Do key, so a recording that
// turns up after all lands in that same case rather than a second one.
// A callback entry alone would say none of that.
func (h *Handler) status(ctx context.Context, f *twiliohttp.VoiceForm, _ State) (outcome, error) {
	out := outcome{event: "status_" + f.CallStatus}
	if !callEnded[f.CallStatus] {
		return out, nil
	}
	call, ok, err := h.readCall(f.CallSid)
	if err != nil {
		return outcome{}, err
	}
	out.node = call.Node
	if ok && call.EndedAt.IsZero() && call.Outcome == "" {
		if n := h.tree.Nodes[call.Node]; n != nil && n.Kind == KindRecord {
			number, err := h.recordCase(ctx, f, call.Node, call.Lang, n.CaseKind, "")
			if err != nil {
				return outcome{}, err
			}
			out.event, out.number = "hangup_at_record", number
		}
	}
	res, _, err := h.update(ctx, keyEnd(f.CallSid), f, func(tx *caselog.Tx, call *caselog.Call) (caselog.Result, error) {
		call.Status = f.CallStatus
		if !call.EndedAt.IsZero() {
			return caselog.Result{Data: map[string]string{"outcome": call.Outcome}}, nil
		}
		call.EndedAt = tx.Now()
		if call.Outcome != "" {
			return caselog.Result{Data: map[string]string{"outcome": call.Outcome}}, nil
		}
		call.Outcome = outcomeAbandoned
		res := caselog.Result{Data: map[string]string{"outcome": outcomeAbandoned}}
		if err := tx.Count(metricCallsAbandoned, 1); err != nil {
			return caselog.Result{}, err
		}
		lasted := time.Duration(f.CallDuration) * time.Second
		if lasted <= 0 {
			lasted = tx.Now().Sub(call.StartedAt)
		}
		if lasted <= h.abandonedAfter {
			return res, nil
		}
		// A withheld number cannot be called back.
		caller, err := h.log.NormalizeCaller(call.Caller)
		if err != nil {
			return res, nil
		}
		once := keyAbandoned(caller, tx.Now().In(h.loc).Format("20060102"))
		if tx.Seen(once) {
			return res, nil
		}
		cb, err := tx.EnqueueCallback(caselog.NewCallback{
			Caller: caller, Reason: reasonAbandoned, Lang: call.Lang, Priority: caselog.PriorityNormal,
		})
		if err != nil {
			return caselog.Result{}, err
		}
		if call.Data == nil {
			call.Data = map[string]string{}
		}
		call.Data["callback"] = cb.ID
		res.Callback = cb.ID
		return res, tx.Mark(once)
	})
	if err != nil {
		return outcome{}, fmt.Errorf("end call %s: %w", f.CallSid, err)
	}
	if out.number == "" {
		out.event = "ended_" + cmp.Or(res.Data["outcome"], "unknown")
	}
	out.callback = res.Callback
	return out, nil
}
