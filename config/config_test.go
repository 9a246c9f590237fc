package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a getenv over m; variables not in m are unset.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustLoad(t *testing.T, m map[string]string, dotenv string) Config {
	t.Helper()
	c, err := Load(env(m), dotenv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoad_Defaults(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, "")
	if c.Location == nil || c.Location.String() != "Asia/Shanghai" {
		t.Fatalf("Location = %v, want Asia/Shanghai", c.Location)
	}
	c.Location = nil
	want := Config{
		Addr:                  ":8080",
		DB:                    "hotline.db",
		PublicURL:             "http://localhost:8080",
		DefaultRegion:         "CN",
		Timezone:              "Asia/Shanghai",
		TwilioAPIURL:          "https://api.twilio.com",
		QuietHours:            QuietHours{Start: 21 * 60, End: 8 * 60},
		SMSPerMinute:          10,
		Holidays:              china2026Holidays,
		ExtraWorkdays:         china2026Workdays,
		BusinessHours:         BusinessHours{Start: 9 * 60, End: 17 * 60},
		DeadlineAcceptDays:    7,
		DeadlineMediationDays: 45,
		DeadlineReportDays:    5,
		LogFormat:             "auto",
		CallbackLease:         10 * time.Minute,
		CallbackMaxAttempts:   3,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if !c.LocalMode() || c.CanSendSMS() {
		t.Errorf("LocalMode=%v CanSendSMS=%v, want true, false", c.LocalMode(), c.CanSendSMS())
	}
}

func TestLoad_EveryVariable(t *testing.T) {
	t.Parallel()
	ivr := writeFile(t, "menu.yaml", "menu: {}\n")
	m := map[string]string{
		EnvAddr:                  "127.0.0.1:9090",
		EnvDB:                    "/var/lib/hotline/cases.db",
		EnvPublicURL:             "https://hotline.example.org/",
		EnvDefaultRegion:         "hk",
		EnvTimezone:              "Europe/Berlin",
		EnvStaffTokens:           " alice:0123456789abcdef , bob:fedcba9876543210:admin,",
		EnvIVRFile:               ivr,
		EnvTwilioAccountSID:      "AC00000000000000000000000000000001",
		EnvTwilioAuthToken:       "secretauthtoken",
		EnvTwilioFromNumber:      "+15005550006",
		EnvTwilioAPIURL:          "http://127.0.0.1:4010/",
		EnvQuietHours:            "22:30-07:15",
		EnvSMSPerMinute:          "3",
		EnvHolidays:              "2027-01-01, 2026-12-25,2027-01-01",
		EnvWorkdaysExtra:         "2027-01-09",
		EnvBusinessHours:         "08:30-18:00",
		EnvStaffNumbers:          "+8613800138000, sip:desk@pbx.example.org ,",
		EnvDeadlineAcceptDays:    "2",
		EnvDeadlineMediationDays: "30",
		EnvDeadlineReportDays:    "1",
		EnvInsecureSkipSignature: "true",
		EnvLogFormat:             "JSON",
		EnvCallbackLease:         "90s",
		EnvCallbackMaxAttempts:   "5",
	}
	if len(m) != len(Variables) {
		t.Fatalf("test sets %d variables, config knows %d", len(m), len(Variables))
	}
	c := mustLoad(t, m, "")
	if c.Location == nil || c.Location.String() != "Europe/Berlin" {
		t.Fatalf("Location = %v", c.Location)
	}
	c.Location = nil
	want := Config{
		Addr:          "127.0.0.1:9090",
		DB:            "/var/lib/hotline/cases.db",
		PublicURL:     "https://hotline.example.org",
		DefaultRegion: "HK",
		Timezone:      "Europe/Berlin",
		StaffTokens: []StaffToken{
			{Name: "alice", Token: "0123456789abcdef"},
			{Name: "bob", Token: "fedcba9876543210", Admin: true},
		},
		IVRFile:               ivr,
		TwilioAccountSID:      "AC00000000000000000000000000000001",
		TwilioAuthToken:       "secretauthtoken",
		TwilioFromNumber:      "+15005550006",
		TwilioAPIURL:          "http://127.0.0.1:4010",
		QuietHours:            QuietHours{Start: 22*60 + 30, End: 7*60 + 15},
		SMSPerMinute:          3,
		Holidays:              []Date{{2026, 12, 25}, {2027, 1, 1}},
		ExtraWorkdays:         []Date{{2027, 1, 9}},
		BusinessHours:         BusinessHours{Start: 8*60 + 30, End: 18 * 60},
		StaffNumbers:          []string{"+8613800138000", "sip:desk@pbx.example.org"},
		DeadlineAcceptDays:    2,
		DeadlineMediationDays: 30,
		DeadlineReportDays:    1,
		InsecureSkipSignature: true,
		LogFormat:             "json",
		CallbackLease:         90 * time.Second,
		CallbackMaxAttempts:   5,
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("parsed:\n got %+v\nwant %+v", c, want)
	}
	if c.LocalMode() || !c.CanSendSMS() {
		t.Errorf("LocalMode=%v CanSendSMS=%v, want false, true", c.LocalMode(), c.CanSendSMS())
	}
}

func TestLoad_Special(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		env   map[string]string
		check func(Config) bool
	}{
		{"quiet hours off", map[string]string{EnvQuietHours: "OFF"}, func(c Config) bool { return c.QuietHours.Off }},
		{"no holidays", map[string]string{EnvHolidays: "none", EnvWorkdaysExtra: "none"}, func(c Config) bool {
			return c.Holidays == nil && c.ExtraWorkdays == nil
		}},
		{"port zero", map[string]string{EnvAddr: "localhost:0"}, func(c Config) bool { return c.Addr == "localhost:0" }},
		{"ipv6 addr", map[string]string{EnvAddr: "[::1]:8080"}, func(c Config) bool { return c.Addr == "[::1]:8080" }},
		{"insecure false", map[string]string{EnvInsecureSkipSignature: "false"}, func(c Config) bool { return !c.InsecureSkipSignature }},
		{"whitespace is unset", map[string]string{EnvAddr: "  "}, func(c Config) bool { return c.Addr == DefaultAddr }},
		{"sid without from cannot send", map[string]string{EnvTwilioAccountSID: "AC1", EnvTwilioAuthToken: "t"}, func(c Config) bool {
			return !c.LocalMode() && !c.CanSendSMS()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c := mustLoad(t, tt.env, ""); !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestLoad_BadValues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		want string // the error must contain this
	}{
		{"addr without port", map[string]string{EnvAddr: "8080"}, `HOTLINE_ADDR: "8080" is not host:port`},
		{"addr named port", map[string]string{EnvAddr: ":http"}, `HOTLINE_ADDR: port "http" is not a number`},
		{"addr port too big", map[string]string{EnvAddr: ":65536"}, `HOTLINE_ADDR: port "65536"`},
		{"addr negative port", map[string]string{EnvAddr: ":-1"}, `HOTLINE_ADDR: port "-1"`},
		{"public url relative", map[string]string{EnvPublicURL: "hotline.example.org"}, `HOTLINE_PUBLIC_URL: "hotline.example.org" is not an absolute http(s) URL`},
		{"public url ftp", map[string]string{EnvPublicURL: "ftp://example.org"}, `HOTLINE_PUBLIC_URL: "ftp://example.org" is not an absolute`},
		{"public url query", map[string]string{EnvPublicURL: "https://example.org/?a=1"}, `HOTLINE_PUBLIC_URL: "https://example.org/?a=1" must not carry a query`},
		{"public url userinfo", map[string]string{EnvPublicURL: "https://u:p@example.org"}, `HOTLINE_PUBLIC_URL: must not carry user:password`},
		{"api url", map[string]string{EnvTwilioAPIURL: "api.twilio.com"}, `TWILIO_API_URL: "api.twilio.com" is not an absolute`},
		{"region", map[string]string{EnvDefaultRegion: "XX"}, `HOTLINE_DEFAULT_REGION: unknown region "XX"`},
		{"auth token with a quote", map[string]string{EnvTwilioAuthToken: `"abc123"`}, `TWILIO_AUTH_TOKEN: must be letters and digits only`},
		{"account sid with a space", map[string]string{EnvTwilioAccountSID: "AC12 34"}, `TWILIO_ACCOUNT_SID: must be letters and digits only`},
		{"timezone", map[string]string{EnvTimezone: "Mars/Base"}, `HOTLINE_TIMEZONE: unknown time zone "Mars/Base"`},
		{"ivr file missing", map[string]string{EnvIVRFile: filepath.Join(dir, "nope.yaml")}, `HOTLINE_IVR_FILE: stat `},
		{"ivr file is dir", map[string]string{EnvIVRFile: dir}, `HOTLINE_IVR_FILE: "` + dir + `" is not a regular file`},
		{"quiet hours garbage", map[string]string{EnvQuietHours: "late"}, `HOTLINE_QUIET_HOURS: "late": missing '-'`},
		{"quiet hours 24:00", map[string]string{EnvQuietHours: "21:00-24:00"}, `HOTLINE_QUIET_HOURS: "21:00-24:00": "24:00" is not a time of day`},
		{"quiet hours minutes", map[string]string{EnvQuietHours: "21:0-08:00"}, `HOTLINE_QUIET_HOURS: "21:0-08:00": "21:0" is not HH:MM`},
		{"quiet hours empty", map[string]string{EnvQuietHours: "08:00-08:00"}, `HOTLINE_QUIET_HOURS: "08:00-08:00": start equals end`},
		{"sms per minute zero", map[string]string{EnvSMSPerMinute: "0"}, `HOTLINE_SMS_PER_MINUTE: "0" is not a positive whole number`},
		{"sms per minute word", map[string]string{EnvSMSPerMinute: "ten"}, `HOTLINE_SMS_PER_MINUTE: "ten"`},
		{"holidays", map[string]string{EnvHolidays: "2026-10-01,2026-13-01"}, `HOTLINE_HOLIDAYS: "2026-13-01" is not a date`},
		{"workdays", map[string]string{EnvWorkdaysExtra: "10/10/2026"}, `HOTLINE_WORKDAYS_EXTRA: "10/10/2026" is not a date`},
		{"workday is holiday", map[string]string{EnvWorkdaysExtra: "2026-10-01"}, `HOTLINE_WORKDAYS_EXTRA: 2026-10-01 is also a holiday`},
		{"business hours wrap", map[string]string{EnvBusinessHours: "17:00-09:00"}, `HOTLINE_BUSINESS_HOURS: "17:00-09:00": must start before`},
		{"business hours bad", map[string]string{EnvBusinessHours: "9-5"}, `HOTLINE_BUSINESS_HOURS: "9-5": "9" is not HH:MM`},
		{"accept days", map[string]string{EnvDeadlineAcceptDays: "-7"}, `HOTLINE_DEADLINE_ACCEPT_DAYS: "-7" is not a positive`},
		{"mediation days", map[string]string{EnvDeadlineMediationDays: "4.5"}, `HOTLINE_DEADLINE_MEDIATION_DAYS: "4.5"`},
		{"report days", map[string]string{EnvDeadlineReportDays: "0"}, `HOTLINE_DEADLINE_REPORT_DAYS: "0"`},
		{"insecure", map[string]string{EnvInsecureSkipSignature: "yes please"}, `HOTLINE_INSECURE_SKIP_SIGNATURE: "yes please" is not true or false`},
		{"log format", map[string]string{EnvLogFormat: "xml"}, `HOTLINE_LOG_FORMAT: "xml" is not one of auto, json, text`},
		{"lease", map[string]string{EnvCallbackLease: "10"}, `HOTLINE_CALLBACK_LEASE: "10" is not a positive duration`},
		{"lease negative", map[string]string{EnvCallbackLease: "-5m"}, `HOTLINE_CALLBACK_LEASE: "-5m"`},
		{"max attempts", map[string]string{EnvCallbackMaxAttempts: "none"}, `HOTLINE_CALLBACK_MAX_ATTEMPTS: "none"`},
		{"token malformed", map[string]string{EnvStaffTokens: "alice"}, `HOTLINE_STAFF_TOKENS: entry 1: want name:token or name:token:admin`},
		{"token too many fields", map[string]string{EnvStaffTokens: "a:0123456789abcdef:admin:x"}, `HOTLINE_STAFF_TOKENS: entry 1: want name:token`},
		{"token bad flag", map[string]string{EnvStaffTokens: "alice:0123456789abcdef:root"}, `HOTLINE_STAFF_TOKENS: entry 1 ("alice"): third field must be "admin"`},
		{"token empty name", map[string]string{EnvStaffTokens: "alice:0123456789abcdef, :fedcba9876543210"}, `HOTLINE_STAFF_TOKENS: entry 2: empty name`},
		{"token short", map[string]string{EnvStaffTokens: "alice:short"}, `HOTLINE_STAFF_TOKENS: entry 1 ("alice"): token has 5 characters, want at least 16`},
		{"token space", map[string]string{EnvStaffTokens: "alice:0123456789 abcdef"}, `HOTLINE_STAFF_TOKENS: entry 1 ("alice"): token contains whitespace`},
		{"token duplicate", map[string]string{EnvStaffTokens: "alice:0123456789abcdef,bob:0123456789abcdef"}, `HOTLINE_STAFF_TOKENS: entry 2 ("bob"): same token as entry 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(tt.env), "")
			if err == nil {
				t.Fatalf("Load succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q\nwant it to contain %q", err, tt.want)
			}
			if !reflect.DeepEqual(c, Config{}) {
				t.Errorf("Load returned a config with its error: %+v", c)
			}
			for _, v := range tt.env {
				if strings.Contains(v, "0123456789") && strings.Contains(err.Error(), "0123456789") {
					t.Errorf("error leaks a staff token: %q", err)
				}
			}
		})
	}
}

func TestLoad_AllErrorsAtOnce(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		EnvAddr:          "nope",
		EnvDefaultRegion: "XX",
		EnvTimezone:      "Mars/Base",
		EnvSMSPerMinute:  "-1",
	}), "")
	for _, name := range []string{EnvAddr, EnvDefaultRegion, EnvTimezone, EnvSMSPerMinute} {
		if err == nil || !strings.Contains(err.Error(), name+": ") {
			t.Errorf("error %v does not name %s", err, name)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 4 {
		t.Errorf("got %d error lines, want 4:\n%v", n, err)
	}
}

func TestLoad_Dotenv(t *testing.T) {
	t.Parallel()
	dotenv := writeFile(t, ".env", `# local development
export HOTLINE_ADDR=":7070"
HOTLINE_DB=from-dotenv.db   # comment
TWILIO_AUTH_TOKEN='dotenvtoken'
HOTLINE_SMS_PER_MINUTE=4
OTHER_APP_SETTING=ignored
`)
	tests := []struct {
		name  string
		env   map[string]string
		check func(Config) bool
	}{
		{"dotenv fills unset variables", nil, func(c Config) bool {
			return c.Addr == ":7070" && c.DB == "from-dotenv.db" && c.TwilioAuthToken == "dotenvtoken" && c.SMSPerMinute == 4
		}},
		{"environment wins", map[string]string{EnvAddr: ":9999", EnvTwilioAuthToken: "envtoken"}, func(c Config) bool {
			return c.Addr == ":9999" && c.TwilioAuthToken == "envtoken" && c.DB == "from-dotenv.db"
		}},
		{"defaults under both", nil, func(c Config) bool { return c.PublicURL == DefaultPublicURL }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if c := mustLoad(t, tt.env, dotenv); !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}

	t.Run("missing file is no error", func(t *testing.T) {
		t.Parallel()
		mustLoad(t, nil, filepath.Join(t.TempDir(), ".env"))
	})
	t.Run("bad dotenv value names the variable", func(t *testing.T) {
		t.Parallel()
		p := writeFile(t, ".env", "HOTLINE_DEFAULT_REGION=XX\n")
		if _, err := Load(env(nil), p); err == nil || !strings.Contains(err.Error(), `HOTLINE_DEFAULT_REGION: unknown region "XX"`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("syntax error names file and line", func(t *testing.T) {
		t.Parallel()
		p := writeFile(t, ".env", "HOTLINE_ADDR=:1\nthis is not a setting\n")
		if _, err := Load(env(nil), p); err == nil || !strings.Contains(err.Error(), p+":2: want KEY=VALUE") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown HOTLINE variable is a typo", func(t *testing.T) {
		t.Parallel()
		p := writeFile(t, ".env", "HOTLINE_ADR=:1\n")
		if _, err := Load(env(nil), p); err == nil || !strings.Contains(err.Error(), "unknown variable HOTLINE_ADR") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unreadable path", func(t *testing.T) {
		t.Parallel()
		if _, err := Load(env(nil), t.TempDir()); err == nil {
			t.Error("reading a directory as .env succeeded")
		}
	})
}

// Not parallel: changes the working directory and the process environment.
func TestFromEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte("HOTLINE_DB=dotenv.db\nHOTLINE_ADDR=:1111\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, v := range Variables {
		t.Setenv(v, "")
	}
	t.Setenv(EnvAddr, ":2222")
	c, err := FromEnvironment()
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "dotenv.db" || c.Addr != ":2222" {
		t.Errorf("DB=%q Addr=%q, want dotenv.db from .env and :2222 from the environment", c.DB, c.Addr)
	}
}

func TestParseDotenv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want map[string]string
		err  string
	}{
		{"empty", "", map[string]string{}, ""},
		{"comments and blanks", "# a\n\n   # b\nA=1\n", map[string]string{"A": "1"}, ""},
		{"export prefix", "export A=1\nexport\tB=2\n", map[string]string{"A": "1", "B": "2"}, ""},
		{"key named export", "exportX=1\n", map[string]string{"exportX": "1"}, ""},
		{"spaces around", "  A =  hello world  \n", map[string]string{"A": "hello world"}, ""},
		{"empty value", "A=\n", map[string]string{"A": ""}, ""},
		{"value with equals", "A=b=c\n", map[string]string{"A": "b=c"}, ""},
		{"inline comment", "A=1 # note\n", map[string]string{"A": "1"}, ""},
		{"hash without space kept", "A=abc#def\n", map[string]string{"A": "abc#def"}, ""},
		{"double quotes", `A="x # not a comment"` + "\n", map[string]string{"A": "x # not a comment"}, ""},
		{"double quote escapes", `A="l1\nl2 \"q\" \\ \$ \x"`, map[string]string{"A": "l1\nl2 \"q\" \\ $ \\x"}, ""},
		{"single quotes literal", `A='a\nb "c"' # c`, map[string]string{"A": `a\nb "c"`}, ""},
		{"later wins", "A=1\nA=2\n", map[string]string{"A": "2"}, ""},
		{"crlf", "A=1\r\nB='2'\r\n", map[string]string{"A": "1", "B": "2"}, ""},
		{"bom", "\uFEFFA=1\n", map[string]string{"A": "1"}, ""},
		{"no equals", "A\n", nil, "x.env:1: want KEY=VALUE"},
		{"bad key", "1A=2\n", nil, `x.env:1: invalid variable name "1A"`},
		{"key with dash", "A-B=2\n", nil, `invalid variable name "A-B"`},
		{"unterminated double", "A=1\nB=\"open\n", nil, "x.env:2: B: unterminated double quote"},
		{"unterminated single", "A='open\n", nil, "x.env:1: A: unterminated single quote"},
		{"junk after quote", "A=\"secret\"junk\n", nil, "x.env:1: A: unexpected text after closing quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseDotenv(strings.NewReader(tt.in), "x.env")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if strings.Contains(err.Error(), "junk") {
					t.Errorf("error echoes the line: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestQuietHours_Until(t *testing.T) {
	t.Parallel()
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	night := QuietHours{Start: 21 * 60, End: 8 * 60} // across midnight
	lunch := QuietHours{Start: 12 * 60, End: 13*60 + 30}
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, sh) }
	tests := []struct {
		name   string
		q      QuietHours
		t      time.Time
		loc    *time.Location
		want   time.Time
		inside bool
	}{
		{"evening before start", night, at(10, 20, 59), sh, time.Time{}, false},
		{"at start", night, at(10, 21, 0), sh, at(11, 8, 0), true},
		{"before midnight", night, at(10, 23, 59), sh, at(11, 8, 0), true},
		{"at midnight", night, at(11, 0, 0), sh, at(11, 8, 0), true},
		{"early morning", night, at(11, 7, 59), sh, at(11, 8, 0), true},
		{"at end", night, at(11, 8, 0), sh, time.Time{}, false},
		{"midday", night, at(11, 12, 0), sh, time.Time{}, false},
		{"end of month", night, time.Date(2026, 3, 31, 22, 0, 0, 0, sh), sh, time.Date(2026, 4, 1, 8, 0, 0, 0, sh), true},
		{"utc instant read in Shanghai", night, time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC), sh, at(11, 8, 0), true},
		{"utc instant outside in Shanghai", night, time.Date(2026, 3, 10, 3, 0, 0, 0, time.UTC), sh, time.Time{}, false},
		{"nil loc uses t's", night, at(10, 22, 0), nil, at(11, 8, 0), true},
		{"same-day window inside", lunch, at(10, 12, 45), sh, at(10, 13, 30), true},
		{"same-day window after", lunch, at(10, 13, 30), sh, time.Time{}, false},
		{"same-day window before", lunch, at(10, 11, 59), sh, time.Time{}, false},
		{"off", QuietHours{Start: 21 * 60, End: 8 * 60, Off: true}, at(10, 23, 0), sh, time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, inside := tt.q.Until(tt.t, tt.loc)
			if inside != tt.inside || !got.Equal(tt.want) {
				t.Errorf("Until(%v) = %v, %v; want %v, %v", tt.t, got, inside, tt.want, tt.inside)
			}
		})
	}
}

func TestHours_String(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, map[string]string{EnvBusinessHours: "8:05-17:30"}, "")
	if got := c.QuietHours.String(); got != "21:00-08:00" {
		t.Errorf("QuietHours.String() = %q", got)
	}
	if got := (QuietHours{Off: true}).String(); got != "off" {
		t.Errorf("off String() = %q", got)
	}
	if got := c.BusinessHours.String(); got != "08:05-17:30" {
		t.Errorf("BusinessHours.String() = %q", got)
	}
}

func TestBusinessHours_Contains(t *testing.T) {
	t.Parallel()
	sh, _ := time.LoadLocation("Asia/Shanghai")
	b := BusinessHours{Start: 9 * 60, End: 17 * 60}
	tests := []struct {
		t    time.Time
		want bool
	}{
		{time.Date(2026, 3, 10, 8, 59, 0, 0, sh), false},
		{time.Date(2026, 3, 10, 9, 0, 0, 0, sh), true},
		{time.Date(2026, 3, 10, 16, 59, 59, 0, sh), true},
		{time.Date(2026, 3, 10, 17, 0, 0, 0, sh), false},
		{time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC), true}, // 10:00 in Shanghai
	}
	for _, tt := range tests {
		if got := b.Contains(tt.t, sh); got != tt.want {
			t.Errorf("Contains(%v) = %v, want %v", tt.t, got, tt.want)
		}
	}
}

func TestConfig_HolidaysKnown(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil, "")
	if !c.HolidaysKnown(2026) || c.HolidaysKnown(2027) {
		t.Errorf("HolidaysKnown(2026)=%v (2027)=%v, want true, false", c.HolidaysKnown(2026), c.HolidaysKnown(2027))
	}
}

func TestDefaultCalendar(t *testing.T) {
	t.Parallel()
	// The built-in 2026 arrangement: 3+9+3+5+3+3+7 days off, and every
	// make-up day falls on a weekend (otherwise it would change nothing).
	if len(china2026Holidays) != 33 {
		t.Errorf("%d holidays, want 33", len(china2026Holidays))
	}
	for _, d := range china2026Workdays {
		wd := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Weekday()
		if wd != time.Saturday && wd != time.Sunday {
			t.Errorf("make-up day %s is a %s", d, wd)
		}
	}
	if !isSorted(china2026Holidays) || !isSorted(china2026Workdays) {
		t.Error("default calendar is not sorted; binary search would miss days")
	}
}

func isSorted(ds []Date) bool {
	for i := 1; i < len(ds); i++ {
		if ds[i-1].Compare(ds[i]) >= 0 {
			return false
		}
	}
	return true
}

func TestStaffToken_String(t *testing.T) {
	t.Parallel()
	tok := StaffToken{Name: "bob", Token: "fedcba9876543210", Admin: true}
	if s := tok.String(); s != "bob (admin)" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	d, err := ParseDate("2026-02-28")
	if err != nil || d != (Date{2026, time.February, 28}) || d.String() != "2026-02-28" {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	if _, err := ParseDate("2026-02-30"); err == nil {
		t.Error("2026-02-30 parsed")
	}
	var pe *time.ParseError
	if _, err := ParseDate("x"); !errors.As(err, &pe) {
		t.Errorf("err = %v", err)
	}
}

func TestEnvExample(t *testing.T) {
	t.Parallel()
	const path = "../.env.example"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	vars, err := parseDotenv(strings.NewReader(string(b)), path)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Variables {
		if _, ok := vars[v]; !ok {
			t.Errorf(".env.example does not list %s", v)
		}
	}
	// The example, taken as it is, must give the documented defaults.
	c, err := Load(env(nil), path)
	if err != nil {
		t.Fatal(err)
	}
	if d := mustLoad(t, nil, ""); !reflect.DeepEqual(c, d) {
		t.Errorf(".env.example does not give the defaults:\n got %+v\nwant %+v", c, d)
	}
}
