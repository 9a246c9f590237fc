package staff

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/hotline/hotline/caselog"
	"github.com/hotline/hotline/config"
	"github.com/hotline/hotline/internal/twiliotest"
	"github.com/hotline/hotline/sms"
)

const chromiumPath = "/usr/bin/chromium"

// newBrowser starts Debian's chromium headless. Without it the test fails
// on CI and is skipped, loudly, elsewhere.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium missing at %s on CI: %v", chromiumPath, err)
		}
		t.Skipf("!!! SKIPPING THE BROWSER TEST: no chromium at %s (apt-get install -y chromium) !!!", chromiumPath)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// Start the browser on a context without a deadline (a deadline on the
	// first run would bound the browser's whole life).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// screenshot writes a full-page PNG to docs/ when HOTLINE_SCREENSHOTS=1.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	if os.Getenv("HOTLINE_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "docs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote docs/%s", name)
}

func TestBrowser_StaffDay(t *testing.T) {
	browser := newBrowser(t)
	e := newEnv(t)

	// A consumer's history: an old complaint now overdue, a voice report
	// with its recording, and a fresh SMS complaint with a photo.
	old := e.record("SM1", caselog.NewCase{Caller: "13800138000", Text: "预付卡商家跑路，无法退款。Prepaid gym card, the gym closed."})
	e.clock.Advance(12 * 24 * time.Hour)
	e.record("CA1/record", caselog.NewCase{Caller: "+86 138 0013 8000", Channel: caselog.Voice, Kind: caselog.Report,
		RecordingURL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1", Text: "超市销售过期食品 Expired food on sale"})
	e.clock.Advance(2 * time.Hour)
	fresh := e.record("SM2", caselog.NewCase{Caller: "13800138000", Text: "网购手机屏幕有裂痕，商家拒绝退货。<script>alert(1)</script>",
		Media: []caselog.Media{{URL: "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", ContentType: "image/jpeg"}}})
	cb, err := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13800138000", Case: old.Number, Reason: "requested", Lang: "zh-CN"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13900139000", Reason: "abandoned"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13700137000", Reason: "no_staff"}); err != nil {
		t.Fatal(err)
	}

	run := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(browser, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		c, cancel := context.WithTimeout(browser, 10*time.Second)
		defer cancel()
		s, err := chromedp.Run(c, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}

	run("sign in",
		chromedp.Navigate(e.srv.URL+"/console/search"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SendKeys(chromedp.CSS("#token"), liToken),
		chromedp.Click(chromedp.CSS("#signin button")),
		chromedp.WaitVisible(chromedp.CSS("#caller")),
	)
	run("look up",
		chromedp.SendKeys(chromedp.CSS("#caller"), "+86 138-0013-8000"),
		chromedp.Click(chromedp.CSS("form.search button")),
		chromedp.WaitVisible(chromedp.CSS("#results")),
	)
	results := text("#results")
	if !strings.Contains(results, fresh.Number) || !strings.Contains(results, old.Number) || !strings.Contains(results, "已超期 Overdue") {
		t.Fatalf("results: %s", results)
	}
	if !strings.Contains(results, "<script>alert(1)</script>") {
		t.Fatalf("consumer text not shown as text: %s", results)
	}
	screenshot(t, browser, "console-search.png")

	run("open case",
		chromedp.Click(chromedp.CSS(`a.case-link[href="/console/cases/`+fresh.Number+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#move")),
	)
	if got := text("#case-text"); !strings.Contains(got, "<script>alert(1)</script>") {
		t.Fatalf("case text: %q", got)
	}
	if got := text(".attachments"); !strings.Contains(got, "image/jpeg") {
		t.Fatalf("attachments: %q", got)
	}
	screenshot(t, browser, "console-case.png")

	run("accept",
		chromedp.SetValue(chromedp.CSS("#status"), "accepted"),
		chromedp.SendKeys(chromedp.CSS("#note"), "已受理，三个工作日内联系商家"),
		chromedp.Click(chromedp.CSS("#move button")),
		chromedp.WaitVisible(chromedp.CSS(".flash.notice")),
	)
	if got := text("#case-status"); !strings.Contains(got, "受理 Accepted") {
		t.Fatalf("status on page after accepting: %q", got)
	}
	c, err := e.log.Get(fresh.Number)
	if err != nil || c.Status != caselog.Accepted || c.Events[len(c.Events)-1].Actor != "li" {
		t.Fatalf("case in the log: %+v %v", c, err)
	}
	var statusSMS bool
	for _, m := range e.outbox() {
		statusSMS = statusSMS || (m.Case == fresh.Number && m.Notice == caselog.NoticeStatus && m.To == "+8613800138000" && strings.Contains(m.Body, fresh.Number))
	}
	if !statusSMS {
		t.Fatalf("no status SMS in the outbox: %+v", e.outbox())
	}
	// The SMS sender takes it from the outbox to Twilio's Messages API (a
	// local test double), as the server's worker does.
	twilio := twiliotest.New(t, "AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef")
	sender := sms.NewSender(sms.SenderOptions{
		Log:    e.log,
		Client: sms.NewTwilioAPI("AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", twilio.URL()),
		From:   "+8612315000", StatusCallback: "https://hotline.example.org/twilio/sms/status",
		QuietHours: config.QuietHours{Off: true}, Now: e.clock.Now,
	})
	if _, err := sender.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	var reached bool
	for _, m := range twilio.Messages() {
		reached = reached || (m.To == "+8613800138000" && strings.Contains(m.Body, fresh.Number))
	}
	if !reached {
		t.Fatalf("the status SMS did not reach the Twilio double: %+v", twilio.Messages())
	}

	row := "#cb-" + cb.ID
	run("claim",
		chromedp.Navigate(e.srv.URL+"/console/callbacks"),
		chromedp.WaitVisible(chromedp.CSS(row+" form.claim button")),
		chromedp.Click(chromedp.CSS(row+" form.claim button")),
		chromedp.WaitVisible(chromedp.CSS(row+" form.complete")),
	)
	if got := text(row + " .claimed"); got != "li" {
		t.Fatalf("claimed by %q", got)
	}
	screenshot(t, browser, "console-callbacks.png")

	// The queue refreshes itself: a callback queued now appears without a reload.
	late, err := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13600136000", Reason: "requested"})
	if err != nil {
		t.Fatal(err)
	}
	run("poll", chromedp.WaitVisible(chromedp.CSS("#cb-"+late.ID)))

	run("complete",
		chromedp.SetValue(chromedp.CSS(row+" select[name=outcome]"), "reached"),
		chromedp.SendKeys(chromedp.CSS(row+" input[name=note]"), "已联系 reached"),
		chromedp.Click(chromedp.CSS(row+" form.complete button")),
		chromedp.WaitNotPresent(chromedp.CSS(row)),
		chromedp.WaitVisible(chromedp.CSS(".flash.notice")),
	)
	if got := text("#queue"); strings.Contains(got, old.Number) {
		t.Fatalf("completed callback still listed: %s", got)
	}
	done, err := e.log.Callback(cb.ID)
	if err != nil || done.State != caselog.CBDone || done.Outcome != caselog.OutcomeReached || done.History[0].Agent != "li" {
		t.Fatalf("callback in the log: %+v %v", done, err)
	}
}
