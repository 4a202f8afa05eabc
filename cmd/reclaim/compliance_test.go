package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const contactHeader = "contact_id,debtor_id,debt_id,channel,party,number,at,outcome,consent\n"

func writeContacts(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestComplianceAudit runs `reclaim compliance audit` end to end: exit 0 on a clean log, 1 with
// violations (table and JSON), 2 on a malformed file naming the line, and no data directory.
func TestComplianceAudit(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "nodata")
	g := []string{"--data-dir", dataDir, "compliance", "audit"}

	clean := writeContacts(t, contactHeader+
		"c1,d1,L1,call,debtor,13800000001,2026-03-02T08:00:00+08:00,answered,\n"+
		"c2,d1,L1,call,debtor,13800000001,2026-03-02T21:00:00+08:00,no_answer,\n")
	for _, pack := range []string{"cn", "us"} {
		out, errOut, code := cli(t, append(g, "--pack", pack, "--contacts", clean, "--json")...)
		if pack == "us" {
			// c2 is a call the same day as a conversation: US-1.
			if code != exitFailed || !strings.Contains(out, `"US-1"`) {
				t.Errorf("us: exit %d %s %s", code, out, errOut)
			}
			continue
		}
		if code != exitOK || strings.TrimSpace(out) != "{\n  \"contacts\": 2,\n  \"violations\": []\n}" {
			t.Errorf("clean cn: exit %d, %q %s", code, out, errOut)
		}
	}
	out, _, code := cli(t, append(g, "--pack", "cn", "--contacts", clean)...)
	if code != exitOK || !strings.Contains(out, "2 contacts audited under the cn pack: no violations") {
		t.Errorf("clean table: exit %d %s", code, out)
	}

	dirty := writeContacts(t, contactHeader+
		"c1,d1,L1,call,debtor,13800000001,2026-03-02T09:00:00+08:00,answered,\n"+
		"c2,d1,L1,call,debtor,13800000001,2026-03-02T10:00:00+08:00,answered,\n"+
		"c3,d1,L1,call,debtor,13800000001,2026-03-02T11:00:00+08:00,answered,\n"+
		"c4,d1,L1,call,debtor,13800000001,2026-03-02T22:00:00+08:00,no_answer,\n"+
		"c5,d1,L1,call,third_party,13900000009,2026-03-02T12:00:00+08:00,answered,\n")
	out, errOut, code := cli(t, append(g, "--pack", "cn", "--contacts", dirty, "--json")...)
	if code != exitFailed {
		t.Fatalf("violations: exit %d, %s", code, errOut)
	}
	var res struct {
		Contacts   int `json:"contacts"`
		Violations []struct {
			ContactID string `json:"contact_id"`
			Rule      string `json:"rule"`
			Message   string `json:"message"`
		} `json:"violations"`
	}
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	var got []string
	for _, v := range res.Violations {
		got = append(got, v.ContactID+":"+v.Rule)
		if v.Message == "" {
			t.Errorf("%s %s without a message", v.ContactID, v.Rule)
		}
	}
	if want := "c4:CN-1 c4:CN-2 c5:CN-4"; res.Contacts != 5 || strings.Join(got, " ") != want {
		t.Errorf("got %d contacts, %v; want 5, %s", res.Contacts, got, want)
	}
	out, _, code = cli(t, append(g, "--pack", "cn", "--contacts", dirty)...)
	if code != exitFailed || !strings.Contains(out, "RULE") || !strings.Contains(out, "already had 3 answered calls") ||
		!strings.Contains(out, "5 contacts audited under the cn pack: 3 violations on 2 contacts (CN-1 1, CN-2 1, CN-4 1)") {
		t.Errorf("table: exit %d\n%s", code, out)
	}

	for _, tc := range []struct{ name, body, want string }{
		{"bad time", contactHeader + "c1,d1,L1,call,debtor,1,2026-03-02T09:00:00+08:00,answered,\nc2,d1,L1,call,debtor,1,2026-03-02 09:00,answered,\n",
			"line 3, field at"},
		{"unknown channel", contactHeader + "c1,d1,L1,fax,debtor,1,2026-03-02T09:00:00+08:00,answered,\n", "line 2, field channel"},
		{"missing column", "contact_id,debtor_id,debt_id,channel,party,number,at,outcome\n", "line 1, field consent"},
		{"duplicate id", contactHeader + "c1,d1,L1,call,debtor,1,2026-03-02T09:00:00+08:00,answered,\nc1,d1,L1,call,debtor,1,2026-03-02T09:00:00+08:00,answered,\n",
			"line 3, field contact_id"},
	} {
		for _, extra := range [][]string{nil, {"--json"}} {
			out, errOut, code := cli(t, append(append(g, "--pack", "us", "--contacts", writeContacts(t, tc.body)), extra...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || out != "" {
				t.Errorf("%s %v: exit %d, stdout %q, stderr %q; want 2 naming %q", tc.name, extra, code, out, errOut, tc.want)
			}
		}
	}
	for _, args := range [][]string{
		{"--pack", "eu", "--contacts", clean},
		{"--pack", "cn"},
		{"--pack", "cn", "--contacts", filepath.Join(t.TempDir(), "missing.csv")},
		{"--pack", "cn", "--contacts", clean, "extra-arg"},
	} {
		if _, errOut, code := cli(t, append(g, args...)...); code != exitUsage || !strings.Contains(errOut, "error:") {
			t.Errorf("%v: exit %d %q; want 2", args, code, errOut)
		}
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Errorf("the audit touched the data directory: %v", err)
	}
}

// The golden log of package workout gives the checked-in JSON through the CLI too.
func TestComplianceAuditGoldenThroughCLI(t *testing.T) {
	for _, pack := range []string{"cn", "us"} {
		want, err := os.ReadFile(filepath.Join("..", "..", "workout", "testdata", "audit_"+pack+".json"))
		if err != nil {
			t.Fatal(err)
		}
		out, _, code := cli(t, "--data-dir", t.TempDir(), "compliance", "audit", "--pack", pack, "--contacts",
			filepath.Join("..", "..", "workout", "testdata", "contacts.csv"), "--json")
		if code != exitFailed || !bytes.Equal([]byte(out), want) {
			t.Errorf("%s: exit %d, output differs from the golden file:\n%s", pack, code, out)
		}
	}
}
