package ivr

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// CheckError is one problem in a tree, placed by its path in the file
// ("nodes.main.keys.3") and, when the tree came from YAML, its line.
type CheckError struct {
	File string // set by LoadFile
	Line int    // 0 when unknown
	Path string
	Msg  string
}

func (e *CheckError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Path, e.Msg)
	case e.File != "":
		return fmt.Sprintf("%s: %s: %s", e.File, e.Path, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Path, e.Msg)
	}
	return e.Path + ": " + e.Msg
}

// LoadFile reads and checks a tree file. Its error joins one *CheckError per
// problem, each naming path:line.
func LoadFile(path string) (*Tree, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ivr tree: %w", err)
	}
	t, errs := load(data)
	if len(errs) > 0 {
		for _, e := range errs {
			var ce *CheckError
			if errors.As(e, &ce) {
				ce.File = path
			}
		}
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// Load parses and checks a tree. On any problem it returns no tree and an
// error joining every problem found (see [CheckError]).
func Load(data []byte) (*Tree, error) {
	t, errs := load(data)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

func load(data []byte) (*Tree, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, []error{fmt.Errorf("ivr tree: %w", err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, []error{&CheckError{Path: "(file)", Msg: "empty"}}
	}
	root := doc.Content[0]
	w := walker{lines: map[string]int{}}
	w.walk(root, "", treeShape)
	if len(w.errs) > 0 {
		// yaml.v3 refuses to decode a duplicate key, with a message that
		// names no path; ours do, so stop here.
		return nil, sortErrors(w.errs)
	}
	t := &Tree{Settings: defaultSettings}
	if err := root.Decode(t); err != nil {
		return nil, []error{fmt.Errorf("ivr tree: %w", err)}
	}
	t.lines = w.lines
	return t, Check(t)
}

// shape is the part of the schema the YAML walk needs: which field names a
// mapping may hold. A nil shape accepts anything; any != nil means a map with
// free keys whose values all have shape any.
type shape struct {
	fields map[string]*shape
	any    *shape
}

var (
	leaf      *shape
	textShape = &shape{any: leaf}
	nodeShape = &shape{fields: map[string]*shape{
		"kind": leaf, "prompt": textShape, "keys": &shape{any: leaf},
		"speech": &shape{any: &shape{any: leaf}}, "next": leaf,
		"case_kind": leaf, "reason": leaf, "language": leaf,
		"fallback": leaf, "ring_timeout": leaf, "closed": textShape, "no_answer": textShape,
	}}
	treeShape = &shape{fields: map[string]*shape{
		"start": leaf,
		"languages": &shape{any: &shape{fields: map[string]*shape{
			"code": leaf, "voice": leaf, "speech": leaf,
		}}},
		"settings": &shape{fields: map[string]*shape{
			"gather_timeout": leaf, "no_input_repeats": leaf, "no_input": leaf,
			"record_max_length": leaf, "record_finish_on_key": leaf, "ring_timeout": leaf,
		}},
		"messages": &shape{any: textShape},
		"statuses": &shape{any: textShape},
		"nodes":    &shape{any: nodeShape},
	}}
)

// walker visits the raw YAML once, before decoding: it records the line of
// every path, and reports duplicate keys and unknown fields, which decoding
// would either refuse without a path or silently drop.
type walker struct {
	lines map[string]int
	errs  []error
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (w *walker) walk(n *yaml.Node, path string, sh *shape) {
	switch n.Kind {
	case yaml.MappingNode:
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(path, k.Value)
			if first, dup := seen[k.Value]; dup {
				w.errs = append(w.errs, &CheckError{Line: k.Line, Path: p,
					Msg: fmt.Sprintf("duplicate key (first at line %d)", first)})
				continue
			}
			seen[k.Value] = k.Line
			w.lines[p] = k.Line
			var next *shape
			if sh != nil {
				if sh.fields != nil {
					f, ok := sh.fields[k.Value]
					if !ok {
						w.errs = append(w.errs, &CheckError{Line: k.Line, Path: p, Msg: "unknown field"})
						continue
					}
					next = f
				} else {
					next = sh.any
				}
			}
			w.walk(v, p, next)
		}
	case yaml.SequenceNode:
		for i, v := range n.Content {
			p := join(path, strconv.Itoa(i))
			w.lines[p] = v.Line
			var next *shape
			if sh != nil {
				next = sh.any
			}
			w.walk(v, p, next)
		}
	}
}

// checker collects problems; line finds the nearest recorded line for a path,
// so a missing field is placed at the node that lacks it.
type checker struct {
	t    *Tree
	errs []error
}

func (c *checker) errorf(path, format string, args ...any) {
	line := 0
	for p := path; p != ""; {
		if l, ok := c.t.lines[p]; ok {
			line = l
			break
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			break
		}
		p = p[:i]
	}
	c.errs = append(c.errs, &CheckError{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fields each kind may set, beyond kind and prompt.
var kindFields = map[Kind][]string{
	KindMenu:       {"keys", "speech"},
	KindMessage:    {"next"},
	KindRecord:     {"case_kind", "next"},
	KindCaseStatus: {"next"},
	KindCallback:   {"reason", "next"},
	KindTransfer:   {"fallback", "ring_timeout", "closed", "no_answer"},
	KindLanguage:   {"language", "next"},
	KindHangup:     {},
}

// setFields lists the optional fields a node has set.
func setFields(n *Node) []string {
	var s []string
	add := func(name string, set bool) {
		if set {
			s = append(s, name)
		}
	}
	add("keys", n.Keys != nil)
	add("speech", n.Speech != nil)
	add("next", n.Next != "")
	add("case_kind", n.CaseKind != "")
	add("reason", n.Reason != "")
	add("language", n.Language != "")
	add("fallback", n.Fallback != "")
	add("ring_timeout", n.RingTimeout != 0)
	add("closed", n.Closed != nil)
	add("no_answer", n.NoAnswer != nil)
	return s
}

// Check reports every problem in t: references to missing nodes, nodes the
// start cannot reach, texts missing for a language, unknown kinds and case
// kinds, fields a kind does not use, and unusable settings. A Tree from Load
// has already passed it.
func Check(t *Tree) []error {
	c := &checker{t: t}
	langs := map[string]bool{}
	if len(t.Languages) == 0 {
		c.errorf("languages", "missing")
	}
	for i, l := range t.Languages {
		p := join("languages", strconv.Itoa(i))
		switch {
		case l.Code == "":
			c.errorf(p+".code", "missing")
		case langs[l.Code]:
			c.errorf(p+".code", "language %q listed twice", l.Code)
		}
		langs[l.Code] = true
		if l.Voice == "" {
			c.errorf(p+".voice", "missing")
		}
	}
	text := func(path string, x Text, required bool) {
		if x == nil {
			if required {
				c.errorf(path, "missing")
			}
			return
		}
		for _, l := range t.Languages {
			if strings.TrimSpace(x[l.Code]) == "" {
				c.errorf(path, "no text for %s", l.Code)
			}
		}
		for _, code := range slices.Sorted(maps.Keys(x)) {
			if !langs[code] {
				c.errorf(join(path, code), "unknown language %q", code)
			}
		}
	}
	ref := func(path, name string) {
		if name != "" && t.Nodes[name] == nil {
			c.errorf(path, "no node %q", name)
		}
	}

	if t.Start == "" {
		c.errorf("start", "missing")
	}
	ref("start", t.Start)

	s := t.Settings
	positive := func(name string, v int) {
		if v <= 0 {
			c.errorf("settings."+name, "must be more than 0, not %d", v)
		}
	}
	positive("gather_timeout", s.GatherTimeout)
	positive("record_max_length", s.RecordMaxLength)
	positive("ring_timeout", s.RingTimeout)
	if s.NoInputRepeats < 0 {
		c.errorf("settings.no_input_repeats", "must not be negative, not %d", s.NoInputRepeats)
	}
	if len(s.RecordFinishOnKey) != 1 || !strings.Contains("0123456789#*", s.RecordFinishOnKey) {
		c.errorf("settings.record_finish_on_key", "must be one key of 0-9, # or *, not %q", s.RecordFinishOnKey)
	}
	ref("settings.no_input", s.NoInput)

	for _, name := range requiredMessages {
		p := "messages." + name
		if _, ok := t.Messages[name]; !ok {
			c.errorf(p, "missing")
			continue
		}
		text(p, t.Messages[name], true)
	}
	for _, name := range slices.Sorted(maps.Keys(t.Messages)) {
		if !slices.Contains(requiredMessages, name) {
			c.errorf("messages."+name, "unknown message")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(t.Statuses)) {
		text("statuses."+name, t.Statuses[name], true)
	}

	for _, name := range slices.Sorted(maps.Keys(t.Nodes)) {
		n := t.Nodes[name]
		p := "nodes." + name
		if n == nil {
			c.errorf(p, "empty node")
			continue
		}
		allowed, ok := kindFields[n.Kind]
		if !ok {
			if n.Kind == "" {
				c.errorf(p+".kind", "missing")
			} else {
				c.errorf(p+".kind", "unknown kind %q", n.Kind)
			}
			continue
		}
		for _, f := range setFields(n) {
			if !slices.Contains(allowed, f) {
				c.errorf(p+"."+f, "not used by a %s node", n.Kind)
			}
		}
		if n.Kind == KindLanguage {
			if n.Prompt != nil {
				c.errorf(p+".prompt", "not used by a %s node", n.Kind)
			}
		} else {
			text(p+".prompt", n.Prompt, true)
		}
		switch n.Kind {
		case KindMenu:
			if len(n.Keys) == 0 {
				c.errorf(p+".keys", "missing")
			}
			for _, k := range slices.Sorted(maps.Keys(n.Keys)) {
				kp := p + ".keys." + k
				if len(k) != 1 || k[0] < '0' || k[0] > '9' {
					c.errorf(kp, "a key is one digit 0-9 (* always repeats)")
					continue
				}
				if n.Keys[k] == "" {
					c.errorf(kp, "missing node name")
				}
				ref(kp, n.Keys[k])
			}
			for _, k := range slices.Sorted(maps.Keys(n.Speech)) {
				kp := p + ".speech." + k
				if _, ok := n.Keys[k]; !ok {
					c.errorf(kp, "no key %q in keys", k)
				}
				for _, code := range slices.Sorted(maps.Keys(n.Speech[k])) {
					if !langs[code] {
						c.errorf(join(kp, code), "unknown language %q", code)
					}
				}
			}
		case KindMessage:
			if n.Next == "" {
				c.errorf(p+".next", "missing")
			}
		case KindRecord:
			switch n.CaseKind {
			case CaseComplaint, CaseReport, CaseCallback:
			case "":
				c.errorf(p+".case_kind", "missing")
			default:
				c.errorf(p+".case_kind", "unknown case kind %q (want complaint, report or callback)", n.CaseKind)
			}
		case KindTransfer:
			if n.Fallback == "" {
				c.errorf(p+".fallback", "missing")
			}
			if n.RingTimeout < 0 {
				c.errorf(p+".ring_timeout", "must not be negative, not %d", n.RingTimeout)
			}
			text(p+".closed", n.Closed, false)
			text(p+".no_answer", n.NoAnswer, false)
		case KindLanguage:
			switch {
			case n.Language == "":
				c.errorf(p+".language", "missing")
			case !langs[n.Language]:
				c.errorf(p+".language", "unknown language %q", n.Language)
			}
			if n.Next == "" {
				c.errorf(p+".next", "missing")
			}
		}
		ref(p+".next", n.Next)
		ref(p+".fallback", n.Fallback)
	}

	if t.Nodes[t.Start] != nil {
		reached := reachable(t)
		for _, name := range slices.Sorted(maps.Keys(t.Nodes)) {
			if !reached[name] {
				c.errorf("nodes."+name, "not reachable from start node %q", t.Start)
			}
		}
	}
	return sortErrors(c.errs)
}

// reachable marks the nodes a call can get to: from the start node, and from
// the node callers are sent to when their replays run out.
func reachable(t *Tree) map[string]bool {
	seen := map[string]bool{}
	queue := []string{t.Start, t.Settings.NoInput}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		n := t.Nodes[name]
		if n == nil || seen[name] {
			continue
		}
		seen[name] = true
		for _, k := range slices.Sorted(maps.Keys(n.Keys)) {
			queue = append(queue, n.Keys[k])
		}
		queue = append(queue, n.Next, n.Fallback)
	}
	return seen
}

// sortErrors puts problems in file order, so a reader fixes them top down.
func sortErrors(errs []error) []error {
	slices.SortStableFunc(errs, func(a, b error) int {
		var x, y *CheckError
		if !errors.As(a, &x) || !errors.As(b, &y) {
			return 0
		}
		return cmp.Or(cmp.Compare(x.Line, y.Line), cmp.Compare(x.Path, y.Path))
	})
	return errs
}
