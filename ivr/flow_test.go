package ivr

import (
	"net/url"
	"reflect"
	"testing"
	"time"
)

func mustDefault(t *testing.T) *Tree {
	t.Helper()
	tree, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// validCase stands in for caselog.Valid: the tests only need one number that
// passes and others that do not.
func validCase(n string) bool { return n == "2024000017" || n == "9999990" }

func TestStart(t *testing.T) {
	t.Parallel()
	got := Start(mustDefault(t))
	want := Step{From: State{Node: "main", Lang: "zh-CN"}, State: State{Node: "main", Lang: "zh-CN", Try: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Start = %+v, want %+v", got, want)
	}
}

func TestNext(t *testing.T) {
	t.Parallel()
	tree := mustDefault(t)
	zh := func(node string, try int) State { return State{Node: node, Lang: "zh-CN", Try: try} }
	en := func(node string, try int) State { return State{Node: node, Lang: "en-US", Try: try} }
	main1, main3 := zh("main", 1), zh("main", 3)
	invalidZH := tree.Messages[MsgInvalidKey]["zh-CN"]
	invalidEN := tree.Messages[MsgInvalidKey]["en-US"]
	hangZH := State{Lang: "zh-CN"}

	tests := []struct {
		name string
		st   State
		in   Input
		want Step
	}{
		{"1 complaint", main1, Input{Digits: "1"}, Step{State: zh("complaint", 1)}},
		{"2 report", main1, Input{Digits: "2"}, Step{State: zh("report", 1)}},
		{"3 consultation", main1, Input{Digits: "3"}, Step{State: zh("consult", 1)}},
		{"4 case status", main1, Input{Digits: "4"}, Step{State: zh("status", 1)}},
		{"5 callback", main1, Input{Digits: "5"},
			Step{State: zh("callback", 1), Action: ActionCallback, Reason: "caller_request"}},
		{"0 staff", main1, Input{Digits: "0"}, Step{State: zh("staff", 1), Action: ActionTransfer}},
		{"9 English", main1, Input{Digits: "9"}, Step{State: en("main", 1)}},
		{"9 from English stays English", en("main", 2), Input{Digits: "9"}, Step{State: en("main", 1)}},
		{"English keeps English", en("main", 1), Input{Digits: "1"}, Step{State: en("complaint", 1)}},
		{"star repeats, try unchanged", zh("main", 2), Input{Digits: "*"}, Step{State: zh("main", 2)}},
		{"wrong key says so and asks again", main1, Input{Digits: "7"},
			Step{State: zh("main", 2), Say: []string{invalidZH}}},
		{"wrong key in English", en("main", 1), Input{Digits: "8"},
			Step{State: en("main", 2), Say: []string{invalidEN}}},
		{"no input repeats", main1, Input{}, Step{State: zh("main", 2)}},
		{"no input on the last repeat goes to no_input", main3, Input{}, Step{State: zh("no_input", 1)}},
		{"wrong key on the last repeat", main3, Input{Digits: "8"},
			Step{State: zh("no_input", 1), Say: []string{invalidZH}}},
		{"silence at no_input hangs up", zh("no_input", 1), Input{}, Step{State: hangZH}},
		{"no_input offers a callback", zh("no_input", 1), Input{Digits: "5"},
			Step{State: zh("callback", 1), Action: ActionCallback, Reason: "caller_request"}},
		{"speech picks a key", main1, Input{Speech: "我要投诉。"}, Step{State: zh("complaint", 1)}},
		{"speech in English", en("main", 1), Input{Speech: "Call back, please"},
			Step{State: en("callback", 1), Action: ActionCallback, Reason: "caller_request"}},
		{"speech that matches nothing", main1, Input{Speech: "天气怎么样"},
			Step{State: zh("main", 2), Say: []string{invalidZH}}},
		{"consult answer", zh("consult", 1), Input{Digits: "2"}, Step{State: zh("faq_warranty", 1)}},
		{"consult back to main", zh("consult", 1), Input{Digits: "9"}, Step{State: zh("main", 1)}},
		{"message moves on", zh("faq_returns", 1), Input{}, Step{State: zh("consult", 1)}},

		{"recording makes a case", zh("complaint", 1), Input{RecordingURL: "https://api.twilio.com/rec/RE1"},
			Step{State: State{Node: "registered", Lang: "zh-CN"}, Action: ActionRecordCase,
				CaseKind: CaseComplaint, Recording: "https://api.twilio.com/rec/RE1"}},
		{"report recording", en("report", 2), Input{RecordingURL: "u"},
			Step{State: State{Node: "registered", Lang: "en-US"}, Action: ActionRecordCase, CaseKind: CaseReport, Recording: "u"}},
		{"voicemail is a callback case", zh("voicemail", 1), Input{RecordingURL: "u"},
			Step{State: State{Node: "registered", Lang: "zh-CN"}, Action: ActionRecordCase, CaseKind: CaseCallback, Recording: "u"}},
		{"nothing recorded asks again", zh("complaint", 1), Input{}, Step{State: zh("complaint", 2)}},

		{"case number looked up", zh("status", 1), Input{Digits: "2024000017"},
			Step{State: State{Node: "main", Lang: "zh-CN"}, Action: ActionLookupCase, Number: "2024000017"}},
		{"case number with its hash", zh("status", 1), Input{Digits: "2024000017#"},
			Step{State: State{Node: "main", Lang: "zh-CN"}, Action: ActionLookupCase, Number: "2024000017"}},
		{"wrong check digit caught before look-up", zh("status", 1), Input{Digits: "2024000018"},
			Step{State: zh("status", 2), Say: []string{tree.Messages[MsgInvalidCase]["zh-CN"]}}},
		{"no case number asks again", zh("status", 2), Input{}, Step{State: zh("status", 3)}},

		{"staff answered then hung up", zh("staff", 1), Input{DialStatus: "completed"}, Step{State: hangZH}},
		{"staff did not answer", zh("staff", 1), Input{DialStatus: "no-answer"},
			Step{State: State{Node: "staff_callback", Lang: "zh-CN"}, Say: []string{tree.Nodes["staff"].NoAnswer["zh-CN"]}}},
		{"entering a callback by redirect", State{Node: "staff_callback", Lang: "en-US"}, Input{},
			Step{State: en("staff_callback", 1), Action: ActionCallback, Reason: "staff_unavailable"}},
		{"entering the end of a record by redirect", State{Node: "registered", Lang: "zh-CN"}, Input{},
			Step{State: zh("registered", 1)}},
		{"hangup node", zh("registered", 1), Input{}, Step{State: hangZH}},
		{"unknown node starts over", zh("gone", 2), Input{Digits: "1"}, Step{State: main1}},
		{"unknown language becomes the first", State{Node: "main", Lang: "xx", Try: 1}, Input{Digits: "2"},
			Step{State: zh("report", 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Next(tree, tt.st, tt.in, validCase)
			want := tt.want
			want.From = tt.st
			if tt.st.Lang == "xx" {
				want.From.Lang = "zh-CN"
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Next(%+v, %+v)\n got %+v\nwant %+v", tt.st, tt.in, got, want)
			}
		})
	}
}

// The whole no-input path of the main menu: the prompt three times in all
// (no_input_repeats: 2), then the goodbye that offers a callback, then hang up.
func TestNext_NoInputSequence(t *testing.T) {
	t.Parallel()
	tree := mustDefault(t)
	s := Start(tree)
	var nodes []string
	for range 6 {
		nodes = append(nodes, s.State.Node)
		if s.State.Node == "" {
			break
		}
		s = Next(tree, s.State, Input{}, validCase)
	}
	want := []string{"main", "main", "main", "no_input", ""}
	if !reflect.DeepEqual(nodes, want) {
		t.Errorf("nodes = %q, want %q", nodes, want)
	}
}

func TestRecorded(t *testing.T) {
	t.Parallel()
	tree := mustDefault(t)
	for _, tt := range []struct {
		lang string
		want []string
	}{
		{"zh-CN", []string{"您的反映已经登记，案件编号是：二零二，四零零，零零，一七。", "再说一遍，案件编号是：二零二，四零零，零零，一七。"}},
		{"en-US", []string{"Thank you, your case is registered. Your case number is 2 0 2, 4 0 0, 0 0, 1 7.",
			"Once again, your case number is 2 0 2, 4 0 0, 0 0, 1 7."}},
	} {
		st := State{Node: "complaint", Lang: tt.lang, Try: 1}
		s := Next(tree, st, Input{RecordingURL: "u"}, validCase)
		got := Recorded(tree, s, "2024000017")
		if !reflect.DeepEqual(got.Say, tt.want) {
			t.Errorf("%s: Say = %q, want %q", tt.lang, got.Say, tt.want)
		}
		if got.State != (State{Node: "registered", Lang: tt.lang}) {
			t.Errorf("%s: State = %+v", tt.lang, got.State)
		}
	}
}

func TestStatusResult(t *testing.T) {
	t.Parallel()
	tree := mustDefault(t)
	due := time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)
	st := State{Node: "status", Lang: "zh-CN", Try: 1}
	s := Next(tree, st, Input{Digits: "9999990"}, validCase)

	found := StatusResult(tree, s, true, "mediating", due)
	wantSay := []string{"案件九九九，九九，九零目前的状态是：调解中，办理期限是2025年3月5日。"}
	if !reflect.DeepEqual(found.Say, wantSay) || found.State != (State{Node: "main", Lang: "zh-CN"}) {
		t.Errorf("found: %+v, want Say %q and a redirect to main", found, wantSay)
	}

	missing := StatusResult(tree, s, false, "", time.Time{})
	want := Step{From: st, State: State{Node: "status", Lang: "zh-CN", Try: 2}, Number: "9999990",
		Say: []string{"没有查到编号为九九九，九九，九零的案件，请核对后重新输入。"}}
	if !reflect.DeepEqual(missing, want) {
		t.Errorf("not found:\n got %+v\nwant %+v", missing, want)
	}

	en := Next(tree, State{Node: "status", Lang: "en-US", Try: 1}, Input{Digits: "9999990"}, validCase)
	got := StatusResult(tree, en, true, "on_hold", due).Say
	if want := []string{"Case 9 9 9, 9 9, 9 0 is on_hold. It is due to be dealt with by March 5, 2025."}; !reflect.DeepEqual(got, want) {
		t.Errorf("en, unnamed status: Say = %q, want %q", got, want)
	}
}

func TestTransfer(t *testing.T) {
	t.Parallel()
	tree := mustDefault(t)
	s := Next(tree, State{Node: "main", Lang: "en-US", Try: 1}, Input{Digits: "0"}, validCase)
	staff := tree.Nodes["staff"]
	fallback := State{Node: "staff_callback", Lang: "en-US"}
	tests := []struct {
		name    string
		open    bool
		numbers []string
		dial    []string
		state   State
		say     []string
	}{
		{"open", true, []string{"+8610123", "+8610456"}, []string{"+8610123", "+8610456"}, s.State, nil},
		{"closed", false, []string{"+8610123"}, nil, fallback, []string{staff.Closed["en-US"]}},
		{"open but nobody on duty", true, nil, nil, fallback, []string{staff.NoAnswer["en-US"]}},
	}
	for _, tt := range tests {
		got := Transfer(tree, s, tt.open, tt.numbers)
		if !reflect.DeepEqual(got.Dial, tt.dial) || got.State != tt.state || !reflect.DeepEqual(got.Say, tt.say) {
			t.Errorf("%s: got Dial %q State %+v Say %q; want %q %+v %q", tt.name, got.Dial, got.State, got.Say, tt.dial, tt.state, tt.say)
		}
	}
}

func TestSpeakDigits(t *testing.T) {
	t.Parallel()
	tests := []struct{ number, lang, want string }{
		{"123456", "zh-CN", "一二三，四五六"},
		{"1234567", "zh-CN", "一二三，四五，六七"},
		{"12345678", "zh-CN", "一二三，四五六，七八"},
		{"100200300009", "zh-CN", "一零零，二零零，三零零，零零九"},
		{"123456", "en-US", "1 2 3, 4 5 6"},
		{"1234567890", "en-US", "1 2 3, 4 5 6, 7 8, 9 0"},
		{"12-34 56", "en-US", "1 2 3, 4 5 6"},
		{"1234", "en-US", "1 2, 3 4"},
		{"7", "zh-CN", "七"},
		{"", "zh-CN", ""},
	}
	for _, tt := range tests {
		if got := SpeakDigits(tt.number, tt.lang); got != tt.want {
			t.Errorf("SpeakDigits(%q, %q) = %q, want %q", tt.number, tt.lang, got, tt.want)
		}
	}
}

func TestURL_ParseState(t *testing.T) {
	t.Parallel()
	st := State{Node: "main", Lang: "zh-CN", Try: 2}
	got := URL(RouteStep, st)
	if want := "/twilio/voice/step?lang=zh-CN&node=main&try=2"; got != want {
		t.Errorf("URL = %q, want %q", got, want)
	}
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if back := ParseState(u.Query()); back != st {
		t.Errorf("ParseState(URL(%+v)) = %+v", st, back)
	}
	if back := ParseState(url.Values{"node": {"x"}, "try": {"-3"}}); back != (State{Node: "x"}) {
		t.Errorf("ParseState with a bad try = %+v, want try 0", back)
	}
}
