// Package caselogtest is the one way tests outside caselog open a case log.
//
// Every test that touches the store should end with the store's invariant
// check (caselog.Check: every index entry points at a case, no orphans), the
// way bbolt's internal/btesting runs tx.Check after every test. When each
// package writes its own open-and-check helper, one of them forgets the
// check, or checks a file still held open; here it is written once, and the
// settable clock, the time zone and the "working Monday morning" the
// handler tests start from come with it.
//
// caselog's own tests cannot import this package (it imports caselog) and
// keep their own mustOpen.
package caselogtest

import (
	"bytes"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
)

// Shanghai is the time zone the hotline serves; the servers' calendar.
var Shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// Monday10 is 10:00 on Monday 23 November 2026 in Shanghai: a working day,
// within office hours, far from any holiday.
var Monday10 = time.Date(2026, 11, 23, 10, 0, 0, 0, Shanghai)

// Clock is a settable clock for caselog.Options.Now and the handlers' now
// functions. It is safe for concurrent use: handlers read it from their
// goroutines while the test moves it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that stands at t until moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Open opens a fresh case log at t.TempDir()/hotline.db and returns it with
// its path. An unset opts.Calendar.Location becomes Shanghai and an unset
// opts.Now a clock standing at Monday10; everything else in opts is passed
// on as given. When the test ends the log is closed (a test may close it
// itself first) and the file must pass caselog.Check, or the test fails.
func Open(t testing.TB, opts caselog.Options) (*caselog.Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hotline.db")
	return OpenAt(t, path, opts), path
}

// OpenAt is Open on a file the test names: to reopen, as a restarted
// process would, a log that Open created. Each OpenAt closes and checks its
// own log when the test ends.
func OpenAt(t testing.TB, path string, opts caselog.Options) *caselog.Log {
	t.Helper()
	if opts.Calendar.Location == nil {
		opts.Calendar.Location = Shanghai
	}
	if opts.Now == nil {
		opts.Now = NewClock(Monday10).Now
	}
	l, err := caselog.Open(path, opts)
	if err != nil {
		t.Fatalf("open case log: %v", err)
	}
	t.Cleanup(func() {
		// Close is a no-op on a closed log. The check opens the file
		// read-only, so the log must be closed first.
		if err := l.Close(); err != nil {
			t.Errorf("close case log: %v", err)
		}
		if err := caselog.Check(path); err != nil {
			t.Errorf("case log invariants after test: %v", err)
		}
	})
	return l
}

// SyncBuffer collects a logger's output. It is safe for concurrent use, as
// handlers and workers log from their own goroutines while the test reads.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
