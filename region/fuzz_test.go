package region

import "testing"

// FuzzValid checks that the code functions never panic and agree with each other.
func FuzzValid(f *testing.F) {
	for _, s := range []string{"110000", "320505", "990000", "1100", "", "４４０３００", "429004"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := Valid(s)
		p, ok := Province(s)
		pre := Prefecture(s)
		if v && (!ok || pre == "" || p.Level != LevelProvince) {
			t.Fatalf("Valid(%q) but Province = %v, Prefecture = %q", s, ok, pre)
		}
		if d, ok := Lookup(s); ok && !v {
			t.Fatalf("Lookup(%q) = %+v but not Valid", s, d)
		}
		_ = PrefecturesOf(s)
	})
}
