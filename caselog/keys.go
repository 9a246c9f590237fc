package caselog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/maphash"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Step keys make Do idempotent: the carrier's id of a step (MessageSid,
// CallSid+step, RecordingSid) maps to the Result the step returned.
//
// Carrier ids are random, so a B-tree keyed by them puts every new key on a
// random page: one more page for each case to copy, write and fsync, which
// halved what a group commit could record. Instead the keys are appended in
// the order they are recorded (bucket steps, seq -> time|key|Result, so a
// commit writes one or two neighbouring pages however many keys it holds),
// and found through an in-memory map from a 64-bit hash of the key to seq,
// which Open rebuilds by reading the bucket. A hit is confirmed against the
// key in the record; the rare key whose hash another key already holds goes
// into a second map under its full text. The writer goroutine is the only
// one that adds keys, inside the transaction that does the step, so the
// check and the insert are still one transaction.
//
// A key whose step names a case (an SMS or a recording that opened one) is
// kept for good: the same MessageSid or CallSid never makes a second case.
// The others (menu steps, status callbacks, once-a-day marks) are dropped
// after Options.KeyRetention (default 7 days), as Stripe drops idempotency
// keys after 24 hours: a carrier retries within minutes. The map costs about
// 24 bytes a key whatever the key's length (TestStepKeys_Memory).

// DefaultKeyRetention is how long the key of a step that opened no case is
// remembered.
const DefaultKeyRetention = 7 * 24 * time.Hour

// pruneBatch bounds how many expired keys one commit deletes, so that
// expiry never makes a commit long.
const pruneBatch = 1000

type stepKeys struct {
	seed maphash.Seed
	mu   sync.RWMutex
	seqs map[uint64]uint64 // hash of a committed key -> seq in bSteps
	more map[string]uint64 // committed keys whose hash another key holds

	// Owned by the writer goroutine, reset for every commit attempt.
	pending   map[string]uint64 // keys added by the transaction in progress
	pruned    []prunedKey       // keys the transaction in progress deleted
	nextPrune time.Time
	// Pruning has looked at every record before pruneFrom (those left are
	// kept for good); prunedTo is where the transaction in progress got to.
	pruneFrom, prunedTo uint64
}

type prunedKey struct {
	key string
	seq uint64
}

// loadKeys rebuilds the map from the bucket at Open.
func (l *Log) loadKeys() error {
	k := &l.keys
	k.seed = maphash.MakeSeed()
	k.seqs = make(map[uint64]uint64)
	k.more = make(map[string]uint64)
	k.pending = make(map[string]uint64)
	return l.db.View(func(btx *bolt.Tx) error {
		steps := btx.Bucket(bSteps)
		// Pruning starts at the first record it may delete; the ones before
		// are all kept for good.
		k.pruneFrom = steps.Sequence() + 1
		err := steps.ForEach(func(key, v []byte) error {
			_, name, js, err := decodeStep(v)
			if err != nil {
				return fmt.Errorf("step %x: %w", key, err)
			}
			seq := binary.BigEndian.Uint64(key)
			k.add(name, seq)
			if !keepForGood(js) {
				k.pruneFrom = min(k.pruneFrom, seq)
			}
			return nil
		})
		k.prunedTo = k.pruneFrom
		return err
	})
}

// keepForGood reports whether a step's Result names a case. Case is the
// first field of Result and omitted when empty, so its JSON then starts so.
func keepForGood(resultJSON []byte) bool {
	return bytes.HasPrefix(resultJSON, []byte(`{"case":`))
}

// add publishes a committed key (the caller holds mu, or owns k).
func (k *stepKeys) add(key string, seq uint64) {
	h := maphash.String(k.seed, key)
	if _, taken := k.seqs[h]; taken {
		k.more[key] = seq
		return
	}
	k.seqs[h] = seq
}

// remove forgets a pruned key (the caller holds mu).
func (k *stepKeys) remove(key string, seq uint64) {
	if k.more[key] == seq {
		delete(k.more, key)
	}
	if h := maphash.String(k.seed, key); k.seqs[h] == seq {
		delete(k.seqs, h)
	}
}

// encodeStep is at(8)|len(key)(2)|key|Result JSON.
func encodeStep(at time.Time, key string, res Result) ([]byte, error) {
	if len(key) > 0xffff {
		return nil, fmt.Errorf("step key of %d bytes: %w", len(key), ErrInvalid)
	}
	js, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encode result of %s: %w", key, err)
	}
	v := make([]byte, 0, 10+len(key)+len(js))
	v = binary.BigEndian.AppendUint64(v, uint64(at.UnixNano()))
	v = binary.BigEndian.AppendUint16(v, uint16(len(key)))
	v = append(v, key...)
	return append(v, js...), nil
}

func decodeStep(v []byte) (at time.Time, key string, res []byte, err error) {
	if len(v) < 10 {
		return time.Time{}, "", nil, fmt.Errorf("step record of %d bytes: %w", len(v), ErrSchema)
	}
	n := int(binary.BigEndian.Uint16(v[8:]))
	if len(v) < 10+n {
		return time.Time{}, "", nil, fmt.Errorf("step record of %d bytes, key of %d: %w", len(v), n, ErrSchema)
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v))), string(v[10 : 10+n]), v[10+n:], nil
}

// stepRecord finds a key among those committed and those the transaction
// in progress added (only a write transaction sees the latter: they belong
// to the writer goroutine), and returns its record's Result JSON.
func (tx *Tx) stepRecord(key string) ([]byte, bool, error) {
	k := &tx.l.keys
	seq, ok := uint64(0), false
	if tx.btx.Writable() {
		seq, ok = k.pending[key]
	}
	if !ok {
		k.mu.RLock()
		if seq, ok = k.more[key]; !ok {
			seq, ok = k.seqs[maphash.String(k.seed, key)]
		}
		k.mu.RUnlock()
	}
	if !ok {
		return nil, false, nil
	}
	if tx.btx.Writable() && slices.ContainsFunc(k.pruned, func(p prunedKey) bool { return p.seq == seq }) {
		return nil, false, nil // deleted by this transaction
	}
	v := tx.btx.Bucket(bSteps).Get(u64(seq))
	if v == nil {
		return nil, false, fmt.Errorf("step %s: record %d missing: %w", key, seq, ErrSchema)
	}
	_, name, js, err := decodeStep(v)
	if err != nil {
		return nil, false, fmt.Errorf("step %s: %w", key, err)
	}
	if name != key {
		return nil, false, nil // another key with the same hash
	}
	return js, true, nil
}

// stepResult returns the Result stored under key, if the key is known.
func (tx *Tx) stepResult(key string) (Result, bool, error) {
	js, ok, err := tx.stepRecord(key)
	if err != nil || !ok {
		return Result{}, false, err
	}
	var res Result
	if err := json.Unmarshal(js, &res); err != nil {
		return Result{}, false, fmt.Errorf("read result of %s: %w", key, err)
	}
	return res, true, nil
}

// storeStep records key with its result in the transaction in progress.
func (tx *Tx) storeStep(key string, res Result) error {
	v, err := encodeStep(tx.now, key, res)
	if err != nil {
		return err
	}
	b := tx.appendBucket(bSteps)
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("store result of %s: %w", key, err)
	}
	if err := b.Put(u64(seq), v); err != nil {
		return fmt.Errorf("store result of %s: %w", key, err)
	}
	tx.l.keys.pending[key] = seq
	return nil
}

// pruneSteps deletes the keys older than the retention that named no case,
// oldest first, looking at up to pruneBatch records a commit. It runs at
// most once a minute unless the last run stopped at the bound.
func (tx *Tx) pruneSteps() error {
	k := &tx.l.keys
	if tx.now.Before(k.nextPrune) {
		return nil
	}
	cutoff := tx.now.Add(-tx.l.opts.KeyRetention)
	b := tx.btx.Bucket(bSteps)
	cur := b.Cursor()
	k.prunedTo = k.pruneFrom
	n := 0
	for key, v := cur.Seek(u64(k.pruneFrom)); key != nil && n < pruneBatch; key, v = cur.Next() {
		at, name, js, err := decodeStep(v)
		if err != nil {
			return fmt.Errorf("prune step %x: %w", key, err)
		}
		if !at.Before(cutoff) {
			break
		}
		seq := binary.BigEndian.Uint64(key)
		if !keepForGood(js) {
			k.pruned = append(k.pruned, prunedKey{name, seq})
		}
		k.prunedTo = seq + 1
		n++
	}
	// Deleted after the walk: a bbolt cursor may skip a record after Delete.
	for _, p := range k.pruned {
		if err := b.Delete(u64(p.seq)); err != nil {
			return fmt.Errorf("prune step %d: %w", p.seq, err)
		}
	}
	if n < pruneBatch {
		k.nextPrune = tx.now.Add(time.Minute)
	}
	return nil
}

// settleKeys publishes the keys of a committed transaction, or forgets them
// when it rolled back.
func (l *Log) settleKeys(committed bool) {
	k := &l.keys
	if committed && (len(k.pending) > 0 || len(k.pruned) > 0) {
		k.mu.Lock()
		for _, p := range k.pruned {
			k.remove(p.key, p.seq)
		}
		for key, seq := range k.pending {
			k.add(key, seq)
		}
		k.mu.Unlock()
	}
	if committed {
		k.pruneFrom = max(k.pruneFrom, k.prunedTo)
	} else {
		k.nextPrune = time.Time{}
	}
	k.prunedTo = k.pruneFrom
	clear(k.pending)
	k.pruned = k.pruned[:0]
}

// Seen reports whether a step key has been recorded (for a caller that must
// decide something before calling Do, such as a once-a-day rule). A record
// that cannot be read counts as seen: the rule errs on doing nothing twice.
func (tx *Tx) Seen(key string) bool {
	_, ok, err := tx.stepRecord(key)
	return ok || err != nil
}

// Mark records a key as seen inside the current step, for rules such as "at
// most one abandoned-call callback per number a day" that key on something
// other than the step's own key. Marking a key already seen does nothing.
func (tx *Tx) Mark(key string) error {
	if _, ok, err := tx.stepRecord(key); err != nil || ok {
		return err
	}
	return tx.storeStep(key, Result{})
}

// migrateKeys moves the step keys of a version 1 file (a B-tree keyed by
// the carrier id) into the append-only bucket, dated now so that they are
// kept for a full retention period.
func migrateKeys(btx *bolt.Tx, now time.Time) error {
	old := btx.Bucket([]byte("keys"))
	if old == nil {
		return nil
	}
	steps := btx.Bucket(bSteps)
	steps.FillPercent = 0.95
	err := old.ForEach(func(k, v []byte) error {
		var res Result
		if err := json.Unmarshal(v, &res); err != nil {
			return fmt.Errorf("migrate step key %q: %w", k, err)
		}
		rec, err := encodeStep(now, string(k), res)
		if err != nil {
			return err
		}
		seq, err := steps.NextSequence()
		if err != nil {
			return err
		}
		return steps.Put(u64(seq), rec)
	})
	if err != nil {
		return err
	}
	return btx.DeleteBucket([]byte("keys"))
}
