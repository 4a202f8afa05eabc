package cnid

import (
	"strings"
	"testing"

	"reclaim/date"
)

// FuzzValidate checks that Validate, Mask and the phone functions never panic, and that an
// accepted ID is consistent with its Info and regenerates identically.
func FuzzValidate(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "440524188001010014", "", "110105491231002",
		"1101051949123100２X", "+86 138 1234 5678", "99999999999999999X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Mask(s)
		_ = MaskPhone(s)
		if n, err := NormalizeMobile(s); err == nil {
			if len(n) != 11 || ValidMobile(n) != nil {
				t.Fatalf("NormalizeMobile(%q) = %q", s, n)
			}
		}
		_, _ = Upgrade15(s)
		info, err := ValidateAsOf(s, date.Of(2026, 1, 1))
		if err != nil {
			return
		}
		if info.Birth.After(date.Of(2026, 1, 1)) {
			t.Fatalf("future birth accepted: %v", info.Birth)
		}
		if g := Generate(info.Region, info.Birth, info.Sequence, info.Male); g != info.ID {
			t.Fatalf("Generate(%+v) = %s; want %s", info, g, info.ID)
		}
	})
}

// FuzzMobileAndMaskShortcuts: NormalizeMobile's shortcut for a number already normal gives what
// the general path gives, and maskKeep's ASCII path what starring a copy of the bytes gives.
func FuzzMobileAndMaskShortcuts(f *testing.F) {
	for _, s := range []string{"17065074194", "12065074194", "1706507419x", "+8617065074194", "170 6507 4194", "", "1234567", "430681197512224845"} {
		f.Add(s, uint8(3), uint8(4), uint8(8))
	}
	f.Fuzz(func(t *testing.T, p string, head, tail, minLen uint8) {
		if plainMobile(p) {
			if n, err := normalizeMobile(p); n != p || err != nil {
				t.Fatalf("normalizeMobile(%q) = %q %v, the shortcut %q", p, n, err, p)
			}
		}
		h, tl, m := int(head%20), int(tail%20), int(minLen%30)
		want := strings.Repeat("*", len(p))
		if len(p) >= m {
			b := []byte(p)
			for i := h; i < len(b)-tl; i++ {
				b[i] = '*'
			}
			want = string(b)
		}
		if ascii(p) {
			if got := maskKeep(p, h, tl, m); got != want {
				t.Fatalf("maskKeep(%q, %d, %d, %d) = %q, want %q", p, h, tl, m, got, want)
			}
		}
	})
}
