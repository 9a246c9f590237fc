package caselog

import "fmt"

// DefaultComposer writes plain status texts when no composer is configured
// (the server configures the SMS line's own). Mandarin unless the case's
// language is English.
func DefaultComposer(n Notice) (Draft, bool) {
	en := len(n.Case.Lang) >= 2 && n.Case.Lang[:2] == "en"
	c := n.Case
	switch n.Type {
	case NoticeOpened:
		if en {
			return Draft{Body: fmt.Sprintf("12315 hotline: your case number is %s. Keep it to check progress.", c.Number), Urgent: true}, true
		}
		return Draft{Body: fmt.Sprintf("【消费者热线】您的案件编号为%s，请妥善保存，可凭此号查询进度。", c.Number), Urgent: true}, true
	case NoticeStatus:
		if en {
			return Draft{Body: fmt.Sprintf("12315 hotline: case %s is now %s.", c.Number, c.Status)}, true
		}
		return Draft{Body: fmt.Sprintf("【消费者热线】您的案件%s状态已更新为：%s。", c.Number, c.Status)}, true
	case NoticeRatingRequest:
		if en {
			return Draft{Body: fmt.Sprintf("12315 hotline: case %s is finished. Reply 1-5 to rate our service (5 = very satisfied).", c.Number)}, true
		}
		return Draft{Body: fmt.Sprintf("【消费者热线】案件%s已办结，请回复1-5评价（5为非常满意）。", c.Number)}, true
	case NoticeCallbackFailed:
		if en {
			return Draft{Body: "12315 hotline: we tried to call you back but could not reach you. Reply CALLBACK to ask again."}, true
		}
		return Draft{Body: "【消费者热线】我们多次回电未能联系到您，如需回电请回复“回拨”。"}, true
	}
	return Draft{}, false
}
