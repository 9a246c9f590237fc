package caselog

import (
	"bytes"
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

// decodeStored reads a case record. Reading is the staff's hot path (a look-up
// by caller decodes every case of the caller), and json.Unmarshal spent two
// thirds of it, so the layout encodeStored writes is read directly: fields in
// that order, strings without escapes. Anything else (an escaped string, a
// record written by json.Marshal's fallback or by hand) goes to
// json.Unmarshal, and a fuzz test checks that the two agree wherever the
// direct reader answers.
func decodeStored(v []byte) (stored, error) {
	if s, ok := fastStored(v); ok {
		return s, nil
	}
	var s stored
	err := json.Unmarshal(v, &s)
	return s, err
}

func fastStored(v []byte) (s stored, ok bool) {
	d := fastDec{b: v}
	c := &s.Case
	ok = d.lit(`{"number":`) && d.str(&c.Number) &&
		d.lit(`,"caller":`) && d.str(&c.Caller) &&
		d.lit(`,"channel":`) && d.str((*string)(&c.Channel)) &&
		d.lit(`,"kind":`) && d.str((*string)(&c.Kind)) &&
		d.lit(`,"status":`) && d.str((*string)(&c.Status)) &&
		d.lit(`,"lang":`) && d.str(&c.Lang) &&
		d.lit(`,"created_at":`) && d.time(&c.CreatedAt) &&
		d.lit(`,"updated_at":`) && d.time(&c.UpdatedAt) &&
		d.lit(`,"due_at":`) && d.time(&c.DueAt) &&
		d.lit(`,"text":`) && d.str(&c.Text) &&
		d.lit(`,"recording_url":`) && d.str(&c.RecordingURL) &&
		d.lit(`,"media":`) && d.media(&c.Media) &&
		d.optStr(`,"department":`, &c.Department) &&
		d.optStr(`,"reason":`, &c.Reason) &&
		d.optStr(`,"referral":`, &c.Referral)
	if ok && d.lit(`,"rating":`) {
		var r uint64
		ok = d.uint(&r) && r > 0 && r <= 5
		c.Rating = int(r)
	}
	ok = ok && d.optStr(`,"source":`, &c.Source) && d.lit(`,"event_count":`)
	var n uint64
	ok = ok && d.uint(&n) && n <= 1<<32-1 && d.lit("}") && len(d.b) == 0
	s.EventCount = uint32(n)
	return s, ok
}

// fastDec reads the fixed layout; every method reports false at the first
// byte it does not expect.
type fastDec struct{ b []byte }

func (d *fastDec) lit(s string) bool {
	if !bytes.HasPrefix(d.b, []byte(s)) {
		return false
	}
	d.b = d.b[len(s):]
	return true
}

// str reads a string with no escapes and valid UTF-8, the only kind whose
// bytes are its value.
func (d *fastDec) str(dst *string) bool {
	if len(d.b) == 0 || d.b[0] != '"' {
		return false
	}
	i := bytes.IndexByte(d.b[1:], '"')
	if i < 0 {
		return false
	}
	raw := d.b[1 : 1+i]
	for _, c := range raw {
		if c == '\\' || c < 0x20 {
			return false
		}
	}
	if !utf8.Valid(raw) {
		return false
	}
	*dst = string(raw)
	d.b = d.b[2+i:]
	return true
}

func (d *fastDec) optStr(name string, dst *string) bool {
	if !d.lit(name) {
		return true
	}
	return d.str(dst) && *dst != ""
}

func (d *fastDec) time(t *time.Time) bool {
	if len(d.b) == 0 || d.b[0] != '"' {
		return false
	}
	i := bytes.IndexByte(d.b[1:], '"')
	if i < 0 || bytes.IndexByte(d.b[1:1+i], '\\') >= 0 {
		return false
	}
	if t.UnmarshalJSON(d.b[:2+i]) != nil {
		return false
	}
	d.b = d.b[2+i:]
	return true
}

func (d *fastDec) uint(n *uint64) bool {
	i := 0
	for i < len(d.b) && d.b[i] >= '0' && d.b[i] <= '9' {
		i++
	}
	if i == 0 || i > 10 || (i > 1 && d.b[0] == '0') {
		return false
	}
	v, err := strconv.ParseUint(string(d.b[:i]), 10, 64)
	if err != nil {
		return false
	}
	*n, d.b = v, d.b[i:]
	return true
}

func (d *fastDec) media(ms *[]Media) bool {
	if d.lit("null") {
		*ms = nil
		return true
	}
	if !d.lit("[") {
		return false
	}
	*ms = []Media{}
	if d.lit("]") {
		return true
	}
	for {
		var m Media
		if !d.lit(`{"url":`) || !d.str(&m.URL) || !d.optStr(`,"content_type":`, &m.ContentType) || !d.lit("}") {
			return false
		}
		*ms = append(*ms, m)
		if d.lit("]") {
			return true
		}
		if !d.lit(",") {
			return false
		}
	}
}
