package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCollectionsSimulateCLI(t *testing.T) {
	dir := t.TempDir()
	contacts, payments := filepath.Join(dir, "c.csv"), filepath.Join(dir, "p.csv")
	g := []string{"--data-dir", filepath.Join(dir, "nodata"), "-q", "collections"}
	out, errOut, code := cli(t, append(g, "simulate", "--loans", "300", "--months", "2", "--strategy", "rules", "--forecast=false",
		"--contacts", contacts, "--payments", payments, "--json")...)
	if code != exitOK {
		t.Fatalf("simulate: exit %d %s %s", code, out, errOut)
	}
	var doc struct {
		Result struct {
			Loans     int            `json:"loans"`
			Collected float64        `json:"collected"`
			Contacts  map[string]int `json:"contacts_by_channel"`
			Months    []struct {
				Month string `json:"month"`
			} `json:"months"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Result.Loans != 300 || len(doc.Result.Months) != 2 || len(doc.Result.Contacts) == 0 {
		t.Fatalf("json %v: %s", err, out)
	}
	// The simulated log audits clean.
	aout, aerr, acode := cli(t, "--data-dir", filepath.Join(dir, "nodata"), "compliance", "audit", "--pack", "cn", "--contacts", contacts)
	if acode != exitOK || !strings.Contains(aout, "no violations") {
		t.Errorf("audit of the simulated log: exit %d %s %s", acode, aout, aerr)
	}
	if b, err := os.ReadFile(payments); err != nil || !strings.HasPrefix(string(b), "txn_id,date,amount,payer_name,reference\n") {
		t.Errorf("payments file: %v %.80q", err, b)
	}
	out, _, code = cli(t, append(g, "simulate", "--loans", "300", "--months", "1", "--strategy", "rules", "--forecast=false")...)
	if code != exitOK || !strings.Contains(out, "MONTH") || !strings.Contains(out, "Contacts by channel") {
		t.Errorf("table: exit %d %s", code, out)
	}
	if _, errOut, code := cli(t, append(g, "simulate", "--strategy", "greedy", "--loans", "10")...); code != exitUsage || !strings.Contains(errOut, "greedy") {
		t.Errorf("bad strategy: exit %d %s", code, errOut)
	}
}

func TestCollectionsStrategyCheckCLI(t *testing.T) {
	dir := t.TempDir()
	g := []string{"--data-dir", filepath.Join(dir, "nodata"), "collections", "strategy"}
	good := filepath.Join(dir, "good.yaml")
	out, _, code := cli(t, append(g, "default")...)
	if code != exitOK || os.WriteFile(good, []byte(out), 0o644) != nil {
		t.Fatalf("default: exit %d %s", code, out)
	}
	out, errOut, code := cli(t, append(g, "check", good)...)
	if code != exitOK || !strings.Contains(out, "team callers") {
		t.Errorf("check good: exit %d %s %s", code, out, errOut)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("channels:\n  fax: {cost: \"1\"}\nteams:\n  - {name: a, channels: [fax], capacity: 1}\n"), 0o644)
	out, errOut, code = cli(t, append(g, "check", bad)...)
	if code != 2 || !strings.Contains(errOut, "channels.fax") || !strings.Contains(errOut, "unknown channel") || out != "" {
		t.Errorf("check bad: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}
