// Package demo fills a fresh case log with a realistic stretch of a Chinese
// consumer hotline, so that the staff console has something to show: a few
// hundred calls and texts over the last two months (complaints about online
// shops, prepaid gym cards and phone repairs, food-safety reports, questions
// about seven-day returns, requests to be called back, stray texts), in
// Mandarin and some English, from made-up +86 numbers, some callers with
// several cases. Staff have moved them through the lifecycle with notes,
// some are overdue, callbacks wait in the queue (some claimed, some after
// unanswered attempts), consumers have rated finished cases, and the outbox
// holds the SMS all this sent.
//
// # Usage
//
// Everything is recorded through caselog's own verbs, so counters, indexes
// and SMS are what the running server would have made. Case times come from
// the log's clock, so Fill needs the log opened on a [Clock] it can move:
//
//	clock := new(demo.Clock)
//	l, err := caselog.Open(path, caselog.Options{Now: clock.Now, Calendar: cal, Compose: composer, NoSync: true})
//	…
//	sum, err := demo.Fill(ctx, l, demo.Options{Clock: clock, Now: time.Now(), Seed: 1})
//
// Open it with the server's calendar and composer, so that due dates and SMS
// texts are the server's. NoSync is safe here (a demo that dies is run
// again) and makes the fill take a second instead of many. Fill leaves the
// clock at Options.Now; a zero Clock reads the wall clock.
//
// The result depends only on Options (and the calendar and composer): the
// same seed and Now give the same file contents.
//
// Every SMS Fill causes is settled as the sender would have settled it (sent
// and delivered, a few undelivered, skipped for opted-out numbers), so the
// outbox has history but nothing due: a server started on the file texts
// nobody. The numbers are made up but may belong to someone: do not run a
// server with Twilio credentials on a demo file and move its cases.
package demo

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/internal/phone"
)

// Clock is a settable clock for the log Fill writes to. The zero Clock reads
// the wall clock until Set is called. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Set fixes the time Now returns.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Now is the set time, or the wall clock before any Set.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		return time.Now()
	}
	return c.t
}

// Options for Fill.
type Options struct {
	// Clock is the clock the log was opened with (required).
	Clock *Clock
	// Now is the end of the demo period, "today"; default the wall clock.
	Now time.Time
	// Seed chooses the demo; the same seed gives the same hotline.
	Seed int64
	// Cases is how many cases to open; default 300.
	Cases int
	// Days is how far back the first contacts go; default 60.
	Days int
	// Force fills a log that already has cases (they stay; the demo's are
	// added after them, with older dates).
	Force bool
}

// Summary is what Fill made.
type Summary struct {
	Cases            int
	First, Last      string // case numbers
	Callers          int
	ByKind           map[string]int64
	ByChannel        map[string]int64
	ByStatus         map[string]int64
	Overdue          int
	CallbacksWaiting int
	CallbacksClaimed int
	Ratings          int64
	Messages         int // SMS in the outbox
	Steps            int // log steps recorded
}

func (s Summary) String() string {
	return fmt.Sprintf("%d cases (%s–%s) from %d callers; by status %v; %d overdue; %d callbacks waiting (%d claimed); %d ratings; %d SMS",
		s.Cases, s.First, s.Last, s.Callers, s.ByStatus, s.Overdue, s.CallbacksWaiting, s.CallbacksClaimed, s.Ratings, s.Messages)
}

// ErrNotEmpty is returned by Fill for a log that already has cases.
var ErrNotEmpty = errors.New("the case log already has cases")

// Fill records a demo hotline in l (see the package documentation for how
// to open l). It refuses a log that already has cases unless o.Force.
func Fill(ctx context.Context, l *caselog.Log, o Options) (Summary, error) {
	if o.Clock == nil {
		return Summary{}, errors.New("demo: Options.Clock is required: open the log with caselog.Options{Now: clock.Now}")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.Truncate(time.Second)
	o.Cases = cmp.Or(o.Cases, 300)
	o.Days = cmp.Or(o.Days, 60)
	if o.Cases < 0 || o.Days < 0 {
		return Summary{}, fmt.Errorf("demo: %d cases over %d days: %w", o.Cases, o.Days, caselog.ErrInvalid)
	}
	// The log must read the clock we move.
	probe := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	o.Clock.Set(probe)
	if !l.Now().Equal(probe) {
		return Summary{}, errors.New("demo: the log does not run on Options.Clock: open it with caselog.Options{Now: clock.Now}")
	}
	o.Clock.Set(o.Now)
	if !o.Force {
		var err error
		if verr := l.View(func(tx *caselog.Tx) error {
			_, err = tx.Case(firstNumber())
			return nil
		}); verr != nil {
			return Summary{}, verr
		}
		switch {
		case err == nil:
			return Summary{}, fmt.Errorf("demo: %s: %w (start from a new file, or force)", l.Path(), ErrNotEmpty)
		case !errors.Is(err, caselog.ErrNotFound):
			return Summary{}, fmt.Errorf("demo: %w", err)
		}
	}

	p := newPlanner(l, o)
	p.plan()
	steps, err := p.execute(ctx)
	o.Clock.Set(o.Now)
	if err != nil {
		return Summary{}, err
	}
	return p.summary(steps)
}

// firstNumber is the number of the first case a log hands out: sequence 1
// and its check digit.
func firstNumber() string {
	for d := '0'; d <= '9'; d++ {
		if n := "100001" + string(d); caselog.Valid(n) {
			return n
		}
	}
	panic("demo: no check digit makes 100001 a case number")
}

// action is one step of the demo, run at its time in a transaction of its
// own, as the server would have.
type action struct {
	at  time.Time
	ord int // creation order, so that simultaneous steps keep their plan order
	run func(tx *caselog.Tx) error
}

// caller is one made-up consumer.
type caller struct {
	number      string
	lang        string // "zh" or "en"
	landline    bool   // cannot text
	unreachable bool   // their SMS come back undelivered
}

// plannedCase is a contact that opens a case.
type plannedCase struct {
	idx     int
	caller  *caller
	channel caselog.Channel
	kind    caselog.Kind
	text    string // what they said or wrote, without a keyword
	media   []caselog.Media
	created time.Time
	sid     string // CallSid or MessageSid
}

type planner struct {
	l       *caselog.Log
	o       Options
	r       *rand.Rand
	cal     caselog.Calendar
	loc     *time.Location
	now     time.Time
	actions []action
	callers []*caller
	cases   []*plannedCase
	// filled in as the steps run
	numbers   []string // by case index
	callbacks []string // by callback index
	nCB       int
}

func newPlanner(l *caselog.Log, o Options) *planner {
	cal := l.Options().Calendar
	loc := cal.Location
	if loc == nil {
		loc = time.UTC
	}
	return &planner{
		l: l, o: o, cal: cal, loc: loc, now: o.Now,
		r: rand.New(rand.NewPCG(uint64(o.Seed), 0x12315)),
	}
}

// at plans a step. A step that would fall after Now did not happen yet and
// is left out; every step that depends on it falls later still.
func (p *planner) at(t time.Time, run func(tx *caselog.Tx) error) {
	t = t.Truncate(time.Second)
	if t.After(p.now) {
		return
	}
	p.actions = append(p.actions, action{at: t, ord: len(p.actions), run: run})
}

func (p *planner) chance(f float64) bool { return p.r.Float64() < f }

// between is a uniformly random duration in [lo, hi).
func (p *planner) between(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(p.r.Int64N(int64(hi-lo)))
}

func (p *planner) hex(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(p.r.UintN(256))
	}
	return hex.EncodeToString(b)
}

const accountSID = "ACde300000000000000000000000012315"

// mobilePrefixes are the first three digits of Chinese mobile numbers.
var mobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "157", "158", "159", "166", "176", "177", "180", "181", "182", "183", "186", "187", "188", "189", "198", "199"}

// newCaller makes a consumer with a number the numbering plan accepts.
func (p *planner) newCaller(landline bool) *caller {
	for {
		var raw string
		if landline {
			// Shanghai fixed lines: 021 + 8 digits.
			raw = fmt.Sprintf("+8621%d%07d", 5+p.r.IntN(4), p.r.IntN(10_000_000))
		} else {
			raw = fmt.Sprintf("+86%s%08d", pick(p.r, mobilePrefixes), p.r.IntN(100_000_000))
		}
		n, err := p.l.NormalizeCaller(raw)
		if err != nil {
			continue
		}
		c := &caller{number: n, lang: "zh", landline: landline, unreachable: p.chance(0.03)}
		if p.chance(0.12) {
			c.lang = "en"
		}
		p.callers = append(p.callers, c)
		return c
	}
}

// contactTime draws when a contact came in: any of the last Days days,
// weekdays busier than weekends, office hours busier than nights, and a
// busy today so the console's first page is fresh.
func (p *planner) contactTime(today bool) time.Time {
	span := time.Duration(p.o.Days) * 24 * time.Hour
	if today {
		midnight := time.Date(p.now.In(p.loc).Year(), p.now.In(p.loc).Month(), p.now.In(p.loc).Day(), 0, 0, 0, 0, p.loc)
		span = max(p.now.Sub(midnight), time.Hour)
	}
	for {
		t := p.now.Add(-p.between(time.Minute, span)).Truncate(time.Second)
		w := hourWeight[t.In(p.loc).Hour()]
		if !p.cal.IsWorkday(t) {
			w = w * 2 / 5
		}
		if p.r.IntN(10) < w {
			return t
		}
	}
}

// hourWeight is how busy the line is at each local hour, out of 10.
var hourWeight = [24]int{1, 1, 1, 1, 1, 1, 2, 4, 7, 10, 10, 9, 6, 7, 9, 9, 8, 7, 6, 6, 5, 4, 2, 1}

// workTime moves t into office hours (09:00–17:30 local on a working day):
// staff act only then.
func (p *planner) workTime(t time.Time) time.Time {
	lt := t.In(p.loc)
	for range 30 {
		open := time.Date(lt.Year(), lt.Month(), lt.Day(), 9, 0, 0, 0, p.loc)
		shut := time.Date(lt.Year(), lt.Month(), lt.Day(), 17, 30, 0, 0, p.loc)
		if p.cal.IsWorkday(open) {
			if lt.Before(open) {
				return open.Add(p.between(0, 90*time.Minute))
			}
			if lt.Before(shut) {
				return lt
			}
		}
		lt = time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, p.loc)
	}
	return t
}

var staff = []string{"wang.fang", "li.qiang", "zhang.min", "liu.yang", "chen.jing", "zhao.lei"}

// kindMix and channel choice: the ivr opens complaints, reports and
// voicemails (callback); questions and stray texts come by SMS.
var kindMix = []struct {
	kind  caselog.Kind
	share int
}{{caselog.Complaint, 45}, {caselog.Report, 15}, {caselog.Consultation, 20}, {caselog.CallbackKind, 10}, {caselog.Enquiry, 10}}

func (p *planner) kind() caselog.Kind {
	n := p.r.IntN(100)
	for _, k := range kindMix {
		if n < k.share {
			return k.kind
		}
		n -= k.share
	}
	return caselog.Complaint
}

func (p *planner) plan() {
	// Callers: most call once; some come back with more.
	for i := 0; i < p.o.Cases; i++ {
		c := &plannedCase{idx: i, kind: p.kind(), created: p.contactTime(p.chance(0.1))}
		c.channel = caselog.SMS
		if c.kind != caselog.Consultation && c.kind != caselog.Enquiry && p.chance(0.55) {
			c.channel = caselog.Voice
		}
		if len(p.callers) > 0 && p.chance(0.15) {
			c.caller = pick(p.r, p.callers)
		} else {
			c.caller = p.newCaller(c.channel == caselog.Voice && p.chance(0.06))
		}
		if c.caller.landline && c.channel == caselog.SMS {
			c.channel = caselog.Voice // a landline cannot text
			if c.kind == caselog.Consultation || c.kind == caselog.Enquiry {
				c.kind = caselog.Complaint
			}
		}
		c.text = fill(p.r, pick(p.r, story[c.kind][c.caller.lang]))
		p.cases = append(p.cases, c)
	}
	slices.SortStableFunc(p.cases, func(a, b *plannedCase) int { return a.created.Compare(b.created) })
	p.numbers = make([]string, len(p.cases))
	for i, c := range p.cases {
		c.idx = i
		p.open(c)
		switch c.kind {
		case caselog.CallbackKind:
			p.callbackCase(c)
		default:
			p.lifecycle(c)
		}
		if p.chance(0.08) {
			p.addition(c)
		}
	}
	p.otherCalls()
	p.optOuts()
	slices.SortStableFunc(p.actions, func(a, b action) int {
		return cmp.Or(a.at.Compare(b.at), a.ord-b.ord)
	})
}

func (p *planner) lang(c *caller) string {
	if c.lang == "en" {
		return "en-US"
	}
	return "zh-CN"
}

// open records the contact the way the voice line or the SMS line does.
func (p *planner) open(c *plannedCase) {
	lang := p.lang(c.caller)
	nc := caselog.NewCase{Caller: c.caller.number, Channel: c.channel, Kind: c.kind, Lang: lang}
	var body, command string
	switch c.channel {
	case caselog.Voice:
		c.sid = "CA" + p.hex(16)
		rec := "RE" + p.hex(16)
		nc.RecordingURL = "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Recordings/" + rec
		nc.Notify = phone.IsMobile(c.caller.number)
	case caselog.SMS:
		c.sid = "SM" + p.hex(16)
		kw := pick(p.r, smsKeyword[c.kind][c.caller.lang])
		body = kw + c.text
		command = string(c.kind)
		if c.kind == caselog.Enquiry {
			command = ""
		}
		nc.Text = body
		if c.kind == caselog.Complaint && p.chance(0.15) {
			c.media = []caselog.Media{p.photo(c.sid)}
			nc.Media = c.media
		}
	}
	nc.Source = c.sid
	idx := c.idx
	duration := p.between(50*time.Second, 4*time.Minute)
	p.at(c.created, func(tx *caselog.Tx) error {
		cs, err := tx.OpenCase(nc)
		if err != nil {
			return err
		}
		p.numbers[idx] = cs.Number
		if c.channel == caselog.SMS {
			_, err := tx.LogContact(caselog.Contact{Key: c.sid, Caller: c.caller.number, Channel: caselog.SMS, Body: body, Media: c.media, Command: command, Case: cs.Number})
			return err
		}
		return p.voiceCall(tx, c.sid, c.caller, cs.Number, "case", duration)
	})
	// English speech comes back transcribed a minute later; Mandarin
	// recordings are not transcribed, so staff summarise them in a note.
	if c.channel == caselog.Voice && c.text != "" {
		if c.caller.lang == "en" {
			p.at(c.created.Add(duration+p.between(30*time.Second, 3*time.Minute)), func(tx *caselog.Tx) error {
				_, err := tx.Append(p.numbers[idx], caselog.Addition{Transcription: c.text})
				return err
			})
		}
	}
}

func (p *planner) photo(msid string) caselog.Media {
	return caselog.Media{
		URL:         "https://api.twilio.com/2010-04-01/Accounts/" + accountSID + "/Messages/" + msid + "/Media/ME" + p.hex(16),
		ContentType: "image/jpeg",
	}
}

// voiceCall keeps the call record and the call counters as the voice line
// does: every call in calls.in, then answered or abandoned.
func (p *planner) voiceCall(tx *caselog.Tx, sid string, c *caller, number, outcome string, d time.Duration) error {
	metric := "calls.answered"
	if outcome == "abandoned" {
		metric = "calls.abandoned"
	}
	if err := tx.Count("calls.in", 1); err != nil {
		return err
	}
	if err := tx.Count(metric, 1); err != nil {
		return err
	}
	return tx.PutCall(caselog.Call{
		SID: sid, Caller: c.number, Lang: p.lang(c), StartedAt: tx.Now(), EndedAt: tx.Now().Add(d),
		Case: number, Outcome: outcome, Status: "completed",
	})
}

// weights for the next status, by kind and status; moves the lifecycle does
// not allow are dropped (caselog.Legal decides).
var weights = map[caselog.Kind]map[caselog.Status]map[caselog.Status]int{
	caselog.Complaint: {
		caselog.Received:  {caselog.Accepted: 70, caselog.Rejected: 12, caselog.Transferred: 10, caselog.Withdrawn: 8},
		caselog.Accepted:  {caselog.Mediating: 85, caselog.Transferred: 5, caselog.Withdrawn: 5, caselog.Closed: 5},
		caselog.Mediating: {caselog.Resolved: 65, caselog.MediationEnded: 25, caselog.Withdrawn: 10},
	},
	caselog.Report: {
		caselog.Received:    {caselog.Accepted: 60, caselog.Rejected: 15, caselog.Transferred: 20, caselog.Withdrawn: 5},
		caselog.Accepted:    {caselog.Transferred: 40, caselog.Resolved: 55, caselog.Withdrawn: 5},
		caselog.Transferred: {caselog.Resolved: 60, caselog.Closed: 40},
	},
	"": { // consultations and other contacts
		caselog.Received:    {caselog.Resolved: 70, caselog.Accepted: 10, caselog.Transferred: 8, caselog.Rejected: 4, caselog.Withdrawn: 3, caselog.Closed: 5},
		caselog.Accepted:    {caselog.Resolved: 80, caselog.Transferred: 10, caselog.Closed: 10},
		caselog.Transferred: {caselog.Resolved: 50, caselog.Closed: 50},
	},
}

func (p *planner) next(k caselog.Kind, s caselog.Status) caselog.Status {
	legal := caselog.Legal(k, s)
	w := weights[k]
	if w == nil {
		w = weights[""]
	}
	total := 0
	for _, to := range legal {
		total += max(w[s][to], 0)
	}
	if total == 0 {
		return legal[p.r.IntN(len(legal))]
	}
	n := p.r.IntN(total)
	for _, to := range legal {
		if n < w[s][to] {
			return to
		}
		n -= w[s][to]
	}
	return legal[len(legal)-1]
}

// delay is how long staff take to make the move.
func (p *planner) delay(k caselog.Kind, from, to caselog.Status) time.Duration {
	day := 24 * time.Hour
	switch {
	case from == caselog.Received && (k == caselog.Complaint || k == caselog.Report):
		if p.chance(0.1) {
			return p.between(9*day, 16*day) // late: past the 7 working days
		}
		return p.between(2*time.Hour, 5*day)
	case from == caselog.Received:
		return p.between(20*time.Minute, 2*day)
	case to == caselog.Mediating:
		return p.between(time.Hour, 3*day)
	case from == caselog.Mediating:
		return p.between(2*day, 30*day)
	case to == caselog.Closed && from == caselog.Resolved:
		return p.between(time.Hour, 5*day)
	case to == caselog.Closed:
		// After a rejection, a withdrawal or a failed mediation the file
		// waits for the consumer's last word, which may take a while,
		// before it is closed.
		if p.chance(0.3) {
			return p.between(15*day, 40*day)
		}
		return p.between(day, 12*day)
	}
	return p.between(day, 10*day)
}

// lifecycle moves a case through its lifecycle as far as the time since it
// came in allows. One in ten is left where it is at some point, as happens
// when a case falls through the cracks; those are the overdue ones.
func (p *planner) lifecycle(c *plannedCase) {
	idx := c.idx
	t, s := c.created, caselog.Received
	stuckAt := -1
	if p.chance(0.12) {
		stuckAt = p.r.IntN(4)
	}
	agent := pick(p.r, staff)
	if (c.kind == caselog.Complaint || c.kind == caselog.Report) && p.chance(0.12) {
		// Staff need more from the consumer and queue a call to them.
		at := p.workTime(c.created.Add(p.between(time.Hour, 2*24*time.Hour)))
		p.callback(at, c.caller, "核实情况，请消费者补充材料", func() string { return p.numbers[idx] })
	}
	for stage := 0; stage != stuckAt; stage++ {
		if len(caselog.Legal(c.kind, s)) == 0 {
			return
		}
		to := p.next(c.kind, s)
		t = p.workTime(t.Add(p.delay(c.kind, s, to)))
		if !t.Before(p.now) {
			return
		}
		tr := caselog.Transition{To: to, Actor: agent}
		switch to {
		case caselog.Transferred:
			tr.Department = pick(p.r, departments)
			tr.Note = pick(p.r, notes[to])
		case caselog.Rejected:
			rj := pick(p.r, rejections)
			tr.Reason, tr.Referral, tr.Note = rj.reason, rj.referral, rj.reason
		case caselog.MediationEnded:
			tr.Reason = pick(p.r, mediationEnded)
			tr.Note = tr.Reason
		default:
			if c.caller.lang == "en" && len(enNotes[to]) > 0 {
				tr.Note = pick(p.r, enNotes[to])
			} else if len(notes[to]) > 0 {
				tr.Note = pick(p.r, notes[to])
			}
		}
		if to == caselog.Accepted && c.channel == caselog.Voice && c.caller.lang == "zh" {
			// A Mandarin recording is not transcribed: staff listen and
			// write down what it says.
			summary := "录音摘要：" + c.text
			p.at(t.Add(-p.between(2*time.Minute, 20*time.Minute)), func(tx *caselog.Tx) error {
				_, err := tx.AddEvent(p.numbers[idx], caselog.Event{Actor: agent, Type: caselog.EventNote, Note: summary})
				return err
			})
		}
		p.at(t, func(tx *caselog.Tx) error {
			_, err := tx.Move(p.numbers[idx], tr)
			return err
		})
		if (to == caselog.Accepted || to == caselog.Mediating) && p.chance(0.35) {
			if at := p.workTime(t.Add(p.between(2*time.Hour, 3*24*time.Hour))); at.Before(p.now) {
				note := pick(p.r, asides)
				p.at(at, func(tx *caselog.Tx) error {
					_, err := tx.AddEvent(p.numbers[idx], caselog.Event{Actor: agent, Type: caselog.EventNote, Note: note})
					return err
				})
			}
		}
		// A finished case asks its consumer for a rating; about half
		// answer within a day or two.
		if (to == caselog.Resolved || (to == caselog.Closed && s != caselog.Resolved)) && p.chance(0.5) {
			p.rating(c, t.Add(p.between(10*time.Minute, 36*time.Hour)))
		}
		s = to
	}
}

// rating is a consumer's 1-5 answer by SMS to the rating question.
func (p *planner) rating(c *plannedCase, at time.Time) {
	if !at.Before(p.now) || c.caller.landline {
		return
	}
	score := []int{5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1}[p.r.IntN(11)]
	idx, msid := c.idx, "SM"+p.hex(16)
	p.at(at, func(tx *caselog.Tx) error {
		if tx.RatingPending(c.caller.number) != p.numbers[idx] {
			return nil // a later case of the same caller was asked since
		}
		if _, err := tx.LogContact(caselog.Contact{Key: msid, Caller: c.caller.number, Channel: caselog.SMS, Body: strconv.Itoa(score), Command: "rating", Case: p.numbers[idx]}); err != nil {
			return err
		}
		_, err := tx.Rate(c.caller.number, score)
		return err
	})
}

// addition is a consumer adding to their case by SMS (补充).
func (p *planner) addition(c *plannedCase) {
	at := c.created.Add(p.between(2*time.Hour, 3*24*time.Hour))
	if !at.Before(p.now) || c.caller.landline {
		return
	}
	text := fill(p.r, pick(p.r, additions))
	msid := "SM" + p.hex(16)
	var media []caselog.Media
	if p.chance(0.5) {
		media = []caselog.Media{p.photo(msid)}
	}
	idx := c.idx
	p.at(at, func(tx *caselog.Tx) error {
		number := p.numbers[idx]
		body := "补充 " + number + " " + text
		if _, err := tx.LogContact(caselog.Contact{Key: msid, Caller: c.caller.number, Channel: caselog.SMS, Body: body, Media: media, Command: "add", Case: number}); err != nil {
			return err
		}
		_, err := tx.Append(number, caselog.Addition{Caller: c.caller.number, Text: text, Media: media})
		return err
	})
}

// callbackCase is a voicemail or a 回拨 text: a callback entry linked to the
// case, worked by staff. A reached caller's case is answered and closed; one
// who could not be reached is closed with a note.
func (p *planner) callbackCase(c *plannedCase) {
	idx := c.idx
	reason := "caller_request"
	if c.channel == caselog.Voice {
		reason = "voicemail"
	}
	at, outcome := p.callback(c.created, c.caller, reason, func() string { return p.numbers[idx] })
	if outcome == "" {
		return
	}
	agent := pick(p.r, staff)
	t := at.Add(p.between(2*time.Minute, 30*time.Minute))
	closing := "多次回电未能联系到消费者，结案。"
	if outcome == caselog.OutcomeReached {
		if !t.Before(p.now) {
			return
		}
		p.at(t, func(tx *caselog.Tx) error {
			_, err := tx.Move(p.numbers[idx], caselog.Transition{To: caselog.Resolved, Actor: agent, Note: "已回电，解答了消费者的问题。"})
			return err
		})
		if p.chance(0.4) {
			p.rating(c, t.Add(p.between(10*time.Minute, 24*time.Hour)))
		}
		closing = pick(p.r, notes[caselog.Closed])
	}
	if t = p.workTime(t.Add(p.between(time.Hour, 4*24*time.Hour))); t.Before(p.now) {
		p.at(t, func(tx *caselog.Tx) error {
			_, err := tx.Move(p.numbers[idx], caselog.Transition{To: caselog.Closed, Actor: agent, Note: closing})
			return err
		})
	}
}

// callback plans a callback entry filed at created and the attempts staff
// make on it. It returns when it finished and how (reached, wrong_number,
// or no_answer once the attempts are used up); outcome "" means it is still
// waiting, and then someone may have claimed it just now.
func (p *planner) callback(created time.Time, c *caller, reason string, caseNumber func() string) (at time.Time, outcome string) {
	cb := p.nCB
	p.nCB++
	priority := caselog.PriorityNormal
	if reason == "voicemail" && p.chance(0.2) {
		priority = caselog.PriorityHigh
	}
	lang := p.lang(c)
	p.at(created, func(tx *caselog.Tx) error {
		e, err := tx.EnqueueCallback(caselog.NewCallback{Caller: c.number, Case: caseNumber(), Reason: reason, Priority: priority, Lang: lang})
		if err != nil {
			return err
		}
		for len(p.callbacks) <= cb {
			p.callbacks = append(p.callbacks, "")
		}
		p.callbacks[cb] = e.ID
		return nil
	})
	last := created
	maxAttempts := p.l.Options().MaxCallbackAttempts
	retry := p.l.Options().CallbackRetryDelay
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		wait := p.between(20*time.Minute, 30*time.Hour)
		if p.chance(0.2) {
			wait = p.between(30*time.Hour, 72*time.Hour) // a busy week
		}
		if attempt > 1 {
			wait = time.Duration(attempt-1)*retry + p.between(10*time.Minute, 26*time.Hour)
		}
		t := p.workTime(last.Add(wait))
		early := false
		if !t.Before(p.now.Add(-15 * time.Minute)) {
			// Not due yet; but a fresh request is often tried at once, and
			// not answered.
			if attempt > 1 || p.now.Sub(last) < 90*time.Minute || !p.chance(0.5) {
				break
			}
			t, early = last.Add(p.between(20*time.Minute, p.now.Sub(last)-30*time.Minute)), true
			if !p.workTime(t).Equal(t) {
				break // nobody calls back at night
			}
		}
		agent := pick(p.r, staff)
		outcome := caselog.OutcomeNoAnswer
		switch n := p.r.IntN(100); {
		case early:
		case n < 55:
			outcome = caselog.OutcomeReached
		case n < 59 && attempt == 1:
			outcome = caselog.OutcomeWrongNumber
		}
		note := map[string]string{
			caselog.OutcomeReached:     "已回电，消费者问题已解答。",
			caselog.OutcomeNoAnswer:    "无人接听。",
			caselog.OutcomeWrongNumber: "号码错误，对方称不认识来电人。",
		}[outcome]
		done := t.Add(p.between(time.Minute, 8*time.Minute))
		p.at(t, func(tx *caselog.Tx) error {
			_, err := tx.Claim(p.callbacks[cb], agent, 15*time.Minute)
			return err
		})
		p.at(done, func(tx *caselog.Tx) error {
			_, err := tx.Complete(p.callbacks[cb], agent, outcome, note)
			return err
		})
		last = done
		if outcome != caselog.OutcomeNoAnswer || attempt == maxAttempts {
			return done, outcome
		}
	}
	if claimAt := p.now.Add(-p.between(time.Minute, 10*time.Minute)); claimAt.After(last) && p.chance(0.35) {
		// Someone is on it right now.
		agent := pick(p.r, staff)
		p.at(claimAt, func(tx *caselog.Tx) error {
			_, err := tx.Claim(p.callbacks[cb], agent, 30*time.Minute)
			return err
		})
	}
	return time.Time{}, ""
}

// otherCalls are calls that opened no case: callers who listened to the
// answers to common questions, gave up in the menu, or asked to be called
// back by key.
func (p *planner) otherCalls() {
	n := p.o.Cases / 2
	for range n {
		var c *caller
		if len(p.callers) > 0 && p.chance(0.2) {
			c = pick(p.r, p.callers)
		} else {
			c = p.newCaller(p.chance(0.1))
		}
		at := p.contactTime(p.chance(0.12))
		sid := "CA" + p.hex(16)
		switch x := p.r.IntN(100); {
		case x < 50: // listened to the FAQ and hung up: ended in the menu
			d := p.between(40*time.Second, 5*time.Minute)
			p.at(at, func(tx *caselog.Tx) error { return p.voiceCall(tx, sid, c, "", "abandoned", d) })
		case x < 72: // gave up in the menu
			d := p.between(5*time.Second, 90*time.Second)
			long := d > 20*time.Second
			p.at(at, func(tx *caselog.Tx) error { return p.voiceCall(tx, sid, c, "", "abandoned", d) })
			if long && !c.unreachable {
				p.callback(at.Add(d), c, "abandoned", func() string { return "" })
			}
		default: // pressed 5 (or found no staff free) to be called back
			d := p.between(30*time.Second, 2*time.Minute)
			p.at(at, func(tx *caselog.Tx) error { return p.voiceCall(tx, sid, c, "", "callback", d) })
			reason := "caller_request"
			if p.chance(0.3) {
				reason = "staff_unavailable"
			}
			p.callback(at.Add(d), c, reason, func() string { return "" })
		}
	}
}

// optOuts: a few consumers text 退订 and get no more SMS.
func (p *planner) optOuts() {
	for i := 0; i < max(p.o.Cases/100, 1) && len(p.callers) > 0; i++ {
		c := pick(p.r, p.callers)
		if c.landline {
			continue
		}
		at := p.contactTime(false)
		msid := "SM" + p.hex(16)
		p.at(at, func(tx *caselog.Tx) error {
			if _, err := tx.LogContact(caselog.Contact{Key: msid, Caller: c.number, Channel: caselog.SMS, Body: "退订", Command: "stop"}); err != nil {
				return err
			}
			return tx.SetOptOut(c.number, true, msid)
		})
	}
}

// execute runs the plan in time order, each step at its time, and after
// every step that queued SMS, a sender step a few seconds later that
// settles them as the real sender would.
func (p *planner) execute(ctx context.Context) (int, error) {
	unreachable := map[string]bool{}
	for _, c := range p.callers {
		if c.unreachable {
			unreachable[c.number] = true
		}
	}
	steps := 0
	for i, a := range p.actions {
		if err := ctx.Err(); err != nil {
			return steps, err
		}
		p.o.Clock.Set(a.at)
		if err := p.l.Update(ctx, a.run); err != nil {
			return steps, fmt.Errorf("demo step at %s: %w", a.at.Format(time.RFC3339), err)
		}
		steps++
		var due time.Time
		if err := p.l.View(func(tx *caselog.Tx) error { due = tx.NextDue(); return nil }); err != nil {
			return steps, err
		}
		if due.IsZero() || due.After(a.at) {
			continue
		}
		sendAt := a.at.Add(4 * time.Second)
		if i+1 < len(p.actions) && p.actions[i+1].at.Before(sendAt) {
			sendAt = p.actions[i+1].at
		}
		// Random choices are drawn here, not in the step: a step may run
		// more than once and must do the same each time.
		seed := p.r.Uint64()
		p.o.Clock.Set(sendAt)
		if err := p.l.Update(ctx, func(tx *caselog.Tx) error { return send(tx, seed, unreachable) }); err != nil {
			return steps, fmt.Errorf("demo sender at %s: %w", sendAt.Format(time.RFC3339), err)
		}
		steps++
	}
	return steps, nil
}

// send settles every due message: skipped for opted-out numbers and
// landlines, else sent, and delivered unless the phone is unreachable.
func send(tx *caselog.Tx, seed uint64, unreachable map[string]bool) error {
	r := rand.New(rand.NewPCG(seed, 0x5e4d))
	msgs, err := tx.ClaimDue(1000, time.Minute)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if tx.OptedOut(m.To) {
			_, err = tx.Settle(m.ID, caselog.SendOutcome{State: caselog.MsgSkipped, Error: "opted out"})
		} else if !phone.IsMobile(m.To) {
			_, err = tx.Settle(m.ID, caselog.SendOutcome{State: caselog.MsgSkipped, Error: "not a mobile number"})
		} else {
			b := make([]byte, 16)
			for i := range b {
				b[i] = byte(r.UintN(256))
			}
			sid := "SM" + hex.EncodeToString(b)
			if _, err = tx.Settle(m.ID, caselog.SendOutcome{State: caselog.MsgSent, SID: sid}); err != nil {
				return err
			}
			u := caselog.DeliveryUpdate{At: tx.Now().Add(time.Duration(2+r.IntN(20)) * time.Second), Status: "delivered"}
			if unreachable[m.To] {
				u.Status, u.ErrorCode = "undelivered", "30003"
			}
			_, err = tx.Delivery(sid, u)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *planner) summary(steps int) (Summary, error) {
	s := Summary{Cases: len(p.numbers), Callers: len(p.callers), Steps: steps}
	if len(p.numbers) > 0 {
		s.First, s.Last = p.numbers[0], p.numbers[len(p.numbers)-1]
	}
	from := p.now.AddDate(0, 0, -p.o.Days-1)
	err := p.l.View(func(tx *caselog.Tx) error {
		st, err := tx.Stats(from, p.now)
		if err != nil {
			return err
		}
		s.ByKind, s.ByChannel, s.ByStatus = st.ByKind, st.ByChannel, st.ByStatus
		s.Overdue, s.Ratings = st.Overdue, st.Ratings
		cbs, err := tx.Callbacks()
		if err != nil {
			return err
		}
		s.CallbacksWaiting = len(cbs)
		for _, cb := range cbs {
			if cb.ClaimedBy != "" {
				s.CallbacksClaimed++
			}
		}
		msgs, err := tx.Outbox("", 1<<30)
		s.Messages = len(msgs)
		return err
	})
	if err != nil {
		return Summary{}, fmt.Errorf("demo summary: %w", err)
	}
	return s, nil
}
