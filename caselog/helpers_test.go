package caselog

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// clock is a settable time source for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var shanghai = mustLoc("Asia/Shanghai")

func mustLoc(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// monday10 is a working Monday morning in Shanghai.
var monday10 = time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai)

// mustOpen opens a log in a temporary directory and, when the test ends,
// closes it and runs the invariant check on the file (as bbolt's btesting
// runs tx.Check after every test).
func mustOpen(t testing.TB, opts Options) *Log {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hotline.db")
	if opts.Calendar.Location == nil {
		opts.Calendar.Location = shanghai
	}
	if opts.Now == nil {
		opts.Now = newClock(monday10).Now
	}
	l, err := Open(path, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if err := Check(path); err != nil {
			t.Errorf("invariants after test: %v", err)
		}
	})
	return l
}

func mustRecord(t testing.TB, l *Log, key string, nc NewCase) Case {
	t.Helper()
	c, _, err := l.Record(context.Background(), key, nc)
	if err != nil {
		t.Fatalf("record %s: %v", key, err)
	}
	return c
}

func complaint(caller, text string) NewCase {
	return NewCase{Caller: caller, Channel: SMS, Kind: Complaint, Lang: "zh-CN", Text: text}
}
