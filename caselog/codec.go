package caselog

import (
	"encoding/json"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// Values are JSON, chosen once: readable with bbolt's own tools, and the
// case log is bound by fsync, not by encoding.
func jsonMarshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

func jsonUnmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %T: %w", v, err)
	}
	return nil
}

// newestFirst pages backwards through a bucket keyed by sequence: the
// records before the id "before" ("" for the newest), at most limit.
func newestFirst[T any](b *bolt.Bucket, before string, limit int) ([]T, error) {
	cur := b.Cursor()
	var k, v []byte
	if before == "" {
		k, v = cur.Last()
	} else {
		seq, err := strconv.ParseUint(before, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("id %q: %w", before, ErrInvalid)
		}
		if k, _ = cur.Seek(u64(seq)); k == nil {
			k, v = cur.Last() // every record is before it
		} else {
			k, v = cur.Prev()
		}
	}
	var out []T
	for ; k != nil && len(out) < limit; k, v = cur.Prev() {
		var r T
		if err := jsonUnmarshal(v, &r); err != nil {
			return nil, fmt.Errorf("record %x: %w", k, err)
		}
		out = append(out, r)
	}
	return out, nil
}
