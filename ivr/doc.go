// Package ivr is the voice line: a menu tree described in YAML, the pure step
// logic that walks a caller through it, and the TwiML that each step answers.
//
// # The tree file
//
// The embedded default (default.yaml, see [DefaultYAML]) is written in the
// same format an operator uses for HOTLINE_IVR_FILE, so a copy of it is the
// usual starting point:
//
//	start: main                  # node a call begins at
//	languages:                   # first one is the language a call starts in
//	  - {code: zh-CN, voice: Polly.Zhiyu, speech: cmn-Hans-CN}
//	  - {code: en-US, voice: Polly.Joanna}
//	settings:
//	  gather_timeout: 6          # seconds to wait for a key
//	  no_input_repeats: 2        # prompt replays after the first (no input or a wrong key)
//	  no_input: no_input         # node a caller goes to when the replays are used up
//	  record_max_length: 180     # seconds
//	  record_finish_on_key: "#"
//	  ring_timeout: 20           # seconds staff phones ring before the fallback
//	messages: {invalid_key: {zh-CN: …, en-US: …}, …}  # system sentences, see below
//	statuses: {received: {zh-CN: …, en-US: …}, …}     # case status names as spoken
//	nodes:
//	  main: {kind: menu, prompt: {zh-CN: …, en-US: …}, keys: {"1": complaint}, speech: {"1": {zh-CN: [投诉]}}}
//
// Every prompt is a map language → text, and every language must have a text.
// Node kinds and their fields:
//
//	menu         prompt, keys (digit → node), speech (digit → language → phrases).
//	             "*" always repeats the prompt and cannot be a key.
//	message      prompt, next. Says the prompt, then goes to next.
//	record       prompt, case_kind (complaint | report | callback), next.
//	             Says the prompt, records after a beep; the recording becomes a
//	             case (callback = a voicemail that asks to be called back). The
//	             caller then hears the case number twice and goes to next, or
//	             is hung up on when next is empty.
//	case_status  prompt, next. Asks for a case number ended by "#".
//	callback     prompt, reason, next. Files a callback entry, then says the
//	             prompt (when to expect the call) and goes to next or hangs up.
//	transfer     prompt, ring_timeout, fallback, closed, no_answer. Dials staff
//	             when the line is open; otherwise, or when nobody answers, says
//	             closed / no_answer and goes to fallback.
//	language     language, next. Switches the call's language for good.
//	hangup       prompt. Says goodbye and hangs up.
//
// Messages the step logic needs (all required, {…} are filled in):
// invalid_key, invalid_case, case_not_found {number}, case_number {number},
// case_number_again {number}, case_status {number} {status} {due}.
//
// # Errors name their place
//
// [Load] and [Check] report every problem at once, each as a [CheckError]
// that names the path in the file and, when known, its line:
//
//	line 14: nodes.main.keys.3: no node "faq"
//
// # Steps
//
// A call's position is a [State] (node, language, try) carried in the query
// of every action URL we hand Twilio ([URL], [ParseState]). [Next] takes a
// State and what Twilio posted ([Input]) and returns a [Step]: what to say,
// which node to render, and an [Action] the web layer must carry out first
// (record a case, look one up, file a callback, decide on a transfer). The
// functions [Recorded], [StatusResult] and [Transfer] fold the action's result
// back into the Step, and [Render] turns it into TwiML. Nothing here does I/O.
package ivr
