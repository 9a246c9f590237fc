package caselog

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hotline/hotline/internal/phone"
	bolt "go.etcd.io/bbolt"
)

// Tx is one transaction on the log. The operations on it are the domain's
// verbs; a step composes several of them and commits them together.
type Tx struct {
	btx       *bolt.Tx
	l         *Log
	now       time.Time
	queuedSMS bool
	counts    map[string]int64 // counter deltas of the batch, written at commit
}

// appendBucket returns a bucket whose keys only grow (a sequence), set to
// fill its pages: bbolt splits nodes at half full by default, which suits
// random inserts but leaves append-only buckets half empty, doubling what
// each commit writes and what the file and its page cache hold.
func (tx *Tx) appendBucket(name []byte) *bolt.Bucket {
	b := tx.btx.Bucket(name)
	if tx.btx.Writable() {
		b.FillPercent = 0.95
	}
	return b
}

// Now is the time the step is recorded at.
func (tx *Tx) Now() time.Time { return tx.now }

// NormalizeCaller returns the index key for a written phone number.
// Parsing a number costs tens of microseconds (phonenumbers runs regular
// expressions), and the same few forms of a caller arrive again and again,
// so results are cached; the cache is dropped whole when it fills.
func (l *Log) NormalizeCaller(raw string) (string, error) {
	l.normMu.RLock()
	n, ok := l.norm[raw]
	l.normMu.RUnlock()
	if ok {
		if n == "" {
			return "", fmt.Errorf("caller %q: %w: %w", raw, phone.ErrInvalid, ErrBadCaller)
		}
		return n, nil
	}
	n, err := phone.Normalize(raw, l.opts.Region)
	if len(raw) <= 64 {
		l.normMu.Lock()
		if len(l.norm) >= normCacheSize {
			clear(l.norm)
		}
		l.norm[raw] = n
		l.normMu.Unlock()
	}
	if err != nil {
		return "", fmt.Errorf("caller %w: %w", err, ErrBadCaller)
	}
	return n, nil
}

const normCacheSize = 50000

// OpenCase opens a new case, numbered, indexed by caller and due date, with
// its first event; with nc.Notify it also queues the SMS that tells the
// number.
func (tx *Tx) OpenCase(nc NewCase) (Case, error) {
	if _, err := ParseKind(string(nc.Kind)); err != nil {
		return Case{}, err
	}
	if nc.Channel != Voice && nc.Channel != SMS {
		return Case{}, fmt.Errorf("channel %q: %w", nc.Channel, ErrInvalid)
	}
	cases := tx.appendBucket(bCases)
	seq, err := cases.NextSequence()
	if err != nil {
		return Case{}, fmt.Errorf("allocate case number: %w", err)
	}
	caller, indexed := strings.TrimSpace(nc.Caller), false
	if n, err := tx.l.NormalizeCaller(caller); err == nil {
		caller, indexed = n, true
	}
	// A withheld or garbled caller id still opens a case: it is kept as the
	// carrier sent it, just not indexed.
	c := Case{
		Number:       formatNumber(seq),
		Caller:       caller,
		Channel:      nc.Channel,
		Kind:         nc.Kind,
		Status:       Received,
		Lang:         nc.Lang,
		CreatedAt:    tx.now,
		UpdatedAt:    tx.now,
		Text:         nc.Text,
		RecordingURL: nc.RecordingURL,
		Media:        append([]Media{}, nc.Media...),
		Source:       nc.Source,
	}
	c.DueAt = tx.dueFor(c.Kind, c.Status, tx.now)
	if indexed {
		if err := tx.btx.Bucket(bCallers).Put(callerKey(caller, tx.now, seq), nil); err != nil {
			return Case{}, fmt.Errorf("index case %s: %w", c.Number, err)
		}
	}
	if err := tx.indexDue(seq, time.Time{}, c.DueAt); err != nil {
		return Case{}, err
	}
	actor := nc.Actor
	if actor == "" {
		actor = "consumer"
	}
	detail := map[string]string{"channel": string(c.Channel), "kind": string(c.Kind)}
	if c.Source != "" {
		detail["source"] = c.Source
	}
	// The text is the case's own; the event records who opened it and how.
	if err := tx.appendEvent(&c, Event{Actor: actor, Type: EventOpened, To: Received, Media: c.Media, Detail: detail}); err != nil {
		return Case{}, err
	}
	day := dayKey(tx.now, tx.l.opts.Calendar.loc())
	for _, m := range []string{"cases", "cases.kind." + string(c.Kind), "cases.channel." + string(c.Channel), "cases.status." + string(c.Status)} {
		if err := tx.count(day, m, 1); err != nil {
			return Case{}, err
		}
	}
	if nc.Notify {
		if err := tx.notify(Notice{Type: NoticeOpened, Case: c}); err != nil {
			return Case{}, err
		}
	}
	return c, tx.putCase(seq, c)
}

// Case reads one case without its events.
func (tx *Tx) Case(number string) (Case, error) {
	_, c, err := tx.load(number)
	return c, err
}

// CaseWithEvents reads one case and its whole history, oldest event first.
func (tx *Tx) CaseWithEvents(number string) (Case, error) {
	seq, c, err := tx.load(number)
	if err != nil {
		return Case{}, err
	}
	c.Events = make([]Event, 0, c.events)
	prefix := u64(seq)
	cur := tx.appendBucket(bEvents).Cursor()
	for k, v := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = cur.Next() {
		var e Event
		if err := json.Unmarshal(v, &e); err != nil {
			return Case{}, fmt.Errorf("read event %x of case %s: %w", k, number, err)
		}
		c.Events = append(c.Events, e)
	}
	return c, nil
}

// stored is the on-disk form of a case: the case plus its event count,
// which is not part of the API.
type stored struct {
	Case
	EventCount uint32 `json:"event_count"`
}

// load reads a case by its number, with the key it is stored under.
func (tx *Tx) load(number string) (uint64, Case, error) {
	seq, err := parseNumber(number)
	if err != nil {
		return 0, Case{}, err
	}
	c, err := tx.caseBySeq(seq)
	return seq, c, err
}

func (tx *Tx) caseBySeq(seq uint64) (Case, error) {
	v := tx.appendBucket(bCases).Get(u64(seq))
	if v == nil {
		return Case{}, fmt.Errorf("case %s: %w", formatNumber(seq), ErrNotFound)
	}
	s, err := decodeStored(v)
	if err != nil {
		return Case{}, fmt.Errorf("read case %s: %w", formatNumber(seq), err)
	}
	s.Case.events = s.EventCount
	if s.Case.Media == nil {
		s.Case.Media = []Media{}
	}
	return s.Case, nil
}

func (tx *Tx) putCase(seq uint64, c Case) error {
	c.Events = nil
	v, err := encodeStored(stored{Case: c, EventCount: c.events})
	if err != nil {
		return fmt.Errorf("encode case %s: %w", c.Number, err)
	}
	if err := tx.appendBucket(bCases).Put(u64(seq), v); err != nil {
		return fmt.Errorf("write case %s: %w", c.Number, err)
	}
	return nil
}

// appendEvent adds e to the history of c; the caller writes c afterwards.
func (tx *Tx) appendEvent(c *Case, e Event) error {
	seq, err := parseNumber(c.Number)
	if err != nil {
		return err
	}
	if e.At.IsZero() {
		e.At = tx.now
	}
	v, err := encodeEvent(e)
	if err != nil {
		return fmt.Errorf("encode event of case %s: %w", c.Number, err)
	}
	key := make([]byte, 12)
	binary.BigEndian.PutUint64(key, seq)
	binary.BigEndian.PutUint32(key[8:], c.events)
	if err := tx.appendBucket(bEvents).Put(key, v); err != nil {
		return fmt.Errorf("write event of case %s: %w", c.Number, err)
	}
	c.events++
	c.UpdatedAt = tx.now
	return nil
}

// AddEvent appends an event (a note, an SMS sent, a callback outcome) to a
// case's history.
func (tx *Tx) AddEvent(number string, e Event) (Case, error) {
	seq, c, err := tx.load(number)
	if err != nil {
		return Case{}, err
	}
	if err := tx.appendEvent(&c, e); err != nil {
		return Case{}, err
	}
	return c, tx.putCase(seq, c)
}

// Addition is more that a consumer or the carrier tells us about a case.
type Addition struct {
	Caller        string // when set, the case must be this caller's (ErrNotYours)
	Actor         string // default "consumer"
	Text          string
	Media         []Media
	RecordingURL  string // sets the case's recording when it has none
	Transcription string // appended to the case text
}

// Append attaches text, media, a recording or a transcription to a case.
func (tx *Tx) Append(number string, a Addition) (Case, error) {
	seq, c, err := tx.load(number)
	if err != nil {
		return Case{}, err
	}
	if a.Caller != "" {
		n, err := tx.l.NormalizeCaller(a.Caller)
		if err != nil || n != c.Caller {
			return Case{}, fmt.Errorf("case %s: %w", number, ErrNotYours)
		}
	}
	actor := a.Actor
	if actor == "" {
		actor = "consumer"
	}
	e := Event{Actor: actor, Type: EventAttachment, Note: a.Text, Media: a.Media}
	if a.Text != "" {
		c.Text = joinText(c.Text, a.Text)
	}
	if a.Transcription != "" {
		c.Text = joinText(c.Text, a.Transcription)
		e.Note = a.Transcription
		e.Detail = map[string]string{"transcription": "true"}
	}
	if a.RecordingURL != "" && c.RecordingURL == "" {
		c.RecordingURL = a.RecordingURL
		e.Media = append(e.Media, Media{URL: a.RecordingURL, ContentType: "audio/x-wav"})
	}
	c.Media = append(c.Media, a.Media...)
	if err := tx.appendEvent(&c, e); err != nil {
		return Case{}, err
	}
	return c, tx.putCase(seq, c)
}

func joinText(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

// Move applies a staff decision through the lifecycle: it checks the move,
// records the event, sets the new due date and queues the status SMS.
func (tx *Tx) Move(number string, t Transition) (Case, error) {
	seq, c, err := tx.load(number)
	if err != nil {
		return Case{}, err
	}
	if err := CheckTransition(c.Kind, c.Status, t.To); err != nil {
		return Case{}, fmt.Errorf("case %s: %w", number, err)
	}
	from := c.Status
	if t.Actor == "" {
		t.Actor = "system"
	}
	switch t.To {
	case Transferred:
		if t.Department == "" {
			t.Department = t.Note
		}
		c.Department = t.Department
	case Rejected, MediationEnded:
		if t.Reason == "" {
			t.Reason = t.Note
		}
		c.Reason, c.Referral = t.Reason, t.Referral
	}
	c.Status = t.To
	oldDue := c.DueAt
	c.DueAt = tx.dueFor(c.Kind, c.Status, tx.now)
	if err := tx.indexDue(seq, oldDue, c.DueAt); err != nil {
		return Case{}, err
	}
	detail := map[string]string{}
	for k, v := range map[string]string{"department": t.Department, "reason": t.Reason, "referral": t.Referral} {
		if v != "" {
			detail[k] = v
		}
	}
	if len(detail) == 0 {
		detail = nil
	}
	if err := tx.appendEvent(&c, Event{Actor: t.Actor, Type: EventStatus, From: from, To: t.To, Note: t.Note, Detail: detail}); err != nil {
		return Case{}, err
	}
	// Counters: cases by status are kept on the day the case was opened, so
	// that a date range reports where the cases opened in it stand now.
	created := dayKey(c.CreatedAt, tx.l.opts.Calendar.loc())
	if err := tx.count(created, "cases.status."+string(from), -1); err != nil {
		return Case{}, err
	}
	if err := tx.count(created, "cases.status."+string(t.To), 1); err != nil {
		return Case{}, err
	}
	today := dayKey(tx.now, tx.l.opts.Calendar.loc())
	switch t.To {
	case Accepted:
		err = tx.sample(today, "accept_seconds", uint64(tx.now.Sub(c.CreatedAt)/time.Second))
	case Resolved:
		err = tx.sample(today, "resolve_seconds", uint64(tx.now.Sub(c.CreatedAt)/time.Second))
	}
	if err != nil {
		return Case{}, err
	}
	if err := tx.notify(Notice{Type: NoticeStatus, Case: c, Transition: t}); err != nil {
		return Case{}, err
	}
	if t.To == Resolved || (t.To == Closed && from != Resolved) {
		if err := tx.askRating(c); err != nil {
			return Case{}, err
		}
	}
	return c, tx.putCase(seq, c)
}

// ByCaller returns the caller's cases, newest first, at most limit (0: 100).
// The caller may be written in any form.
func (tx *Tx) ByCaller(caller string, limit int) ([]Case, error) {
	n, err := tx.l.NormalizeCaller(caller)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 100
	}
	prefix := append([]byte(n), 0)
	cur := tx.btx.Bucket(bCallers).Cursor()
	var out []Case
	for k, _ := cur.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, _ = cur.Next() {
		if len(k) != len(prefix)+16 {
			continue
		}
		c, err := tx.caseBySeq(binary.BigEndian.Uint64(k[len(prefix)+8:]))
		if err != nil {
			return nil, fmt.Errorf("caller index of %s: %w", phone.Mask(n), err)
		}
		out = append(out, c)
	}
	return out, nil
}

// OpenCases returns the caller's unfinished cases, newest first.
func (tx *Tx) OpenCases(caller string, limit int) ([]Case, error) {
	all, err := tx.ByCaller(caller, 0)
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, c := range all {
		if Final(c.Status) || c.Status == Withdrawn || c.Status == Rejected {
			continue
		}
		out = append(out, c)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

func callerKey(caller string, created time.Time, seq uint64) []byte {
	k := make([]byte, 0, len(caller)+17)
	k = append(k, caller...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, ^uint64(created.UnixNano()))
	return binary.BigEndian.AppendUint64(k, seq)
}

func (tx *Tx) dueFor(k Kind, s Status, from time.Time) time.Time {
	n := tx.l.opts.Deadlines.workingDays(k, s)
	if n <= 0 {
		return time.Time{}
	}
	// The due time depends only on the local day and n; cache it, since
	// every case of a day asks the same question.
	y, m, d := from.In(tx.l.opts.Calendar.loc()).Date()
	key := dueCacheKey{y, m, d, n}
	tx.l.dueMu.Lock()
	defer tx.l.dueMu.Unlock()
	if due, ok := tx.l.dueCache[key]; ok {
		return due
	}
	due := tx.l.opts.Calendar.AddWorkdays(from, n)
	if len(tx.l.dueCache) > 1000 {
		clear(tx.l.dueCache)
	}
	tx.l.dueCache[key] = due
	return due
}

type dueCacheKey struct {
	y    int
	m    time.Month
	d, n int
}

func dueKey(due time.Time, seq uint64) []byte {
	k := make([]byte, 0, 16)
	k = binary.BigEndian.AppendUint64(k, uint64(due.Unix()))
	return binary.BigEndian.AppendUint64(k, seq)
}

func (tx *Tx) indexDue(seq uint64, old, due time.Time) error {
	b := tx.btx.Bucket(bDue)
	if !old.IsZero() {
		if err := b.Delete(dueKey(old, seq)); err != nil {
			return fmt.Errorf("unindex due date: %w", err)
		}
	}
	if !due.IsZero() {
		if err := b.Put(dueKey(due, seq), nil); err != nil {
			return fmt.Errorf("index due date: %w", err)
		}
	}
	return nil
}

// Overdue returns unfinished cases whose due time has passed, most overdue
// first, at most limit (0: all). It reads the due index only.
func (tx *Tx) Overdue(limit int) ([]Case, error) {
	cur := tx.btx.Bucket(bDue).Cursor()
	now := uint64(tx.now.Unix())
	var out []Case
	for k, _ := cur.First(); k != nil && binary.BigEndian.Uint64(k[:8]) < now; k, _ = cur.Next() {
		c, err := tx.caseBySeq(binary.BigEndian.Uint64(k[8:]))
		if err != nil {
			return nil, fmt.Errorf("due index: %w", err)
		}
		out = append(out, c)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, nil
}

// CountOverdue counts unfinished cases past their due time.
func (tx *Tx) CountOverdue() int {
	cur := tx.btx.Bucket(bDue).Cursor()
	now := uint64(tx.now.Unix())
	n := 0
	for k, _ := cur.First(); k != nil && binary.BigEndian.Uint64(k[:8]) < now; k, _ = cur.Next() {
		n++
	}
	return n
}
