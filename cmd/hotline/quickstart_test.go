package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
)

// TestQuickstart runs the README's quick start as a person would, with
// scripted keys: start the server with no configuration at all, phone in a
// complaint with `hotline simulate call`, text a status query with
// `hotline simulate sms`, accept the case as staff (the console's form posts
// the same transition; the browser test in staff/ drives the form itself),
// and see the status SMS the server would have sent.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	// No Twilio account, no staff tokens: only where to listen and the file.
	p := startBinaryEnv(t, filepath.Join(dir, "hotline.db"), []string{"TWILIO_AUTH_TOKEN=", "HOTLINE_STAFF_TOKENS=", "TWILIO_ACCOUNT_SID=", "TWILIO_FROM_NUMBER="})
	token := regexp.MustCompile(`Token: ([0-9a-f]{32})`).FindStringSubmatch(p.logs.String())
	if token == nil || !strings.Contains(p.logs.String(), "/console") {
		t.Fatalf("step 1: the server did not print a staff token and the console address:\n%s", p.logs.String())
	}
	if !strings.Contains(p.logs.String(), "LOCAL MODE") {
		t.Errorf("step 1: local mode not announced")
	}
	u, _ := url.Parse(p.base)
	t.Setenv("HOTLINE_ADDR", u.Host)
	t.Setenv("HOTLINE_PUBLIC_URL", p.base)
	t.Setenv("TWILIO_AUTH_TOKEN", "")
	t.Setenv("HOTLINE_STAFF_TOKENS", "")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	// Step 2: a complaint call. Key 1, then what the caller says.
	var call bytes.Buffer
	keys := strings.NewReader("1\n我在阳光电器城买的手机是翻新机，商家拒绝退货，要求退一赔三。\n")
	if err := run(ctx, []string{"simulate", "call", "--from", "13800138000"}, keys, &call, &call); err != nil {
		t.Fatalf("step 2: simulate call: %v\n%s", err, call.String())
	}
	for _, want := range []string{"keys> ", "say> ", "投诉"} {
		if !strings.Contains(call.String(), want) {
			t.Errorf("step 2: the call transcript lacks %q:\n%s", want, call.String())
		}
	}
	status, body := get(t, p.base+"/api/v1/cases?caller="+url.QueryEscape("138 0013 8000"), token[1])
	var list struct{ Cases []caselog.Case }
	json.Unmarshal([]byte(body), &list)
	if status != http.StatusOK || len(list.Cases) != 1 {
		t.Fatalf("step 2: the call made no case: %d %s", status, body)
	}
	c := list.Cases[0]
	if c.Channel != caselog.Voice || c.Kind != caselog.Complaint || !strings.Contains(c.Text, "翻新机") || c.RecordingURL == "" {
		t.Errorf("step 2: case %+v", c)
	}

	// Step 3: a status query by SMS names the case and its status.
	var text bytes.Buffer
	if err := run(ctx, []string{"simulate", "sms", "--from", "13800138000", "查询"}, nil, &text, &text); err != nil {
		t.Fatalf("step 3: simulate sms: %v\n%s", err, text.String())
	}
	if !strings.Contains(text.String(), c.Number) {
		t.Errorf("step 3: the status reply does not name case %s:\n%s", c.Number, text.String())
	}

	// Step 4: staff accept the case.
	req, _ := http.NewRequest(http.MethodPost, p.base+"/api/v1/cases/"+c.Number+"/transitions", strings.NewReader(`{"status":"accepted","note":"已受理"}`))
	req.Header.Set("Authorization", "Bearer "+token[1])
	req.Header.Set("Content-Type", "application/json")
	if code, body := do(t, req); code != http.StatusOK {
		t.Fatalf("step 4: accept: %d %s", code, body)
	}

	// Step 5: the server shows the status SMS it would have sent.
	deadline := time.Now().Add(10 * time.Second)
	for !hasLocalSMS(p.logs.String(), c.Number, "受理") {
		if time.Now().After(deadline) {
			t.Fatalf("step 5: no status SMS for %s in the server log:\n%s", c.Number, p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func get(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

// hasLocalSMS reports whether the log shows an SMS not sent in local mode
// for the case whose body contains want.
func hasLocalSMS(logs, number, want string) bool {
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "sms not sent (local mode)") && strings.Contains(line, number) && strings.Contains(line, want) {
			return true
		}
	}
	return false
}
