package sms

import (
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	t.Parallel()
	r := strings.Repeat
	tests := []struct {
		name string
		text string
		n    int
		enc  string
	}{
		{"empty", "", 1, GSM7},
		{"short ascii", "Hello", 1, GSM7},
		{"160 septets", r("a", 160), 1, GSM7},
		{"161 septets", r("a", 161), 2, GSM7},
		{"306 septets", r("a", 306), 2, GSM7},
		{"307 septets", r("a", 307), 3, GSM7},
		{"459 septets", r("a", 459), 3, GSM7},
		{"gsm accents and greek", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", 1, GSM7},
		{"extension counts two: 80 euros", r("€", 80), 1, GSM7},
		{"extension counts two: 81 euros", r("€", 81), 2, GSM7},
		{"extension chars", r("{}[]~|^\\", 10), 1, GSM7},
		{"extension chars over", r("{}[]~|^\\", 10) + "a", 2, GSM7},
		// 306 septets, but the escape pair may not straddle segments 1 and 2.
		{"escape pair not split", r("a", 152) + "€" + r("a", 152), 3, GSM7},
		{"backtick is not gsm", "`", 1, UCS2},
		{"small c cedilla is not gsm", "ç", 1, UCS2},
		{"curly quote makes ucs2", r("a", 100) + "’", 2, UCS2},
		{"en dash makes ucs2", "1–5", 1, UCS2},
		{"70 han", r("中", 70), 1, UCS2},
		{"71 han", r("中", 71), 2, UCS2},
		{"134 han", r("中", 134), 2, UCS2},
		{"135 han", r("中", 135), 3, UCS2},
		{"35 emoji are 70 units", r("😀", 35), 1, UCS2},
		{"36 emoji are 72 units", r("😀", 36), 2, UCS2},
		// 134 units, but the surrogate pair may not straddle segments.
		{"surrogate pair not split", r("中", 66) + "😀" + r("中", 66), 3, UCS2},
		{"full-width letters are ucs2", "ＳＴＯＰ", 1, UCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, enc := Segments(tt.text)
			if n != tt.n || enc != tt.enc {
				t.Errorf("Segments(%q) = %d, %s; want %d, %s", tt.text, n, enc, tt.n, tt.enc)
			}
		})
	}
}
