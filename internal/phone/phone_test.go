package phone

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

func TestNormalize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, region, want string
		wantErr                bool
	}{
		{"cn mobile spaced", "138 0013 8000", "CN", "+8613800138000", false},
		{"cn mobile intl dashed", "+86 138-0013-8000", "CN", "+8613800138000", false},
		{"cn mobile IDD", "008613800138000", "CN", "+8613800138000", false},
		{"cn mobile bare", "13800138000", "CN", "+8613800138000", false},
		{"cn mobile full-width", "１３８００１３８０００", "CN", "+8613800138000", false},
		{"cn mobile full-width plus", "＋８６ １３８ ００１３ ８０００", "CN", "+8613800138000", false},
		{"cn landline with trunk prefix", "(010) 1234-5678", "CN", "+861012345678", false},
		{"cn landline intl", "+86 10 1234 5678", "CN", "+861012345678", false},
		{"short code", "12315", "CN", "12315", false},
		{"bank short code", "95588", "CN", "95588", false},
		{"us number", "+1 (202) 555-0143", "CN", "+12025550143", false},
		{"us national in US region", "202-555-0143", "US", "+12025550143", false},
		{"uk test range with plus", "+44 7700 900123", "CN", "+447700900123", false},
		{"empty", "", "CN", "", true},
		{"spaces only", "   ", "CN", "", true},
		{"letters", "hello", "CN", "", true},
		{"vanity letters", "1-800-FLOWERS", "US", "", true},
		{"one digit", "1", "CN", "", true},
		{"too long", "123456789012345678901234", "CN", "", true},
		{"two pluses", "++8613800138000", "CN", "", true},
		{"plus in middle", "138+00138000", "CN", "", true},
		{"script", "<script>", "CN", "", true},
		{"impossible cn", "0000000000", "CN", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Normalize(tc.in, tc.region)
			if tc.wantErr {
				if !errors.Is(err, ErrInvalid) {
					t.Fatalf("Normalize(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"+8613800138000", "+86138****8000"},
		{"+12025550143", "+12025****0143"},
		{"12315", "1***5"},
		{"+861012345", "+86****45"},
		{"", ""},
		{"12", "**"},
	}
	for _, tc := range tests {
		if got := Mask(tc.in); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestIsMobile(t *testing.T) {
	t.Parallel()
	if !IsMobile("+8613800138000") {
		t.Error("a CN mobile must take SMS")
	}
	if IsMobile("+861012345678") {
		t.Error("a Beijing landline cannot take SMS")
	}
	if IsMobile("12315") {
		t.Error("a short code cannot take SMS")
	}
}

// FuzzNormalize checks that any input either fails cleanly or yields a key
// that is stable (normalising it again gives itself) and never leaks through Mask.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"138 0013 8000", "+86 138-0013-8000", "008613800138000", "(010) 1234-5678", "12315", "", "+", "＋８６１３８", "1-800-FLOWERS"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Normalize(s, "CN")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Normalize(%q): unexpected error kind %v", s, err)
			}
			return
		}
		if !utf8.ValidString(got) || strings.TrimLeft(got, "+0123456789") != "" {
			t.Fatalf("Normalize(%q) = %q: not digits", s, got)
		}
		again, err := Normalize(got, "CN")
		if err != nil || again != got {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
		if len(got) >= 7 && Mask(got) == got {
			t.Fatalf("Mask(%q) leaks the number", got)
		}
	})
}

// TestNormalize_FastPathAgrees checks the Chinese-mobile fast path against
// phonenumbers itself over every 3-digit prefix and random subscriber digits.
func TestNormalize_FastPathAgrees(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for p := 100; p < 200; p++ {
		for range 40 {
			digits := fmt.Sprintf("%d%08d", p, rng.IntN(100000000))
			for _, form := range []string{digits, "+86" + digits, "0086" + digits} {
				fast, ok := fastCNMobile(strings.TrimPrefix(form, "+"), strings.HasPrefix(form, "+"), "CN")
				if !ok {
					continue
				}
				n, err := phonenumbers.Parse(form, "CN")
				if err != nil || !phonenumbers.IsValidNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != fast {
					t.Fatalf("%s: fast path says %s, phonenumbers disagrees (%v)", form, fast, err)
				}
			}
		}
	}
}

func BenchmarkNormalize(b *testing.B) {
	for i := range b.N {
		if _, err := Normalize(fmt.Sprintf("138 %04d %04d", i%10000, i%7919), "CN"); err != nil {
			b.Fatal(err)
		}
	}
}
