package caselog

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

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

// Cases and events are what the writer encodes for every contact, and
// encoding/json spent 40% of the writer's time on them (reflection, and
// re-validating what time.Time's MarshalJSON returns). encodeStored and
// encodeEvent append the bytes json.Marshal writes for the same values (a
// test compares the two on random values of every field), so the file
// format and every reader stay encoding/json's. Times json cannot write
// (years outside 0-9999) go through json.Marshal for its error.

func encodeStored(s stored) ([]byte, error) {
	c := &s.Case
	if !jsonTime(c.CreatedAt) || !jsonTime(c.UpdatedAt) || !jsonTime(c.DueAt) || len(c.Events) > 0 {
		return jsonMarshal(s)
	}
	b := make([]byte, 0, 320+len(c.Text)+len(c.RecordingURL))
	b = append(b, `{"number":`...)
	b = appendJSONString(b, c.Number)
	b = append(b, `,"caller":`...)
	b = appendJSONString(b, c.Caller)
	b = append(b, `,"channel":`...)
	b = appendJSONString(b, string(c.Channel))
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(c.Kind))
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(c.Status))
	b = append(b, `,"lang":`...)
	b = appendJSONString(b, c.Lang)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, c.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendJSONTime(b, c.UpdatedAt)
	b = append(b, `,"due_at":`...)
	b = appendJSONTime(b, c.DueAt)
	b = append(b, `,"text":`...)
	b = appendJSONString(b, c.Text)
	b = append(b, `,"recording_url":`...)
	b = appendJSONString(b, c.RecordingURL)
	b = append(b, `,"media":`...)
	if c.Media == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONMedia(b, c.Media)
	}
	b = appendOptString(b, `,"department":`, c.Department)
	b = appendOptString(b, `,"reason":`, c.Reason)
	b = appendOptString(b, `,"referral":`, c.Referral)
	if c.Rating != 0 {
		b = append(b, `,"rating":`...)
		b = strconv.AppendInt(b, int64(c.Rating), 10)
	}
	b = appendOptString(b, `,"source":`, c.Source)
	b = append(b, `,"event_count":`...)
	b = strconv.AppendUint(b, uint64(s.EventCount), 10)
	return append(b, '}'), nil
}

func encodeEvent(e Event) ([]byte, error) {
	if !jsonTime(e.At) {
		return jsonMarshal(e)
	}
	b := make([]byte, 0, 160+len(e.Note))
	b = append(b, `{"at":`...)
	b = appendJSONTime(b, e.At)
	b = append(b, `,"actor":`...)
	b = appendJSONString(b, e.Actor)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, e.Type)
	b = appendOptString(b, `,"from":`, string(e.From))
	b = appendOptString(b, `,"to":`, string(e.To))
	b = appendOptString(b, `,"note":`, e.Note)
	if len(e.Media) > 0 {
		b = append(b, `,"media":`...)
		b = appendJSONMedia(b, e.Media)
	}
	if len(e.Detail) > 0 {
		b = append(b, `,"detail":{`...)
		for i, k := range slices.Sorted(maps.Keys(e.Detail)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, e.Detail[k])
		}
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendJSONMedia(b []byte, ms []Media) []byte {
	b = append(b, '[')
	for i, m := range ms {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"url":`...)
		b = appendJSONString(b, m.URL)
		b = appendOptString(b, `,"content_type":`, m.ContentType)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendOptString(b []byte, name, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, name...), s)
}

// jsonTime reports whether t is a time encoding/json writes (RFC 3339
// needs a four-digit year and a zone offset under a day).
func jsonTime(t time.Time) bool {
	_, off := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && off > -86400 && off < 86400
}

func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString quotes s as encoding/json does, HTML escaping included:
// <, > and & as \u003c..., invalid UTF-8 as \ufffd, U+2028 and U+2029
// escaped.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
