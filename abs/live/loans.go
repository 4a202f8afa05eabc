package live

import (
	"encoding/csv"
	"io"
	"strconv"

	"github.com/parquet-go/parquet-go"

	"reclaim/csvsafe"
)

// Loan-level data without personal data: the DealLoanRow of each pool loan (random per-pool
// reference, no seller key, no borrower data; the region cut to its prefecture).

// WriteLoansCSV writes loan rows as CSV: a header row, then one row a loan (amounts in yuan).
func WriteLoansCSV(w io.Writer, rows []DealLoanRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"ref", "product", "prefecture", "grade", "dpd_at_boarding", "claim_at_boarding", "balance", "status"})
	for _, r := range rows {
		cw.Write([]string{csvsafe.Cell(r.Ref), csvsafe.Cell(r.Product), csvsafe.Cell(r.Prefecture), csvsafe.Cell(r.Grade),
			strconv.FormatInt(r.DPD, 10), r.Claim.String(), r.Balance.String(), csvsafe.Cell(r.Status)})
	}
	cw.Flush()
	return cw.Error()
}

// parquetLoan is a loan row's Parquet schema: amounts as integer fen.
type parquetLoan struct {
	Ref        string `parquet:"ref"`
	Product    string `parquet:"product"`
	Prefecture string `parquet:"prefecture"`
	Grade      string `parquet:"grade"`
	DPD        int64  `parquet:"dpd_at_boarding"`
	ClaimFen   int64  `parquet:"claim_at_boarding_fen"`
	BalanceFen int64  `parquet:"balance_fen"`
	Status     string `parquet:"status"`
}

// WriteLoansParquet writes loan rows as a Parquet file (github.com/parquet-go/parquet-go), the
// same columns as the CSV with amounts as integer fen.
func WriteLoansParquet(w io.Writer, rows []DealLoanRow) error {
	pw := parquet.NewGenericWriter[parquetLoan](w)
	out := make([]parquetLoan, len(rows))
	for i, r := range rows {
		out[i] = parquetLoan{Ref: r.Ref, Product: r.Product, Prefecture: r.Prefecture, Grade: r.Grade, DPD: r.DPD,
			ClaimFen: r.Claim.Minor(), BalanceFen: r.Balance.Minor(), Status: r.Status}
	}
	if _, err := pw.Write(out); err != nil {
		return err
	}
	return pw.Close()
}
