package sms

import "unicode/utf16"

// Encodings that Segments reports, spelled as Twilio's segment calculator
// spells them.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Segment sizes of GSM 03.40: a single message carries 140 octets; a part of
// a concatenated one loses 6 octets to the user data header.
const (
	gsmSingle  = 160 // septets
	gsmPart    = 153
	ucs2Single = 70 // UTF-16 code units
	ucs2Part   = 67
)

// gsmBasic is the GSM 03.38 default alphabet (one septet each), less the
// escape code at 0x1B. 0x09 is the capital Ç of the standard; the small ç
// some tables show there is left out so that a text is never counted as
// GSM-7 when a carrier would send it as UCS-2.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the extension table: each costs an escape septet and its
// own, two in all.
const gsmExtension = "\f^{}\\[~]|€"

var (
	gsmBasicSet = runeSet(gsmBasic)
	gsmExtSet   = runeSet(gsmExtension)
)

func runeSet(s string) map[rune]bool {
	m := make(map[rune]bool)
	for _, r := range s {
		m[r] = true
	}
	return m
}

// gsmSeptets is how many septets r takes in GSM-7, or 0 if GSM-7 cannot
// carry it.
func gsmSeptets(r rune) int {
	switch {
	case gsmBasicSet[r]:
		return 1
	case gsmExtSet[r]:
		return 2
	}
	return 0
}

// Segments says how many SMS segments text takes and in which encoding.
// A text goes as GSM-7 when every character is in the GSM 03.38 default
// alphabet or its extension table (which cost two septets), else as UCS-2,
// counted in UTF-16 code units (an emoji outside the BMP is two).
//
// Up to 160 septets (70 units) is one segment; above that each segment holds
// 153 septets (67 units). Segments are filled the way handsets and Twilio
// fill them: an escape pair or a surrogate pair is never split across two
// segments, so a text can take one segment more than its length divided by
// 153 (or 67). An empty text is one (empty) segment.
func Segments(text string) (n int, encoding string) {
	gsm := true
	for _, r := range text {
		if gsmSeptets(r) == 0 {
			gsm = false
			break
		}
	}
	single, part, size := ucs2Single, ucs2Part, utf16Len
	encoding = UCS2
	if gsm {
		single, part, size = gsmSingle, gsmPart, gsmSeptets
		encoding = GSM7
	}

	total := 0
	for _, r := range text {
		total += size(r)
	}
	if total <= single {
		return 1, encoding
	}
	n, used := 1, 0
	for _, r := range text {
		w := size(r)
		if used+w > part {
			n++
			used = 0
		}
		used += w
	}
	return n, encoding
}

func utf16Len(r rune) int {
	if n := utf16.RuneLen(r); n > 0 {
		return n
	}
	return 1 // an invalid rune travels as U+FFFD
}
