package main

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"reclaim/ingest"
	"reclaim/msg"
)

// TestTapeValidateLang: "tape validate --lang zh" prints the rule descriptions, the row problems
// and the summary in Chinese; --lang en and a non-Chinese locale in English; without --lang a
// zh_CN locale picks Chinese; --json keeps codes, args and the English message either way.
func TestTapeValidateLang(t *testing.T) {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	g := []string{"--data-dir", filepath.Join(dir, "data"), "-q"}
	tp := filepath.Join(dir, "tape.csv")
	if _, errOut, code := cli(t, append(g, "synth", "--loans", "300", "--seed", "7", "--lang", "zh",
		"--invalid", "claim_sum=0.03,mobile=0.03,national_id=0.03,enum=0.03", "--out", tp)...); code != exitOK {
		t.Fatalf("synth: %s", errOut)
	}

	zh, _, code := cli(t, append(g, "--lang", "zh", "tape", "validate", tp, "--show", "1000")...)
	if code != exitFailed {
		t.Fatalf("validate --lang zh: exit %d\n%s", code, zh)
	}
	for _, want := range []string{
		"状态      已校验",
		"按规则统计的无效行：",
		"债权总额 = 本金 + 利息 + 费用，精确到分", // rule description
		"身份证号：18 位，出生日期有效，校验位符合 GB 11643",
		"债权总额 ", // row problem
		"（手机号为 11 位数字，以 13 至 19 开头）", // row problem
		"共 300 行：有效 ",                // summary
	} {
		if !strings.Contains(zh, want) {
			t.Errorf("zh report lacks %q:\n%s", want, zh)
		}
	}
	// Every row problem and rule description is Chinese: the message column has no English word
	// beyond the standards' names.
	eng := regexp.MustCompile(`[A-Za-z]{3,}`)
	section := zh[strings.Index(zh, "按规则统计的无效行："):]
	cols := regexp.MustCompile(`\s{2,}`)
	checked := 0
	for _, line := range strings.Split(section, "\n") {
		f := cols.Split(line, -1)
		if len(f) < 3 || strings.HasPrefix(line, "规则") || strings.HasPrefix(line, "行号") {
			continue
		}
		checked++
		text := f[len(f)-1] // the last column: the check or the message
		args := ""
		if len(f) == 5 {
			args = f[2] // a message may quote the value (an amount, a date)
		}
		for _, w := range eng.FindAllString(strings.ReplaceAll(text, args, ""), -1) {
			if w != "ISO" && w != "docs" && w != "tape" && w != "mapping" {
				t.Errorf("English %q in %q", w, line)
			}
		}
	}
	if checked < 10 {
		t.Errorf("only %d report lines checked:\n%s", checked, section)
	}

	en, _, _ := cli(t, append(g, "--lang", "en", "tape", "validate", tp)...)
	if !strings.Contains(en, "Status   VALIDATED") || !strings.Contains(en, "total_claim = principal + interest + fees to the cent") ||
		!strings.Contains(en, "300 rows: ") || strings.Contains(en, "债权总额 = 本金") {
		t.Errorf("en report:\n%s", en)
	}

	t.Setenv("LANG", "zh_CN.UTF-8")
	byEnv, _, _ := cli(t, append(g, "tape", "validate", tp)...)
	if !strings.Contains(byEnv, "状态      已校验") {
		t.Errorf("LANG=zh_CN.UTF-8 did not pick Chinese:\n%s", byEnv)
	}
	t.Setenv("LC_ALL", "en_US.UTF-8")
	if out, _, _ := cli(t, append(g, "tape", "validate", tp)...); !strings.Contains(out, "Status   VALIDATED") {
		t.Errorf("LC_ALL=en_US overrides LANG:\n%s", out)
	}

	js, _, _ := cli(t, append(g, "--lang", "zh", "tape", "validate", tp, "--json")...)
	var rep ingest.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.MessageCode != "report.validated" || rep.MessageArgs["rows"] != "300" || !strings.HasPrefix(rep.Message, "300 rows: ") {
		t.Errorf("json summary: %q %v %q", rep.MessageCode, rep.MessageArgs, rep.Message)
	}
	for _, e := range rep.Errors {
		if e.Code == "" || e.Message != msg.Render(msg.EN, e.Code, e.Args) {
			t.Errorf("json row error: %+v", e)
		}
	}

	if _, errOut, code := cli(t, append(g, "--lang", "fr", "tape", "validate", tp)...); code != exitUsage || !strings.Contains(errOut, "--lang") {
		t.Errorf("--lang fr: exit %d %q", code, errOut)
	}
}
