package caselogtest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
)

func TestClock_concurrent(t *testing.T) {
	t.Parallel()
	c := caselogtest.NewClock(caselogtest.Monday10)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), caselogtest.Monday10.Add(800*time.Second); !got.Equal(want) {
		t.Errorf("after 800 one-second advances: %v, want %v", got, want)
	}
	c.Set(caselogtest.Monday10)
	if !c.Now().Equal(caselogtest.Monday10) {
		t.Errorf("after Set: %v", c.Now())
	}
}

func TestMonday10_isAWorkingMorning(t *testing.T) {
	t.Parallel()
	m := caselogtest.Monday10
	if m.Location() != caselogtest.Shanghai || m.Weekday() != time.Monday || m.Hour() != 10 {
		t.Errorf("Monday10 = %v (%s)", m, m.Weekday())
	}
	if !(caselog.Calendar{Location: caselogtest.Shanghai}).IsWorkday(m) {
		t.Errorf("%v is not a working day", m)
	}
}

// An unset clock and zone are filled in; a set clock is used as given.
func TestOpen_defaults(t *testing.T) {
	t.Parallel()
	l, path := caselogtest.Open(t, caselog.Options{NoSync: true})
	if !strings.HasSuffix(path, "hotline.db") || l.Path() != path {
		t.Errorf("path %q, log at %q", path, l.Path())
	}
	if got := l.Options().Calendar.Location; got != caselogtest.Shanghai {
		t.Errorf("calendar in %v, want Asia/Shanghai", got)
	}
	if got := l.Now(); !got.Equal(caselogtest.Monday10) {
		t.Errorf("Now() = %v, want Monday10", got)
	}

	clk := caselogtest.NewClock(caselogtest.Monday10.Add(time.Hour))
	l2, _ := caselogtest.Open(t, caselog.Options{NoSync: true, Now: clk.Now, Calendar: caselog.Calendar{Location: time.UTC}})
	if got := l2.Options().Calendar.Location; got != time.UTC {
		t.Errorf("calendar in %v, want the given UTC", got)
	}
	clk.Advance(time.Minute)
	if got, want := l2.Now(), caselogtest.Monday10.Add(61*time.Minute); !got.Equal(want) {
		t.Errorf("Now() = %v, want the given clock's %v", got, want)
	}
}

// recorder runs the cleanups of Open itself, to see what they report.
type recorder struct {
	testing.TB
	cleanups []func()
	errs     []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Cleanup(f func())          { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

func (r *recorder) runCleanups() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

// A log the test closed itself passes; a log whose file breaks the
// invariants fails the test.
func TestOpen_cleanupChecks(t *testing.T) {
	t.Parallel()
	r := &recorder{TB: t}
	l, _ := caselogtest.Open(r, caselog.Options{NoSync: true})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	r.runCleanups()
	if len(r.errs) != 0 {
		t.Errorf("closed, sound log: cleanup reported %q", r.errs)
	}

	r = &recorder{TB: t}
	l, path := caselogtest.Open(r, caselog.Options{NoSync: true})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	breakLog(t, path)
	r.runCleanups()
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "invariants") {
		t.Errorf("broken log: cleanup reported %q, want one invariant failure", r.errs)
	}
}

// breakLog deletes one of the log's buckets behind caselog's back.
func breakLog(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		var first []byte
		tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			if first == nil {
				first = append([]byte(nil), name...)
			}
			return nil
		})
		return tx.DeleteBucket(first)
	})
	if err != nil {
		t.Fatal(err)
	}
}
