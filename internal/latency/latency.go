// Package latency collects the latencies a benchmark measures and reports
// their percentiles, so that every benchmark in the project computes them
// the same way.
package latency

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Recorder gathers samples from many goroutines: each keeps its own slice
// while it runs (no lock in the timed loop) and hands it over with Add.
type Recorder struct {
	mu     sync.Mutex
	all    []time.Duration
	sorted bool
}

// Add merges one goroutine's samples.
func (r *Recorder) Add(lat []time.Duration) {
	r.mu.Lock()
	r.all = append(r.all, lat...)
	r.sorted = false
	r.mu.Unlock()
}

// Len is the number of samples.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.all)
}

// Quantile is the sample at p (0 to 1) of the sorted samples, nearest rank
// below; 0 without samples.
func (r *Recorder) Quantile(p float64) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.all) == 0 {
		return 0
	}
	if !r.sorted {
		slices.Sort(r.all)
		r.sorted = true
	}
	return r.all[int(p*float64(len(r.all)-1))]
}

// ReportMS reports the median and 99th percentile in milliseconds (p50-ms,
// p99-ms) and the samples per second of b's elapsed time (req/s).
func (r *Recorder) ReportMS(b *testing.B) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(r.Quantile(0.50)), "p50-ms")
	b.ReportMetric(ms(r.Quantile(0.99)), "p99-ms")
	b.ReportMetric(float64(r.Len())/b.Elapsed().Seconds(), "req/s")
}
