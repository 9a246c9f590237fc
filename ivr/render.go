package ivr

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/twiml"
)

// ErrUnresolved is returned by Render for a transfer step that Transfer has
// not decided yet: TwiML cannot dial nobody.
var ErrUnresolved = errors.New("ivr: transfer step not resolved; call Transfer first")

// Render answers a step with TwiML: the step's sentences, then the node in
// s.State — its prompt and the verb that waits for the caller (Gather,
// Record, Dial), or a Redirect when the state is to be entered afresh, or a
// Hangup. The caller's action comes back to the URLs built by URL.
func Render(t *Tree, s Step) (string, error) {
	st := s.State
	st.Lang = t.lang(st.Lang).Code
	lang := t.lang(st.Lang)
	say := func(text string) twiml.Element {
		return twiml.VoiceSay{Message: text, Voice: lang.Voice, Language: lang.Code}
	}
	var verbs []twiml.Element
	for _, text := range s.Say {
		if text != "" {
			verbs = append(verbs, say(text))
		}
	}
	n := t.Nodes[st.Node]
	if n == nil {
		return twiml.Voice(append(verbs, twiml.VoiceHangup{}))
	}
	if st.Try <= 0 || n.Kind == KindLanguage {
		st.Try = 0
		return twiml.Voice(append(verbs, redirect(st)))
	}
	prompt := t.text(n.Prompt, st.Lang)
	// moveOn ends a node that does not wait for the caller.
	moveOn := func() twiml.Element {
		if n.Next == "" {
			return twiml.VoiceHangup{}
		}
		return redirect(State{Node: n.Next, Lang: st.Lang})
	}

	switch n.Kind {
	case KindMenu:
		g := twiml.VoiceGather{
			Input:               "dtmf",
			Action:              URL(RouteStep, st),
			Timeout:             strconv.Itoa(t.Settings.GatherTimeout),
			NumDigits:           "1",
			ActionOnEmptyResult: "true",
			InnerElements:       []twiml.Element{say(prompt)},
		}
		if hints := speechHints(n, st.Lang); hints != "" {
			g.Input = "dtmf speech"
			g.Language = cmp.Or(lang.Speech, lang.Code)
			g.Hints = hints
			g.SpeechTimeout = "auto"
		}
		// The redirect is reached only if Twilio skips the action on an
		// empty result; it arrives as no input.
		verbs = append(verbs, g, redirect(st))

	case KindCaseStatus:
		verbs = append(verbs, twiml.VoiceGather{
			Input:               "dtmf",
			Action:              URL(RouteStep, st),
			Timeout:             strconv.Itoa(t.Settings.GatherTimeout),
			FinishOnKey:         "#",
			ActionOnEmptyResult: "true",
			InnerElements:       []twiml.Element{say(prompt)},
		}, redirect(st))

	case KindRecord:
		r := twiml.VoiceRecord{
			Action:                       URL(RouteRecord, st),
			MaxLength:                    strconv.Itoa(t.Settings.RecordMaxLength),
			FinishOnKey:                  t.Settings.RecordFinishOnKey,
			PlayBeep:                     "true",
			RecordingStatusCallback:      URL(RouteRecording, st),
			RecordingStatusCallbackEvent: "completed",
		}
		// Twilio transcribes English only.
		if strings.HasPrefix(st.Lang, "en") {
			r.Transcribe = "true"
			r.TranscribeCallback = URL(RouteTranscription, st)
		}
		// Record goes on to the next verb when nothing was recorded: that
		// counts as no input.
		verbs = append(verbs, say(prompt), r, redirect(st))

	case KindTransfer:
		if len(s.Dial) == 0 {
			return "", fmt.Errorf("render node %q: %w", st.Node, ErrUnresolved)
		}
		d := twiml.VoiceDial{
			Action:  URL(RouteStep, st),
			Timeout: strconv.Itoa(t.ringTimeout(n)),
		}
		for _, number := range s.Dial {
			d.InnerElements = append(d.InnerElements, twiml.VoiceNumber{PhoneNumber: number})
		}
		verbs = append(verbs, say(prompt), d)

	case KindMessage, KindCallback:
		verbs = append(verbs, say(prompt), moveOn())

	case KindHangup:
		verbs = append(verbs, say(prompt), twiml.VoiceHangup{})

	default:
		return "", fmt.Errorf("render node %q: unknown kind %q", st.Node, n.Kind)
	}
	return twiml.Voice(verbs)
}

func redirect(st State) twiml.Element {
	return twiml.VoiceRedirect{Url: URL(RouteStep, st)}
}

// speechHints lists a menu's phrases in lang for the recogniser; "" means the
// menu takes keys only.
func speechHints(n *Node, lang string) string {
	var hints []string
	for _, k := range slices.Sorted(maps.Keys(n.Speech)) {
		hints = append(hints, n.Speech[k][lang]...)
	}
	return strings.Join(hints, ", ")
}
