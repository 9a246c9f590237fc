// Package caselog is the hotline's durable record: numbered cases, what each
// consumer told us, everything that happened to a case since, the callback
// queue, the outbound SMS outbox and the opt-out list, in one bbolt file.
//
// # Basics
//
// Open a log with [Open]; every change goes through [Log.Do], which runs a
// function against a [Tx] inside a write transaction and returns only after
// that transaction has committed and reached the disk. A webhook answers the
// carrier after Do returns, so that a case number a consumer heard or read
// exists. Do is idempotent on its key (the carrier's MessageSid, CallSid plus
// step, RecordingSid): a retry returns the [Result] stored the first time and
// does not run the function again. The check and the write are one
// transaction.
//
// Concurrent calls to Do share a commit (group commit): one goroutine owns the
// write path and commits everything that queued while the previous commit was
// syncing, so sixty-four writers pay for a handful of fsyncs, not sixty-four.
// Functions passed to Do may therefore run more than once (when a batch is
// rolled back because another function in it failed, each is re-run alone)
// and must touch nothing but the Tx.
//
// # Caveats
//
// Values read from a Tx are copies; they stay valid after the transaction.
// Statistics come from counters kept in the same transactions as the changes
// they count; nothing here walks the whole log on a request or at start.
package caselog
