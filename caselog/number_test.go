package caselog

import (
	"testing"
)

func TestValid(t *testing.T) {
	t.Parallel()
	good := formatNumber(1)
	tests := []struct {
		in   string
		want bool
	}{
		{good, true},
		{formatNumber(999_999_999), true},
		{"", false},
		{"12345", false},         // too short
		{"1234567890123", false}, // too long
		{"12a4567", false},
		{"0" + good, false}, // a leading zero keeps the check digit valid: refused

		{"１２３４５６７", false}, // full-width digits are folded by the parsers, not here
		{good[:len(good)-1] + string('0'+(good[len(good)-1]-'0'+1)%10), false},
	}
	for _, tc := range tests {
		if got := Valid(tc.in); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// TestValid_CatchesTypos checks the property that the number scheme is
// chosen for: every single-digit error and every swap of two different
// neighbouring digits is caught, over a sample of numbers.
func TestValid_CatchesTypos(t *testing.T) {
	t.Parallel()
	for _, seq := range []uint64{1, 2, 9, 10, 99, 1234, 98765, 100000, 999999, 1000000, 4242424242, 99_899_999_999} {
		n := formatNumber(seq)
		if !Valid(n) {
			t.Fatalf("formatNumber(%d) = %s is not valid", seq, n)
		}
		if got, err := parseNumber(n); err != nil || got != seq {
			t.Fatalf("parseNumber(%s) = %d, %v; want %d", n, got, err, seq)
		}
		b := []byte(n)
		for i := range b {
			orig := b[i]
			for d := byte('0'); d <= '9'; d++ {
				if d == orig {
					continue
				}
				b[i] = d
				if Valid(string(b)) {
					t.Errorf("%s: single-digit error %s at %d not caught", n, b, i)
				}
			}
			b[i] = orig
		}
		for i := 0; i+1 < len(b); i++ {
			if b[i] == b[i+1] {
				continue
			}
			b[i], b[i+1] = b[i+1], b[i]
			if Valid(string(b)) {
				t.Errorf("%s: adjacent swap %s not caught", n, b)
			}
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
}

func TestFormatNumber_LengthAndOrder(t *testing.T) {
	t.Parallel()
	if n := formatNumber(1); len(n) != 7 {
		t.Errorf("first number %s: want 7 digits", n)
	}
	if n := formatNumber(899_999_999_99); len(n) != 12 {
		t.Errorf("last number %s: want 12 digits", n)
	}
	prev := ""
	for i := uint64(1); i < 2000; i++ {
		n := formatNumber(i)
		if n == prev {
			t.Fatalf("number %s reused", n)
		}
		prev = n
	}
	if _, err := parseNumber("0000000"); err == nil {
		t.Error("a number below the base must not parse")
	}
}

func FuzzValid(f *testing.F) {
	for _, s := range []string{formatNumber(1), "1234567", "", "abc", "999999999999", "０１２３４５６"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !Valid(s) {
			if _, err := parseNumber(s); err == nil {
				t.Fatalf("parseNumber(%q) accepted an invalid number", s)
			}
			return
		}
		seq, err := parseNumber(s)
		if err != nil {
			if len(s) < 7 {
				return // valid shape, below the numbering base: never issued
			}
			t.Fatalf("valid %q does not parse: %v", s, err)
		}
		if formatNumber(seq) != s {
			t.Fatalf("round trip %q -> %d -> %q", s, seq, formatNumber(seq))
		}
	})
}
