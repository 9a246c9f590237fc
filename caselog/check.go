package caselog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Check verifies a case log file: bbolt's own page check, then the case
// log's invariants: every index entry points at a record, every record's
// number lies within the sequences (so no number is handed out twice), every
// case's events are contiguous. It walks the whole file, so it is for
// `hotline check` and tests, never for a request.
func Check(path string) error {
	db, err := bolt.Open(path, 0o400, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("open %s: the file is in use (a running server holds it; check a backup instead): %w", path, err)
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	return db.View(CheckTx)
}

// CheckTx runs the checks of Check in an open read transaction.
func CheckTx(btx *bolt.Tx) error {
	var errs []error
	for err := range btx.Check() {
		errs = append(errs, err)
	}
	if meta := btx.Bucket(bMeta); meta != nil {
		if v := meta.Get(keySchema); len(v) == 8 && binary.BigEndian.Uint64(v) != SchemaVersion {
			errs = append(errs, fmt.Errorf("the file has schema %d and this release checks schema %d: "+
				"open it once with `hotline serve`, which migrates an older file, then check it: %w",
				binary.BigEndian.Uint64(v), SchemaVersion, ErrSchema))
			return errors.Join(errs...)
		}
	}
	for _, name := range allBuckets {
		if btx.Bucket(name) == nil {
			errs = append(errs, fmt.Errorf("bucket %s missing", name))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	fail := func(format string, args ...any) {
		if len(errs) < 20 {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	cases := btx.Bucket(bCases)
	caseSeq := cases.Sequence()
	events := btx.Bucket(bEvents)
	cases.ForEach(func(k, v []byte) error {
		seq := binary.BigEndian.Uint64(k)
		if seq == 0 || seq > caseSeq {
			fail("case key %d beyond sequence %d", seq, caseSeq)
		}
		s, err := decodeStored(v)
		if err != nil {
			fail("case %d: %v", seq, err)
			return nil
		}
		if s.Number != formatNumber(seq) {
			fail("case %d stored as number %q", seq, s.Number)
		}
		for i := uint32(0); i < s.EventCount; i++ {
			key := binary.BigEndian.AppendUint32(u64(seq), i)
			if events.Get(key) == nil {
				fail("case %s: event %d missing of %d", s.Number, i, s.EventCount)
				break
			}
		}
		return nil
	})
	events.ForEach(func(k, _ []byte) error {
		if len(k) != 12 || cases.Get(k[:8]) == nil {
			fail("event %x has no case", k)
		}
		return nil
	})
	btx.Bucket(bCallers).ForEach(func(k, _ []byte) error {
		i := bytes.IndexByte(k, 0)
		if i < 0 || len(k) != i+17 || cases.Get(k[i+9:]) == nil {
			fail("caller index entry %q points at no case", k)
		}
		return nil
	})
	btx.Bucket(bDue).ForEach(func(k, _ []byte) error {
		if len(k) != 16 || cases.Get(k[8:]) == nil {
			fail("due index entry %x points at no case", k)
		}
		return nil
	})
	steps := btx.Bucket(bSteps)
	seen := map[string]bool{}
	steps.ForEach(func(k, v []byte) error {
		if len(k) != 8 || binary.BigEndian.Uint64(k) > steps.Sequence() {
			fail("step %x beyond sequence %d", k, steps.Sequence())
		}
		_, key, js, err := decodeStep(v)
		var r Result
		if err == nil {
			err = json.Unmarshal(js, &r)
		}
		if err != nil {
			fail("step %x: unreadable: %v", k, err)
			return nil
		}
		if seen[key] {
			fail("step key %q recorded twice", key)
		}
		seen[key] = true
		if r.Case != "" {
			seq, err := parseNumber(r.Case)
			if err != nil || cases.Get(u64(seq)) == nil {
				fail("step key %q points at missing case %s", key, r.Case)
			}
		}
		if r.Callback != "" {
			id, err := strconv.ParseUint(r.Callback, 10, 64)
			if err != nil || btx.Bucket(bCallbacks).Get(u64(id)) == nil {
				fail("step key %q points at missing callback %s", key, r.Callback)
			}
		}
		return nil
	})
	cbs := btx.Bucket(bCallbacks)
	btx.Bucket(bCBQueue).ForEach(func(k, _ []byte) error {
		if cbs.Get(k) == nil {
			fail("callback queue entry %x points at no callback", k)
		}
		return nil
	})
	outbox := btx.Bucket(bOutbox)
	btx.Bucket(bOutQueue).ForEach(func(k, _ []byte) error {
		if len(k) != 16 || outbox.Get(k[8:]) == nil {
			fail("outbox queue entry %x points at no message", k)
		}
		return nil
	})
	btx.Bucket(bOutSID).ForEach(func(k, v []byte) error {
		if outbox.Get(v) == nil {
			fail("message sid %q points at no message", k)
		}
		return nil
	})
	for _, b := range []struct {
		name []byte
	}{{bCallbacks}, {bOutbox}, {bContacts}, {bAudit}} {
		bk := btx.Bucket(b.name)
		if k, _ := bk.Cursor().Last(); k != nil && binary.BigEndian.Uint64(k) > bk.Sequence() {
			fail("bucket %s: key %x beyond sequence %d", b.name, k, bk.Sequence())
		}
	}
	return errors.Join(errs...)
}

// Check runs the invariants on the open log in a read transaction.
func (l *Log) Check() error { return l.db.View(CheckTx) }
