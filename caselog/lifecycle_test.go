package caselog

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// legalMoves is written out by hand, independently of the transitions
// table, so that a change to the lifecycle has to change both.
var legalMoves = map[string]bool{
	"complaint received->accepted": true, "complaint received->rejected": true,
	"complaint received->transferred": true, "complaint received->withdrawn": true,
	"complaint accepted->mediating": true, "complaint accepted->transferred": true,
	"complaint accepted->withdrawn": true, "complaint accepted->closed": true,
	"complaint mediating->resolved": true, "complaint mediating->mediation_ended": true,
	"complaint mediating->withdrawn": true,
	"complaint transferred->closed":  true, "complaint resolved->closed": true,
	"complaint mediation_ended->closed": true, "complaint rejected->closed": true,
	"complaint withdrawn->closed": true,

	"report received->accepted": true, "report received->rejected": true,
	"report received->transferred": true, "report received->withdrawn": true,
	"report accepted->transferred": true, "report accepted->resolved": true,
	"report accepted->withdrawn":   true,
	"report transferred->resolved": true, "report transferred->closed": true,
	"report resolved->closed": true, "report rejected->closed": true, "report withdrawn->closed": true,
}

var simpleMoves = []string{
	"received->accepted", "received->resolved", "received->transferred", "received->rejected",
	"received->withdrawn", "received->closed", "accepted->resolved", "accepted->transferred",
	"accepted->closed", "transferred->resolved", "transferred->closed", "resolved->closed",
	"rejected->closed", "withdrawn->closed",
}

func init() {
	for _, k := range []Kind{Consultation, CallbackKind, Enquiry} {
		for _, m := range simpleMoves {
			legalMoves[string(k)+" "+m] = true
		}
	}
}

func TestCheckTransition_EveryPair(t *testing.T) {
	t.Parallel()
	for _, k := range Kinds {
		for _, from := range Statuses {
			for _, to := range Statuses {
				name := fmt.Sprintf("%s %s->%s", k, from, to)
				err := CheckTransition(k, from, to)
				if legalMoves[name] {
					if err != nil {
						t.Errorf("%s: want legal, got %v", name, err)
					}
					continue
				}
				var ite *IllegalTransitionError
				if !errors.As(err, &ite) || !errors.Is(err, ErrIllegalTransition) {
					t.Errorf("%s: want IllegalTransitionError, got %v", name, err)
					continue
				}
				for _, l := range ite.Legal {
					if !legalMoves[fmt.Sprintf("%s %s->%s", k, from, l)] {
						t.Errorf("%s: error lists %s as legal", name, l)
					}
				}
			}
		}
	}
	if err := CheckTransition(Complaint, Received, "done"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown status: got %v, want ErrInvalid", err)
	}
	if Legal(Complaint, Closed) != nil {
		t.Error("closed must be final")
	}
}

func TestCalendar_AddWorkdays(t *testing.T) {
	t.Parallel()
	cal := Calendar{
		Location: shanghai,
		Holidays: map[string]bool{"2026-10-01": true, "2026-10-02": true, "2026-10-05": true, "2026-10-06": true, "2026-10-07": true},
		Workdays: map[string]bool{"2026-10-10": true}, // a make-up Saturday
	}
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 23, 59, 59, 0, shanghai) }
	tests := []struct {
		name string
		from time.Time
		n    int
		want time.Time
	}{
		{"monday +7 skips a weekend", time.Date(2026, 11, 23, 10, 0, 0, 0, shanghai), 7, day(2026, 12, 2)},
		{"friday evening +1 is monday", time.Date(2026, 11, 27, 20, 0, 0, 0, shanghai), 1, day(2026, 11, 30)},
		{"saturday +1 is monday", time.Date(2026, 11, 28, 9, 0, 0, 0, shanghai), 1, day(2026, 11, 30)},
		{"golden week holidays skipped", time.Date(2026, 9, 30, 9, 0, 0, 0, shanghai), 2, day(2026, 10, 9)},
		{"make-up saturday counts", time.Date(2026, 9, 30, 9, 0, 0, 0, shanghai), 3, day(2026, 10, 10)},
		{"after the make-up saturday", time.Date(2026, 9, 30, 9, 0, 0, 0, shanghai), 4, day(2026, 10, 12)},
		{"utc friday evening is saturday in shanghai", time.Date(2026, 11, 27, 17, 0, 0, 0, time.UTC), 1, day(2026, 11, 30)},
		{"utc thursday evening is friday in shanghai", time.Date(2026, 11, 26, 17, 0, 0, 0, time.UTC), 1, day(2026, 11, 30)},
	}
	for _, tc := range tests {
		if got := cal.AddWorkdays(tc.from, tc.n); !got.Equal(tc.want) {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestDeadlines(t *testing.T) {
	t.Parallel()
	d := DefaultDeadlines
	tests := []struct {
		k    Kind
		s    Status
		want int
	}{
		{Complaint, Received, 7}, {Report, Received, 7}, {Complaint, Mediating, 45},
		{Complaint, Accepted, 45}, {Report, Accepted, 5}, {Report, Resolved, 5},
		{Report, Rejected, 5}, {Consultation, Received, 7}, {Complaint, Closed, 0},
	}
	for _, tc := range tests {
		if got := d.workingDays(tc.k, tc.s); got != tc.want {
			t.Errorf("%s/%s: %d working days, want %d", tc.k, tc.s, got, tc.want)
		}
	}
}
