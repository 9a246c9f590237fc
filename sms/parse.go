package sms

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"

	"github.com/hotline/hotline/caselog"
)

// CommandKind is what an inbound SMS asks for. The values are stable
// strings, fit for logs and for storing next to the message.
type CommandKind string

const (
	Complaint CommandKind = "complaint" // 投诉 / COMPLAINT / TS
	Report    CommandKind = "report"    // 举报 / REPORT / JB
	Ask       CommandKind = "ask"       // 咨询 / ASK / ZX
	Status    CommandKind = "status"    // 查询 / STATUS / CX [case number]
	Callback  CommandKind = "callback"  // 回拨 / CALLBACK / HB
	Add       CommandKind = "add"       // 补充 / ADD / BC case number + text
	Help      CommandKind = "help"      // 帮助 / HELP / BZ
	Stop      CommandKind = "stop"      // 退订 / TD / Twilio's opt-out words
	Start     CommandKind = "start"     // 订阅 / Twilio's opt-in words
	Rating    CommandKind = "rating"    // a body that is only a digit 1-5
	None      CommandKind = "none"      // no keyword: still recorded
)

// Valid reports whether k is one of the kinds Parse returns.
func (k CommandKind) Valid() bool {
	switch k {
	case Complaint, Report, Ask, Status, Callback, Add, Help, Stop, Start, Rating, None:
		return true
	}
	return false
}

// CaseKind is the kind of case (caselog.Kind) a command opens when it opens
// one: a message with no keyword is an enquiry. Status, Add, Help, Stop,
// Start and Rating open no case and give "".
func (k CommandKind) CaseKind() string {
	switch k {
	case Complaint:
		return string(caselog.Complaint)
	case Report:
		return string(caselog.Report)
	case Ask:
		return string(caselog.Consultation)
	case Callback:
		return string(caselog.CallbackKind)
	case None:
		return string(caselog.Enquiry)
	}
	return ""
}

// Languages Parse detects and the texts are written in.
const (
	LangZH = "zh"
	LangEN = "en"
)

// Command is what Parse read from a message body.
type Command struct {
	Kind CommandKind
	// Case is a case number written in the body (Status and Add only):
	// ASCII digits, 6 to 12 of them. Parse does not promise its check digit
	// holds: a Case for which caselog.Valid is false is a mistyped number,
	// to be answered with ReplyBadNumber.
	Case string
	// Text is the rest of the body after the keyword (and, for Status and
	// Add, after a case number written first), trimmed, as the consumer
	// wrote it: not width-folded. For None it is the whole body; for
	// Rating the ASCII digit ("1"-"5").
	Text string
	// Lang is "zh" when the body holds any Han character or used a Chinese
	// keyword or pinyin initials, else "en". A body of digits alone (a
	// Rating, a bare number) is "en" by that rule; the handler should
	// prefer the language of the case it concerns where there is one.
	Lang string
}

// Keywords. Matching is on the width-folded, ASCII-upper-cased body, so
// full-width ＴＳ and ｔｓ match TS.
var (
	// Chinese keywords match as a prefix: "投诉某某商店" is a complaint.
	// Traditional forms are accepted too, for visitors from Hong Kong,
	// Macau and Taiwan.
	zhKeywords = []struct {
		word string
		kind CommandKind
	}{
		{"投诉", Complaint}, {"投訴", Complaint},
		{"举报", Report}, {"舉報", Report},
		{"咨询", Ask}, {"諮詢", Ask}, {"咨詢", Ask},
		{"查询", Status}, {"查詢", Status},
		{"回拨", Callback}, {"回撥", Callback},
		{"补充", Add}, {"補充", Add},
		{"帮助", Help}, {"幫助", Help},
		{"退订", Stop}, {"退訂", Stop},
		{"订阅", Start}, {"訂閱", Start},
	}
	// English keywords match as a whole first word.
	enKeywords = map[string]CommandKind{
		"COMPLAINT": Complaint,
		"REPORT":    Report,
		"ASK":       Ask,
		"STATUS":    Status,
		"CALLBACK":  Callback,
		"ADD":       Add,
		"HELP":      Help,
	}
	// Pinyin initials of the Chinese keywords (TD is the customary
	// "回复TD退订" of Chinese SMS). Two letters collide with ordinary
	// English ("bc my order…"), so they count only under pinyinFollows.
	pinyinKeywords = map[string]CommandKind{
		"TS": Complaint,
		"JB": Report,
		"ZX": Ask,
		"CX": Status,
		"HB": Callback,
		"BC": Add,
		"BZ": Help,
		"TD": Stop,
	}
	// Twilio acts on these only when they are the whole body (trimmed, any
	// case); so do we, so that our opt-out list and Twilio's agree. YES is
	// one of Twilio's opt-in words too.
	stopWords  = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true, "REVOKE": true, "OPTOUT": true}
	startWords = map[string]bool{"START": true, "UNSTOP": true, "YES": true}
	// Words that may stand before a case number and are dropped with it
	// from Text: "补充 案件1234567：…", "ADD case #1234567 …".
	casePrefixes = []string{"案件编号", "案件號碼", "案件号", "案件", "编号", "編號", "CASE NO", "CASE", "NO", "#"}
)

// Parse reads an inbound SMS body. It never fails: a body with no keyword
// is None, to be recorded all the same.
//
// Rules, in order:
//   - Twilio's opt-out and opt-in words (STOP, STOPALL, UNSUBSCRIBE,
//     CANCEL, END, QUIT, REVOKE, OPTOUT; START, UNSTOP, YES) count only as
//     the whole body, as Twilio counts them: "STOP it" and "Stopped" are
//     None. A body of one digit 1-5 is Rating.
//   - Leading blanks, punctuation and symbols are skipped, so "【投诉】…" and
//     "#TS …" work.
//   - A Chinese keyword matches as a prefix ("投诉某店…"), except 退订 and
//     订阅, which must be the whole body or be followed by a blank,
//     punctuation or a symbol: "退订酒店不退款" is a complaint about a
//     cancelled booking, not an opt-out.
//   - An English keyword must be a whole word: "REPORTED" and "ASKING" are
//     None, "HELP!" and "STATUS1234567" are not.
//   - Pinyin initials (TS JB ZX CX HB BC BZ TD) count when they are the
//     whole body or are followed by Han text, a digit or punctuation, or by
//     blanks and then Han text, a digit or the end: "TS 某某商店" and
//     "CX:1234567" are keywords, "bc my order never came" is None.
//   - After the keyword, blanks and separating punctuation (: ： , ， 、 .
//     and the like, not opening brackets or quotes) are skipped.
//
// Case numbers are looked for (Status and Add only) after the keyword; see
// findCase.
func Parse(body string) Command {
	body = strings.ToValidUTF8(body, "\uFFFD")
	orig := []rune(strings.TrimFunc(body, isBlank))
	f := make([]rune, len(orig))
	han := false
	for i, r := range orig {
		f[i] = fold(r)
		han = han || isHan(r)
	}
	cmd := Command{Kind: None, Text: string(orig), Lang: LangEN}
	if han {
		cmd.Lang = LangZH
	}
	if len(f) == 0 {
		return cmd
	}

	whole := string(f)
	switch {
	case stopWords[whole]:
		cmd.Kind, cmd.Text = Stop, ""
		return cmd
	case startWords[whole]:
		cmd.Kind, cmd.Text = Start, ""
		return cmd
	case len(f) == 1 && f[0] >= '1' && f[0] <= '5':
		cmd.Kind, cmd.Text = Rating, whole
		return cmd
	}

	i := 0
	for i < len(f) && (isBlank(f[i]) || unicode.IsPunct(f[i]) || unicode.IsSymbol(f[i])) {
		i++
	}
	kind, end, zh := keyword(f, i)
	if kind == None {
		return cmd
	}
	cmd.Kind = kind
	if zh {
		cmd.Lang = LangZH
	}
	rest := skipSeparators(f, end)
	cmd.Text = strings.TrimFunc(string(orig[rest:]), isBlank)
	if kind != Status && kind != Add {
		return cmd
	}
	num, start, stop := findCase(f, rest)
	if num == "" {
		return cmd
	}
	cmd.Case = num
	// A number written first (perhaps after "案件" or "case") is the
	// command's argument, not part of the text.
	if start == afterCasePrefix(f, rest) {
		cmd.Text = strings.TrimFunc(string(orig[skipSeparators(f, stop):]), isBlank)
	}
	return cmd
}

// keyword matches a keyword at f[i:] and says where it ends and whether it
// was Chinese (characters or pinyin initials).
func keyword(f []rune, i int) (kind CommandKind, end int, zh bool) {
	for _, k := range zhKeywords {
		w := []rune(k.word)
		if !hasPrefix(f[i:], w) {
			continue
		}
		end = i + len(w)
		if (k.kind == Stop || k.kind == Start) && end < len(f) && isWordRune(f[end]) {
			return None, 0, false // 退订酒店…: a booking cancelled, not an opt-out
		}
		return k.kind, end, true
	}

	end = i
	for end < len(f) && f[end] >= 'A' && f[end] <= 'Z' {
		end++
	}
	if end == i {
		return None, 0, false
	}
	word := string(f[i:end])
	if end < len(f) && !isHan(f[end]) && (unicode.IsLetter(f[end]) || unicode.IsMark(f[end])) {
		return None, 0, false // part of a longer word: REPORTED, ASKé
	}
	if k, ok := enKeywords[word]; ok {
		return k, end, false
	}
	if k, ok := pinyinKeywords[word]; ok && pinyinFollows(f, end) {
		return k, end, true
	}
	return None, 0, false
}

// pinyinFollows reports whether what follows two-letter initials at f[end:]
// makes them a keyword. The caller has checked that no letter follows
// directly.
func pinyinFollows(f []rune, end int) bool {
	if end == len(f) || !isBlank(f[end]) {
		return true // end, Han, digit, punctuation or symbol
	}
	for end < len(f) && isBlank(f[end]) {
		end++
	}
	return end == len(f) || isHan(f[end]) || isDigit(f[end])
}

// skipSeparators skips blanks and separating punctuation from f[i:]; it
// keeps opening brackets and quotes, which belong to the text.
func skipSeparators(f []rune, i int) int {
	for i < len(f) {
		r := f[i]
		if isBlank(r) || (unicode.IsPunct(r) && !unicode.In(r, unicode.Ps, unicode.Pi)) {
			i++
			continue
		}
		break
	}
	return i
}

// afterCasePrefix is where a case number written first would start: past
// one of casePrefixes and the separators after it.
func afterCasePrefix(f []rune, i int) int {
	for _, p := range casePrefixes {
		if hasPrefix(f[i:], []rune(p)) {
			return skipSeparators(f, i+len([]rune(p)))
		}
	}
	return i
}

// findCase looks for a case number in f[from:] and gives it with the rune
// span it was written in.
//
// Candidates are runs of ASCII or full-width digits, 6 to 12 of them; a run
// longer than 12 digits (an order number, an ID card) is never cut down to
// one. People write long numbers in groups ("123 456 7", "123-4567"), so
// digit groups joined by a single space or hyphen are joined too, but only
// when the joined number's check digit holds: "ADD 1234567 2 photos" must
// not become 12345672.
//
// The first candidate whose check digit holds wins; at one position a run
// written unbroken goes before groups joined, and longer joins before
// shorter. A phone number in the text that happens to check (one in ten)
// wins over a case number written after it; consumers are told to write the
// number first. When nothing checks, the first candidate of the right
// length is returned so that the reply can say the number is wrong rather
// than missing.
func findCase(f []rune, from int) (num string, start, end int) {
	type group struct{ start, end int }
	var fallback string
	var fbStart, fbEnd int
	for i := from; i < len(f); {
		if !isDigit(f[i]) {
			i++
			continue
		}
		var seq []group
		for {
			j := i
			for j < len(f) && isDigit(f[j]) {
				j++
			}
			seq = append(seq, group{i, j})
			i = j
			if j+1 < len(f) && (f[j] == ' ' || f[j] == '-') && isDigit(f[j+1]) {
				i = j + 1
				continue
			}
			break
		}

		digits := func(a, b int) string { // groups a..b inclusive
			var sb strings.Builder
			for _, g := range seq[a : b+1] {
				sb.WriteString(string(f[g.start:g.end]))
			}
			return sb.String()
		}
		for a := range seq {
			if n := seq[a].end - seq[a].start; n >= 6 && n <= 12 {
				d := digits(a, a)
				if caselog.Valid(d) {
					return d, seq[a].start, seq[a].end
				}
				if fallback == "" {
					fallback, fbStart, fbEnd = d, seq[a].start, seq[a].end
				}
			}
			// Joins of a with the groups after it, longest first, as long
			// as they stay within 12 digits.
			last, n := a, seq[a].end-seq[a].start
			for last+1 < len(seq) && n+seq[last+1].end-seq[last+1].start <= 12 {
				last++
				n += seq[last].end - seq[last].start
			}
			for b := last; b > a; b-- {
				d := digits(a, b)
				if len(d) < 6 {
					break
				}
				if caselog.Valid(d) {
					return d, seq[a].start, seq[b].end
				}
			}
		}
		if fallback == "" && len(seq) > 1 {
			if d := digits(0, len(seq)-1); len(d) >= 6 && len(d) <= 12 {
				fallback, fbStart, fbEnd = d, seq[0].start, seq[len(seq)-1].end
			}
		}
	}
	return fallback, fbStart, fbEnd
}

// fold maps a rune to the form keywords and digits are matched in:
// full-width forms to ASCII (ＴＳ, ０-９, ：, ，, the ideographic space) and
// ASCII letters to upper case. Other letters are left alone, so that no
// non-ASCII letter (ſ, ı) upper-cases into a keyword.
func fold(r rune) rune {
	if r >= 0x80 {
		if w := width.LookupRune(r).Folded(); w != 0 {
			r = w
		}
	}
	if r >= 'a' && r <= 'z' {
		r -= 'a' - 'A'
	}
	return r
}

// isWordRune is a rune that continues a word: a letter (Han included), a
// digit or a combining mark.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// isBlank is white space and the invisible format characters (zero-width
// space, BOM, direction marks) that phones put around text.
func isBlank(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }

func hasPrefix(s, prefix []rune) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i, r := range prefix {
		if s[i] != r {
			return false
		}
	}
	return true
}
