package cnid

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"reclaim/date"

	"pgregory.net/rapid"
)

// Check characters below were computed by hand / with an independent implementation of
// ISO 7064 MOD 11-2 ("10X98765432"[sum mod 11]).
var knownValid = []struct {
	id     string
	region string
	birth  date.Date
	seq    int
	male   bool
}{
	{"11010519491231002X", "110105", date.Of(1949, 12, 31), 2, false}, // GB 11643 textbook example
	{"440524188001010014", "440524", date.Of(1880, 1, 1), 1, true},    // GB 11643 appendix example
	{"320502199003071230", "320502", date.Of(1990, 3, 7), 123, true},
	{"510101200002294566", "510101", date.Of(2000, 2, 29), 456, false},
	{"310115198511158870", "310115", date.Of(1985, 11, 15), 887, true},
	{"330106197010015516", "330106", date.Of(1970, 10, 1), 551, true},
}

func TestCheckDigit(t *testing.T) {
	for _, k := range knownValid {
		c, err := CheckDigit(k.id[:17])
		if err != nil || c != k.id[17] {
			t.Errorf("CheckDigit(%s) = %q, %v; want %q", k.id[:17], c, err, k.id[17])
		}
	}
	if _, err := CheckDigit("1234"); !errors.Is(err, ErrLength) {
		t.Errorf("short err = %v", err)
	}
	if _, err := CheckDigit("1101051949123100a"); !errors.Is(err, ErrFormat) {
		t.Errorf("letter err = %v", err)
	}
}

func TestValidateKnown(t *testing.T) {
	for _, k := range knownValid {
		info, err := Validate(k.id)
		if err != nil {
			t.Errorf("Validate(%s): %v", k.id, err)
			continue
		}
		want := Info{ID: k.id, Region: k.region, Birth: k.birth, Sequence: k.seq, Male: k.male}
		if info != want {
			t.Errorf("Validate(%s) = %+v; want %+v", k.id, info, want)
		}
	}
	info, err := Validate(" 11010519491231002x ")
	if err != nil || info.ID != "11010519491231002X" {
		t.Errorf("lower-case x: %+v, %v", info, err)
	}
}

func TestValidateErrors(t *testing.T) {
	tests := []struct {
		id  string
		err error
	}{
		{"", ErrLength},
		{"11010519491231002", ErrLength},
		{"11010519491231002XX", ErrLength},
		{"110105491231002", ErrLength},
		{"11010519491231002Ｘ", ErrFormat},
		{"110105194912310０2X", ErrFormat},
		{"1101051949123100２", ErrLength},
		{"1101051949123100AX", ErrFormat},
		{"11010519491231002Y", ErrFormat},
		{"X10105194912310024", ErrFormat},
		{"1101051949-231002X", ErrFormat},
		{"110105194902300020", ErrBirthDate}, // 30 February
		{"110105202302290020", ErrBirthDate}, // 2023 is not a leap year
		{"110105194913010020", ErrBirthDate},
		{"110105000012310020", ErrBirthDate},
		{"110105170012310020", ErrBirthDate}, // before 1800
		{"110105194912310021", ErrChecksum},
		{"110105194912310020", ErrChecksum},
		{"11010519491231002X"[:17] + "9", ErrChecksum},
	}
	for _, tt := range tests {
		_, err := Validate(tt.id)
		if !errors.Is(err, tt.err) {
			t.Errorf("Validate(%q) err = %v; want %v", tt.id, err, tt.err)
		}
		if err != nil && len(tt.id) >= 10 && strings.Contains(err.Error(), tt.id) {
			t.Errorf("error %q echoes the ID", err)
		}
	}
	if _, err := Validate("110105491231002"); err == nil || !strings.Contains(err.Error(), "Upgrade15") {
		t.Errorf("15-digit error should point to Upgrade15: %v", err)
	}
}

func TestValidateAsOf(t *testing.T) {
	id := Generate("110101", date.Of(2024, 6, 1), 12, true)
	if _, err := ValidateAsOf(id, date.Of(2024, 6, 1)); err != nil {
		t.Errorf("born on asOf: %v", err)
	}
	if _, err := ValidateAsOf(id, date.Of(2024, 5, 31)); !errors.Is(err, ErrBirthDate) {
		t.Errorf("born after asOf: %v", err)
	}
	if _, err := ValidateAsOf(id, date.Date{}); err != nil {
		t.Errorf("zero asOf: %v", err)
	}
}

func TestUpgrade15(t *testing.T) {
	got, err := Upgrade15("110105491231002")
	if err != nil || got != "11010519491231002X" {
		t.Errorf("Upgrade15 = %q, %v", got, err)
	}
	for _, bad := range []string{"11010549123100", "1101054912310021", "11010549023000a", "110105490230002"} {
		if _, err := Upgrade15(bad); err == nil {
			t.Errorf("Upgrade15(%q) accepted", bad)
		}
	}
}

func TestGenerate(t *testing.T) {
	id := Generate("320500", date.Of(1983, 7, 9), 37, false)
	if id != "320500198307090361" {
		// 036 is the even neighbour of 037; check digit computed independently.
		t.Errorf("Generate = %s", id)
	}
	tests := []struct {
		seq     int
		male    bool
		wantSeq int
	}{{0, false, 0}, {0, true, 1}, {999, true, 999}, {999, false, 998}, {1000, true, 1}, {-1, true, 999}, {-2, false, 998}}
	for _, tt := range tests {
		info, err := Validate(Generate("440300", date.Of(1990, 1, 1), tt.seq, tt.male))
		if err != nil || info.Sequence != tt.wantSeq || info.Male != tt.male {
			t.Errorf("Generate(seq %d, male %v) -> %+v, %v; want seq %d", tt.seq, tt.male, info, err, tt.wantSeq)
		}
	}
	for _, bad := range []func(){
		func() { Generate("11010", date.Of(1990, 1, 1), 1, true) },
		func() { Generate("11010a", date.Of(1990, 1, 1), 1, true) },
		func() { Generate("110101", date.Date{}, 1, true) },
		func() { Generate("110101", date.Of(1799, 12, 31), 1, true) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("Generate with bad input did not panic")
				}
			}()
			bad()
		}()
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"110101199001011234", "1101**************"},
		{"11010519491231002X", "1101**************"},
		{" 11010519491231002X ", "1101**************"},
		{"110105491231002", "1101***********"},
		{"1234567890", "**********"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	phones := []struct{ in, want string }{
		{"13812345678", "138****5678"},
		{"+86 138-1234-5678", "138****5678"},
		{"8613812345678", "138****5678"},
		{"010-12345678", "010*****5678"},
		{"1234567", "*******"},
		{"", ""},
	}
	for _, tt := range phones {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestMobile(t *testing.T) {
	ok := map[string]string{
		"13812345678":       "13812345678",
		"138 1234 5678":     "13812345678",
		"138-1234-5678":     "13812345678",
		"+8613812345678":    "13812345678",
		"+86 138 1234 5678": "13812345678",
		"008613812345678":   "13812345678",
		"8619912345678":     "19912345678",
		"16612345678":       "16612345678",
	}
	for in, want := range ok {
		got, err := NormalizeMobile(in)
		if err != nil || got != want {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q", in, got, err, want)
		}
		if err := ValidMobile(in); err != nil {
			t.Errorf("ValidMobile(%q) = %v", in, err)
		}
	}
	for _, bad := range []string{"", "1381234567", "138123456789", "23812345678", "12812345678", "1381234567a",
		"１３８１２３４５６７８", "+85213812345678", "86138123456", "(138)12345678", "010-12345678"} {
		if err := ValidMobile(bad); !errors.Is(err, ErrMobile) {
			t.Errorf("ValidMobile(%q) = %v; want ErrMobile", bad, err)
		}
	}
}

func TestGenerateMobile(t *testing.T) {
	r1, r2 := rand.New(rand.NewPCG(1, 2)), rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{}
	for i := 0; i < 5000; i++ {
		p := GenerateMobile(r1)
		if p != GenerateMobile(r2) {
			t.Fatal("GenerateMobile not deterministic for a seed")
		}
		if err := ValidMobile(p); err != nil {
			t.Fatalf("GenerateMobile = %q: %v", p, err)
		}
		if p[:3] == "154" || p[:2] == "14" || p[:2] == "10" {
			t.Fatalf("unrealistic prefix %q", p)
		}
		seen[p[:3]] = true
	}
	if len(seen) != len(MobilePrefixes()) {
		t.Errorf("saw %d prefixes of %d", len(seen), len(MobilePrefixes()))
	}
}

// genID draws a valid ID from Generate.
func genID() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		region := rapid.StringMatching(`[1-9][0-9]{5}`).Draw(t, "region")
		days := rapid.IntRange(date.Of(1800, 1, 1).Days(), date.Of(2100, 12, 31).Days()).Draw(t, "birth")
		return Generate(region, date.FromDays(days), rapid.IntRange(-2000, 2000).Draw(t, "seq"), rapid.Bool().Draw(t, "male"))
	})
}

func TestPropGenerateValidates(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		region := rapid.StringMatching(`[0-9]{6}`).Draw(t, "region")
		birth := date.FromDays(rapid.IntRange(date.Of(1800, 1, 1).Days(), date.Of(9999, 12, 31).Days()).Draw(t, "birth"))
		seq := rapid.Int().Draw(t, "seq")
		male := rapid.Bool().Draw(t, "male")
		id := Generate(region, birth, seq, male)
		info, err := Validate(id)
		if err != nil {
			t.Fatalf("Validate(Generate) = %v", err)
		}
		wantSeq := ((seq % 1000) + 1000) % 1000 // before the parity adjustment, which keeps seq/2
		if info.Region != region || info.Birth != birth || info.Male != male || info.Sequence/2 != wantSeq/2 {
			t.Fatalf("Validate(%s) = %+v; want region %s birth %v male %v seq ~%d", id, info, region, birth, male, wantSeq)
		}
		if m := Mask(id); m[:MaskKeep] != id[:MaskKeep] || m[MaskKeep:] != strings.Repeat("*", Length-MaskKeep) {
			t.Fatalf("Mask(%s) = %s", id, m)
		}
	})
}

// TestPropSingleMutation checks that every change of one character of a valid ID, to any other
// digit or X, is rejected: ISO 7064 MOD 11-2 catches all single substitutions.
func TestPropSingleMutation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		id := genID().Draw(t, "id")
		for i := 0; i < Length; i++ {
			for _, c := range []byte("0123456789X") {
				if c == id[i] {
					continue
				}
				m := []byte(id)
				m[i] = c
				if _, err := Validate(string(m)); err == nil {
					t.Fatalf("mutation %s (char %d -> %c) of %s accepted", m, i+1, c, id)
				}
			}
		}
		// Adjacent transpositions of differing digits are caught as well.
		for i := 0; i+1 < Length; i++ {
			if id[i] == id[i+1] {
				continue
			}
			m := []byte(id)
			m[i], m[i+1] = m[i+1], m[i]
			if _, err := Validate(string(m)); err == nil {
				t.Fatalf("transposition %s at %d of %s accepted", m, i+1, id)
			}
		}
	})
}

func TestPropMobile(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		r := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "s1"), rapid.Uint64().Draw(t, "s2")))
		p := GenerateMobile(r)
		for _, form := range []string{p, "+86" + p, "+86 " + p[:3] + " " + p[3:7] + " " + p[7:], "86" + p, p[:3] + "-" + p[3:7] + "-" + p[7:]} {
			n, err := NormalizeMobile(form)
			if err != nil || n != p {
				t.Fatalf("NormalizeMobile(%q) = %q, %v", form, n, err)
			}
		}
		if m := MaskPhone(p); m != p[:3]+"****"+p[7:] {
			t.Fatalf("MaskPhone(%s) = %s", p, m)
		}
	})
}
