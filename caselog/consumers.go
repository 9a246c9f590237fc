package caselog

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// OptOut is a number that asked for no more SMS.
type OptOut struct {
	Caller string    `json:"caller"`
	Since  time.Time `json:"since"`
	Source string    `json:"source,omitempty"`
}

// SetOptOut adds (out true) or removes a number from the opt-out list.
func (tx *Tx) SetOptOut(caller string, out bool, source string) error {
	n, err := tx.l.NormalizeCaller(caller)
	if err != nil {
		n = caller // a short code or alphanumeric sender still gets its wish
	}
	b := tx.btx.Bucket(bOptOut)
	if !out {
		return b.Delete([]byte(n))
	}
	v, err := json.Marshal(OptOut{Caller: n, Since: tx.now, Source: source})
	if err != nil {
		return fmt.Errorf("encode opt-out: %w", err)
	}
	return b.Put([]byte(n), v)
}

// OptedOut reports whether the number receives no outbound SMS.
func (tx *Tx) OptedOut(caller string) bool {
	n, err := tx.l.NormalizeCaller(caller)
	if err != nil {
		n = caller
	}
	return tx.btx.Bucket(bOptOut).Get([]byte(n)) != nil
}

// ratingWindow is how long a consumer may answer a satisfaction question.
const ratingWindow = 7 * 24 * time.Hour

type pendingRating struct {
	Case    string    `json:"case"`
	AskedAt time.Time `json:"asked_at"`
}

// askRating queues the satisfaction question for a finished case and
// remembers that its caller may answer.
func (tx *Tx) askRating(c Case) error {
	if c.Caller == "" || c.Rating != 0 {
		return nil
	}
	v, err := json.Marshal(pendingRating{Case: c.Number, AskedAt: tx.now})
	if err != nil {
		return fmt.Errorf("encode rating request: %w", err)
	}
	if err := tx.btx.Bucket(bRatings).Put([]byte(c.Caller), v); err != nil {
		return fmt.Errorf("store rating request: %w", err)
	}
	return tx.notify(Notice{Type: NoticeRatingRequest, Case: c})
}

// RatingPending returns the case a number was asked to rate in the last
// seven days, or "".
func (tx *Tx) RatingPending(caller string) string {
	n, err := tx.l.NormalizeCaller(caller)
	if err != nil {
		return ""
	}
	v := tx.btx.Bucket(bRatings).Get([]byte(n))
	if v == nil {
		return ""
	}
	var p pendingRating
	if json.Unmarshal(v, &p) != nil || tx.now.Sub(p.AskedAt) > ratingWindow {
		return ""
	}
	return p.Case
}

// Rate stores a 1-5 satisfaction answer on the case the number was last
// asked about.
func (tx *Tx) Rate(caller string, rating int) (Case, error) {
	if rating < 1 || rating > 5 {
		return Case{}, fmt.Errorf("rating %d: %w", rating, ErrInvalid)
	}
	number := tx.RatingPending(caller)
	if number == "" {
		return Case{}, ErrNoRatingPending
	}
	seq, c, err := tx.load(number)
	if err != nil {
		return Case{}, err
	}
	c.Rating = rating
	if err := tx.appendEvent(&c, Event{Actor: "consumer", Type: EventRating, Note: strconv.Itoa(rating)}); err != nil {
		return Case{}, err
	}
	n, _ := tx.l.NormalizeCaller(caller)
	if err := tx.btx.Bucket(bRatings).Delete([]byte(n)); err != nil {
		return Case{}, fmt.Errorf("clear rating request: %w", err)
	}
	day := dayKey(tx.now, tx.l.opts.Calendar.loc())
	if err := tx.count(day, "ratings", 1); err != nil {
		return Case{}, err
	}
	if err := tx.count(day, "ratings.sum", int64(rating)); err != nil {
		return Case{}, err
	}
	return c, tx.putCase(seq, c)
}

// Contact is one inbound message or call leg as the carrier delivered it.
// Every inbound SMS is kept as a contact, whatever else it did.
type Contact struct {
	ID      string    `json:"id"`
	Key     string    `json:"key"` // carrier id
	Caller  string    `json:"caller"`
	Channel Channel   `json:"channel"`
	Body    string    `json:"body,omitempty"`
	Media   []Media   `json:"media,omitempty"`
	Command string    `json:"command,omitempty"`
	Case    string    `json:"case,omitempty"`
	At      time.Time `json:"at"`
}

// LogContact stores an inbound contact.
func (tx *Tx) LogContact(c Contact) (Contact, error) {
	b := tx.appendBucket(bContacts)
	seq, err := b.NextSequence()
	if err != nil {
		return Contact{}, fmt.Errorf("contacts: %w", err)
	}
	c.ID, c.At = strconv.FormatUint(seq, 10), tx.now
	if n, err := tx.l.NormalizeCaller(c.Caller); err == nil {
		c.Caller = n
	}
	v, err := json.Marshal(c)
	if err != nil {
		return Contact{}, fmt.Errorf("encode contact: %w", err)
	}
	if err := b.Put(u64(seq), v); err != nil {
		return Contact{}, fmt.Errorf("write contact: %w", err)
	}
	return c, tx.count(dayKey(tx.now, tx.l.opts.Calendar.loc()), "contacts."+string(c.Channel), 1)
}

// Contact reads one stored inbound contact.
func (tx *Tx) Contact(id string) (Contact, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Contact{}, fmt.Errorf("contact %q: %w", id, ErrNotFound)
	}
	v := tx.appendBucket(bContacts).Get(u64(seq))
	if v == nil {
		return Contact{}, fmt.Errorf("contact %s: %w", id, ErrNotFound)
	}
	var c Contact
	if err := json.Unmarshal(v, &c); err != nil {
		return Contact{}, fmt.Errorf("read contact %s: %w", id, err)
	}
	return c, nil
}

// Call is what the voice line keeps about one call (by CallSid) between
// webhooks: enough to know at the end whether it was abandoned.
type Call struct {
	SID       string            `json:"sid"`
	Caller    string            `json:"caller"`
	Lang      string            `json:"lang,omitempty"`
	StartedAt time.Time         `json:"started_at"`
	EndedAt   time.Time         `json:"ended_at,omitzero"`
	Case      string            `json:"case,omitempty"`
	Node      string            `json:"node,omitempty"`
	Outcome   string            `json:"outcome,omitempty"` // case, transferred, callback, abandoned…
	Status    string            `json:"status,omitempty"`  // the carrier's last CallStatus
	Data      map[string]string `json:"data,omitempty"`
}

// Call reads a call record; ok is false when there is none.
func (tx *Tx) Call(sid string) (Call, bool, error) {
	v := tx.btx.Bucket(bCalls).Get([]byte(sid))
	if v == nil {
		return Call{}, false, nil
	}
	var c Call
	if err := json.Unmarshal(v, &c); err != nil {
		return Call{}, false, fmt.Errorf("read call %s: %w", sid, err)
	}
	return c, true, nil
}

// PutCall writes a call record.
func (tx *Tx) PutCall(c Call) error {
	if c.SID == "" {
		return fmt.Errorf("call without sid: %w", ErrInvalid)
	}
	v, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode call %s: %w", c.SID, err)
	}
	if err := tx.btx.Bucket(bCalls).Put([]byte(c.SID), v); err != nil {
		return fmt.Errorf("write call %s: %w", c.SID, err)
	}
	return nil
}
