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
		b, err := p.BirthDate.MarshalJSON()
		if err != nil {
			return nil, err
		}
		dst = append(append(dst, `"birth_date":`...), b...)
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
// control character, quote, backslash, '<', '>', '&', U+2028 or U+2029. It looks at bytes (in
// valid UTF-8, E2 80 A8 and E2 80 A9 are U+2028 and U+2029 and nothing else) and checks the
// encoding once, rather than decoding each character of a Chinese name or address.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&':
			return false
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9):
			return false
		}
	}
	return utf8.ValidString(s)
}

// plaintexts recycles the buffers personal data is encoded into before sealing (cleared first).
var plaintexts = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
