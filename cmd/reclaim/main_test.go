package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"reclaim/ingest"
	"reclaim/money"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tape"
)

// cli runs the command line in-process and returns stdout, stderr and the exit code.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

func TestExitCodesAndHelp(t *testing.T) {
	if _, _, code := cli(t, "--help"); code != exitOK {
		t.Errorf("--help: %d", code)
	}
	for _, args := range [][]string{{"frobnicate"}, {"tape", "import"}, {"synth", "--loans", "x"}, {"synth", "--profile", "nope", "--out", "x.csv"},
		{"portfolio", "show", "abc"}, {"user", "add", "bob", "--role", "king"}} {
		_, errOut, code := cli(t, args...)
		if code != exitUsage || !strings.Contains(errOut, "error:") {
			t.Errorf("%v: exit %d, stderr %q; want 2 with a message", args, code, errOut)
		}
	}
	out, _, code := cli(t, "version", "--json")
	if code != exitOK || !strings.Contains(out, `"version"`) {
		t.Errorf("version --json: %d %q", code, out)
	}
	for _, cmd := range [][]string{{"synth"}, {"tape", "validate"}, {"tape", "import"}, {"tape", "export"}, {"portfolio", "list"},
		{"portfolio", "show"}, {"portfolio", "header"}, {"migrate"}, {"serve"}, {"demo"}, {"user", "add"}} {
		out, _, code := cli(t, append(cmd, "--help")...)
		if code != exitOK || !strings.Contains(out, "Usage:") {
			t.Errorf("%v --help: %d", cmd, code)
		}
	}
}

// TestTapeWorkflow drives synth -> validate -> import (rejected, then skip-invalid) -> list ->
// header -> masked export through the CLI, on SQLite and PostgreSQL.
func TestTapeWorkflow(t *testing.T) {
	sqldbtest.ForEachEngineDSN(t, func(t *testing.T, dsn string) {
		dir := t.TempDir()
		g := []string{"--data-dir", filepath.Join(dir, "data"), "--dsn", dsn, "-q"}
		if strings.HasPrefix(dsn, "postgres") {
			if _, errOut, code := cli(t, append(g, "migrate")...); code != exitOK {
				t.Fatalf("migrate: %s", errOut)
			}
		}
		tp := filepath.Join(dir, "tape.csv")
		out, errOut, code := cli(t, append(g, "synth", "--loans", "500", "--seed", "5", "--lang", "zh", "--encoding", "gbk",
			"--unit", "wan", "--invalid", "claim_sum=0.02,mobile=0.02", "--out", tp, "--history", filepath.Join(dir, "h.csv"))...)
		if code != exitOK || !strings.Contains(out, "Wrote 500 loans") {
			t.Fatalf("synth: %d %s %s", code, out, errOut)
		}
		out, _, code = cli(t, append(g, "tape", "validate", tp, "--json")...)
		var rep ingest.Report
		if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFailed || rep.Invalid == 0 || rep.Valid+rep.Invalid != 500 {
			t.Fatalf("validate: exit %d, %+v (%v)", code, rep, err)
		}
		rejects := filepath.Join(dir, "rejects.csv")
		out, _, code = cli(t, append(g, "tape", "import", tp, "--rejects", rejects)...)
		if code != exitFailed || !strings.Contains(out, "REJECTED") || !strings.Contains(out, "claim_sum") {
			t.Fatalf("all-or-nothing import: exit %d\n%s", code, out)
		}
		out, _, code = cli(t, append(g, "tape", "import", tp, "--skip-invalid", "--seller", "Bank C", "--json")...)
		if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitOK || rep.Imported+rep.Rejected != 500 || rep.PortfolioID == 0 {
			t.Fatalf("skip-invalid import: exit %d %+v", code, rep)
		}
		out, _, code = cli(t, append(g, "tape", "import", tp, "--skip-invalid")...)
		if code != exitFailed || !strings.Contains(out, "already imported") {
			t.Errorf("duplicate import: exit %d %s", code, out)
		}
		out, _, _ = cli(t, append(g, "portfolio", "list")...)
		if !strings.Contains(out, "Bank C") {
			t.Errorf("list: %s", out)
		}
		ps, _, _ := cli(t, append(g, "portfolio", "list", "--json")...)
		var list []struct{ ID int64 }
		if err := json.Unmarshal([]byte(ps), &list); err != nil || len(list) != 1 {
			t.Fatalf("list --json: %v %s", err, ps)
		}
		id := strconv.FormatInt(list[0].ID, 10)
		out, _, code = cli(t, append(g, "portfolio", "header", id, "--zh")...)
		if code != exitOK || !strings.Contains(out, "一、资产包基本情况") || !strings.Contains(out, "（一）五级分类") || !strings.Contains(out, "损失") {
			t.Errorf("header: %d %s", code, out)
		}
		// The whole header is Chinese: past the title line (which carries the package's own ref
		// and the currency code) no Latin letter is printed.
		for i, line := range strings.Split(out, "\n")[1:] {
			if strings.IndexFunc(line, func(r rune) bool { return r < 128 && unicode.IsLetter(r) }) >= 0 {
				t.Errorf("header --zh line %d is not Chinese: %q", i+2, line)
			}
		}
		masked := filepath.Join(dir, "masked.csv")
		out, _, code = cli(t, append(g, "tape", "export", id, "--recipient", "bidder-1", "--out", masked, "--suppress")...)
		if code != exitOK || !strings.Contains(out, "k-anonymity") {
			t.Fatalf("export: %d %s", code, out)
		}
		b, _ := os.ReadFile(masked)
		if !strings.Contains(string(b), "masked_loan_id") || strings.Contains(string(b), "national_id") {
			t.Errorf("masked tape content: %.300s", b)
		}
		// Asked not to suppress, an export that fails k-anonymity is refused and leaves no file.
		unsafe := filepath.Join(dir, "unsafe.csv")
		out, errOut, code = cli(t, append(g, "tape", "export", id, "--recipient", "bidder-2", "--out", unsafe, "--k", "1000", "--no-suppress")...)
		if _, statErr := os.Stat(unsafe); code != exitFailed || !strings.Contains(errOut, "k-anonymity") || statErr == nil {
			t.Errorf("unsafe export: exit %d, file kept %v, %s %s", code, statErr == nil, out, errOut)
		}
		// By default the small classes are left out and the tape satisfies the check.
		out, _, code = cli(t, append(g, "tape", "export", id, "--recipient", "bidder-3", "--out", unsafe, "--k", "1000")...)
		if code != exitOK || !strings.Contains(out, "satisfies k-anonymity") {
			t.Errorf("default export: exit %d %s", code, out)
		}
		if _, _, code := cli(t, append(g, "tape", "export", id, "--out", masked)...); code != exitUsage {
			t.Errorf("export without recipient: %d", code)
		}
	})
}

// TestHeaderUnknownAverages: a weighted average that no loan states prints as n/a (暂无), not 0;
// one that some loans state says how much of the pool it covers.
func TestHeaderUnknownAverages(t *testing.T) {
	h := tape.PoolHeader{Currency: "USD", Loans: 3, WABorrowerAge: 0, AgeCoverage: 0, WACreditLine: money.New(500000, "USD"), CreditLineCoverage: 0.5}
	var en, zh bytes.Buffer
	printHeaderSummary(&en, &h, false)
	printHeaderSummary(&zh, &h, true)
	if !regexp.MustCompile(`WA borrower age\s+n/a\n`).MatchString(en.String()) || !strings.Contains(en.String(), "5,000.00 USD (covers 50% of principal + interest)") {
		t.Errorf("en:\n%s", en.String())
	}
	if !regexp.MustCompile(`借款人加权平均年龄\s+暂无\n`).MatchString(zh.String()) || !strings.Contains(zh.String(), "覆盖本息的 50%") {
		t.Errorf("zh:\n%s", zh.String())
	}
}

func TestOSUserWithoutEnvironment(t *testing.T) {
	t.Setenv("USER", "")
	t.Setenv("LOGNAME", "")
	if u := osUser(); u == "" || u == "unknown" {
		t.Errorf("osUser() = %q", u)
	}
	t.Setenv("USER", "alice")
	if u := osUser(); u != "alice" {
		t.Errorf("osUser() = %q, want alice", u)
	}
}
