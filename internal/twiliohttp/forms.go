package twiliohttp

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
)

// ErrRequired is the cause in a FieldError for a required field that is
// missing or blank.
var ErrRequired = errors.New("required")

// FieldError names the form field Decode could not fill.
type FieldError struct {
	Field string // the form name, e.g. "CallSid"
	Err   error  // ErrRequired or the reason a value did not parse
}

func (e *FieldError) Error() string { return "form field " + e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

// Decode fills the struct dst points to from the request's form (body
// parameters first, then URL query parameters, as http.Request.Form orders
// them). A field takes the value named by its `form:"Name"` tag; fields of type
// string, int, int64, float64 and bool are supported, and a blank value leaves
// the zero value (strings keep
// whitespace as sent). A field tagged `validate:"required"` must be present and not
// blank. All field problems are returned joined, each a *FieldError.
//
// Decode zeroes dst first, so a struct can be reused. It calls ParseForm,
// which is a no-op after Verifier's middleware.
func Decode(r *http.Request, dst any) error {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("twiliohttp.Decode: want a pointer to a struct, got %T", dst)
	}
	if err := r.ParseForm(); err != nil {
		return fmt.Errorf("parse form: %w", err)
	}
	v := rv.Elem()
	v.SetZero()
	if err := decodeValues(r.Form, v); err != nil {
		return err
	}
	if k, ok := dst.(formKeeper); ok {
		k.keepForm(r.Form)
	}
	return nil
}

// formKeeper is implemented by forms that read numbered parameters
// (MediaUrl0..N) after decoding.
type formKeeper interface{ keepForm(url.Values) }

func decodeValues(values url.Values, v reflect.Value) error {
	t := v.Type()
	var errs []error
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := f.Tag.Lookup("form")
		if !ok || name == "-" || !f.IsExported() {
			continue
		}
		raw := values.Get(name)
		blank := strings.TrimSpace(raw) == ""
		if blank && f.Tag.Get("validate") == "required" {
			errs = append(errs, &FieldError{Field: name, Err: ErrRequired})
			continue
		}
		fv := v.Field(i)
		// A string keeps what was sent, even spaces (an SMS body is evidence);
		// a blank number or flag is simply absent.
		if raw == "" || (blank && fv.Kind() != reflect.String) {
			continue
		}
		if err := setField(fv, raw); err != nil {
			errs = append(errs, &FieldError{Field: name, Err: err})
		}
	}
	return errors.Join(errs...)
}

// setField parses raw into fv. Errors do not quote the value: form values
// carry phone numbers and message text.
func setField(fv reflect.Value, raw string) error {
	switch fv.Kind() {
	case reflect.String:
		fv.SetString(raw)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || fv.OverflowInt(n) {
			return errors.New("not an integer")
		}
		fv.SetInt(n)
	case reflect.Float64:
		x, err := strconv.ParseFloat(strings.TrimSpace(raw), 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("not a number")
		}
		fv.SetFloat(x)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return errors.New("not true or false")
		}
		fv.SetBool(b)
	default:
		return fmt.Errorf("unsupported field type %s", fv.Type())
	}
	return nil
}

// VoiceForm is every parameter Twilio posts to a voice webhook: the incoming
// call, <Gather>/<Record>/<Dial> actions, recording and transcription status
// callbacks and call status callbacks. Which fields are set depends on the
// request; only CallSid is always there.
type VoiceForm struct {
	AccountSid    string `form:"AccountSid"`
	ApiVersion    string `form:"ApiVersion"`
	CallSid       string `form:"CallSid" validate:"required"`
	ParentCallSid string `form:"ParentCallSid"`
	CallStatus    string `form:"CallStatus"`
	CallToken     string `form:"CallToken"`
	Direction     string `form:"Direction"`
	ForwardedFrom string `form:"ForwardedFrom"`
	CallerName    string `form:"CallerName"`
	StirVerstat   string `form:"StirVerstat"`

	From        string `form:"From"`
	FromCity    string `form:"FromCity"`
	FromState   string `form:"FromState"`
	FromZip     string `form:"FromZip"`
	FromCountry string `form:"FromCountry"`
	To          string `form:"To"`
	ToCity      string `form:"ToCity"`
	ToState     string `form:"ToState"`
	ToZip       string `form:"ToZip"`
	ToCountry   string `form:"ToCountry"`

	// Caller and Called duplicate From and To (Twilio's older names).
	Caller        string `form:"Caller"`
	CallerCity    string `form:"CallerCity"`
	CallerState   string `form:"CallerState"`
	CallerZip     string `form:"CallerZip"`
	CallerCountry string `form:"CallerCountry"`
	Called        string `form:"Called"`
	CalledCity    string `form:"CalledCity"`
	CalledState   string `form:"CalledState"`
	CalledZip     string `form:"CalledZip"`
	CalledCountry string `form:"CalledCountry"`

	// <Gather>
	Digits        string  `form:"Digits"`
	FinishedOnKey string  `form:"FinishedOnKey"`
	SpeechResult  string  `form:"SpeechResult"`
	Confidence    float64 `form:"Confidence"`

	// <Record> action and recording status callback
	RecordingSid       string `form:"RecordingSid"`
	RecordingUrl       string `form:"RecordingUrl"`
	RecordingDuration  int    `form:"RecordingDuration"`
	RecordingStatus    string `form:"RecordingStatus"`
	RecordingChannels  int    `form:"RecordingChannels"`
	RecordingSource    string `form:"RecordingSource"`
	RecordingStartTime string `form:"RecordingStartTime"`
	RecordingTrack     string `form:"RecordingTrack"`

	// transcribeCallback
	TranscriptionSid    string `form:"TranscriptionSid"`
	TranscriptionText   string `form:"TranscriptionText"`
	TranscriptionStatus string `form:"TranscriptionStatus"`
	TranscriptionUrl    string `form:"TranscriptionUrl"`

	// <Dial> action
	DialCallSid      string `form:"DialCallSid"`
	DialCallStatus   string `form:"DialCallStatus"`
	DialCallDuration int    `form:"DialCallDuration"`
	DialBridged      bool   `form:"DialBridged"`

	// call status callback
	CallDuration    int    `form:"CallDuration"`
	Duration        int    `form:"Duration"`
	CallbackSource  string `form:"CallbackSource"`
	SequenceNumber  int    `form:"SequenceNumber"`
	Timestamp       string `form:"Timestamp"`
	SipResponseCode int    `form:"SipResponseCode"`
	AnsweredBy      string `form:"AnsweredBy"`

	// ErrorCode stays text: Twilio sends "" or "0" for none, and a decoding
	// failure on it must not cost us the recording it reports on.
	ErrorCode    string `form:"ErrorCode"`
	ErrorMessage string `form:"ErrorMessage"`
}

// MaxMedia is the most media Twilio attaches to one message.
const MaxMedia = 10

// SMSForm is what Twilio posts for an incoming SMS, MMS or WhatsApp message.
type SMSForm struct {
	MessageSid          string `form:"MessageSid" validate:"required"`
	SmsSid              string `form:"SmsSid"`
	SmsMessageSid       string `form:"SmsMessageSid"`
	AccountSid          string `form:"AccountSid"`
	MessagingServiceSid string `form:"MessagingServiceSid"`
	ApiVersion          string `form:"ApiVersion"`
	SmsStatus           string `form:"SmsStatus"`

	From        string `form:"From" validate:"required"`
	FromCity    string `form:"FromCity"`
	FromState   string `form:"FromState"`
	FromZip     string `form:"FromZip"`
	FromCountry string `form:"FromCountry"`
	To          string `form:"To"`
	ToCity      string `form:"ToCity"`
	ToState     string `form:"ToState"`
	ToZip       string `form:"ToZip"`
	ToCountry   string `form:"ToCountry"`

	Body             string `form:"Body"`
	NumMedia         int    `form:"NumMedia"`
	NumSegments      int    `form:"NumSegments"`
	ReferralNumMedia int    `form:"ReferralNumMedia"`
	// OptOutType is set by Advanced Opt-Out: STOP, START or HELP.
	OptOutType string `form:"OptOutType"`

	// WhatsApp
	ProfileName   string  `form:"ProfileName"`
	WaId          string  `form:"WaId"`
	ButtonText    string  `form:"ButtonText"`
	ButtonPayload string  `form:"ButtonPayload"`
	Latitude      float64 `form:"Latitude"`
	Longitude     float64 `form:"Longitude"`
	Address       string  `form:"Address"`
	Label         string  `form:"Label"`

	form url.Values // for MediaUrl0..N
}

func (f *SMSForm) keepForm(v url.Values) { f.form = v }

// Media is one attachment of an incoming MMS.
type Media struct {
	URL         string
	ContentType string
}

// Media returns the attachments MediaUrl0..MediaUrl{NumMedia-1}, at most
// MaxMedia of them, skipping numbers without a URL. It is empty unless the
// form came from Decode.
func (f SMSForm) Media() []Media {
	n := min(f.NumMedia, MaxMedia)
	var out []Media
	for i := range max(n, 0) {
		s := strconv.Itoa(i)
		u := f.form.Get("MediaUrl" + s)
		if u == "" {
			continue
		}
		out = append(out, Media{URL: u, ContentType: f.form.Get("MediaContentType" + s)})
	}
	return out
}

// StatusForm is an outbound message status callback.
type StatusForm struct {
	MessageSid          string `form:"MessageSid" validate:"required"`
	MessageStatus       string `form:"MessageStatus" validate:"required"`
	SmsSid              string `form:"SmsSid"`
	SmsStatus           string `form:"SmsStatus"`
	AccountSid          string `form:"AccountSid"`
	MessagingServiceSid string `form:"MessagingServiceSid"`
	ApiVersion          string `form:"ApiVersion"`
	From                string `form:"From"`
	To                  string `form:"To"`
	// ErrorCode is Twilio's numeric error (30003 unreachable, 30007 filtered,
	// 21610 unsubscribed …) as text; "" when the message did not fail.
	ErrorCode      string `form:"ErrorCode"`
	ErrorMessage   string `form:"ErrorMessage"`
	RawDlrDoneDate string `form:"RawDlrDoneDate"`
	// Channel fields (WhatsApp and other channels)
	ChannelPrefix        string `form:"ChannelPrefix"`
	ChannelInstallSid    string `form:"ChannelInstallSid"`
	ChannelStatusMessage string `form:"ChannelStatusMessage"`
	ChannelToAddress     string `form:"ChannelToAddress"`
	EventType            string `form:"EventType"`
}
