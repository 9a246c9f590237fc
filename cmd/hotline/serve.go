package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/config"
	"github.com/hotline/hotline/internal/twiliohttp"
	"github.com/hotline/hotline/ivr"
	"github.com/hotline/hotline/sms"
	"github.com/hotline/hotline/staff"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func cmdServe(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return usageError(err.Error())
	}
	cfg, err := config.FromEnvironment()
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := newLogger(cfg.LogFormat, stderr)
	srv, err := newServer(cfg, logger, nil)
	if err != nil {
		return err
	}
	return srv.run(ctx, stderr)
}

// newLogger configures slog once: JSON when stderr is not a terminal.
func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "auto" || format == "" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// server is the whole gateway: one case log, the webhooks, the staff API and
// console, the SMS sender, metrics.
type server struct {
	cfg     config.Config
	log     *slog.Logger
	clog    *caselog.Log
	engine  *gin.Engine
	sender  *sms.Sender
	metrics *metrics
	tokens  []staff.Token
	desk    *staff.Handler
	// generatedToken is set when no staff tokens were configured.
	generatedToken string
}

// serverDeps lets tests replace what the environment would provide.
type serverDeps struct {
	now func() time.Time
	sms sms.MessageAPI // nil: from the configuration (or local mode)
}

func newServer(cfg config.Config, logger *slog.Logger, deps *serverDeps) (*server, error) {
	if deps == nil {
		deps = &serverDeps{}
	}
	now := deps.now
	if now == nil {
		now = time.Now
	}
	gin.SetMode(gin.ReleaseMode)
	tree, err := loadTree(cfg.IVRFile)
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: logger}
	cal := calendar(cfg)
	opts := logOptions(cfg, cal)
	opts.Now, opts.Logger = now, logger
	s.clog, err = caselog.Open(cfg.DB, opts)
	if err != nil {
		return nil, err
	}
	s.metrics = newMetrics(s.clog)

	for _, t := range cfg.StaffTokens {
		s.tokens = append(s.tokens, staff.Token{Name: t.Name, Token: t.Token, Admin: t.Admin})
	}
	if len(s.tokens) == 0 {
		b := make([]byte, 16)
		rand.Read(b)
		s.generatedToken = hex.EncodeToString(b)
		s.tokens = []staff.Token{{Name: "admin", Token: s.generatedToken, Admin: true}}
	}

	api := deps.sms
	if api == nil && cfg.CanSendSMS() {
		api = sms.NewTwilioAPI(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIURL)
	}
	s.sender = sms.NewSender(sms.SenderOptions{
		Log: s.clog, Client: api, From: cfg.TwilioFromNumber,
		StatusCallback: cfg.PublicURL + "/twilio/sms/status",
		QuietHours:     cfg.QuietHours, Location: cfg.Location,
		Logger: logger, Now: now,
		OnFailure: func(code string) { s.metrics.sendFailures.WithLabelValues(code).Inc() },
	})

	voice, err := ivr.New(ivr.Options{
		Log: s.clog, Tree: tree, Logger: logger, Now: now,
		StaffNumbers: cfg.StaffNumbers,
		StaffOpen: func(t time.Time) bool {
			return cal.IsWorkday(t) && cfg.BusinessHours.Contains(t, cfg.Location)
		},
		OnCase: s.metrics.caseCreated,
	})
	if err != nil {
		s.clog.Close()
		return nil, err
	}
	text := sms.New(sms.Options{
		Log: s.clog, Logger: logger, Now: now, PerMinute: cfg.SMSPerMinute,
		OnCase: s.metrics.caseCreated,
	})
	s.desk = staff.New(staff.Options{
		Log: s.clog, Tokens: s.tokens, Logger: logger, Now: now, Lease: cfg.CallbackLease,
	})

	e := gin.New()
	e.ContextWithFallback = true
	e.Use(recoverPanics(logger, s.metrics), accessLog(logger, s.metrics))
	e.GET("/healthz", s.healthz)
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})))
	e.GET("/admin/backup", s.backup)

	verifier := &twiliohttp.Verifier{
		AuthToken: cfg.TwilioAuthToken, PublicURL: cfg.PublicURL, Insecure: cfg.InsecureSkipSignature,
		Logger:    logger,
		OnFailure: func(reason string) { s.metrics.sigFailures.WithLabelValues(reason).Inc() },
	}
	// Every webhook route (ivr, sms) is registered with its full path on a
	// group that carries the signature check.
	hooks := e.Group("", verifier.Middleware())
	// A signed no-op: operators test their signature set-up against it, and
	// the load generator measures the cost of everything but the work.
	hooks.POST("/twilio/ping", func(c *gin.Context) { c.Data(http.StatusOK, "text/xml", []byte(emptyTwiML)) })
	voice.Register(hooks)
	text.Register(hooks)
	sms.RegisterStatus(hooks, s.clog, logger)
	s.desk.Register(e)
	e.NoRoute(func(c *gin.Context) { c.JSON(http.StatusNotFound, gin.H{"error": "no such route"}) })
	e.NoMethod(func(c *gin.Context) { c.JSON(http.StatusMethodNotAllowed, gin.H{"error": "method not allowed"}) })
	e.HandleMethodNotAllowed = true
	s.engine = e
	return s, nil
}

// logOptions are the case log's options as the configuration sets them, for
// the server and for `hotline demo` alike.
func logOptions(cfg config.Config, cal caselog.Calendar) caselog.Options {
	return caselog.Options{
		Region:   cfg.DefaultRegion,
		Calendar: cal,
		Deadlines: caselog.Deadlines{
			Accept: cfg.DeadlineAcceptDays, Mediation: cfg.DeadlineMediationDays, Report: cfg.DeadlineReportDays,
			Answer: caselog.DefaultDeadlines.Answer, Close: caselog.DefaultDeadlines.Close,
		},
		Compose:             sms.Compose,
		MaxCallbackAttempts: cfg.CallbackMaxAttempts,
	}
}

// calendar is the configuration's working-day calendar as the case log
// reads it: one calendar for deadlines and for staffed hours.
func calendar(cfg config.Config) caselog.Calendar {
	cal := caselog.Calendar{Location: cfg.Location, Holidays: map[string]bool{}, Workdays: map[string]bool{}}
	for _, d := range cfg.Holidays {
		cal.Holidays[d.String()] = true
	}
	for _, d := range cfg.ExtraWorkdays {
		cal.Workdays[d.String()] = true
	}
	return cal
}

const emptyTwiML = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`

func loadTree(path string) (*ivr.Tree, error) {
	if path == "" {
		return ivr.Default()
	}
	t, err := ivr.LoadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.EnvIVRFile, err)
	}
	return t, nil
}

func (s *server) healthz(c *gin.Context) {
	if err := s.clog.Ping(); err != nil {
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "error": "case log: " + err.Error()})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// backup streams a consistent snapshot of the case log to an admin.
func (s *server) backup(c *gin.Context) {
	tok, ok := s.desk.Authorize(c.GetHeader("Authorization"))
	if !ok {
		c.JSON(http.StatusUnauthorized, gin.H{"error": "missing or invalid bearer token"})
		return
	}
	if !tok.Admin {
		c.JSON(http.StatusForbidden, gin.H{"error": "backup needs an admin token"})
		return
	}
	c.Header("Content-Type", "application/octet-stream")
	c.Header("Content-Disposition", `attachment; filename="hotline-backup.db"`)
	n, err := s.clog.WriteTo(c.Writer)
	if err != nil {
		// Headers are gone; the client sees a short body and `hotline backup`
		// refuses a file that fails the check.
		s.log.Error("backup failed", "bytes", n, "error", err)
		return
	}
	s.log.Info("backup streamed", "actor", tok.Name, "bytes", n)
}

// run serves until ctx ends, then shuts down in order: stop taking requests,
// finish those in flight, stop the sender after its current send, close the
// case log.
func (s *server) run(ctx context.Context, stderr io.Writer) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		s.clog.Close()
		return fmt.Errorf("%s: %w", config.EnvAddr, err)
	}
	return s.serve(ctx, ln, stderr)
}

func (s *server) serve(ctx context.Context, ln net.Listener, stderr io.Writer) error {
	s.announce(ln.Addr(), stderr)
	hs := &http.Server{
		Handler:           s.engine,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second, // backups of a large file stream for a while
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	senderCtx, stopSender := context.WithCancel(context.Background())
	senderDone := make(chan error, 1)
	go func() { senderDone <- s.sender.Run(senderCtx) }()
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	var err error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down: finishing requests in flight")
	case err = <-serveErr:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if e := hs.Shutdown(shutCtx); e != nil {
		s.log.Error("http shutdown", "error", e)
	}
	stopSender()
	if e := <-senderDone; e != nil && !errors.Is(e, context.Canceled) {
		s.log.Error("sms sender", "error", e)
	}
	if e := s.clog.Close(); e != nil {
		return fmt.Errorf("close case log: %w", e)
	}
	s.log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// announce says loudly what an operator must know at start.
func (s *server) announce(addr net.Addr, stderr io.Writer) {
	cfg := s.cfg
	s.log.Info("hotline listening", "addr", addr.String(), "db", cfg.DB, "public_url", cfg.PublicURL,
		"region", cfg.DefaultRegion, "timezone", cfg.Timezone)
	if cfg.LocalMode() {
		s.log.Warn("LOCAL MODE: TWILIO_AUTH_TOKEN is not set; webhooks are NOT signature-checked and are accepted only from loopback. Set TWILIO_AUTH_TOKEN before exposing this server.")
	}
	if cfg.InsecureSkipSignature {
		s.log.Warn("INSECURE: HOTLINE_INSECURE_SKIP_SIGNATURE is set; webhook signatures are NOT checked from any address. Never run this in production.")
	}
	if !cfg.CanSendSMS() {
		s.log.Warn("outbound SMS disabled: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER are needed; status SMS stay in the outbox and are logged as not sent")
	}
	if y := time.Now().In(cfg.Location).Year(); !cfg.HolidaysKnown(y) {
		s.log.Warn("no public holidays configured for this year; set HOTLINE_HOLIDAYS so deadlines skip them", "year", y)
	}
	if s.generatedToken != "" {
		host := addr.String()
		if strings.HasPrefix(host, "[::]") || strings.HasPrefix(host, "0.0.0.0") {
			_, port, _ := net.SplitHostPort(host)
			host = "localhost:" + port
		}
		fmt.Fprintf(stderr, "\n  No HOTLINE_STAFF_TOKENS set: a one-off admin token was made for this run.\n"+
			"  Console: http://%s/console   Token: %s\n"+
			"  API:     curl -H 'Authorization: Bearer %s' http://%s/api/v1/callbacks\n\n",
			host, s.generatedToken, s.generatedToken, host)
	}
}
