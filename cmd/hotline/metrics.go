package main

import (
	"github.com/hotline/hotline/caselog"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the gateway's Prometheus series, registered on a registry of
// their own (no package globals): one per server, so tests can run several.
type metrics struct {
	reg          *prometheus.Registry
	latency      *prometheus.HistogramVec
	casesCreated *prometheus.CounterVec
	sigFailures  *prometheus.CounterVec
	sendFailures *prometheus.CounterVec
	panics       prometheus.Counter
}

func newMetrics(l *caselog.Log) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hotline_http_request_duration_seconds",
			Help:    "Latency of HTTP requests by route, from the first byte read to the last written.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "code"}),
		casesCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_cases_created_total",
			Help: "Cases opened, by channel and kind.",
		}, []string{"channel", "kind"}),
		sigFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_webhook_signature_failures_total",
			Help: "Webhooks refused for a missing or invalid X-Twilio-Signature (or from a non-loopback address in local mode).",
		}, []string{"reason"}),
		sendFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hotline_sms_send_failures_total",
			Help: "Outbound SMS send attempts that failed, by Twilio error code or HTTP status.",
		}, []string{"code"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hotline_http_panics_total",
			Help: "Handler panics recovered (answered 500).",
		}),
	}
	m.reg.MustRegister(m.latency, m.casesCreated, m.sigFailures, m.sendFailures, m.panics,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&logCollector{l: l})
	return m
}

func (m *metrics) caseCreated(c caselog.Case) {
	m.casesCreated.WithLabelValues(string(c.Channel), string(c.Kind)).Inc()
}

// logCollector reads the case log's queue gauges at scrape time from
// counters and indexes (never a walk over the cases).
type logCollector struct{ l *caselog.Log }

var (
	descOutbox   = prometheus.NewDesc("hotline_outbox_depth", "Outbound SMS waiting to be sent (including retries).", nil, nil)
	descOutAge   = prometheus.NewDesc("hotline_outbox_oldest_due_age_seconds", "How long the earliest queued SMS has been due (0 when none is due).", nil, nil)
	descCBDepth  = prometheus.NewDesc("hotline_callback_queue_depth", "Callback entries waiting.", nil, nil)
	descCBAge    = prometheus.NewDesc("hotline_callback_oldest_age_seconds", "Age of the oldest waiting callback entry.", nil, nil)
	descOverdue  = prometheus.NewDesc("hotline_cases_overdue", "Unfinished cases past their due time.", nil, nil)
	descCommits  = prometheus.NewDesc("hotline_caselog_commits_total", "Write transactions committed by the case log.", nil, nil)
	descSteps    = prometheus.NewDesc("hotline_caselog_steps_total", "Steps recorded; steps/commits is the group-commit batch size.", nil, nil)
	descLogState = prometheus.NewDesc("hotline_caselog_up", "1 when the case log is readable.", nil, nil)
)

func (c *logCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOutbox, descOutAge, descCBDepth, descCBAge, descOverdue, descCommits, descSteps, descLogState} {
		ch <- d
	}
}

func (c *logCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.l.Now()
	err := c.l.View(func(tx *caselog.Tx) error {
		ch <- prometheus.MustNewConstMetric(descOutbox, prometheus.GaugeValue, float64(tx.OutboxDepth()))
		age := 0.0
		if due := tx.NextDue(); !due.IsZero() && now.After(due) {
			age = now.Sub(due).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(descOutAge, prometheus.GaugeValue, age)
		n, oldest := tx.CallbackDepth()
		ch <- prometheus.MustNewConstMetric(descCBDepth, prometheus.GaugeValue, float64(n))
		cbAge := 0.0
		if !oldest.IsZero() {
			cbAge = now.Sub(oldest).Seconds()
		}
		ch <- prometheus.MustNewConstMetric(descCBAge, prometheus.GaugeValue, cbAge)
		ch <- prometheus.MustNewConstMetric(descOverdue, prometheus.GaugeValue, float64(tx.CountOverdue()))
		return nil
	})
	up := 1.0
	if err != nil {
		up = 0
	}
	commits, steps := c.l.CommitStats()
	ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(commits))
	ch <- prometheus.MustNewConstMetric(descSteps, prometheus.CounterValue, float64(steps))
	ch <- prometheus.MustNewConstMetric(descLogState, prometheus.GaugeValue, up)
}
