package caselog

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Callback states.
const (
	CBWaiting = "waiting"
	CBDone    = "done"   // reached, wrong number or cancelled
	CBFailed  = "failed" // attempts used up
)

// Outcomes of a callback attempt.
const (
	OutcomeReached     = "reached"
	OutcomeNoAnswer    = "no_answer"
	OutcomeWrongNumber = "wrong_number"
	OutcomeCancelled   = "cancelled"
)

// Outcomes lists the outcomes Complete accepts.
var Outcomes = []string{OutcomeReached, OutcomeNoAnswer, OutcomeWrongNumber, OutcomeCancelled}

// Priorities: higher is called first.
const (
	PriorityNormal = 0
	PriorityHigh   = 10 // reports and overdue complaints
)

// Callback is an entry of the callback queue.
type Callback struct {
	ID          string            `json:"id"`
	Case        string            `json:"case,omitempty"`
	Caller      string            `json:"caller"`
	Reason      string            `json:"reason"`
	Priority    int               `json:"priority"`
	Lang        string            `json:"lang"`
	State       string            `json:"state"`
	Attempts    int               `json:"attempts"`
	MaxAttempts int               `json:"max_attempts"`
	DueAt       time.Time         `json:"due_at"`
	ClaimedBy   string            `json:"claimed_by"`
	LeaseUntil  time.Time         `json:"lease_until,omitzero"`
	Outcome     string            `json:"outcome,omitempty"`
	CreatedAt   time.Time         `json:"created_at"`
	UpdatedAt   time.Time         `json:"updated_at"`
	History     []CallbackAttempt `json:"history,omitempty"`
	Overdue     bool              `json:"overdue,omitempty"` // the linked case is past due (set on read)
}

// CallbackAttempt is one completed try.
type CallbackAttempt struct {
	At      time.Time `json:"at"`
	Agent   string    `json:"agent"`
	Outcome string    `json:"outcome"`
	Note    string    `json:"note,omitempty"`
}

// NewCallback asks for a call back.
type NewCallback struct {
	Caller   string
	Case     string
	Reason   string // e.g. "requested", "abandoned", "no_staff", or free text
	Priority int
	Lang     string
	DueAt    time.Time // zero: now
}

// EnqueueCallback adds an entry to the callback queue.
func (tx *Tx) EnqueueCallback(nc NewCallback) (Callback, error) {
	b := tx.appendBucket(bCallbacks)
	seq, err := b.NextSequence()
	if err != nil {
		return Callback{}, fmt.Errorf("callback queue: %w", err)
	}
	caller := nc.Caller
	if n, err := tx.l.NormalizeCaller(caller); err == nil {
		caller = n
	}
	cb := Callback{
		ID: strconv.FormatUint(seq, 10), Case: nc.Case, Caller: caller, Reason: nc.Reason,
		Priority: nc.Priority, Lang: nc.Lang, State: CBWaiting, MaxAttempts: tx.l.opts.MaxCallbackAttempts,
		DueAt: nc.DueAt, CreatedAt: tx.now, UpdatedAt: tx.now,
	}
	if cb.DueAt.IsZero() {
		cb.DueAt = tx.now
	}
	if err := tx.putCallback(seq, cb); err != nil {
		return Callback{}, err
	}
	if err := tx.btx.Bucket(bCBQueue).Put(u64(seq), nil); err != nil {
		return Callback{}, fmt.Errorf("queue callback %s: %w", cb.ID, err)
	}
	if err := tx.count(dayKey(tx.now, tx.l.opts.Calendar.loc()), "callbacks", 1); err != nil {
		return Callback{}, err
	}
	if cb.Case != "" {
		if _, err := tx.AddEvent(cb.Case, Event{Actor: "system", Type: EventCallback, Note: cb.Reason, Detail: map[string]string{"callback": cb.ID, "state": "queued"}}); err != nil {
			return Callback{}, err
		}
	}
	return cb, nil
}

func (tx *Tx) putCallback(seq uint64, cb Callback) error {
	cb.Overdue = false
	v, err := json.Marshal(cb)
	if err != nil {
		return fmt.Errorf("encode callback %s: %w", cb.ID, err)
	}
	if err := tx.appendBucket(bCallbacks).Put(u64(seq), v); err != nil {
		return fmt.Errorf("write callback %s: %w", cb.ID, err)
	}
	return nil
}

// Callback reads one entry; an expired lease reads as unclaimed.
func (tx *Tx) Callback(id string) (Callback, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Callback{}, fmt.Errorf("callback %q: %w", id, ErrNotFound)
	}
	return tx.callbackBySeq(seq)
}

func (tx *Tx) callbackBySeq(seq uint64) (Callback, error) {
	v := tx.appendBucket(bCallbacks).Get(u64(seq))
	if v == nil {
		return Callback{}, fmt.Errorf("callback %d: %w", seq, ErrNotFound)
	}
	var cb Callback
	if err := json.Unmarshal(v, &cb); err != nil {
		return Callback{}, fmt.Errorf("read callback %d: %w", seq, err)
	}
	if cb.ClaimedBy != "" && !tx.now.Before(cb.LeaseUntil) {
		cb.ClaimedBy, cb.LeaseUntil = "", time.Time{}
	}
	return cb, nil
}

// Callbacks lists the waiting entries in working order: higher priority
// first (a linked case that is overdue raises an entry to high), then the
// earliest due.
func (tx *Tx) Callbacks() ([]Callback, error) {
	cur := tx.btx.Bucket(bCBQueue).Cursor()
	var out []Callback
	for k, _ := cur.First(); k != nil; k, _ = cur.Next() {
		cb, err := tx.callbackBySeq(beU64(k))
		if err != nil {
			return nil, err
		}
		if cb.Case != "" {
			if c, err := tx.Case(cb.Case); err == nil && c.Overdue(tx.now) {
				cb.Overdue = true
				cb.Priority = max(cb.Priority, PriorityHigh)
			}
		}
		out = append(out, cb)
	}
	slices.SortStableFunc(out, func(a, b Callback) int {
		if a.Priority != b.Priority {
			return b.Priority - a.Priority
		}
		return a.DueAt.Compare(b.DueAt)
	})
	return out, nil
}

// CallbackDepth counts waiting entries and reports the oldest one's creation.
func (tx *Tx) CallbackDepth() (n int, oldest time.Time) {
	b := tx.btx.Bucket(bCBQueue)
	n = b.Stats().KeyN
	if k, _ := b.Cursor().First(); k != nil {
		if cb, err := tx.callbackBySeq(beU64(k)); err == nil {
			oldest = cb.CreatedAt
		}
	}
	return n, oldest
}

// Claim gives agent the entry for lease. Exactly one of any number of
// concurrent claims wins (steps are serialised by the write transaction);
// the others get ErrClaimed. The holder may claim again to renew.
func (tx *Tx) Claim(id, agent string, lease time.Duration) (Callback, error) {
	if agent == "" {
		return Callback{}, fmt.Errorf("claim callback %s: agent missing: %w", id, ErrInvalid)
	}
	cb, seq, err := tx.openCallback(id)
	if err != nil {
		return Callback{}, err
	}
	if cb.ClaimedBy != "" && cb.ClaimedBy != agent {
		return cb, fmt.Errorf("callback %s held by %s until %s: %w", id, cb.ClaimedBy, cb.LeaseUntil.Format(time.RFC3339), ErrClaimed)
	}
	cb.ClaimedBy, cb.LeaseUntil, cb.UpdatedAt = agent, tx.now.Add(lease), tx.now
	return cb, tx.putCallback(seq, cb)
}

// Release gives a claimed entry back to the queue.
func (tx *Tx) Release(id, agent string) (Callback, error) {
	cb, seq, err := tx.openCallback(id)
	if err != nil {
		return Callback{}, err
	}
	if cb.ClaimedBy != "" && cb.ClaimedBy != agent {
		return cb, fmt.Errorf("callback %s held by %s: %w", id, cb.ClaimedBy, ErrClaimed)
	}
	cb.ClaimedBy, cb.LeaseUntil, cb.UpdatedAt = "", time.Time{}, tx.now
	return cb, tx.putCallback(seq, cb)
}

func (tx *Tx) openCallback(id string) (Callback, uint64, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Callback{}, 0, fmt.Errorf("callback %q: %w", id, ErrNotFound)
	}
	cb, err := tx.callbackBySeq(seq)
	if err != nil {
		return Callback{}, 0, err
	}
	if cb.State != CBWaiting {
		return cb, 0, fmt.Errorf("callback %s is %s: %w", id, cb.State, ErrDone)
	}
	return cb, seq, nil
}

// Complete records the outcome of an attempt. An unanswered call goes back
// to the queue after a delay that grows with each attempt, until the
// attempts are used up; then the entry fails and the consumer is told by SMS
// that we tried. An entry another agent holds is ErrClaimed.
func (tx *Tx) Complete(id, agent, outcome, note string) (Callback, error) {
	if !slices.Contains(Outcomes, outcome) {
		return Callback{}, fmt.Errorf("outcome %q (want one of %v): %w", outcome, Outcomes, ErrInvalid)
	}
	cb, seq, err := tx.openCallback(id)
	if err != nil {
		return Callback{}, err
	}
	if cb.ClaimedBy != "" && cb.ClaimedBy != agent {
		return cb, fmt.Errorf("callback %s held by %s: %w", id, cb.ClaimedBy, ErrClaimed)
	}
	cb.Attempts++
	cb.History = append(cb.History, CallbackAttempt{At: tx.now, Agent: agent, Outcome: outcome, Note: note})
	cb.ClaimedBy, cb.LeaseUntil, cb.UpdatedAt, cb.Outcome = "", time.Time{}, tx.now, outcome
	day := dayKey(tx.now, tx.l.opts.Calendar.loc())
	finished := true
	switch outcome {
	case OutcomeNoAnswer:
		if cb.Attempts < cb.MaxAttempts {
			finished = false
			cb.DueAt = tx.now.Add(time.Duration(cb.Attempts) * tx.l.opts.CallbackRetryDelay)
		} else {
			cb.State = CBFailed
		}
	case OutcomeReached:
		cb.State = CBDone
		err = tx.count(day, "callbacks.reached", 1)
	default:
		cb.State = CBDone
	}
	if err != nil {
		return Callback{}, err
	}
	if finished {
		if err := tx.btx.Bucket(bCBQueue).Delete(u64(seq)); err != nil {
			return Callback{}, fmt.Errorf("unqueue callback %s: %w", id, err)
		}
		if outcome != OutcomeCancelled {
			if err := tx.count(day, "callbacks.finished", 1); err != nil {
				return Callback{}, err
			}
		}
	}
	if cb.Case != "" {
		e := Event{Actor: agent, Type: EventCallback, Note: note, Detail: map[string]string{"callback": cb.ID, "outcome": outcome, "attempt": strconv.Itoa(cb.Attempts)}}
		if _, err := tx.AddEvent(cb.Case, e); err != nil {
			return Callback{}, err
		}
	}
	if cb.State == CBFailed {
		c := Case{Number: cb.Case, Caller: cb.Caller, Lang: cb.Lang}
		if cb.Case != "" {
			if got, err := tx.Case(cb.Case); err == nil {
				c = got
			}
		}
		if err := tx.notify(Notice{Type: NoticeCallbackFailed, Case: c}); err != nil {
			return Callback{}, err
		}
	}
	return cb, tx.putCallback(seq, cb)
}

func beU64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}
