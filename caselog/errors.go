package caselog

import (
	"errors"
	"fmt"
	"strings"
)

// Errors that callers branch on. They are wrapped with context; test with errors.Is.
var (
	// ErrNotFound: no case, callback or message with that number or id.
	ErrNotFound = errors.New("not found")
	// ErrBadNumber: the text is not a case number (wrong length, not digits,
	// or a check digit that does not match: a mistyped number).
	ErrBadNumber = errors.New("not a valid case number")
	// ErrBadCaller: the text cannot be a phone number.
	ErrBadCaller = errors.New("not a phone number")
	// ErrIllegalTransition: the lifecycle does not allow that move from the
	// case's current status. The error is an *IllegalTransitionError.
	ErrIllegalTransition = errors.New("illegal transition")
	// ErrClaimed: someone else holds a live lease on the callback.
	ErrClaimed = errors.New("claimed by someone else")
	// ErrDone: the callback is finished and cannot be claimed or completed.
	ErrDone = errors.New("callback already finished")
	// ErrNotYours: the case belongs to another caller.
	ErrNotYours = errors.New("case belongs to another caller")
	// ErrNoRatingPending: nobody asked this number for a rating in the last 7 days.
	ErrNoRatingPending = errors.New("no rating pending")
	// ErrInvalid: an argument is outside what the operation accepts (an
	// unknown status, outcome or kind). The message says which.
	ErrInvalid = errors.New("invalid argument")
	// ErrClosed: the log has been closed.
	ErrClosed = errors.New("case log closed")
	// ErrSchema: the file was written by a newer release or is not a case log.
	ErrSchema = errors.New("unsupported case log schema")
)

// IllegalTransitionError says which move was refused and which were legal.
type IllegalTransitionError struct {
	Kind     Kind
	From, To Status
	Legal    []Status
}

func (e *IllegalTransitionError) Error() string {
	legal := make([]string, len(e.Legal))
	for i, s := range e.Legal {
		legal[i] = string(s)
	}
	if len(legal) == 0 {
		return fmt.Sprintf("%s case cannot move from %s to %s: %s is final", e.Kind, e.From, e.To, e.From)
	}
	return fmt.Sprintf("%s case cannot move from %s to %s; legal: %s", e.Kind, e.From, e.To, strings.Join(legal, ", "))
}

// Is makes errors.Is(err, ErrIllegalTransition) true.
func (e *IllegalTransitionError) Is(target error) bool { return target == ErrIllegalTransition }
