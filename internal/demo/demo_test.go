package demo

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
)

// now is a working Tuesday afternoon in Shanghai.
var now = time.Date(2026, 11, 24, 15, 30, 0, 0, caselogtest.Shanghai)

// mustOpen opens a log on a demo clock in t.TempDir, with the server's time
// zone, and checks its invariants when the test ends.
func mustOpen(t *testing.T) (*caselog.Log, *Clock) {
	t.Helper()
	clock := new(Clock)
	l, _ := caselogtest.Open(t, caselog.Options{Now: clock.Now, NoSync: true})
	return l, clock
}

func TestFill(t *testing.T) {
	t.Parallel()
	l, clock := mustOpen(t)
	sum, err := Fill(context.Background(), l, Options{Clock: clock, Now: now, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(sum)
	if !clock.Now().Equal(now) {
		t.Errorf("clock left at %s, want Now", clock.Now())
	}
	var st caselog.Stats
	var cbs []caselog.Callback
	var msgs []caselog.Message
	var overdue []caselog.Case
	err = l.View(func(tx *caselog.Tx) error {
		var err error
		if st, err = tx.Stats(now.AddDate(0, 0, -90), now); err != nil {
			return err
		}
		if cbs, err = tx.Callbacks(); err != nil {
			return err
		}
		if overdue, err = tx.Overdue(0); err != nil {
			return err
		}
		msgs, err = tx.Outbox("", 100000)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	if st.Cases != 300 || sum.Cases != 300 {
		t.Errorf("stats count %d cases, summary %d; want 300", st.Cases, sum.Cases)
	}
	var byStatus int64
	for _, s := range caselog.Statuses {
		byStatus += st.ByStatus[string(s)]
		if st.ByStatus[string(s)] == 0 {
			t.Errorf("no case is %s: %v", s, st.ByStatus)
		}
	}
	if byStatus != 300 {
		t.Errorf("statuses add up to %d: %v", byStatus, st.ByStatus)
	}
	for _, k := range caselog.Kinds {
		if st.ByKind[string(k)] < 10 {
			t.Errorf("only %d %s cases: %v", st.ByKind[string(k)], k, st.ByKind)
		}
	}
	if st.ByChannel["voice"] < 60 || st.ByChannel["sms"] < 60 || st.ByChannel["voice"]+st.ByChannel["sms"] != 300 {
		t.Errorf("channels %v", st.ByChannel)
	}
	if st.Overdue < 5 || len(overdue) != st.Overdue || sum.Overdue != st.Overdue {
		t.Errorf("overdue: stats %d, index %d, summary %d", st.Overdue, len(overdue), sum.Overdue)
	}
	for _, c := range overdue {
		if !c.Overdue(now) {
			t.Errorf("case %s in the overdue list is not overdue: %s due %s", c.Number, c.Status, c.DueAt)
		}
	}
	if st.CallsIn == 0 || st.CallsAnswered == 0 || st.CallsAbandoned == 0 || st.CallsAnswered+st.CallsAbandoned != st.CallsIn {
		t.Errorf("calls in %d answered %d abandoned %d", st.CallsIn, st.CallsAnswered, st.CallsAbandoned)
	}
	if st.Ratings < 10 || st.AverageRating < 3 || st.AverageRating > 5 {
		t.Errorf("%d ratings, average %.2f", st.Ratings, st.AverageRating)
	}
	if st.SMSIn < 100 || st.MedianAcceptHours <= 0 || st.CallbacksFinished == 0 || st.CallbacksReached == 0 {
		t.Errorf("sms in %d, median accept %.1f h, callbacks finished %d reached %d", st.SMSIn, st.MedianAcceptHours, st.CallbacksFinished, st.CallbacksReached)
	}

	// The callback queue: entries waiting, some claimed now, some after
	// unanswered attempts, some about a case and some not.
	claimed, retried, linked := 0, 0, 0
	for _, cb := range cbs {
		if cb.State != caselog.CBWaiting {
			t.Errorf("callback %s in the queue is %s", cb.ID, cb.State)
		}
		if cb.ClaimedBy != "" {
			claimed++
		}
		if cb.Attempts > 0 {
			retried++
		}
		if cb.Case != "" {
			linked++
		}
	}
	if len(cbs) < 5 || claimed == 0 || retried == 0 || linked == 0 || linked == len(cbs) {
		t.Errorf("%d callbacks waiting: %d claimed, %d after failed attempts, %d with a case", len(cbs), claimed, retried, linked)
	}
	if sum.CallbacksWaiting != len(cbs) || sum.CallbacksClaimed != claimed {
		t.Errorf("summary %+v", sum)
	}

	// Every SMS is settled: nothing is left for a sender.
	states := map[string]int{}
	for _, m := range msgs {
		states[m.State]++
	}
	if len(msgs) < 100 || states[caselog.MsgPending]+states[caselog.MsgSending] != 0 || states[caselog.MsgDelivered] == 0 || states[caselog.MsgFailed] == 0 {
		t.Errorf("outbox of %d: %v", len(msgs), states)
	}
	if err := l.View(func(tx *caselog.Tx) error {
		if n := tx.OutboxDepth(); n != 0 {
			t.Errorf("outbox depth %d", n)
		}
		if d := tx.NextDue(); !d.IsZero() {
			t.Errorf("a message is due at %s", d)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Some callers have several cases; staff and consumers both wrote.
	cases := allCases(t, l, sum)
	byCaller := map[string]int{}
	actors := map[string]bool{}
	passed := map[caselog.Status]bool{}
	for _, c := range cases {
		byCaller[c.Caller]++
		if c.CreatedAt.Before(now.AddDate(0, 0, -61)) || c.CreatedAt.After(now) {
			t.Errorf("case %s created %s", c.Number, c.CreatedAt)
		}
		for i, e := range c.Events {
			actors[e.Actor] = true
			if e.Type == caselog.EventStatus {
				passed[e.To] = true
			}
			if i > 0 && e.At.Before(c.Events[i-1].At) {
				t.Errorf("case %s: event %d at %s before the one before it", c.Number, i, e.At)
			}
		}
	}
	repeat := 0
	for _, n := range byCaller {
		if n > 1 {
			repeat++
		}
	}
	if repeat < 5 {
		t.Errorf("%d callers with several cases", repeat)
	}
	for _, s := range caselog.Statuses[1:] {
		if !passed[s] {
			t.Errorf("no case ever moved to %s", s)
		}
	}
	for _, a := range append(slices.Clone(staff), "consumer", "system") {
		if !actors[a] {
			t.Errorf("no event by %s", a)
		}
	}
}

// allCases reads every case Fill made, with events.
func allCases(t *testing.T, l *caselog.Log, sum Summary) []caselog.Case {
	t.Helper()
	first, _ := strconv.Atoi(sum.First[:len(sum.First)-1])
	last, _ := strconv.Atoi(sum.Last[:len(sum.Last)-1])
	var out []caselog.Case
	for n := first; n <= last; n++ {
		number := ""
		for d := 0; d <= 9; d++ {
			if s := strconv.Itoa(n) + strconv.Itoa(d); caselog.Valid(s) {
				number = s
			}
		}
		c, err := l.Get(number)
		if err != nil {
			t.Fatalf("case %s: %v", number, err)
		}
		out = append(out, c)
	}
	if len(out) != sum.Cases {
		t.Fatalf("read %d cases, summary says %d", len(out), sum.Cases)
	}
	return out
}

// snapshot is everything a reader of the log sees, as JSON.
func snapshot(t *testing.T, l *caselog.Log, sum Summary) string {
	t.Helper()
	var st caselog.Stats
	var cbs []caselog.Callback
	var msgs []caselog.Message
	if err := l.View(func(tx *caselog.Tx) error {
		var err error
		if st, err = tx.Stats(now.AddDate(0, 0, -90), now); err != nil {
			return err
		}
		if cbs, err = tx.Callbacks(); err != nil {
			return err
		}
		msgs, err = tx.Outbox("", 100000)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal([]any{sum, allCases(t, l, sum), st, cbs, msgs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFill_Deterministic(t *testing.T) {
	t.Parallel()
	fill := func(seed int64) string {
		l, clock := mustOpen(t)
		sum, err := Fill(context.Background(), l, Options{Clock: clock, Now: now, Seed: seed, Cases: 80})
		if err != nil {
			t.Fatal(err)
		}
		return snapshot(t, l, sum)
	}
	a, b, c := fill(3), fill(3), fill(4)
	if a != b {
		t.Error("the same seed made different logs")
	}
	if a == c {
		t.Error("different seeds made the same log")
	}
}

func TestFill_RefusesALogWithCases(t *testing.T) {
	t.Parallel()
	l, clock := mustOpen(t)
	if _, _, err := l.Record(context.Background(), "SMtest", caselog.NewCase{Caller: "13800138000", Channel: caselog.SMS, Kind: caselog.Complaint, Text: "投诉 测试"}); err != nil {
		t.Fatal(err)
	}
	_, err := Fill(context.Background(), l, Options{Clock: clock, Now: now, Cases: 10})
	if !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("err %v, want ErrNotEmpty", err)
	}
	sum, err := Fill(context.Background(), l, Options{Clock: clock, Now: now, Cases: 10, Force: true})
	if err != nil || sum.Cases != 10 {
		t.Fatalf("forced: %+v %v", sum, err)
	}
}

func TestFill_NeedsTheLogsClock(t *testing.T) {
	t.Parallel()
	l, _ := mustOpen(t)
	if _, err := Fill(context.Background(), l, Options{Now: now}); err == nil {
		t.Error("no clock: want an error")
	}
	if _, err := Fill(context.Background(), l, Options{Clock: new(Clock), Now: now}); err == nil {
		t.Error("a clock the log does not read: want an error")
	}
}
