package staff

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline/hotline/caselog"
)

func TestAPI_Auth_EveryRoute(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.record("SM1", caselog.NewCase{Caller: "13800138000", Text: "退款"})
	cb, err := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13800138000", Case: c.Number, Reason: "requested"})
	if err != nil {
		t.Fatal(err)
	}
	routes := []struct {
		method, path, body string
		ok                 int // status with the right (admin) token
	}{
		{"GET", "/api/v1/cases?caller=13800138000", "", 200},
		{"GET", "/api/v1/cases/" + c.Number, "", 200},
		{"GET", "/api/v1/cases/1234567", "", 400},
		{"POST", "/api/v1/cases/" + c.Number + "/transitions", `{"status":"accepted"}`, 200},
		{"POST", "/api/v1/cases/" + c.Number + "/transitions", `{not json`, 400},
		{"GET", "/api/v1/callbacks", "", 200},
		{"POST", "/api/v1/callbacks/" + cb.ID + "/claim", `{}`, 200},
		{"POST", "/api/v1/callbacks/" + cb.ID + "/release", `{}`, 200},
		{"POST", "/api/v1/callbacks/" + cb.ID + "/complete", `{"outcome":"reached"}`, 200},
		{"GET", "/api/v1/stats", "", 200},
		{"GET", "/api/v1/audit", "", 200},
		{"GET", "/api/v1/no-such-thing", "", 404},
		{"DELETE", "/api/v1/cases/" + c.Number, "", 405},
	}
	creds := []struct {
		name, header string
	}{
		{"no header", ""},
		{"wrong token", "Bearer not-a-token"},
		{"token prefix", "Bearer " + bossToken[:10]},
		{"basic scheme", "Basic " + bossToken},
		{"bare token", bossToken},
	}
	for _, r := range routes {
		for _, cr := range creds {
			t.Run(r.method+" "+r.path+"/"+cr.name, func(t *testing.T) {
				req, _ := http.NewRequest(r.method, e.srv.URL+r.path, strings.NewReader(r.body))
				if cr.header != "" {
					req.Header.Set("Authorization", cr.header)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var body apiError
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
					t.Fatalf("body is not JSON: %v", err)
				}
				if resp.StatusCode != http.StatusUnauthorized || body.Error == "" {
					t.Fatalf("status %d body %+v, want 401 with an error", resp.StatusCode, body)
				}
			})
		}
	}
	// Nothing ran: no audit entry, the case did not move, nobody holds the callback.
	if a := e.audit(); len(a) != 0 {
		t.Fatalf("unauthenticated requests wrote audit entries: %+v", a)
	}
	if got, _ := e.log.Get(c.Number); got.Status != caselog.Received {
		t.Fatalf("unauthenticated transition moved the case to %s", got.Status)
	}
	// With the right token, in order (the case moves once; the second post is illegal).
	for _, r := range routes {
		t.Run(r.method+" "+r.path+"/right token", func(t *testing.T) {
			status, b := e.do(r.method, r.path, bossToken, r.body)
			if status != r.ok {
				t.Fatalf("status %d, want %d: %s", status, r.ok, b)
			}
		})
	}
}

func TestAPI_Cases_ByCaller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	first := e.record("SM1", caselog.NewCase{Caller: "+8613800138000", Text: "first"})
	e.clock.Advance(time.Hour)
	second := e.record("SM2", caselog.NewCase{Caller: "13800138000", Channel: caselog.Voice, Kind: caselog.Report, Text: "second"})
	e.record("SM3", caselog.NewCase{Caller: "13900139000", Text: "someone else"})

	for _, form := range []string{"138 0013 8000", "+86 138-0013-8000", "008613800138000", "13800138000", "+8613800138000", "(+86) 138 0013 8000"} {
		t.Run(form, func(t *testing.T) {
			var got struct {
				Cases []caselog.Case `json:"cases"`
			}
			e.call("GET", "/api/v1/cases?caller="+urlQuery(form), liToken, "", 200, &got)
			if len(got.Cases) != 2 || got.Cases[0].Number != second.Number || got.Cases[1].Number != first.Number {
				t.Fatalf("got %+v, want [%s %s] newest first", got.Cases, second.Number, first.Number)
			}
		})
	}
	var none struct {
		Cases []caselog.Case `json:"cases"`
	}
	e.call("GET", "/api/v1/cases?caller=13700137000", liToken, "", 200, &none)
	if none.Cases == nil || len(none.Cases) != 0 {
		t.Fatalf("no cases should be an empty array: %+v", none)
	}

	for _, bad := range []string{"", "hello", "12", "<script>alert(1)</script>", "138001380001380013800"} {
		t.Run("bad/"+bad, func(t *testing.T) {
			var body apiError
			e.call("GET", "/api/v1/cases?caller="+urlQuery(bad), liToken, "", 400, &body)
			if body.Error == "" {
				t.Fatal("400 without a reason")
			}
		})
	}

	// One audit entry per successful look-up, with the normalised number.
	trail := e.audit()
	if len(trail) != 7 {
		t.Fatalf("%d audit entries, want 7: %+v", len(trail), trail)
	}
	for _, a := range trail[1:] {
		if a.Actor != "li" || a.Action != "lookup_caller" || a.Target != "+8613800138000" {
			t.Fatalf("audit entry %+v", a)
		}
	}
	if trail[0].Target != "+8613700137000" {
		t.Fatalf("newest audit entry %+v", trail[0])
	}
}

func TestAPI_Audit_AdminOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.record("SM1", caselog.NewCase{Caller: "13800138000"})
	e.call("GET", "/api/v1/cases?caller=13800138000", liToken, "", 200, nil)
	e.clock.Advance(time.Minute)
	e.call("GET", "/api/v1/cases/"+c.Number, wangToken, "", 200, nil)

	var denied apiError
	e.call("GET", "/api/v1/audit", liToken, "", 403, &denied)
	if denied.Error == "" {
		t.Fatal("403 without a reason")
	}
	var got struct {
		Audit []caselog.AuditEntry `json:"audit"`
		Next  string               `json:"next"`
	}
	e.call("GET", "/api/v1/audit", bossToken, "", 200, &got)
	if len(got.Audit) != 2 {
		t.Fatalf("audit %+v", got)
	}
	want := []struct{ actor, action, target string }{{"wang", "view_case", c.Number}, {"li", "lookup_caller", "+8613800138000"}}
	for i, w := range want {
		a := got.Audit[i]
		if a.Actor != w.actor || a.Action != w.action || a.Target != w.target || a.At.IsZero() {
			t.Errorf("entry %d = %+v, want %+v", i, a, w)
		}
	}
	e.call("GET", "/api/v1/audit?limit=1", bossToken, "", 200, &got)
	if len(got.Audit) != 1 || got.Next == "" {
		t.Fatalf("page 1: %+v", got)
	}
	e.call("GET", "/api/v1/audit?limit=1&before="+got.Next, bossToken, "", 200, &got)
	if len(got.Audit) != 1 || got.Audit[0].Actor != "li" {
		t.Fatalf("page 2: %+v", got)
	}
	e.call("GET", "/api/v1/audit?limit=zero", bossToken, "", 400, nil)
}

func TestAPI_GetCase(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.record("SM1", caselog.NewCase{Caller: "13800138000", Text: "商家拒绝退款", Media: []caselog.Media{{URL: "https://api.twilio.com/m/1", ContentType: "image/jpeg"}}})
	// A mistyped number: the last digit changed.
	wrong := c.Number[:len(c.Number)-1] + string('0'+(c.Number[len(c.Number)-1]-'0'+1)%10)
	// A valid number no case has yet: the next one.

	tests := []struct {
		name, number string
		status       int
		contains     string
	}{
		{"found", c.Number, 200, `"events":[`},
		{"wrong check digit", wrong, 400, "check digit"},
		{"letters", "abcdefg", 400, "6 to 12 digits"},
		{"too short", "123", 400, "6 to 12 digits"},
		{"unknown", unknownNumber(t, e), 404, "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, b := e.do("GET", "/api/v1/cases/"+tt.number, liToken, "")
			if status != tt.status || !strings.Contains(string(b), tt.contains) {
				t.Fatalf("status %d body %s; want %d containing %q", status, b, tt.status, tt.contains)
			}
		})
	}
	var got caselog.Case
	e.call("GET", "/api/v1/cases/"+c.Number, liToken, "", 200, &got)
	if got.Number != c.Number || got.Caller != "+8613800138000" || got.Text != "商家拒绝退款" || len(got.Events) != 1 || got.Events[0].Type != caselog.EventOpened || len(got.Media) != 1 {
		t.Fatalf("case %+v", got)
	}
	views := 0
	for _, a := range e.audit() {
		if a.Action == "view_case" && a.Target == c.Number && a.Actor == "li" {
			views++
		}
	}
	if views != 2 {
		t.Fatalf("%d view_case audit entries, want 2", views)
	}
}

// unknownNumber returns a well-formed case number that no case has.
func unknownNumber(t *testing.T, e *env) string {
	t.Helper()
	for n := 9999990; n < 10000000; n++ {
		s := fmt.Sprint(n)
		if caselog.Valid(s) {
			if _, err := e.log.Get(s); err != nil {
				return s
			}
		}
	}
	t.Fatal("no unknown number found")
	return ""
}

// TestAPI_Transitions_EveryPath walks the lifecycle of every kind through
// the API: from every reachable status, every status is tried; the legal
// ones must answer 200 with the moved case and queue one status SMS, the
// others 409 naming exactly the legal moves.
func TestAPI_Transitions_EveryPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seq := 0
	for _, kind := range caselog.Kinds {
		paths := reachable(kind)
		for _, from := range sortedKeys(paths) {
			for _, to := range caselog.Statuses {
				seq++
				name := fmt.Sprintf("%s/%s->%s", kind, from, to)
				c := e.record(fmt.Sprintf("SM%d", seq), caselog.NewCase{Caller: "13800138000", Kind: kind})
				for _, step := range paths[caselog.Status(from)] {
					e.call("POST", "/api/v1/cases/"+c.Number+"/transitions", liToken, `{"status":"`+string(step)+`"}`, 200, nil)
				}
				sent := len(e.outbox())
				legal := caselog.Legal(kind, caselog.Status(from))
				status, b := e.do("POST", "/api/v1/cases/"+c.Number+"/transitions", wangToken, `{"status":"`+string(to)+`","note":"n"}`)
				if slices.Contains(legal, to) {
					var got caselog.Case
					if status != 200 || json.Unmarshal(b, &got) != nil {
						t.Fatalf("%s: status %d %s, want 200", name, status, b)
					}
					last := got.Events[len(got.Events)-1]
					if got.Status != to || last.Type != caselog.EventStatus || last.From != caselog.Status(from) || last.To != to || last.Actor != "wang" {
						t.Fatalf("%s: case %s, last event %+v", name, got.Status, last)
					}
					if n := len(e.outbox()); n <= sent {
						t.Fatalf("%s: no status SMS queued", name)
					}
					continue
				}
				var body apiError
				if status != 409 || json.Unmarshal(b, &body) != nil || body.Error == "" {
					t.Fatalf("%s: status %d %s, want 409", name, status, b)
				}
				if !slices.Equal(body.Legal, legal) || !strings.Contains(string(b), `"legal":[`) {
					t.Fatalf("%s: legal %v, want %v", name, body.Legal, legal)
				}
				if got, _ := e.log.Get(c.Number); got.Status != caselog.Status(from) {
					t.Fatalf("%s: refused move changed status to %s", name, got.Status)
				}
			}
		}
	}
}

// reachable returns, for every status a case of kind k can reach, the
// shortest sequence of moves from received.
func reachable(k caselog.Kind) map[caselog.Status][]caselog.Status {
	paths := map[caselog.Status][]caselog.Status{caselog.Received: nil}
	queue := []caselog.Status{caselog.Received}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, n := range caselog.Legal(k, s) {
			if _, ok := paths[n]; !ok {
				paths[n] = append(slices.Clone(paths[s]), n)
				queue = append(queue, n)
			}
		}
	}
	return paths
}

func sortedKeys(m map[caselog.Status][]caselog.Status) []string {
	var out []string
	for k := range m {
		out = append(out, string(k))
	}
	slices.Sort(out)
	return out
}

func TestAPI_Transitions_Bodies(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name   string
		body   string
		status int
		check  func(t *testing.T, b []byte, c caselog.Case)
	}{
		{"accept", `{"status":"accepted","note":"受理"}`, 200, func(t *testing.T, b []byte, c caselog.Case) {
			if c.Status != caselog.Accepted || !strings.Contains(string(b), `"events":[`) {
				t.Fatalf("case %+v", c)
			}
		}},
		{"transfer names the department", `{"status":"transferred","department":"市场监管局 Market Regulation"}`, 200, func(t *testing.T, _ []byte, c caselog.Case) {
			if c.Department != "市场监管局 Market Regulation" || c.Events[len(c.Events)-1].Detail["department"] != c.Department {
				t.Fatalf("case %+v", c)
			}
		}},
		{"reject with reason and referral", `{"status":"rejected","reason":"不属于消费纠纷","referral":"劳动仲裁 12333"}`, 200, func(t *testing.T, _ []byte, c caselog.Case) {
			if c.Reason != "不属于消费纠纷" || c.Referral != "劳动仲裁 12333" {
				t.Fatalf("case %+v", c)
			}
		}},
		{"illegal", `{"status":"resolved"}`, 409, func(t *testing.T, b []byte, _ caselog.Case) {
			if !strings.Contains(string(b), `"legal":["accepted","rejected","transferred","withdrawn"]`) {
				t.Fatalf("body %s", b)
			}
		}},
		{"unknown status", `{"status":"done"}`, 400, func(t *testing.T, b []byte, _ caselog.Case) {
			if !strings.Contains(string(b), "accepted") {
				t.Fatalf("400 does not name the statuses: %s", b)
			}
		}},
		{"no status", `{"note":"x"}`, 400, nil},
		{"empty body", ``, 400, nil},
		{"malformed JSON", `{"status":`, 400, nil},
		{"two values", `{"status":"accepted"} {}`, 400, nil},
		{"wrong type", `{"status":7}`, 400, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.record(fmt.Sprintf("SM%d", i), caselog.NewCase{Caller: "13800138000"})
			before := len(e.outbox())
			status, b := e.do("POST", "/api/v1/cases/"+c.Number+"/transitions", liToken, tt.body)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %s", status, tt.status, b)
			}
			var got caselog.Case
			if status == 200 {
				if err := json.Unmarshal(b, &got); err != nil {
					t.Fatal(err)
				}
				if len(e.outbox()) != before+1 {
					t.Fatal("legal move queued no status SMS")
				}
			} else if len(e.outbox()) != before {
				t.Fatal("refused move queued an SMS")
			}
			if tt.check != nil {
				tt.check(t, b, got)
			}
		})
	}
	t.Run("unknown case", func(t *testing.T) {
		e.call("POST", "/api/v1/cases/"+unknownNumber(t, e)+"/transitions", liToken, `{"status":"accepted"}`, 404, nil)
	})
	t.Run("mistyped case", func(t *testing.T) {
		status, b := e.do("POST", "/api/v1/cases/1000001/transitions", liToken, `{"status":"accepted"}`)
		if status != 400 || !strings.Contains(string(b), "check digit") {
			t.Fatalf("status %d %s", status, b)
		}
	})
}

func TestAPI_Callbacks_ConcurrentClaims(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cb, err := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13800138000", Reason: "requested"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			status, _ := e.do("POST", "/api/v1/callbacks/"+cb.ID+"/claim", liToken, fmt.Sprintf(`{"agent":"agent%02d"}`, i))
			mu.Lock()
			codes[status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	if codes[200] != 1 || codes[409] != 49 || len(codes) != 2 {
		t.Fatalf("status counts %v, want one 200 and 49 409s", codes)
	}
}

func TestAPI_Callbacks_Queue(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c := e.record("SM1", caselog.NewCase{Caller: "13800138000"})
	normal, _ := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13800138000", Case: c.Number, Reason: "requested"})
	e.clock.Advance(time.Minute)
	report, _ := e.log.EnqueueCallback(ctx, "", caselog.NewCallback{Caller: "13900139000", Reason: "report", Priority: caselog.PriorityHigh})

	var list struct {
		Callbacks []map[string]any `json:"callbacks"`
	}
	e.call("GET", "/api/v1/callbacks", liToken, "", 200, &list)
	if len(list.Callbacks) != 2 || list.Callbacks[0]["id"] != report.ID || list.Callbacks[1]["id"] != normal.ID {
		t.Fatalf("queue not in working order: %+v", list)
	}
	for _, f := range []string{"id", "case", "caller", "reason", "attempts", "due_at", "claimed_by"} {
		if _, ok := list.Callbacks[1][f]; !ok {
			t.Errorf("entry has no %q: %v", f, list.Callbacks[1])
		}
	}

	path := "/api/v1/callbacks/" + normal.ID
	var cb caselog.Callback
	e.call("POST", path+"/claim", liToken, "", 200, &cb)
	if cb.ClaimedBy != "li" {
		t.Fatalf("agent did not default to the token's name: %+v", cb)
	}
	steps := []struct {
		name, verb, token, body string
		status                  int
		contains                string
	}{
		{"claim held by another", "claim", wangToken, `{}`, 409, "claimed"},
		{"release held by another", "release", wangToken, `{}`, 409, "claimed"},
		{"complete held by another", "complete", wangToken, `{"outcome":"reached"}`, 409, "claimed"},
		{"bad outcome", "complete", liToken, `{"outcome":"maybe"}`, 400, `"valid":["reached","no_answer","wrong_number","cancelled"]`},
		{"missing outcome", "complete", liToken, `{}`, 400, "no_answer"},
		{"malformed", "complete", liToken, `{"outcome"`, 400, "malformed"},
		{"holder renews", "claim", liToken, `{"agent":"li"}`, 200, `"claimed_by":"li"`},
		{"no answer requeues", "complete", liToken, `{"outcome":"no_answer","note":"无人接听"}`, 200, `"attempts":1`},
		{"free after requeue", "claim", wangToken, ``, 200, `"claimed_by":"wang"`},
		{"release", "release", wangToken, ``, 200, `"claimed_by":""`},
		{"second no answer", "complete", liToken, `{"outcome":"no_answer"}`, 200, `"state":"waiting"`},
		{"third no answer fails", "complete", liToken, `{"outcome":"no_answer"}`, 200, `"state":"failed"`},
		{"claim finished", "claim", liToken, ``, 409, "finished"},
		{"complete finished", "complete", liToken, `{"outcome":"reached"}`, 409, "finished"},
	}
	for _, s := range steps {
		status, b := e.do("POST", path+"/"+s.verb, s.token, s.body)
		if status != s.status || !strings.Contains(string(b), s.contains) {
			t.Fatalf("%s: status %d %s; want %d containing %s", s.name, status, b, s.status, s.contains)
		}
		if s.name == "no answer requeues" {
			e.call("GET", "/api/v1/callbacks", liToken, "", 200, &list)
			if len(list.Callbacks) != 2 {
				t.Fatalf("unanswered callback left the queue: %+v", list)
			}
		}
	}
	e.call("GET", "/api/v1/callbacks", liToken, "", 200, &list)
	if len(list.Callbacks) != 1 || list.Callbacks[0]["id"] != report.ID {
		t.Fatalf("failed callback still queued: %+v", list)
	}
	var failedSMS bool
	for _, m := range e.outbox() {
		failedSMS = failedSMS || (m.Notice == caselog.NoticeCallbackFailed && m.To == "+8613800138000")
	}
	if !failedSMS {
		t.Fatal("no SMS told the consumer we tried to call")
	}
	e.call("POST", "/api/v1/callbacks/"+report.ID+"/complete", liToken, `{"outcome":"reached"}`, 200, nil)
	e.call("POST", "/api/v1/callbacks/999/claim", liToken, ``, 404, nil)
	e.call("POST", "/api/v1/callbacks/x/claim", liToken, ``, 404, nil)
	e.call("POST", "/api/v1/callbacks/1/shout", liToken, ``, 404, nil)
	got, _ := e.log.Get(c.Number)
	var outcomes []string
	for _, ev := range got.Events {
		if ev.Type == caselog.EventCallback && ev.Detail["outcome"] != "" {
			outcomes = append(outcomes, ev.Actor+":"+ev.Detail["outcome"])
		}
	}
	if !slices.Equal(outcomes, []string{"li:no_answer", "li:no_answer", "li:no_answer"}) {
		t.Fatalf("case history of callback attempts: %v", outcomes)
	}
}

func TestAPI_Stats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.record("SM1", caselog.NewCase{Caller: "13800138000"})
	e.record("SM2", caselog.NewCase{Caller: "13800138000", Kind: caselog.Report, Channel: caselog.Voice})
	e.clock.Advance(2 * time.Hour)
	e.call("POST", "/api/v1/cases/"+a.Number+"/transitions", liToken, `{"status":"accepted"}`, 200, nil)

	type stats struct {
		From              string           `json:"from"`
		To                string           `json:"to"`
		Cases             int64            `json:"cases"`
		ByKind            map[string]int64 `json:"by_kind"`
		ByChannel         map[string]int64 `json:"by_channel"`
		ByStatus          map[string]int64 `json:"by_status"`
		MedianAcceptHours float64          `json:"median_accept_hours"`
	}
	var s stats
	e.call("GET", "/api/v1/stats", liToken, "", 200, &s)
	if s.From != "2026-11-17" || s.To != "2026-11-23" || s.Cases != 2 || s.ByKind["report"] != 1 || s.ByChannel["voice"] != 1 ||
		s.ByStatus["accepted"] != 1 || s.ByStatus["received"] != 1 || s.MedianAcceptHours != 2 {
		t.Fatalf("default range: %+v", s)
	}
	e.call("GET", "/api/v1/stats?from=2026-11-01&to=2026-11-22", liToken, "", 200, &s)
	if s.Cases != 0 {
		t.Fatalf("range before the cases: %+v", s)
	}
	e.call("GET", "/api/v1/stats?from=2026-11-23&to=2026-11-23", liToken, "", 200, &s)
	if s.Cases != 2 {
		t.Fatalf("one day: %+v", s)
	}
	for _, q := range []string{"from=yesterday", "to=2026-13-01", "from=2026-11-24&to=2026-11-23", "from=23/11/2026"} {
		t.Run(q, func(t *testing.T) {
			var body apiError
			e.call("GET", "/api/v1/stats?"+q, liToken, "", 400, &body)
			if body.Error == "" {
				t.Fatal("400 without a reason")
			}
		})
	}
}

func TestAPI_Logs_NoTokensNoNumbers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.record("SM1", caselog.NewCase{Caller: "13800138000"})
	e.call("GET", "/api/v1/cases?caller=13800138000", liToken, "", 200, nil)
	e.call("GET", "/api/v1/cases?caller=13800138000x", liToken, "", 400, nil)
	e.do("GET", "/api/v1/cases?caller=13800138000", "wrong-"+liToken, "")
	logs := e.logs.String()
	if !strings.Contains(logs, "lookup") && !strings.Contains(logs, "/api/v1/cases") {
		t.Fatalf("requests not logged: %s", logs)
	}
	for _, secret := range []string{liToken, "13800138000", "0013 8000"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("log contains %q:\n%s", secret, logs)
		}
	}
}

func urlQuery(s string) string { return url.QueryEscape(s) }
