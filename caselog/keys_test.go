package caselog

import (
	"errors"
	"fmt"
	"hash/maphash"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestStepKeys_SurviveReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hotline.db")
	clk := newClock(monday10)
	l, err := Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	first := mustRecord(t, l, "SM1", complaint("13800138000", "first"))
	l.Close()

	l, err = Open(path, Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	again, created, err := l.Record(ctx, "SM1", complaint("13800138000", "retry"))
	if err != nil || created || again.Number != first.Number {
		t.Fatalf("retry after reopen: %s created=%v %v; want %s replayed", again.Number, created, err, first.Number)
	}
}

// A step that fails leaves no key behind, even when its batch had others
// that committed: a retry runs it again.
func TestStepKeys_FailedStepLeavesNoKey(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			l.Do(ctx, fmt.Sprintf("SM%d", i), func(tx *Tx) (Result, error) {
				if i%2 == 0 {
					return Result{}, errors.New("refused")
				}
				c, err := tx.OpenCase(complaint("13800138000", "x"))
				return Result{Case: c.Number}, err
			})
		})
	}
	wg.Wait()
	for i := range 20 {
		_, replay, err := l.Do(ctx, fmt.Sprintf("SM%d", i), func(tx *Tx) (Result, error) { return Result{}, nil })
		if err != nil || replay != (i%2 == 1) {
			t.Errorf("SM%d: replay=%v err=%v; want replay only for the steps that committed", i, replay, err)
		}
	}
}

// A key whose step opened a case is kept for good; other keys are dropped
// after the retention, also after a restart.
func TestStepKeys_Expire(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	path := filepath.Join(t.TempDir(), "hotline.db")
	opts := Options{Now: clk.Now, KeyRetention: 24 * time.Hour}
	l, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	noCase := func(key string) (replay bool) {
		_, replay, err := l.Do(ctx, key, func(tx *Tx) (Result, error) { return Result{Reply: "ok"}, nil })
		if err != nil {
			t.Fatal(err)
		}
		return replay
	}
	old := mustRecord(t, l, "SM-old", complaint("13800138000", "old"))
	noCase("ST-old")
	clk.Advance(23 * time.Hour)
	recent := mustRecord(t, l, "SM-recent", complaint("13800138000", "recent"))
	noCase("ST-recent")

	clk.Advance(2 * time.Hour) // the -old keys are 25 hours old, the -recent ones 2
	again, created, err := l.Record(ctx, "SM-recent", complaint("13800138000", "retry"))
	if err != nil || created || again.Number != recent.Number {
		t.Fatalf("retry within retention: %s created=%v %v", again.Number, created, err)
	}
	// That commit pruned ST-old, and only it.
	seen := func(want map[string]bool, records int) {
		t.Helper()
		l.View(func(tx *Tx) error {
			for key, w := range want {
				if tx.Seen(key) != w {
					t.Errorf("Seen(%s) = %v, want %v", key, !w, w)
				}
			}
			if n := tx.btx.Bucket(bSteps).Stats().KeyN; n != records {
				t.Errorf("%d step records left, want %d", n, records)
			}
			return nil
		})
	}
	seen(map[string]bool{"SM-old": true, "ST-old": false, "SM-recent": true, "ST-recent": true}, 3)
	if c, created, err := l.Record(ctx, "SM-old", complaint("13800138000", "late retry")); err != nil || created || c.Number != old.Number {
		t.Fatalf("retry of an old key that opened a case: %s created=%v %v; want %s", c.Number, created, err, old.Number)
	}
	if noCase("ST-old") {
		t.Fatal("expired key without a case replayed")
	}

	// After a restart, pruning goes on from where the records may be pruned.
	l.Close()
	if l, err = Open(path, opts); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	clk.Advance(48 * time.Hour)
	l.Update(ctx, func(*Tx) error { return nil })
	seen(map[string]bool{"SM-old": true, "SM-recent": true, "ST-recent": false, "ST-old": false}, 2)
}

// Pruning looks at most pruneBatch records a commit and goes on at the next
// commit until it has passed them all, whatever it keeps on the way.
func TestStepKeys_PruneInBatches(t *testing.T) {
	t.Parallel()
	clk := newClock(monday10)
	l := mustOpen(t, Options{Now: clk.Now, KeyRetention: time.Hour})
	const cases = 10
	for i := range cases {
		mustRecord(t, l, fmt.Sprintf("SM%d", i), complaint("13800138000", "kept"))
	}
	marks := pruneBatch + pruneBatch/2
	err := l.Update(ctx, func(tx *Tx) error {
		for i := range marks {
			if err := tx.Mark(fmt.Sprintf("k%d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	left := func() int {
		var k int
		l.View(func(tx *Tx) error { k = tx.btx.Bucket(bSteps).Stats().KeyN; return nil })
		return k
	}
	clk.Advance(2 * time.Hour)
	l.Update(ctx, func(*Tx) error { return nil })
	if got, want := left(), cases+marks-(pruneBatch-cases); got != want {
		t.Fatalf("after one commit: %d keys left, want %d", got, want)
	}
	l.Update(ctx, func(*Tx) error { return nil })
	if got := left(); got != cases {
		t.Fatalf("after two commits: %d keys left, want the %d that opened cases", got, cases)
	}
}

func TestStepKeys_SeenAndMarkInOneStep(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	err := l.Update(ctx, func(tx *Tx) error {
		if tx.Seen("once|x") {
			return errors.New("seen before it was marked")
		}
		if err := tx.Mark("once|x"); err != nil {
			return err
		}
		if !tx.Seen("once|x") {
			return errors.New("not seen in the step that marked it")
		}
		return tx.Mark("once|x") // a second mark is no second record
	})
	if err != nil {
		t.Fatal(err)
	}
	err = l.Update(ctx, func(tx *Tx) error {
		if !tx.Seen("once|x") {
			return errors.New("not seen in the next step")
		}
		return tx.Mark("once|x")
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Readers ask Seen while the writer adds keys (run with -race).
func TestStepKeys_ConcurrentReaders(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				mustRecord(t, l, fmt.Sprintf("SM%d-%d", i, j), complaint("13800138000", "x"))
				l.View(func(tx *Tx) error {
					if !tx.Seen(fmt.Sprintf("SM%d-%d", i, j)) {
						t.Errorf("SM%d-%d not seen after its commit", i, j)
					}
					return nil
				})
			}
		})
	}
	wg.Wait()
}

// A version 1 file kept the step keys in a B-tree keyed by the carrier id;
// opening it moves them, and retries still find their cases.
func TestStepKeys_MigrateFromSchema1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	l, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := mustRecord(t, l, "SM1", complaint("13800138000", "x"))
	l.Close()
	// Turn the file back into version 1: keys bucket, no steps bucket.
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(btx *bolt.Tx) error {
		keys, err := btx.CreateBucket([]byte("keys"))
		if err != nil {
			return err
		}
		if err := keys.Put([]byte("SM1"), fmt.Appendf(nil, `{"case":%q}`, c.Number)); err != nil {
			return err
		}
		if err := btx.DeleteBucket(bSteps); err != nil {
			return err
		}
		if _, err := btx.CreateBucket(bSteps); err != nil {
			return err
		}
		return btx.Bucket(bMeta).Put(keySchema, u64(1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	if err := Check(path); !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "hotline serve") {
		t.Fatalf("check of a version 1 file: %v; want ErrSchema saying how to migrate", err)
	}
	l, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("open version 1: %v", err)
	}
	again, created, err := l.Record(ctx, "SM1", complaint("13800138000", "retry"))
	if err != nil || created || again.Number != c.Number {
		t.Fatalf("retry after migration: %s created=%v %v; want %s", again.Number, created, err, c.Number)
	}
	l.View(func(tx *Tx) error {
		if tx.btx.Bucket([]byte("keys")) != nil {
			t.Error("version 1 keys bucket left behind")
		}
		if v := tx.btx.Bucket(bMeta).Get(keySchema); string(v) != string(u64(SchemaVersion)) {
			t.Errorf("schema version %x after migration, want %d", v, SchemaVersion)
		}
		return nil
	})
	l.Close()
	if err := Check(path); err != nil {
		t.Fatalf("check after migration: %v", err)
	}
}

// Two keys whose hashes collide both stay retryable: the second is kept
// under its full text. (A real 64-bit collision cannot be found in a test,
// so one is made by pointing the first key's hash at the second's record.)
func TestStepKeys_HashCollision(t *testing.T) {
	t.Parallel()
	l := mustOpen(t, Options{})
	y := mustRecord(t, l, "SM-y", complaint("13800138000", "y"))
	k := &l.keys
	k.mu.Lock()
	k.seqs[maphash.String(k.seed, "SM-x")] = k.seqs[maphash.String(k.seed, "SM-y")]
	k.mu.Unlock()

	x, created, err := l.Record(ctx, "SM-x", complaint("13800138000", "x"))
	if err != nil || !created || x.Number == y.Number {
		t.Fatalf("SM-x, whose hash points at SM-y's record: %s created=%v %v; want a new case", x.Number, created, err)
	}
	if _, ok := k.more["SM-x"]; !ok {
		t.Fatal("colliding key not kept under its text")
	}
	for key, want := range map[string]string{"SM-x": x.Number, "SM-y": y.Number} {
		got, created, err := l.Record(ctx, key, complaint("13800138000", "retry"))
		if err != nil || created || got.Number != want {
			t.Errorf("retry %s: %s created=%v %v; want %s", key, got.Number, created, err, want)
		}
	}
}

// The map costs a few tens of bytes a key, whatever the key's length.
func TestStepKeys_Memory(t *testing.T) {
	const n = 200_000
	k := stepKeys{seed: maphash.MakeSeed(), seqs: map[uint64]uint64{}, more: map[string]uint64{}}
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("voice:CA%032x:record:recording", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, key := range keys {
		k.add(key, uint64(i+1))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.1f bytes a key", per)
	if per > 64 {
		t.Fatalf("%.1f bytes a key, want at most 64", per)
	}
	runtime.KeepAlive(keys)
	runtime.KeepAlive(k.seqs)
}
