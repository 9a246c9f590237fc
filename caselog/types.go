package caselog

import "time"

// Media is an attachment a consumer sent (MMS) or a recording.
type Media struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type,omitempty"`
}

// Case is what a consumer told us and where it stands. Events are filled in
// by Get only.
type Case struct {
	Number       string    `json:"number"`
	Caller       string    `json:"caller"`
	Channel      Channel   `json:"channel"`
	Kind         Kind      `json:"kind"`
	Status       Status    `json:"status"`
	Lang         string    `json:"lang"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	DueAt        time.Time `json:"due_at"`
	Text         string    `json:"text"`
	RecordingURL string    `json:"recording_url"`
	Media        []Media   `json:"media"`
	Department   string    `json:"department,omitempty"`
	Reason       string    `json:"reason,omitempty"`
	Referral     string    `json:"referral,omitempty"`
	Rating       int       `json:"rating,omitempty"`
	Source       string    `json:"source,omitempty"` // the carrier id that opened it
	Events       []Event   `json:"events,omitempty"`

	events uint32 // how many events exist; the next event's index
}

// Overdue reports whether the case has passed its due time unfinished.
func (c Case) Overdue(now time.Time) bool {
	return !Final(c.Status) && !c.DueAt.IsZero() && now.After(c.DueAt)
}

// Event types.
const (
	EventOpened     = "opened"
	EventStatus     = "status"
	EventNote       = "note"
	EventAttachment = "attachment"
	EventSMS        = "sms"
	EventCallback   = "callback"
	EventRating     = "rating"
	EventContact    = "contact"
)

// Event is one entry of a case's append-only history.
type Event struct {
	At     time.Time         `json:"at"`
	Actor  string            `json:"actor"` // a staff name, "consumer" or "system"
	Type   string            `json:"type"`
	From   Status            `json:"from,omitempty"`
	To     Status            `json:"to,omitempty"`
	Note   string            `json:"note,omitempty"`
	Media  []Media           `json:"media,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// NewCase is a contact that opens a case.
type NewCase struct {
	Caller       string // any written form; stored as E.164 when it parses
	Channel      Channel
	Kind         Kind
	Lang         string
	Text         string
	RecordingURL string
	Media        []Media
	Source       string // carrier id (MessageSid, CallSid, RecordingSid)
	Actor        string // "" means "consumer"
	// Notify queues an SMS that tells the consumer the case number, through
	// the Composer (a case opened by voice). An SMS-opened case is answered
	// in the TwiML reply instead.
	Notify bool
}

// Transition is a staff decision on a case.
type Transition struct {
	To         Status `json:"status"`
	Actor      string `json:"actor"`
	Note       string `json:"note"`
	Department string `json:"department"` // for transferred
	Reason     string `json:"reason"`     // for rejected and mediation_ended
	Referral   string `json:"referral"`   // whom to contact where another body is responsible
}

// Result is what an idempotent step leaves behind for its retries.
type Result struct {
	Case     string            `json:"case,omitempty"`
	Callback string            `json:"callback,omitempty"`
	Reply    string            `json:"reply,omitempty"`
	Data     map[string]string `json:"data,omitempty"`
}

// Notice is a change the consumer should hear about by SMS. The Composer
// turns it into text; caselog decides when one is due.
type Notice struct {
	Type NoticeType
	Case Case
	// For status notices, the transition that caused it.
	Transition Transition
}

// NoticeType names why an SMS is sent.
type NoticeType string

const (
	NoticeOpened         NoticeType = "opened"          // a case opened by voice: here is your number
	NoticeStatus         NoticeType = "status"          // the case changed status
	NoticeRatingRequest  NoticeType = "rating_request"  // reply 1-5
	NoticeCallbackFailed NoticeType = "callback_failed" // we tried to call you back
)

// Draft is an SMS the Composer wrote.
type Draft struct {
	Body   string
	Urgent bool // sent even in quiet hours
}

// Composer writes the SMS for a notice in the consumer's language; ok false
// means no SMS for that notice.
type Composer func(Notice) (d Draft, ok bool)
