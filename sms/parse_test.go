package sms

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotline/hotline/caselog"
)

// Case numbers used below. Valid ones pass caselog.Valid (Damm check
// digit); TestParse_numbers checks that they still do.
const (
	good7  = "1234566"
	good7b = "1000002"
	good10 = "2024000013"
	good12 = "123456789018"
	bad7   = "1234567" // check digit wrong
	phone  = "13800138000"
)

func TestParse_numbers(t *testing.T) {
	for _, n := range []string{good7, good7b, good10, good12} {
		if !caselog.Valid(n) {
			t.Errorf("%s should be a valid case number", n)
		}
	}
	for _, n := range []string{bad7, phone} {
		if caselog.Valid(n) {
			t.Errorf("%s should not be a valid case number", n)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	zh := func(k CommandKind, c, text string) Command {
		return Command{Kind: k, Case: c, Text: text, Lang: LangZH}
	}
	en := func(k CommandKind, c, text string) Command {
		return Command{Kind: k, Case: c, Text: text, Lang: LangEN}
	}
	tests := []struct {
		name string
		body string
		want Command
	}{
		// Chinese keywords, every separator.
		{"zh complaint colon", "投诉：某某商店卖过期食品", zh(Complaint, "", "某某商店卖过期食品")},
		{"zh complaint ascii colon", "投诉:某某商店卖过期食品", zh(Complaint, "", "某某商店卖过期食品")},
		{"zh complaint nothing after", "投诉某某商店卖过期食品", zh(Complaint, "", "某某商店卖过期食品")},
		{"zh complaint space", "投诉 某某商店", zh(Complaint, "", "某某商店")},
		{"zh complaint ideographic space", "投诉\u3000某某商店", zh(Complaint, "", "某某商店")},
		{"zh complaint newline", "投诉\n某某商店\n地址：某路1号", zh(Complaint, "", "某某商店\n地址：某路1号")},
		{"zh complaint comma", "投诉，健身房跑路", zh(Complaint, "", "健身房跑路")},
		{"zh complaint ascii comma", "投诉,健身房跑路", zh(Complaint, "", "健身房跑路")},
		{"zh complaint alone", "投诉", zh(Complaint, "", "")},
		{"zh complaint in brackets", "【投诉】健身房跑路", zh(Complaint, "", "健身房跑路")},
		{"zh complaint keeps quote", "投诉：“七天无理由”不退", zh(Complaint, "", "“七天无理由”不退")},
		{"zh complaint traditional", "投訴：商店不退款", zh(Complaint, "", "商店不退款")},
		{"zh report", "举报 某药店无证经营", zh(Report, "", "某药店无证经营")},
		{"zh ask", "咨询：网购七天无理由退货怎么算？", zh(Ask, "", "网购七天无理由退货怎么算？")},
		{"zh callback", "回拨", zh(Callback, "", "")},
		{"zh callback with text", "回拨 下午3点以后", zh(Callback, "", "下午3点以后")},
		{"zh help", "帮助", zh(Help, "", "")},

		// Status and add with case numbers.
		{"zh status with number", "查询" + good7, zh(Status, good7, "")},
		{"zh status colon number", "查询：" + good10, zh(Status, good10, "")},
		{"zh status full-width digits", "查询１２３４５６６", zh(Status, good7, "")},
		{"zh status no number", "查询", zh(Status, "", "")},
		{"zh status prefix word", "查询 案件编号：" + good12, zh(Status, good12, "")},
		{"zh status bad check digit", "查询" + bad7, zh(Status, bad7, "")},
		{"zh status too short", "查询12345", zh(Status, "", "12345")},
		{"zh status too long", "查询1234567890123", zh(Status, "", "1234567890123")},
		{"zh status grouped spaces", "查询 123 456 6", zh(Status, good7, "")},
		{"zh status grouped hyphens", "查询 2024-000-013", zh(Status, good10, "")},
		{"zh status number mid text", "查询一下我的案件" + good7 + "进度", zh(Status, good7, "一下我的案件"+good7+"进度")},
		{"zh add number and text", "补充 " + good7 + " 商家又打电话骚扰", zh(Add, good7, "商家又打电话骚扰")},
		{"zh add full-width colon", "补充：" + good7 + "，发票照片见附件", zh(Add, good7, "发票照片见附件")},
		{"zh add case prefix", "补充 案件" + good7 + "：对方已同意退款", zh(Add, good7, "对方已同意退款")},
		{"zh add phone first then case", "补充 我的电话" + phone + " 案件" + good7, zh(Add, good7, "我的电话"+phone+" 案件"+good7)},
		{"zh add no number", "补充 商家又来电话了", zh(Add, "", "商家又来电话了")},
		{"zh add number then count", "补充 " + good7 + " 2张照片", zh(Add, good7, "2张照片")},

		// Pinyin initials.
		{"pinyin TS space han", "TS 某某商店", zh(Complaint, "", "某某商店")},
		{"pinyin ts lower han direct", "ts某某商店", zh(Complaint, "", "某某商店")},
		{"pinyin full-width", "ＴＳ：某某商店", zh(Complaint, "", "某某商店")},
		{"pinyin JB", "JB:无证经营", zh(Report, "", "无证经营")},
		{"pinyin ZX", "zx 退货", zh(Ask, "", "退货")},
		{"pinyin CX digits", "CX" + good7, zh(Status, good7, "")},
		{"pinyin CX space digits", "cx " + good7, zh(Status, good7, "")},
		{"pinyin HB alone", "HB", zh(Callback, "", "")},
		{"pinyin BC", "BC " + good7 + " 补充照片", zh(Add, good7, "补充照片")},
		{"pinyin BZ", "bz", zh(Help, "", "")},
		{"pinyin TD", "TD", zh(Stop, "", "")},
		{"pinyin bc english", "bc my order never came", en(None, "", "bc my order never came")},
		{"pinyin ts english word", "TSA took my bag", en(None, "", "TSA took my bag")},
		{"pinyin hb english after space", "HB pencils were faulty", en(None, "", "HB pencils were faulty")},
		{"pinyin colon english", "TS: broken phone", zh(Complaint, "", "broken phone")},

		// English keywords.
		{"en complaint", "COMPLAINT the gym closed and kept my fee", en(Complaint, "", "the gym closed and kept my fee")},
		{"en complaint lower colon", "complaint: shop refuses refund", en(Complaint, "", "shop refuses refund")},
		{"en complaint full-width", "ｃｏｍｐｌａｉｎｔ shop", en(Complaint, "", "shop")},
		{"en report", "Report expired milk at corner shop", en(Report, "", "expired milk at corner shop")},
		{"en ask", "ask: how long is the warranty?", en(Ask, "", "how long is the warranty?")},
		{"en status number", "STATUS " + good7, en(Status, good7, "")},
		{"en status glued", "status" + good7, en(Status, good7, "")},
		{"en status case prefix", "Status case #" + good10, en(Status, good10, "")},
		{"en status no number", "status", en(Status, "", "")},
		{"en add", "ADD " + good12 + " they called again", en(Add, good12, "they called again")},
		{"en add case no", "add case no. " + good7 + ": receipt attached", en(Add, good7, "receipt attached")},
		{"en callback", "CALLBACK please after 5pm", en(Callback, "", "please after 5pm")},
		{"en help", "help", en(Help, "", "")},
		{"en help punct", "HELP!", en(Help, "", "")},
		{"en han text after english keyword", "COMPLAINT 商店不退款", zh(Complaint, "", "商店不退款")},
		{"en reported not report", "REPORTED last week, no answer", en(None, "", "REPORTED last week, no answer")},
		{"en asking not ask", "Asking about my refund", en(None, "", "Asking about my refund")},
		{"en address not add", "Address is 5 Main St", en(None, "", "Address is 5 Main St")},
		{"en accented continuation", "Askés", en(None, "", "Askés")},

		// Opt-out and opt-in.
		{"stop", "STOP", en(Stop, "", "")},
		{"stop lower padded", "  stop \n", en(Stop, "", "")},
		{"stop full-width", "ＳＴＯＰ", en(Stop, "", "")},
		{"stopall", "StopAll", en(Stop, "", "")},
		{"unsubscribe", "unsubscribe", en(Stop, "", "")},
		{"cancel", "Cancel", en(Stop, "", "")},
		{"end", "END", en(Stop, "", "")},
		{"quit", "quit", en(Stop, "", "")},
		{"revoke", "REVOKE", en(Stop, "", "")},
		{"optout", "optout", en(Stop, "", "")},
		{"stop with more words", "STOP sending me these", en(None, "", "STOP sending me these")},
		{"stopped", "STOPPED the car", en(None, "", "STOPPED the car")},
		{"ending", "ENDING", en(None, "", "ENDING")},
		{"stop with punctuation", "Stop!", en(None, "", "Stop!")},
		{"cancel with text", "cancel my gym contract please", en(None, "", "cancel my gym contract please")},
		{"zh stop", "退订", zh(Stop, "", "")},
		{"zh stop first word", "退订 谢谢", zh(Stop, "", "谢谢")},
		{"zh stop punct", "退订。", zh(Stop, "", "")},
		{"zh stop traditional", "退訂", zh(Stop, "", "")},
		{"zh booking cancelled is not stop", "退订酒店不给退款", zh(None, "", "退订酒店不给退款")},
		{"start", "START", en(Start, "", "")},
		{"unstop", "unstop", en(Start, "", "")},
		{"yes", "Yes", en(Start, "", "")},
		{"zh start", "订阅", zh(Start, "", "")},
		{"start with words", "start again please", en(None, "", "start again please")},

		// Ratings.
		{"rating", "5", en(Rating, "", "5")},
		{"rating padded", " 1\n", en(Rating, "", "1")},
		{"rating full-width", "３", en(Rating, "", "3")},
		{"rating zero", "0", en(None, "", "0")},
		{"rating six", "6", en(None, "", "6")},
		{"rating two digits", "55", en(None, "", "55")},

		// No keyword, noise, edge cases.
		{"empty", "", en(None, "", "")},
		{"whitespace only", " \t\r\n\u3000", en(None, "", "")},
		{"zero-width only", "\u200b\ufeff", en(None, "", "")},
		{"bom before keyword", "\ufeff投诉 商店", zh(Complaint, "", "商店")},
		{"emoji before keyword", "😡投诉 商店骗人", zh(Complaint, "", "商店骗人")},
		{"emoji only", "👍", en(None, "", "👍")},
		{"plain zh", "你好，我想问一下", zh(None, "", "你好，我想问一下")},
		{"plain en", "Hello, is anyone there?", en(None, "", "Hello, is anyone there?")},
		{"bare case number", good7, en(None, "", good7)},
		{"keyword later in body", "我要投诉", zh(None, "", "我要投诉")},
		{"punctuation only", "？？？", en(None, "", "？？？")},
		{"invalid utf8", "\xff\xfe投诉", zh(Complaint, "", "")},
	}
	if len(tests) < 60 {
		t.Fatalf("only %d bodies", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Parse(tt.body); got != tt.want {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.body, got, tt.want)
			}
		})
	}
}

func TestFindCase(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"first valid wins", "x " + good7 + " " + good10, good7},
		{"valid beats earlier invalid", bad7 + " " + good10, good10},
		{"invalid returned when nothing checks", "a " + bad7 + " b", bad7},
		{"phone skipped for later case", phone + " 案件" + good7, good7},
		{"grouped invalid returned whole", "123 456 8", "1234568"},
		{"unbroken run not extended by a count", good7 + " 2", good7},
		{"13 digits never cut", "1234567890123", ""},
		{"five digits", "12345", ""},
		{"double space does not join", "123  4566", ""},
		{"twelve", good12, good12},
		{"mixed widths", "１２３4566", good7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := []rune(tt.body)
			for i, r := range f {
				f[i] = fold(r)
			}
			if got, _, _ := findCase(f, 0); got != tt.want {
				t.Errorf("findCase(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
}

func TestCommandKind_CaseKind(t *testing.T) {
	t.Parallel()
	for k, want := range map[CommandKind]caselog.Kind{
		Complaint: caselog.Complaint, Report: caselog.Report, Ask: caselog.Consultation,
		Callback: caselog.CallbackKind, None: caselog.Enquiry,
	} {
		if got := k.CaseKind(); got != string(want) {
			t.Errorf("%s.CaseKind() = %q, want %q", k, got, want)
		}
		if _, err := caselog.ParseKind(k.CaseKind()); err != nil {
			t.Errorf("%s.CaseKind(): %v", k, err)
		}
	}
	for _, k := range []CommandKind{Status, Add, Help, Stop, Start, Rating} {
		if got := k.CaseKind(); got != "" {
			t.Errorf("%s.CaseKind() = %q, want none", k, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"投诉：商店", "STOP", "查询" + good7, "TS 某", "5", "", "ＡＤＤ　１２３４５６６　照片"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c := Parse(body)
		if !c.Kind.Valid() {
			t.Fatalf("Parse(%q): invalid kind %q", body, c.Kind)
		}
		if c.Case != "" {
			if len(c.Case) < 6 || len(c.Case) > 12 || strings.Trim(c.Case, "0123456789") != "" {
				t.Fatalf("Parse(%q): case %q is not 6-12 digits", body, c.Case)
			}
			if c.Kind != Status && c.Kind != Add {
				t.Fatalf("Parse(%q): case %q on a %s", body, c.Case, c.Kind)
			}
		}
		if !utf8.ValidString(c.Text) {
			t.Fatalf("Parse(%q): text %q is not UTF-8", body, c.Text)
		}
		if c.Lang != LangZH && c.Lang != LangEN {
			t.Fatalf("Parse(%q): lang %q", body, c.Lang)
		}
		if c.Kind == Rating && (len(c.Text) != 1 || c.Text[0] < '1' || c.Text[0] > '5') {
			t.Fatalf("Parse(%q): rating %q", body, c.Text)
		}
		if Parse(body) != c {
			t.Fatalf("Parse(%q) is not deterministic", body)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	body := "补充：案件" + good12 + "，商家今天又打电话来，发票照片见附件。"
	for b.Loop() {
		Parse(body)
	}
}
