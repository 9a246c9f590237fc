// Package phone turns any written form of a phone number into the one key the
// case log indexes by (E.164, or a short code kept as written), and masks
// numbers for logs.
//
// Staff type numbers the way consumers say them ("138 0013 8000",
// "+86 138-0013-8000", "008613800138000", "(010) 1234-5678"); all of those
// must meet at the same key, or a look-up misses a case.
package phone

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// ErrInvalid is returned for text that cannot be a phone number.
var ErrInvalid = errors.New("not a phone number")

// maxLen bounds the input we hand to phonenumbers; E.164 has at most 15 digits
// and people add spaces, dashes and an IDD prefix.
const maxLen = 40

// Normalize returns the E.164 form of raw, reading numbers without a country
// code in region (an ISO 3166 code such as "CN"). Short service numbers such as
// 12315 are returned as their digits. Anything else is ErrInvalid.
func Normalize(raw, region string) (string, error) {
	s, plus, err := clean(raw)
	if err != nil {
		return "", fmt.Errorf("%q: %w", raw, err)
	}
	digits := strings.TrimPrefix(s, "+")
	if n, ok := fastCNMobile(digits, plus, region); ok {
		return n, nil
	}
	if !plus && len(digits) >= 3 && len(digits) <= 8 {
		// A short code is not a subscriber number in any region; keep it as the
		// carrier delivered it so that the same short code always meets itself.
		if n, err := phonenumbers.Parse(digits, region); err != nil || !phonenumbers.IsValidNumber(n) {
			return digits, nil
		}
	}
	n, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", fmt.Errorf("%q: %w", raw, ErrInvalid)
	}
	// Valid numbers follow the numbering plan. A number written with its own
	// country code that is merely possible (test ranges such as the UK's
	// 07700 900xxx) is accepted too: the writer meant that exact number.
	e164 := phonenumbers.Format(n, phonenumbers.E164)
	if phonenumbers.IsValidNumber(n) {
		return e164, nil
	}
	// Merely possible numbers are kept only when they are exactly what was
	// written: phonenumbers may drop a national prefix from an impossible
	// number ("+61 0000000"), and a key must normalise to itself.
	if plus && phonenumbers.IsPossibleNumber(n) && e164 == "+"+digits {
		return e164, nil
	}
	return "", fmt.Errorf("%q: %w", raw, ErrInvalid)
}

// fastCNMobile answers the commonest case — a Chinese mobile number written
// as 11 digits, with or without +86/0086 — without running phonenumbers'
// regular expressions (tens of microseconds a call, on every staff look-up
// and webhook). Validity still comes from phonenumbers, memoised per
// seven-digit prefix: the mobile plan fixes the first digits and leaves the
// last four free.
func fastCNMobile(digits string, plus bool, region string) (string, bool) {
	switch {
	case plus && len(digits) == 13 && digits[:2] == "86":
		digits = digits[2:]
	case !plus && len(digits) == 15 && digits[:4] == "0086":
		digits = digits[4:]
	case !plus && len(digits) == 11 && region == "CN":
	default:
		return "", false
	}
	if len(digits) != 11 || digits[0] != '1' {
		return "", false
	}
	prefix := digits[:7]
	cnPrefixMu.RLock()
	valid, known := cnPrefix[prefix]
	cnPrefixMu.RUnlock()
	if !known {
		n, err := phonenumbers.Parse("+86"+prefix+"0000", "")
		valid = err == nil && phonenumbers.IsValidNumber(n) && phonenumbers.GetNumberType(n) == phonenumbers.MOBILE
		cnPrefixMu.Lock()
		cnPrefix[prefix] = valid
		cnPrefixMu.Unlock()
	}
	if !valid {
		return "", false // let the full parser decide
	}
	return "+86" + digits, true
}

var (
	cnPrefixMu sync.RWMutex
	cnPrefix   = map[string]bool{} // at most 10^6 keys, in practice a few hundred
)

// clean keeps digits (full-width ones folded to ASCII) and one leading '+',
// drops the separators people write, and refuses everything else.
func clean(raw string) (s string, plus bool, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxLen*3 {
		return "", false, ErrInvalid
	}
	var b strings.Builder
	for _, r := range raw {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case (r == '+' || r == '＋') && b.Len() == 0 && !plus:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/' ||
			r == '\u00a0' || r == '\u3000' || r == '－' || r == '（' || r == '）':
		case unicode.IsSpace(r):
		default:
			return "", false, ErrInvalid
		}
	}
	if b.Len() < 3 || b.Len() > 20 {
		return "", false, ErrInvalid
	}
	if plus {
		return "+" + b.String(), true, nil
	}
	return b.String(), false, nil
}

// Mask hides the middle of a number for logs: "+8613800138000" becomes
// "+86138****8000". Short codes keep only their first and last digit. Mask
// never returns its input unchanged unless that input is empty.
func Mask(n string) string {
	if n == "" {
		return ""
	}
	r := []rune(n)
	switch {
	case len(r) >= 11:
		return string(r[:6]) + "****" + string(r[len(r)-4:])
	case len(r) >= 7:
		return string(r[:3]) + "****" + string(r[len(r)-2:])
	case len(r) >= 3:
		return string(r[:1]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1:])
	default:
		return strings.Repeat("*", len(r))
	}
}

// IsMobile reports whether an E.164 number can receive SMS as far as the
// numbering plan tells (mobile, or fixed-line-or-mobile where a plan does not
// distinguish). Short codes and landlines cannot.
func IsMobile(e164 string) bool {
	if !strings.HasPrefix(e164, "+") {
		return false
	}
	n, err := phonenumbers.Parse(e164, "")
	if err != nil {
		return false
	}
	switch phonenumbers.GetNumberType(n) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.UNKNOWN, phonenumbers.PERSONAL_NUMBER, phonenumbers.VOIP:
		return true
	}
	return false
}
