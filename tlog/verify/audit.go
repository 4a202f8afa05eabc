package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/tlog"
)

// Mismatch is one reported figure that does not match the figure recomputed from the log.
type Mismatch struct {
	Field      string `json:"field"`
	Reported   string `json:"reported"`
	Recomputed string `json:"recomputed"`
	Detail     string `json:"detail,omitempty"`
}

// ReportResult is the outcome of Report: the report as logged, the figures recomputed from the
// entries it covers, and every mismatch.
type ReportResult struct {
	Index      int64        `json:"index"`
	Reported   PeriodReport `json:"reported"`
	Recomputed PeriodReport `json:"recomputed"`
	// Outstanding is the sum, over the loans, of every movement before the report dated on or
	// before period_end (claims boarded less collections and removal balances); it must equal
	// the closing balance.
	Outstanding Amount     `json:"outstanding"`
	Mismatches  []Mismatch `json:"mismatches"`
}

// Report runs ReportEntries on the local copy in dir (see LoadLocal).
func Report(dir string, reportIndex int64) (*ReportResult, error) {
	l, err := LoadLocal(dir)
	if err != nil {
		return nil, err
	}
	return ReportEntries(l.Parsed, reportIndex)
}

// ReportEntries recomputes every figure of the period.report at log index reportIndex of the log
// entries (in log order) and compares them with the reported ones. Periods are cut by effective
// date (see IsMovement and InPeriod): the report counts exactly the movements before it whose
// effective date lies in [period_start, period_end]. It recomputes from_index (the smallest index
// of a counted movement, or the previous report's to_index if smaller; 0 for the first report),
// checks that period_start is the day after the previous report's period_end, and recomputes
// loans_boarded, loans_removed, collections_count (loan.collection entries), collections and
// principal_collected (net of the loan.collection_reversal entries dated in the period),
// boarded_balance (sum of boarded claims), removed_balance (sum of removal balances),
// waivers_count and waived (the loan.waiver entries dated in the period; version-2 reports),
// opening_balance (the previous report's closing_balance, 0.00 for the first) and the closing
// roll-forward. Replaying the whole log from index 0 in log order, it also checks that every
// collection and removal refers to a loan in the pool, that every reversal undoes an earlier
// collection of the same loan once and with its exact figures, that no collection exceeds the loan's
// balance, that every removal's balance is the loan's remaining balance and that no removal is
// dated before a collection logged earlier on the loan; and that the closing
// balance equals the sum, over the loans, of every movement before the report dated on or before
// period_end. It returns the result and, when anything differs, a *Failure of kind
// "report-mismatch" whose evidence is the result.
func ReportEntries(entries []Entry, reportIndex int64) (*ReportResult, error) {
	if reportIndex < 0 || reportIndex >= int64(len(entries)) {
		return nil, fmt.Errorf("index %d is beyond the local copy of %d entries", reportIndex, len(entries))
	}
	rep, ok := entries[reportIndex].(PeriodReport)
	if !ok {
		return nil, fmt.Errorf("entry %d is a %s, not a %s", reportIndex, entries[reportIndex].Type(), TypePeriodReport)
	}
	res := &ReportResult{Index: reportIndex, Reported: rep, Mismatches: []Mismatch{}}
	add := func(field, reported, recomputed, detail string) {
		res.Mismatches = append(res.Mismatches, Mismatch{Field: field, Reported: reported, Recomputed: recomputed, Detail: detail})
	}
	rc := PeriodReport{Header: rep.Header, PeriodStart: rep.PeriodStart, PeriodEnd: rep.PeriodEnd, ToIndex: reportIndex, ReportHash: rep.ReportHash}
	// The previous report fixes the opening balance, the period's start and bounds from_index.
	var prev *PeriodReport
	var prevIndex int64
	for i := reportIndex - 1; i >= 0; i-- {
		if p, ok := entries[i].(PeriodReport); ok {
			prev, prevIndex = &p, i
			break
		}
	}
	if rep.PeriodEnd < rep.PeriodStart {
		add("period_end", rep.PeriodEnd, "on or after "+rep.PeriodStart, "a period ends on or after its start")
	}
	if prev != nil {
		rc.FromIndex, rc.OpeningBalance = prevIndex, prev.ClosingBalance
		if want := DayAfter(prev.PeriodEnd); rep.PeriodStart != want {
			add("period_start", rep.PeriodStart, want, fmt.Sprintf("the previous report (entry %d) ends on %s; periods are contiguous", prevIndex, prev.PeriodEnd))
		}
	}
	if rep.ToIndex != reportIndex {
		add("to_index", fmt.Sprint(rep.ToIndex), fmt.Sprint(reportIndex), "to_index must be the report's own index")
	}
	// Replay the whole log up to the report, tracking every loan's balance in log order, and
	// every loan's balance from the movements dated on or before period_end.
	balance := map[string]Amount{}
	dated := map[string]Amount{}
	lastColl := map[string]string{} // latest collection date per loan
	removed := map[string]int64{}
	colls := map[string]int64{}    // event_id of each loan.collection -> its index
	reversed := map[string]int64{} // event_id of each reversed collection -> index of the reversal + 1
	var revAmount, revPrincipal Amount
	overflow := false
	sum := func(a *Amount, b Amount) {
		s, ok := a.Add(b)
		if !ok {
			overflow = true
		}
		*a = s
	}
	sub := func(a *Amount, b Amount) {
		s, ok := a.Sub(b)
		if !ok {
			overflow = true
		}
		*a = s
	}
	for i := int64(0); i < reportIndex; i++ {
		e := entries[i]
		if !IsMovement(e) {
			continue
		}
		eff := e.EntryHeader().Effective
		in := InPeriod(eff, rep.PeriodStart, rep.PeriodEnd)
		if in && i < rc.FromIndex {
			rc.FromIndex = i
		}
		upto := eff <= rep.PeriodEnd
		switch e := e.(type) {
		case LoanBoarded:
			if _, dup := balance[e.Loan]; dup {
				add("loans_boarded", "", "", fmt.Sprintf("entry %d boards loan %s, which was boarded before", i, e.Loan))
			}
			if r, gone := removed[e.Loan]; gone {
				add("loans_boarded", "", "", fmt.Sprintf("entry %d boards loan %s, which was removed at entry %d", i, e.Loan, r))
				delete(removed, e.Loan)
			}
			balance[e.Loan] = e.Claim
			if upto {
				d := dated[e.Loan]
				sum(&d, e.Claim)
				dated[e.Loan] = d
			}
			if in {
				rc.LoansBoarded++
				sum(&rc.BoardedBalance, e.Claim)
			}
		case LoanCollection:
			b, ok := balance[e.Loan]
			switch {
			case !ok && removed[e.Loan] > 0:
				add("collections", "", "", fmt.Sprintf("entry %d collects %s on loan %s, removed at entry %d", i, e.Amount.Major(), e.Loan, removed[e.Loan]))
			case !ok:
				add("collections", "", "", fmt.Sprintf("entry %d collects %s on loan %s, which was never boarded", i, e.Amount.Major(), e.Loan))
			case e.Amount > b:
				add("collections", "", "", fmt.Sprintf("entry %d collects %s on loan %s, whose balance is only %s", i, e.Amount.Major(), e.Loan, b.Major()))
				balance[e.Loan] = 0
			default:
				balance[e.Loan] = b - e.Amount
			}
			if upto && ok {
				d := dated[e.Loan]
				sub(&d, e.Amount)
				dated[e.Loan] = d
			}
			if eff > lastColl[e.Loan] {
				lastColl[e.Loan] = eff
			}
			colls[e.EventID] = i
			if in {
				rc.CollectionsCount++
				sum(&rc.Collections, e.Amount)
				sum(&rc.PrincipalCollected, e.Principal)
			}
		case LoanCollectionReversal:
			oi, found := colls[e.Reverses]
			var orig LoanCollection
			if found {
				orig, _ = entries[oi].(LoanCollection)
			}
			switch {
			case !found:
				add("collections", "", "", fmt.Sprintf("entry %d reverses %s, which is not an earlier loan.collection", i, e.Reverses))
			case reversed[e.Reverses] > 0:
				add("collections", "", "", fmt.Sprintf("entry %d reverses %s, already reversed at entry %d", i, e.Reverses, reversed[e.Reverses]-1))
			case orig.Loan != e.Loan || orig.Amount != e.Amount || orig.Principal != e.Principal || orig.Interest != e.Interest || orig.Fees != e.Fees:
				add("collections", "", "", fmt.Sprintf("entry %d reverses %s (entry %d) with other figures: loan %s amount %s, the collection was loan %s amount %s",
					i, e.Reverses, oi, e.Loan, e.Amount.Major(), orig.Loan, orig.Amount.Major()))
			}
			if found {
				reversed[e.Reverses] = i + 1
			}
			b, ok := balance[e.Loan]
			if ok {
				sum(&b, e.Amount)
				balance[e.Loan] = b
			} else {
				add("collections", "", "", fmt.Sprintf("entry %d reverses a collection on loan %s, which is not in the pool", i, e.Loan))
			}
			if upto && ok {
				d := dated[e.Loan]
				sum(&d, e.Amount)
				dated[e.Loan] = d
			}
			if in {
				sum(&revAmount, e.Amount)
				sum(&revPrincipal, e.Principal)
			}
		case LoanWaiver:
			b, ok := balance[e.Loan]
			switch {
			case !ok:
				add("waived", "", "", fmt.Sprintf("entry %d waives %s on loan %s, which is not in the pool", i, e.Amount.Major(), e.Loan))
			case e.Amount > b:
				add("waived", "", "", fmt.Sprintf("entry %d waives %s on loan %s, whose balance is only %s", i, e.Amount.Major(), e.Loan, b.Major()))
				balance[e.Loan] = 0
			default:
				balance[e.Loan] = b - e.Amount
			}
			if upto && ok {
				d := dated[e.Loan]
				sub(&d, e.Amount)
				dated[e.Loan] = d
			}
			if in {
				rc.WaiversCount++
				sum(&rc.Waived, e.Amount)
			}
		case LoanRemoved:
			b, ok := balance[e.Loan]
			switch {
			case !ok:
				add("removed_balance", "", "", fmt.Sprintf("entry %d removes loan %s, which is not in the pool", i, e.Loan))
			case e.Balance != b:
				add("removed_balance", e.Balance.String(), b.String(), fmt.Sprintf("entry %d removes loan %s with balance %s, its remaining balance is %s", i, e.Loan, e.Balance, b))
			}
			if c := lastColl[e.Loan]; eff < c {
				add("removed_balance", "", "", fmt.Sprintf("entry %d removes loan %s dated %s, before a collection on it dated %s that was logged earlier", i, e.Loan, eff, c))
			}
			delete(balance, e.Loan)
			removed[e.Loan] = i
			if upto && ok {
				d := dated[e.Loan]
				sub(&d, e.Balance)
				dated[e.Loan] = d
			}
			if in {
				rc.LoansRemoved++
				sum(&rc.RemovedBalance, e.Balance)
			}
		}
	}
	// Collections and principal collected are net of the reversals dated in the period.
	if revAmount > rc.Collections || revPrincipal > rc.PrincipalCollected {
		add("collections", rep.Collections.String(), "", fmt.Sprintf("the reversals dated in the period (%s) exceed its collections (%s): the net cannot be reported",
			revAmount.Major(), rc.Collections.Major()))
	} else {
		rc.Collections -= revAmount
		rc.PrincipalCollected -= revPrincipal
	}
	inflow, ok1 := rc.OpeningBalance.Add(rc.BoardedBalance)
	outflow, ok2 := rc.Collections.Add(rc.RemovedBalance)
	outflow, ok3 := outflow.Add(rc.Waived)
	rc.ClosingBalance, _ = inflow.Sub(outflow)
	for loan, b := range dated {
		if b < 0 {
			add("closing_balance", "", b.String(), fmt.Sprintf("loan %s's movements dated on or before %s leave a negative balance (a collection or removal dated before its boarding)", loan, rep.PeriodEnd))
		}
		sum(&res.Outstanding, b)
	}
	if overflow || !ok1 || !ok2 || !ok3 {
		add("", "", "", "a sum overflowed")
	}
	cmpInt := func(field string, rep, rec int64) {
		if rep != rec {
			add(field, fmt.Sprint(rep), fmt.Sprint(rec), "")
		}
	}
	cmpAmt := func(field string, rep, rec Amount, detail string) {
		if rep != rec {
			add(field, rep.String(), rec.String(), detail)
		}
	}
	cmpInt("from_index", rep.FromIndex, rc.FromIndex)
	cmpInt("loans_boarded", rep.LoansBoarded, rc.LoansBoarded)
	cmpInt("loans_removed", rep.LoansRemoved, rc.LoansRemoved)
	cmpInt("collections_count", rep.CollectionsCount, rc.CollectionsCount)
	cmpAmt("collections", rep.Collections, rc.Collections, "")
	cmpAmt("principal_collected", rep.PrincipalCollected, rc.PrincipalCollected, "")
	cmpAmt("opening_balance", rep.OpeningBalance, rc.OpeningBalance, "the previous report's closing_balance (0.00 for the first report)")
	cmpAmt("boarded_balance", rep.BoardedBalance, rc.BoardedBalance, "")
	cmpAmt("removed_balance", rep.RemovedBalance, rc.RemovedBalance, "")
	cmpInt("waivers_count", rep.WaiversCount, rc.WaiversCount)
	detail := ""
	if rep.V != EntryVersion2 && rc.Waived != 0 {
		detail = "the period has loan.waiver entries: its report must be written in version 2, which carries waived"
	}
	cmpAmt("waived", rep.Waived, rc.Waived, detail)
	cmpAmt("closing_balance", rep.ClosingBalance, rc.ClosingBalance, "opening + boarded - collections - removed - waived, recomputed")
	cmpAmt("closing_balance", rep.ClosingBalance, res.Outstanding, "the sum of the outstanding balances of the loans in the pool")
	res.Recomputed = rc
	if len(res.Mismatches) > 0 {
		return res, &Failure{Kind: "report-mismatch", Err: fmt.Errorf("period.report at entry %d: %d mismatches", reportIndex, len(res.Mismatches)), Evidence: res}
	}
	return res, nil
}

// StatementLine is one line of a bank statement CSV: txn_id,date,amount.
type StatementLine struct {
	TxnID  string `json:"txn_id"`
	Date   string `json:"date"`
	Amount Amount `json:"amount"`
	Line   int    `json:"line"`
}

// Opening is one line of an openings CSV: event_id,salt_hex,txn_id, the secret that opens a
// collection's bank_txn commitment.
type Opening struct {
	EventID string `json:"event_id"`
	SaltHex string `json:"salt_hex"`
	TxnID   string `json:"txn_id"`
	Line    int    `json:"line"`
}

// Unmatched is one item that reconciliation could not match, with the reason.
type Unmatched struct {
	Index   int64  `json:"index,omitempty"` // log index of the collection, when the item is one
	EventID string `json:"event_id,omitempty"`
	TxnID   string `json:"txn_id,omitempty"`
	Amount  string `json:"amount,omitempty"`
	Reason  string `json:"reason"`
}

// ReconcileResult is the outcome of Reconcile.
type ReconcileResult struct {
	Collections          int         `json:"collections"`
	Credits              int         `json:"credits"`
	Matched              int         `json:"matched"`
	UnmatchedCollections []Unmatched `json:"unmatched_collections"`
	UnmatchedCredits     []Unmatched `json:"unmatched_credits"`
}

// Reconcile checks the collections in the local copy in dir against the trustee's bank
// statement. statementCSV has the columns txn_id,date,amount (a header row with these names is
// optional; amount is a decimal with up to two decimals, negative for debits, which are
// ignored); openingsCSV has event_id,salt_hex,txn_id (header optional). Every loan.collection
// must have an opening whose salt opens its bank_txn commitment to the txn_id
// (Commit(salt, TagBankTxn, BankTxnRecord(txn_id))), and that txn_id must be a statement credit;
// one bank transaction may pay several loans, so the collections that open to one txn_id must
// together equal its amount; every statement credit must be matched by its collections. It returns the result and, when anything is unmatched, a *Failure of kind
// "reconcile-unmatched" whose evidence is the result.
func Reconcile(dir string, statementCSV, openingsCSV io.Reader) (*ReconcileResult, error) {
	l, err := LoadLocal(dir)
	if err != nil {
		return nil, err
	}
	lines, err := readStatement(statementCSV)
	if err != nil {
		return nil, err
	}
	openings, err := readOpenings(openingsCSV)
	if err != nil {
		return nil, err
	}
	res := &ReconcileResult{UnmatchedCollections: []Unmatched{}, UnmatchedCredits: []Unmatched{}}
	credits := map[string]StatementLine{}
	for _, s := range lines {
		if s.Amount <= 0 {
			continue
		}
		if _, dup := credits[s.TxnID]; dup {
			return nil, fmt.Errorf("statement line %d: txn_id %q appears twice", s.Line, s.TxnID)
		}
		credits[s.TxnID] = s
		res.Credits++
	}
	// One bank transaction may pay several loans: the collections that open to one txn_id
	// together must equal its credit.
	type group struct {
		sum   Amount
		items []Unmatched
	}
	groups := map[string]*group{}
	var order []string
	for i, pe := range l.Parsed {
		c, ok := pe.(LoanCollection)
		if !ok {
			continue
		}
		res.Collections++
		u := Unmatched{Index: int64(i), EventID: c.EventID, Amount: c.Amount.String()}
		o, ok := openings[c.EventID]
		if !ok {
			u.Reason = "no opening for this collection in the openings file"
			res.UnmatchedCollections = append(res.UnmatchedCollections, u)
			continue
		}
		u.TxnID = o.TxnID
		if err := Open(c.BankTxn, BankTxnRecord(o.TxnID), o.SaltHex, TagBankTxn); err != nil {
			u.Reason = fmt.Sprintf("openings line %d does not open the bank_txn commitment: %v", o.Line, err)
			res.UnmatchedCollections = append(res.UnmatchedCollections, u)
			continue
		}
		g := groups[o.TxnID]
		if g == nil {
			g = &group{}
			groups[o.TxnID] = g
			order = append(order, o.TxnID)
		}
		g.sum, _ = g.sum.Add(c.Amount)
		g.items = append(g.items, u)
	}
	used := map[string]int64{}
	for _, txn := range order {
		g := groups[txn]
		s, ok := credits[txn]
		var reason string
		switch {
		case !ok:
			reason = "the bank transaction is not a credit on the statement"
		case s.Amount != g.sum && len(g.items) == 1:
			reason = fmt.Sprintf("statement line %d credits %s, the collection is %s", s.Line, s.Amount.Major(), g.sum.Major())
		case s.Amount != g.sum:
			reason = fmt.Sprintf("statement line %d credits %s, the %d collections on it sum to %s", s.Line, s.Amount.Major(), len(g.items), g.sum.Major())
		default:
			used[txn] = g.items[0].Index + 1
			res.Matched += len(g.items)
			continue
		}
		for _, u := range g.items {
			u.Reason = reason
			res.UnmatchedCollections = append(res.UnmatchedCollections, u)
		}
	}
	sort.Slice(res.UnmatchedCollections, func(i, j int) bool { return res.UnmatchedCollections[i].Index < res.UnmatchedCollections[j].Index })
	for _, s := range lines {
		if s.Amount > 0 && used[s.TxnID] == 0 {
			res.UnmatchedCredits = append(res.UnmatchedCredits, Unmatched{TxnID: s.TxnID, Amount: s.Amount.String(),
				Reason: fmt.Sprintf("statement line %d (%s) has no matching logged collection", s.Line, s.Date)})
		}
	}
	if len(res.UnmatchedCollections) > 0 || len(res.UnmatchedCredits) > 0 {
		return res, &Failure{Kind: "reconcile-unmatched", Err: fmt.Errorf("%d collections and %d statement credits unmatched",
			len(res.UnmatchedCollections), len(res.UnmatchedCredits)), Evidence: res}
	}
	return res, nil
}

// readCSV reads a CSV with the given columns and an optional header row naming them; it returns
// the data rows and their line numbers.
func readCSV(r io.Reader, what string, cols []string) ([][]string, []int, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(cols)
	var rows [][]string
	var lineNo []int
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", what, err)
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if first && strings.EqualFold(strings.TrimPrefix(rec[0], "\ufeff"), cols[0]) {
			continue
		}
		rows = append(rows, rec)
		lineNo = append(lineNo, line)
	}
	return rows, lineNo, nil
}

func readStatement(r io.Reader) ([]StatementLine, error) {
	rows, lines, err := readCSV(r, "statement", []string{"txn_id", "date", "amount"})
	if err != nil {
		return nil, err
	}
	out := make([]StatementLine, 0, len(rows))
	for i, rec := range rows {
		if rec[0] == "" {
			return nil, fmt.Errorf("statement line %d: empty txn_id", lines[i])
		}
		if !validDate(rec[1]) {
			return nil, fmt.Errorf("statement line %d: date %q is not YYYY-MM-DD", lines[i], rec[1])
		}
		a, err := parseSignedDecimal(rec[2])
		if err != nil {
			return nil, fmt.Errorf("statement line %d: %v", lines[i], err)
		}
		out = append(out, StatementLine{TxnID: rec[0], Date: rec[1], Amount: a, Line: lines[i]})
	}
	return out, nil
}

func readOpenings(r io.Reader) (map[string]Opening, error) {
	rows, lines, err := readCSV(r, "openings", []string{"event_id", "salt_hex", "txn_id"})
	if err != nil {
		return nil, err
	}
	out := make(map[string]Opening, len(rows))
	for i, rec := range rows {
		if _, dup := out[rec[0]]; dup {
			return nil, fmt.Errorf("openings line %d: event_id %q appears twice", lines[i], rec[0])
		}
		out[rec[0]] = Opening{EventID: rec[0], SaltHex: rec[1], TxnID: rec[2], Line: lines[i]}
	}
	return out, nil
}

// parseSignedDecimal parses a statement amount: an optional '-', digits, and optionally a point
// with one or two decimals.
func parseSignedDecimal(s string) (Amount, error) {
	neg := strings.HasPrefix(s, "-")
	t := strings.TrimPrefix(s, "-")
	ip, fp, hasPoint := strings.Cut(t, ".")
	if ip == "" || len(ip) > 15 || (hasPoint && (len(fp) == 0 || len(fp) > 2)) {
		return 0, fmt.Errorf("amount %q is not a decimal with at most two decimals", s)
	}
	for len(fp) < 2 {
		fp += "0"
	}
	var v int64
	for _, c := range ip + fp {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("amount %q is not a decimal with at most two decimals", s)
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return Amount(v), nil
}

// Open checks that commitment (64 lower-case hex digits, as carried in an entry) is
// Commit(salt, tag, record) for the salt given in hex (SaltSize bytes). It returns nil when the
// commitment opens, and otherwise an error saying why (malformed input, or the commitment does
// not match, with the value the record and salt give).
func Open(commitment string, record []byte, saltHex, tag string) error {
	if !isHex64(commitment) {
		return fmt.Errorf("commitment %q is not 64 lower-case hex digits", commitment)
	}
	salt, err := hex.DecodeString(strings.TrimSpace(saltHex))
	if err != nil {
		return fmt.Errorf("salt is not hex: %v", err)
	}
	if len(salt) != SaltSize {
		return fmt.Errorf("salt is %d bytes, want %d", len(salt), SaltSize)
	}
	got := Commit(salt, tag, record)
	if !hmac.Equal([]byte(got), []byte(commitment)) {
		return fmt.Errorf("commitment does not open: record and salt under tag %q give %s, the entry has %s", tag, got, commitment)
	}
	return nil
}

// SampleDomain is the domain-separation prefix of Sample's hash input.
const SampleDomain = "reclaim/audit-sample/v1"

// Sample returns a deterministic audit sample of k distinct log indices in [0, c.Size), drawn
// from the checkpoint's root hash and size so that whoever publishes the checkpoint cannot
// choose it (use a witnessed checkpoint). Anyone can reimplement it:
//
//	for block = 0, 1, 2, ...:
//	    d = SHA-256("reclaim/audit-sample/v1" || 0x00 || root (32 bytes) ||
//	                size (8 bytes, big-endian) || block (8 bytes, big-endian))
//	    for each of the four 8-byte big-endian words x of d, in order:
//	        if x >= 2^64 - (2^64 mod size): skip x (rejection sampling, no modulo bias)
//	        i = x mod size
//	        if i was not drawn before: append i; stop once k indices are drawn
//
// The indices are returned in the order drawn, so Sample(c, k) is a prefix of Sample(c, k+1).
// It fails when k is negative or larger than the tree.
func Sample(c Checkpoint, k int) ([]int64, error) {
	if k < 0 || int64(k) > c.Size {
		return nil, fmt.Errorf("cannot draw %d distinct indices from a tree of size %d", k, c.Size)
	}
	out := make([]int64, 0, k)
	if k == 0 {
		return out, nil
	}
	size := uint64(c.Size)
	// limit = 2^64 - (2^64 mod size), computed without overflow; 0 means "no rejection".
	rem := (math.MaxUint64%size + 1) % size // 2^64 mod size
	limit := -rem                           // 2^64 - rem, mod 2^64
	seen := make(map[int64]bool, k)
	var buf [len(SampleDomain) + 1 + 32 + 8 + 8]byte
	n := copy(buf[:], SampleDomain)
	buf[n] = 0
	copy(buf[n+1:], c.Hash[:])
	binary.BigEndian.PutUint64(buf[n+33:], size)
	for block := uint64(0); len(out) < k; block++ {
		binary.BigEndian.PutUint64(buf[n+41:], block)
		d := sha256.Sum256(buf[:])
		for w := 0; w < 4 && len(out) < k; w++ {
			x := binary.BigEndian.Uint64(d[w*8:])
			if rem != 0 && x >= limit {
				continue
			}
			i := int64(x % size)
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	return out, nil
}

// SortedIndices returns a sorted copy of indices (for printing a sample).
func SortedIndices(indices []int64) []int64 {
	out := append([]int64(nil), indices...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// LeafHash returns the RFC 6962 leaf hash of an entry's exact bytes: SHA-256(0x00 || entry).
func LeafHash(entry []byte) tlog.Hash { return tlog.RecordHash(entry) }
