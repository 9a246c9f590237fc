package sms

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"
)

// Every text the SMS line sends, in Mandarin and English. A text is English
// when lang starts with "en" (en, en-US), Mandarin otherwise: the hotline's
// consumers are mostly Chinese-speaking and a case without a language is
// answered in Mandarin.
//
// Every text fits in two SMS segments: a Mandarin one in 134 UCS-2 units,
// an English one in 306 GSM-7 septets, so English texts use only GSM-7
// characters (straight quotes, "-", "..."). TestTexts counts every text with
// the longest inputs. A text about a case names its number unbroken, so that
// phones make it a tappable, copyable run of digits.
//
// Free-text fields typed by staff (department, reason, referral contact,
// an unknown status) are cleaned (runs of white space and line breaks
// become one space; in English texts typographic quotes, dashes, the
// ellipsis and full-width forms become their GSM-7 equivalents) and, if the
// text would take more than two segments, shortened: the longest field
// loses one character at a time from its end and gets an ellipsis ("…" in
// Mandarin, "..." in English) until the text fits; a field that would be
// cut under 8 characters is left out, with the words that introduce it. A field in Chinese in an
// English text makes that text UCS-2; it is shortened to fit 134 units the
// same way rather than dropped, as the consumer needs that name to act on
// it. Case numbers and the fixed wording are never cut.
//
// Dates are written without the year, the way each language writes a date
// in a text message: 12月3日, 3 Dec. Callers pass times in the hotline's
// time zone; a zero time leaves the date out.

const (
	zhSign = "【消费者热线】"
	enSign = "Consumer hotline: "

	maxSegments = 2
	// maxField caps a field before fitting: nothing longer could fit, and
	// the cap bounds the fitting loop.
	maxField = 160
	// minField is the shortest a cut field may become; one that would be
	// shorter is left out, with the words that introduce it.
	minField = 8
)

// Note is what staff wrote with a status change, for the consumer.
type Note struct {
	Department string // transferred: who has the case now
	Reason     string // rejected, mediation_ended: why
	Referral   string // whom to contact instead (a body, a phone number)
}

func english(lang string) bool { return strings.HasPrefix(strings.ToLower(lang), "en") }

// formatDate writes d the way lang writes a date in a text message.
func formatDate(lang string, d time.Time) string {
	if english(lang) {
		return d.Format("2 Jan")
	}
	return fmt.Sprintf("%d月%d日", d.Month(), d.Day())
}

// KindName names a kind of case (caselog.Kind as a string) in lang.
func KindName(lang, kind string) string {
	zh, en := "反映", "message"
	switch kind {
	case "complaint":
		zh, en = "投诉", "complaint"
	case "report":
		zh, en = "举报", "report"
	case "consultation":
		zh, en = "咨询", "question"
	case "callback":
		zh, en = "回电请求", "callback request"
	case "enquiry":
		zh, en = "留言", "message"
	}
	if english(lang) {
		return en
	}
	return zh
}

// StatusName names a case status (caselog.Status as a string) in lang, in
// the words an SMS uses; an unknown status is given back cleaned and capped.
func StatusName(lang, status string) string {
	zh, en := "", ""
	switch status {
	case "received":
		zh, en = "已登记，待受理", "registered, awaiting a decision"
	case "accepted":
		zh, en = "已受理", "accepted"
	case "rejected":
		zh, en = "不予受理", "not accepted"
	case "transferred":
		zh, en = "已转交有关部门", "passed to the responsible authority"
	case "mediating":
		zh, en = "调解中", "in mediation"
	case "resolved":
		zh, en = "已办结", "resolved"
	case "mediation_ended":
		zh, en = "调解终止", "mediation ended without agreement"
	case "closed":
		zh, en = "已结案", "closed"
	case "withdrawn":
		zh, en = "已撤回", "withdrawn"
	default:
		return clean(lang, status)
	}
	if english(lang) {
		return en
	}
	return zh
}

// showsDue reports whether a case in status still has a deadline that the
// consumer is waiting on.
func showsDue(status string) bool {
	switch status {
	case "received", "accepted", "transferred", "mediating":
		return true
	}
	return false
}

// ReplyOpened answers a message that opened a case of kind (caselog.Kind
// as a string) with its number and, unless due is zero, its deadline.
func ReplyOpened(lang, kind, number string, due time.Time) string {
	k := KindName(lang, kind)
	if english(lang) {
		s := enSign + fmt.Sprintf("your %s is registered as case %s.", k, number)
		if !due.IsZero() {
			s += fmt.Sprintf(" We will reply by %s.", formatDate(lang, due))
		}
		return s + fmt.Sprintf(" Text STATUS %s for progress, or ADD %s and more details.", number, number)
	}
	s := zhSign + fmt.Sprintf("您的%s已登记，案件编号%s", k, number)
	if !due.IsZero() {
		s += fmt.Sprintf("，办理期限%s", formatDate(lang, due))
	}
	return s + "。回复“查询+编号”查进度，“补充+编号+内容”补充材料。"
}

// ReplyStatus answers a status query for one case.
func ReplyStatus(lang, number, status string, due time.Time) string {
	return fit(lang, func(f []string) string {
		name := f[0]
		if english(lang) {
			s := enSign + fmt.Sprintf("case %s status: %s.", number, name)
			if showsDue(status) && !due.IsZero() {
				s += fmt.Sprintf(" Due by %s.", formatDate(lang, due))
			}
			return s
		}
		s := zhSign + fmt.Sprintf("案件%s当前状态：%s", number, name)
		if showsDue(status) && !due.IsZero() {
			s += fmt.Sprintf("，办理期限%s", formatDate(lang, due))
		}
		return s + "。"
	}, StatusName(lang, status))
}

// ReplyOpenCases answers a status query without a number with the sender's
// open cases, in the order given (newest first, say). As many numbers as
// fit are listed, each unbroken, and the rest counted.
func ReplyOpenCases(lang string, numbers []string) string {
	if len(numbers) == 0 {
		if english(lang) {
			return enSign + "there are no open cases for this phone number. To complain, text COMPLAINT and your message."
		}
		return zhSign + "本号码名下没有办理中的案件。投诉请回复“投诉+内容”。"
	}
	render := func(shown int) string {
		more := len(numbers) - shown
		if english(lang) {
			list := strings.Join(numbers[:shown], ", ")
			if more > 0 {
				list += fmt.Sprintf(" and %d more", more)
			}
			noun := "cases"
			if len(numbers) == 1 {
				noun = "case"
			}
			return enSign + fmt.Sprintf("you have %d open %s: %s. Text STATUS and a case number for details.", len(numbers), noun, list)
		}
		list := strings.Join(numbers[:shown], "、")
		if more > 0 {
			list += "等"
		}
		return zhSign + fmt.Sprintf("您有%d件办理中的案件：%s。回复“查询+编号”查看详情。", len(numbers), list)
	}
	for shown := len(numbers); shown > 1; shown-- {
		if s := render(shown); fits(s) {
			return s
		}
	}
	return render(1)
}

// ReplyAdded confirms that text and media (the number of MMS attachments)
// were added to a case.
func ReplyAdded(lang, number string, media int) string {
	if english(lang) {
		s := enSign + fmt.Sprintf("your details were added to case %s", number)
		switch {
		case media == 1:
			s += " with 1 attachment"
		case media > 1:
			s += fmt.Sprintf(" with %d attachments", media)
		}
		return s + "."
	}
	s := zhSign + fmt.Sprintf("您的补充内容已记入案件%s", number)
	if media > 0 {
		s += fmt.Sprintf("（含%d个附件）", media)
	}
	return s + "。"
}

// ReplyAddNeedsNumber answers an ADD that names no case when the sender
// has more than one open case (or none).
func ReplyAddNeedsNumber(lang string) string {
	if english(lang) {
		return enSign + "please say which case to add to: text ADD, the case number and your details."
	}
	return zhSign + "请写明案件编号，格式：补充+案件编号+补充内容。"
}

// ReplyNotYours refuses to add to a case that another phone number opened.
func ReplyNotYours(lang, number string) string {
	if english(lang) {
		return enSign + fmt.Sprintf("case %s was not registered from this phone number, so nothing was added to it. Please call the hotline for help.", number)
	}
	return zhSign + fmt.Sprintf("案件%s不是用本手机号登记的，无法补充。如有疑问请致电本热线。", number)
}

// ReplyUnknownCase answers a well-formed number that names no case.
func ReplyUnknownCase(lang, number string) string {
	if english(lang) {
		return enSign + fmt.Sprintf("we found no case %s. Please check the number and try again.", number)
	}
	return zhSign + fmt.Sprintf("未找到案件%s，请核对编号后重发。", number)
}

// ReplyBadNumber answers a number whose check digit does not hold: a
// mistyped number, told apart without a look-up.
func ReplyBadNumber(lang, number string) string {
	if english(lang) {
		return enSign + fmt.Sprintf("%s is not a valid case number (its last digit does not match). Please check it and try again.", number)
	}
	return zhSign + fmt.Sprintf("案件编号%s有误（校验位不符），请核对后重发。", number)
}

// ReplyHelp lists the keywords. It also answers a message with no keyword.
func ReplyHelp(lang string) string {
	if english(lang) {
		return enSign + "text COMPLAINT, REPORT or ASK and your message; STATUS and a case number; ADD, a case number and details; CALLBACK to be called back; STOP to opt out."
	}
	return zhSign + "请回复：投诉+内容；举报+内容；咨询+问题；查询+案件编号；补充+编号+内容；回拨（请我们回电）；退订。For English, text HELP."
}

// ReplyStopped confirms an opt-out.
func ReplyStopped(lang string) string {
	if english(lang) {
		return enSign + "you will get no more texts from us. Your cases are still being handled. Text START to get texts again."
	}
	return zhSign + "您已退订本热线短信，案件仍会照常办理。回复“订阅”可恢复接收。"
}

// ReplyStarted confirms an opt-in.
func ReplyStarted(lang string) string {
	if english(lang) {
		return enSign + "you will get texts from us again. Text STOP to opt out."
	}
	return zhSign + "您已恢复接收本热线短信。回复“退订”可退订。"
}

// ReplyCallback confirms a callback request; number is the case it made or
// concerns, "" if none.
func ReplyCallback(lang, number string) string {
	if english(lang) {
		s := enSign + "we have your callback request"
		if number != "" {
			s += fmt.Sprintf(" (case %s)", number)
		}
		return s + ". We will call you back during working hours; please keep your phone on."
	}
	s := zhSign + "已收到您的回电请求"
	if number != "" {
		s += fmt.Sprintf("（案件%s）", number)
	}
	return s + "，工作人员将在工作时间回电，请留意来电。"
}

// ReplyRatingThanks thanks the consumer for a rating of 1 to 5.
func ReplyRatingThanks(lang, number string, rating int) string {
	if english(lang) {
		return enSign + fmt.Sprintf("thank you for rating case %s (%d of 5).", number, rating)
	}
	return zhSign + fmt.Sprintf("感谢您对案件%s的评价（%d分）。", number, rating)
}

// StatusText is the automated SMS for a case that moved to status. due is
// the new deadline (left out when zero or when the status has none); note
// carries what staff wrote for the consumer: Department for transferred,
// Reason for rejected and mediation_ended, Referral for any of them.
func StatusText(lang, number, status string, due time.Time, note Note) string {
	en := english(lang)
	date := ""
	if showsDue(status) && !due.IsZero() {
		date = formatDate(lang, due)
	}
	return fit(lang, func(f []string) string {
		dept, reason, referral, name := f[0], f[1], f[2], f[3]
		var b strings.Builder
		if en {
			b.WriteString(enSign)
			switch status {
			case "received":
				fmt.Fprintf(&b, "case %s is registered.", number)
				if date != "" {
					fmt.Fprintf(&b, " We will decide whether to accept it by %s.", date)
				}
			case "accepted":
				fmt.Fprintf(&b, "case %s is accepted.", number)
				if date != "" {
					fmt.Fprintf(&b, " It is due to be dealt with by %s.", date)
				}
			case "rejected":
				fmt.Fprintf(&b, "case %s was not accepted.", number)
				if reason != "" {
					fmt.Fprintf(&b, " Reason: %s.", reason)
				}
			case "transferred":
				if dept == "" {
					dept = "the responsible authority"
				}
				fmt.Fprintf(&b, "case %s was passed to %s.", number, dept)
				if date != "" {
					fmt.Fprintf(&b, " Due by %s.", date)
				}
			case "mediating":
				fmt.Fprintf(&b, "case %s is in mediation. A mediator will contact you.", number)
				if date != "" {
					fmt.Fprintf(&b, " Due by %s.", date)
				}
			case "resolved":
				fmt.Fprintf(&b, "case %s is resolved. Thank you for your patience.", number)
			case "mediation_ended":
				fmt.Fprintf(&b, "mediation of case %s ended without agreement.", number)
				if reason != "" {
					fmt.Fprintf(&b, " Reason: %s.", reason)
				}
				b.WriteString(" You may apply for arbitration or go to court.")
			case "closed":
				fmt.Fprintf(&b, "case %s is closed.", number)
			case "withdrawn":
				fmt.Fprintf(&b, "case %s was withdrawn as you asked.", number)
			default:
				fmt.Fprintf(&b, "case %s is now: %s.", number, name)
			}
			if referral != "" {
				fmt.Fprintf(&b, " Contact: %s.", referral)
			}
			return b.String()
		}

		b.WriteString(zhSign)
		switch status {
		case "received":
			fmt.Fprintf(&b, "案件%s已登记", number)
			if date != "" {
				fmt.Fprintf(&b, "，将于%s前告知是否受理", date)
			}
		case "accepted":
			fmt.Fprintf(&b, "案件%s已受理", number)
			if date != "" {
				fmt.Fprintf(&b, "，办理期限%s", date)
			}
		case "rejected":
			fmt.Fprintf(&b, "案件%s不予受理", number)
			if reason != "" {
				fmt.Fprintf(&b, "。原因：%s", reason)
			}
		case "transferred":
			if dept == "" {
				dept = "有关部门"
			}
			fmt.Fprintf(&b, "案件%s已转交%s处理", number, dept)
			if date != "" {
				fmt.Fprintf(&b, "，期限%s", date)
			}
		case "mediating":
			fmt.Fprintf(&b, "案件%s已进入调解，调解员将与您联系", number)
			if date != "" {
				fmt.Fprintf(&b, "，期限%s", date)
			}
		case "resolved":
			fmt.Fprintf(&b, "案件%s已办结，感谢您的耐心", number)
		case "mediation_ended":
			fmt.Fprintf(&b, "案件%s调解终止，双方未达成一致", number)
			if reason != "" {
				fmt.Fprintf(&b, "。原因：%s", reason)
			}
			b.WriteString("。您可依法申请仲裁或向人民法院起诉")
		case "closed":
			fmt.Fprintf(&b, "案件%s已结案", number)
		case "withdrawn":
			fmt.Fprintf(&b, "案件%s已按您的要求撤回", number)
		default:
			fmt.Fprintf(&b, "案件%s状态更新为：%s", number, name)
		}
		if referral != "" {
			fmt.Fprintf(&b, "。联系方式：%s", referral)
		}
		b.WriteString("。")
		return b.String()
	}, clean(lang, note.Department), clean(lang, note.Reason), clean(lang, note.Referral), StatusName(lang, status))
}

// OpenedByVoice tells a caller the number of the case their call opened.
func OpenedByVoice(lang, number string) string {
	if english(lang) {
		return enSign + fmt.Sprintf("your call is registered as case %s. Please keep this number. Text STATUS %s to check progress.", number, number)
	}
	return zhSign + fmt.Sprintf("您来电反映的问题已登记，案件编号%s，请妥善保存。回复“查询%s”可查进度。", number, number)
}

// CallbackFailed tells a consumer we called back and did not reach them;
// number is the case the callback was for, "" if none.
func CallbackFailed(lang, number string) string {
	if english(lang) {
		s := enSign + "we tried to call you back"
		if number != "" {
			s += fmt.Sprintf(" about case %s", number)
		}
		return s + " but could not reach you. Text CALLBACK to ask again."
	}
	s := zhSign + "我们回电未能联系到您"
	if number != "" {
		s += fmt.Sprintf("（案件%s）", number)
	}
	return s + "。如仍需回电，请回复“回拨”。"
}

// RatingRequest asks for a satisfaction rating when a case is resolved or
// closed.
func RatingRequest(lang, number string) string {
	if english(lang) {
		return enSign + fmt.Sprintf("case %s is finished. Please rate our service: reply with a number from 1 to 5 (5 = very satisfied).", number)
	}
	return zhSign + fmt.Sprintf("案件%s已办结，请回复数字1-5评价我们的服务（5为非常满意）。", number)
}

// fits reports whether text goes in at most two segments.
func fits(text string) bool {
	n, _ := Segments(text)
	return n <= maxSegments
}

// fit renders a text from its free-text fields, shortening the longest
// field, one character at a time with an ellipsis, until the text fits in
// two segments (see the comment at the top of this file); a field that
// would fall under minField characters is dropped instead, and render must
// leave out the clause of an empty field. The fields must already be
// cleaned.
func fit(lang string, render func(fields []string) string, fields ...string) string {
	ellipsis := "…"
	if english(lang) {
		ellipsis = "..."
	}
	cores := make([][]rune, len(fields))
	cut := make([]bool, len(fields))
	for i, f := range fields {
		cores[i] = []rune(f)
		if len(cores[i]) > maxField {
			cores[i], cut[i] = cores[i][:maxField], true
		}
	}
	out := make([]string, len(fields))
	for {
		for i, c := range cores {
			out[i] = string(c)
			if cut[i] {
				out[i] = strings.TrimRightFunc(out[i], isBlank) + ellipsis
			}
		}
		s := render(out)
		if fits(s) {
			return s
		}
		longest := -1
		for i, c := range cores {
			if len(c) > 0 && (longest < 0 || len(c) > len(cores[longest])) {
				longest = i
			}
		}
		if longest < 0 {
			return s // the fixed wording alone is too long: TestTexts fails
		}
		c := cores[longest][:len(cores[longest])-1]
		if len(c) < minField {
			c, cut[longest] = nil, false // a stub says nothing: leave the field out
		} else {
			cut[longest] = true
		}
		cores[longest] = c
	}
}

// clean prepares a staff-typed field for a text: valid UTF-8, no control
// characters, runs of white space (line breaks too) as one space, trimmed.
// For an English text it also replaces the characters that would needlessly
// make the text UCS-2 by their GSM-7 equivalents.
func clean(lang, s string) string {
	en := english(lang)
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if isBlank(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if en {
			if w := width.LookupRune(r).Folded(); w != 0 && w < 0x80 {
				r = w // full-width forms
			}
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if en {
			if g, ok := gsmLookalikes[r]; ok {
				b.WriteString(g)
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// gsmLookalikes are characters staff type (or word processors insert) that
// GSM-7 lacks, with what an English text uses instead.
var gsmLookalikes = map[rune]string{
	'‘': "'", '’': "'", '‚': "'", '′': "'",
	'“': "\"", '”': "\"", '„': "\"", '″': "\"",
	'‐': "-", '‑': "-", '‒': "-", '–': "-", '—': "-", '―': "-", '−': "-",
	'…': "...", '•': "-", '·': "-",
	'`': "'", '´': "'",
}
