package ingest_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"reclaim/ingest"
	"reclaim/msg"
	"reclaim/sqldb"
	"reclaim/sqldb/sqldbtest"
	"reclaim/tape"
)

var englishWord = regexp.MustCompile(`[A-Za-z]{2,}`)

// hexRun matches a hash as a summary shows it (hex, 8 to 64 digits).
var hexRun = regexp.MustCompile(`\b[0-9a-f]{8,64}\b`)

// checkCoded asserts the report's summary, rule descriptions and row problems carry catalog
// codes, that the English render is the report's own text and that the Chinese render is Chinese.
func checkCoded(t *testing.T, rep *ingest.Report, wantCode string) {
	t.Helper()
	if rep.MessageCode != wantCode {
		t.Fatalf("message code %q (%s), want %q", rep.MessageCode, rep.Message, wantCode)
	}
	if got := msg.Render(msg.EN, rep.MessageCode, rep.MessageArgs); got != rep.Message {
		t.Errorf("Message %q is not the English render %q", rep.Message, got)
	}
	zh := rep.RenderMessage(msg.ZH)
	// Hashes (hex, shown shortened) go first, then the arguments, longest first: removing a short
	// argument such as the portfolio id "4" from inside a hash left letters that read as a word
	// ("d8d4a3b8" -> "d8da3b8": "da"), which failed this test depending on the tape's hash.
	zh = hexRun.ReplaceAllString(zh, "")
	args := make([]string, 0, len(rep.MessageArgs))
	for _, v := range rep.MessageArgs {
		args = append(args, v)
	}
	sort.Slice(args, func(i, j int) bool { return len(args[i]) > len(args[j]) })
	for _, v := range args {
		if v != "" {
			zh = strings.ReplaceAll(zh, v, "")
		}
	}
	for _, w := range englishWord.FindAllString(zh, -1) {
		if w != "sha" && w != "docs" && w != "tape" && w != "mapping" && w != "md" && w != "allow" && w != "missing" {
			t.Errorf("zh summary %q has the English word %q", rep.RenderMessage(msg.ZH), w)
		}
	}
	for _, rc := range rep.ByRule {
		if rc.Code != "rule."+rc.Rule || msg.Render(msg.ZH, rc.Code, nil) == "" || rc.Description != tape.RuleDescription(msg.EN, rc.Rule) {
			t.Errorf("rule count not coded: %+v", rc)
		}
	}
	for _, e := range rep.Errors {
		if e.Code == "" || e.Render(msg.ZH) == e.Message {
			t.Errorf("row error not localised: %+v", e)
		}
	}
	// The JSON the console and the CLI's --json read keeps the code, the args and the English.
	b, _ := json.Marshal(rep)
	if !strings.Contains(string(b), `"message_code":"`+wantCode+`"`) {
		t.Errorf("JSON lacks message_code: %.300s", b)
	}
}

// TestReportMessagesAreCoded: every summary an import can end with (validated with missing
// columns, all-or-nothing, imported, duplicate) is a catalog code with args, rendered in Chinese.
func TestReportMessagesAreCoded(t *testing.T) {
	sqldbtest.ForEachEngine(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		tp := chineseTapeWithout(t, t.TempDir(), tape.FPhoneAvailable, tape.FAgencyPlacements)
		rep, _ := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{DryRun: true})
		checkCoded(t, rep, "report.validated_missing")
		if rep.MessageArgs["fields"] != "phone_available, agency_placements" {
			t.Errorf("args %v", rep.MessageArgs)
		}
		if zh := rep.RenderMessage(msg.ZH); !strings.Contains(zh, "电话是否有效、委外次数") || !strings.Contains(zh, "共 200 行") {
			t.Errorf("zh %q", zh)
		}
		if len(rep.Errors) == 0 || len(rep.ByRule) == 0 {
			t.Fatalf("no row errors: %+v", rep)
		}

		allowed := []string{"phone_available", "agency_placements"}
		rep, _ = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{AllowMissing: allowed})
		checkCoded(t, rep, "report.all_or_nothing")

		rep, err := ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{AllowMissing: allowed, SkipInvalid: true})
		if err != nil {
			t.Fatal(err)
		}
		checkCoded(t, rep, "report.imported")
		if zh := rep.RenderMessage(msg.ZH); !strings.HasPrefix(zh, "已导入 200 行中的 ") {
			t.Errorf("zh %q", zh)
		}

		rep, _ = ingest.Run(ctx, db.IngestStore(), keyring(t), tp, ingest.Options{AllowMissing: allowed, SkipInvalid: true})
		checkCoded(t, rep, "report.duplicate")
	})
}

// TestLayoutProblemsInReport: a header that cannot be bound (two columns for one field) is
// refused with every problem listed, coded, among the report's errors, and a summary that names
// them in either language.
func TestLayoutProblemsInReport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twice.csv")
	if err := os.WriteFile(path, []byte("loan_id,本金余额,未偿本金,loan_id\nL1,1,1,L1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, err := ingest.Run(context.Background(), nil, nil, path, ingest.Options{DryRun: true})
	if err == nil {
		t.Fatal("a header bound twice was accepted")
	}
	if rep.MessageCode != "report.layout_problems" || len(rep.Errors) != 2 || rep.ErrorsTotal != 2 {
		t.Fatalf("report: %q %q %+v", rep.MessageCode, rep.Message, rep.Errors)
	}
	for _, e := range rep.Errors {
		if e.Code != "layout.bound_twice_header" || e.Rule != tape.RuleLayout {
			t.Errorf("problem %+v", e)
		}
	}
	if !strings.Contains(rep.Message, "principal_outstanding is bound twice") || !strings.Contains(rep.Message, "loan_id is bound twice: by column A (loan_id) and column D (loan_id)") {
		t.Errorf("en %q", rep.Message)
	}
	zh := rep.RenderMessage(msg.ZH)
	if !strings.HasPrefix(zh, "数据的列无法映射：") || !strings.Contains(zh, "字段“本金余额”被绑定了两次") || !strings.Contains(zh, "字段“借据号”被绑定了两次：A 列（loan_id）和 D 列（loan_id）") {
		t.Errorf("zh %q", zh)
	}
}
