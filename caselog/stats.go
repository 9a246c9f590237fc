package caselog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Counters live in the stats bucket under day|metric, written in the same
// transaction as the change they count, so a report over a date range reads
// a few keys per day and never walks the cases.

func dayKey(t time.Time, loc *time.Location) string { return t.In(loc).Format("20060102") }

// gaugeDay is where counters that are not per day (outbox depth) live.
const gaugeDay = "00000000"

func (tx *Tx) count(day, metric string, delta int64) error {
	if tx.counts == nil {
		return fmt.Errorf("count %s: %w", metric, errReadOnly)
	}
	tx.counts[day+metric] += delta
	return nil
}

var errReadOnly = errors.New("counter changed in a read-only transaction")

func flushCounts(btx *bolt.Tx, counts map[string]int64) error {
	b := btx.Bucket(bStats)
	for key, delta := range counts {
		if delta == 0 {
			continue
		}
		k := []byte(key)
		var v int64
		if cur := b.Get(k); len(cur) == 8 {
			v = int64(binary.BigEndian.Uint64(cur))
		}
		if err := b.Put(k, u64(uint64(v+delta))); err != nil {
			return fmt.Errorf("count %s: %w", key[8:], err)
		}
	}
	return nil
}

// Count adds delta to a per-day counter (the voice line counts calls).
func (tx *Tx) Count(metric string, delta int64) error {
	return tx.count(dayKey(tx.now, tx.l.opts.Calendar.loc()), metric, delta)
}

func (tx *Tx) gauge(metric string, delta int64) error { return tx.count(gaugeDay, metric, delta) }

func (tx *Tx) gaugeValue(metric string) int64 {
	n := tx.counts[gaugeDay+metric] // not yet flushed in this batch
	if v := tx.btx.Bucket(bStats).Get([]byte(gaugeDay + metric)); len(v) == 8 {
		n += int64(binary.BigEndian.Uint64(v))
	}
	return n
}

func (tx *Tx) sample(day, metric string, v uint64) error {
	b := tx.appendBucket(bSamples)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("sample %s: %w", metric, err)
	}
	k := append([]byte(metric+"\x00"+day), u64(seq)...)
	if err := b.Put(k, u64(v)); err != nil {
		return fmt.Errorf("sample %s: %w", metric, err)
	}
	return nil
}

// Stats are the quality figures a hotline reports upward, for cases opened
// (and events that happened) in a date range.
type Stats struct {
	From, To          string           `json:"-"`
	Cases             int64            `json:"cases"`
	ByKind            map[string]int64 `json:"by_kind"`
	ByChannel         map[string]int64 `json:"by_channel"`
	ByStatus          map[string]int64 `json:"by_status"`
	Overdue           int              `json:"overdue"`
	MedianAcceptHours float64          `json:"median_accept_hours"`
	MedianResolveDays float64          `json:"median_resolve_days"`
	CallsIn           int64            `json:"calls_in"`
	CallsAnswered     int64            `json:"calls_answered"`
	CallsAbandoned    int64            `json:"calls_abandoned"`
	AnswerRate        float64          `json:"answer_rate"`
	Callbacks         int64            `json:"callbacks"`
	CallbacksFinished int64            `json:"callbacks_finished"`
	CallbacksReached  int64            `json:"callbacks_reached"`
	CallbackSuccess   float64          `json:"callback_success_rate"`
	Ratings           int64            `json:"ratings"`
	AverageRating     float64          `json:"average_rating"`
	SMSIn             int64            `json:"sms_in"`
	SMSFailed         int64            `json:"sms_failed"`
	Counters          map[string]int64 `json:"counters"`
}

// Stats reads the figures for the local days from..to (inclusive).
func (tx *Tx) Stats(from, to time.Time) (Stats, error) {
	loc := tx.l.opts.Calendar.loc()
	lo, hi := dayKey(from, loc), dayKey(to, loc)
	if lo > hi {
		return Stats{}, fmt.Errorf("date range %s..%s: %w", lo, hi, ErrInvalid)
	}
	s := Stats{From: lo, To: hi, ByKind: map[string]int64{}, ByChannel: map[string]int64{}, ByStatus: map[string]int64{}, Counters: map[string]int64{}}
	cur := tx.btx.Bucket(bStats).Cursor()
	for k, v := cur.Seek([]byte(lo)); k != nil && string(k[:8]) <= hi; k, v = cur.Next() {
		if len(v) != 8 {
			continue
		}
		s.Counters[string(k[8:])] += int64(binary.BigEndian.Uint64(v))
	}
	for m, n := range s.Counters {
		switch {
		case m == "cases":
			s.Cases = n
		case strings.HasPrefix(m, "cases.kind."):
			s.ByKind[strings.TrimPrefix(m, "cases.kind.")] = n
		case strings.HasPrefix(m, "cases.channel."):
			s.ByChannel[strings.TrimPrefix(m, "cases.channel.")] = n
		case strings.HasPrefix(m, "cases.status."):
			if n != 0 {
				s.ByStatus[strings.TrimPrefix(m, "cases.status.")] = n
			}
		}
	}
	c := s.Counters
	s.CallsIn, s.CallsAnswered, s.CallsAbandoned = c["calls.in"], c["calls.answered"], c["calls.abandoned"]
	s.Callbacks, s.CallbacksFinished, s.CallbacksReached = c["callbacks"], c["callbacks.finished"], c["callbacks.reached"]
	s.Ratings, s.SMSIn, s.SMSFailed = c["ratings"], c["contacts.sms"], c["sms.failed"]
	s.AnswerRate = ratio(s.CallsAnswered, s.CallsIn)
	s.CallbackSuccess = ratio(s.CallbacksReached, s.CallbacksFinished)
	s.AverageRating = ratio(c["ratings.sum"], s.Ratings)
	accept, err := tx.median("accept_seconds", lo, hi)
	if err != nil {
		return Stats{}, err
	}
	resolve, err := tx.median("resolve_seconds", lo, hi)
	if err != nil {
		return Stats{}, err
	}
	s.MedianAcceptHours = accept / 3600
	s.MedianResolveDays = resolve / 86400
	s.Overdue = tx.CountOverdue()
	return s, nil
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func (tx *Tx) median(metric, lo, hi string) (float64, error) {
	prefix := []byte(metric + "\x00")
	cur := tx.appendBucket(bSamples).Cursor()
	var vals []uint64
	for k, v := cur.Seek(append(prefix, lo...)); k != nil && bytes.HasPrefix(k, prefix) && string(k[len(prefix):len(prefix)+8]) <= hi; k, v = cur.Next() {
		vals = append(vals, binary.BigEndian.Uint64(v))
	}
	if len(vals) == 0 {
		return 0, nil
	}
	slices.Sort(vals)
	mid := len(vals) / 2
	if len(vals)%2 == 1 {
		return float64(vals[mid]), nil
	}
	return (float64(vals[mid-1]) + float64(vals[mid])) / 2, nil
}

// AuditEntry is one staff look-up or action on consumer data.
type AuditEntry struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"` // lookup_caller, view_case, …
	Target string    `json:"target"` // the number or case looked up
}

// Audit writes an entry to the audit trail.
func (tx *Tx) Audit(actor, action, target string) error {
	b := tx.appendBucket(bAudit)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	e := AuditEntry{ID: strconv.FormatUint(seq, 10), At: tx.now, Actor: actor, Action: action, Target: target}
	v, err := jsonMarshal(e)
	if err != nil {
		return err
	}
	return b.Put(u64(seq), v)
}

// AuditTrail lists audit entries newest first, before the entry with id
// "before" ("" for the newest), at most limit.
func (tx *Tx) AuditTrail(before string, limit int) ([]AuditEntry, error) {
	return newestFirst[AuditEntry](tx.btx.Bucket(bAudit), before, limit)
}
