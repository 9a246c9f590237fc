package ivr

// BenchmarkVoiceWebhook: p50/p99 latency of one voice webhook through the gin
// engine (signature check, decode, case log with fsync, TwiML), with many
// callers at once. Each op is one call: the incoming webhook, key 1 in the
// main menu, a "*" repeat, and the record action that opens the case.
//
//	go test -run '^$' -bench VoiceWebhook -benchtime 2000x ./ivr/
//
// Target: p99-ms < 10.

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hotline/hotline/internal/latency"
)

func BenchmarkVoiceWebhook(b *testing.B) {
	e := newEnv(b, true)
	main1 := URL(RouteStep, State{Node: "main", Lang: "zh-CN", Try: 1})
	record := URL(RouteRecord, State{Node: "complaint", Lang: "zh-CN", Try: 1})
	var rec latency.Recorder

	b.SetParallelism(4) // 4 × GOMAXPROCS concurrent callers
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var lat []time.Duration
		send := func(target string, r *http.Request) {
			w := httptest.NewRecorder()
			start := time.Now()
			e.engine.ServeHTTP(w, r)
			lat = append(lat, time.Since(start))
			if w.Code != http.StatusOK {
				b.Errorf("POST %s: %d %s", target, w.Code, w.Body)
			}
		}
		for pb.Next() {
			sid, from := newSID("CA"), "+8613800138000"
			kv := []string{"CallSid", sid, "From", from, "Caller", from}
			// Requests are built and signed outside the timed part.
			reqs := []struct {
				target string
				r      *http.Request
			}{
				{string(RouteIncoming), request(string(RouteIncoming), loadForm(b, "voice_incoming", kv...), signed)},
				{main1, request(main1, loadForm(b, "voice_gather", append(kv, "Digits", "1")...), signed)},
				{main1, request(main1, loadForm(b, "voice_gather", append(kv, "Digits", "*")...), signed)},
				{record, request(record, loadForm(b, "voice_record_action", append(kv, "RecordingSid", newSID("RE"))...), signed)},
			}
			for _, q := range reqs {
				send(q.target, q.r)
			}
		}
		rec.Add(lat)
	})
	b.StopTimer()
	rec.ReportMS(b)
	commits, steps := e.log.CommitStats()
	if commits > 0 {
		b.ReportMetric(float64(steps)/float64(commits), "steps/commit")
	}
}
