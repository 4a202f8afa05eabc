package pii

import (
	"encoding/json"
	"sync"
	"unicode/utf8"

	"reclaim"
)

// appendPersonalJSON appends to dst the bytes json.Marshal(p) gives (the sealed plaintext):
// the fields in declaration order under their JSON names, empty ones left out, strings escaped
// as encoding/json escapes them (HTML characters, U+2028 and U+2029 included). It writes the
// common strings itself and hands any string it would have to escape to encoding/json, so an
// import seals a borrower without reflection or the encoder's allocations.
// TestPersonalJSONFields checks the field list against the struct.
func appendPersonalJSON(dst []byte, p *reclaim.PersonalData) ([]byte, error) {
	dst = append(dst, '{')
	first := true
	str := func(key, v string) {
		if v == "" {
			return
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, key...)
		dst = appendJSONString(dst, v)
	}
	str(`"name":`, p.Name)
	str(`"national_id":`, p.NationalID)
	str(`"phone":`, p.Phone)
	str(`"address":`, p.Address)
	str(`"employer":`, p.Employer)
	str(`"bank_card":`, p.BankCard)
	str(`"contacts":`, p.Contacts)
	if !p.BirthDate.IsZero() {
		if !first {
			dst = append(dst, ',')
		}
		// What Date.MarshalJSON writes, without its allocations.
		dst = append(p.BirthDate.AppendISO(append(dst, `"birth_date":"`...)), '"')
	}
	return append(dst, '}'), nil
}

// appendJSONString appends s as encoding/json writes a string.
func appendJSONString(dst []byte, s string) []byte {
	if !plainJSON(s) {
		b, _ := json.Marshal(s) // a string always marshals
		return append(dst, b...)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plainJSON reports whether encoding/json writes s between quotes as it is: valid UTF-8 with no
// control character, quote, backslash, '<', '>', '&', U+2028 or U+2029. Three-byte characters
// (Chinese text) are checked here in place; others are decoded.
func plainJSON(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSpecial[c] {
				return false
			}
			i++
			continue
		}
		if c >= 0xE0 && c < 0xF0 && i+2 < len(s) {
			// A three-byte sequence: the second byte's range depends on the first (no overlong
			// forms after E0, no surrogates after ED), the third is a continuation byte.
			c1, c2 := s[i+1], s[i+2]
			lo, hi := byte(0x80), byte(0xBF)
			switch c {
			case 0xE0:
				lo = 0xA0
			case 0xED:
				hi = 0x9F
			case 0xE2:
				if c1 == 0x80 && (c2 == 0xA8 || c2 == 0xA9) { // U+2028, U+2029
					return false
				}
			}
			if c1 < lo || c1 > hi || c2 < 0x80 || c2 > 0xBF {
				return false
			}
			i += 3
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		i += n
	}
	return true
}

// jsonSpecial marks the ASCII characters encoding/json escapes.
var jsonSpecial = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = true
	}
	return t
}()

// plaintexts recycles the buffers personal data is encoded into before sealing (cleared first).
var plaintexts = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
