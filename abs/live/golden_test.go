package live

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func goldenFile(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./abs/live -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run with -update and review the diff", path)
	}
}

// TestGoldenDealLog pins the reports of the example deal's first two payment dates and the whole
// version-2 log they are checkpointed in: the log is a test vector for verifiers written
// elsewhere (tlog/testdata/deal-log-v2.jsonl, one canonical entry a line; tlog/verify's
// TestDealLogVector checks it).
func TestGoldenDealLog(t *testing.T) {
	d := loadDeal(t)
	log := poolLog(d)
	log, _, doc1 := closePeriod(t, d, log, 1)
	log, _, doc2 := closePeriod(t, d, log, 2)
	var b bytes.Buffer
	for _, e := range log {
		enc, err := e.Encode()
		if err != nil {
			t.Fatal(err)
		}
		b.Write(enc)
		b.WriteByte('\n')
	}
	goldenFile(t, filepath.Join("testdata", "report-period-1.json"), doc1)
	goldenFile(t, filepath.Join("testdata", "report-period-2.json"), doc2)
	goldenFile(t, filepath.Join("..", "..", "tlog", "testdata", "deal-log-v2.jsonl"), b.Bytes())
}
