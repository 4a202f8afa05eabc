package cnid

import (
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
