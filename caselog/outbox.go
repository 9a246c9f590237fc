package caselog

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Message states in the outbox.
const (
	MsgPending   = "pending"   // waiting for its time
	MsgSending   = "sending"   // handed to a sender; back to pending if its lease ends
	MsgSent      = "sent"      // the carrier accepted it (SID set)
	MsgFailed    = "failed"    // permanently refused; never retried
	MsgSkipped   = "skipped"   // not sent: the number opted out or cannot take SMS
	MsgDelivered = "delivered" // the carrier reported delivery
)

// Message is an outbound SMS.
type Message struct {
	ID        string           `json:"id"`
	To        string           `json:"to"`
	Body      string           `json:"body"`
	Case      string           `json:"case,omitempty"`
	Notice    NoticeType       `json:"notice,omitempty"`
	Lang      string           `json:"lang,omitempty"`
	Urgent    bool             `json:"urgent,omitempty"`
	State     string           `json:"state"`
	Attempts  int              `json:"attempts"`
	NextAt    time.Time        `json:"next_at"`
	SID       string           `json:"sid,omitempty"`
	Error     string           `json:"error,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	SentAt    time.Time        `json:"sent_at,omitzero"`
	Delivery  []DeliveryUpdate `json:"delivery,omitempty"`
}

// DeliveryUpdate is one carrier status callback for a sent message, kept in
// arrival order (several per message are normal).
type DeliveryUpdate struct {
	At        time.Time `json:"at"`
	Status    string    `json:"status"`
	ErrorCode string    `json:"error_code,omitempty"`
}

// Enqueue puts an SMS in the outbox, due at once. It is sent after the
// transaction commits, by whoever runs the sender.
func (tx *Tx) Enqueue(m Message) (Message, error) {
	b := tx.appendBucket(bOutbox)
	seq, err := b.NextSequence()
	if err != nil {
		return Message{}, fmt.Errorf("outbox: %w", err)
	}
	m.ID = strconv.FormatUint(seq, 10)
	m.State, m.Attempts, m.CreatedAt = MsgPending, 0, tx.now
	if m.NextAt.IsZero() {
		m.NextAt = tx.now
	}
	if err := tx.putMessage(seq, m, time.Time{}); err != nil {
		return Message{}, err
	}
	tx.queuedSMS = true
	if err := tx.gauge("outbox.pending", 1); err != nil {
		return Message{}, err
	}
	return m, nil
}

// notify composes the SMS for a notice and queues it; the composer may
// decline.
func (tx *Tx) notify(n Notice) error {
	if n.Case.Caller == "" {
		return nil
	}
	d, ok := tx.l.opts.Compose(n)
	if !ok || d.Body == "" {
		return nil
	}
	_, err := tx.Enqueue(Message{To: n.Case.Caller, Body: d.Body, Case: n.Case.Number, Notice: n.Type, Lang: n.Case.Lang, Urgent: d.Urgent})
	return err
}

func (tx *Tx) putMessage(seq uint64, m Message, oldNext time.Time) error {
	v, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode message %s: %w", m.ID, err)
	}
	if err := tx.appendBucket(bOutbox).Put(u64(seq), v); err != nil {
		return fmt.Errorf("write message %s: %w", m.ID, err)
	}
	q := tx.btx.Bucket(bOutQueue)
	if !oldNext.IsZero() {
		if err := q.Delete(queueKey(oldNext, seq)); err != nil {
			return fmt.Errorf("unqueue message %s: %w", m.ID, err)
		}
	}
	if m.State == MsgPending || m.State == MsgSending {
		if err := q.Put(queueKey(m.NextAt, seq), nil); err != nil {
			return fmt.Errorf("queue message %s: %w", m.ID, err)
		}
	}
	return nil
}

func queueKey(t time.Time, id uint64) []byte {
	k := make([]byte, 0, 16)
	k = binary.BigEndian.AppendUint64(k, uint64(t.UnixNano()))
	return binary.BigEndian.AppendUint64(k, id)
}

// Message reads one outbound message.
func (tx *Tx) Message(id string) (Message, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Message{}, fmt.Errorf("message %q: %w", id, ErrNotFound)
	}
	return tx.messageBySeq(seq)
}

func (tx *Tx) messageBySeq(seq uint64) (Message, error) {
	v := tx.appendBucket(bOutbox).Get(u64(seq))
	if v == nil {
		return Message{}, fmt.Errorf("message %d: %w", seq, ErrNotFound)
	}
	var m Message
	if err := json.Unmarshal(v, &m); err != nil {
		return Message{}, fmt.Errorf("read message %d: %w", seq, err)
	}
	return m, nil
}

// ClaimDue hands out up to limit messages whose time has come, in due
// order, and marks them sending until now+lease: a sender that dies mid-send
// leaves them to be picked up again when the lease ends.
func (tx *Tx) ClaimDue(limit int, lease time.Duration) ([]Message, error) {
	cur := tx.btx.Bucket(bOutQueue).Cursor()
	now := uint64(tx.now.UnixNano())
	var seqs []uint64
	for k, _ := cur.First(); k != nil && binary.BigEndian.Uint64(k[:8]) <= now && len(seqs) < limit; k, _ = cur.Next() {
		seqs = append(seqs, binary.BigEndian.Uint64(k[8:]))
	}
	out := make([]Message, 0, len(seqs))
	for _, seq := range seqs {
		m, err := tx.messageBySeq(seq)
		if err != nil {
			return nil, err
		}
		old := m.NextAt
		m.State, m.NextAt = MsgSending, tx.now.Add(lease)
		if err := tx.putMessage(seq, m, old); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// NextDue is when the earliest queued message falls due (zero: none queued).
func (tx *Tx) NextDue() time.Time {
	k, _ := tx.btx.Bucket(bOutQueue).Cursor().First()
	if k == nil {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
}

// SendOutcome is what happened to one send attempt.
type SendOutcome struct {
	SID       string    // carrier id when accepted
	State     string    // MsgSent, MsgFailed, MsgSkipped, or MsgPending to retry
	Error     string    // reason for failed, skipped or retry
	RetryAt   time.Time // for MsgPending
	NoAttempt bool      // deferred without a send (quiet hours): attempts unchanged
}

// Settle records the outcome of a send attempt for message id.
func (tx *Tx) Settle(id string, o SendOutcome) (Message, error) {
	seq, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return Message{}, fmt.Errorf("message %q: %w", id, ErrNotFound)
	}
	m, err := tx.messageBySeq(seq)
	if err != nil {
		return Message{}, err
	}
	if m.State != MsgPending && m.State != MsgSending {
		// Already settled (a duplicate settle after a lease expiry): keep the first.
		return m, nil
	}
	old := m.NextAt
	if !o.NoAttempt {
		m.Attempts++
	}
	m.State, m.Error = o.State, o.Error
	switch o.State {
	case MsgSent:
		m.SID, m.SentAt = o.SID, tx.now
		if o.SID != "" {
			if err := tx.btx.Bucket(bOutSID).Put([]byte(o.SID), u64(seq)); err != nil {
				return Message{}, fmt.Errorf("index message sid: %w", err)
			}
		}
	case MsgPending:
		m.NextAt = o.RetryAt
	case MsgFailed, MsgSkipped:
	default:
		return Message{}, fmt.Errorf("settle state %q: %w", o.State, ErrInvalid)
	}
	if err := tx.putMessage(seq, m, old); err != nil {
		return Message{}, err
	}
	if m.State != MsgPending {
		if err := tx.gauge("outbox.pending", -1); err != nil {
			return Message{}, err
		}
		if m.State == MsgFailed {
			if err := tx.count(dayKey(tx.now, tx.l.opts.Calendar.loc()), "sms.failed", 1); err != nil {
				return Message{}, err
			}
		}
	}
	if m.Case != "" && m.State != MsgPending {
		e := Event{Actor: "system", Type: EventSMS, Note: m.Body, Detail: map[string]string{"state": m.State, "message": m.ID}}
		if m.Error != "" {
			e.Detail["error"] = m.Error
		}
		if m.SID != "" {
			e.Detail["sid"] = m.SID
		}
		if _, err := tx.AddEvent(m.Case, e); err != nil {
			return Message{}, err
		}
	}
	return m, nil
}

// Delivery records a carrier status callback for the message with that sid.
func (tx *Tx) Delivery(sid string, u DeliveryUpdate) (Message, error) {
	v := tx.btx.Bucket(bOutSID).Get([]byte(sid))
	if v == nil {
		return Message{}, fmt.Errorf("message sid %q: %w", sid, ErrNotFound)
	}
	seq := binary.BigEndian.Uint64(v)
	m, err := tx.messageBySeq(seq)
	if err != nil {
		return Message{}, err
	}
	if u.At.IsZero() {
		u.At = tx.now
	}
	m.Delivery = append(m.Delivery, u)
	switch u.Status {
	case "delivered":
		m.State = MsgDelivered
	case "undelivered", "failed":
		m.State, m.Error = MsgFailed, "carrier: "+u.Status+" "+u.ErrorCode
	}
	return m, tx.putMessage(seq, m, time.Time{})
}

// Outbox lists messages newest first from the message before "before" (""
// for the newest), at most limit.
func (tx *Tx) Outbox(before string, limit int) ([]Message, error) {
	return newestFirst[Message](tx.btx.Bucket(bOutbox), before, limit)
}

// OutboxDepth counts messages waiting to be sent (from a counter).
func (tx *Tx) OutboxDepth() int64 { return tx.gaugeValue("outbox.pending") }

// OldestQueued is the due time of the first queued message (zero: none).
func (tx *Tx) OldestQueued() time.Time { return tx.NextDue() }
