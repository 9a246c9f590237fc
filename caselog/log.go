package caselog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// SchemaVersion is the layout this release writes. A later release that
// changes the layout migrates files with a lower version in Open.
//
// Version 2 moved the step keys from a B-tree keyed by the carrier id into
// the append-only bucket steps (see keys.go).
const SchemaVersion = 2

// Bucket names. Keys sort the way they are read: big-endian integers, and
// caller|reverse-time|case for the caller index.
var (
	bMeta      = []byte("meta")
	bCases     = []byte("cases")     // seq(8) -> Case JSON (without events)
	bEvents    = []byte("events")    // seq(8)|index(4) -> Event JSON
	bCallers   = []byte("callers")   // caller|0|^created(8)|seq(8) -> nil
	bSteps     = []byte("steps")     // seq(8) -> at(8)|len(2)|carrier key|Result JSON
	bDue       = []byte("due")       // due(8)|seq(8) -> nil, unfinished cases only
	bCallbacks = []byte("callbacks") // id(8) -> Callback JSON
	bCBQueue   = []byte("cbqueue")   // id(8) -> nil, callbacks not yet finished
	bOutbox    = []byte("outbox")    // id(8) -> Message JSON
	bOutQueue  = []byte("outqueue")  // next(8)|id(8) -> nil, messages still to send
	bOutSID    = []byte("outsid")    // carrier sid -> id(8)
	bOptOut    = []byte("optout")    // caller -> OptOut JSON
	bRatings   = []byte("ratings")   // caller -> pendingRating JSON
	bContacts  = []byte("contacts")  // seq(8) -> Contact JSON: every inbound contact
	bCalls     = []byte("calls")     // CallSid -> Call JSON
	bStats     = []byte("stats")     // day(8 "20261126")|metric -> uint64
	bSamples   = []byte("samples")   // metric|0|day(8)|seq(8) -> uint64
	bAudit     = []byte("audit")     // seq(8) -> AuditEntry JSON

	allBuckets = [][]byte{bMeta, bCases, bEvents, bCallers, bSteps, bDue, bCallbacks, bCBQueue,
		bOutbox, bOutQueue, bOutSID, bOptOut, bRatings, bContacts, bCalls, bStats, bSamples, bAudit}

	keySchema = []byte("schema_version")
)

// Options configure a Log. Zero values take the defaults noted.
type Options struct {
	Region    string           // for callers written without '+'; default "CN"
	Calendar  Calendar         // working days; default Monday-Friday in UTC
	Deadlines Deadlines        // default DefaultDeadlines
	Compose   Composer         // SMS texts; default a plain bilingual text
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger
	// MaxBatch bounds how many steps share one commit; default 256.
	MaxBatch int
	// NoSync skips fsync (tests and bulk loads only: a crash may lose data).
	NoSync bool
	// Timeout for acquiring the file lock; default 1s, so that a second
	// server on the same file fails fast instead of hanging.
	Timeout time.Duration
	// MaxCallbackAttempts before a callback counts as failed; default 3.
	MaxCallbackAttempts int
	// CallbackRetryDelay after an unanswered callback attempt grows with each
	// attempt; default 30 minutes.
	CallbackRetryDelay time.Duration
	// KeyRetention is how long the key (the carrier's id) of a step that
	// opened no case is remembered for idempotency; default
	// DefaultKeyRetention. Keys of steps that opened a case are kept for good.
	KeyRetention time.Duration
}

// Log is an open case log. It is safe for concurrent use.
type Log struct {
	db   *bolt.DB
	opts Options
	log  *slog.Logger

	reqs     chan *request
	quit     chan struct{}
	done     chan struct{}
	closeMu  sync.RWMutex
	closed   bool
	outboxCh chan struct{}

	commits, steps atomic.Int64
	keys           stepKeys

	normMu sync.RWMutex
	norm   map[string]string // written caller -> E.164 ("" for invalid)

	dueMu    sync.Mutex
	dueCache map[dueCacheKey]time.Time
}

// CommitStats reports how many commits the writer made and how many steps
// they carried; steps/commits is the mean group-commit batch size.
func (l *Log) CommitStats() (commits, steps int64) { return l.commits.Load(), l.steps.Load() }

// Open opens or creates the log at path and starts its writer.
func Open(path string, opts Options) (*Log, error) {
	if opts.Region == "" {
		opts.Region = "CN"
	}
	if opts.Deadlines == (Deadlines{}) {
		opts.Deadlines = DefaultDeadlines
	}
	if opts.Compose == nil {
		opts.Compose = DefaultComposer
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Timeout <= 0 {
		opts.Timeout = time.Second
	}
	if opts.MaxCallbackAttempts <= 0 {
		opts.MaxCallbackAttempts = 3
	}
	if opts.CallbackRetryDelay <= 0 {
		opts.CallbackRetryDelay = 30 * time.Minute
	}
	if opts.KeyRetention <= 0 {
		opts.KeyRetention = DefaultKeyRetention
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: opts.Timeout, NoSync: opts.NoSync, FreelistType: bolt.FreelistMapType,
		// Map a large range up front: growing the map blocks writers until
		// every reader is done, which stalls the group commit under load.
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("open case log %s: %w", path, err)
	}
	if err := db.Update(func(btx *bolt.Tx) error { return initSchema(btx, opts.Now()) }); err != nil {
		db.Close()
		return nil, fmt.Errorf("open case log %s: %w", path, err)
	}
	l := &Log{
		db:       db,
		opts:     opts,
		log:      opts.Logger.With("comp", "caselog"),
		reqs:     make(chan *request, 4096),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		outboxCh: make(chan struct{}, 1),
		norm:     make(map[string]string),
		dueCache: make(map[dueCacheKey]time.Time),
	}
	if err := l.loadKeys(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open case log %s: %w", path, err)
	}
	go l.writer()
	return l, nil
}

func initSchema(tx *bolt.Tx, now time.Time) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	meta := tx.Bucket(bMeta)
	v := meta.Get(keySchema)
	switch {
	case v == nil:
		return meta.Put(keySchema, u64(SchemaVersion))
	case len(v) != 8:
		return fmt.Errorf("schema version %x: %w", v, ErrSchema)
	case binary.BigEndian.Uint64(v) > SchemaVersion:
		return fmt.Errorf("file has schema %d, this release reads up to %d: %w", binary.BigEndian.Uint64(v), SchemaVersion, ErrSchema)
	case binary.BigEndian.Uint64(v) == SchemaVersion:
		return nil
	}
	// Version 1 kept the step keys in a B-tree of their own.
	if err := migrateKeys(tx, now); err != nil {
		return fmt.Errorf("migrate schema 1 to 2: %w", err)
	}
	return meta.Put(keySchema, u64(SchemaVersion))
}

// Close waits for queued steps to commit and closes the file.
func (l *Log) Close() error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return nil
	}
	l.closed = true
	l.closeMu.Unlock()
	close(l.quit)
	<-l.done
	return l.db.Close()
}

// Path is the file the log lives in.
func (l *Log) Path() string { return l.db.Path() }

// Options returns the options the log runs with (defaults filled in).
func (l *Log) Options() Options { return l.opts }

// Now is the log's clock.
func (l *Log) Now() time.Time { return l.opts.Now() }

// OutboxSignal is written to (without blocking) after a commit that queued
// an outbound SMS, so that a sender wakes at once instead of on its next poll.
func (l *Log) OutboxSignal() <-chan struct{} { return l.outboxCh }

type request struct {
	key    string
	fn     func(*Tx) (Result, error)
	res    Result
	replay bool
	err    error
	outbox bool
	done   chan struct{}
}

// Do runs fn in a write transaction and returns after the commit is on disk.
// With a non-empty key, a step already done under that key is not run again:
// Do returns the stored Result and replay true. An error from fn rolls the
// step back, and nothing of it is stored (a retry runs it again).
func (l *Log) Do(ctx context.Context, key string, fn func(*Tx) (Result, error)) (res Result, replay bool, err error) {
	r := &request{key: key, fn: fn, done: make(chan struct{})}
	l.closeMu.RLock()
	if l.closed {
		l.closeMu.RUnlock()
		return Result{}, false, ErrClosed
	}
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		l.closeMu.RUnlock()
		return Result{}, false, ctx.Err()
	}
	l.closeMu.RUnlock()
	// Once queued, the step will be committed or fail; wait for it even if the
	// caller gives up, so that a consumer is never told a number that is then
	// rolled back (the caller's ctx only bounds the queueing).
	<-r.done
	return r.res, r.replay, r.err
}

// Update is Do without a key, for staff actions.
func (l *Log) Update(ctx context.Context, fn func(*Tx) error) error {
	_, _, err := l.Do(ctx, "", func(tx *Tx) (Result, error) { return Result{}, fn(tx) })
	return err
}

// View runs fn in a read-only transaction.
func (l *Log) View(fn func(*Tx) error) error {
	return l.db.View(func(btx *bolt.Tx) error {
		return fn(&Tx{btx: btx, l: l, now: l.opts.Now()})
	})
}

// writer owns the write path. It takes every step that queued while the
// previous commit was syncing and commits them together; no timer, so a lone
// writer pays no extra latency and a crowd shares fsyncs.
func (l *Log) writer() {
	defer close(l.done)
	batch := make([]*request, 0, l.opts.MaxBatch)
	last := 0 // size of the previous batch: the writers it released
	for {
		batch = l.fill(batch[:0]) // what queued while the last commit synced
		queued := len(batch)
		if queued == 0 {
			select {
			case r := <-l.reqs:
				batch = l.fill(append(batch, r))
			case <-l.quit:
				// Drain what was queued before Close.
				for {
					select {
					case r := <-l.reqs:
						l.commit([]*request{r})
					default:
						return
					}
				}
			}
		}
		// The writers released by the previous commit may be on their way
		// back with their next step. Yield (no timer) until they have joined
		// this batch: otherwise they queue during this commit and the crowd
		// splits into two half-size batches that pay for two fsyncs. Stop as
		// soon as none has arrived for maxIdle (they went elsewhere, as HTTP
		// handlers do), and after maxLinger in any case. A lone writer
		// (queued 0, last 1) never waits.
		if len(batch) < queued+last {
			start := time.Now()
			arrived := start
			for len(batch) < queued+last {
				runtime.Gosched()
				n := len(batch)
				batch = l.fill(batch)
				now := time.Now()
				if len(batch) > n {
					arrived = now
				} else if now.Sub(arrived) > maxIdle || now.Sub(start) > maxLinger {
					break
				}
			}
		}
		last = len(batch)
		l.commit(batch)
	}
}

// How long the writer yields for released writers to come back: a commit's
// fsyncs take about a millisecond here, and a writer that returns with a
// new step does so within microseconds.
const (
	maxLinger = 200 * time.Microsecond
	maxIdle   = 30 * time.Microsecond
)

// fill takes whatever is queued now, without waiting.
func (l *Log) fill(batch []*request) []*request {
	for len(batch) < l.opts.MaxBatch {
		select {
		case r := <-l.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

var errRetrySolo = errors.New("a step failed; re-running the batch one by one")

func (l *Log) commit(batch []*request) {
	err := l.db.Update(func(btx *bolt.Tx) error {
		if err := (&Tx{btx: btx, l: l, now: l.opts.Now()}).pruneSteps(); err != nil {
			return err
		}
		// Counters are summed over the batch and written once: a batch of
		// sixty cases touches each daily counter once, not sixty times.
		counts := map[string]int64{}
		for _, r := range batch {
			if err := l.run(btx, r, counts); err != nil {
				if len(batch) == 1 {
					return err
				}
				return errRetrySolo
			}
		}
		return flushCounts(btx, counts)
	})
	l.settleKeys(err == nil)
	if errors.Is(err, errRetrySolo) {
		for _, r := range batch {
			r.res, r.replay, r.outbox, r.err = Result{}, false, false, nil
			l.commit([]*request{r})
		}
		return
	}
	l.commits.Add(1)
	l.steps.Add(int64(len(batch)))
	signal := false
	for _, r := range batch {
		if err != nil {
			r.res, r.replay, r.err = Result{}, false, err
		}
		signal = signal || (r.outbox && err == nil)
		close(r.done)
	}
	if signal {
		select {
		case l.outboxCh <- struct{}{}:
		default:
		}
	}
}

// run executes one step inside the shared transaction.
func (l *Log) run(btx *bolt.Tx, r *request, counts map[string]int64) error {
	tx := &Tx{btx: btx, l: l, now: l.opts.Now(), counts: counts}
	if r.key != "" {
		res, ok, err := tx.stepResult(r.key)
		if err != nil {
			return err
		}
		if ok {
			r.res, r.replay = res, true
			return nil
		}
	}
	res, err := r.fn(tx)
	if err != nil {
		r.err = err
		return err
	}
	r.res, r.outbox = res, tx.queuedSMS
	if r.key != "" {
		return tx.storeStep(r.key, res)
	}
	return nil
}

// WriteTo writes a consistent snapshot of the whole file to w while the log
// keeps serving (a read transaction: writers are not blocked).
func (l *Log) WriteTo(w io.Writer) (int64, error) {
	var n int64
	err := l.db.View(func(btx *bolt.Tx) error {
		var err error
		n, err = btx.WriteTo(w)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("snapshot case log: %w", err)
	}
	return n, nil
}

// Ping checks that the file is open and readable (for /healthz).
func (l *Log) Ping() error {
	l.closeMu.RLock()
	defer l.closeMu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	return l.db.View(func(btx *bolt.Tx) error {
		if btx.Bucket(bMeta) == nil {
			return ErrSchema
		}
		return nil
	})
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}
