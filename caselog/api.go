package caselog

import (
	"context"
	"time"
)

// The operations below are single steps for callers that need no more than
// one verb in a transaction (mostly staff). A second backend implements
// these and Do/View.

// Record opens a case for a contact, idempotent on key (the carrier's id):
// a retry returns the case the first call made, with created false.
func (l *Log) Record(ctx context.Context, key string, nc NewCase) (c Case, created bool, err error) {
	res, replay, err := l.Do(ctx, key, func(tx *Tx) (Result, error) {
		var err error
		c, err = tx.OpenCase(nc) // re-runs overwrite c, so c is what committed
		return Result{Case: c.Number}, err
	})
	if err != nil {
		return Case{}, false, err
	}
	if replay {
		c, err = l.Get(res.Case)
		return c, false, err
	}
	return c, true, nil
}

// Get reads a case with its whole history.
func (l *Log) Get(number string) (c Case, err error) {
	err = l.View(func(tx *Tx) error {
		c, err = tx.CaseWithEvents(number)
		return err
	})
	return c, err
}

// ByCaller returns a caller's cases newest first (any written form of the
// number; ErrBadCaller for text that cannot be one).
func (l *Log) ByCaller(caller string, limit int) (cs []Case, err error) {
	err = l.View(func(tx *Tx) error {
		cs, err = tx.ByCaller(caller, limit)
		return err
	})
	return cs, err
}

// Move applies a staff decision and queues the status SMS, in one step.
func (l *Log) Move(ctx context.Context, number string, t Transition) (c Case, err error) {
	err = l.Update(ctx, func(tx *Tx) error {
		c, err = tx.Move(number, t)
		return err
	})
	if err != nil {
		return Case{}, err
	}
	return l.Get(number)
}

// Callbacks lists the waiting callback entries in working order.
func (l *Log) Callbacks() (cbs []Callback, err error) {
	err = l.View(func(tx *Tx) error {
		cbs, err = tx.Callbacks()
		return err
	})
	return cbs, err
}

// EnqueueCallback adds a callback entry, idempotent on key when it is set.
func (l *Log) EnqueueCallback(ctx context.Context, key string, nc NewCallback) (Callback, error) {
	res, _, err := l.Do(ctx, key, func(tx *Tx) (Result, error) {
		cb, err := tx.EnqueueCallback(nc)
		return Result{Callback: cb.ID, Case: cb.Case}, err
	})
	if err != nil {
		return Callback{}, err
	}
	return l.Callback(res.Callback)
}

// Callback reads one callback entry.
func (l *Log) Callback(id string) (cb Callback, err error) {
	err = l.View(func(tx *Tx) error {
		cb, err = tx.Callback(id)
		return err
	})
	return cb, err
}

// Claim, Release and Complete are the queue's verbs as single steps.
func (l *Log) Claim(ctx context.Context, id, agent string, lease time.Duration) (cb Callback, err error) {
	err = l.Update(ctx, func(tx *Tx) error {
		cb, err = tx.Claim(id, agent, lease)
		return err
	})
	return cb, err
}

// Release gives a claimed callback back to the queue.
func (l *Log) Release(ctx context.Context, id, agent string) (cb Callback, err error) {
	err = l.Update(ctx, func(tx *Tx) error {
		cb, err = tx.Release(id, agent)
		return err
	})
	return cb, err
}

// Complete records a callback attempt's outcome.
func (l *Log) Complete(ctx context.Context, id, agent, outcome, note string) (cb Callback, err error) {
	err = l.Update(ctx, func(tx *Tx) error {
		cb, err = tx.Complete(id, agent, outcome, note)
		return err
	})
	return cb, err
}
