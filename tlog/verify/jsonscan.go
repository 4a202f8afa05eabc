package verify

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// valueKind is the JSON kind of an entry member's value.
type valueKind int

const (
	kindString valueKind = iota + 1
	kindInt
	kindList
)

func (k valueKind) String() string {
	switch k {
	case kindString:
		return "a string"
	case kindInt:
		return "an integer"
	case kindList:
		return "an array"
	}
	return "an unknown value"
}

// member is one "key":value pair of an entry object, in input order.
type member struct {
	key  string
	off  int // byte offset of the key
	kind valueKind
	s    string
	n    int64
	l    []string
}

// scanner reads the strict JSON subset that entries use: one object whose values are strings,
// non-negative integers or arrays of strings, with no whitespace anywhere outside strings.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) fail(format string, args ...any) error {
	args = append(args, s.i)
	return entryErr("", format+" at byte %d", args...)
}

func (s *scanner) peek() (byte, bool) {
	if s.i >= len(s.b) {
		return 0, false
	}
	return s.b[s.i], true
}

// expect consumes c or fails, naming whitespace specially because it is the usual mistake.
func (s *scanner) expect(c byte) error {
	got, ok := s.peek()
	if !ok {
		return s.fail("unexpected end of entry, want %q", c)
	}
	if got != c {
		if isSpace(got) {
			return s.fail("whitespace is not allowed")
		}
		return s.fail("unexpected %q, want %q", got, c)
	}
	s.i++
	return nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func scanObject(b []byte) ([]member, error) {
	s := &scanner{b: b}
	if err := s.expect('{'); err != nil {
		return nil, err
	}
	var out []member
	if c, ok := s.peek(); ok && c == '}' {
		return nil, s.fail("empty object")
	}
	for {
		off := s.i
		if c, ok := s.peek(); ok && c != '"' {
			if isSpace(c) {
				return nil, s.fail("whitespace is not allowed")
			}
			return nil, s.fail("want a quoted key")
		}
		key, err := s.str()
		if err != nil {
			return nil, err
		}
		if err := s.expect(':'); err != nil {
			return nil, err
		}
		m := member{key: key, off: off}
		if err := s.value(&m); err != nil {
			return nil, err
		}
		out = append(out, m)
		if len(out) > 64 {
			return nil, s.fail("too many keys")
		}
		c, ok := s.peek()
		if !ok {
			return nil, s.fail("unexpected end of entry, want ',' or '}'")
		}
		if c == '}' {
			s.i++
			break
		}
		if err := s.expect(','); err != nil {
			return nil, err
		}
	}
	if s.i != len(b) {
		if isSpace(b[s.i]) {
			return nil, s.fail("whitespace (or a trailing newline) after the object is not allowed")
		}
		return nil, s.fail("data after the object")
	}
	return out, nil
}

func (s *scanner) value(m *member) error {
	c, ok := s.peek()
	if !ok {
		return s.fail("unexpected end of entry, want a value for %q", m.key)
	}
	switch {
	case c == '"':
		v, err := s.str()
		m.kind, m.s = kindString, v
		return err
	case c == '[':
		s.i++
		m.kind = kindList
		m.l = []string{}
		if c, ok := s.peek(); ok && c == ']' {
			s.i++
			return nil
		}
		for {
			if c, ok := s.peek(); !ok || c != '"' {
				if ok && isSpace(c) {
					return s.fail("whitespace is not allowed")
				}
				return s.fail("array elements must be strings")
			}
			v, err := s.str()
			if err != nil {
				return err
			}
			m.l = append(m.l, v)
			if len(m.l) > 1024 {
				return s.fail("array too long")
			}
			c, ok := s.peek()
			if ok && c == ']' {
				s.i++
				return nil
			}
			if err := s.expect(','); err != nil {
				return err
			}
		}
	case c == '-' || '0' <= c && c <= '9':
		return s.number(m)
	case isSpace(c):
		return s.fail("whitespace is not allowed")
	case c == '{':
		return s.fail("nested objects are not allowed (key %q)", m.key)
	case c == 't' || c == 'f' || c == 'n':
		return s.fail("true, false and null are not allowed (key %q)", m.key)
	}
	return s.fail("unexpected %q", c)
}

// number reads a JSON number and accepts only a non-negative integer without leading zeros.
func (s *scanner) number(m *member) error {
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		if !('0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E') {
			break
		}
		s.i++
	}
	lit := string(s.b[start:s.i])
	for i := 0; i < len(lit); i++ {
		switch lit[i] {
		case '.', 'e', 'E':
			s.i = start
			return s.fail("%q: floats and exponents are not allowed (key %q)", lit, m.key)
		case '-', '+':
			s.i = start
			return s.fail("%q: signed numbers are not allowed (key %q)", lit, m.key)
		}
	}
	if len(lit) > 1 && lit[0] == '0' {
		s.i = start
		return s.fail("%q: leading zeros are not allowed (key %q)", lit, m.key)
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil || n > MaxJSONInt {
		s.i = start
		return s.fail("%q: integer too large (key %q)", lit, m.key)
	}
	m.kind, m.n = kindInt, n
	return nil
}

// str reads a JSON string (any valid escapes; the canonical-form check later rejects the
// unnecessary ones) and returns its decoded value.
func (s *scanner) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	var out []byte
	for {
		if s.i >= len(s.b) {
			return "", s.fail("unterminated string")
		}
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return "", s.fail("string is not valid UTF-8")
			}
			return string(out), nil
		case c < 0x20:
			return "", s.fail("raw control character 0x%02x in a string", c)
		case c == '\\':
			if s.i+1 >= len(s.b) {
				return "", s.fail("unterminated escape")
			}
			e := s.b[s.i+1]
			switch e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r, n, ok := s.unicodeEscape()
				if !ok {
					return "", s.fail("bad \\u escape")
				}
				out = utf8.AppendRune(out, r)
				s.i += n
				continue
			default:
				return "", s.fail("bad escape \\%c", e)
			}
			s.i += 2
		default:
			out = append(out, c)
			s.i++
		}
	}
}

// unicodeEscape decodes \uXXXX (or a surrogate pair \uXXXX\uXXXX) at s.i and returns the rune
// and the number of bytes consumed. Lone surrogates are rejected.
func (s *scanner) unicodeEscape() (rune, int, bool) {
	r1, ok := hex4(s.b, s.i+2)
	if !ok {
		return 0, 0, false
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 6, true
	}
	if s.i+12 > len(s.b) || s.b[s.i+6] != '\\' || s.b[s.i+7] != 'u' {
		return 0, 0, false
	}
	r2, ok := hex4(s.b, s.i+8)
	if !ok {
		return 0, 0, false
	}
	r := utf16.DecodeRune(r1, r2)
	if r == utf8.RuneError {
		return 0, 0, false
	}
	return r, 12, true
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
