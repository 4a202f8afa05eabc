package textnorm

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want error
	}{
		{"", nil},
		{"BANK-0001", nil},
		{"电话催收：还款计划", nil},
		{"tab\tline\nreturn\r", nil},
		{"emoji 🙂 and ＦＵＬＬ", nil},
		{"a\x00b", ErrNUL},
		{"\x00", ErrNUL},
		{"a\xffb", ErrUTF8},
		{"\xc3", ErrUTF8},              // truncated sequence
		{"\xed\xa0\x80", ErrUTF8},      // a UTF-16 surrogate encoded in UTF-8
		{"\xc0\x80", ErrUTF8},          // overlong NUL
		{"bell\x07", ErrControl},       // C0
		{"esc\x1b[31m", ErrControl},    // terminal escapes
		{"del\x7f", ErrControl},        // DEL
		{"c1\u0085", ErrControl},       // NEL, a C1 control
		{"ok \ufffd replacement", nil}, // the replacement character itself is text
	} {
		if got := Check(tc.in); !errors.Is(got, tc.want) || (tc.want == nil) != (got == nil) {
			t.Errorf("Check(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestTrim(t *testing.T) {
	for in, want := range map[string]string{
		"  settlement call  ":         "settlement call",
		"\u3000\u3000电话催收\u3000":      "电话催收",
		"\u200b\u200ba\u200b\ufeff":   "a",
		"\u00a0\u2003\t\n abc def \r": "abc def",
		"     ":                       "",
		"a\u200bb":                    "a\u200bb", // only the ends
	} {
		if got := Trim(in); got != want {
			t.Errorf("Trim(%q) = %q, want %q", in, got, want)
		}
	}
	if n := Len("电话催收"); n != 4 {
		t.Errorf("Len = %d, want 4 characters", n)
	}
}

func TestTxnKey(t *testing.T) {
	base := TxnKey("BANK-2025-0001")
	for _, v := range []string{
		"BANK-2025-0001", "bank-2025-0001", "Bank-2025-0001", " BANK-2025-0001 ", "\tBANK-2025-0001\n",
		"ＢＡＮＫ－２０２５－０００１",             // full width
		"BANK-2025-\u200b0001",       // zero-width space
		"\ufeffBANK-2025-0001",       // byte-order mark
		"BANK\u2060-2025-0001\u200d", // word joiner, zero-width joiner
		"\u3000BANK-2025-0001\u3000", // ideographic spaces
		"\u202eBANK-2025-0001\u202c", // bidi override
	} {
		if got := TxnKey(v); got != base {
			t.Errorf("TxnKey(%q) = %q, want %q", v, got, base)
		}
	}
	for _, other := range []string{"BANK-2025-0002", "BANK 2025 0001", "BANK-2025-00001"} {
		if TxnKey(other) == base {
			t.Errorf("TxnKey(%q) collides with BANK-2025-0001", other)
		}
	}
	if k := TxnKey("Straße-1"); k != TxnKey("STRASSE-1") {
		t.Errorf("full case folding: %q vs %q", k, TxnKey("STRASSE-1"))
	}
}

// FuzzCheck: Check agrees with a direct reading of its contract and never panics.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "abc", "a\x00", "\xff", "\u0085", "\t\n\r", "电话", "\x7f", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := Check(s)
		var want error
		if !utf8.ValidString(s) {
			want = ErrUTF8
		} else {
			for _, r := range s {
				if r == 0 {
					want = ErrNUL
					break
				}
				if (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7f && r <= 0x9f) {
					want = ErrControl
					break
				}
			}
		}
		// Invalid UTF-8 after a control character is reported as whichever comes first; only
		// acceptance must agree exactly.
		if (err == nil) != (want == nil) {
			t.Fatalf("Check(%q) = %v, want %v", s, err, want)
		}
		if err == nil && Check(Trim(s)) != nil {
			t.Fatalf("Trim(%q) made acceptable text unacceptable", s)
		}
	})
}

// FuzzTxnKey: the key is idempotent, blind to case, width, invisible characters and surrounding
// space, keeps acceptable text acceptable, and never panics.
func FuzzTxnKey(f *testing.F) {
	for _, s := range []string{"BANK-1", "ｂａｎｋ－１", "a\u200bb", " x ", "Straße", "ﬁ", "İ", "\u0345", "ǅ", "ᾈ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		k := TxnKey(s)
		if TxnKey(k) != k {
			t.Fatalf("TxnKey not idempotent on %q: %q then %q", s, k, TxnKey(k))
		}
		if isASCII(s) && TxnKey(strings.ToUpper(s)) != TxnKey(strings.ToLower(s)) {
			t.Fatalf("case variants of %q differ", s)
		}
		if TxnKey(" \u200b"+s+"\ufeff\u3000") != k {
			t.Fatalf("invisible padding changes the key of %q", s)
		}
		if strings.ContainsFunc(k, func(r rune) bool { return unicode.Is(unicode.Cf, r) }) {
			t.Fatalf("key of %q keeps a format character: %q", s, k)
		}
		if Check(s) == nil && Check(k) != nil {
			t.Fatalf("key of acceptable %q is not acceptable: %q", s, k)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
