// Package config turns the environment (and an optional .env file) into one
// validated Config value with the defaults of the external contract.
//
// Every problem is reported at once: Load returns all errors joined, each
// starting with the variable's name, so an operator fixes a broken deployment
// in one pass. Secrets (auth token, staff tokens) never appear in an error.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // HOTLINE_TIMEZONE must load on hosts without /usr/share/zoneinfo

	"github.com/nyaruka/phonenumbers"
)

// Variable names, as operators write them.
const (
	EnvAddr                  = "HOTLINE_ADDR"
	EnvDB                    = "HOTLINE_DB"
	EnvPublicURL             = "HOTLINE_PUBLIC_URL"
	EnvDefaultRegion         = "HOTLINE_DEFAULT_REGION"
	EnvTimezone              = "HOTLINE_TIMEZONE"
	EnvStaffTokens           = "HOTLINE_STAFF_TOKENS"
	EnvIVRFile               = "HOTLINE_IVR_FILE"
	EnvTwilioAccountSID      = "TWILIO_ACCOUNT_SID"
	EnvTwilioAuthToken       = "TWILIO_AUTH_TOKEN"
	EnvTwilioFromNumber      = "TWILIO_FROM_NUMBER"
	EnvTwilioAPIURL          = "TWILIO_API_URL"
	EnvQuietHours            = "HOTLINE_QUIET_HOURS"
	EnvSMSPerMinute          = "HOTLINE_SMS_PER_MINUTE"
	EnvHolidays              = "HOTLINE_HOLIDAYS"
	EnvWorkdaysExtra         = "HOTLINE_WORKDAYS_EXTRA"
	EnvBusinessHours         = "HOTLINE_BUSINESS_HOURS"
	EnvStaffNumbers          = "HOTLINE_STAFF_NUMBERS"
	EnvDeadlineAcceptDays    = "HOTLINE_DEADLINE_ACCEPT_DAYS"
	EnvDeadlineMediationDays = "HOTLINE_DEADLINE_MEDIATION_DAYS"
	EnvDeadlineReportDays    = "HOTLINE_DEADLINE_REPORT_DAYS"
	EnvInsecureSkipSignature = "HOTLINE_INSECURE_SKIP_SIGNATURE"
	EnvLogFormat             = "HOTLINE_LOG_FORMAT"
	EnvCallbackLease         = "HOTLINE_CALLBACK_LEASE"
	EnvCallbackMaxAttempts   = "HOTLINE_CALLBACK_MAX_ATTEMPTS"
)

// Defaults of the external contract (DESIGN.md) and of the extra variables.
const (
	DefaultAddr                  = ":8080"
	DefaultDB                    = "hotline.db"
	DefaultPublicURL             = "http://localhost:8080"
	DefaultRegion                = "CN"
	DefaultTimezone              = "Asia/Shanghai"
	DefaultTwilioAPIURL          = "https://api.twilio.com"
	DefaultQuietHours            = "21:00-08:00"
	DefaultSMSPerMinute          = 10
	DefaultBusinessHours         = "09:00-17:00"
	DefaultDeadlineAcceptDays    = 7
	DefaultDeadlineMediationDays = 45
	DefaultDeadlineReportDays    = 5
	DefaultLogFormat             = "auto"
	DefaultCallbackLease         = 10 * time.Minute
	DefaultCallbackMaxAttempts   = 3

	// MinStaffTokenLen keeps staff tokens out of guessing range.
	MinStaffTokenLen = 16
)

// Variables lists every variable Load reads. A HOTLINE_ key in a .env file
// that is not listed here is a typo and an error.
var Variables = []string{
	EnvAddr, EnvDB, EnvPublicURL, EnvDefaultRegion, EnvTimezone, EnvStaffTokens,
	EnvIVRFile, EnvTwilioAccountSID, EnvTwilioAuthToken, EnvTwilioFromNumber,
	EnvTwilioAPIURL, EnvQuietHours, EnvSMSPerMinute, EnvHolidays, EnvWorkdaysExtra,
	EnvBusinessHours, EnvStaffNumbers, EnvDeadlineAcceptDays, EnvDeadlineMediationDays,
	EnvDeadlineReportDays, EnvInsecureSkipSignature, EnvLogFormat, EnvCallbackLease,
	EnvCallbackMaxAttempts,
}

// Config is the whole validated configuration. The zero value is not useful;
// get one from Load or FromEnvironment.
type Config struct {
	Addr          string
	DB            string
	PublicURL     string // absolute http(s) URL without a trailing slash
	DefaultRegion string // upper-case region code phonenumbers knows
	Timezone      string
	Location      *time.Location // Timezone, loaded
	StaffTokens   []StaffToken
	IVRFile       string // "" means the embedded default menu

	TwilioAccountSID string
	TwilioAuthToken  string
	TwilioFromNumber string
	TwilioAPIURL     string // without a trailing slash

	QuietHours   QuietHours
	SMSPerMinute int

	// Holidays and ExtraWorkdays are sorted and free of duplicates.
	Holidays      []Date
	ExtraWorkdays []Date
	BusinessHours BusinessHours
	StaffNumbers  []string // as written, for <Dial>

	DeadlineAcceptDays    int
	DeadlineMediationDays int
	DeadlineReportDays    int

	InsecureSkipSignature bool
	LogFormat             string // "auto", "json" or "text"

	CallbackLease       time.Duration
	CallbackMaxAttempts int
}

// StaffToken is one Bearer token of HOTLINE_STAFF_TOKENS.
type StaffToken struct {
	Name  string
	Token string
	Admin bool
}

// String names the staff member and never shows the token, so a token cannot
// reach a log through %v.
func (t StaffToken) String() string {
	if t.Admin {
		return t.Name + " (admin)"
	}
	return t.Name
}

// LocalMode reports whether webhooks cannot be signature-checked because no
// Twilio auth token is configured.
func (c Config) LocalMode() bool { return c.TwilioAuthToken == "" }

// CanSendSMS reports whether outbound SMS can go to Twilio's REST API.
func (c Config) CanSendSMS() bool {
	return c.TwilioAccountSID != "" && c.TwilioAuthToken != "" && c.TwilioFromNumber != ""
}

// HolidaysKnown reports whether the holiday calendar says anything about
// year. China publishes each year's arrangement late in the year before; a
// server running into a year without one should warn its operator.
func (c Config) HolidaysKnown(year int) bool {
	for _, d := range c.Holidays {
		if d.Year == year {
			return true
		}
	}
	return false
}

// FromEnvironment loads the configuration from the process environment and a
// .env file in the working directory, if there is one. A variable set (non-empty)
// in the environment wins over the same one in .env.
func FromEnvironment() (Config, error) {
	return Load(os.Getenv, ".env")
}

// Load reads every variable through getenv, falling back to dotenvPath (which
// may be "" or name a missing file) for variables getenv leaves empty, then
// to the defaults. On any error it returns the zero Config and all problems
// joined.
func Load(getenv func(string) string, dotenvPath string) (Config, error) {
	p := &parser{getenv: getenv}
	if dotenvPath != "" {
		p.readDotenv(dotenvPath)
	}

	var c Config
	c.Addr = p.addr(EnvAddr, DefaultAddr)
	c.DB = p.str(EnvDB, DefaultDB)
	c.PublicURL = p.httpURL(EnvPublicURL, DefaultPublicURL)
	c.DefaultRegion = p.region(EnvDefaultRegion, DefaultRegion)
	c.Timezone = p.str(EnvTimezone, DefaultTimezone)
	if loc, err := time.LoadLocation(c.Timezone); err != nil {
		p.fail(EnvTimezone, "unknown time zone %q", c.Timezone)
	} else {
		c.Location = loc
	}
	c.StaffTokens = p.staffTokens(EnvStaffTokens)
	c.IVRFile = p.file(EnvIVRFile)

	c.TwilioAccountSID = p.alnum(EnvTwilioAccountSID)
	c.TwilioAuthToken = p.alnum(EnvTwilioAuthToken)
	c.TwilioFromNumber = p.str(EnvTwilioFromNumber, "")
	c.TwilioAPIURL = p.httpURL(EnvTwilioAPIURL, DefaultTwilioAPIURL)

	c.QuietHours = p.quietHours(EnvQuietHours)
	c.SMSPerMinute = p.positive(EnvSMSPerMinute, DefaultSMSPerMinute)

	c.Holidays = p.dates(EnvHolidays, china2026Holidays)
	c.ExtraWorkdays = p.dates(EnvWorkdaysExtra, china2026Workdays)
	for _, d := range c.ExtraWorkdays {
		if containsDate(c.Holidays, d) {
			p.fail(EnvWorkdaysExtra, "%s is also a holiday in %s", d, EnvHolidays)
		}
	}
	c.BusinessHours = p.businessHours(EnvBusinessHours)
	c.StaffNumbers = p.list(EnvStaffNumbers)

	c.DeadlineAcceptDays = p.positive(EnvDeadlineAcceptDays, DefaultDeadlineAcceptDays)
	c.DeadlineMediationDays = p.positive(EnvDeadlineMediationDays, DefaultDeadlineMediationDays)
	c.DeadlineReportDays = p.positive(EnvDeadlineReportDays, DefaultDeadlineReportDays)

	c.InsecureSkipSignature = p.boolean(EnvInsecureSkipSignature)
	c.LogFormat = p.oneOf(EnvLogFormat, DefaultLogFormat, "auto", "json", "text")

	c.CallbackLease = p.duration(EnvCallbackLease, DefaultCallbackLease)
	c.CallbackMaxAttempts = p.positive(EnvCallbackMaxAttempts, DefaultCallbackMaxAttempts)

	if err := errors.Join(p.errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// parser collects errors instead of stopping at the first.
type parser struct {
	getenv func(string) string
	dotenv map[string]string
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) readDotenv(path string) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	if err != nil {
		p.errs = append(p.errs, fmt.Errorf("read %s: %w", path, err))
		return
	}
	defer f.Close()
	vars, err := parseDotenv(f, path)
	if err != nil {
		p.errs = append(p.errs, err)
	}
	for k := range vars {
		if strings.HasPrefix(k, "HOTLINE_") && !slices.Contains(Variables, k) {
			p.errs = append(p.errs, fmt.Errorf("%s: unknown variable %s", path, k))
		}
	}
	p.dotenv = vars
}

// raw returns the trimmed value, the environment first, then .env.
func (p *parser) raw(name string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return strings.TrimSpace(p.dotenv[name])
}

func (p *parser) str(name, def string) string {
	if v := p.raw(name); v != "" {
		return v
	}
	return def
}

// alnum reads a Twilio credential. Twilio's account SIDs and auth tokens are
// letters and digits; twilio-go refuses anything else on every request, so a
// stray quote or space would otherwise fail every SMS, long after start.
// The value is never repeated in the error.
func (p *parser) alnum(name string) string {
	v := p.str(name, "")
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			p.fail(name, "must be letters and digits only, as Twilio issues it (check for quotes or spaces)")
			return ""
		}
	}
	return v
}

func (p *parser) addr(name, def string) string {
	v := p.str(name, def)
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		p.fail(name, "%q is not host:port", v)
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.fail(name, "port %q is not a number from 0 to 65535", port)
		return ""
	}
	return v
}

func (p *parser) httpURL(name, def string) string {
	v := p.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(name, "%q is not an absolute http(s) URL", v)
		return ""
	}
	if u.User != nil {
		p.fail(name, "must not carry user:password (got a URL with user info)")
		return ""
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(v, "?") {
		p.fail(name, "%q must not carry a query or fragment", v)
		return ""
	}
	return strings.TrimRight(v, "/")
}

func (p *parser) region(name, def string) string {
	v := strings.ToUpper(p.str(name, def))
	if !phonenumbers.GetSupportedRegions()[v] {
		p.fail(name, "unknown region %q", v)
		return ""
	}
	return v
}

func (p *parser) file(name string) string {
	v := p.raw(name)
	if v == "" {
		return ""
	}
	fi, err := os.Stat(v)
	switch {
	case err != nil:
		p.fail(name, "%v", err)
		return ""
	case !fi.Mode().IsRegular():
		p.fail(name, "%q is not a regular file", v)
		return ""
	}
	return v
}

func (p *parser) positive(name string, def int) int {
	v := p.raw(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		p.fail(name, "%q is not a positive whole number", v)
		return 0
	}
	return n
}

func (p *parser) boolean(name string) bool {
	v := p.raw(name)
	if v == "" {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "%q is not true or false", v)
		return false
	}
	return b
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	if !slices.Contains(allowed, v) {
		p.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
		return ""
	}
	return v
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.raw(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, "%q is not a positive duration such as 10m or 1h30m", v)
		return 0
	}
	return d
}

// list splits a comma list, dropping empty items (a trailing comma is fine).
func (p *parser) list(name string) []string {
	var out []string
	for _, item := range strings.Split(p.raw(name), ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func (p *parser) staffTokens(name string) []StaffToken {
	var out []StaffToken
	seen := make(map[string]int) // token → entry number
	for i, entry := range strings.Split(p.raw(name), ",") {
		n := i + 1
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		// Errors name the entry by position and staff name, never by token.
		parts := strings.Split(entry, ":")
		if len(parts) != 2 && len(parts) != 3 {
			p.fail(name, "entry %d: want name:token or name:token:admin", n)
			continue
		}
		t := StaffToken{Name: strings.TrimSpace(parts[0]), Token: strings.TrimSpace(parts[1])}
		if len(parts) == 3 {
			if strings.TrimSpace(parts[2]) != "admin" {
				p.fail(name, "entry %d (%q): third field must be \"admin\"", n, t.Name)
				continue
			}
			t.Admin = true
		}
		switch {
		case t.Name == "":
			p.fail(name, "entry %d: empty name", n)
		case len(t.Token) < MinStaffTokenLen:
			p.fail(name, "entry %d (%q): token has %d characters, want at least %d", n, t.Name, len(t.Token), MinStaffTokenLen)
		case strings.ContainsAny(t.Token, " \t"):
			p.fail(name, "entry %d (%q): token contains whitespace", n, t.Name)
		case seen[t.Token] != 0:
			p.fail(name, "entry %d (%q): same token as entry %d", n, t.Name, seen[t.Token])
		default:
			seen[t.Token] = n
			out = append(out, t)
		}
	}
	return out
}

func (p *parser) quietHours(name string) QuietHours {
	v := p.str(name, DefaultQuietHours)
	if strings.EqualFold(v, "off") {
		return QuietHours{Off: true}
	}
	start, end, err := parseClockRange(v)
	if err != nil {
		p.fail(name, "%q: %v (want HH:MM-HH:MM or off)", v, err)
		return QuietHours{}
	}
	if start == end {
		p.fail(name, "%q: start equals end; write off to disable quiet hours", v)
		return QuietHours{}
	}
	return QuietHours{Start: start, End: end}
}

func (p *parser) businessHours(name string) BusinessHours {
	v := p.str(name, DefaultBusinessHours)
	start, end, err := parseClockRange(v)
	if err != nil {
		p.fail(name, "%q: %v (want HH:MM-HH:MM)", v, err)
		return BusinessHours{}
	}
	if start >= end {
		p.fail(name, "%q: must start before it ends on the same day", v)
		return BusinessHours{}
	}
	return BusinessHours{Start: start, End: end}
}

// dates parses a comma list of YYYY-MM-DD dates; "none" is the empty list and
// an unset variable gives def.
func (p *parser) dates(name string, def []Date) []Date {
	v := p.raw(name)
	if v == "" {
		return slices.Clone(def)
	}
	if strings.EqualFold(v, "none") {
		return nil
	}
	var out []Date
	for _, item := range p.list(name) {
		d, err := ParseDate(item)
		if err != nil {
			p.fail(name, "%q is not a date (want YYYY-MM-DD)", item)
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, Date.Compare)
	return slices.Compact(out)
}
