package workout

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// The package's -update flag is defined here unless another test file of the package already
// defined it (package variables initialise before init functions run).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files in testdata")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// TestAuditGolden audits testdata/contacts.csv under both packs and compares the audit's JSON
// document with testdata/audit_<pack>.json; -update rewrites them.
func TestAuditGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/contacts.csv")
	if err != nil {
		t.Fatal(err)
	}
	log, err := ReadContactLog(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, pack := range []Pack{PackCN, PackUS} {
		_, flags := audited(t, pack, log)
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(NewAuditResult(len(log), flags)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "audit_"+string(pack)+".json")
		if updating() {
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if !bytes.Equal(out.Bytes(), want) {
			t.Errorf("%s audit differs from %s (run with -update after checking):\n%s", pack, path, out.String())
		}
	}
}

func TestAuditResultEmptyIsArray(t *testing.T) {
	b, err := json.Marshal(NewAuditResult(0, nil))
	if err != nil || string(b) != `{"contacts":0,"violations":[]}` {
		t.Errorf("%s %v", b, err)
	}
}
