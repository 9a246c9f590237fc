package ivr

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// baseYAML is the smallest valid tree; each case below edits one line of it.
// Line numbers in the expected errors count from its first line.
const baseYAML = `start: main
languages:
  - {code: zh-CN, voice: Polly.Zhiyu}
  - {code: en-US, voice: Polly.Joanna}
messages:
  invalid_key: {zh-CN: 无效, en-US: invalid}
  invalid_case: {zh-CN: 编号错, en-US: bad number}
  case_not_found: {zh-CN: "没有{number}", en-US: "no {number}"}
  case_number: {zh-CN: "编号{number}", en-US: "number {number}"}
  case_number_again: {zh-CN: "再说{number}", en-US: "again {number}"}
  case_status: {zh-CN: "{number}{status}{due}", en-US: "{number} {status} {due}"}
nodes:
  main:
    kind: menu
    prompt: {zh-CN: 主菜单, en-US: main menu}
    keys:
      "1": bye
  bye:
    kind: hangup
    prompt: {zh-CN: 再见, en-US: bye}
`

func edit(t *testing.T, old, new string) string {
	t.Helper()
	if !strings.Contains(baseYAML, old) {
		t.Fatalf("base tree has no %q", old)
	}
	return strings.Replace(baseYAML, old, new, 1)
}

func TestLoad_Base(t *testing.T) {
	t.Parallel()
	if _, err := Load([]byte(baseYAML)); err != nil {
		t.Fatalf("Load(base) = %v", err)
	}
}

func TestLoad_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new string
		want           []string
	}{
		{"key leads nowhere", `"1": bye`, `"1": bye` + "\n      \"3\": faq",
			[]string{`line 18: nodes.main.keys.3: no node "faq"`}},
		{"unreachable node", "  bye:\n", "  orphan: {kind: hangup, prompt: {zh-CN: 嗯, en-US: hm}}\n  bye:\n",
			[]string{`line 18: nodes.orphan: not reachable from start node "main"`}},
		{"missing prompt language", `prompt: {zh-CN: 再见, en-US: bye}`, `prompt: {zh-CN: 再见}`,
			[]string{`line 20: nodes.bye.prompt: no text for en-US`}},
		{"missing prompt", "    prompt: {zh-CN: 再见, en-US: bye}\n", "",
			[]string{`line 18: nodes.bye.prompt: missing`}},
		{"prompt in unknown language", `prompt: {zh-CN: 再见, en-US: bye}`, `prompt: {zh-CN: 再见, en-US: bye, fr-FR: salut}`,
			[]string{`line 20: nodes.bye.prompt.fr-FR: unknown language "fr-FR"`}},
		{"duplicate key", `"1": bye`, `"1": bye` + "\n      \"1\": main",
			[]string{`line 18: nodes.main.keys.1: duplicate key (first at line 17)`}},
		{"duplicate node", "  bye:\n", "  main: {kind: hangup, prompt: {zh-CN: 嗯, en-US: hm}}\n  bye:\n",
			[]string{`line 18: nodes.main: duplicate key (first at line 13)`}},
		{"unknown field", "    kind: hangup\n", "    kind: hangup\n    promt: {zh-CN: 再见}\n",
			[]string{`line 20: nodes.bye.promt: unknown field`}},
		{"unknown kind", "kind: hangup", "kind: hang_up",
			[]string{`line 19: nodes.bye.kind: unknown kind "hang_up"`}},
		{"missing kind", "    kind: hangup\n", "",
			[]string{`line 18: nodes.bye.kind: missing`}},
		{"bad record kind", "kind: hangup", "kind: record\n    case_kind: complain",
			[]string{`line 20: nodes.bye.case_kind: unknown case kind "complain" (want complaint, report or callback)`}},
		{"record without kind", "kind: hangup", "kind: record",
			[]string{`line 18: nodes.bye.case_kind: missing`}},
		{"field of another kind", "kind: hangup", "kind: hangup\n    next: main",
			[]string{`line 20: nodes.bye.next: not used by a hangup node`}},
		{"next leads nowhere", "kind: hangup", "kind: message\n    next: end",
			[]string{`line 20: nodes.bye.next: no node "end"`}},
		{"message without next", "kind: hangup", "kind: message",
			[]string{`line 18: nodes.bye.next: missing`}},
		{"transfer without fallback", "kind: hangup", "kind: transfer",
			[]string{`line 18: nodes.bye.fallback: missing`}},
		{"transfer text missing a language", "kind: hangup", "kind: transfer\n    fallback: main\n    closed: {en-US: closed}",
			[]string{`line 21: nodes.bye.closed: no text for zh-CN`}},
		{"unknown switch language", "kind: hangup\n    prompt: {zh-CN: 再见, en-US: bye}", "kind: language\n    language: fr-FR\n    next: main",
			[]string{`line 20: nodes.bye.language: unknown language "fr-FR"`}},
		{"star as key", `"1": bye`, `"1": bye` + "\n      \"*\": main",
			[]string{`line 18: nodes.main.keys.*: a key is one digit 0-9 (* always repeats)`}},
		{"speech for a missing key", "      \"1\": bye\n", "      \"1\": bye\n    speech: {\"2\": {zh-CN: [再见]}}\n",
			[]string{`line 18: nodes.main.speech.2: no key "2" in keys`}},
		{"menu without keys", "    keys:\n      \"1\": bye\n", "",
			[]string{`line 13: nodes.main.keys: missing`, `line 16: nodes.bye: not reachable from start node "main"`}},
		{"missing message", "  invalid_case: {zh-CN: 编号错, en-US: bad number}\n", "",
			[]string{`line 5: messages.invalid_case: missing`}},
		{"unknown message", "messages:\n", "messages:\n  hello: {zh-CN: 你好, en-US: hello}\n",
			[]string{`line 6: messages.hello: unknown message`}},
		{"start leads nowhere", "start: main", "start: menu",
			[]string{`line 1: start: no node "menu"`}},
		{"voice missing", "  - {code: en-US, voice: Polly.Joanna}", "  - {code: en-US}",
			[]string{`line 4: languages.1.voice: missing`}},
		{"bad settings", "messages:\n", "settings: {gather_timeout: -1, record_finish_on_key: ok, no_input: gone}\nmessages:\n",
			[]string{
				`line 5: settings.gather_timeout: must be more than 0, not -1`,
				`line 5: settings.no_input: no node "gone"`,
				`line 5: settings.record_finish_on_key: must be one key of 0-9, # or *, not "ok"`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tree, err := Load([]byte(edit(t, tt.old, tt.new)))
			if err == nil {
				t.Fatalf("Load = nil error, want %q", tt.want)
			}
			if tree != nil {
				t.Errorf("Load returned a tree along with errors")
			}
			if got := strings.Split(err.Error(), "\n"); !slices.Equal(got, tt.want) {
				t.Errorf("Load errors:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A tree built in Go has no lines; its errors name the path alone.
func TestCheck_WithoutLines(t *testing.T) {
	t.Parallel()
	tree, err := Load([]byte(baseYAML))
	if err != nil {
		t.Fatal(err)
	}
	tree.lines = nil
	tree.Nodes["main"].Keys["3"] = "faq"
	errs := Check(tree)
	if len(errs) != 1 || errs[0].Error() != `nodes.main.keys.3: no node "faq"` {
		t.Errorf("Check = %q, want [nodes.main.keys.3: no node \"faq\"]", errs)
	}
}

func TestLoadFile_NamesFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "menu.yaml")
	if err := os.WriteFile(path, []byte(edit(t, `"1": bye`, `"1": faq`)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	want := path + `:17: nodes.main.keys.1: no node "faq"` + "\n" +
		path + `:18: nodes.bye: not reachable from start node "main"`
	if err == nil || err.Error() != want {
		t.Errorf("LoadFile error = %v, want %q", err, want)
	}
}

func TestLoad_Syntax(t *testing.T) {
	t.Parallel()
	for _, data := range []string{"", "start: [", "nodes: 3"} {
		if _, err := Load([]byte(data)); err == nil {
			t.Errorf("Load(%q) = nil error", data)
		}
	}
}

func TestDefault_Check(t *testing.T) {
	t.Parallel()
	tree, err := Default()
	if err != nil {
		t.Fatalf("Default() = %v", err)
	}
	if errs := Check(tree); len(errs) > 0 {
		t.Errorf("Check(default) = %q", errs)
	}
	// The contract's main menu.
	want := map[string]string{"1": "complaint", "2": "report", "3": "consult", "4": "status",
		"5": "callback", "0": "staff", "9": "english"}
	main := tree.Nodes[tree.Start]
	for k, node := range want {
		if main.Keys[k] != node {
			t.Errorf("main key %s = %q, want %q", k, main.Keys[k], node)
		}
	}
	if len(main.Keys) != len(want) {
		t.Errorf("main has keys %v, want exactly %v", main.Keys, want)
	}
	if tree.Languages[0].Code != "zh-CN" || tree.Languages[1].Code != "en-US" {
		t.Errorf("languages = %v, want zh-CN first, then en-US", tree.Languages)
	}
}
