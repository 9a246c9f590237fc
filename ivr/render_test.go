package ivr

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.xml from the current output")

// canonical indents TwiML and sorts each element's attributes: the twiml
// package writes attributes in map order, which changes from run to run.
func canonical(t *testing.T, doc string) []byte {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var out bytes.Buffer
	enc := xml.NewEncoder(&out)
	enc.Indent("", "  ")
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("TwiML does not parse: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok {
			se.Attr = slices.Clone(se.Attr)
			slices.SortFunc(se.Attr, func(a, b xml.Attr) int { return strings.Compare(a.Name.Local, b.Name.Local) })
			tok = se
		}
		if err := enc.EncodeToken(xml.CopyToken(tok)); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func TestRender_Golden(t *testing.T) {
	tree := mustDefault(t)
	due := time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)
	// Each case reaches its node the way a call does: Next from the state
	// before it, then the web layer's part where the step asks for it.
	tests := []struct {
		name string
		step func(lang string) Step
	}{
		{"menu", func(lang string) Step {
			return Next(tree, State{Node: "main", Lang: lang, Try: 1}, Input{Digits: "*"}, validCase)
		}},
		{"menu_wrong_key", func(lang string) Step {
			return Next(tree, State{Node: "consult", Lang: lang, Try: 1}, Input{Digits: "7"}, validCase)
		}},
		{"message", func(lang string) Step {
			return Next(tree, State{Node: "consult", Lang: lang, Try: 1}, Input{Digits: "1"}, validCase)
		}},
		{"record", func(lang string) Step {
			return Next(tree, State{Node: "main", Lang: lang, Try: 1}, Input{Digits: "1"}, validCase)
		}},
		{"record_done", func(lang string) Step {
			s := Next(tree, State{Node: "complaint", Lang: lang, Try: 1}, Input{RecordingURL: "u"}, validCase)
			return Recorded(tree, s, "2024000017")
		}},
		{"voicemail", func(lang string) Step {
			return Next(tree, State{Node: "staff_callback", Lang: lang, Try: 1}, Input{}, validCase)
		}},
		{"case_status", func(lang string) Step {
			return Next(tree, State{Node: "main", Lang: lang, Try: 1}, Input{Digits: "4"}, validCase)
		}},
		{"case_status_invalid", func(lang string) Step {
			return Next(tree, State{Node: "status", Lang: lang, Try: 1}, Input{Digits: "123"}, validCase)
		}},
		{"case_status_found", func(lang string) Step {
			s := Next(tree, State{Node: "status", Lang: lang, Try: 1}, Input{Digits: "9999990"}, validCase)
			return StatusResult(tree, s, true, "accepted", due)
		}},
		{"callback", func(lang string) Step {
			return Next(tree, State{Node: "main", Lang: lang, Try: 1}, Input{Digits: "5"}, validCase)
		}},
		{"transfer", func(lang string) Step {
			s := Next(tree, State{Node: "main", Lang: lang, Try: 1}, Input{Digits: "0"}, validCase)
			return Transfer(tree, s, true, []string{"+861012345678", "+861087654321"})
		}},
		{"transfer_closed", func(lang string) Step {
			s := Next(tree, State{Node: "main", Lang: lang, Try: 1}, Input{Digits: "0"}, validCase)
			return Transfer(tree, s, false, []string{"+861012345678"})
		}},
		{"language", func(lang string) Step {
			// A language node is never rendered itself: entering it lands on
			// the next node in the new language.
			return Next(tree, State{Node: "english", Lang: lang}, Input{}, validCase)
		}},
		{"hangup", func(lang string) Step {
			return Next(tree, State{Node: "registered", Lang: lang}, Input{}, validCase)
		}},
		{"hangup_silent", func(lang string) Step {
			return Next(tree, State{Node: "no_input", Lang: lang, Try: 1}, Input{}, validCase)
		}},
	}
	for _, tt := range tests {
		for _, lang := range []string{"zh-CN", "en-US"} {
			name := tt.name + "." + lang
			t.Run(name, func(t *testing.T) {
				out, err := Render(tree, tt.step(lang))
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				got := canonical(t, out)
				path := filepath.Join("testdata", name+".xml")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./ivr -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("Render differs from %s:\n got:\n%s\nwant:\n%s", path, got, want)
				}
			})
		}
	}
}

func TestRender_UnresolvedTransfer(t *testing.T) {
	t.Parallel()
	tree := mustDefault(t)
	s := Next(tree, State{Node: "main", Lang: "zh-CN", Try: 1}, Input{Digits: "0"}, validCase)
	if _, err := Render(tree, s); !errors.Is(err, ErrUnresolved) {
		t.Errorf("Render(transfer before Transfer) error = %v, want ErrUnresolved", err)
	}
}
