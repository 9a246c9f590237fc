package caselog

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

var ctx = context.Background()

func TestLog_Record_Idempotent(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	a, created, err := l.Record(ctx, "SM1", complaint("13800138000", "不退款"))
	if err != nil || !created {
		t.Fatalf("first record: %v created=%v", err, created)
	}
	b, created, err := l.Record(ctx, "SM1", complaint("13800138000", "retry with other text"))
	if err != nil || created {
		t.Fatalf("retry: %v created=%v", err, created)
	}
	if a.Number != b.Number || b.Text != "不退款" {
		t.Fatalf("retry made or changed a case: %+v vs %+v", a, b)
	}
	cs, err := l.ByCaller("+8613800138000", 0)
	if err != nil || len(cs) != 1 {
		t.Fatalf("by caller: %d cases, %v; want 1", len(cs), err)
	}
}

func TestLog_Record_ConcurrentRetries(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	var wg sync.WaitGroup
	numbers := make([]string, 50)
	for i := range numbers {
		wg.Go(func() {
			c, _, err := l.Record(ctx, "CA1/record", NewCase{Caller: "13800138000", Channel: Voice, Kind: Report})
			if err != nil {
				t.Error(err)
			}
			numbers[i] = c.Number
		})
	}
	wg.Wait()
	for _, n := range numbers {
		if n != numbers[0] {
			t.Fatalf("two cases for one CallSid: %v", numbers)
		}
	}
	cs, _ := l.ByCaller("13800138000", 0)
	if len(cs) != 1 {
		t.Fatalf("%d cases, want 1", len(cs))
	}
}

func TestLog_Do_ErrorRollsBackOnlyThatStep(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	var wg sync.WaitGroup
	errs := make([]error, 40)
	for i := range errs {
		wg.Go(func() {
			_, _, errs[i] = l.Do(ctx, "", func(tx *Tx) (Result, error) {
				c, err := tx.OpenCase(complaint("13800138000", "x"))
				if err != nil {
					return Result{}, err
				}
				if i%4 == 0 {
					return Result{}, errors.New("refused")
				}
				return Result{Case: c.Number}, nil
			})
		})
	}
	wg.Wait()
	failed := 0
	for _, err := range errs {
		if err != nil {
			failed++
		}
	}
	cs, _ := l.ByCaller("13800138000", 0)
	if failed != 10 || len(cs) != 30 {
		t.Fatalf("%d failed, %d cases; want 10 and 30", failed, len(cs))
	}
}

func TestLog_ByCaller(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now})
	var want []string
	for i, form := range []string{"138 0013 8000", "+86 138-0013-8000", "008613800138000", "13800138000"} {
		c := mustRecord(t, l, "k"+form, complaint(form, "case"))
		want = append([]string{c.Number}, want...)
		clk.Advance(time.Minute)
		if c.Caller != "+8613800138000" {
			t.Fatalf("form %d %q stored as %q", i, form, c.Caller)
		}
	}
	mustRecord(t, l, "other", complaint("(010) 1234-5678", "landline"))
	mustRecord(t, l, "short", complaint("12315", "short code"))
	tests := []struct {
		name, q string
		want    int
		err     error
	}{
		{"spaced", "138 0013 8000", 4, nil},
		{"idd", "008613800138000", 4, nil},
		{"landline", "+86 10 1234 5678", 1, nil},
		{"short code", "12315", 1, nil},
		{"unknown", "13900139000", 0, nil},
		{"garbage", "hello", 0, ErrBadCaller},
		{"empty", "", 0, ErrBadCaller},
	}
	for _, tc := range tests {
		cs, err := l.ByCaller(tc.q, 0)
		if !errors.Is(err, tc.err) || len(cs) != tc.want {
			t.Errorf("%s: %d cases, %v; want %d, %v", tc.name, len(cs), err, tc.want, tc.err)
		}
	}
	cs, _ := l.ByCaller("13800138000", 0)
	got := make([]string, len(cs))
	for i, c := range cs {
		got[i] = c.Number
	}
	if !slices.Equal(got, want) {
		t.Errorf("order %v, want newest first %v", got, want)
	}
	if cs, _ := l.ByCaller("13800138000", 2); len(cs) != 2 {
		t.Errorf("limit 2 gave %d", len(cs))
	}
}

func TestLog_Record_WithheldCallerKept(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	c := mustRecord(t, l, "CAanon", NewCase{Caller: "anonymous", Channel: Voice, Kind: Complaint})
	got, err := l.Get(c.Number)
	if err != nil || got.Caller != "anonymous" {
		t.Fatalf("withheld caller case: %+v %v", got, err)
	}
}

func TestLog_Move(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now})
	c := mustRecord(t, l, "SM1", complaint("13800138000", "fake goods"))
	if want := time.Date(2026, 12, 2, 23, 59, 59, 0, shanghai); !c.DueAt.Equal(want) {
		t.Fatalf("due %s, want %s (7 working days)", c.DueAt, want)
	}
	clk.Advance(2 * time.Hour)
	got, err := l.Move(ctx, c.Number, Transition{To: Accepted, Actor: "li", Note: "受理"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Accepted || len(got.Events) != 2 || got.Events[1].Actor != "li" || got.Events[1].From != Received {
		t.Fatalf("after accept: %+v", got)
	}
	if !got.DueAt.After(c.DueAt) {
		t.Errorf("mediation deadline %s not after acceptance deadline %s", got.DueAt, c.DueAt)
	}
	_, err = l.Move(ctx, c.Number, Transition{To: Resolved, Actor: "li"})
	var ite *IllegalTransitionError
	if !errors.As(err, &ite) || !slices.Contains(ite.Legal, Mediating) {
		t.Fatalf("accepted->resolved: %v; want illegal naming mediating", err)
	}
	if _, err := l.Move(ctx, "1234567", Transition{To: Accepted}); !errors.Is(err, ErrBadNumber) {
		t.Errorf("mistyped number: %v", err)
	}
	if _, err := l.Move(ctx, formatNumber(999), Transition{To: Accepted}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown number: %v", err)
	}
	var msgs []Message
	l.View(func(tx *Tx) error { msgs, _ = tx.Outbox("", 10); return nil })
	if len(msgs) != 1 || msgs[0].Case != c.Number || msgs[0].Notice != NoticeStatus || !bytes.Contains([]byte(msgs[0].Body), []byte(c.Number)) {
		t.Fatalf("outbox after one transition: %+v", msgs)
	}
	var st Stats
	l.View(func(tx *Tx) error { st, _ = tx.Stats(monday10, monday10); return nil })
	if st.Cases != 1 || st.ByStatus["accepted"] != 1 || st.ByStatus["received"] != 0 || st.MedianAcceptHours != 2 {
		t.Errorf("stats: %+v", st)
	}
}

func TestLog_RejectCarriesReason(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	c := mustRecord(t, l, "SM1", complaint("13800138000", "x"))
	got, err := l.Move(ctx, c.Number, Transition{To: Rejected, Actor: "li", Reason: "labour dispute", Referral: "劳动仲裁 12333"})
	if err != nil || got.Reason != "labour dispute" || got.Referral != "劳动仲裁 12333" {
		t.Fatalf("%+v %v", got, err)
	}
	if d := got.Events[1].Detail; d["referral"] != "劳动仲裁 12333" {
		t.Errorf("event detail %v", d)
	}
}

func TestLog_Append(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	c := mustRecord(t, l, "SM1", complaint("13800138000", "first"))
	err := l.Update(ctx, func(tx *Tx) error {
		_, err := tx.Append(c.Number, Addition{Caller: "13900139000", Text: "not mine"})
		return err
	})
	if !errors.Is(err, ErrNotYours) {
		t.Fatalf("someone else's case: %v", err)
	}
	err = l.Update(ctx, func(tx *Tx) error {
		_, err := tx.Append(c.Number, Addition{Caller: "+86 138 0013 8000", Text: "receipt", Media: []Media{{URL: "https://api.twilio.com/m/1", ContentType: "image/jpeg"}}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := l.Get(c.Number)
	if got.Text != "first\nreceipt" || len(got.Media) != 1 || got.Events[1].Type != EventAttachment {
		t.Fatalf("%+v", got)
	}
}

func TestLog_Overdue(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now})
	a := mustRecord(t, l, "a", complaint("13800138000", "a"))
	clk.Advance(10 * 24 * time.Hour)
	mustRecord(t, l, "b", complaint("13800138000", "b"))
	var over []Case
	l.View(func(tx *Tx) error { over, _ = tx.Overdue(0); return nil })
	if len(over) != 1 || over[0].Number != a.Number || !over[0].Overdue(clk.Now()) {
		t.Fatalf("overdue: %+v", over)
	}
	l.Move(ctx, a.Number, Transition{To: Rejected})
	l.Move(ctx, a.Number, Transition{To: Closed})
	l.View(func(tx *Tx) error { over, _ = tx.Overdue(0); return nil })
	if len(over) != 0 {
		t.Fatalf("closed case still overdue: %+v", over)
	}
}

func TestLog_SchemaVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.db.Update(func(btx *boltTx) error { return btx.Bucket(bMeta).Put(keySchema, u64(SchemaVersion+1)) })
	l.Close()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrSchema) {
		t.Fatalf("newer schema: %v, want ErrSchema", err)
	}
}

func TestLog_WriteTo_Backup(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	c := mustRecord(t, l, "SM1", complaint("13800138000", "x"))
	var buf bytes.Buffer
	if _, err := l.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := writeFile(path, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := Check(path); err != nil {
		t.Fatalf("backup fails check: %v", err)
	}
	b, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, err := b.Get(c.Number); err != nil || got.Text != "x" {
		t.Fatalf("case in backup: %+v %v", got, err)
	}
}

func TestLog_ClosedRefuses(t *testing.T) {
	t.Parallel()
	l, err := Open(filepath.Join(t.TempDir(), "x.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, _, err := l.Record(ctx, "k", complaint("13800138000", "x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("record after close: %v", err)
	}
}

func TestAuditTrail_Paging(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	for i := range 5 {
		l.Update(ctx, func(tx *Tx) error { return tx.Audit("li", "lookup_caller", "+861380013800"+string(rune('0'+i))) })
	}
	var page []AuditEntry
	tests := []struct {
		before string
		limit  int
		want   []string
	}{
		{"", 2, []string{"5", "4"}},
		{"4", 2, []string{"3", "2"}},
		{"2", 5, []string{"1"}},
		{"1", 5, nil},
		{"99", 1, []string{"5"}}, // beyond the newest: from the newest
	}
	for _, tc := range tests {
		l.View(func(tx *Tx) (err error) { page, err = tx.AuditTrail(tc.before, tc.limit); return err })
		var got []string
		for _, e := range page {
			got = append(got, e.ID)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("before %q limit %d: %v, want %v", tc.before, tc.limit, got, tc.want)
		}
	}
	if err := l.View(func(tx *Tx) error { _, err := tx.AuditTrail("x", 1); return err }); !errors.Is(err, ErrInvalid) {
		t.Errorf("bad id: %v", err)
	}
}
