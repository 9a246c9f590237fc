package ivr

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
)

// TestHandler_Webhooks: one named case per request shape, each a captured
// Twilio body signed with the production signer, against a fresh log.
func TestHandler_Webhooks(t *testing.T) {
	t.Parallel()
	const from = "+8613800138000"
	stateURL := func(r Route, node, lang string, try int) string {
		return URL(r, State{Node: node, Lang: lang, Try: try})
	}
	main1 := stateURL(RouteStep, "main", "zh-CN", 1)
	complaint1 := stateURL(RouteRecord, "complaint", "zh-CN", 1)
	type check func(t *testing.T, e *env, sid string, doc *xnode)
	type row struct {
		name   string
		target string
		form   string // testdata/<form>.form; "" sends no parameters
		kv     []string
		sign   signing
		setup  func(t *testing.T, e *env, sid string)
		status int
		check  check
	}
	// Every route refuses unsigned, wrongly signed and empty requests.
	standard := func(target, form string) []row {
		return []row{
			{name: target + "/missing signature", target: target, form: form, sign: unsigned, status: http.StatusForbidden},
			{name: target + "/invalid signature", target: target, form: form, sign: badlySigned, status: http.StatusForbidden},
			{name: target + "/no params", target: target, status: http.StatusBadRequest},
		}
	}
	verbs := func(want string) check {
		return func(t *testing.T, _ *env, _ string, doc *xnode) {
			if got := doc.verbs(); got != want {
				t.Errorf("verbs %q, want %q", got, want)
			}
		}
	}
	empty := verbs("")
	answered := func(t *testing.T, e *env, sid string) {
		// The call is known and on the menu: a step webhook follows an
		// incoming one.
		w := e.do(t, string(RouteIncoming), loadForm(t, "voice_incoming", "CallSid", sid), signed)
		if w.Code != http.StatusOK {
			t.Fatalf("incoming: %d", w.Code)
		}
	}

	var rows []row
	rows = append(rows, standard(string(RouteIncoming), "voice_incoming")...)
	rows = append(rows,
		row{name: "incoming/captured", target: string(RouteIncoming), form: "voice_incoming", status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				verbs("Gather Redirect")(t, e, sid, doc)
				if c := e.callRecord(t, sid); c.Caller != from || c.Node != "main" || c.Lang != "zh-CN" {
					t.Errorf("call record %+v", c)
				}
				if s := e.stats(t); s.CallsIn != 1 {
					t.Errorf("calls.in %d, want 1", s.CallsIn)
				}
			}},
		row{name: "incoming/retried counts once", target: string(RouteIncoming), form: "voice_incoming", status: 200,
			setup: answered,
			check: func(t *testing.T, e *env, _ string, _ *xnode) {
				if s := e.stats(t); s.CallsIn != 1 {
					t.Errorf("calls.in %d, want 1", s.CallsIn)
				}
			}},
		row{name: "incoming/missing CallSid", target: string(RouteIncoming), form: "voice_incoming", kv: []string{"CallSid", "-"}, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				verbs("Redirect")(t, e, sid, doc)
				if s := e.stats(t); s.CallsIn != 0 {
					t.Errorf("calls.in %d for a request without a call", s.CallsIn)
				}
			}},
		row{name: "incoming/garbled number field", target: string(RouteIncoming), form: "voice_incoming", kv: []string{"CallDuration", "x1"}, status: 200,
			check: verbs("Gather Redirect")},
	)

	rows = append(rows, standard(main1, "voice_gather")...)
	rows = append(rows,
		row{name: "step/captured key 1", target: main1, form: "voice_gather", setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				verbs("Say Record Redirect")(t, e, sid, doc)
				if c := e.callRecord(t, sid); c.Node != "complaint" {
					t.Errorf("call at %q, want complaint", c.Node)
				}
			}},
		row{name: "step/speech", target: main1, form: "voice_gather_speech", setup: answered, status: 200,
			check: verbs("Say Record Redirect")},
		row{name: "step/garbage digits", target: main1, form: "voice_gather", kv: []string{"Digits", "#%<x>"}, setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				verbs("Say Gather Redirect")(t, e, sid, doc)
				if !strings.Contains(doc.said(), e.tree.Messages[MsgInvalidKey]["zh-CN"]) {
					t.Errorf("said %q, want the invalid-key message", doc.said())
				}
			}},
		row{name: "step/unknown node starts over", target: "/twilio/voice/step?lang=xx&node=nowhere&try=7", form: "voice_gather", setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				verbs("Gather Redirect")(t, e, sid, doc)
				if a := doc.find("Gather").attr("action"); a != main1 {
					t.Errorf("gather action %q, want %q", a, main1)
				}
			}},
		row{name: "step/no query", target: string(RouteStep), form: "voice_gather", setup: answered, status: 200,
			check: verbs("Gather Redirect")},
		row{name: "step/missing CallSid", target: main1, form: "voice_gather", kv: []string{"CallSid", "-"}, status: 200,
			check: verbs("Redirect")},
		row{name: "step/unknown call still counted", target: main1, form: "voice_gather", kv: []string{"Digits", "3"}, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				verbs("Gather Redirect")(t, e, sid, doc)
				if s := e.stats(t); s.CallsIn != 1 {
					t.Errorf("calls.in %d, want 1", s.CallsIn)
				}
			}},
		row{name: "step/dial no-answer goes to fallback", target: stateURL(RouteStep, "staff", "zh-CN", 1), form: "voice_dial_action", setup: answered, status: 200,
			check: verbs("Say Redirect")},
	)

	rows = append(rows, standard(complaint1, "voice_record_action")...)
	rows = append(rows,
		row{name: "record/captured", target: complaint1, form: "voice_record_action", setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				verbs("Say Say Redirect")(t, e, sid, doc)
				c := e.oneCase(t, from)
				if c.Kind != caselog.Complaint || c.RecordingURL == "" || c.Source != sid {
					t.Errorf("case %+v", c)
				}
				if n := strings.Count(doc.said(), SpeakDigits(c.Number, "zh-CN")); n != 2 {
					t.Errorf("case number said %d times, want 2: %q", n, doc.said())
				}
			}},
		row{name: "record/no recording replays the prompt", target: complaint1, form: "voice_record_action", kv: []string{"RecordingUrl", "-"}, setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				verbs("Say Record Redirect")(t, e, sid, doc)
				if cs := e.casesOf(t, from); len(cs) != 0 {
					t.Errorf("%d cases without a recording", len(cs))
				}
			}},
		row{name: "record/garbled duration keeps the recording", target: complaint1, form: "voice_record_action", kv: []string{"RecordingDuration", "forty"}, setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) { e.oneCase(t, from) }},
	)

	recCB := stateURL(RouteRecording, "complaint", "zh-CN", 1)
	rows = append(rows, standard(recCB, "voice_recording_status")...)
	rows = append(rows,
		row{name: "recording/captured makes the case", target: recCB, form: "voice_recording_status", setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				empty(t, e, sid, doc)
				if c := e.oneCase(t, from); c.RecordingURL == "" || c.Lang != "zh-CN" {
					t.Errorf("case %+v", c)
				}
			}},
		row{name: "recording/absent makes nothing", target: recCB, form: "voice_recording_status", kv: []string{"RecordingStatus", "absent", "RecordingUrl", "-"}, setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				if cs := e.casesOf(t, from); len(cs) != 0 {
					t.Errorf("%d cases from an absent recording", len(cs))
				}
			}},
		row{name: "recording/unknown node, call at a menu", target: "/twilio/voice/recording?node=nowhere", form: "voice_recording_status", setup: answered, status: 200,
			check: empty},
		row{name: "recording/missing CallSid", target: recCB, form: "voice_recording_status", kv: []string{"CallSid", "-"}, status: 200,
			check: empty},
	)

	trCB := stateURL(RouteTranscription, "complaint", "en-US", 1)
	rows = append(rows, standard(trCB, "voice_transcription")...)
	rows = append(rows,
		row{name: "transcription/captured attaches to the case", target: trCB, form: "voice_transcription", status: 200,
			setup: func(t *testing.T, e *env, sid string) {
				answered(t, e, sid)
				e.do(t, recCB, loadForm(t, "voice_recording_status", "CallSid", sid), signed)
			},
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				c := e.oneCase(t, from)
				if !strings.Contains(c.Text, "broken kettle") {
					t.Errorf("case text %q", c.Text)
				}
			}},
		row{name: "transcription/failed attaches nothing", target: trCB, form: "voice_transcription", kv: []string{"TranscriptionStatus", "failed", "TranscriptionText", "-"}, setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				if cs := e.casesOf(t, from); len(cs) != 0 {
					t.Errorf("%d cases", len(cs))
				}
			}},
	)

	rows = append(rows, standard(string(RouteStatus), "voice_status_completed")...)
	rows = append(rows,
		row{name: "status/captured abandoned with callback", target: string(RouteStatus), form: "voice_status_completed", setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				empty(t, e, sid, doc)
				if s := e.stats(t); s.CallsAbandoned != 1 {
					t.Errorf("calls.abandoned %d, want 1", s.CallsAbandoned)
				}
				if cbs := e.callbacksOf(t, from); len(cbs) != 1 || cbs[0].Reason != reasonAbandoned {
					t.Errorf("callbacks %+v", cbs)
				}
				if c := e.callRecord(t, sid); c.EndedAt.IsZero() || c.Outcome != outcomeAbandoned {
					t.Errorf("call %+v", c)
				}
			}},
		row{name: "status/ringing changes nothing", target: string(RouteStatus), form: "voice_status_completed", kv: []string{"CallStatus", "ringing"}, setup: answered, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				if c := e.callRecord(t, sid); !c.EndedAt.IsZero() {
					t.Errorf("call ended on ringing: %+v", c)
				}
			}},
		row{name: "status/unknown call is counted in and abandoned", target: string(RouteStatus), form: "voice_status_completed", kv: []string{"CallStatus", "canceled", "CallDuration", "0"}, status: 200,
			check: func(t *testing.T, e *env, sid string, doc *xnode) {
				if s := e.stats(t); s.CallsIn != 1 || s.CallsAbandoned != 1 {
					t.Errorf("in %d abandoned %d, want 1 1", s.CallsIn, s.CallsAbandoned)
				}
			}},
		row{name: "status/missing CallSid", target: string(RouteStatus), form: "voice_status_completed", kv: []string{"CallSid", "-"}, status: 200,
			check: empty},
	)

	for _, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			sid := newSID("CA")
			if tt.setup != nil {
				tt.setup(t, e, sid)
			}
			form := url.Values{}
			if tt.form != "" {
				form = loadForm(t, tt.form, append([]string{"CallSid", sid}, tt.kv...)...)
			}
			w := e.do(t, tt.target, form, tt.sign)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if tt.status != http.StatusOK {
				return
			}
			if ct := w.Header().Get("Content-Type"); ct != "text/xml" {
				t.Errorf("Content-Type %q", ct)
			}
			doc := parseTwiML(t, w.Body.String())
			if tt.check != nil {
				tt.check(t, e, sid, doc)
			}
		})
	}
}

func caller(i int) string { return fmt.Sprintf("+86138001381%02d", i) }

// TestVoice_EndToEnd walks the default tree as callers do, each request
// going to a URL from the previous answer, and checks the case log.
func TestVoice_EndToEnd(t *testing.T) {
	t.Parallel()
	zh := func(e *env, name string) string { return e.tree.Messages[name]["zh-CN"] }

	t.Run("1 complaint, record action first, recording callback retried", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		c := e.call(t, caller(1))
		if doc := c.answer(); doc.verbs() != "Gather Redirect" || !strings.Contains(doc.said(), "投诉请按1") {
			t.Fatalf("greeting: %s %q", doc.verbs(), doc.said())
		}
		if doc := c.press("1"); doc.verbs() != "Say Record Redirect" {
			t.Fatalf("after 1: %s", doc.verbs())
		}
		rec := c.speak()
		doc := c.recordAction(rec)
		cs := e.oneCase(t, c.from)
		if n := strings.Count(doc.said(), SpeakDigits(cs.Number, "zh-CN")); n != 2 {
			t.Errorf("number said %d times: %q", n, doc.said())
		}
		c.recordingCallback(rec)
		c.recordingCallback(rec) // Twilio retries
		cs = e.oneCase(t, c.from)
		if cs.Caller != c.from || cs.Channel != caselog.Voice || cs.Kind != caselog.Complaint ||
			cs.Status != caselog.Received || cs.Lang != "zh-CN" || cs.RecordingURL != rec.url || cs.DueAt.IsZero() {
			t.Errorf("case %+v", cs)
		}
		if len(cs.Events) != 1 || cs.Events[0].Type != caselog.EventOpened {
			t.Errorf("events %+v, want one opened", cs.Events)
		}
		msgs := e.outbox(t, cs.Number)
		if len(msgs) != 1 || !strings.Contains(msgs[0].Body, cs.Number) || msgs[0].To != c.from {
			t.Errorf("outbox %+v, want one SMS with %s", msgs, cs.Number)
		}
		if doc := c.follow(); doc.verbs() != "Say Hangup" {
			t.Errorf("after the number: %s", doc.verbs())
		}
		c.hangUp("completed", 95)
		if s := e.stats(t); s.CallsIn != 1 || s.CallsAnswered != 1 || s.CallsAbandoned != 0 {
			t.Errorf("in/answered/abandoned %d/%d/%d, want 1/1/0", s.CallsIn, s.CallsAnswered, s.CallsAbandoned)
		}
		if n := e.cases.Load(); n != 1 {
			t.Errorf("OnCase called %d times", n)
		}
		if cbs := e.callbacksOf(t, c.from); len(cbs) != 0 {
			t.Errorf("callbacks %+v", cbs)
		}
	})

	t.Run("2 report, recording callback first", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		c := e.call(t, caller(2))
		c.answer()
		c.press("2")
		rec := c.speak()
		c.recordingCallback(rec)
		cs := e.oneCase(t, c.from)
		doc := c.recordAction(rec)
		if n := strings.Count(doc.said(), SpeakDigits(cs.Number, "zh-CN")); n != 2 {
			t.Errorf("number said %d times: %q", n, doc.said())
		}
		cs = e.oneCase(t, c.from)
		if cs.Kind != caselog.Report || cs.RecordingURL != rec.url {
			t.Errorf("case %+v", cs)
		}
		if msgs := e.outbox(t, cs.Number); len(msgs) != 1 {
			t.Errorf("%d SMS, want 1", len(msgs))
		}
	})

	t.Run("3 consultation, every answer, back to the menu", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		c := e.call(t, caller(3))
		c.answer()
		c.press("3")
		for _, k := range []string{"1", "2", "3", "4"} {
			doc := c.press(k)
			want := e.tree.Nodes[e.tree.Nodes["consult"].Keys[k]].Prompt["zh-CN"]
			if doc.verbs() != "Say Redirect" || doc.said() != want {
				t.Errorf("key %s: %s %q", k, doc.verbs(), doc.said())
			}
			if doc := c.follow(); doc.find("Gather") == nil || !strings.Contains(doc.find("Gather").attr("action"), "node=consult") {
				t.Fatalf("key %s did not lead back to the consultation menu", k)
			}
		}
		c.press("*")
		if !strings.Contains(c.last.find("Gather").attr("action"), "node=consult") {
			t.Error("* did not repeat the consultation menu")
		}
		c.press("9")
		if !strings.Contains(c.last.find("Gather").attr("action"), "node=main") {
			t.Error("9 did not lead back to the main menu")
		}
		c.hangUp("completed", 15) // short: abandoned, but no callback
		if s := e.stats(t); s.CallsAbandoned != 1 {
			t.Errorf("calls.abandoned %d", s.CallsAbandoned)
		}
		if cbs := e.callbacksOf(t, c.from); len(cbs) != 0 {
			t.Errorf("callbacks for a short call: %+v", cbs)
		}
	})

	t.Run("4 case status", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		known, _, err := e.log.Record(context.Background(), "SMtest", caselog.NewCase{
			Caller: caller(40), Channel: caselog.SMS, Kind: caselog.Complaint, Text: "secret details"})
		if err != nil {
			t.Fatal(err)
		}
		c := e.call(t, caller(4))
		c.answer()
		if doc := c.press("4"); doc.find("Gather").attr("finishOnKey") != "#" {
			t.Fatalf("status prompt: %s", doc.verbs())
		}
		wrong := known.Number[:len(known.Number)-1] + string('0'+(known.Number[len(known.Number)-1]-'0'+1)%10)
		doc := c.press(wrong + "#")
		if !strings.Contains(doc.said(), zh(e, MsgInvalidCase)) {
			t.Errorf("wrong check digit: %q", doc.said())
		}
		doc = c.press(unknownNumber(t, known.Number) + "#")
		if !strings.Contains(doc.said(), "没有查到") {
			t.Errorf("unknown number: %q", doc.said())
		}
		doc = c.press(known.Number + "#")
		said := doc.said()
		if !strings.Contains(said, e.tree.Statuses["received"]["zh-CN"]) ||
			!strings.Contains(said, FormatDate(known.DueAt.In(caselogtest.Shanghai), "zh-CN")) {
			t.Errorf("status answer %q", said)
		}
		if strings.Contains(said, "secret") || strings.Contains(said, "1381") {
			t.Errorf("status answer tells more than status and due date: %q", said)
		}
		if c.follow().find("Gather") == nil {
			t.Error("no menu after the status")
		}
	})

	t.Run("5 callback", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		c := e.call(t, caller(5))
		c.answer()
		if doc := c.press("5"); doc.verbs() != "Say Hangup" {
			t.Errorf("callback: %s", doc.verbs())
		}
		c.hangUp("completed", 60)
		cbs := e.callbacksOf(t, c.from)
		if len(cbs) != 1 || cbs[0].Reason != "caller_request" || cbs[0].Lang != "zh-CN" {
			t.Fatalf("callbacks %+v", cbs)
		}
		if s := e.stats(t); s.CallsAnswered != 1 || s.CallsAbandoned != 0 {
			t.Errorf("answered %d abandoned %d", s.CallsAnswered, s.CallsAbandoned)
		}
	})

	t.Run("0 staff after hours: callback entry, voicemail skipped", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		c := e.call(t, caller(6))
		c.answer()
		doc := c.press("0")
		if doc.find("Dial") != nil || !strings.Contains(doc.said(), e.tree.Nodes["staff"].Closed["zh-CN"]) {
			t.Fatalf("after hours: %s %q", doc.verbs(), doc.said())
		}
		c.follow() // staff_callback: the entry, then on to the voicemail
		if doc := c.follow(); doc.find("Record") == nil {
			t.Fatalf("no voicemail: %s", doc.verbs())
		}
		c.hangUp("completed", 40) // hangs up before the beep
		cbs := e.callbacksOf(t, c.from)
		if len(cbs) != 1 || cbs[0].Reason != "staff_unavailable" {
			t.Errorf("callbacks %+v", cbs)
		}
		if cs := e.casesOf(t, c.from); len(cs) != 0 {
			t.Errorf("cases %+v: the callback entry is the contact", cs)
		}
		if s := e.stats(t); s.CallsAnswered != 1 || s.CallsAbandoned != 0 {
			t.Errorf("answered %d abandoned %d", s.CallsAnswered, s.CallsAbandoned)
		}
	})

	t.Run("0 staff in hours: Dial, answered", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		e.open.Store(true)
		c := e.call(t, caller(7))
		c.answer()
		doc := c.press("0")
		d := doc.find("Dial")
		if d == nil || len(d.all("Number")) != 2 || strings.TrimSpace(d.all("Number")[0].Text) != staffPhones[0] {
			t.Fatalf("in hours: %s", doc.verbs())
		}
		if doc := c.dialed("completed"); doc.verbs() != "Hangup" {
			t.Errorf("after the dial: %s", doc.verbs())
		}
		c.hangUp("completed", 300)
		if s := e.stats(t); s.CallsAnswered != 1 || s.CallsAbandoned != 0 {
			t.Errorf("answered %d abandoned %d", s.CallsAnswered, s.CallsAbandoned)
		}
		if cbs := e.callbacksOf(t, c.from); len(cbs) != 0 {
			t.Errorf("callbacks %+v", cbs)
		}
	})

	t.Run("0 staff in hours: nobody answers", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		e.open.Store(true)
		c := e.call(t, caller(8))
		c.answer()
		c.press("0")
		if doc := c.dialed("no-answer"); !strings.Contains(doc.said(), e.tree.Nodes["staff"].NoAnswer["zh-CN"]) {
			t.Errorf("no answer: %q", doc.said())
		}
		c.follow()
		if cbs := e.callbacksOf(t, c.from); len(cbs) != 1 || cbs[0].Reason != "staff_unavailable" {
			t.Errorf("callbacks %+v", cbs)
		}
	})

	t.Run("9 English for the whole call, case in en-US, transcription attached", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		c := e.call(t, caller(9))
		c.answer()
		doc := c.press("9")
		if say := doc.find("Say"); say == nil || say.attr("language") != "en-US" || !strings.Contains(say.Text, "press 1") {
			t.Fatalf("English menu: %s", doc.verbs())
		}
		c.press("1")
		rec := c.speak()
		doc = c.recordAction(rec)
		cs := e.oneCase(t, c.from)
		if n := strings.Count(doc.said(), SpeakDigits(cs.Number, "en-US")); n != 2 {
			t.Errorf("number said %d times in English: %q", n, doc.said())
		}
		if doc := c.follow(); !strings.Contains(doc.said(), "Goodbye") {
			t.Errorf("goodbye not in English: %q", doc.said())
		}
		c.recordingCallback(rec)
		c.transcription(rec, "The shop refused to refund a broken kettle.")
		c.transcription(rec, "The shop refused to refund a broken kettle.") // retried
		cs = e.oneCase(t, c.from)
		if cs.Lang != "en-US" || strings.Count(cs.Text, "broken kettle") != 1 {
			t.Errorf("case lang %q text %q", cs.Lang, cs.Text)
		}
		if msgs := e.outbox(t, cs.Number); len(msgs) != 1 || !strings.Contains(msgs[0].Body, "case number is "+cs.Number) {
			t.Errorf("SMS %+v, want one in English", msgs)
		}
		if call := e.callRecord(t, c.sid); call.Lang != "en-US" {
			t.Errorf("call lang %q", call.Lang)
		}
	})

	t.Run("no input and a wrong key end in goodbye; abandoned callback once a day", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		from := caller(10)
		c := e.call(t, from)
		c.answer()
		c.press("") // no input: prompt again
		c.press("7")
		if !strings.Contains(c.last.said(), zh(e, MsgInvalidKey)) {
			t.Errorf("wrong key: %q", c.last.said())
		}
		doc := c.press("")
		if !strings.Contains(doc.find("Gather").attr("action"), "node=no_input") {
			t.Fatalf("replays used up, want the no-input node: %s", doc.find("Gather").attr("action"))
		}
		if doc := c.press(""); doc.verbs() != "Hangup" {
			t.Errorf("silence at the no-input node: %s", doc.verbs())
		}
		c.hangUp("completed", 45)
		if cbs := e.callbacksOf(t, from); len(cbs) != 1 || cbs[0].Reason != reasonAbandoned || cbs[0].Lang != "zh-CN" {
			t.Fatalf("callbacks %+v", cbs)
		}
		again := e.call(t, from)
		again.answer()
		again.hangUp("completed", 50)
		again.hangUp("completed", 50) // retried
		if cbs := e.callbacksOf(t, from); len(cbs) != 1 {
			t.Errorf("second abandoned call the same day: %d callbacks", len(cbs))
		}
		if s := e.stats(t); s.CallsIn != 2 || s.CallsAbandoned != 2 || s.CallsAnswered != 0 {
			t.Errorf("in/answered/abandoned %d/%d/%d", s.CallsIn, s.CallsAnswered, s.CallsAbandoned)
		}
		e.clock.Advance(24 * time.Hour)
		next := e.call(t, from)
		next.answer()
		next.hangUp("completed", 30)
		if cbs := e.callbacksOf(t, from); len(cbs) != 2 {
			t.Errorf("abandoned call the next day: %d callbacks, want 2", len(cbs))
		}
	})

	t.Run("hang-up before the beep leaves a case; late recording joins it", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		c := e.call(t, caller(11))
		c.answer()
		c.press("1")
		rec := c.speak()
		c.hangUp("completed", 30)
		cs := e.oneCase(t, c.from)
		if cs.RecordingURL != "" || cs.Text != hangupText || cs.Kind != caselog.Complaint {
			t.Errorf("case %+v", cs)
		}
		if s := e.stats(t); s.CallsAnswered != 1 || s.CallsAbandoned != 0 {
			t.Errorf("answered %d abandoned %d", s.CallsAnswered, s.CallsAbandoned)
		}
		if msgs := e.outbox(t, cs.Number); len(msgs) != 1 {
			t.Errorf("%d SMS", len(msgs))
		}
		c.recordingCallback(rec)
		c.recordingCallback(rec)
		if got := e.oneCase(t, c.from); got.RecordingURL != rec.url || len(got.Events) != 2 {
			t.Errorf("after the late recording: url %q, %d events", got.RecordingURL, len(got.Events))
		}
	})
}

// unknownNumber returns a well-formed case number no case has yet.
func unknownNumber(t *testing.T, known string) string {
	t.Helper()
	body := []byte(known[:len(known)-1])
	body[len(body)-2] = '9' // far beyond the first few cases
	for d := byte('0'); d <= '9'; d++ {
		if n := string(body) + string(d); caselog.Valid(n) {
			return n
		}
	}
	t.Fatal("no valid number found")
	return ""
}
