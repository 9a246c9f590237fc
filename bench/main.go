// Command bench is the hotline's load generator: it sends signed Twilio SMS
// webhooks to a running server at a fixed concurrency, for a bounded time and
// count, and reports requests per second and p50/p99 latency for the real SMS
// route and for the no-op signed route (/twilio/ping) measured in the same
// run. It only ever targets loopback.
//
//	bench/run.sh                      # builds, starts a server, runs both, prints the table
//	go run ./bench -url http://127.0.0.1:8080 -token $TWILIO_AUTH_TOKEN -c 32 -d 10s
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hotline/hotline/internal/twiliohttp"
)

type result struct {
	route    string
	requests int64
	errors   int64
	elapsed  time.Duration
	lat      []time.Duration
}

func (r result) rps() float64 { return float64(r.requests) / r.elapsed.Seconds() }

func (r result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

func main() {
	base := flag.String("url", "http://127.0.0.1:8080", "server base URL (loopback only)")
	public := flag.String("public-url", "", "URL the server checks signatures against (default: -url)")
	token := flag.String("token", os.Getenv("TWILIO_AUTH_TOKEN"), "Twilio auth token the server uses")
	conc := flag.Int("c", 32, "concurrent senders")
	dur := flag.Duration("d", 10*time.Second, "duration of each route's run (at most 5m)")
	maxN := flag.Int64("n", 1_000_000, "at most this many requests per route")
	routes := flag.String("routes", "noop,sms,noop", "routes to run in order (noop, sms)")
	flag.Parse()
	if err := run(*base, *public, *token, *conc, *dur, *maxN, strings.Split(*routes, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(base, public, token string, conc int, dur time.Duration, maxN int64, routes []string) error {
	u, err := url.Parse(base)
	if err != nil {
		return err
	}
	if !loopback(u.Hostname()) {
		return fmt.Errorf("refusing to load %s: bench only targets loopback", u.Host)
	}
	if dur > 5*time.Minute {
		return errors.New("-d is capped at 5m")
	}
	if public == "" {
		public = base
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: conc * 2, MaxConnsPerHost: conc * 2}, Timeout: 30 * time.Second}
	var results []result
	for _, r := range routes {
		path := map[string]string{"noop": "/twilio/ping", "sms": "/twilio/sms"}[r]
		if path == "" {
			return fmt.Errorf("unknown route %q", r)
		}
		res, err := load(client, base, public, path, token, conc, dur, maxN)
		if err != nil {
			return err
		}
		res.route = r
		results = append(results, res)
	}
	fmt.Printf("\n| route | concurrency | requests | errors | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Printf("| %s | %d | %d | %d | %.0f | %.2f | %.2f |\n", r.route, conc, r.requests, r.errors, r.rps(),
			ms(r.pct(0.50)), ms(r.pct(0.99)))
	}
	var noop, real []result
	for _, r := range results {
		if r.route == "noop" {
			noop = append(noop, r)
		} else {
			real = append(real, r)
		}
	}
	if len(noop) > 0 && len(real) > 0 {
		best := slices.MaxFunc(noop, func(a, b result) int { return int(a.rps() - b.rps()) })
		for _, r := range real {
			fmt.Printf("\n%s / no-op: throughput ratio %.2f (target >= 0.33), p99 ratio %.2f (target <= 3)\n",
				r.route, r.rps()/best.rps(), float64(r.pct(0.99))/float64(best.pct(0.99)))
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// load runs one route at a fixed concurrency until the duration or the count
// runs out.
func load(client *http.Client, base, public, path, token string, conc int, dur time.Duration, maxN int64) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	var sent, failed atomic.Int64
	lats := make([][]time.Duration, conc)
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := range conc {
		wg.Go(func() {
			for ctx.Err() == nil && sent.Add(1) <= maxN {
				form := smsForm(w)
				body := form.Encode()
				req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if token != "" {
					req.Header.Set("X-Twilio-Signature", twiliohttp.Sign(token, public+path, form))
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("%s: %s", path, resp.Status)
					}
				}
				lats[w] = append(lats[w], time.Since(t0))
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	res := result{elapsed: time.Since(start), errors: failed.Load()}
	for _, l := range lats {
		res.lat = append(res.lat, l...)
	}
	res.requests = int64(len(res.lat))
	slices.Sort(res.lat)
	if e, ok := firstErr.Load().(string); ok {
		fmt.Fprintf(os.Stderr, "bench: %s: %d errors, first: %s\n", path, res.errors, e)
	}
	return res, nil
}

// smsForm is a complaint as Twilio posts it, with a fresh MessageSid and
// one of 10,000 senders.
func smsForm(worker int) url.Values {
	b := make([]byte, 16)
	rand.Read(b)
	sid := "SM" + hex.EncodeToString(b)
	from := fmt.Sprintf("+86138%08d", (int(b[0])<<8|int(b[1]))%10000*100+worker)
	return url.Values{
		"ToCountry": {"CN"}, "ToState": {""}, "SmsMessageSid": {sid}, "NumMedia": {"0"}, "ToCity": {""},
		"FromZip": {""}, "SmsSid": {sid}, "FromState": {""}, "SmsStatus": {"received"}, "FromCity": {""},
		"Body": {"投诉 某某电器城销售翻新手机冒充新机，要求退货退款。"}, "FromCountry": {"CN"}, "To": {"+8612315000"},
		"MessagingServiceSid": {""}, "ToZip": {""}, "NumSegments": {"1"}, "MessageSid": {sid},
		"AccountSid": {"AC00000000000000000000000000000000"}, "From": {from}, "ApiVersion": {"2010-04-01"},
	}
}
