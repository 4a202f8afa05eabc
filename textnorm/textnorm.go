// Package textnorm holds Reclaim's rules for text that crosses an edge (an API request, a row
// written to the database): which strings are acceptable text at all, how free text is trimmed
// before its length is judged, and how an identifier that people retype (a bank transaction id)
// is reduced to one comparable key.
//
// It is pure: no I/O, no database, no HTTP. httpapi applies Check to every string of every
// request; sqldb applies it again to every string it writes, so that SQLite and PostgreSQL answer
// the same way (PostgreSQL refuses NUL and invalid UTF-8 in text; SQLite would store them).
package textnorm

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Reasons a string is not acceptable text; test with errors.Is.
var (
	ErrUTF8    = errors.New("is not valid UTF-8")
	ErrNUL     = errors.New("contains a NUL character")
	ErrControl = errors.New("contains a control character")
)

// Check reports why s is not acceptable text, or nil: s must be valid UTF-8 and hold no NUL and
// no other control character (C0 controls other than tab, line feed and carriage return; DEL;
// the C1 controls U+0080 to U+009F). The error says only what is wrong, never the text itself.
func Check(s string) error {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == 0:
				return ErrNUL
			case c < 0x20 && c != '\t' && c != '\n' && c != '\r', c == 0x7f:
				return ErrControl
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return ErrUTF8
		}
		if r >= 0x80 && r <= 0x9f {
			return ErrControl
		}
		i += n
	}
	return nil
}

// invisible reports whether r is white space (Unicode White_Space, which includes the
// ideographic space U+3000 and the no-break spaces) or a format character (category Cf: the
// zero-width space U+200B, joiners, the byte-order mark U+FEFF, bidi controls).
func invisible(r rune) bool { return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) }

// Trim removes leading and trailing white space and format characters (see invisible), so that a
// purpose of five spaces, or of one letter between zero-width spaces, is seen as what it is.
func Trim(s string) string { return strings.TrimFunc(s, invisible) }

// Len is the length of s in characters (code points), the unit of every length rule in the API.
func Len(s string) int { return utf8.RuneCountInString(s) }

// TxnKey reduces a bank transaction id to the key its uniqueness is judged by: compatibility
// normalisation (NFKC: full-width "ＢＡＮＫ１" is "BANK1"), format characters (Cf, such as a
// zero-width space or a byte-order mark) dropped, white space trimmed, and case folded (so
// "bank-1" and "BANK-1" are one transaction), then NFKC again because folding can denormalise.
// Two ids with the same key are the same transaction. TxnKey of acceptable text is acceptable
// text; it may be empty (an id of nothing but spaces).
func TxnKey(s string) string {
	s = norm.NFKC.String(s)
	s = strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimFunc(s, unicode.IsSpace)
	s = cases.Fold().String(s)
	return norm.NFKC.String(s)
}
