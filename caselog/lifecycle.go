package caselog

import (
	"fmt"
	"slices"
	"time"
)

// Channel is how the consumer reached us.
type Channel string

const (
	Voice Channel = "voice"
	SMS   Channel = "sms"
)

// Kind is what the consumer came for.
type Kind string

const (
	Complaint    Kind = "complaint"    // 投诉: a dispute with a business, mediated
	Report       Kind = "report"       // 举报: a tip about illegal conduct, investigated
	Consultation Kind = "consultation" // 咨询: a question
	CallbackKind Kind = "callback"     // 回拨: asked us to call back
	Enquiry      Kind = "enquiry"      // anything else a consumer sent us
)

// Kinds lists every kind, in the order reports show them.
var Kinds = []Kind{Complaint, Report, Consultation, CallbackKind, Enquiry}

// ParseKind checks a kind named by a caller of this package.
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	if slices.Contains(Kinds, k) {
		return k, nil
	}
	return "", fmt.Errorf("kind %q: %w", s, ErrInvalid)
}

// Status is where a case stands.
type Status string

const (
	Received       Status = "received"        // 登记: registered, waiting for a decision
	Accepted       Status = "accepted"        // 受理
	Rejected       Status = "rejected"        // 不予受理, with the reason and whom to contact
	Transferred    Status = "transferred"     // 转办: handed to another department
	Mediating      Status = "mediating"       // 调解中
	Resolved       Status = "resolved"        // 调解成功 / 办结: agreement reached, report handled, question answered
	MediationEnded Status = "mediation_ended" // 终止调解: no agreement
	Withdrawn      Status = "withdrawn"       // 撤回 by the consumer
	Closed         Status = "closed"          // 结案
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{Received, Accepted, Rejected, Transferred, Mediating, Resolved, MediationEnded, Withdrawn, Closed}

// transitions is the lifecycle, the one place that says which moves are
// legal. Complaints follow the State Administration for Market Regulation's
// complaint-handling rules: a decision to accept or reject within 7 working
// days, then mediation that ends in agreement or is ended; reports are
// investigated and the named reporter told of the outcome; questions and
// other contacts are simply answered.
var transitions = map[Kind]map[Status][]Status{
	Complaint: {
		Received:       {Accepted, Rejected, Transferred, Withdrawn},
		Accepted:       {Mediating, Transferred, Withdrawn, Closed},
		Mediating:      {Resolved, MediationEnded, Withdrawn},
		Transferred:    {Closed},
		Resolved:       {Closed},
		MediationEnded: {Closed},
		Rejected:       {Closed},
		Withdrawn:      {Closed},
	},
	Report: {
		Received:    {Accepted, Rejected, Transferred, Withdrawn},
		Accepted:    {Transferred, Resolved, Withdrawn},
		Transferred: {Resolved, Closed},
		Resolved:    {Closed},
		Rejected:    {Closed},
		Withdrawn:   {Closed},
	},
}

// simpleFlow is shared by consultations, callbacks and other contacts.
var simpleFlow = map[Status][]Status{
	Received:    {Accepted, Resolved, Transferred, Rejected, Withdrawn, Closed},
	Accepted:    {Resolved, Transferred, Closed},
	Transferred: {Resolved, Closed},
	Resolved:    {Closed},
	Rejected:    {Closed},
	Withdrawn:   {Closed},
}

func flow(k Kind) map[Status][]Status {
	if f, ok := transitions[k]; ok {
		return f
	}
	return simpleFlow
}

// Legal returns the statuses a case of kind k may move to from s.
func Legal(k Kind, s Status) []Status {
	return slices.Clone(flow(k)[s])
}

// CheckTransition returns nil when a case of kind k may move from one status
// to another, and an *IllegalTransitionError otherwise.
func CheckTransition(k Kind, from, to Status) error {
	if !slices.Contains(Statuses, to) {
		return fmt.Errorf("status %q: %w", to, ErrInvalid)
	}
	legal := flow(k)[from]
	if slices.Contains(legal, to) {
		return nil
	}
	return &IllegalTransitionError{Kind: k, From: from, To: to, Legal: slices.Clone(legal)}
}

// Final reports whether nothing more is due on a case in status s.
func Final(s Status) bool { return s == Closed }

// Deadlines are the working-day limits, per kind and status, that set a
// case's due_at. The zero value is not useful; start from DefaultDeadlines.
type Deadlines struct {
	Accept    int // decide to accept or reject a complaint or report
	Mediation int // mediation ends without agreement after this many
	Report    int // tell a named reporter of the decision
	Answer    int // answer a question or call back
	Close     int // close a case once its outcome is settled
}

// DefaultDeadlines are those of China's complaint-handling rules.
var DefaultDeadlines = Deadlines{Accept: 7, Mediation: 45, Report: 5, Answer: 7, Close: 5}

// workingDays says how many working days a case of kind k has in status s
// before it is overdue; 0 means nothing is due.
func (d Deadlines) workingDays(k Kind, s Status) int {
	switch s {
	case Received:
		if k == Complaint || k == Report {
			return d.Accept
		}
		return d.Answer
	case Accepted, Transferred:
		switch k {
		case Complaint:
			return d.Mediation
		case Report:
			return d.Report
		}
		return d.Answer
	case Mediating:
		return d.Mediation
	case Resolved, Rejected, MediationEnded, Withdrawn:
		if k == Report && s != Withdrawn {
			return d.Report // the reporter is told within this many days of the decision
		}
		return d.Close
	}
	return 0
}

// Calendar counts working days in a time zone: Monday to Friday, less
// holidays, plus make-up working days (调休) that fall on weekends.
type Calendar struct {
	Location *time.Location
	Holidays map[string]bool // "2026-10-01"
	Workdays map[string]bool // weekend days that are working days
}

func (c Calendar) loc() *time.Location {
	if c.Location == nil {
		return time.UTC
	}
	return c.Location
}

// IsWorkday reports whether the local date of t is a working day.
func (c Calendar) IsWorkday(t time.Time) bool {
	t = t.In(c.loc())
	d := t.Format(time.DateOnly)
	if c.Workdays[d] {
		return true
	}
	if c.Holidays[d] {
		return false
	}
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// AddWorkdays returns the end (23:59:59 local) of the n-th working day after
// the day of t. A contact that arrives on a holiday or after hours still has
// n whole working days.
func (c Calendar) AddWorkdays(t time.Time, n int) time.Time {
	t = t.In(c.loc())
	day := time.Date(t.Year(), t.Month(), t.Day(), 12, 0, 0, 0, c.loc())
	for n > 0 {
		day = day.AddDate(0, 0, 1)
		if c.IsWorkday(day) {
			n--
		}
	}
	return time.Date(day.Year(), day.Month(), day.Day(), 23, 59, 59, 0, c.loc())
}
