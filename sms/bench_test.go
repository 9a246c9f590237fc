package sms

// BenchmarkInboundSMS: throughput and latency of POST /twilio/sms with
// concurrent senders, each request a signed complaint with a new
// MessageSid that opens a case in an on-disk case log with fsync: the reply
// goes out only after the case is on disk. BenchmarkNoop runs the same
// requests through the same gin engine and signature middleware to a route
// that does nothing, so that the pair, measured in one run, says what the
// SMS work costs on this machine.
//
//	go test -run '^$' -bench 'InboundSMS|Noop' -benchtime 5s ./sms/
//
// Target: InboundSMS req/s at least a third of Noop's.

import (
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/internal/latency"
	"github.com/hotline/hotline/internal/twiliohttp"
)

// benchSenders is how many distinct phones the load comes from.
const benchSenders = 10000

func BenchmarkInboundSMS(b *testing.B) {
	e := newInboundEnv(b, true, -1)
	var opened atomic.Int64
	// Flood control off (every request is answered), and cases counted
	// rather than kept.
	e.mount(Options{Log: e.log, Now: e.clock.Now, PerMinute: -1, OnCase: func(caselog.Case) { opened.Add(1) }})

	n := benchWebhook(b, e.engine, RouteSMS, "<Message>")
	if got := opened.Load(); got != n {
		b.Errorf("%d cases opened for %d requests", got, n)
	}
	commits, steps := e.log.CommitStats()
	if commits > 0 {
		b.ReportMetric(float64(steps)/float64(commits), "steps/commit")
	}
}

func BenchmarkNoop(b *testing.B) {
	gin.SetMode(gin.TestMode)
	const route = "/twilio/noop"
	empty, err := replyTwiML("")
	if err != nil {
		b.Fatal(err)
	}
	engine := gin.New()
	v := &twiliohttp.Verifier{AuthToken: inboundToken, PublicURL: inboundPublic}
	engine.Group("", v.Middleware()).POST(route, func(c *gin.Context) {
		c.Data(http.StatusOK, "text/xml; charset=utf-8", empty)
	})
	benchWebhook(b, engine, route, "<Response")
}

// benchWebhook posts b.N signed complaint SMS to route from about 32
// goroutines and reports req/s and latency percentiles. Requests are built
// and signed outside the timed latency; want must be in every answer. It
// returns how many requests were answered.
func benchWebhook(b *testing.B, engine *gin.Engine, route, want string) int64 {
	base := inboundForm(b, "sms_zh", "Body", "投诉：某某电器城拒绝退还故障电水壶的货款，已多次联系未果")
	var (
		seq, done atomic.Int64
		rec       latency.Recorder
	)
	b.SetParallelism(max(1, 32/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			i := seq.Add(1)
			form := maps.Clone(base)
			sid := fmt.Sprintf("SM%032x", i)
			form.Set("MessageSid", sid)
			form.Set("SmsSid", sid)
			form.Set("SmsMessageSid", sid)
			form.Set("From", fmt.Sprintf("+86139%08d", i%benchSenders))
			r := httptest.NewRequest(http.MethodPost, route, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set(twiliohttp.SignatureHeader, twiliohttp.Sign(inboundToken, inboundPublic+route, form))
			w := httptest.NewRecorder()

			start := time.Now()
			engine.ServeHTTP(w, r)
			lat = append(lat, time.Since(start))

			if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), want) {
				b.Errorf("POST %s: %d %s", route, w.Code, w.Body)
				return
			}
			done.Add(1)
		}
		rec.Add(lat)
	})
	b.StopTimer()
	rec.ReportMS(b)
	return done.Load()
}
