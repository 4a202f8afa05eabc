package live

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"reclaim"
	"reclaim/abs"
	"reclaim/date"
	"reclaim/money"
	"reclaim/textnorm"
	"reclaim/tlog/verify"
)

// Servicer files (docs/abs-live.md, "Servicer files"). A servicer that does not post collections
// one by one sends a file of what it collected. With a loan column, every row is a loan's
// collection: it is allocated to that loan (fees, then interest, then principal) and logged as a
// loan.collection, exactly like a posted collection, so the pool's claim rolls forward loan by
// loan. Without one (the older date,amount file) the rows are pool cash without a loan
// (deal.collections), reported as "unallocated".

// ServicerRow is one row of a per-loan servicer file.
type ServicerRow struct {
	Line    int          // line of the file (1-based)
	Date    date.Date    // value date
	Loan    string       // the loan as the file names it: per-pool reference or pool key (PORTFOLIO/LOAN_ID)
	Amount  money.Amount // collected, > 0
	Channel string       // a loan.collection channel (verify.Channel*); bank_transfer when the file has none
	TxnID   string       // the servicer's transaction reference; empty when the file has none
}

// ServicerFile is a parsed servicer file: per-loan rows (Rows), or the older date,amount rows
// (Flows: pool cash without a loan). Exactly one of them is set.
type ServicerFile struct {
	Rows  []ServicerRow
	Flows []abs.Flow
}

// maxServicerRows bounds a servicer file.
const maxServicerRows = 100_000

// maxServicerMinor bounds one row (10 trillion yuan in fen, as deal amounts).
const maxServicerMinor = 1_000_000_000_000_000

// collectionChannels are the channels a loan.collection may carry.
var collectionChannels = []string{verify.ChannelBankTransfer, verify.ChannelOnline, verify.ChannelCash, verify.ChannelCourt,
	verify.ChannelAgency, verify.ChannelSale}

var servicerColumns = []string{"date", "loan", "amount", "channel", "txn_id"}

// ParseServicerFile reads a servicer file. A file whose first row is a header naming a "loan"
// column is a per-loan file: columns date, loan, amount (yuan, > 0), and optionally channel (one
// of the loan.collection channels) and txn_id (at most 128 characters, unique in the file), in any
// order, case-insensitive; rows may be in any order. Any other file is read as date,amount rows
// (abs.ParseFlowsCSV). Every problem is reported at once: a *reclaim.Error EINVALID whose Fields
// name the line and column ("line 3 amount").
func ParseServicerFile(data []byte) (*ServicerFile, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	first, err := cr.Read()
	if err != nil || !slices.ContainsFunc(first, func(s string) bool { return headerName(s) == "loan" }) {
		flows, err := abs.ParseFlowsCSV(bytes.NewReader(data), money.CNY)
		if err != nil {
			return nil, err
		}
		return &ServicerFile{Flows: flows}, nil
	}
	var ps []abs.Problem
	bad := func(line int, col, value, rule string) {
		path := fmt.Sprintf("line %d", line)
		if col != "" {
			path += " " + col
		}
		ps = append(ps, abs.Problem{Path: path, Value: value, Rule: rule})
	}
	col := map[string]int{}
	for i, h := range first {
		name := headerName(h)
		switch {
		case !slices.Contains(servicerColumns, name):
			bad(1, fmt.Sprintf("column %d", i+1), fmt.Sprintf("%q", h), "is not a servicer file column ("+strings.Join(servicerColumns, ", ")+")")
		case col[name] != 0:
			bad(1, name, fmt.Sprintf("%q", h), "appears twice")
		default:
			col[name] = i + 1
		}
	}
	for _, need := range []string{"date", "amount"} {
		if col[need] == 0 {
			bad(1, need, "", "column is missing (a per-loan file has date, loan and amount)")
		}
	}
	if len(ps) > 0 {
		return nil, problemsError(ps)
	}
	field := func(rec []string, name string) string {
		i := col[name]
		if i == 0 || i > len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i-1])
	}
	out := &ServicerFile{Rows: []ServicerRow{}}
	txns := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			bad(line, "", "", "is not valid CSV: "+err.Error())
			break
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if len(out.Rows)+len(ps) >= maxServicerRows {
			bad(line, "", "", fmt.Sprintf("exceeds the limit of %d rows", maxServicerRows))
			break
		}
		if len(rec) != len(first) {
			bad(line, "", fmt.Sprintf("%d fields", len(rec)), fmt.Sprintf("does not have the header's %d fields", len(first)))
			continue
		}
		row := ServicerRow{Line: line, Channel: verify.ChannelBankTransfer}
		ok := true
		ds := field(rec, "date")
		if row.Date, err = date.ParseStrict(ds); err != nil {
			bad(line, "date", fmt.Sprintf("%q", ds), "is not a date of the form YYYY-MM-DD")
			ok = false
		}
		row.Loan = field(rec, "loan")
		if e := textnorm.Check(row.Loan); row.Loan == "" || e != nil || textnorm.Len(row.Loan) > 128 {
			rule := "is empty: every row names its loan (per-pool reference or PORTFOLIO/LOAN_ID)"
			if row.Loan != "" {
				rule = "is not an acceptable loan reference (at most 128 printable characters)"
			}
			bad(line, "loan", fmt.Sprintf("%q", row.Loan), rule)
			ok = false
		}
		as := field(rec, "amount")
		switch a, err := money.ParseStrict(as, money.CNY); {
		case err != nil:
			bad(line, "amount", fmt.Sprintf("%q", as), "is not an amount in yuan of the form 1234.56")
			ok = false
		case a.Sign() <= 0:
			bad(line, "amount", as, "is not positive")
			ok = false
		case a.Minor() > maxServicerMinor:
			bad(line, "amount", as, "is above the limit of 10,000,000,000,000 (10 trillion)")
			ok = false
		default:
			row.Amount = a
		}
		if c := field(rec, "channel"); c != "" {
			if !slices.Contains(collectionChannels, c) {
				bad(line, "channel", fmt.Sprintf("%q", c), "is not one of "+strings.Join(collectionChannels, ", "))
				ok = false
			}
			row.Channel = c
		}
		if t := field(rec, "txn_id"); t != "" {
			key := textnorm.TxnKey(t)
			switch {
			case textnorm.Check(t) != nil || textnorm.Len(t) > 128 || key == "":
				bad(line, "txn_id", fmt.Sprintf("%q", t), "is not an acceptable transaction reference (at most 128 printable characters)")
				ok = false
			case txns[key] != 0:
				bad(line, "txn_id", fmt.Sprintf("%q", t), fmt.Sprintf("is the transaction of line %d too", txns[key]))
				ok = false
			default:
				txns[key] = line
			}
			row.TxnID = t
		}
		if ok {
			out.Rows = append(out.Rows, row)
		}
	}
	if len(ps) > 0 {
		return nil, problemsError(ps)
	}
	if len(out.Rows) == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "the servicer file has a header and no rows")
	}
	return out, nil
}

func headerName(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

func problemsError(ps []abs.Problem) error {
	fields := map[string]string{}
	for _, p := range ps {
		fields[p.Path] = strings.TrimSpace(p.Value + " " + p.Rule)
	}
	return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("servicer file is invalid (%d problems)", len(ps)),
		Fields: fields, Err: &abs.ValidationError{Problems: ps}}
}

// LoanBalance is a pool loan's outstanding claim by part, in minor units, as the pool holds it.
type LoanBalance struct {
	Ref                       string // per-pool reference (what the ledger carries)
	Fees, Interest, Principal int64
}

// Balance is the loan's whole outstanding claim.
func (b LoanBalance) Balance() int64 { return b.Fees + b.Interest + b.Principal }

// ServicerPosting is a servicer file's row allocated to its loan: the parts it pays.
type ServicerPosting struct {
	Row                       ServicerRow
	Ref                       string
	Fees, Interest, Principal int64
}

// AllocateServicerRows allocates a per-loan file's rows to their loans, in file order: each row
// pays its loan's fees, then its interest, then its principal (the order a posted collection
// uses), against the balance left by the file's earlier rows. loans maps each name a row uses
// (reference or pool key) to the loan; two names may be the same loan. A row whose loan is not in
// the map, or whose amount exceeds what its loan still owes, is a problem; all problems are
// reported at once (EINVALID, Fields by line) and then nothing is allocated.
func AllocateServicerRows(rows []ServicerRow, loans map[string]LoanBalance) ([]ServicerPosting, error) {
	left := map[string]LoanBalance{}
	var ps []abs.Problem
	out := make([]ServicerPosting, 0, len(rows))
	for _, r := range rows {
		l, ok := loans[r.Loan]
		if !ok {
			ps = append(ps, abs.Problem{Path: fmt.Sprintf("line %d loan", r.Line), Value: fmt.Sprintf("%q", r.Loan), Rule: "is not a loan of the pool"})
			continue
		}
		if cur, seen := left[l.Ref]; seen {
			l = cur
		}
		amt := r.Amount.Minor()
		if amt > l.Balance() {
			ps = append(ps, abs.Problem{Path: fmt.Sprintf("line %d amount", r.Line), Value: r.Amount.String(),
				Rule: fmt.Sprintf("exceeds loan %s's balance %s (after the file's earlier rows)", l.Ref, money.New(l.Balance(), money.CNY))})
			continue
		}
		p := ServicerPosting{Row: r, Ref: l.Ref}
		p.Fees = min(amt, l.Fees)
		p.Interest = min(amt-p.Fees, l.Interest)
		p.Principal = amt - p.Fees - p.Interest
		l.Fees -= p.Fees
		l.Interest -= p.Interest
		l.Principal -= p.Principal
		left[l.Ref] = l
		out = append(out, p)
	}
	if len(ps) > 0 {
		return nil, problemsError(ps)
	}
	return out, nil
}
