package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hotline/hotline/caselog"
)

// TestContract walks the external contract of DESIGN.md against the whole
// server, as Twilio and a staff member would: the default menu keys, a
// recorded complaint, status by keypad, a callback request, and the staff
// API over them.
func TestContract(t *testing.T) {
	ts := newTestServer(t, nil)
	caller := "+8613700137000"
	call := func() url.Values {
		return url.Values{"CallSid": {sid("CA")}, "AccountSid": {testAccount}, "From": {caller}, "To": {"+8612315000"},
			"CallStatus": {"in-progress"}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}
	}
	// press answers a Gather: it posts the digits to the gather's action.
	press := func(t *testing.T, twiml string, form url.Values, digits string) string {
		t.Helper()
		m := regexp.MustCompile(`<Gather[^>]*action="([^"]+)"`).FindStringSubmatch(twiml)
		if m == nil {
			t.Fatalf("no <Gather action> in:\n%s", twiml)
		}
		f := clone(form)
		f.Set("Digits", digits)
		code, body := ts.post(t, strings.ReplaceAll(m[1], "&amp;", "&"), f)
		if code != http.StatusOK {
			t.Fatalf("key %s: %d %s", digits, code, body)
		}
		return body
	}

	// 1: complaint -> <Record>; the record action makes the case.
	form := call()
	code, menu := ts.post(t, "/twilio/voice", form)
	if code != http.StatusOK || !strings.Contains(menu, "<Gather") {
		t.Fatalf("incoming call: %d %s", code, menu)
	}
	rec := press(t, menu, form, "1")
	action := recordAction(rec)
	if action == "" {
		t.Fatalf("key 1 did not lead to <Record>:\n%s", rec)
	}
	r := clone(form)
	r.Set("RecordingSid", sid("RE"))
	r.Set("RecordingUrl", "https://api.twilio.com/2010-04-01/Accounts/"+testAccount+"/Recordings/"+r.Get("RecordingSid"))
	r.Set("RecordingDuration", "20")
	if code, body := ts.post(t, action, r); code != http.StatusOK {
		t.Fatalf("record action: %d %s", code, body)
	}
	ts.post(t, action, r) // Twilio retries: still one case
	_, body := ts.api(t, http.MethodGet, "/api/v1/cases?caller="+url.QueryEscape("137 0013 7000"), testStaffToken, "")
	var list struct{ Cases []caselog.Case }
	json.Unmarshal([]byte(body), &list)
	if len(list.Cases) != 1 || list.Cases[0].Channel != caselog.Voice || list.Cases[0].Kind != caselog.Complaint || list.Cases[0].RecordingURL == "" {
		t.Fatalf("after the recording: %s", body)
	}
	number := list.Cases[0].Number

	// 4: status by keypad answers the status of a valid number.
	form = call()
	_, menu = ts.post(t, "/twilio/voice", form)
	ask := press(t, menu, form, "4")
	answer := press(t, ask, form, number)
	if !strings.Contains(answer, "登记") && !strings.Contains(answer, "received") {
		t.Errorf("status by keypad does not say the status:\n%s", answer)
	}

	// 5: a callback request lands in the queue.
	form = call()
	_, menu = ts.post(t, "/twilio/voice", form)
	press(t, menu, form, "5")
	_, body = ts.api(t, http.MethodGet, "/api/v1/callbacks", testStaffToken, "")
	var cbs struct {
		Callbacks []map[string]any `json:"callbacks"`
	}
	json.Unmarshal([]byte(body), &cbs)
	if len(cbs.Callbacks) != 1 {
		t.Fatalf("callbacks: %s", body)
	}
	cb := cbs.Callbacks[0]
	for _, k := range []string{"id", "caller", "reason", "attempts", "due_at", "claimed_by"} {
		if _, ok := cb[k]; !ok {
			t.Errorf("callback entry lacks %q: %v", k, cb)
		}
	}
	id, _ := cb["id"].(string)
	if code, _ := ts.api(t, http.MethodPost, "/api/v1/callbacks/"+id+"/claim", testStaffToken, `{"agent":"li"}`); code != http.StatusOK {
		t.Fatalf("claim: %d", code)
	}
	if code, _ := ts.api(t, http.MethodPost, "/api/v1/callbacks/"+id+"/claim", testAdminToken, `{"agent":"boss"}`); code != http.StatusConflict {
		t.Fatalf("second claim: %d, want 409", code)
	}
	if code, _ := ts.api(t, http.MethodPost, "/api/v1/callbacks/"+id+"/complete", testAdminToken, `{"outcome":"reached"}`); code != http.StatusConflict {
		t.Fatalf("complete by another desk: %d, want 409", code)
	}
	// The contract's complete carries only the outcome: the desk that
	// claimed (for agent "li", with the token of "li") completes it.
	if code, body := ts.api(t, http.MethodPost, "/api/v1/callbacks/"+id+"/complete", testStaffToken, `{"outcome":"reached"}`); code != http.StatusOK {
		t.Fatalf("complete: %d %s", code, body)
	}

	// A desk may claim for a named agent and complete with the outcome only.
	cb2, err := ts.clog.EnqueueCallback(context.Background(), "", caselog.NewCallback{Caller: caller, Reason: "requested"})
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := ts.api(t, http.MethodPost, "/api/v1/callbacks/"+cb2.ID+"/claim", testStaffToken, `{"agent":"alice"}`); code != http.StatusOK {
		t.Fatalf("claim for alice: %d", code)
	}
	if code, body := ts.api(t, http.MethodPost, "/api/v1/callbacks/"+cb2.ID+"/complete", testStaffToken, `{"outcome":"no_answer"}`); code != http.StatusOK {
		t.Fatalf("complete of alice's claim by her desk: %d %s", code, body)
	}

	// Staff API: 401 first, 404 / 400 / 409 with reasons.
	if code, _ := ts.api(t, http.MethodGet, "/api/v1/cases/"+number, "", ""); code != http.StatusUnauthorized {
		t.Errorf("no token: %d", code)
	}
	if code, _ := ts.api(t, http.MethodGet, "/api/v1/nowhere", "wrong-token-0123456789", ""); code != http.StatusUnauthorized {
		t.Errorf("wrong token on an unknown route: %d", code)
	}
	code, body = ts.api(t, http.MethodGet, "/api/v1/cases/"+number, testStaffToken, "")
	var c caselog.Case
	if json.Unmarshal([]byte(body), &c); code != http.StatusOK || c.Number != number || len(c.Events) == 0 || c.Media == nil {
		t.Errorf("case detail: %d %s", code, body)
	}
	if !strings.Contains(body, `"number":"`+number+`"`) || !strings.Contains(body, `"media":[`) {
		t.Errorf("case number not a JSON string or media not an array: %s", body)
	}
	bad := number[:len(number)-1] + string('0'+(number[len(number)-1]-'0'+1)%10)
	if code, _ := ts.api(t, http.MethodGet, "/api/v1/cases/"+bad, testStaffToken, ""); code != http.StatusBadRequest {
		t.Errorf("wrong check digit: %d, want 400", code)
	}
	if code, _ := ts.api(t, http.MethodGet, "/api/v1/cases?caller=not-a-number", testStaffToken, ""); code != http.StatusBadRequest {
		t.Errorf("garbage caller: %d, want 400", code)
	}
	if code, _ := ts.api(t, http.MethodPost, "/api/v1/cases/"+number+"/transitions", testStaffToken, `{"status":"closed"}`); code != http.StatusConflict {
		t.Errorf("received->closed: %d, want 409", code)
	}
	if code, _ := ts.api(t, http.MethodPost, "/api/v1/cases/"+number+"/transitions", testStaffToken, `{"status":`); code != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d, want 400", code)
	}
	// Call status callback and SMS status callback answer 200.
	f := call()
	f.Set("CallStatus", "completed")
	f.Set("CallDuration", "3")
	if code, _ := ts.post(t, "/twilio/voice/status", f); code != http.StatusOK {
		t.Errorf("voice status: %d", code)
	}
	st := url.Values{"MessageSid": {sid("SM")}, "MessageStatus": {"delivered"}, "AccountSid": {testAccount}, "To": {caller}, "From": {"+8612315000"}}
	if code, _ := ts.post(t, "/twilio/sms/status", st); code != http.StatusOK {
		t.Errorf("sms status: %d", code)
	}
}
