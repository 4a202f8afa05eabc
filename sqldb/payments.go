package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/ingest"
	"reclaim/money"
	"reclaim/pii"
	"reclaim/textnorm"
	"reclaim/tlog/verify"
	"reclaim/workout"
)

// Payments storage (issue 12 item 5; docs/payments.md). Matching, allocation and reversal are
// package workout's pure functions; this file loads what they need (references, blind-index and
// name-and-amount candidates, balances), stores what they decided (payments, allocations,
// account movements, the part-payment that interrupts the limitation period) and, for a loan in
// a pool, writes the loan.collection or loan.collection_reversal ledger entry, all in one
// transaction: a statement file is imported whole or not at all.

// The payment records are package workout's (workout.Payment and its kin); these aliases keep
// this package's API self-describing.
type (
	Payment           = workout.Payment
	PaymentAllocation = workout.PaymentAllocation
	PaymentInput      = workout.PaymentInput
	StatementImport   = workout.StatementImport
	PaymentFilter     = workout.PaymentFilter
)

// Payment statuses, sources and allocation kinds (workout's).
const (
	PaymentApplied       = workout.PaymentApplied
	PaymentQueued        = workout.PaymentQueued
	PaymentReversed      = workout.PaymentReversed
	PaymentReversal      = workout.PaymentReversal
	PaymentFromStatement = workout.PaymentFromStatement
	PaymentFromAPI       = workout.PaymentFromAPI
	AllocPayment         = workout.AllocPayment
	AllocReversal        = workout.AllocReversal
)

// PaymentOptions are the caller's choices for posting payments.
type PaymentOptions struct {
	// Policy is the allocation rule (the zero value: workout.DefaultAllocationPolicy).
	Policy workout.AllocationPolicy
	// Blind returns the keyed blind-index hashes (pii.BlindKey) of a line's payer ID number
	// and phone, which find the debtor's case through case_keys; nil when the caller has no
	// blind-index key (matching then uses references and names only).
	Blind func(workout.StatementLine) [][]byte
	// Actor names who posts, for the record ("user:alice").
	Actor string
}

func (o *PaymentOptions) policy() (workout.AllocationPolicy, error) {
	if o.Policy.Order == nil && o.Policy.Across == "" {
		return workout.DefaultAllocationPolicy(), nil
	}
	return o.Policy, o.Policy.Validate()
}

// ImportStatement stores a parsed statement in one transaction: every credit line is matched
// (workout.MatchStatement) and, when matched to an open case in its currency, allocated
// (workout.Allocate) to the case's loans; every other line waits in the unmatched queue with its
// reason; a reversal line undoes its credit (workout.Allocation.Reversal), in this file or
// earlier. A loan in a pool gets its loan.collection (or loan.collection_reversal) ledger entry
// in the same transaction. The same file twice (by SHA-256) is ECONFLICT; so is a line whose
// transaction id was already posted (the error names the line); a value date in a pool's closed
// period is EINVALID (rule period_closed, naming the line). On any error nothing is stored.
func (d *DB) ImportStatement(ctx context.Context, filename string, st *workout.Statement, opt PaymentOptions) (StatementImport, error) {
	pol, err := opt.policy()
	if err != nil {
		return StatementImport{}, err
	}
	if st == nil || len(st.SHA256) != 64 {
		return StatementImport{}, reclaim.Errorf(reclaim.EINVALID, "a statement import needs a parsed statement")
	}
	if err := textnorm.Check(filename); err != nil || len(filename) > 255 {
		filename = "statement.csv"
	}
	var out StatementImport
	err = d.writeTxConn(ctx, func(tx *Tx) error {
		var one int64
		switch err := tx.QueryRow(ctx, `SELECT id FROM statement_imports WHERE sha256 = ?`, st.SHA256).Scan(&one); {
		case err == nil:
			e := reclaim.Errorf(reclaim.ECONFLICT, "this statement file was already imported (import %d); nothing was imported", one)
			e.Fields = map[string]string{"rule": "file_already_imported", "import_id": strconv.FormatInt(one, 10)}
			return e
		case err != sql.ErrNoRows:
			return err
		}
		p, err := d.newPayTx(ctx, tx, opt, pol)
		if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM statement_imports`).Scan(&p.importID); err != nil {
			return err
		}
		p.source = PaymentFromStatement
		now := d.nowUTC()
		if _, err := tx.Exec(ctx, `INSERT INTO statement_imports (id, sha256, filename, mapping, lines, matched, queued, reversals, applied_minor, actor, imported_at)
			VALUES (?, ?, ?, ?, 0, 0, 0, 0, 0, ?, ?)`, p.importID, st.SHA256, filename, st.Mapping, opt.Actor, d.instant(now)); err != nil {
			return err
		}
		if err := p.run(st.Lines, nil); err != nil {
			return err
		}
		if err := p.flush(); err != nil {
			return err
		}
		out = StatementImport{ID: p.importID, SHA256: st.SHA256, Filename: filename, Mapping: st.Mapping, Lines: len(st.Lines),
			Matched: p.matched, Queued: p.queued, Reversals: p.reversals, Applied: money.New(p.applied, money.CNY), Actor: opt.Actor, ImportedAt: now}
		_, err = tx.Exec(ctx, `UPDATE statement_imports SET lines = ?, matched = ?, queued = ?, reversals = ?, applied_minor = ? WHERE id = ?`,
			out.Lines, out.Matched, out.Queued, out.Reversals, p.applied, p.importID)
		return err
	})
	return out, dbError(err, "importing a statement")
}

// PostPayment stores one payment posted through the API, exactly as a one-line statement would
// be (matched, allocated or queued; a reversal undoes its credit), or, with in.CaseID, posted to
// that case directly. The input is checked as a statement line is (EINVALID naming the field).
func (d *DB) PostPayment(ctx context.Context, in PaymentInput, opt PaymentOptions) (Payment, error) {
	pol, err := opt.policy()
	if err != nil {
		return Payment{}, err
	}
	l, err := paymentLine(in)
	if err != nil {
		return Payment{}, err
	}
	var id int64
	err = d.writeTxConn(ctx, func(tx *Tx) error {
		p, err := d.newPayTx(ctx, tx, opt, pol)
		if err != nil {
			return err
		}
		p.source = PaymentFromAPI
		var force *workout.MatchResult
		if in.CaseID != 0 {
			if l.IsReversal() {
				return reclaim.Errorf(reclaim.EINVALID, "a reversal names the credit it reverses, not a case")
			}
			force = &workout.MatchResult{Line: 0, TxnID: l.TxnID, Outcome: workout.LineMatched, Case: in.CaseID, Method: workout.MatchManual}
			if _, err := p.loadCase(in.CaseID); err != nil {
				return err
			}
		}
		if err := p.run([]workout.StatementLine{l}, force); err != nil {
			return err
		}
		id = p.firstID
		return p.flush()
	})
	if err != nil {
		return Payment{}, dbError(err, "posting a payment")
	}
	return d.GetPayment(ctx, id)
}

func paymentLine(in PaymentInput) (workout.StatementLine, error) {
	bad := func(field, format string, args ...any) error {
		e := reclaim.Errorf(reclaim.EINVALID, format, args...)
		e.Fields = map[string]string{"field": field}
		return e
	}
	for f, v := range map[string]string{"txn_id": in.TxnID, "reference": in.Reference, "payer_name": in.PayerName, "payer_account": in.PayerAccount,
		"payer_id": in.PayerID, "payer_phone": in.PayerPhone, "reverses": in.Reverses} {
		if err := textnorm.Check(v); err != nil {
			return workout.StatementLine{}, bad(f, "%s %v", f, err)
		}
		if len(v) > workout.MaxStatementField {
			return workout.StatementLine{}, bad(f, "%s is longer than %d bytes", f, workout.MaxStatementField)
		}
	}
	l := workout.StatementLine{TxnID: textnorm.Trim(in.TxnID), Date: in.Date, Amount: in.Amount, Reference: textnorm.Trim(in.Reference),
		PayerName: textnorm.Trim(in.PayerName), PayerAccount: textnorm.Trim(in.PayerAccount), PayerID: textnorm.Trim(in.PayerID),
		PayerPhone: textnorm.Trim(in.PayerPhone), Reverses: textnorm.Trim(in.Reverses), Currency: in.Amount.Currency()}
	switch {
	case textnorm.TxnKey(l.TxnID) == "" || textnorm.Len(l.TxnID) > workout.MaxTxnIDLen:
		return l, bad("txn_id", "a payment needs its bank transaction id (1 to %d characters)", workout.MaxTxnIDLen)
	case l.Date.IsZero():
		return l, bad("date", "a payment needs its value date")
	case l.Amount.IsZero() || !l.Currency.Valid():
		return l, bad("amount", "a payment needs a non-zero amount with its currency")
	case !workout.PaymentAmountInRange(l.Amount):
		return l, bad("amount", "a payment is at most %s either way", money.New(workout.MaxPaymentMinor, l.Currency))
	case l.Amount.Sign() < 0 && textnorm.TxnKey(l.Reverses) == "":
		return l, bad("reverses", "a negative amount is a bounce or reversal and must name the original transaction in reverses")
	case l.Amount.Sign() > 0 && l.Reverses != "":
		return l, bad("reverses", "only a negative amount reverses a transaction")
	case l.Amount.Sign() < 0 && textnorm.TxnKey(l.Reverses) == textnorm.TxnKey(l.TxnID):
		return l, bad("reverses", "a payment cannot reverse itself")
	}
	return l, nil
}

// payTx is one transaction's worth of payment posting: caches of the cases it touched (their
// balances change as it goes; it holds the write lock, so nobody else changes them) and the rows
// it will write.
type payTx struct {
	d      *DB
	ctx    context.Context
	tx     *Tx
	opt    PaymentOptions
	pol    workout.AllocationPolicy
	now    time.Time
	source string

	importID  int64
	nextPay   int64
	nextAlloc int64
	firstID   int64

	cases    map[int64]*payCase
	refs     workout.ReferenceIndex
	existing map[string]*oldPayment // txn key -> a payment stored before this transaction
	here     map[string]*payRow     // txn key -> a payment of this transaction

	pays      []*payRow
	allocs    []allocRow
	moves     []moveRow
	lims      []limRow
	dropLims  []int64 // payments (stored before) whose part-payment no longer counts
	statusUps []statusUp
	poolTxns  map[string]bool      // pool|txnkey already used by a collection of this transaction
	pooled    map[int64]bool       // portfolio id -> whether a pool was opened from it or a deal selected from it
	dealEnd   map[string]date.Date // pool -> end of its last reported deal window (zero: none), read once a transaction
	undone    map[int64]bool       // payments of this transaction reversed in it
	w         *chunker             // IN-list queries on the writer's transaction
	side      *chunker             // IN-list queries on a reader's transaction (sideReads), or nil
	byName    map[string][]int64   // masked name -> borrower ids
	err       error

	matched, queued, reversals int
	applied                    int64
}

type payCase struct {
	id       int64
	status   string
	currency money.Currency
	expiry   date.Date // the case's limitation expiry as stored
	// relimit: a part-payment was taken back; the case's limitation is recomputed from its events
	relimit bool
	loans   []workout.LoanBalance // keyed by loan id (decimal)
	info    map[string]*acctInfo
}

type acctInfo struct {
	loanID, portfolioID int64
	loanRef             string
	pool, poolLoan      string
	poolLoaded          bool
	touched             bool
	expiry              date.Date // the loan's limitation expiry (moved by part-payments)
}

type oldPayment struct {
	id       int64
	amount   int64
	currency string
	status   string
	caseID   int64
}

type payRow struct {
	p        Payment
	key      string
	existing bool  // an UPDATE of a stored payment (manual match), not an INSERT
	allocs   []int // indexes into payTx.allocs (this payment's kind-payment allocations)
}

type allocRow struct {
	paymentID int64
	a         PaymentAllocation
}

type moveRow struct {
	loanID, caseID int64
	typ            string
	p, i, f        int64 // signed as stored: a payment's are negative
	cur            string
	eff            date.Date
	ref            string
}

type limRow struct {
	caseID, loanID, paymentID int64
	on                        date.Date
}

type statusUp struct {
	id, reversedBy int64
}

func (d *DB) newPayTx(ctx context.Context, tx *Tx, opt PaymentOptions, pol workout.AllocationPolicy) (*payTx, error) {
	p := &payTx{d: d, ctx: ctx, tx: tx, opt: opt, pol: pol, now: d.nowUTC(), cases: map[int64]*payCase{}, existing: map[string]*oldPayment{},
		here: map[string]*payRow{}, poolTxns: map[string]bool{}, pooled: map[int64]bool{}, dealEnd: map[string]date.Date{}, undone: map[int64]bool{}, byName: map[string][]int64{}, refs: workout.ReferenceIndex{}}
	p.w = &chunker{p: p, tx: tx.tx, stmts: map[string]*sql.Stmt{}}
	if tx.Dialect() == Postgres {
		// The batched updates join a VALUES list of up to 500 keys to accounts and cases: an
		// index probe per key, never a hash join over the whole table (which, under
		// SERIALIZABLE, also takes a predicate lock on every row it reads).
		if _, err := tx.Exec(ctx, `SET LOCAL enable_hashjoin = off`); err != nil {
			return nil, err
		}
		if _, err := tx.Exec(ctx, `SET LOCAL enable_mergejoin = off`); err != nil {
			return nil, err
		}
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM payments`).Scan(&p.nextPay); err != nil {
		return nil, err
	}
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM payment_allocations`).Scan(&p.nextAlloc); err != nil {
		return nil, err
	}
	return p, nil
}

// inChunks runs q (whose IN list is written as "IN (%s)") over the values: on PostgreSQL once,
// with the values as one array parameter (= ANY), on SQLite in chunks of 500.
func (p *payTx) inChunks(q string, vals []any, each func(*sql.Rows) error) error {
	return p.w.inChunks(q, vals, each)
}

// chunker runs IN-list queries on one transaction: the writer's, or (SQLite) a read
// transaction on a reader connection that sees what the writer's sees (see payTx.sideReads).
type chunker struct {
	p     *payTx
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // prepared full-chunk queries (closed with the transaction)
}

func (c *chunker) inChunks(q string, vals []any, each func(*sql.Rows) error) error {
	p := c.p
	if len(vals) > 0 && p.tx.Dialect() == Postgres {
		if err := checkArgs(vals); err != nil {
			return err
		}
		arr, typ, err := pgArray(vals)
		if err != nil {
			return err
		}
		if !strings.Contains(q, " IN (%s)") {
			return fmt.Errorf("sqldb: inChunks: no IN list in %q", q)
		}
		rows, err := c.tx.QueryContext(p.ctx, p.d.rebind(strings.Replace(q, " IN (%s)", " = ANY(CAST(? AS "+typ+"[]))", 1)), arr)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := each(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	for start := 0; start < len(vals); start += 500 {
		part := vals[start:min(len(vals), start+500)]
		if err := checkArgs(part); err != nil {
			return err
		}
		text := p.d.rebind(fmt.Sprintf(q, strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")))
		// A full chunk's statement is prepared once per transaction and reused.
		var rows *sql.Rows
		var err error
		if len(part) == 500 {
			st := c.stmts[text]
			if st == nil {
				if st, err = c.tx.PrepareContext(p.ctx, text); err != nil {
					return err
				}
				c.stmts[text] = st
			}
			rows, err = st.QueryContext(p.ctx, part...)
		} else {
			rows, err = c.tx.QueryContext(p.ctx, text, part...)
		}
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := each(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// sideReads returns a chunker on a read transaction of a SQLite reader connection, begun
// after the writer's BEGIN IMMEDIATE: the writer holds the database's write lock until it
// commits, so the reader's snapshot is the last commit, exactly what the writer's transaction
// sees of the tables it has not yet written. Large statements load on it and on the writer at
// once (two cores). nil on PostgreSQL (another session's snapshot may differ) and for small
// batches (under 1,000). The caller ends it with endSide.
func (p *payTx) sideReads(lines int) *chunker {
	if p.side != nil || p.tx.Dialect() != SQLite || lines < 1000 || p.d.r == p.d.w {
		return p.side
	}
	tx, err := p.d.r.BeginTx(p.ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil // the writer does the reading alone
	}
	p.side = &chunker{p: p, tx: tx, stmts: map[string]*sql.Stmt{}}
	return p.side
}

// endSide ends the side read transaction, if any.
func (p *payTx) endSide() {
	if p.side != nil {
		p.side.tx.Rollback()
		p.side = nil
	}
}

// pgArray turns values that are all int64 or all strings into a typed slice for a PostgreSQL
// array parameter, with its element type.
func pgArray(vals []any) (any, string, error) {
	switch vals[0].(type) {
	case int64:
		out := make([]int64, len(vals))
		for i, v := range vals {
			n, ok := v.(int64)
			if !ok {
				return nil, "", fmt.Errorf("sqldb: mixed key types %T and %T", vals[0], v)
			}
			out[i] = n
		}
		return out, "BIGINT", nil
	case string:
		out := make([]string, len(vals))
		for i, v := range vals {
			s, ok := v.(string)
			if !ok {
				return nil, "", fmt.Errorf("sqldb: mixed key types %T and %T", vals[0], v)
			}
			out[i] = s
		}
		return out, "TEXT", nil
	}
	return nil, "", fmt.Errorf("sqldb: unsupported key type %T", vals[0])
}

var caseRefRE = regexp.MustCompile(`^C([1-9][0-9]{0,17})$`)

// prepare loads the payments already stored under the lines' transaction ids (and the credits
// the reversal lines name) and the reference index of every token in the lines' references.
func (p *payTx) prepare(lines []workout.StatementLine) error {
	var keys []any
	seen := map[string]bool{}
	for _, l := range lines {
		for _, k := range []string{textnorm.TxnKey(l.TxnID), textnorm.TxnKey(l.Reverses)} {
			if k != "" && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	exist := func(c *chunker) error {
		return c.inChunks(`SELECT txn_key, id, amount_minor, currency, status, COALESCE(case_id, 0) FROM payments WHERE txn_key IN (%s)`, keys, func(r *sql.Rows) error {
			var k string
			o := &oldPayment{}
			if err := r.Scan(&k, &o.id, &o.amount, &o.currency, &o.status, &o.caseID); err != nil {
				return err
			}
			p.existing[k] = o
			return nil
		})
	}
	// The transaction ids are looked up on a reader while the writer looks up the references.
	var wg sync.WaitGroup
	var existErr error
	if side := p.sideReads(len(lines)); side != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			existErr = exist(side)
		}()
	} else if err := exist(p.w); err != nil {
		return err
	}
	refErr := p.loadRefs(lines)
	wg.Wait()
	if existErr != nil {
		return existErr
	}
	// A transaction posted before is refused: the file (or request) changes nothing.
	var dup workout.StatementErrors
	for _, l := range lines {
		if o, ok := p.existing[textnorm.TxnKey(l.TxnID)]; ok && len(dup) < 100 {
			dup = append(dup, workout.StatementError{Line: l.Line, Field: "txn_id", Value: l.TxnID, Rule: "already_posted",
				Msg: fmt.Sprintf("transaction already posted as payment %d", o.id)})
		}
	}
	if len(dup) > 0 {
		e := dup.AsReclaimError()
		e.Code = reclaim.ECONFLICT
		return e
	}
	return refErr
}

// loadRefs loads the reference index of every token in the lines' references.
func (p *payTx) loadRefs(lines []workout.StatementLine) error {
	// References: case refs (C123) and the seller's loan ids, as written or in lower case.
	var caseIDs, loanRefs []any
	seenTok := map[string]bool{}
	for _, l := range lines {
		for _, tok := range workout.ReferenceTokens(l.Reference) {
			if seenTok[tok] {
				continue
			}
			seenTok[tok] = true
			if m := caseRefRE.FindStringSubmatch(tok); m != nil {
				if id, err := strconv.ParseInt(m[1], 10, 64); err == nil {
					caseIDs = append(caseIDs, id)
				}
			}
			loanRefs = append(loanRefs, tok)
		}
	}
	if err := p.inChunks(`SELECT id, status FROM cases WHERE id IN (%s)`, caseIDs, func(r *sql.Rows) error {
		var id int64
		var status string
		if err := r.Scan(&id, &status); err != nil {
			return err
		}
		p.refs.Add(workout.CaseRef(id), workout.RefTarget{Case: id, Closed: status == CaseClosed})
		return nil
	}); err != nil {
		return err
	}
	byRef := func(refs []any) error {
		return p.inChunks(`SELECT a.loan_id, a.loan_ref, a.case_id, c.status FROM accounts a JOIN cases c ON c.id = a.case_id WHERE a.loan_ref IN (%s)`,
			refs, func(r *sql.Rows) error {
				var id, caseID int64
				var ref, status string
				if err := r.Scan(&id, &ref, &caseID, &status); err != nil {
					return err
				}
				p.refs.Add(ref, workout.RefTarget{Case: caseID, Loan: strconv.FormatInt(id, 10), Closed: status == CaseClosed})
				return nil
			})
	}
	if err := byRef(loanRefs); err != nil {
		return err
	}
	// Tokens are upper case; a loan id the seller wrote in lower case is looked up as such.
	var lower []any
	for _, t := range loanRefs {
		tok := t.(string)
		if _, found := p.refs[tok]; !found {
			if low := strings.ToLower(tok); low != tok {
				lower = append(lower, low)
			}
		}
	}
	return byRef(lower)
}

// refDecides reports whether the line's reference alone names exactly one case (then the
// candidates cannot change the outcome and are not looked up).
func (p *payTx) refDecides(l workout.StatementLine) bool {
	var c int64
	for _, tok := range workout.ReferenceTokens(l.Reference) {
		to, ok := p.refs[tok]
		switch {
		case !ok:
		case to.Case == 0:
		case c == 0:
			c = to.Case
		case c != to.Case:
			return false
		}
	}
	return c != 0
}

// candidates finds a line's debtors by blind index (the payer's ID number and phone) and by
// masked name and amount (the amount is a loan's balance, the case's balance or a promised
// amount recorded on the case).
func (p *payTx) candidates(l workout.StatementLine) []workout.Candidate {
	if p.err != nil || p.refDecides(l) {
		return nil
	}
	var out []workout.Candidate
	add := func(q string, m workout.MatchMethod, args ...any) {
		rows, err := p.tx.Query(p.ctx, q, args...)
		if err != nil {
			p.err = err
			return
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var status string
			if err := rows.Scan(&id, &status); err != nil {
				p.err = err
				return
			}
			out = append(out, workout.Candidate{Case: id, Method: m, Closed: status == CaseClosed})
		}
		if err := rows.Err(); err != nil {
			p.err = err
		}
	}
	if p.opt.Blind != nil {
		for _, h := range p.opt.Blind(l) {
			if len(h) > 0 {
				add(`SELECT k.case_id, c.status FROM case_keys k JOIN cases c ON c.id = k.case_id WHERE k.hash = ?`, workout.MatchBlindIndex, h)
			}
		}
	}
	if l.PayerName != "" && l.Amount.Sign() > 0 {
		// First the boarded borrowers with the masked name (one index probe of borrower_names,
		// which boarding fills; remembered for the transaction: most unmatched names have no
		// borrower at all), then their cases whose expected amounts fit.
		masked := ingest.MaskPersonal(reclaim.PersonalData{Name: l.PayerName}).Name
		ids, ok := p.byName[masked]
		if !ok {
			rows, err := p.tx.Query(p.ctx, `SELECT borrower_id FROM borrower_names WHERE masked_name = ? LIMIT ?`, masked, maxNameCandidates+1)
			if err != nil {
				p.err = err
				return nil
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					p.err = err
					return nil
				}
				ids = append(ids, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				p.err = err
				return nil
			}
			if len(ids) > maxNameCandidates {
				// A masked name this common (张* is shared by a large share of any book) says
				// nothing about who paid: the line waits in the queue rather than risk a wrong case.
				ids = nil
			}
			p.byName[masked] = ids
		}
		amt := l.Amount.Minor()
		for start := 0; start < len(ids); start += 500 {
			part := ids[start:min(len(ids), start+500)]
			args := make([]any, 0, len(part)+4)
			for _, id := range part {
				args = append(args, id)
			}
			args = append(args, string(l.Currency), amt, amt, amt)
			add(`SELECT DISTINCT a.case_id, c.status FROM accounts a JOIN cases c ON c.id = a.case_id
				WHERE a.borrower_id IN (`+strings.TrimSuffix(strings.Repeat("?,", len(part)), ",")+`) AND c.currency = ?
				AND (a.principal_minor + a.interest_minor + a.fees_minor = ?
				OR (SELECT SUM(x.principal_minor + x.interest_minor + x.fees_minor) FROM accounts x WHERE x.case_id = a.case_id) = ?
				OR EXISTS (SELECT 1 FROM case_actions ca WHERE ca.case_id = a.case_id AND ca.amount_minor = ?))`,
				workout.MatchNameAmount, args...)
		}
	}
	return out
}

// maxNameCandidates bounds the boarded borrowers a masked payer name may point at for a
// name-and-amount match: a name shared by more borrowers matches none of them.
const maxNameCandidates = 10000

// loadCase reads a case and its active accounts (balances, default dates, limitation expiry)
// into the cache (ENOTFOUND for an unknown case).
func (p *payTx) loadCase(id int64) (*payCase, error) {
	if c, ok := p.cases[id]; ok {
		return c, nil
	}
	if err := p.loadCases([]int64{id}); err != nil {
		return nil, err
	}
	c, ok := p.cases[id]
	if !ok {
		e := reclaim.Errorf(reclaim.ENOTFOUND, "case %d not found", id)
		e.Fields = map[string]string{"case_id": strconv.FormatInt(id, 10)}
		return nil, e
	}
	return c, nil
}

// loadCases reads the cases not yet cached, 500 to a query (unknown ids are left out).
func (p *payTx) loadCases(ids []int64) error {
	var want []any
	seen := map[int64]bool{}
	for _, id := range ids {
		if _, ok := p.cases[id]; !ok && id > 0 && !seen[id] {
			seen[id] = true
			want = append(want, id)
		}
	}
	if side := p.sideReads(len(want)); side != nil {
		// Half the cases on a reader, half on the writer, at once; each half a range of ids.
		slices.SortFunc(want, func(a, b any) int { return cmp.Compare(a.(int64), b.(int64)) })
		half := len(want) / 2
		other := map[int64]*payCase{}
		var wg sync.WaitGroup
		var sideErr error
		wg.Add(1)
		go func() {
			defer wg.Done()
			sideErr = loadCasesInto(side, want[half:], other)
		}()
		err := loadCasesInto(p.w, want[:half], p.cases)
		wg.Wait()
		if err != nil {
			return err
		}
		if sideErr != nil {
			return sideErr
		}
		maps.Copy(p.cases, other)
		return nil
	}
	return loadCasesInto(p.w, want, p.cases)
}

// loadCasesInto reads the cases want (ids), their active accounts and, for cases of several
// loans, the loans' default dates, through q into into.
func loadCasesInto(q *chunker, want []any, into map[int64]*payCase) error {
	if err := q.inChunks(`SELECT id, status, currency, limitation_expiry FROM cases WHERE id IN (%s)`, want, func(r *sql.Rows) error {
		c := &payCase{info: map[string]*acctInfo{}}
		var cur string
		if err := r.Scan(&c.id, &c.status, &cur, dateScan{&c.expiry}); err != nil {
			return err
		}
		c.currency = money.Currency(cur)
		into[c.id] = c
		return nil
	}); err != nil {
		return err
	}
	var loaded []*payCase
	if err := q.inChunks(`SELECT a.case_id, a.loan_id, a.portfolio_id, a.loan_ref, a.principal_minor, a.interest_minor, a.fees_minor, a.limitation_expiry
		FROM accounts a WHERE a.status = '`+AccountActive+`' AND a.case_id IN (%s) ORDER BY a.case_id, a.loan_id`, want, func(r *sql.Rows) error {
		var caseID int64
		ai := &acctInfo{}
		var pr, in, fe int64
		if err := r.Scan(&caseID, &ai.loanID, &ai.portfolioID, &ai.loanRef, &pr, &in, &fe, dateScan{&ai.expiry}); err != nil {
			return err
		}
		c := into[caseID]
		if c == nil {
			return nil
		}
		if len(c.loans) == 0 {
			loaded = append(loaded, c)
		}
		k := strconv.FormatInt(ai.loanID, 10)
		c.loans = append(c.loans, workout.LoanBalance{Loan: k, Principal: money.New(pr, c.currency),
			Interest: money.New(in, c.currency), Fees: money.New(fe, c.currency)})
		c.info[k] = ai
		return nil
	}); err != nil {
		return err
	}
	// Default dates order a case's loans (oldest default first): read only for cases of more
	// than one loan.
	var multi []any
	where := map[int64]*workout.LoanBalance{}
	for _, c := range loaded {
		if len(c.loans) < 2 {
			continue
		}
		for i := range c.loans {
			ai := c.info[c.loans[i].Loan]
			multi = append(multi, ai.loanID)
			where[ai.loanID] = &c.loans[i]
		}
	}
	return q.inChunks(`SELECT id, default_date FROM loans WHERE id IN (%s)`, multi, func(r *sql.Rows) error {
		var id int64
		var def date.Date
		if err := r.Scan(&id, dateScan{&def}); err != nil {
			return err
		}
		if lb := where[id]; lb != nil {
			lb.DefaultDate = def
		}
		return nil
	})
}

// poolOf finds the pool a servicing account's loan is in (a pool opened from its portfolio, or a
// live deal's pool that selected it, that still holds the loan; poolOfLoan), or "".
func (p *payTx) poolOf(ai *acctInfo) error {
	if ai.poolLoaded {
		return nil
	}
	ai.poolLoaded = true
	has, ok := p.pooled[ai.portfolioID]
	if !ok {
		var n int64
		if err := p.tx.QueryRow(p.ctx, `SELECT CASE WHEN EXISTS (SELECT 1 FROM ledger_pools WHERE portfolio_id = ?)
			OR EXISTS (SELECT 1 FROM deal_members WHERE portfolio_id = ?) THEN 1 ELSE 0 END`, ai.portfolioID, ai.portfolioID).Scan(&n); err != nil {
			return err
		}
		has = n > 0
		p.pooled[ai.portfolioID] = has
	}
	if !has {
		return nil
	}
	pool, ref, err := poolOfLoan(p.ctx, p.tx, ai.portfolioID, ai.loanRef)
	if err != nil {
		return err
	}
	ai.pool, ai.poolLoan = pool, ref
	return nil
}

// run decides and applies the lines in order. force, when set, is the decision of the one line.
func (p *payTx) run(lines []workout.StatementLine, force *workout.MatchResult) error {
	defer p.endSide()
	if err := p.prepare(lines); err != nil {
		return err
	}
	var results []workout.MatchResult
	if force != nil {
		results = []workout.MatchResult{*force}
	} else {
		results = workout.MatchStatement(lines, workout.MatchInput{Refs: p.refs, Candidates: p.candidates,
			Posted: func(k string) bool {
				o := p.existing[k]
				return o != nil && o.amount > 0 && (o.status == PaymentApplied || o.status == PaymentQueued)
			}})
		if p.err != nil {
			return p.err
		}
	}
	var ids []int64
	for _, r := range results {
		if r.Outcome == workout.LineMatched {
			ids = append(ids, r.Case)
		}
	}
	if err := p.loadCases(ids); err != nil {
		return err
	}
	for i, l := range lines {
		r := results[i]
		row := p.newRow(l)
		switch r.Outcome {
		case workout.LineMatched:
			if err := p.apply(row, l, r.Case, r.Loans, r.Method); err != nil {
				return lineErr(l, err)
			}
		case workout.LineReversal:
			if err := p.reverseLine(row, l); err != nil {
				return lineErr(l, err)
			}
		default:
			p.queue(row, r.Reason, r.Detail, r.Case)
		}
	}
	return nil
}

// lineErr names the statement line in an error that stops the import.
func lineErr(l workout.StatementLine, err error) error {
	if l.Line == 0 {
		return err
	}
	if re, ok := err.(*reclaim.Error); ok {
		c := *re
		c.Message = fmt.Sprintf("line %d: %s; nothing was imported", l.Line, re.Message)
		c.Fields = map[string]string{"line": strconv.Itoa(l.Line), "field": "txn_id", "value": l.TxnID}
		for k, v := range re.Fields {
			if k != "line" {
				c.Fields[k] = v
			}
		}
		return &c
	}
	return err
}

func (p *payTx) newRow(l workout.StatementLine) *payRow {
	r := &payRow{key: textnorm.TxnKey(l.TxnID), p: Payment{ID: p.nextPay, TxnID: l.TxnID, ImportID: p.importID, Line: l.Line, Source: p.source,
		ValueDate: l.Date, Amount: l.Amount, Reference: l.Reference, Actor: p.opt.Actor, CreatedAt: p.now,
		Credit: money.Zero(l.Currency)}}
	if l.PayerName != "" {
		r.p.PayerMasked = ingest.MaskPersonal(reclaim.PersonalData{Name: l.PayerName}).Name
	}
	if p.firstID == 0 {
		p.firstID = r.p.ID
	}
	p.nextPay++
	p.pays = append(p.pays, r)
	p.here[r.key] = r
	return r
}

func (p *payTx) queue(row *payRow, why workout.QueueReason, detail string, caseID int64) {
	row.p.Status, row.p.QueueReason, row.p.QueueDetail, row.p.CaseID = PaymentQueued, string(why), detail, caseID
	row.p.Method, row.p.Credit = "", money.Zero(row.p.Amount.Currency())
	p.queued++
}

// apply allocates a matched credit to the case's loans and records the movements, the pool
// ledger entries and the part-payment; a closed case or another currency queues it instead.
func (p *payTx) apply(row *payRow, l workout.StatementLine, caseID int64, prefer []string, m workout.MatchMethod) error {
	c, err := p.loadCase(caseID)
	if err != nil {
		return err
	}
	switch {
	case c.status == CaseClosed:
		p.queue(row, workout.QueueCaseClosed, "the case is closed: the payment is not applied", caseID)
		return nil
	case c.currency != l.Amount.Currency():
		p.queue(row, workout.QueueCurrency, fmt.Sprintf("the payment is in %s, the case in %s", l.Amount.Currency(), c.currency), 0)
		return nil
	}
	alloc, err := workout.Allocate(l.Amount, c.loans, prefer, p.pol)
	if err != nil {
		return err
	}
	if c.loans, err = workout.ApplyMovements(c.loans, alloc.Movements); err != nil {
		return err
	}
	row.p.Status, row.p.CaseID, row.p.Method, row.p.Credit = PaymentApplied, caseID, string(m), alloc.Credit
	row.p.QueueReason, row.p.QueueDetail = "", ""
	for _, mv := range alloc.Movements {
		ai := c.info[mv.Loan]
		ai.touched = true
		a := PaymentAllocation{Kind: AllocPayment, LoanID: ai.loanID, CaseID: caseID, Principal: mv.Principal, Interest: mv.Interest, Fees: mv.Fees}
		if err := p.poolOf(ai); err != nil {
			return err
		}
		if ai.pool != "" {
			if a.Pool, a.PoolLoan, a.PoolEvent, err = p.poolCollection(ai, mv, l); err != nil {
				return err
			}
		}
		row.allocs = append(row.allocs, len(p.allocs))
		p.allocs = append(p.allocs, allocRow{paymentID: row.p.ID, a: a})
		p.moves = append(p.moves, moveRow{loanID: ai.loanID, caseID: caseID, typ: MovePayment, p: -mv.Principal.Minor(), i: -mv.Interest.Minor(),
			f: -mv.Fees.Minor(), cur: string(c.currency), eff: l.Date, ref: l.TxnID})
		p.lims = append(p.lims, limRow{caseID: caseID, loanID: ai.loanID, paymentID: row.p.ID, on: l.Date})
		// A part-payment on D interrupts the period: workout.LimitationExpiry only grows, to
		// at least D + 3 years, so the stored expiry moves without re-reading every event.
		if e := l.Date.AddYears(3); e.After(ai.expiry) {
			ai.expiry = e
		}
	}
	p.matched++
	p.applied += l.Amount.Minor()
	return nil
}

// checkDealDate refuses a pool movement dated in a live deal's reported collection window
// (checkDealDate in deals.go), reading the pool's last window once a transaction.
func (p *payTx) checkDealDate(pool string, eff date.Date) error {
	end, ok := p.dealEnd[pool]
	if !ok {
		var err error
		if end, err = lastDealWindowEnd(p.ctx, p.tx, pool); err != nil {
			return err
		}
		p.dealEnd[pool] = end
	}
	return dealDateOpen(end, eff)
}

// poolCollection writes a loan.collection for the part of a payment that pays a pool loan.
func (p *payTx) poolCollection(ai *acctInfo, mv workout.LoanMovement, l workout.StatementLine) (string, string, string, error) {
	if mv.Principal.Currency() != money.CNY {
		return "", "", "", reclaim.Errorf(reclaim.EUNSUPPORTED, "pool loans are CNY")
	}
	pl, err := lockPoolLoan(p.ctx, p.tx, ai.pool, ai.poolLoan)
	if err != nil {
		return "", "", "", err
	}
	if err := checkOpenPeriod(p.ctx, p.tx, ai.pool, l.Date); err != nil {
		return "", "", "", err
	}
	if err := p.checkDealDate(ai.pool, l.Date); err != nil {
		return "", "", "", err
	}
	amt := mv.Total()
	if amt > pl.Balance.Minor() {
		return "", "", "", reclaim.Errorf(reclaim.EINVALID, "the payment of %s on loan %s exceeds its balance %s in pool %s",
			money.New(amt, money.CNY), ai.loanRef, pl.Balance, ai.pool)
	}
	eventID := newID("col-", 8)
	salt := newSalt()
	entry, err := verify.LoanCollection{Header: hdr(ai.pool, eventID, l.Date), Loan: pl.Ref, Amount: verify.Amount(amt),
		Principal: verify.Amount(mv.Principal.Minor()), Interest: verify.Amount(mv.Interest.Minor()), Fees: verify.Amount(mv.Fees.Minor()),
		Channel: verify.ChannelBankTransfer, BankTxn: verify.Commit(salt, verify.TagBankTxn, verify.BankTxnRecord(l.TxnID))}.Encode()
	if err != nil {
		return "", "", "", entryErr(err)
	}
	// pool_collections keeps one row per bank transaction and pool; a transaction that pays a
	// second loan of the same pool is stored as "<txn>#<loan ref>" (the entry still commits
	// to the bank's id).
	txn := l.TxnID
	if p.poolTxns[ai.pool+"|"+textnorm.TxnKey(txn)] {
		txn = l.TxnID + "#" + pl.Ref
	}
	p.poolTxns[ai.pool+"|"+textnorm.TxnKey(txn)] = true
	if _, err := p.tx.Exec(p.ctx, `INSERT INTO pool_collections (pool, event_id, loan_ref, amount_minor, channel, txn_id, txn_key, effective, posted_by, posted_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ai.pool, eventID, pl.Ref, amt, verify.ChannelBankTransfer, txn, textnorm.TxnKey(txn), dateArg(l.Date),
		p.opt.Actor, p.d.instant(p.now)); err != nil {
		if isUniqueViolation(err) {
			return "", "", "", reclaim.Errorf(reclaim.ECONFLICT, "bank transaction %q is already posted to pool %q", l.TxnID, ai.pool)
		}
		return "", "", "", err
	}
	if _, err := p.tx.Exec(p.ctx, `UPDATE pool_loans SET fees_minor = fees_minor - ?, interest_minor = interest_minor - ?,
		principal_minor = principal_minor - ?, balance_minor = balance_minor - ? WHERE pool = ? AND loan_ref = ?`,
		mv.Fees.Minor(), mv.Interest.Minor(), mv.Principal.Minor(), amt, ai.pool, pl.Ref); err != nil {
		return "", "", "", err
	}
	if _, err := p.tx.Exec(p.ctx, `INSERT INTO ledger_salts (pool, event_id, tag, loan_ref, salt) VALUES (?, ?, ?, ?, ?)`,
		ai.pool, eventID, verify.TagBankTxn, pl.Ref, salt); err != nil {
		return "", "", "", err
	}
	return ai.pool, pl.Ref, eventID, p.tx.Enqueue(p.ctx, ai.pool, eventID, entry)
}

// reverseLine undoes the credit a reversal line names (of this transaction or stored before).
func (p *payTx) reverseLine(row *payRow, l workout.StatementLine) error {
	k := textnorm.TxnKey(l.Reverses)
	row.p.Status = PaymentReversal
	if o, ok := p.here[k]; ok && o != row {
		if -l.Amount.Minor() != o.p.Amount.Minor() || l.Amount.Currency() != o.p.Amount.Currency() {
			p.queue(row, workout.QueueReversalAmount, fmt.Sprintf("the reversal is %s, the credit %s", l.Amount, o.p.Amount), 0)
			return nil
		}
		row.p.ReversesID, row.p.CaseID = o.p.ID, o.p.CaseID
		wasApplied := o.p.Status == PaymentApplied
		o.p.Status, o.p.ReversedBy = PaymentReversed, row.p.ID
		p.reversals++
		if !wasApplied {
			p.queued-- // it left the queue
			return nil
		}
		p.matched--
		p.applied -= o.p.Amount.Minor()
		var orig []PaymentAllocation
		for _, i := range o.allocs {
			orig = append(orig, p.allocs[i].a)
		}
		p.undone[o.p.ID] = true // its part-payments are not written
		return p.undo(row, orig, l, o.p.Reference)
	}
	o, ok := p.existing[k]
	if !ok || o.amount <= 0 || (o.status != PaymentApplied && o.status != PaymentQueued) {
		p.queue(row, workout.QueueUnknownOriginal, "no posted credit has the transaction id "+l.Reverses, 0)
		return nil
	}
	if -l.Amount.Minor() != o.amount || string(l.Amount.Currency()) != o.currency {
		p.queue(row, workout.QueueReversalAmount, fmt.Sprintf("the reversal is %s, the credit %s", l.Amount, money.New(o.amount, money.Currency(o.currency))), 0)
		return nil
	}
	row.p.ReversesID, row.p.CaseID = o.id, o.caseID
	p.statusUps = append(p.statusUps, statusUp{id: o.id, reversedBy: row.p.ID})
	p.reversals++
	wasApplied := o.status == PaymentApplied
	o.status = PaymentReversed
	if !wasApplied {
		return nil
	}
	orig, err := p.allocationsOf(o.id)
	if err != nil {
		return err
	}
	p.dropLims = append(p.dropLims, o.id)
	return p.undo(row, orig, l, "")
}

func (p *payTx) allocationsOf(paymentID int64) ([]PaymentAllocation, error) {
	rows, err := p.tx.Query(p.ctx, `SELECT loan_id, case_id, principal_minor, interest_minor, fees_minor, COALESCE(pool, ''), COALESCE(pool_loan, ''),
		COALESCE(pool_event, '') FROM payment_allocations WHERE payment_id = ? AND kind = ? ORDER BY id`, paymentID, AllocPayment)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PaymentAllocation
	for rows.Next() {
		a := PaymentAllocation{Kind: AllocPayment}
		var pr, in, fe int64
		if err := rows.Scan(&a.LoanID, &a.CaseID, &pr, &in, &fe, &a.Pool, &a.PoolLoan, &a.PoolEvent); err != nil {
			return nil, err
		}
		a.Principal, a.Interest, a.Fees = money.New(pr, ""), money.New(in, ""), money.New(fe, "")
		out = append(out, a)
	}
	return out, rows.Err()
}

// undo applies the exact inverse of a payment's allocations (workout's Reversal of them).
func (p *payTx) undo(row *payRow, orig []PaymentAllocation, l workout.StatementLine, _ string) error {
	for _, a := range orig {
		c, err := p.loadCase(a.CaseID)
		if err != nil {
			return err
		}
		k := strconv.FormatInt(a.LoanID, 10)
		ai, ok := c.info[k]
		if !ok {
			return reclaim.Errorf(reclaim.ECONFLICT, "loan %d of the reversed payment is no longer an active account of case %d", a.LoanID, a.CaseID)
		}
		cur := c.currency
		mv := workout.LoanMovement{Loan: k, Principal: money.New(a.Principal.Minor(), cur), Interest: money.New(a.Interest.Minor(), cur), Fees: money.New(a.Fees.Minor(), cur)}
		rev := workout.Allocation{Movements: []workout.LoanMovement{mv}}.Reversal()
		if c.loans, err = workout.ApplyMovements(c.loans, rev); err != nil {
			return err
		}
		ai.touched = true
		c.relimit = true
		r := PaymentAllocation{Kind: AllocReversal, LoanID: a.LoanID, CaseID: a.CaseID, Principal: rev[0].Principal, Interest: rev[0].Interest, Fees: rev[0].Fees}
		if a.Pool != "" {
			ev, err := p.poolReversal(a, l)
			if err != nil {
				return err
			}
			r.Pool, r.PoolLoan, r.PoolEvent = a.Pool, a.PoolLoan, ev
		}
		p.allocs = append(p.allocs, allocRow{paymentID: row.p.ID, a: r})
		p.moves = append(p.moves, moveRow{loanID: a.LoanID, caseID: a.CaseID, typ: MoveReversal, p: a.Principal.Minor(), i: a.Interest.Minor(),
			f: a.Fees.Minor(), cur: string(cur), eff: l.Date, ref: l.TxnID})
	}
	return nil
}

// poolReversal writes the loan.collection_reversal of a pool collection.
func (p *payTx) poolReversal(a PaymentAllocation, l workout.StatementLine) (string, error) {
	pl, err := lockPoolLoan(p.ctx, p.tx, a.Pool, a.PoolLoan)
	if err != nil {
		return "", err
	}
	if slices.Contains([]string{verify.RemovalRemoved, verify.RemovalRepurchased, verify.RemovalSold}, pl.Status) {
		return "", reclaim.Errorf(reclaim.ECONFLICT, "loan %s has left pool %s (%s): its collection cannot be reversed on the ledger", pl.Ref, a.Pool, pl.Status)
	}
	if err := checkOpenPeriod(p.ctx, p.tx, a.Pool, l.Date); err != nil {
		return "", err
	}
	if err := p.checkDealDate(a.Pool, l.Date); err != nil {
		return "", err
	}
	eventID := newID("colrev-", 8)
	amt := a.Principal.Minor() + a.Interest.Minor() + a.Fees.Minor()
	entry, err := verify.LoanCollectionReversal{Header: hdr(a.Pool, eventID, l.Date), Loan: pl.Ref, Amount: verify.Amount(amt),
		Principal: verify.Amount(a.Principal.Minor()), Interest: verify.Amount(a.Interest.Minor()), Fees: verify.Amount(a.Fees.Minor()),
		Reverses: a.PoolEvent, Reason: "bounced"}.Encode()
	if err != nil {
		return "", entryErr(err)
	}
	if _, err := p.tx.Exec(p.ctx, `UPDATE pool_loans SET fees_minor = fees_minor + ?, interest_minor = interest_minor + ?,
		principal_minor = principal_minor + ?, balance_minor = balance_minor + ? WHERE pool = ? AND loan_ref = ?`,
		a.Fees.Minor(), a.Interest.Minor(), a.Principal.Minor(), amt, a.Pool, pl.Ref); err != nil {
		return "", err
	}
	return eventID, p.tx.Enqueue(p.ctx, a.Pool, eventID, entry)
}

// flush writes what the transaction decided: payments, allocations, movements, balances,
// part-payments (and the limitation they move), status changes of earlier payments.
func (p *payTx) flush() error {
	ctx, tx, d := p.ctx, p.tx, p.d
	var ins []*payRow
	for _, r := range p.pays {
		if !r.existing {
			ins = append(ins, r)
		}
	}
	if err := tx.bulkInsert(ctx, "payments", paymentInsertCols, len(ins), func(i int, a []any) []any {
		r := ins[i].p
		return append(a, r.ID, r.TxnID, ins[i].key, nullID(r.ImportID), nullID(int64(r.Line)), r.Source, tx.dateValue(r.ValueDate), r.Amount.Minor(),
			string(r.Amount.Currency()), r.Reference, r.PayerMasked, r.Status, nullID(r.CaseID), r.Method, r.QueueReason, r.QueueDetail,
			r.Credit.Minor(), nullID(r.ReversesID), nullID(r.ReversedBy), r.Reason, r.Actor, d.instant(r.CreatedAt))
	}); err != nil {
		return err
	}
	for _, r := range p.pays {
		if r.existing {
			if _, err := tx.Exec(ctx, `UPDATE payments SET status = ?, case_id = ?, method = ?, queue_reason = ?, queue_detail = ?, credit_minor = ?,
				matched_by = ?, matched_at = ? WHERE id = ?`, r.p.Status, nullID(r.p.CaseID), r.p.Method, r.p.QueueReason, r.p.QueueDetail,
				r.p.Credit.Minor(), p.opt.Actor, d.instant(p.now), r.p.ID); err != nil {
				return err
			}
		}
	}
	for _, s := range p.statusUps {
		if _, err := tx.Exec(ctx, `UPDATE payments SET status = ?, reversed_by = ? WHERE id = ?`, PaymentReversed, s.reversedBy, s.id); err != nil {
			return err
		}
	}
	base := p.nextAlloc
	if err := tx.bulkInsert(ctx, "payment_allocations", allocInsertCols, len(p.allocs), func(i int, a []any) []any {
		x := p.allocs[i]
		return append(a, base+int64(i), x.paymentID, x.a.Kind, x.a.LoanID, x.a.CaseID, x.a.Principal.Minor(), x.a.Interest.Minor(), x.a.Fees.Minor(),
			textArg(x.a.Pool), textArg(x.a.PoolLoan), textArg(x.a.PoolEvent))
	}); err != nil {
		return err
	}
	now := d.instant(p.now)
	// Movements and part-payments go in case order (stable: a case's own rows keep the order
	// they were decided in), so that their case and loan indexes (cases and loans are numbered
	// together at boarding) grow at a few places instead of at random ones: on SQLite a random
	// index insert costs about four times a sequential one at this volume.
	slices.SortStableFunc(p.moves, func(a, b moveRow) int { return cmp.Compare(a.caseID, b.caseID) })
	if err := tx.bulkInsert(ctx, "account_movements", moveInsertCols, len(p.moves), func(i int, a []any) []any {
		m := p.moves[i]
		return append(a, m.loanID, m.caseID, m.typ, m.p+m.i+m.f, m.p, m.i, m.f, m.cur, tx.dateValue(m.eff), m.ref, p.opt.Actor, now)
	}); err != nil {
		return err
	}
	// Balances (and limitation expiries) of the accounts touched, then their cases.
	var accts, cases []any
	var relimit []int64
	ids := make([]int64, 0, len(p.cases))
	for id := range p.cases {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		c := p.cases[id]
		touched := false
		var caseExp date.Date
		for _, l := range c.loans {
			ai := c.info[l.Loan]
			if !ai.expiry.IsZero() && (caseExp.IsZero() || ai.expiry.Before(caseExp)) {
				caseExp = ai.expiry
			}
			if !ai.touched {
				continue
			}
			touched = true
			accts = append(accts, ai.loanID, l.Principal.Minor(), l.Interest.Minor(), l.Fees.Minor(), dateArg(ai.expiry))
		}
		if !touched {
			continue
		}
		if c.relimit {
			relimit = append(relimit, id)
			continue
		}
		cases = append(cases, id, dateArg(caseExp))
	}
	if err := tx.bulkUpdate(ctx, "accounts", "loan_id", []string{"principal_minor", "interest_minor", "fees_minor", "limitation_expiry"},
		[]string{"BIGINT", "BIGINT", "BIGINT", "DATE"}, accts, nil); err != nil {
		return err
	}
	if err := tx.bulkUpdate(ctx, "cases", "id", []string{"limitation_expiry"}, []string{"DATE"}, cases, map[string]any{"updated_at": now}); err != nil {
		return err
	}
	// A part-payment interrupts the limitation period (workout.LimPartPayment); a reversed one
	// no longer does.
	for _, id := range p.dropLims {
		if _, err := tx.Exec(ctx, `DELETE FROM limitation_events WHERE kind = ? AND ref = ?`, string(workout.LimPartPayment), payRef(id)); err != nil {
			return err
		}
	}
	p.lims = slices.DeleteFunc(p.lims, func(r limRow) bool { return p.undone[r.paymentID] })
	slices.SortStableFunc(p.lims, func(a, b limRow) int { return cmp.Compare(a.caseID, b.caseID) })
	if err := tx.bulkInsert(ctx, "limitation_events", []string{"case_id", "loan_id", "kind", "on_date", "ref", "at"}, len(p.lims), func(i int, a []any) []any {
		l := p.lims[i]
		return append(a, l.caseID, l.loanID, string(workout.LimPartPayment), tx.dateValue(l.on), payRef(l.paymentID), now)
	}); err != nil {
		return err
	}
	// A case whose part-payment was taken back: its limitation is recomputed from its events.
	for _, id := range relimit {
		if err := tx.refreshCaseLimitation(ctx, id, p.now); err != nil {
			return err
		}
	}
	return nil
}

var (
	paymentInsertCols = strings.Fields(`id txn_id txn_key import_id line source value_date amount_minor currency reference
		payer_masked status case_id method queue_reason queue_detail credit_minor reverses_id reversed_by reason actor created_at`)
	allocInsertCols = strings.Fields(`id payment_id kind loan_id case_id principal_minor interest_minor fees_minor pool pool_loan pool_event`)
	moveInsertCols  = strings.Fields(`loan_id case_id type amount_minor principal_minor interest_minor fees_minor currency effective reference actor at`)
)

func payRef(id int64) string { return "payment:" + strconv.FormatInt(id, 10) }

const paymentCols = `id, txn_id, COALESCE(import_id, 0), COALESCE(line, 0), source, value_date, amount_minor, currency, reference, payer_masked, status,
	COALESCE(case_id, 0), method, queue_reason, queue_detail, credit_minor, COALESCE(reverses_id, 0), COALESCE(reversed_by, 0), reason, actor,
	created_at, COALESCE(matched_by, ''), matched_at`

func scanPayment(r rowScanner, p *Payment) error {
	var amt, credit int64
	var cur string
	err := r.Scan(&p.ID, &p.TxnID, &p.ImportID, &p.Line, &p.Source, dateScan{&p.ValueDate}, &amt, &cur, &p.Reference, &p.PayerMasked, &p.Status,
		&p.CaseID, &p.Method, &p.QueueReason, &p.QueueDetail, &credit, &p.ReversesID, &p.ReversedBy, &p.Reason, &p.Actor,
		instantScan{&p.CreatedAt}, &p.MatchedBy, instantScan{&p.MatchedAt})
	c := money.Currency(cur)
	p.Amount, p.Credit = money.New(amt, c), money.New(credit, c)
	return err
}

// GetPayment returns a payment with its allocations (ENOTFOUND when absent).
func (d *DB) GetPayment(ctx context.Context, id int64) (Payment, error) {
	var p Payment
	err := scanPayment(d.r.QueryRowContext(ctx, d.rebind(`SELECT `+paymentCols+` FROM payments WHERE id = ?`), id), &p)
	if err == sql.ErrNoRows {
		return p, reclaim.Errorf(reclaim.ENOTFOUND, "payment %d not found", id)
	}
	if err != nil {
		return p, dbError(err, "reading a payment")
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT a.kind, a.loan_id, a.case_id, a.principal_minor, a.interest_minor, a.fees_minor,
		COALESCE(a.pool, ''), COALESCE(a.pool_loan, ''), COALESCE(a.pool_event, ''), COALESCE(c.currency, '')
		FROM payment_allocations a LEFT JOIN cases c ON c.id = a.case_id WHERE a.payment_id = ? ORDER BY a.id`), id)
	if err != nil {
		return p, dbError(err, "reading a payment")
	}
	defer rows.Close()
	for rows.Next() {
		var a PaymentAllocation
		var pr, in, fe int64
		var cur string
		if err := rows.Scan(&a.Kind, &a.LoanID, &a.CaseID, &pr, &in, &fe, &a.Pool, &a.PoolLoan, &a.PoolEvent, &cur); err != nil {
			return p, dbError(err, "reading a payment")
		}
		c := money.Currency(cur)
		a.Principal, a.Interest, a.Fees = money.New(pr, c), money.New(in, c), money.New(fe, c)
		p.Allocations = append(p.Allocations, a)
	}
	return p, dbError(rows.Err(), "reading a payment")
}

// ListPayments lists payments in id order, or newest first with f.Newest (the unmatched queue is
// Status PaymentQueued), without their allocations.
func (d *DB) ListPayments(ctx context.Context, f PaymentFilter) ([]Payment, error) {
	var where []string
	var args []any
	for _, c := range []struct {
		cond string
		v    any
		on   bool
	}{{"status = ?", f.Status, f.Status != "" && f.Status != PaymentQueued}, {"queue_reason = ?", f.Reason, f.Reason != ""}, {"case_id = ?", f.CaseID, f.CaseID != 0},
		{"import_id = ?", f.ImportID, f.ImportID != 0}, {"id > ?", f.AfterID, f.AfterID > 0}, {"id < ?", f.BeforeID, f.BeforeID > 0}} {
		if c.on {
			where, args = append(where, c.cond), append(args, c.v)
		}
	}
	if f.Status == PaymentQueued {
		where = append(where, "status = '"+PaymentQueued+"'") // a literal, so the partial index payments_queue serves it
	}
	q := `SELECT ` + paymentCols + ` FROM payments`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	lim := f.Limit
	if lim <= 0 {
		lim = 100
	}
	order := " ORDER BY id"
	if f.Newest {
		order = " ORDER BY id DESC"
	}
	q += order + " LIMIT " + itoa(min(lim, 1000))
	rows, err := d.r.QueryContext(ctx, d.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "listing payments")
	}
	defer rows.Close()
	out := []Payment{}
	for rows.Next() {
		var p Payment
		if err := scanPayment(rows, &p); err != nil {
			return nil, dbError(err, "listing payments")
		}
		out = append(out, p)
	}
	return out, dbError(rows.Err(), "listing payments")
}

// MatchPayment matches a queued payment to a case by hand (method manual) and allocates it:
// ECONFLICT when the payment is not queued or the case is closed, ENOTFOUND for an unknown
// payment or case, EINVALID for another currency. loans (loan ids of the case) are paid first.
func (d *DB) MatchPayment(ctx context.Context, id, caseID int64, loans []int64, opt PaymentOptions) (Payment, error) {
	pol, err := opt.policy()
	if err != nil {
		return Payment{}, err
	}
	err = d.writeTxConn(ctx, func(tx *Tx) error {
		var cur Payment
		if err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = ?`, id), &cur); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "payment %d not found", id)
		} else if err != nil {
			return err
		}
		if cur.Status != PaymentQueued || cur.Amount.Sign() <= 0 {
			return reclaim.Errorf(reclaim.ECONFLICT, "payment %d is %s, not a queued credit", id, cur.Status)
		}
		p, err := d.newPayTx(ctx, tx, opt, pol)
		if err != nil {
			return err
		}
		c, err := p.loadCase(caseID)
		if err != nil {
			return err
		}
		if c.status == CaseClosed {
			e := reclaim.Errorf(reclaim.ECONFLICT, "case %d is closed: a payment is not applied to a closed case", caseID)
			e.Fields = map[string]string{"rule": "case_closed"}
			return e
		}
		if c.currency != cur.Amount.Currency() {
			return reclaim.Errorf(reclaim.EINVALID, "payment %d is in %s, case %d in %s", id, cur.Amount.Currency(), caseID, c.currency)
		}
		var prefer []string
		for _, l := range loans {
			k := strconv.FormatInt(l, 10)
			if _, ok := c.info[k]; !ok {
				return reclaim.Errorf(reclaim.EINVALID, "loan %d is not an active account of case %d", l, caseID)
			}
			prefer = append(prefer, k)
		}
		row := &payRow{p: cur, key: textnorm.TxnKey(cur.TxnID), existing: true}
		p.pays = append(p.pays, row)
		l := workout.StatementLine{TxnID: cur.TxnID, Date: cur.ValueDate, Amount: cur.Amount, Reference: cur.Reference, Currency: cur.Amount.Currency()}
		if err := p.apply(row, l, caseID, prefer, workout.MatchManual); err != nil {
			return err
		}
		return p.flush()
	})
	if err != nil {
		return Payment{}, dbError(err, "matching a payment")
	}
	return d.GetPayment(ctx, id)
}

// ReversePayment records that the credit id bounced (reported other than on a statement): a
// reversal payment "<txn id>/reversal" dated on, with the reason, undoes what the credit did
// (or takes it out of the queue). ECONFLICT when it is not an applied or queued credit.
func (d *DB) ReversePayment(ctx context.Context, id int64, on date.Date, reason string, opt PaymentOptions) (Payment, error) {
	if on.IsZero() {
		return Payment{}, reclaim.Errorf(reclaim.EINVALID, "a reversal needs its date")
	}
	if err := textnorm.Check(reason); err != nil || textnorm.Len(reason) > 200 {
		return Payment{}, reclaim.Errorf(reclaim.EINVALID, "a reversal reason is at most 200 characters of text")
	}
	var revID int64
	err := d.writeTxConn(ctx, func(tx *Tx) error {
		var cur Payment
		if err := scanPayment(tx.QueryRow(ctx, `SELECT `+paymentCols+` FROM payments WHERE id = ?`, id), &cur); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "payment %d not found", id)
		} else if err != nil {
			return err
		}
		if cur.Amount.Sign() <= 0 || (cur.Status != PaymentApplied && cur.Status != PaymentQueued) {
			return reclaim.Errorf(reclaim.ECONFLICT, "payment %d is %s: only an applied or queued credit can be reversed", id, cur.Status)
		}
		p, err := d.newPayTx(ctx, tx, opt, workout.DefaultAllocationPolicy())
		if err != nil {
			return err
		}
		p.source = PaymentFromAPI
		neg := money.New(-cur.Amount.Minor(), cur.Amount.Currency())
		l := workout.StatementLine{TxnID: cur.TxnID + "/reversal", Date: on, Amount: neg, Reverses: cur.TxnID, Currency: neg.Currency(), Reference: reason}
		if err := p.prepare([]workout.StatementLine{l}); err != nil {
			return err
		}
		row := p.newRow(l)
		row.p.Reason = reason
		if err := p.reverseLine(row, l); err != nil {
			return err
		}
		if row.p.Status != PaymentReversal {
			return reclaim.Errorf(reclaim.ECONFLICT, "payment %d cannot be reversed: %s", id, row.p.QueueDetail)
		}
		revID = row.p.ID
		return p.flush()
	})
	if err != nil {
		return Payment{}, dbError(err, "reversing a payment")
	}
	return d.GetPayment(ctx, revID)
}

// GetStatementImport returns a stored statement import (ENOTFOUND when absent).
func (d *DB) GetStatementImport(ctx context.Context, id int64) (StatementImport, error) {
	var s StatementImport
	var applied int64
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT id, sha256, filename, mapping, lines, matched, queued, reversals, applied_minor, actor, imported_at
		FROM statement_imports WHERE id = ?`), id).Scan(&s.ID, &s.SHA256, &s.Filename, &s.Mapping, &s.Lines, &s.Matched, &s.Queued, &s.Reversals,
		&applied, &s.Actor, instantScan{&s.ImportedAt})
	if err == sql.ErrNoRows {
		return s, reclaim.Errorf(reclaim.ENOTFOUND, "statement import %d not found", id)
	}
	s.Applied = money.New(applied, money.CNY)
	return s, dbError(err, "reading a statement import")
}

// PaymentDesk serves payments to the API (httpapi.PaymentService) over a DB: it binds the
// allocation policy and the blind-index look-up, and takes the actor from the request's context.
type PaymentDesk struct {
	DB     *DB
	Policy workout.AllocationPolicy             // zero: the default policy
	Blind  func(workout.StatementLine) [][]byte // nil: no blind-index matching (see BlindLookup)
}

func (p PaymentDesk) opt(ctx context.Context) PaymentOptions {
	return PaymentOptions{Policy: p.Policy, Blind: p.Blind, Actor: reclaim.Actor(ctx)}
}

// ImportStatement runs DB.ImportStatement.
func (p PaymentDesk) ImportStatement(ctx context.Context, filename string, st *workout.Statement) (StatementImport, error) {
	return p.DB.ImportStatement(ctx, filename, st, p.opt(ctx))
}

// PostPayment runs DB.PostPayment.
func (p PaymentDesk) PostPayment(ctx context.Context, in PaymentInput) (Payment, error) {
	return p.DB.PostPayment(ctx, in, p.opt(ctx))
}

// ListPayments runs DB.ListPayments.
func (p PaymentDesk) ListPayments(ctx context.Context, f PaymentFilter) ([]Payment, error) {
	return p.DB.ListPayments(ctx, f)
}

// GetPayment runs DB.GetPayment.
func (p PaymentDesk) GetPayment(ctx context.Context, id int64) (Payment, error) {
	return p.DB.GetPayment(ctx, id)
}

// MatchPayment runs DB.MatchPayment.
func (p PaymentDesk) MatchPayment(ctx context.Context, id, caseID int64, loans []int64) (Payment, error) {
	return p.DB.MatchPayment(ctx, id, caseID, loans, p.opt(ctx))
}

// ReversePayment runs DB.ReversePayment.
func (p PaymentDesk) ReversePayment(ctx context.Context, id int64, on date.Date, reason string) (Payment, error) {
	return p.DB.ReversePayment(ctx, id, on, reason, p.opt(ctx))
}

// GetStatementImport runs DB.GetStatementImport.
func (p PaymentDesk) GetStatementImport(ctx context.Context, id int64) (StatementImport, error) {
	return p.DB.GetStatementImport(ctx, id)
}

// BlindLookup returns the blind-index hashes of a statement line's payer ID number and phone
// under key k (the terms boarding wrote to case_keys), for PaymentOptions.Blind.
func BlindLookup(k *pii.BlindKey) func(workout.StatementLine) [][]byte {
	if k == nil {
		return nil
	}
	return func(l workout.StatementLine) [][]byte {
		var out [][]byte
		if id := pii.NormalizeNationalID(l.PayerID); id != "" {
			out = append(out, k.Hash(pii.BlindNationalID, id))
		}
		for _, ph := range pii.NormalizePhones(l.PayerPhone) {
			out = append(out, k.Hash(pii.BlindPhone, ph))
		}
		return out
	}
}
