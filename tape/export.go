package tape

import (
	"context"
	"fmt"
	"io"

	"reclaim"
)

// LoanStream calls fn for every loan of a portfolio, in a stable order.
type LoanStream func(ctx context.Context, fn func(*reclaim.Loan) error) error

// MaskedExport is the outcome of ExportMasked.
type MaskedExport struct {
	Rows       int64      `json:"rows"`
	KAnonymity KAnonymity `json:"k_anonymity"`
}

// ExportMasked writes a portfolio's masked bidder tape to w in two passes over stream: the first
// counts the quasi-identifier classes and chooses the generalisation level, the second writes the
// rows (MaskedColumns first). progress, when set, gets the loans processed across both passes.
//
// A tape that would not satisfy k-anonymity is never written: without mo.Suppress, when rows
// remain in classes smaller than K at the chosen level, ExportMasked returns an EINVALID
// error after the first pass, having written nothing to w.
func ExportMasked(ctx context.Context, stream LoanStream, w io.Writer, wo WriterOptions, mo MaskOptions, progress func(int64)) (MaskedExport, error) {
	m := NewMasker(mo)
	var n int64
	tick := func() {
		n++
		if progress != nil && n%10000 == 0 {
			progress(n)
		}
	}
	if err := stream(ctx, func(l *reclaim.Loan) error { m.Observe(l); tick(); return nil }); err != nil {
		return MaskedExport{}, err
	}
	res := MaskedExport{KAnonymity: m.Check()}
	if ka := res.KAnonymity; !ka.SatisfiedWritten {
		return res, &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf(
			"the masked tape would not satisfy k-anonymity (k=%d): %d rows (%.2f%%) sit in classes smaller than k at level %s; nothing was written. Suppress the small classes (the default) or raise --max-small",
			ka.K, ka.RowsInSmall, 100*ka.ShareInSmall, ka.LevelName)}
	}
	tw, err := NewWriter(w, wo)
	if err != nil {
		return res, err
	}
	if err := tw.Write(MaskedColumns); err != nil {
		return res, err
	}
	err = stream(ctx, func(l *reclaim.Loan) error {
		tick()
		cells := m.Row(l)
		if cells == nil {
			return nil
		}
		res.Rows++
		return tw.Write(cells)
	})
	if err != nil {
		return res, err
	}
	return res, tw.Close()
}
