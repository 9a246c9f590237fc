package sms

import (
	"cmp"

	"github.com/hotline/hotline/caselog"
)

// Compose writes the SMS for a notice: it is the caselog.Composer the server
// configures (caselog.Options.Compose), so every automated text the outbox
// holds comes from the texts of this package and fits in two segments.
//
// The language is the case's (Case.Lang: "en…" is English, anything else,
// empty included, Mandarin). Only the number of a case opened by voice is
// urgent, sent even in quiet hours: the caller has just hung up and is
// waiting for it. Status texts name the department a case was passed to,
// and the reason and referral of a rejection or an ended mediation, as staff
// wrote them in the transition. A notice type this package does not know is
// declined (ok false), so that a newer caselog never sends an empty text.
func Compose(n caselog.Notice) (d caselog.Draft, ok bool) {
	c := n.Case
	switch n.Type {
	case caselog.NoticeOpened:
		return caselog.Draft{Body: OpenedByVoice(c.Lang, c.Number), Urgent: true}, true
	case caselog.NoticeStatus:
		t := n.Transition
		status := string(cmp.Or(t.To, c.Status))
		note := Note{Department: t.Department, Reason: t.Reason, Referral: t.Referral}
		return caselog.Draft{Body: StatusText(c.Lang, c.Number, status, c.DueAt, note)}, true
	case caselog.NoticeRatingRequest:
		return caselog.Draft{Body: RatingRequest(c.Lang, c.Number)}, true
	case caselog.NoticeCallbackFailed:
		return caselog.Draft{Body: CallbackFailed(c.Lang, c.Number)}, true
	}
	return caselog.Draft{}, false
}
