package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/caselog/caselogtest"
	"github.com/hotline/hotline/internal/twiliohttp"
)

// buildBinary compiles cmd/hotline once per test run.
var buildOnce struct {
	sync.Once
	path string
	err  error
}

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildOnce.path != "" {
		os.RemoveAll(filepath.Dir(buildOnce.path))
	}
	os.Exit(code)
}

func hotlineBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hotline-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "hotline")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// process is a running hotline binary.
type process struct {
	cmd  *exec.Cmd
	base string
	logs *caselogtest.SyncBuffer
}

func startBinary(t *testing.T, db string, extra ...string) *process {
	t.Helper()
	return startBinaryEnv(t, db, append([]string{"TWILIO_AUTH_TOKEN=" + testAuthToken,
		"HOTLINE_STAFF_TOKENS=boss:" + testAdminToken + ":admin", "HOTLINE_SMS_PER_MINUTE=1000"}, extra...))
}

// startBinaryEnv runs `hotline serve` on a free loopback port with only the
// given variables on top of the machine's environment.
func startBinaryEnv(t *testing.T, db string, env []string) *process {
	t.Helper()
	addr := freePort(t)
	p := &process{base: "http://" + addr, logs: &caselogtest.SyncBuffer{}}
	p.cmd = exec.Command(hotlineBinary(t), "serve")
	p.cmd.Dir = filepath.Dir(db)
	p.cmd.Env = append(os.Environ(),
		"HOTLINE_ADDR="+addr, "HOTLINE_DB="+db, "HOTLINE_PUBLIC_URL="+p.base, "HOTLINE_LOG_FORMAT=json")
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(p.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v\n%s", err, p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) post(path string, form url.Values) (int, string, error) {
	req, _ := http.NewRequest(http.MethodPost, p.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliohttp.Sign(testAuthToken, p.base+path, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text())
	}
	return resp.StatusCode, b.String(), sc.Err()
}

// answered is what a consumer was told: an SMS case number, or a call whose
// recording was acknowledged.
type answered struct {
	mu     sync.Mutex
	sms    map[string]string // case number -> caller
	voice  map[string]string // CallSid -> caller
	errors int
}

// drive sends signed SMS and voice webhooks from 16 senders until stop.
func drive(p *process, stop <-chan struct{}, a *answered) *sync.WaitGroup {
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				from := fmt.Sprintf("+86139%04d%04d", w, i%10000)
				if i%4 == 3 { // a complaint call: incoming, key 1, recording
					call := sid("CA")
					base := url.Values{"CallSid": {call}, "AccountSid": {testAccount}, "From": {from}, "To": {"+8612315000"}, "CallStatus": {"in-progress"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}
					if code, _, err := p.post("/twilio/voice", base); err != nil || code != 200 {
						continue
					}
					step := clone(base)
					step.Set("Digits", "1")
					code, body, err := p.post("/twilio/voice/step?node=main&lang=zh-CN&try=1", step)
					if err != nil || code != 200 {
						continue
					}
					action := recordAction(body)
					if action == "" {
						a.mu.Lock()
						a.errors++
						a.mu.Unlock()
						continue
					}
					rec := clone(base)
					rec.Set("RecordingSid", sid("RE"))
					rec.Set("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/"+testAccount+"/Recordings/"+rec.Get("RecordingSid"))
					rec.Set("RecordingDuration", "12")
					rec.Set("Digits", "#")
					if code, _, err := p.post(action, rec); err == nil && code == 200 {
						a.mu.Lock()
						a.voice[call] = from
						a.mu.Unlock()
					}
					continue
				}
				code, body, err := p.post("/twilio/sms", smsForm(from, "投诉 持久性测试"))
				if err != nil || code != 200 {
					continue // killed mid-request: the consumer heard nothing
				}
				n := caseNumberRE.FindString(body)
				a.mu.Lock()
				if n == "" {
					a.errors++
				} else {
					a.sms[n] = from
				}
				a.mu.Unlock()
			}
		})
	}
	return &wg
}

func clone(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

// recordAction finds the action URL of the <Record> in a TwiML answer.
func recordAction(twiml string) string {
	i := strings.Index(twiml, "<Record")
	if i < 0 {
		return ""
	}
	rest := twiml[i:]
	j := strings.Index(rest, `action="`)
	if j < 0 {
		return ""
	}
	rest = rest[j+len(`action="`):]
	u := rest[:strings.Index(rest, `"`)]
	return strings.ReplaceAll(u, "&amp;", "&")
}

// TestBinary_SIGKILLLosesNothing runs the real binary, sends signed SMS and
// voice webhooks from 16 senders, kills the process with SIGKILL in the
// middle, restarts it on the same file, and checks that every case number
// that was answered exists, once.
func TestBinary_SIGKILLLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	db := filepath.Join(t.TempDir(), "hotline.db")
	a := &answered{sms: map[string]string{}, voice: map[string]string{}}
	p := startBinary(t, db)
	stop := make(chan struct{})
	wg := drive(p, stop, a)
	time.Sleep(2 * time.Second)
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
	close(stop)
	wg.Wait()
	if a.errors > 0 {
		t.Fatalf("%d answers without a case number", a.errors)
	}
	if len(a.sms) < 50 || len(a.voice) < 10 {
		t.Fatalf("too little traffic before the kill: %d sms, %d calls", len(a.sms), len(a.voice))
	}
	// Restart on the same file: the server must come up, then check the log.
	p2 := startBinary(t, db)
	p2.cmd.Process.Signal(syscall.SIGTERM)
	if err := p2.cmd.Wait(); err != nil {
		t.Fatalf("restarted server did not stop cleanly: %v\n%s", err, p2.logs.String())
	}
	verifyAnswered(t, db, a)
}

// TestBinary_SIGTERMUnderLoad stops the server with SIGTERM while 16 senders
// are busy: requests in flight finish, nothing answered is lost, the file is
// closed cleanly.
func TestBinary_SIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	db := filepath.Join(t.TempDir(), "hotline.db")
	a := &answered{sms: map[string]string{}, voice: map[string]string{}}
	p := startBinary(t, db)
	stop := make(chan struct{})
	wg := drive(p, stop, a)
	time.Sleep(1500 * time.Millisecond)
	p.cmd.Process.Signal(syscall.SIGTERM)
	err := p.cmd.Wait()
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("SIGTERM: exit %v\n%s", err, p.logs.String())
	}
	if !strings.Contains(p.logs.String(), `"stopped"`) {
		t.Errorf("no orderly shutdown in the log:\n%s", p.logs.String())
	}
	verifyAnswered(t, db, a)
}

func verifyAnswered(t *testing.T, db string, a *answered) {
	t.Helper()
	if err := caselog.Check(db); err != nil {
		t.Fatalf("file fails its check: %v", err)
	}
	l, err := caselog.Open(db, caselog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for n, from := range a.sms {
		c, err := l.Get(n)
		if err != nil || c.Caller != from {
			t.Errorf("answered SMS case %s lost: %+v %v", n, c, err)
		}
	}
	for call, from := range a.voice {
		cs, err := l.ByCaller(from, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := 0
		for _, c := range cs {
			if c.Source == call {
				found++
			}
		}
		if found != 1 {
			t.Errorf("call %s from %s: %d cases, want exactly 1", call, from, found)
		}
	}
	t.Logf("%d SMS cases and %d recorded calls answered, all found once", len(a.sms), len(a.voice))
	_ = context.Background
}
