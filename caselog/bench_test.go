package caselog

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline/hotline/internal/latency"
)

// Benchmarks (README, "Performance"):
//
//	go test -run '^$' -bench Speedup -benchtime 5x ./caselog/
//	go test -run '^$' -bench Record -benchtime 4000x -count 3 ./caselog/
//	go test -run '^$' -bench ByCaller -benchtime 20000x -count 3 ./caselog/
//
// BenchmarkRecord/writers=1 is the baseline: one writer, one transaction and
// one commit (two fdatasyncs) per case. writers=64 is the same work from 64
// goroutines through the group commit. BenchmarkRecord_RandomCallers is the
// same with callers at random, and BenchmarkRecord_StockBatch is bbolt's
// own db.Batch for comparison.

var lookupCases = flag.Int("lookup-cases", 1_000_000, "cases in the file BenchmarkByCaller searches")

// callerFor spreads case i over 100,000 callers: in turn (case i comes from
// caller i, so the cases of one commit share a few caller-index pages), or
// at random (as real callers come, so each case dirties its own page of the
// caller index).
func callerFor(i int64, random bool) string {
	if random {
		i = int64(uint64(i) * 0x9e3779b97f4a7c15 >> 1)
	}
	return fmt.Sprintf("+86138%08d", i%100000)
}

func benchRecord(b *testing.B, l *Log, writers int, random bool) {
	cs := contacts(b.N, random)
	b.ResetTimer()
	if err := record(l, cs, writers); err != nil {
		b.Error(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}

type contact struct {
	key string
	nc  NewCase
}

// contacts are made before the clock starts, so that the writers' own
// formatting does not compete with the log for the CPU.
func contacts(n int, random bool) []contact {
	cs := make([]contact, n)
	for i := range cs {
		cs[i] = contact{fmt.Sprintf("SM%032x", i), complaint(callerFor(int64(i), random), "bench")}
	}
	return cs
}

// record has writers goroutines record the contacts between them.
func record(l *Log, cs []contact, writers int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for w := range writers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(cs)) {
					return
				}
				if _, _, err := l.Record(ctx, cs[i].key, cs[i].nc); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// BenchmarkGroupCommitSpeedup measures the ratio the issue sets a target for
// (64 writers against one, at least 20x) within one run: each op is a
// round of 1,000 cases from one writer and 10,000 from 64, each on a fresh
// file, back to back, so that both see the same disk. It reports the median
// and the lowest ratio of the rounds (-benchtime 5x: five rounds).
func BenchmarkGroupCommitSpeedup(b *testing.B) {
	for _, spread := range []string{"in-turn", "random"} {
		b.Run("callers="+spread, func(b *testing.B) {
			var ratios []float64
			for range b.N {
				rate := func(n, writers int) float64 {
					l := mustOpen(b, Options{})
					cs := contacts(n, spread == "random")
					start := time.Now()
					if err := record(l, cs, writers); err != nil {
						b.Fatal(err)
					}
					return float64(n) / time.Since(start).Seconds()
				}
				one := rate(1000, 1)
				many := rate(10000, 64)
				ratios = append(ratios, many/one)
			}
			sort.Float64s(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "median-x")
			b.ReportMetric(ratios[0], "min-x")
		})
	}
}

func BenchmarkRecord(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			l := mustOpen(b, Options{})
			benchRecord(b, l, writers, false)
		})
	}
}

// BenchmarkRecord_RandomCallers is BenchmarkRecord with callers at random
// instead of in turn: what real traffic costs.
func BenchmarkRecord_RandomCallers(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			l := mustOpen(b, Options{})
			benchRecord(b, l, writers, true)
		})
	}
}

// BenchmarkRecord_StockBatch records through bbolt's db.Batch (10 ms wait,
// batches of up to 1000) from 64 writers, to show what the group commit adds.
func BenchmarkRecord_StockBatch(b *testing.B) {
	l := mustOpen(b, Options{})
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range 64 {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				err := l.db.Batch(func(btx *boltTx) error {
					counts := map[string]int64{}
					tx := &Tx{btx: btx, l: l, now: l.opts.Now(), counts: counts}
					if _, err := tx.OpenCase(complaint(fmt.Sprintf("+86138%08d", i%100000), "bench")); err != nil {
						return err
					}
					return flushCounts(btx, counts)
				})
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
}

// bigLog returns a log of n cases from 200,000 callers, built once and kept
// in the temp dir between runs (building a million cases takes a minute).
func bigLog(b *testing.B, n int) *Log {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("hotline-bench-v%d-%d.db", SchemaVersion, n))
	if _, err := os.Stat(path); err != nil {
		tmp := path + ".building"
		os.Remove(tmp)
		l, err := Open(tmp, Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		const per = 20000
		for done := 0; done < n; done += per {
			err := l.Update(ctx, func(tx *Tx) error {
				for i := done; i < done+per && i < n; i++ {
					if _, err := tx.OpenCase(complaint(fmt.Sprintf("+86138%08d", i%200000), "bench")); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		l.Close()
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
	}
	// Read the file once so the page cache is warm, as on a server that has
	// been up a while; a cold cache measures the disk, not the index.
	if f, err := os.Open(path); err == nil {
		io.Copy(io.Discard, f)
		f.Close()
	}
	l, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

func BenchmarkByCaller(b *testing.B) {
	l := bigLog(b, *lookupCases)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		caller := fmt.Sprintf("138 %08d", (i*7919)%200000)
		start := time.Now()
		cs, err := l.ByCaller(caller, 0)
		lat = append(lat, time.Since(start))
		if err != nil || len(cs) != *lookupCases/200000 {
			b.Fatalf("%s: %d cases, %v", caller, len(cs), err)
		}
	}
	b.StopTimer()
	var rec latency.Recorder
	rec.Add(lat)
	b.ReportMetric(float64(rec.Quantile(0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(rec.Quantile(0.99).Microseconds()), "p99-µs")
}

// BenchmarkOpenCase measures the writer's own work per case (no fsync,
// batches of 64 as under load): what bounds the group commit once the disk
// is fast.
func BenchmarkOpenCase(b *testing.B) {
	l := mustOpen(b, Options{NoSync: true})
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += 64 {
		l.Update(ctx, func(tx *Tx) error {
			for i := done; i < done+64 && i < b.N; i++ {
				if _, err := tx.OpenCase(complaint(fmt.Sprintf("+86138%08d", i%100000), "bench")); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// BenchmarkOpen_MillionKeys opens a log holding the carrier ids of a
// million steps that opened cases: the ids stay in memory for good, so this
// is what they cost at start (time per op) and in heap (heap-MB).
//
//	go test -run '^$' -bench Open_MillionKeys -benchtime 3x ./caselog/
func BenchmarkOpen_MillionKeys(b *testing.B) {
	path := filepath.Join(b.TempDir(), "keys.db")
	l, err := Open(path, Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	for done := 0; done < 1_000_000; done += 20000 {
		err := l.Update(ctx, func(tx *Tx) error {
			for i := done; i < done+20000; i++ {
				if err := tx.storeStep(fmt.Sprintf("sms:SM%032x", i), Result{Case: formatNumber(uint64(i + 1))}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	l.Close()
	var heap uint64
	b.ResetTimer()
	for range b.N {
		var before, after runtime.MemStats
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		l, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		l.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}
