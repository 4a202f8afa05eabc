package tape

import (
	"testing"

	"pgregory.net/rapid"
)

// The allocation-free path of foldValue and the precomputed canonical forms of lookupEnum (and the
// precomputed common cells of lookupBool) give exactly what folding every value (and every
// canonical value, in order) gives.
func TestFoldFastPathEqualsSlow(t *testing.T) {
	alphabet := []rune("abcXYZ019 -_\t\r\n·\u3000ＡＢｃ－是否有无NnYy.%/\u00a0\u0085")
	rapid.Check(t, func(rt *rapid.T) {
		rs := rapid.SliceOfN(rapid.SampledFrom(alphabet), 0, 12).Draw(rt, "runes")
		v := string(rs)
		if got, want := foldValue(v), foldValueSlow(v); got != want {
			rt.Fatalf("foldValue(%q) = %q, slow %q", v, got, want)
		}
		for i := range Fields {
			f := Field(i)
			if Fields[i].Kind == Bool {
				for _, c := range append([]string{v}, commonBoolCells...) {
					k := foldValueSlow(c)
					s, abs := fieldBoolWords[f][k], true
					if s == "" {
						s, abs = boolWords[k], false
					}
					t1, abs1, ok1 := lookupBool(f, c)
					if want := s == "true"; t1 != want || abs1 != (abs && s != "") || ok1 != (s != "") {
						rt.Fatalf("lookupBool(%s, %q) = %v %v %v, want %q (absolute %v)", f, c, t1, abs1, ok1, s, abs)
					}
				}
			}
			if len(Fields[i].Enum) == 0 {
				continue
			}
			old := func(v string) (string, bool) {
				k := foldValueSlow(v)
				for _, e := range Fields[f].Enum {
					if k == foldValueSlow(e) {
						return e, true
					}
				}
				e, ok := enumVocab[f][k]
				return e, ok
			}
			for _, c := range append([]string{v}, Fields[i].Enum...) {
				e1, ok1 := lookupEnum(f, c)
				e2, ok2 := old(c)
				if e1 != e2 || ok1 != ok2 {
					rt.Fatalf("lookupEnum(%s, %q) = %q %v, old %q %v", f, c, e1, ok1, e2, ok2)
				}
			}
		}
	})
}
