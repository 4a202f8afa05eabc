package workout

import (
	"slices"
	"strings"

	"golang.org/x/text/unicode/norm"

	"reclaim/money"
	"reclaim/textnorm"
)

// Matching: which case a bank credit pays. Pure: the caller supplies what it knows (the index of
// case and loan references, the candidate debtors found by blind index or by masked name and
// expected amount, which cases are closed) and stores the outcome. Every line ends in exactly
// one outcome: matched to a case, a reversal of a known credit, or queued with a reason; none is
// ever dropped.

// MatchMethod says how a payment found its case.
type MatchMethod string

// The match methods, in the order the matcher tries them.
const (
	MatchReference  MatchMethod = "reference"   // a case or loan reference in the free text
	MatchBlindIndex MatchMethod = "blind_index" // the payer's ID number or phone (keyed blind index) is the debtor's
	MatchNameAmount MatchMethod = "name_amount" // the payer's masked name and the expected amount fit one debtor
	MatchManual     MatchMethod = "manual"      // a person matched it from the unmatched queue
)

// QueueReason says why a line waits in the unmatched queue.
type QueueReason string

// The queue reasons.
const (
	QueueNoMatch         QueueReason = "no_match"         // nothing points at a case
	QueueAmbiguous       QueueReason = "ambiguous"        // several cases fit equally
	QueueCaseClosed      QueueReason = "case_closed"      // the case it pays is closed: not applied
	QueueUnknownOriginal QueueReason = "unknown_original" // a reversal of a credit that was never posted
	QueueCurrency        QueueReason = "currency"         // not in the case's currency
	QueueReversalAmount  QueueReason = "reversal_amount"  // a reversal whose amount is not the credit's
)

// LineOutcome is what became of one line.
type LineOutcome string

// The outcomes.
const (
	LineMatched  LineOutcome = "matched"
	LineReversal LineOutcome = "reversal"
	LineQueued   LineOutcome = "queued"
)

// RefTarget is what a reference token points at: a case, and the loan when the token is a loan's
// reference (then the payment pays that loan first).
type RefTarget struct {
	Case   int64  `json:"case"`
	Loan   string `json:"loan,omitempty"`
	Closed bool   `json:"closed,omitempty"`
}

// ReferenceIndex maps normalised reference tokens (ReferenceKey) to what they point at. The
// caller fills it with every case reference and loan reference it holds.
type ReferenceIndex map[string]RefTarget

// Add indexes ref (a case reference, or a loan reference with loan set). A reference added
// again for another case (two sellers' loans with one id) becomes ambiguous: it then matches
// nothing by itself.
func (ix ReferenceIndex) Add(ref string, to RefTarget) {
	k := ReferenceKey(ref)
	if k == "" {
		return
	}
	if old, ok := ix[k]; ok && old.Case != to.Case {
		to = RefTarget{} // ambiguous
	}
	ix[k] = to
}

// MinReferenceLen is the shortest token looked up as a reference: shorter tokens (a "1", an
// "ok") would match by accident. A case reference (CaseRef: "C" and the case id, such as "C7")
// counts at any length.
const MinReferenceLen = 3

// ReferenceKey normalises a reference for comparison: NFKC (full-width "ＬＮ１２" is "LN12"),
// upper case, white space and format characters trimmed.
func ReferenceKey(s string) string {
	return strings.ToUpper(textnorm.Trim(norm.NFKC.String(s)))
}

// isCaseRef reports whether tok has the form of CaseRef: C or c and a case id.
func isCaseRef(tok string) bool {
	if len(tok) < 2 || (tok[0] != 'C' && tok[0] != 'c') || tok[1] == '0' {
		return false
	}
	for i := 1; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return false
		}
	}
	return true
}

// ReferenceTokens splits free text into the tokens looked up as references: maximal runs of
// ASCII letters, digits, '-', '_' and '/' (after NFKC, so full-width forms count), upper-cased,
// with leading and trailing punctuation trimmed, at least MinReferenceLen long and holding a
// digit. "还款LN-2024-0001，张三" gives ["LN-2024-0001"].
func ReferenceTokens(text string) []string {
	t := norm.NFKC.String(text)
	var out []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		tok := strings.Trim(t[start:end], "-_/")
		start = -1
		if (len(tok) < MinReferenceLen && !isCaseRef(tok)) || !strings.ContainsAny(tok, "0123456789") {
			return
		}
		tok = strings.ToUpper(tok)
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '/' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(t))
	return out
}

// Candidate is a debtor the caller found for a line by other means than the reference:
// Method is MatchBlindIndex (the payer's ID or phone blind index is the debtor's) or
// MatchNameAmount (the payer's masked name and the amount fit one of the debtor's expected
// amounts).
type Candidate struct {
	Case   int64       `json:"case"`
	Method MatchMethod `json:"method"`
	Closed bool        `json:"closed,omitempty"`
}

// MatchResult is the outcome of one line.
type MatchResult struct {
	Line     int         `json:"line"`
	TxnID    string      `json:"txn_id"`
	Outcome  LineOutcome `json:"outcome"`
	Case     int64       `json:"case,omitempty"`     // matched (or, for case_closed, the closed case)
	Loans    []string    `json:"loans,omitempty"`    // loans quoted in the reference, paid first
	Method   MatchMethod `json:"method,omitempty"`   // matched: how
	Reason   QueueReason `json:"reason,omitempty"`   // queued: why
	Detail   string      `json:"detail,omitempty"`   // a sentence for the queue screen
	Reverses string      `json:"reverses,omitempty"` // reversal: the original txn id
}

// MatchLine decides one credit line (Amount > 0): a reference in the free text to exactly one
// case wins; references to several cases are ambiguous and fall through to the candidates; then
// exactly one blind-index case; then exactly one name-and-amount case (among the blind-index
// cases when there were several of those); else the queue (ambiguous when candidates were
// found, no_match otherwise). A match to a closed case is queued with case_closed, never
// applied. A line whose currency is not caseCurrency is queued with currency.
func MatchLine(l StatementLine, refs ReferenceIndex, cands []Candidate, caseCurrency money.Currency) MatchResult {
	r := MatchResult{Line: l.Line, TxnID: l.TxnID}
	if caseCurrency != "" && l.Currency != caseCurrency {
		return queued(r, QueueCurrency, "the line is in "+string(l.Currency)+", cases are in "+string(caseCurrency))
	}
	// 1. References.
	var hits []RefTarget
	for _, tok := range ReferenceTokens(l.Reference) {
		if tok == "" {
			continue
		}
		if to, ok := refs[tok]; ok {
			hits = append(hits, to)
		}
	}
	// A hit of case 0 is a reference that names several cases: it decides nothing by itself.
	cases := map[int64]bool{}
	sharedRef := false
	for _, h := range hits {
		if h.Case == 0 {
			sharedRef = true
			continue
		}
		cases[h.Case] = true
	}
	hits = slices.DeleteFunc(hits, func(h RefTarget) bool { return h.Case == 0 })
	if len(cases) == 1 {
		r.Case, r.Method = hits[0].Case, MatchReference
		for _, h := range hits {
			if h.Loan != "" && !slices.Contains(r.Loans, h.Loan) {
				r.Loans = append(r.Loans, h.Loan)
			}
			if h.Closed {
				return queued(r, QueueCaseClosed, "the reference names a closed case")
			}
		}
		r.Outcome = LineMatched
		return r
	}
	ambiguousRef := len(cases) > 1 || sharedRef
	// 2. Blind index, 3. name and amount.
	blind := distinctCases(cands, MatchBlindIndex)
	named := distinctCases(cands, MatchNameAmount)
	closed := map[int64]bool{}
	for _, c := range cands {
		if c.Closed {
			closed[c.Case] = true
		}
	}
	pick := func(c int64, m MatchMethod) MatchResult {
		r.Case, r.Method = c, m
		if closed[c] {
			return queued(r, QueueCaseClosed, "the payer is the debtor of a closed case")
		}
		r.Outcome = LineMatched
		return r
	}
	switch {
	case len(blind) == 1:
		return pick(blind[0], MatchBlindIndex)
	case len(blind) > 1:
		var both []int64
		for _, c := range named {
			if slices.Contains(blind, c) {
				both = append(both, c)
			}
		}
		if len(both) == 1 {
			return pick(both[0], MatchNameAmount)
		}
		return queued(r, QueueAmbiguous, "the payer's ID or phone belongs to several debtors")
	case len(named) == 1:
		return pick(named[0], MatchNameAmount)
	case len(named) > 1:
		return queued(r, QueueAmbiguous, "several debtors have this name and expected amount")
	case ambiguousRef:
		return queued(r, QueueAmbiguous, "the reference names several cases")
	}
	return queued(r, QueueNoMatch, "no reference, ID, phone or name and amount points at a case")
}

func queued(r MatchResult, why QueueReason, detail string) MatchResult {
	r.Outcome, r.Reason, r.Detail = LineQueued, why, detail
	if why != QueueCaseClosed {
		r.Case, r.Method, r.Loans = 0, "", nil
	}
	return r
}

func distinctCases(cands []Candidate, m MatchMethod) []int64 {
	var out []int64
	for _, c := range cands {
		if c.Method == m && !slices.Contains(out, c.Case) {
			out = append(out, c.Case)
		}
	}
	slices.Sort(out)
	return out
}

// MatchInput is what MatchStatement needs besides the lines.
type MatchInput struct {
	Refs ReferenceIndex
	// Candidates returns the blind-index and name-and-amount candidates of a credit line (nil
	// when there is none).
	Candidates func(l StatementLine) []Candidate
	// Posted reports whether a transaction (by textnorm.TxnKey) was posted before this file,
	// for reversals of earlier credits.
	Posted func(txnKey string) bool
	// Currency of the cases ("" accepts every currency).
	Currency money.Currency
}

// MatchStatement decides every line of a statement, in file order, and returns one result per
// line (same order, same count): credits through MatchLine; a reversal (Amount < 0) is a
// reversal when the credit it names was posted earlier (in.Posted) or is an earlier credit line
// of this file (matched or queued: the store undoes what was applied, or takes a queued credit
// out of the queue), and is queued with unknown_original otherwise, or when that credit is
// already reversed. No line is ever dropped.
func MatchStatement(lines []StatementLine, in MatchInput) []MatchResult {
	out := make([]MatchResult, len(lines))
	creditsHere := map[string]bool{} // TxnKey of the credit lines of this file so far
	reversed := map[string]bool{}
	for i, l := range lines {
		if l.IsReversal() {
			r := MatchResult{Line: l.Line, TxnID: l.TxnID, Reverses: l.Reverses}
			k := textnorm.TxnKey(l.Reverses)
			switch {
			case reversed[k]:
				out[i] = queued(r, QueueUnknownOriginal, "the credit "+l.Reverses+" is already reversed by an earlier line")
			case creditsHere[k] || (in.Posted != nil && in.Posted(k)):
				r.Outcome = LineReversal
				reversed[k] = true
				out[i] = r
			default:
				out[i] = queued(r, QueueUnknownOriginal, "no posted credit has the transaction id "+l.Reverses)
			}
			continue
		}
		var cands []Candidate
		if in.Candidates != nil {
			cands = in.Candidates(l)
		}
		out[i] = MatchLine(l, in.Refs, cands, in.Currency)
		creditsHere[textnorm.TxnKey(l.TxnID)] = true
	}
	return out
}
