package staff

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

var ctx = context.Background()

const (
	liToken   = "li-token-0123456789abcdef"
	wangToken = "wang-token-0123456789abcdef"
	bossToken = "boss-token-0123456789abcdef"
)

// env is a staff server on loopback over a real case log.
type env struct {
	t     testing.TB
	log   *caselog.Log
	clock *caselogtest.Clock
	h     *Handler
	srv   *httptest.Server
	logs  *caselogtest.SyncBuffer
}

// newEnv opens a case log (caselogtest.Open: closed and checked for
// consistency when the test ends) and serves the staff handler on loopback.
func newEnv(t testing.TB) *env {
	t.Helper()
	clk := caselogtest.NewClock(caselogtest.Monday10)
	l, _ := caselogtest.Open(t, caselog.Options{Now: clk.Now, NoSync: true})
	logs := &caselogtest.SyncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := New(Options{Log: l, Logger: logger, Tokens: []Token{
		{Name: "li", Token: liToken},
		{Name: "wang", Token: wangToken},
		{Name: "boss", Token: bossToken, Admin: true},
	}})
	r := gin.New()
	h.Register(r)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	return &env{t: t, log: l, clock: clk, h: h, srv: srv, logs: logs}
}

// record opens a case as a consumer would.
func (e *env) record(key string, nc caselog.NewCase) caselog.Case {
	e.t.Helper()
	if nc.Channel == "" {
		nc.Channel = caselog.SMS
	}
	if nc.Kind == "" {
		nc.Kind = caselog.Complaint
	}
	c, _, err := e.log.Record(ctx, key, nc)
	if err != nil {
		e.t.Fatalf("record %s: %v", key, err)
	}
	return c
}

// do sends a request with a Bearer token ("" for none) and returns the
// status and body.
func (e *env) do(method, path, token, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// getJSON does a request and decodes the body, failing unless the status
// is want.
func (e *env) call(method, path, token, body string, want int, v any) {
	e.t.Helper()
	status, b := e.do(method, path, token, body)
	if status != want {
		e.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, status, want, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
}

func (e *env) outbox() []caselog.Message {
	e.t.Helper()
	var ms []caselog.Message
	err := e.log.View(func(tx *caselog.Tx) error {
		var err error
		ms, err = tx.Outbox("", 1000)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

func (e *env) audit() []caselog.AuditEntry {
	e.t.Helper()
	var out []caselog.AuditEntry
	err := e.log.View(func(tx *caselog.Tx) error {
		var err error
		out, err = tx.AuditTrail("", 1000)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}
