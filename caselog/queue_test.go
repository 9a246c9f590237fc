package caselog

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestCallbacks_ClaimRace(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	cb, err := l.EnqueueCallback(ctx, "", NewCallback{Caller: "13800138000", Reason: "requested", Lang: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	var wins, lost atomic.Int32
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, err := l.Claim(ctx, cb.ID, "agent"+string(rune('A'+i%26))+string(rune('a'+i/26)), 10*time.Minute)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, ErrClaimed):
				lost.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || lost.Load() != 49 {
		t.Fatalf("%d winners, %d ErrClaimed; want 1 and 49", wins.Load(), lost.Load())
	}
}

func TestCallbacks_LeaseExpires(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now})
	cb, _ := l.EnqueueCallback(ctx, "", NewCallback{Caller: "13800138000", Reason: "requested"})
	if _, err := l.Claim(ctx, cb.ID, "li", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Claim(ctx, cb.ID, "wang", 5*time.Minute); !errors.Is(err, ErrClaimed) {
		t.Fatalf("second claim inside lease: %v", err)
	}
	if _, err := l.Claim(ctx, cb.ID, "li", 5*time.Minute); err != nil {
		t.Fatalf("holder renews: %v", err)
	}
	clk.Advance(6 * time.Minute)
	list, _ := l.Callbacks()
	if len(list) != 1 || list[0].ClaimedBy != "" {
		t.Fatalf("expired lease still shown: %+v", list)
	}
	if got, err := l.Claim(ctx, cb.ID, "wang", 5*time.Minute); err != nil || got.ClaimedBy != "wang" {
		t.Fatalf("claim after expiry: %+v %v", got, err)
	}
	if _, err := l.Release(ctx, cb.ID, "li"); !errors.Is(err, ErrClaimed) {
		t.Fatalf("release by non-holder: %v", err)
	}
	if got, err := l.Release(ctx, cb.ID, "wang"); err != nil || got.ClaimedBy != "" {
		t.Fatalf("release: %+v %v", got, err)
	}
}

func TestCallbacks_RetryLimitThenSMS(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now, MaxCallbackAttempts: 3, CallbackRetryDelay: time.Hour})
	c := mustRecord(t, l, "SM1", NewCase{Caller: "13800138000", Channel: SMS, Kind: CallbackKind, Lang: "en-US"})
	cb, _ := l.EnqueueCallback(ctx, "", NewCallback{Caller: c.Caller, Case: c.Number, Reason: "requested", Lang: "en-US"})
	for attempt := 1; attempt <= 3; attempt++ {
		got, err := l.Complete(ctx, cb.ID, "li", OutcomeNoAnswer, "")
		if err != nil {
			t.Fatalf("attempt %d: %v", attempt, err)
		}
		if got.Attempts != attempt {
			t.Fatalf("attempts %d, want %d", got.Attempts, attempt)
		}
		if attempt < 3 {
			if got.State != CBWaiting || !got.DueAt.Equal(clk.Now().Add(time.Duration(attempt)*time.Hour)) {
				t.Fatalf("attempt %d: %+v; want requeued with growing delay", attempt, got)
			}
		} else if got.State != CBFailed {
			t.Fatalf("after the last attempt: %s", got.State)
		}
	}
	if list, _ := l.Callbacks(); len(list) != 0 {
		t.Fatalf("failed entry still queued: %+v", list)
	}
	if _, err := l.Complete(ctx, cb.ID, "li", OutcomeReached, ""); !errors.Is(err, ErrDone) {
		t.Fatalf("complete a failed entry: %v", err)
	}
	var msgs []Message
	l.View(func(tx *Tx) error { msgs, _ = tx.Outbox("", 10); return nil })
	if len(msgs) != 1 || msgs[0].Notice != NoticeCallbackFailed || !strings.Contains(msgs[0].Body, "tried") {
		t.Fatalf("outbox: %+v", msgs)
	}
	got, _ := l.Get(c.Number)
	n := 0
	for _, e := range got.Events {
		if e.Type == EventCallback {
			n++
		}
	}
	if n != 4 { // queued + three attempts
		t.Errorf("%d callback events on the case, want 4", n)
	}
}

func TestCallbacks_WorkingOrder(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now})
	old := mustRecord(t, l, "old", complaint("13800138001", "old"))
	clk.Advance(12 * 24 * time.Hour) // the complaint is now overdue
	a, _ := l.EnqueueCallback(ctx, "", NewCallback{Caller: "13800138002", Reason: "requested"})
	clk.Advance(time.Minute)
	b, _ := l.EnqueueCallback(ctx, "", NewCallback{Caller: "13800138003", Reason: "report", Priority: PriorityHigh})
	clk.Advance(time.Minute)
	c, _ := l.EnqueueCallback(ctx, "", NewCallback{Caller: old.Caller, Case: old.Number, Reason: "requested"})
	clk.Advance(time.Minute)
	list, _ := l.Callbacks()
	var ids []string
	for _, e := range list {
		ids = append(ids, e.ID)
	}
	if want := []string{b.ID, c.ID, a.ID}; strings.Join(ids, ",") != strings.Join(want, ",") {
		t.Fatalf("order %v, want %v (high priority, then overdue complaint, then the rest by due time)", ids, want)
	}
	if !list[1].Overdue {
		t.Error("entry of an overdue case not marked")
	}
	if _, err := l.Complete(ctx, a.ID, "li", "hung_up", ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown outcome: %v", err)
	}
}

func TestOutbox_Lifecycle(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now})
	c := mustRecord(t, l, "CA1", NewCase{Caller: "13800138000", Channel: Voice, Kind: Complaint, Lang: "zh-CN", Notify: true})
	claim := func() []Message {
		var ms []Message
		if err := l.Update(ctx, func(tx *Tx) (err error) { ms, err = tx.ClaimDue(10, time.Minute); return err }); err != nil {
			t.Fatal(err)
		}
		return ms
	}
	ms := claim()
	if len(ms) != 1 || ms[0].Notice != NoticeOpened || !strings.Contains(ms[0].Body, c.Number) || ms[0].To != "+8613800138000" {
		t.Fatalf("claimed %+v", ms)
	}
	if again := claim(); len(again) != 0 {
		t.Fatalf("a message in flight was handed out twice: %+v", again)
	}
	clk.Advance(2 * time.Minute) // the sender died: the lease ends
	ms = claim()
	if len(ms) != 1 {
		t.Fatalf("expired lease not handed out again: %+v", ms)
	}
	l.Update(ctx, func(tx *Tx) error {
		_, err := tx.Settle(ms[0].ID, SendOutcome{State: MsgPending, Error: "429", RetryAt: clk.Now().Add(10 * time.Second)})
		return err
	})
	if got := claim(); len(got) != 0 {
		t.Fatalf("retry handed out before its time: %+v", got)
	}
	clk.Advance(11 * time.Second)
	ms = claim()
	l.Update(ctx, func(tx *Tx) error {
		_, err := tx.Settle(ms[0].ID, SendOutcome{State: MsgSent, SID: "SM123"})
		return err
	})
	for _, st := range []string{"queued", "sent", "delivered"} {
		if err := l.Update(ctx, func(tx *Tx) error { _, err := tx.Delivery("SM123", DeliveryUpdate{Status: st}); return err }); err != nil {
			t.Fatal(err)
		}
	}
	var m Message
	var depth int64
	l.View(func(tx *Tx) (err error) { m, err = tx.Message(ms[0].ID); depth = tx.OutboxDepth(); return err })
	if m.State != MsgDelivered || m.Attempts != 2 || len(m.Delivery) != 3 || m.Delivery[2].Status != "delivered" || depth != 0 {
		t.Fatalf("final message %+v depth %d", m, depth)
	}
	if err := l.Update(ctx, func(tx *Tx) error { _, err := tx.Delivery("SMnope", DeliveryUpdate{Status: "sent"}); return err }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown sid: %v", err)
	}
	got, _ := l.Get(c.Number)
	if last := got.Events[len(got.Events)-1]; last.Type != EventSMS || last.Detail["sid"] != "SM123" {
		t.Errorf("no sms event on the case: %+v", last)
	}
}

func TestOptOutAndRating(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now})
	l.Update(ctx, func(tx *Tx) error { return tx.SetOptOut("138 0013 8000", true, "SM9") })
	l.View(func(tx *Tx) error {
		if !tx.OptedOut("+8613800138000") {
			t.Error("opt-out not found under another written form")
		}
		return nil
	})
	c := mustRecord(t, l, "SM1", NewCase{Caller: "13800138000", Channel: SMS, Kind: Consultation, Lang: "zh-CN"})
	l.Move(ctx, c.Number, Transition{To: Resolved})
	err := l.Update(ctx, func(tx *Tx) error { _, err := tx.Rate("13800138000", 6); return err })
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("rating 6: %v", err)
	}
	if err := l.Update(ctx, func(tx *Tx) error { _, err := tx.Rate("13800138000", 4); return err }); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Get(c.Number); got.Rating != 4 {
		t.Fatalf("rating %d", got.Rating)
	}
	if err := l.Update(ctx, func(tx *Tx) error { _, err := tx.Rate("13800138000", 5); return err }); !errors.Is(err, ErrNoRatingPending) {
		t.Fatalf("second rating: %v", err)
	}
	d := mustRecord(t, l, "SM2", NewCase{Caller: "13800138000", Channel: SMS, Kind: Consultation})
	l.Move(ctx, d.Number, Transition{To: Resolved})
	clk.Advance(8 * 24 * time.Hour)
	if err := l.Update(ctx, func(tx *Tx) error { _, err := tx.Rate("13800138000", 5); return err }); !errors.Is(err, ErrNoRatingPending) {
		t.Fatalf("rating after 8 days: %v", err)
	}
	var st Stats
	l.View(func(tx *Tx) error { st, _ = tx.Stats(monday10, clk.Now()); return nil })
	if st.Ratings != 1 || st.AverageRating != 4 {
		t.Errorf("stats %+v", st)
	}
}
