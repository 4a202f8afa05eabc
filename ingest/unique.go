package ingest

import (
	"context"
	"errors"
	"io"
	"strings"

	"reclaim/bloom"
	"reclaim/tape"
)

// repeatedLoanIDs reads the loan_id of every row of the tape once and returns a superset of the
// ids that occur more than once: the ids a fixed-size Bloom filter had (maybe) seen before. Every
// other id occurs at most once, so the import's uniqueness rule needs to remember only these
// (tape.Converter.TrackOnly) and reports exactly what it reported when it remembered every id,
// in memory that does not grow with the tape: the filter is at most bloom.MaxBits, and the set
// holds the repeated ids plus a few false positives (about one in 10^6 rows at 10 million rows).
//
// It sees the rows the import will see: the same bytes (in, of size bytes) opened the same way, rows the reader
// rejects skipped (the import does not check their keys either), and it stops where the reader
// cannot go on.
func repeatedLoanIDs(ctx context.Context, in io.ReaderAt, name string, oo tape.OpenOptions, conv *tape.Converter, size int64, progress func(rows, bytesRead, size int64)) (map[string]struct{}, error) {
	src, err := tape.OpenReaderAt(in, size, name, oo)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	// Rows are rarely shorter than 50 bytes (CSV) and XLSX compresses about as well: 16 bits a
	// row keeps false positives near 1 in 2,000 even when that estimate is 4x too low.
	f := bloom.ForKeys(size/50+1024, 16)
	out := map[string]struct{}{}
	for n := 0; ; n++ {
		if n&0xffff == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if progress != nil && n > 0 {
				progress(0, sourceOffset(src), size)
			}
		}
		row, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *tape.RowError
			if errors.As(err, &re) {
				continue
			}
			break // the import stops here too and reports it
		}
		id := conv.LoanID(row)
		if id != "" && f.Add(id) {
			if _, ok := out[id]; !ok {
				out[strings.Clone(id)] = struct{}{} // not a view that pins the whole row
			}
		}
	}
	return out, nil
}
