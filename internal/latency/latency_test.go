package latency

import (
	"sync"
	"testing"
	"time"
)

func TestRecorder_Quantile(t *testing.T) {
	var r Recorder
	if got := r.Quantile(0.5); got != 0 {
		t.Fatalf("empty: %v, want 0", got)
	}
	var wg sync.WaitGroup
	for g := range 4 { // 4 goroutines hand over 1..100 ms, out of order
		wg.Go(func() {
			var lat []time.Duration
			for i := 100 - g; i > 0; i -= 4 {
				lat = append(lat, time.Duration(i)*time.Millisecond)
			}
			r.Add(lat)
		})
	}
	wg.Wait()
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{0, 1 * time.Millisecond}, {0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := r.Quantile(c.p); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
	if r.Len() != 100 {
		t.Errorf("Len = %d, want 100", r.Len())
	}
}
