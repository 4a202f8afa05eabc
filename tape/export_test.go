package tape

import (
	"bytes"
	"context"
	"testing"

	"reclaim"
)

// TestExportRefusesUnsafeTape: a masked tape that would fail k-anonymity is never written; with
// suppression (the default of every caller) the same loans export with the small classes out.
func TestExportRefusesUnsafeTape(t *testing.T) {
	var loans []reclaim.Loan
	for i := 0; i < 10; i++ {
		loans = append(loans, loanFor("L"+string(rune('a'+i)), "B", 1_000_00, 0, 100, 40, "310115"))
	}
	loans = append(loans, loanFor("X1", "C", 900_000_00, 0, 100, 71, "650102"))
	stream := func(ctx context.Context, fn func(*reclaim.Loan) error) error {
		for i := range loans {
			if err := fn(&loans[i]); err != nil {
				return err
			}
		}
		return nil
	}
	var buf bytes.Buffer
	mo := MaskOptions{Salt: []byte("s"), DownloadID: "d", K: 5, MaxSmallShare: 0.001}
	res, err := ExportMasked(context.Background(), stream, &buf, WriterOptions{Format: "csv"}, mo, nil)
	if reclaim.ErrorCode(err) != reclaim.EINVALID || buf.Len() != 0 || res.Rows != 0 {
		t.Fatalf("unsafe tape: err %v, %d bytes written, %d rows", err, buf.Len(), res.Rows)
	}
	mo.Suppress = true
	res, err = ExportMasked(context.Background(), stream, &buf, WriterOptions{Format: "csv"}, mo, nil)
	if err != nil || !res.KAnonymity.SatisfiedWritten || res.Rows != 10 {
		t.Fatalf("suppressed: err %v, %+v", err, res)
	}
}
