package caselog

import (
	"fmt"
	"strconv"
)

// Case numbers are a sequence number followed by a Damm check digit. Damm
// catches every single-digit error and every swap of neighbouring digits
// (Luhn misses 09<->90), which are the mistakes people make keying a number
// into a phone. Numbers start at seven digits so that the first cases are as
// long as later ones, and grow to at most twelve.
const (
	numberBase   = 100000 // first sequence value: 6 digits + check digit
	minNumberLen = 6
	maxNumberLen = 12
)

// dammTable is the totally anti-symmetric quasigroup of order 10 from
// H. Michael Damm's thesis (2004).
var dammTable = [10][10]byte{
	{0, 3, 1, 7, 5, 9, 8, 6, 4, 2},
	{7, 0, 9, 2, 1, 5, 4, 8, 6, 3},
	{4, 2, 0, 6, 8, 7, 1, 3, 5, 9},
	{1, 7, 5, 0, 9, 8, 3, 4, 2, 6},
	{6, 1, 2, 3, 0, 4, 5, 9, 7, 8},
	{3, 6, 7, 4, 2, 0, 9, 5, 8, 1},
	{5, 8, 6, 9, 7, 2, 0, 1, 3, 4},
	{8, 9, 4, 5, 3, 6, 2, 0, 1, 7},
	{9, 4, 3, 8, 6, 1, 7, 2, 0, 5},
	{2, 5, 8, 1, 4, 3, 6, 7, 9, 0},
}

func damm(digits string) byte {
	var interim byte
	for i := 0; i < len(digits); i++ {
		interim = dammTable[interim][digits[i]-'0']
	}
	return interim
}

// Valid reports whether s is well formed as a case number: 6 to 12 ASCII
// digits, not starting with 0, whose last digit checks. It does not say whether the case exists;
// a caller uses it to tell a mistyped number from an unknown one before any
// look-up.
func Valid(s string) bool {
	// A leading zero is never issued, and would otherwise make "0" + a
	// number check as well as the number itself (a leading zero leaves the
	// Damm digit unchanged).
	if len(s) < minNumberLen || len(s) > maxNumberLen || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return damm(s) == 0
}

// formatNumber turns a sequence value into its case number.
func formatNumber(seq uint64) string {
	body := strconv.FormatUint(seq+numberBase, 10)
	return body + string('0'+damm(body))
}

// parseNumber is the inverse of formatNumber.
func parseNumber(s string) (uint64, error) {
	if !Valid(s) {
		return 0, fmt.Errorf("case %q: %w", s, ErrBadNumber)
	}
	v, err := strconv.ParseUint(s[:len(s)-1], 10, 64)
	if err != nil || v < numberBase {
		return 0, fmt.Errorf("case %q: %w", s, ErrBadNumber)
	}
	return v - numberBase, nil
}
