package sms

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	kinds    = []string{"complaint", "report", "consultation", "callback", "enquiry", "something_new"}
	statuses = []string{"received", "accepted", "rejected", "transferred", "mediating", "resolved", "mediation_ended", "closed", "withdrawn", "awaiting_documents_from_the_business"}
	// The widest date each language writes.
	longDue = time.Date(2026, time.December, 31, 17, 0, 0, 0, time.FixedZone("CST", 8*3600))
)

// Realistic longest staff notes, in the consumer's language, plus ones in
// the other script and ones far too long.
var notes = map[string][]Note{
	"zh": {
		{},
		{
			Department: "广东省深圳市南山区市场监督管理局蛇口市场监督管理所",
			Reason:     "经核查，您反映的问题属于合同纠纷，不属于本部门职责范围，且商家已于去年注销营业执照，无法组织调解",
			Referral:   "深圳市南山区人民法院诉讼服务中心 0755-12345678",
		},
		{Department: strings.Repeat("市场监督管理局", 40), Reason: strings.Repeat("原因", 300), Referral: strings.Repeat("电话0755-12345678；", 30)},
		{Department: "Nanshan District Administration for Market Regulation"},
	},
	"en": {
		{},
		{
			Department: "Shenzhen Nanshan District Administration for Market Regulation, Shekou Office",
			Reason:     "this is a contract dispute between two businesses – not a consumer matter – and the trader’s licence was cancelled last year, so we cannot mediate",
			Referral:   "Nanshan People’s Court litigation service centre, +86 755 1234 5678",
		},
		{Department: strings.Repeat("Department ", 50), Reason: strings.Repeat("reason\n", 300), Referral: strings.Repeat("call +86 755 1234 5678; ", 30)},
	},
}

// text is one SMS the line can send, with the case number it must name.
type text struct {
	name, number, body string
}

// allTexts produces every reply and status text for lang with the given
// case number, over every kind, status, note and count the code branches on.
func allTexts(lang, number string) []text {
	var ts []text
	add := func(name, num, body string) { ts = append(ts, text{name, num, body}) }
	for _, due := range []time.Time{{}, longDue} {
		for _, k := range kinds {
			add("ReplyOpened/"+k, number, ReplyOpened(lang, k, number, due))
		}
		for _, s := range statuses {
			add("ReplyStatus/"+s, number, ReplyStatus(lang, number, s, due))
			for i, n := range append(notes["zh"], notes["en"]...) {
				add(fmt.Sprintf("StatusText/%s/note%d", s, i), number, StatusText(lang, number, s, due, n))
			}
		}
	}
	for _, n := range []int{0, 1, 2, 5, 8, 30} {
		nums := make([]string, n)
		for i := range nums {
			nums[i] = number
		}
		ts = append(ts, text{fmt.Sprintf("ReplyOpenCases/%d", n), "", ReplyOpenCases(lang, nums)})
		if n > 0 {
			ts[len(ts)-1].number = number
		}
	}
	for _, m := range []int{0, 1, 9, 10, 999} {
		add(fmt.Sprintf("ReplyAdded/%d", m), number, ReplyAdded(lang, number, m))
	}
	for r := 1; r <= 5; r++ {
		add(fmt.Sprintf("ReplyRatingThanks/%d", r), number, ReplyRatingThanks(lang, number, r))
	}
	add("ReplyAddNeedsNumber", "", ReplyAddNeedsNumber(lang))
	add("ReplyNotYours", number, ReplyNotYours(lang, number))
	add("ReplyUnknownCase", number, ReplyUnknownCase(lang, number))
	add("ReplyBadNumber", number, ReplyBadNumber(lang, number))
	add("ReplyHelp", "", ReplyHelp(lang))
	add("ReplyStopped", "", ReplyStopped(lang))
	add("ReplyStarted", "", ReplyStarted(lang))
	add("ReplyCallback", number, ReplyCallback(lang, number))
	add("ReplyCallback/nocase", "", ReplyCallback(lang, ""))
	add("OpenedByVoice", number, OpenedByVoice(lang, number))
	add("CallbackFailed", number, CallbackFailed(lang, number))
	add("CallbackFailed/nocase", "", CallbackFailed(lang, ""))
	add("RatingRequest", number, RatingRequest(lang, number))
	return ts
}

// TestTexts counts the segments of every text the SMS line can produce.
// Mandarin texts must fit in two UCS-2 segments; English ones in two GSM-7
// segments, as long as staff wrote in English (a Chinese name in an English
// text makes it UCS-2: it must still fit in two).
func TestTexts(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"zh", "en", "zh-CN", "en-US", ""} {
		for _, number := range []string{"123456789018", "1000002"} {
			for _, tx := range allTexts(lang, number) {
				t.Run(lang+"/"+number+"/"+tx.name, func(t *testing.T) {
					n, enc := Segments(tx.body)
					if n > 2 {
						t.Errorf("%d %s segments: %q", n, enc, tx.body)
					}
					en := english(lang)
					if en && enc != GSM7 && !strings.ContainsFunc(tx.body, isHan) {
						t.Errorf("English text is %s: %q", enc, tx.body)
					}
					if !en && !strings.ContainsFunc(tx.body, isHan) {
						t.Errorf("Mandarin text has no Chinese: %q", tx.body)
					}
					if !utf8.ValidString(tx.body) || tx.body == "" {
						t.Errorf("bad text %q", tx.body)
					}
					if tx.number != "" && !strings.Contains(tx.body, tx.number) {
						t.Errorf("text does not name case %s: %q", tx.number, tx.body)
					}
					if strings.ContainsAny(tx.body, "\n\r\t") {
						t.Errorf("text has a line break or tab: %q", tx.body)
					}
				})
			}
		}
	}
}

// The English texts with English notes are GSM-7: typographic characters
// that staff type are replaced, not carried into a UCS-2 text.
func TestStatusText_englishNotesStayGSM(t *testing.T) {
	t.Parallel()
	for _, s := range statuses {
		for i, n := range notes["en"] {
			body := StatusText("en", "123456789018", s, longDue, n)
			if got, enc := Segments(body); enc != GSM7 || got > 2 {
				t.Errorf("%s note %d: %d %s segments: %q", s, i, got, enc, body)
			}
		}
	}
}

func TestStatusText_fields(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, lang, status string
		note               Note
		want               string
	}{
		{"zh transferred", "zh", "transferred", Note{Department: "南山区市场监督管理局", Referral: "0755-12345678"},
			"【消费者热线】案件1000002已转交南山区市场监督管理局处理，期限12月31日。联系方式：0755-12345678。"},
		{"zh transferred without department", "zh", "transferred", Note{},
			"【消费者热线】案件1000002已转交有关部门处理，期限12月31日。"},
		{"zh rejected", "zh", "rejected", Note{Reason: "不属于消费纠纷", Referral: "12345"},
			"【消费者热线】案件1000002不予受理。原因：不属于消费纠纷。联系方式：12345。"},
		{"zh closed ignores due", "zh", "closed", Note{},
			"【消费者热线】案件1000002已结案。"},
		{"en rejected cleans fields", "en", "rejected", Note{Reason: "  the trader’s\n\n“terms” – allowed…  ", Referral: "１２３４５"},
			"Consumer hotline: case 1000002 was not accepted. Reason: the trader's \"terms\" - allowed.... Contact: 12345."},
		{"en accepted with due", "en", "accepted", Note{},
			"Consumer hotline: case 1000002 is accepted. It is due to be dealt with by 31 Dec."},
		{"en unknown status", "en", "on_hold", Note{},
			"Consumer hotline: case 1000002 is now: on_hold."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := StatusText(tt.lang, "1000002", tt.status, longDue, tt.note); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A field too long for two segments is cut from its end with an ellipsis;
// the case number and fixed wording stay whole, and the shorter field is
// left alone while the longer one is being cut.
func TestStatusText_truncates(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("因", 200)
	got := StatusText("zh", "123456789018", "rejected", time.Time{}, Note{Reason: long, Referral: "0755-12345678"})
	if n, _ := Segments(got); n != 2 {
		t.Errorf("want a full two segments, got %d: %q", n, got)
	}
	want := "【消费者热线】案件123456789018不予受理。原因：因"
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "因…。联系方式：0755-12345678。") {
		t.Errorf("got %q", got)
	}
	// The longer of two fields is cut first, down to the length of the other.
	got = StatusText("en", "123456789018", "rejected", time.Time{}, Note{Reason: strings.Repeat("r", 400), Referral: strings.Repeat("c", 400)})
	if n, enc := Segments(got); n != 2 || enc != GSM7 {
		t.Errorf("want two GSM-7 segments, got %d %s: %q", n, enc, got)
	}
	if strings.Count(got, "...") != 2 {
		t.Errorf("want both fields cut: %q", got)
	}
	if rs, cs := strings.Count(got, "r"), strings.Count(got, "c"); rs-cs > 5 || cs-rs > 5 {
		t.Errorf("fields cut unevenly (%d r, %d c): %q", rs, cs, got)
	}
}

func TestReplyOpenCases_listsWhatFits(t *testing.T) {
	t.Parallel()
	var nums []string
	for i := range 30 {
		nums = append(nums, fmt.Sprintf("1000000%05d", i))
	}
	for _, lang := range []string{"zh", "en"} {
		got := ReplyOpenCases(lang, nums)
		if n, _ := Segments(got); n > 2 {
			t.Errorf("%s: %d segments", lang, n)
		}
		if !strings.Contains(got, nums[0]) || strings.Contains(got, nums[29]) {
			t.Errorf("%s: want the first numbers listed and the last counted: %q", lang, got)
		}
		if !strings.Contains(got, "30") {
			t.Errorf("%s: want the count: %q", lang, got)
		}
	}
	if got, want := ReplyOpenCases("en", nums[:1]), "Consumer hotline: you have 1 open case: 100000000000. Text STATUS and a case number for details."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestFormatDate(t *testing.T) {
	t.Parallel()
	d := time.Date(2026, time.December, 3, 0, 0, 0, 0, time.UTC)
	if got := formatDate("zh", d); got != "12月3日" {
		t.Errorf("zh: %q", got)
	}
	if got := formatDate("en-US", d); got != "3 Dec" {
		t.Errorf("en: %q", got)
	}
}
