package twiliohttp

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func formRequest(target, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func TestDecode_Fixtures(t *testing.T) {
	t.Parallel()
	const rec = "https://api.twilio.com/2010-04-01/Accounts/AC3f1b4c2d9e8a7b6c5d4e3f2a1b0c9d8e/Recordings/RE8f2c1d0e3b4a59687766554433221100"
	tests := []struct {
		file  string
		dst   any
		check func(t *testing.T, dst any)
	}{
		{"voice_incoming", &VoiceForm{}, func(t *testing.T, d any) {
			f := d.(*VoiceForm)
			want := [][2]string{
				{f.CallSid, "CA5e0d7c1b2a39485766554433221100ff"}, {f.AccountSid, "AC3f1b4c2d9e8a7b6c5d4e3f2a1b0c9d8e"},
				{f.From, "+8613800138000"}, {f.To, "+15017122661"}, {f.Caller, "+8613800138000"}, {f.Called, "+15017122661"},
				{f.CallStatus, "ringing"}, {f.Direction, "inbound"}, {f.FromCountry, "CN"}, {f.ToCountry, "US"},
				{f.ApiVersion, "2010-04-01"}, {f.CallToken, `{"parentCallInfoToken":"eyJhbGciOiJFUzI1NiJ9","identityHeaderTokens":[]}`},
			}
			for i, w := range want {
				if w[0] != w[1] {
					t.Errorf("field %d = %q, want %q", i, w[0], w[1])
				}
			}
		}},
		{"voice_gather", &VoiceForm{}, func(t *testing.T, d any) {
			if f := d.(*VoiceForm); f.Digits != "1" || f.CallStatus != "in-progress" {
				t.Errorf("Digits=%q CallStatus=%q", f.Digits, f.CallStatus)
			}
		}},
		{"voice_gather_speech", &VoiceForm{}, func(t *testing.T, d any) {
			if f := d.(*VoiceForm); f.SpeechResult != "我要投诉" || f.Confidence != 0.87412345 {
				t.Errorf("SpeechResult=%q Confidence=%v", f.SpeechResult, f.Confidence)
			}
		}},
		{"voice_record_action", &VoiceForm{}, func(t *testing.T, d any) {
			f := d.(*VoiceForm)
			if f.RecordingSid != "RE8f2c1d0e3b4a59687766554433221100" || f.RecordingUrl != rec || f.RecordingDuration != 42 || f.Digits != "#" {
				t.Errorf("%+v", f)
			}
		}},
		{"voice_recording_status", &VoiceForm{}, func(t *testing.T, d any) {
			f := d.(*VoiceForm)
			if f.RecordingStatus != "completed" || f.RecordingChannels != 1 || f.RecordingSource != "RecordVerb" || f.ErrorCode != "0" || f.RecordingUrl != rec {
				t.Errorf("%+v", f)
			}
		}},
		{"voice_transcription", &VoiceForm{}, func(t *testing.T, d any) {
			f := d.(*VoiceForm)
			if f.TranscriptionStatus != "completed" || f.TranscriptionText != "The shop refused to refund a broken kettle." || f.TranscriptionSid == "" {
				t.Errorf("%+v", f)
			}
		}},
		{"voice_dial_action", &VoiceForm{}, func(t *testing.T, d any) {
			f := d.(*VoiceForm)
			if f.DialCallStatus != "no-answer" || f.DialBridged || f.DialCallDuration != 0 || f.DialCallSid == "" {
				t.Errorf("%+v", f)
			}
		}},
		{"voice_status_completed", &VoiceForm{}, func(t *testing.T, d any) {
			f := d.(*VoiceForm)
			if f.CallStatus != "completed" || f.CallDuration != 87 || f.Duration != 2 || f.CallbackSource != "call-progress-events" || f.Timestamp == "" {
				t.Errorf("%+v", f)
			}
		}},
		{"sms_incoming", &SMSForm{}, func(t *testing.T, d any) {
			f := d.(*SMSForm)
			if f.MessageSid != "SM1f2e3d4c5b6a79880f1e2d3c4b5a6978" || f.From != "+8613800138000" || f.Body != "投诉：某某电器城拒绝退还故障电水壶的货款" ||
				f.NumMedia != 0 || f.NumSegments != 1 || f.SmsStatus != "received" || f.FromCountry != "CN" || f.Media() != nil {
				t.Errorf("%+v media=%v", f, f.Media())
			}
		}},
		{"sms_mms", &SMSForm{}, func(t *testing.T, d any) {
			f := d.(*SMSForm)
			m := f.Media()
			if f.NumMedia != 2 || len(m) != 2 || m[0].ContentType != "image/jpeg" || m[1].ContentType != "application/pdf" ||
				!strings.HasSuffix(m[0].URL, "/Media/ME00112233445566778899aabbccddeeff") {
				t.Errorf("NumMedia=%d media=%+v", f.NumMedia, m)
			}
		}},
		{"sms_status_delivered", &StatusForm{}, func(t *testing.T, d any) {
			f := d.(*StatusForm)
			if f.MessageSid != "SMaa00bb11cc22dd33ee44ff5566778899" || f.MessageStatus != "delivered" || f.ErrorCode != "" || f.To != "+8613800138000" {
				t.Errorf("%+v", f)
			}
		}},
		{"sms_status_failed", &StatusForm{}, func(t *testing.T, d any) {
			f := d.(*StatusForm)
			if f.MessageStatus != "undelivered" || f.ErrorCode != "30003" || f.ErrorMessage != "Unreachable destination handset" {
				t.Errorf("%+v", f)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			if err := Decode(formRequest("/", readForm(t, tt.file)), tt.dst); err != nil {
				t.Fatal(err)
			}
			tt.check(t, tt.dst)
		})
	}
}

func TestDecode_Errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		body   string
		dst    any
		fields []string // FieldError.Field values expected, in order
		causes []error  // errors.Is targets
	}{
		{"voice without CallSid", "From=%2B8613800138000", &VoiceForm{}, []string{"CallSid"}, []error{ErrRequired}},
		{"blank CallSid", "CallSid=+++", &VoiceForm{}, []string{"CallSid"}, []error{ErrRequired}},
		{"SMS body posted to voice", readForm(t, "sms_incoming"), &VoiceForm{}, []string{"CallSid"}, []error{ErrRequired}},
		{"no params SMS", "", &SMSForm{}, []string{"MessageSid", "From"}, []error{ErrRequired}},
		{"status without status", "MessageSid=SM1", &StatusForm{}, []string{"MessageStatus"}, []error{ErrRequired}},
		{"bad int", "MessageSid=SM1&From=1&NumMedia=two", &SMSForm{}, []string{"NumMedia"}, nil},
		{"int overflow", "CallSid=CA1&CallDuration=99999999999999999999", &VoiceForm{}, []string{"CallDuration"}, nil},
		{"bad float", "CallSid=CA1&Confidence=high", &VoiceForm{}, []string{"Confidence"}, nil},
		{"NaN float", "CallSid=CA1&Confidence=NaN", &VoiceForm{}, []string{"Confidence"}, nil},
		{"bad bool", "CallSid=CA1&DialBridged=maybe", &VoiceForm{}, []string{"DialBridged"}, nil},
		{"every problem at once", "NumMedia=x&Latitude=y", &SMSForm{}, []string{"MessageSid", "From", "NumMedia", "Latitude"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Decode(formRequest("/", tt.body), tt.dst)
			if err == nil {
				t.Fatal("Decode succeeded")
			}
			var got []string
			for _, e := range unjoin(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Fatalf("error %v is not a *FieldError", e)
				}
				got = append(got, fe.Field)
				if !strings.HasPrefix(e.Error(), "form field "+fe.Field+": ") {
					t.Errorf("error %q does not name its field", e)
				}
			}
			if !reflect.DeepEqual(got, tt.fields) {
				t.Errorf("fields = %q, want %q", got, tt.fields)
			}
			for _, c := range tt.causes {
				if !errors.Is(err, c) {
					t.Errorf("error %v is not %v", err, c)
				}
			}
			if strings.Contains(err.Error(), "8613800138000") {
				t.Errorf("error leaks a phone number: %v", err)
			}
		})
	}
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestDecode_Behaviour(t *testing.T) {
	t.Parallel()
	t.Run("needs a pointer to a struct", func(t *testing.T) {
		t.Parallel()
		for _, dst := range []any{VoiceForm{}, (*VoiceForm)(nil), new(string), nil} {
			if err := Decode(formRequest("/", "CallSid=CA1"), dst); err == nil {
				t.Errorf("Decode(%T) succeeded", dst)
			}
		}
	})
	t.Run("unsupported field type", func(t *testing.T) {
		t.Parallel()
		var dst struct {
			When []string `form:"When"`
		}
		if err := Decode(formRequest("/", "When=now"), &dst); err == nil || !strings.Contains(err.Error(), "unsupported field type") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("query parameters fill in, body wins", func(t *testing.T) {
		t.Parallel()
		var f VoiceForm
		if err := Decode(formRequest("/twilio/voice/menu?CallSid=CAquery&Digits=9", "CallSid=CAbody"), &f); err != nil {
			t.Fatal(err)
		}
		if f.CallSid != "CAbody" || f.Digits != "9" {
			t.Errorf("CallSid=%q Digits=%q", f.CallSid, f.Digits)
		}
	})
	t.Run("blank numbers are absent, strings keep spaces", func(t *testing.T) {
		t.Parallel()
		var f SMSForm
		if err := Decode(formRequest("/", "MessageSid=SM1&From=%2B1&NumMedia=+&Body=++&Latitude="), &f); err != nil {
			t.Fatal(err)
		}
		if f.NumMedia != 0 || f.Body != "  " {
			t.Errorf("NumMedia=%d Body=%q", f.NumMedia, f.Body)
		}
	})
	t.Run("reuse zeroes the struct", func(t *testing.T) {
		t.Parallel()
		var f SMSForm
		if err := Decode(formRequest("/", readForm(t, "sms_mms")), &f); err != nil {
			t.Fatal(err)
		}
		if err := Decode(formRequest("/", "MessageSid=SM2&From=%2B1"), &f); err != nil {
			t.Fatal(err)
		}
		if f.Body != "" || f.NumMedia != 0 || f.Media() != nil || f.MessageSid != "SM2" {
			t.Errorf("stale fields after reuse: %+v", f)
		}
	})
	t.Run("untagged and dash fields are left alone", func(t *testing.T) {
		t.Parallel()
		var dst struct {
			A string `form:"A"`
			B string
			C string `form:"-"`
		}
		if err := Decode(formRequest("/", "A=1&B=2&C=3&-=4"), &dst); err != nil {
			t.Fatal(err)
		}
		if dst.A != "1" || dst.B != "" || dst.C != "" {
			t.Errorf("%+v", dst)
		}
	})
}

func TestSMSForm_Media(t *testing.T) {
	t.Parallel()
	many := "MessageSid=SM1&From=1&NumMedia=12"
	for i := range 12 {
		many += "&MediaUrl" + strconv.Itoa(i) + "=u" + strconv.Itoa(i) + "&MediaContentType" + strconv.Itoa(i) + "=image/png"
	}
	tests := []struct {
		name string
		body string
		want []string // URLs
	}{
		{"none", "MessageSid=SM1&From=1&NumMedia=0&MediaUrl0=u0", nil},
		{"capped at ten", many, []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}},
		{"NumMedia bounds the read", "MessageSid=SM1&From=1&NumMedia=1&MediaUrl0=u0&MediaUrl1=u1", []string{"u0"}},
		{"gaps skipped", "MessageSid=SM1&From=1&NumMedia=3&MediaUrl0=u0&MediaUrl2=u2", []string{"u0", "u2"}},
		{"negative count", "MessageSid=SM1&From=1&NumMedia=-2&MediaUrl0=u0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var f SMSForm
			if err := Decode(formRequest("/", tt.body), &f); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range f.Media() {
				got = append(got, m.URL)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("media = %q, want %q", got, tt.want)
			}
		})
	}
	if m := (SMSForm{NumMedia: 2}).Media(); m != nil {
		t.Errorf("Media of a form not from Decode = %v", m)
	}
}

// Every tagged field of the Twilio forms must be a kind Decode can fill; a
// typo'd type would otherwise only fail when Twilio first sends that field.
func TestForms_FieldKinds(t *testing.T) {
	t.Parallel()
	for _, form := range []any{VoiceForm{}, SMSForm{}, StatusForm{}} {
		typ := reflect.TypeOf(form)
		seen := map[string]bool{}
		for f := range typ.Fields() {
			name, ok := f.Tag.Lookup("form")
			if !ok {
				continue
			}
			if seen[name] {
				t.Errorf("%s: form name %s used twice", typ.Name(), name)
			}
			seen[name] = true
			if err := setField(reflect.New(f.Type).Elem(), "1"); err != nil {
				t.Errorf("%s.%s: %v", typ.Name(), f.Name, err)
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.form"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, parseErr := url.ParseQuery(string(body))
		check := func(dst any, required ...string) *http.Request {
			req := formRequest("/", string(body))
			err := Decode(req, dst)
			if parseErr != nil {
				if err == nil {
					t.Fatalf("Decode accepted a body url.ParseQuery rejects: %v", parseErr)
				}
				return nil
			}
			if err != nil {
				for _, e := range unjoin(err) {
					if _, ok := errors.AsType[*FieldError](e); !ok {
						t.Fatalf("error %v is not a *FieldError", e)
					}
				}
				return nil
			}
			v := reflect.ValueOf(dst).Elem()
			for _, name := range required {
				got := v.FieldByName(name).String()
				if strings.TrimSpace(got) == "" || got != req.Form.Get(name) {
					t.Fatalf("%s = %q, form has %q", name, got, req.Form.Get(name))
				}
			}
			return req
		}
		check(&VoiceForm{}, "CallSid")
		check(&StatusForm{}, "MessageSid", "MessageStatus")
		var sms SMSForm
		if req := check(&sms, "MessageSid", "From"); req != nil {
			media := sms.Media()
			if len(media) > MaxMedia || len(media) > max(sms.NumMedia, 0) {
				t.Fatalf("%d media for NumMedia=%d", len(media), sms.NumMedia)
			}
			for _, m := range media {
				found := false
				for i := range min(max(sms.NumMedia, 0), MaxMedia) {
					if req.Form.Get("MediaUrl"+strconv.Itoa(i)) == m.URL && m.URL != "" {
						found = true
					}
				}
				if !found {
					t.Fatalf("media URL %q is not among MediaUrl0..%d", m.URL, sms.NumMedia-1)
				}
			}
		}
	})
}
