package ivr

import (
	_ "embed"
	"strings"
)

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns a copy of the embedded default tree, for operators who
// want to start their own HOTLINE_IVR_FILE from it.
func DefaultYAML() []byte {
	return append([]byte(nil), defaultYAML...)
}

// Default loads the embedded default tree. It fails only if the embedded file
// is broken, which the package tests rule out.
func Default() (*Tree, error) {
	return Load(defaultYAML)
}

// Kind is what a node does.
type Kind string

// The node kinds; see the package doc for their fields.
const (
	KindMenu       Kind = "menu"
	KindMessage    Kind = "message"
	KindRecord     Kind = "record"
	KindCaseStatus Kind = "case_status"
	KindCallback   Kind = "callback"
	KindTransfer   Kind = "transfer"
	KindLanguage   Kind = "language"
	KindHangup     Kind = "hangup"
)

// Case kinds a record node may create; they are the case log's kinds.
const (
	CaseComplaint = "complaint"
	CaseReport    = "report"
	CaseCallback  = "callback"
)

// Message names the step logic says; every one must exist in every language.
const (
	MsgInvalidKey      = "invalid_key"
	MsgInvalidCase     = "invalid_case"
	MsgCaseNotFound    = "case_not_found"
	MsgCaseNumber      = "case_number"
	MsgCaseNumberAgain = "case_number_again"
	MsgCaseStatus      = "case_status"
)

var requiredMessages = []string{
	MsgInvalidKey, MsgInvalidCase, MsgCaseNotFound,
	MsgCaseNumber, MsgCaseNumberAgain, MsgCaseStatus,
}

// Text is one sentence in each language, keyed by language code.
type Text map[string]string

// Tree is a loaded menu tree. Build one with [Load] or [LoadFile]; a Tree is
// read-only afterwards and safe for concurrent use.
type Tree struct {
	Start     string           `yaml:"start"`
	Languages []Language       `yaml:"languages"`
	Settings  Settings         `yaml:"settings"`
	Messages  map[string]Text  `yaml:"messages"`
	Statuses  map[string]Text  `yaml:"statuses"`
	Nodes     map[string]*Node `yaml:"nodes"`

	// lines maps a path such as "nodes.main.keys.3" to its line in the file.
	lines map[string]int
}

// Language is one language the line speaks.
type Language struct {
	Code  string `yaml:"code"`  // BCP 47, also <Say language=>
	Voice string `yaml:"voice"` // <Say voice=>, e.g. Polly.Zhiyu
	// Speech is the <Gather language=> for speech recognition; Code if empty.
	Speech string `yaml:"speech"`
}

// Settings hold the timings shared by all nodes.
type Settings struct {
	GatherTimeout     int    `yaml:"gather_timeout"`
	NoInputRepeats    int    `yaml:"no_input_repeats"`
	NoInput           string `yaml:"no_input"`
	RecordMaxLength   int    `yaml:"record_max_length"`
	RecordFinishOnKey string `yaml:"record_finish_on_key"`
	RingTimeout       int    `yaml:"ring_timeout"`
}

// defaultSettings fill what a file leaves out.
var defaultSettings = Settings{
	GatherTimeout:     6,
	NoInputRepeats:    2,
	RecordMaxLength:   180,
	RecordFinishOnKey: "#",
	RingTimeout:       20,
}

// Node is one place in the tree. Which fields apply depends on Kind.
type Node struct {
	Kind   Kind                           `yaml:"kind"`
	Prompt Text                           `yaml:"prompt"`
	Keys   map[string]string              `yaml:"keys"`
	Speech map[string]map[string][]string `yaml:"speech"`
	Next   string                         `yaml:"next"`

	CaseKind string `yaml:"case_kind"` // record
	Reason   string `yaml:"reason"`    // callback
	Language string `yaml:"language"`  // language

	Fallback    string `yaml:"fallback"`     // transfer
	RingTimeout int    `yaml:"ring_timeout"` // transfer; Settings.RingTimeout if 0
	Closed      Text   `yaml:"closed"`       // transfer
	NoAnswer    Text   `yaml:"no_answer"`    // transfer
}

// lang returns the language with the given code, or the first language (the
// one calls start in) when code is unknown.
func (t *Tree) lang(code string) Language {
	for _, l := range t.Languages {
		if l.Code == code {
			return l
		}
	}
	if len(t.Languages) == 0 {
		return Language{}
	}
	return t.Languages[0]
}

// text picks the sentence for lang, falling back to the first language so that
// a caller hears something rather than silence.
func (t *Tree) text(x Text, lang string) string {
	if s, ok := x[lang]; ok {
		return s
	}
	if len(t.Languages) > 0 {
		return x[t.Languages[0].Code]
	}
	return ""
}

// message fills a message's {name} placeholders from pairs (name, value, …).
func (t *Tree) message(name, lang string, pairs ...string) string {
	s := t.text(t.Messages[name], lang)
	if len(pairs) == 0 {
		return s
	}
	old := make([]string, 0, len(pairs))
	for i := 0; i+1 < len(pairs); i += 2 {
		old = append(old, "{"+pairs[i]+"}", pairs[i+1])
	}
	return strings.NewReplacer(old...).Replace(s)
}

// statusName is how a case status is spoken; the raw status if the tree has
// no name for it.
func (t *Tree) statusName(status, lang string) string {
	if x, ok := t.Statuses[status]; ok {
		if s := t.text(x, lang); s != "" {
			return s
		}
	}
	return status
}

func (t *Tree) ringTimeout(n *Node) int {
	if n.RingTimeout > 0 {
		return n.RingTimeout
	}
	return t.Settings.RingTimeout
}
