package sms

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
)

func TestCompose(t *testing.T) {
	t.Parallel()
	const number = "123456789018" // the longest case number there will be
	due := time.Date(2026, time.December, 31, 23, 59, 59, 0, time.FixedZone("CST", 8*3600))
	staffNotes := map[string]caselog.Transition{
		"zh": {
			Department: "广东省深圳市南山区市场监督管理局蛇口市场监督管理所",
			Reason:     "经核查，商家已注销营业执照，无法组织调解",
			Referral:   "南山区人民法院 0755-12345678",
		},
		"en": {
			Department: "Nanshan District Administration for Market Regulation",
			Reason:     "the trader's licence was cancelled, so we cannot mediate",
			Referral:   "Nanshan People's Court, +86 755 1234 5678",
		},
	}
	for _, lang := range []string{"zh-CN", "en-US", "en", ""} {
		key := "zh"
		if strings.HasPrefix(lang, "en") {
			key = "en"
		}
		type row struct {
			name   string
			notice caselog.Notice
			urgent bool
			must   []string // besides the number
		}
		c := caselog.Case{Number: number, Caller: "+8613800138000", Lang: lang, DueAt: due}
		rows := []row{
			{name: "opened", notice: caselog.Notice{Type: caselog.NoticeOpened, Case: c}, urgent: true},
			{name: "rating_request", notice: caselog.Notice{Type: caselog.NoticeRatingRequest, Case: c}, must: []string{"1", "5"}},
			{name: "callback_failed", notice: caselog.Notice{Type: caselog.NoticeCallbackFailed, Case: c}},
		}
		for _, s := range caselog.Statuses {
			cs := c
			cs.Status = s
			tr := staffNotes[key]
			tr.To = s
			var must []string
			switch s {
			case caselog.Rejected, caselog.MediationEnded:
				must = []string{tr.Reason, tr.Referral}
			case caselog.Transferred:
				must = []string{tr.Department}
			case caselog.Accepted, caselog.Received, caselog.Mediating:
				if key == "en" {
					must = []string{"31 Dec"}
				} else {
					must = []string{"12月31日"}
				}
			}
			rows = append(rows, row{name: "status/" + string(s), notice: caselog.Notice{Type: caselog.NoticeStatus, Case: cs, Transition: tr}, must: must})
		}
		for _, r := range rows {
			t.Run(composeLangName(lang)+"/"+r.name, func(t *testing.T) {
				d, ok := Compose(r.notice)
				if !ok {
					t.Fatal("Compose declined")
				}
				if d.Urgent != r.urgent {
					t.Errorf("Urgent = %v, want %v", d.Urgent, r.urgent)
				}
				if !strings.Contains(d.Body, number) {
					t.Errorf("body does not name case %s: %q", number, d.Body)
				}
				for _, w := range r.must {
					if !strings.Contains(d.Body, w) {
						t.Errorf("body lacks %q: %q", w, d.Body)
					}
				}
				n, enc := Segments(d.Body)
				if n > 2 {
					t.Errorf("%d %s segments: %q", n, enc, d.Body)
				}
				wantEnglish := key == "en"
				if gotEnglish := strings.HasPrefix(d.Body, enSign); gotEnglish != wantEnglish {
					t.Errorf("English = %v, want %v: %q", gotEnglish, wantEnglish, d.Body)
				}
				if wantEnglish && enc != GSM7 {
					t.Errorf("English text is %s: %q", enc, d.Body)
				}
			})
		}
	}
}

func composeLangName(lang string) string {
	if lang == "" {
		return "no_lang"
	}
	return lang
}

func TestCompose_unknownNotice(t *testing.T) {
	t.Parallel()
	if d, ok := Compose(caselog.Notice{Type: "anniversary", Case: caselog.Case{Number: "1000002"}}); ok {
		t.Errorf("Compose(unknown) = %q, true; want declined", d.Body)
	}
}

// TestCompose_inLog runs Compose as the log's composer: a case opened by
// voice queues OpenedByVoice, urgent; a rejection queues the status text
// with the reason and referral staff wrote, then the rating question.
func TestCompose_inLog(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("CST", 8*3600)
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, loc) // a Monday
	l, _ := caselogtest.Open(t, caselog.Options{
		Calendar: caselog.Calendar{Location: loc}, Compose: Compose, NoSync: true,
		Now: func() time.Time { return now },
	})
	ctx := context.Background()
	c, _, err := l.Record(ctx, "voice:CA1:complaint:case", caselog.NewCase{
		Caller: "+8613800138000", Channel: caselog.Voice, Kind: caselog.Complaint, Lang: "en-US", Notify: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := caselog.Transition{To: caselog.Rejected, Actor: "wang", Reason: "not a consumer dispute", Referral: "the district court"}
	if _, err := l.Move(ctx, c.Number, tr); err != nil {
		t.Fatal(err)
	}
	var msgs []caselog.Message
	if err := l.View(func(tx *caselog.Tx) error {
		var err error
		msgs, err = tx.Outbox("", 10)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	byNotice := map[caselog.NoticeType]caselog.Message{}
	for _, m := range msgs {
		byNotice[m.Notice] = m
	}
	opened := byNotice[caselog.NoticeOpened]
	if want := OpenedByVoice("en-US", c.Number); opened.Body != want || !opened.Urgent {
		t.Errorf("opened SMS = %q urgent %v; want %q urgent", opened.Body, opened.Urgent, want)
	}
	status := byNotice[caselog.NoticeStatus]
	want := StatusText("en-US", c.Number, "rejected", time.Time{}, Note{Reason: tr.Reason, Referral: tr.Referral})
	if status.Body != want || status.Urgent {
		t.Errorf("status SMS = %q urgent %v; want %q not urgent", status.Body, status.Urgent, want)
	}
	for _, w := range []string{tr.Reason, tr.Referral} {
		if !strings.Contains(status.Body, w) {
			t.Errorf("status SMS lacks %q", w)
		}
	}
}
