package staff

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hotline/hotline/caselog"
)

// maxBody bounds a request body; the largest legitimate one is a
// transition with a note.
const maxBody = 64 << 10

// Audit actions.
const (
	auditLookup = "lookup_caller"
	auditView   = "view_case"
)

// lookup returns a caller's cases newest first and writes the audit entry
// in the same transaction: a look-up is shown only once its entry commits.
func (h *Handler) lookup(ctx context.Context, who staff, raw string, limit int) ([]caselog.Case, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("caller missing: give ?caller= a phone number in any written form: %w", errBadRequest)
	}
	n, err := h.log.NormalizeCaller(raw)
	if err != nil {
		return nil, err
	}
	var cs []caselog.Case
	err = h.log.Update(ctx, func(tx *caselog.Tx) error {
		var err error
		if cs, err = tx.ByCaller(n, limit); err != nil {
			return err
		}
		return tx.Audit(who.Name, auditLookup, n)
	})
	if err != nil {
		return nil, err
	}
	if cs == nil {
		cs = []caselog.Case{}
	}
	return cs, nil
}

// viewCase reads a case with its history and audits the view, in one
// transaction.
func (h *Handler) viewCase(ctx context.Context, who staff, number string) (caselog.Case, error) {
	if !caselog.Valid(number) {
		return caselog.Case{}, badNumber(number)
	}
	var c caselog.Case
	err := h.log.Update(ctx, func(tx *caselog.Tx) error {
		var err error
		if c, err = tx.CaseWithEvents(number); err != nil {
			return err
		}
		return tx.Audit(who.Name, auditView, number)
	})
	return c, err
}

// moveRequest is the body of a transition.
type moveRequest struct {
	Status     string `json:"status"`
	Note       string `json:"note"`
	Department string `json:"department"`
	Reason     string `json:"reason"`
	Referral   string `json:"referral"`
}

// transition checks a requested move's status and makes it the case log's
// Transition, with the staff member as its actor.
func (r moveRequest) transition(who staff) (caselog.Transition, error) {
	st := caselog.Status(strings.TrimSpace(r.Status))
	if !slices.Contains(caselog.Statuses, st) {
		valid := make([]string, len(caselog.Statuses))
		for i, s := range caselog.Statuses {
			valid[i] = string(s)
		}
		return caselog.Transition{}, &validError{msg: fmt.Sprintf("status %q is not a status; valid: %s", r.Status, strings.Join(valid, ", ")), valid: valid}
	}
	return caselog.Transition{
		To: st, Actor: who.Name, Note: strings.TrimSpace(r.Note), Department: strings.TrimSpace(r.Department),
		Reason: strings.TrimSpace(r.Reason), Referral: strings.TrimSpace(r.Referral),
	}, nil
}

// move applies a staff decision; the case log queues the status SMS in the
// same step.
func (h *Handler) move(ctx context.Context, who staff, number string, r moveRequest) (caselog.Case, error) {
	if !caselog.Valid(number) {
		return caselog.Case{}, badNumber(number)
	}
	t, err := r.transition(who)
	if err != nil {
		return caselog.Case{}, err
	}
	return h.log.Move(ctx, number, t)
}

// callbackRequest is the body of claim, release and complete; all fields
// are optional except the outcome of complete.
type callbackRequest struct {
	Agent   string `json:"agent"`
	Outcome string `json:"outcome"`
	Note    string `json:"note"`
}

func (r callbackRequest) agent(who staff) string {
	if a := strings.TrimSpace(r.Agent); a != "" {
		return a
	}
	return who.Name
}

func checkOutcome(o string) error {
	if slices.Contains(caselog.Outcomes, o) {
		return nil
	}
	return &validError{
		msg:   fmt.Sprintf("outcome %q is not an outcome; valid: %s", o, strings.Join(caselog.Outcomes, ", ")),
		valid: slices.Clone(caselog.Outcomes),
	}
}

// callbackVerb runs claim, release or complete.
func (h *Handler) callbackVerb(ctx context.Context, who staff, id, verb string, r callbackRequest) (caselog.Callback, error) {
	agent := r.agent(who)
	if verb == "complete" && strings.TrimSpace(r.Agent) == "" {
		// The contract's complete carries only the outcome. A desk that
		// claimed for a named agent completes for that agent; another
		// token still meets the holder's claim (409).
		h.claimMu.Lock()
		via := h.claimedVia[id]
		h.claimMu.Unlock()
		if cb, err := h.log.Callback(id); err == nil && cb.ClaimedBy != "" && via == who.Name {
			agent = cb.ClaimedBy
		}
	}
	switch verb {
	case "claim":
		cb, err := h.log.Claim(ctx, id, agent, h.lease)
		if err == nil {
			h.claimMu.Lock()
			if h.claimedVia == nil || len(h.claimedVia) > 10000 {
				h.claimedVia = map[string]string{} // a bounded memory, not a record
			}
			h.claimedVia[id] = who.Name
			h.claimMu.Unlock()
		}
		return cb, err
	case "release":
		return h.log.Release(ctx, id, agent)
	case "complete":
		if err := checkOutcome(r.Outcome); err != nil {
			return caselog.Callback{}, err
		}
		return h.log.Complete(ctx, id, agent, r.Outcome, strings.TrimSpace(r.Note))
	}
	return caselog.Callback{}, fmt.Errorf("callback action %q: %w", verb, errNoRoute)
}

// decode reads a JSON body into v. An empty body leaves v as it is (every
// field optional); anything that is not one JSON object is a 400.
func decode(c *gin.Context, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxBody))
	if err != nil {
		return fmt.Errorf("read body (at most %d bytes): %w", maxBody, errBadRequest)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed JSON body: %v: %w", err, errBadRequest)
	}
	if dec.More() {
		return fmt.Errorf("malformed JSON body: more than one value: %w", errBadRequest)
	}
	return nil
}

func (h *Handler) listCases(c *gin.Context) {
	limit := 100
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			h.fail(c, fmt.Errorf("limit %q: want 1 to 1000: %w", s, errBadRequest))
			return
		}
		limit = n
	}
	cs, err := h.lookup(c.Request.Context(), actor(c), c.Query("caller"), limit)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.respond(c, http.StatusOK, gin.H{"cases": cs})
}

func (h *Handler) getCase(c *gin.Context) {
	cs, err := h.viewCase(c.Request.Context(), actor(c), c.Param("number"))
	if err != nil {
		h.fail(c, err)
		return
	}
	h.respond(c, http.StatusOK, withEvents(cs))
}

func (h *Handler) moveCase(c *gin.Context) {
	var req moveRequest
	if err := decode(c, &req); err != nil {
		h.fail(c, err)
		return
	}
	cs, err := h.move(c.Request.Context(), actor(c), c.Param("number"), req)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.respond(c, http.StatusOK, withEvents(cs))
}

// withEvents makes sure "events" is in the case JSON, as the contract
// says, even for a case whose history is empty.
func withEvents(c caselog.Case) caselog.Case {
	if c.Events == nil {
		c.Events = []caselog.Event{}
	}
	return c
}

func (h *Handler) listCallbacks(c *gin.Context) {
	cbs, err := h.log.Callbacks()
	if err != nil {
		h.fail(c, err)
		return
	}
	if cbs == nil {
		cbs = []caselog.Callback{}
	}
	h.respond(c, http.StatusOK, gin.H{"callbacks": cbs})
}

func (h *Handler) claimCallback(c *gin.Context)    { h.callbackAPI(c, "claim") }
func (h *Handler) releaseCallback(c *gin.Context)  { h.callbackAPI(c, "release") }
func (h *Handler) completeCallback(c *gin.Context) { h.callbackAPI(c, "complete") }

func (h *Handler) callbackAPI(c *gin.Context, verb string) {
	var req callbackRequest
	if err := decode(c, &req); err != nil {
		h.fail(c, err)
		return
	}
	cb, err := h.callbackVerb(c.Request.Context(), actor(c), c.Param("id"), verb, req)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.respond(c, http.StatusOK, cb)
}

// statsResponse is caselog.Stats with the range it covers.
type statsResponse struct {
	From string `json:"from"`
	To   string `json:"to"`
	caselog.Stats
}

func (h *Handler) stats(c *gin.Context) {
	from, to, err := h.dateRange(c.Query("from"), c.Query("to"))
	if err != nil {
		h.fail(c, err)
		return
	}
	var s caselog.Stats
	err = h.log.View(func(tx *caselog.Tx) error {
		var err error
		s, err = tx.Stats(from, to)
		return err
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	h.respond(c, http.StatusOK, statsResponse{From: from.Format(time.DateOnly), To: to.Format(time.DateOnly), Stats: s})
}

// dateRange reads a from..to range of local dates; by default the last
// seven days, today included.
func (h *Handler) dateRange(fromS, toS string) (from, to time.Time, err error) {
	today := h.now().In(h.loc)
	to = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, h.loc)
	if toS != "" {
		if to, err = time.ParseInLocation(time.DateOnly, toS, h.loc); err != nil {
			return from, to, fmt.Errorf("to %q: want a date YYYY-MM-DD: %w", toS, errBadRequest)
		}
	}
	from = to.AddDate(0, 0, -6)
	if fromS != "" {
		if from, err = time.ParseInLocation(time.DateOnly, fromS, h.loc); err != nil {
			return from, to, fmt.Errorf("from %q: want a date YYYY-MM-DD: %w", fromS, errBadRequest)
		}
	}
	if from.After(to) {
		return from, to, fmt.Errorf("from %s is after to %s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), errBadRequest)
	}
	return from, to, nil
}

func (h *Handler) auditTrail(c *gin.Context) {
	limit := 100
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			h.fail(c, fmt.Errorf("limit %q: want 1 to 1000: %w", s, errBadRequest))
			return
		}
		limit = n
	}
	var entries []caselog.AuditEntry
	err := h.log.View(func(tx *caselog.Tx) error {
		var err error
		entries, err = tx.AuditTrail(c.Query("before"), limit)
		return err
	})
	if err != nil {
		h.fail(c, err)
		return
	}
	if entries == nil {
		entries = []caselog.AuditEntry{}
	}
	resp := gin.H{"audit": entries}
	if len(entries) == limit {
		resp["next"] = entries[len(entries)-1].ID
	}
	h.respond(c, http.StatusOK, resp)
}
