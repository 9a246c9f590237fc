package ivr

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// State is where a call is: the node whose prompt the caller last heard, the
// language of the call, and how many times that prompt has been played
// (Try 1 is the first time). Try 0 means "not entered yet": the next step
// enters Node. A State travels in the query of our action URLs.
type State struct {
	Node string
	Lang string
	Try  int
}

// Input is what Twilio posted for the step.
type Input struct {
	Digits       string // Digits, without the finishing "#"
	Speech       string // SpeechResult
	RecordingURL string // RecordingUrl, on a record action
	DialStatus   string // DialCallStatus, on a dial action
}

// Action is what the web layer must do before it answers a Step.
type Action string

const (
	// ActionNone: render the step as it is.
	ActionNone Action = ""
	// ActionRecordCase: record a case of CaseKind with Recording, then
	// pass its number to Recorded.
	ActionRecordCase Action = "record_case"
	// ActionLookupCase: look up Number (already validated), then pass the
	// result to StatusResult.
	ActionLookupCase Action = "lookup_case"
	// ActionCallback: file a callback entry for the caller with Reason, in
	// State.Lang, then render.
	ActionCallback Action = "callback"
	// ActionTransfer: decide whether staff can take the call now and with
	// which numbers, and pass that to Transfer.
	ActionTransfer Action = "transfer"
)

// Step is the answer to one webhook: what to say, what to do, where to go.
type Step struct {
	From  State // the state whose input this step answers
	State State // what to render: Node "" hangs up; Try 0 redirects to enter Node
	Say   []string

	Action    Action
	CaseKind  string   // ActionRecordCase: complaint, report or callback
	Recording string   // ActionRecordCase: the recording URL
	Number    string   // ActionLookupCase: the case number keyed in
	Reason    string   // ActionCallback: why the caller wants a call
	Dial      []string // set by Transfer when staff phones should ring
}

// Start is the first step of a call.
func Start(t *Tree) Step {
	st := State{Node: t.Start, Lang: t.lang("").Code}
	return enter(t, st, t.Start, st.Lang)
}

// Next decides what follows the input in from state st. valid says whether a
// keyed-in case number is well formed (the web layer passes caselog.Valid),
// so a wrong check digit is caught before any look-up.
//
// A state naming a node the tree does not have (an old URL after the tree
// changed) starts the call over; an unknown language becomes the first one.
func Next(t *Tree, st State, in Input, valid func(string) bool) Step {
	st.Lang = t.lang(st.Lang).Code
	n := t.Nodes[st.Node]
	if n == nil {
		return enter(t, st, t.Start, st.Lang)
	}
	if st.Try <= 0 {
		return enter(t, st, st.Node, st.Lang)
	}
	switch n.Kind {
	case KindMenu:
		key := strings.TrimSuffix(in.Digits, "#")
		if key == "" && in.Speech != "" {
			key = matchSpeech(n, st.Lang, in.Speech)
			if key == "" {
				return retry(t, st, t.message(MsgInvalidKey, st.Lang))
			}
		}
		switch {
		case key == "":
			return noInput(t, st)
		case key == "*":
			return Step{From: st, State: st}
		case n.Keys[key] != "":
			return enter(t, st, n.Keys[key], st.Lang)
		}
		return retry(t, st, t.message(MsgInvalidKey, st.Lang))

	case KindRecord:
		if in.RecordingURL == "" {
			// Record falls through to our redirect when nothing was said.
			return noInput(t, st)
		}
		return Step{From: st, State: after(n, st.Lang), Action: ActionRecordCase,
			CaseKind: n.CaseKind, Recording: in.RecordingURL}

	case KindCaseStatus:
		number := strings.TrimSuffix(in.Digits, "#")
		switch {
		case number == "":
			return noInput(t, st)
		case number == "*":
			return Step{From: st, State: st}
		case !valid(number):
			return retry(t, st, t.message(MsgInvalidCase, st.Lang))
		}
		return Step{From: st, State: after(n, st.Lang), Action: ActionLookupCase, Number: number}

	case KindTransfer:
		switch in.DialStatus {
		case "completed", "answered":
			return Step{From: st, State: State{Lang: st.Lang}}
		}
		return Step{From: st, State: State{Node: n.Fallback, Lang: st.Lang},
			Say: nonEmpty(t.text(n.NoAnswer, st.Lang))}

	case KindHangup:
		return Step{From: st, State: State{Lang: st.Lang}}
	}
	// message, callback, language: their rendering already moved on to next;
	// a stray request for them does the same.
	return enter(t, st, n.Next, st.Lang)
}

// after is where a node's action leads once done: entered by a redirect, so
// that the next node may ask for an action of its own.
func after(n *Node, lang string) State {
	return State{Node: n.Next, Lang: lang}
}

// enter moves the call onto node name. Language nodes take effect here and
// never reach the caller; callback and transfer nodes ask for their action.
func enter(t *Tree, from State, name, lang string) Step {
	for range len(t.Nodes) + 1 {
		n := t.Nodes[name]
		if n == nil {
			return Step{From: from, State: State{Lang: lang}}
		}
		st := State{Node: name, Lang: lang, Try: 1}
		switch n.Kind {
		case KindLanguage:
			lang, name = t.lang(n.Language).Code, n.Next
			continue
		case KindCallback:
			reason := n.Reason
			if reason == "" {
				reason = name
			}
			return Step{From: from, State: st, Action: ActionCallback, Reason: reason}
		case KindTransfer:
			return Step{From: from, State: st, Action: ActionTransfer}
		}
		return Step{From: from, State: st}
	}
	// Only language nodes that lead to each other get here; Check does not
	// forbid the loop, so end the call rather than spin.
	return Step{From: from, State: State{Lang: lang}}
}

// noInput replays the prompt. The node callers are sent to when replays run
// out says goodbye already, so silence there ends the call at once.
func noInput(t *Tree, st State) Step {
	if st.Node == t.Settings.NoInput {
		return Step{From: st, State: State{Lang: st.Lang}}
	}
	return retry(t, st, "")
}

// retry says what went wrong and plays the prompt again; wrong keys and
// silence share one budget, so nobody loops forever.
func retry(t *Tree, st State, say string) Step {
	if st.Try > t.Settings.NoInputRepeats {
		// Out of replays: on to the no-input node, or, if this is it (or the
		// tree has none), end the call.
		s := Step{From: st, State: State{Lang: st.Lang}}
		if t.Settings.NoInput != st.Node {
			s = enter(t, st, t.Settings.NoInput, st.Lang)
		}
		s.Say = append(nonEmpty(say), s.Say...)
		return s
	}
	return Step{From: st, State: State{Node: st.Node, Lang: st.Lang, Try: st.Try + 1}, Say: nonEmpty(say)}
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// matchSpeech returns the key whose phrase the caller said, or "". Case,
// spaces and punctuation are ignored, so "Call back." matches "callback".
func matchSpeech(n *Node, lang, speech string) string {
	said := fold(speech)
	if said == "" {
		return ""
	}
	for _, k := range slices.Sorted(maps.Keys(n.Speech)) {
		for _, p := range n.Speech[k][lang] {
			if f := fold(p); f != "" && strings.Contains(said, f) {
				return k
			}
		}
	}
	return ""
}

func fold(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// Recorded completes an ActionRecordCase step once the case exists: the
// caller hears its number twice.
func Recorded(t *Tree, s Step, number string) Step {
	lang := s.From.Lang
	digits := SpeakDigits(number, lang)
	s.Say = append(s.Say,
		t.message(MsgCaseNumber, lang, "number", digits),
		t.message(MsgCaseNumberAgain, lang, "number", digits))
	return s
}

// StatusResult completes an ActionLookupCase step: a known case's status and
// due date (and nothing else about it), or "not found" and a chance to key
// the number again.
func StatusResult(t *Tree, s Step, found bool, status string, due time.Time) Step {
	lang := s.From.Lang
	digits := SpeakDigits(s.Number, lang)
	if !found {
		r := retry(t, s.From, t.message(MsgCaseNotFound, lang, "number", digits))
		r.Number = s.Number
		return r
	}
	s.Say = append(s.Say, t.message(MsgCaseStatus, lang,
		"number", digits, "status", t.statusName(status, lang), "due", FormatDate(due, lang)))
	return s
}

// Transfer completes an ActionTransfer step. open says whether staff take
// calls now (business hours, not a holiday); numbers are the phones to ring.
// When the line is closed or nobody is on it the caller hears why and goes
// to the node's fallback.
func Transfer(t *Tree, s Step, open bool, numbers []string) Step {
	n := t.Nodes[s.State.Node]
	if n == nil || n.Kind != KindTransfer {
		return s
	}
	if open && len(numbers) > 0 {
		s.Dial = slices.Clone(numbers)
		return s
	}
	msg := n.Closed
	if open {
		msg = n.NoAnswer
	}
	s.Say = append(s.Say, nonEmpty(t.text(msg, s.State.Lang))...)
	s.State = State{Node: n.Fallback, Lang: s.State.Lang}
	return s
}

// SpeakDigits writes a number so that text-to-speech reads it digit by
// digit, in groups of three with a pause between (the last groups are two
// and two rather than leave one digit alone). Chinese voices get the digits
// as characters (一二三，四五六): written as "123456" they would read
// 十二万三千…; other languages get spaced digits ("1 2 3, 4 5 6").
// Anything but a digit is dropped.
func SpeakDigits(number, lang string) string {
	var ds []rune
	for _, r := range number {
		if r >= '0' && r <= '9' {
			ds = append(ds, r)
		}
	}
	zh := strings.HasPrefix(strings.ToLower(lang), "zh")
	var groups []string
	for len(ds) > 0 {
		size := min(3, len(ds))
		if len(ds) == 4 {
			size = 2
		}
		var b strings.Builder
		for i, r := range ds[:size] {
			switch {
			case zh:
				b.WriteRune([]rune("零一二三四五六七八九")[r-'0'])
			default:
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteRune(r)
			}
		}
		groups = append(groups, b.String())
		ds = ds[size:]
	}
	if zh {
		return strings.Join(groups, "，")
	}
	return strings.Join(groups, ", ")
}

// FormatDate says a due date the way the language writes it.
func FormatDate(d time.Time, lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "zh") {
		return fmt.Sprintf("%d年%d月%d日", d.Year(), d.Month(), d.Day())
	}
	return d.Format("January 2, 2006")
}

// Route is one of our voice webhook paths that TwiML points Twilio at.
type Route string

const (
	RouteStep          Route = "/twilio/voice/step"          // gather, dial and redirect actions
	RouteRecord        Route = "/twilio/voice/record"        // <Record action>
	RouteRecording     Route = "/twilio/voice/recording"     // recording status callback
	RouteTranscription Route = "/twilio/voice/transcription" // transcription callback
)

// URL is the one place action URLs are built: the route with the state in
// its query. Twilio resolves these against the URL it just requested, so they
// stay on HOTLINE_PUBLIC_URL's host.
func URL(r Route, st State) string {
	q := url.Values{}
	q.Set("node", st.Node)
	q.Set("lang", st.Lang)
	q.Set("try", strconv.Itoa(st.Try))
	return string(r) + "?" + q.Encode()
}

// ParseState reads the state URL put in a query. A missing or bad try is 0,
// which enters the node afresh.
func ParseState(q url.Values) State {
	try, err := strconv.Atoi(q.Get("try"))
	if err != nil || try < 0 {
		try = 0
	}
	return State{Node: q.Get("node"), Lang: q.Get("lang"), Try: try}
}
