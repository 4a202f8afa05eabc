package sqldb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/textnorm"
	"reclaim/tlog"
	"reclaim/tlog/verify"
)

// The pool's business operations. Each writes its business change and its ledger entry (to the
// outbox) in one transaction: a change without its entry, or an entry without its change, can
// never commit. Entries carry no personal data: loans appear under random per-pool references
// and records only as salted commitments, whose salts stay in ledger_salts.

// Shared shapes (package tlog).
type (
	PoolLoan        = tlog.PoolLoan
	PeriodReportDoc = tlog.PeriodReport
	Collection      = tlog.Collection
	CashStatement   = tlog.CashStatement
)

// PoolSpec opens a pool from an imported portfolio.
type PoolSpec struct {
	Pool          string    // the pool id (trust), e.g. "RCL-2026-1"
	Name          string    // display name
	Origin        string    // the checkpoint origin line, e.g. "reclaim.example/ledger/RCL-2026-1"
	PortfolioID   int64     // the portfolio whose loans are boarded
	Effective     date.Date // the boarding date
	WaterfallHash string    // hex SHA-256 of the deal's waterfall definition, or empty
	LogKey        string    // the note verifier key that will sign the pool's checkpoints (ledger_keys), or empty
}

func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func newSalt() []byte {
	b := make([]byte, verify.SaltSize)
	rand.Read(b)
	return b
}

func hdr(pool, eventID string, eff date.Date) verify.Header {
	return verify.Header{Pool: pool, EventID: eventID, Effective: eff.String()}
}

func entryErr(err error) error {
	if err == nil {
		return nil
	}
	return reclaim.WrapError(reclaim.EINVALID, err, "%v", err)
}

// loanRecord is the committed record of a loan: its tape fields as JSON (without personal data;
// reclaim.Loan holds none). The record and its salt open the boarding commitment.
func loanRecord(l *reclaim.Loan) ([]byte, error) {
	return json.Marshal(l)
}

// OpenPool creates the pool's ledger and boards every loan of the portfolio: one pool.opened
// entry and one loan.boarded entry per loan, with a fresh salt per record commitment, all in one
// transaction. Pools are CNY (amounts on the ledger have two decimals).
func (d *DB) OpenPool(ctx context.Context, spec PoolSpec) (LedgerPool, error) {
	if spec.Effective.IsZero() {
		return LedgerPool{}, reclaim.Errorf(reclaim.EINVALID, "a pool needs an effective (boarding) date")
	}
	p, err := d.GetPortfolio(ctx, spec.PortfolioID)
	if err != nil {
		return LedgerPool{}, err
	}
	if p.Currency != "CNY" {
		return LedgerPool{}, reclaim.Errorf(reclaim.EUNSUPPORTED, "portfolio %d is in %s; pools are CNY", spec.PortfolioID, p.Currency)
	}
	if spec.Name == "" {
		spec.Name = p.Name
	}
	type boarding struct {
		loan    PoolLoan
		eventID string
		salt    []byte
		entry   []byte
	}
	var loans []boarding
	err = d.StreamLoans(ctx, spec.PortfolioID, func(l *reclaim.Loan) error {
		rec, err := loanRecord(l)
		if err != nil {
			return err
		}
		b := boarding{loan: PoolLoan{Ref: newID("L", 10), LoanKey: l.LoanID, Claim: l.TotalClaim, Principal: l.PrincipalOutstanding,
			Interest: orZero(l.InterestOutstanding), Fees: orZero(l.FeesOutstanding), Balance: l.TotalClaim, Status: verify.StatusOpen},
			eventID: newID("board-", 8), salt: newSalt()}
		e := verify.LoanBoarded{Header: hdr(spec.Pool, b.eventID, spec.Effective), Loan: b.loan.Ref,
			Claim: verify.Amount(b.loan.Claim.Minor()), Principal: verify.Amount(b.loan.Principal.Minor()),
			Interest: verify.Amount(b.loan.Interest.Minor()), Fees: verify.Amount(b.loan.Fees.Minor()),
			DPD: int64(max(l.DaysPastDue, 0)), Commitment: verify.Commit(b.salt, verify.TagLoanRecord, rec)}
		if b.entry, err = e.Encode(); err != nil {
			return reclaim.WrapError(reclaim.EINVALID, err, "loan %s cannot be boarded: %v", l.LoanID, err)
		}
		loans = append(loans, b)
		return nil
	})
	if err != nil {
		return LedgerPool{}, err
	}
	opened, err := verify.PoolOpened{Header: hdr(spec.Pool, "open", spec.Effective), Name: spec.Name,
		Cutoff: p.CutOffDate.String(), Currency: "CNY", WaterfallHash: spec.WaterfallHash}.Encode()
	if err != nil {
		return LedgerPool{}, entryErr(err)
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		if err := tx.CreateLedger(ctx, LedgerPool{Pool: spec.Pool, Origin: spec.Origin, Name: spec.Name, PortfolioID: spec.PortfolioID,
			Currency: "CNY", Cutoff: p.CutOffDate}); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, spec.Pool, "open", opened); err != nil {
			return err
		}
		if spec.LogKey != "" {
			if err := tx.addLogKey(ctx, spec.Pool, 0, spec.LogKey); err != nil {
				return err
			}
		}
		if err := insertRows(ctx, tx, `INSERT INTO pool_loans (pool, loan_ref, loan_key, claim_minor, principal_minor, interest_minor, fees_minor,
			balance_minor, status, boarded_event) VALUES `, 10, len(loans), func(i int, a []any) []any {
			l := loans[i].loan
			return append(a, spec.Pool, l.Ref, l.LoanKey, l.Claim.Minor(), l.Principal.Minor(), l.Interest.Minor(), l.Fees.Minor(),
				l.Balance.Minor(), l.Status, loans[i].eventID)
		}); err != nil {
			return err
		}
		if err := insertRows(ctx, tx, `INSERT INTO ledger_salts (pool, event_id, tag, loan_ref, salt) VALUES `, 5, len(loans), func(i int, a []any) []any {
			return append(a, spec.Pool, loans[i].eventID, verify.TagLoanRecord, loans[i].loan.Ref, loans[i].salt)
		}); err != nil {
			return err
		}
		now := d.instant(d.nowUTC())
		return insertRows(ctx, tx, `INSERT INTO ledger_outbox (pool, event_id, entry, queued_at) VALUES `, 4, len(loans), func(i int, a []any) []any {
			return append(a, spec.Pool, loans[i].eventID, loans[i].entry, now)
		})
	})
	if err != nil {
		return LedgerPool{}, dbError(err, "opening pool "+spec.Pool)
	}
	return d.LedgerPool(ctx, spec.Pool)
}

func orZero(a money.Amount) money.Amount {
	if a.IsAbsent() {
		return money.Zero("CNY")
	}
	return a
}

// lockPoolLoan reads a loan of a pool by its per-pool reference for update (PostgreSQL: FOR
// UPDATE).
func lockPoolLoan(ctx context.Context, tx *Tx, pool, ref string) (PoolLoan, error) {
	return lockPoolLoanBy(ctx, tx, pool, ref)
}

// lockPoolLoanBy is lockPoolLoan by the per-pool reference (L...) or, failing that, by each of
// the further columns in turn (loan_key: the seller's loan id, unique in the portfolio a pool is
// opened from). Callers must write the returned loan's Ref, never what they were given, to the
// ledger: seller keys stay off it.
func lockPoolLoanBy(ctx context.Context, tx *Tx, pool, ref string, cols ...string) (PoolLoan, error) {
	var l PoolLoan
	var c, p, i, f, b int64
	var err error
	for _, col := range append([]string{"loan_ref"}, cols...) {
		q := `SELECT loan_ref, loan_key, claim_minor, principal_minor, interest_minor, fees_minor, balance_minor, status
		FROM pool_loans WHERE pool = ? AND ` + col + ` = ?`
		if tx.Dialect() == Postgres {
			q += ` FOR UPDATE`
		}
		err = tx.QueryRow(ctx, q, pool, ref).Scan(&l.Ref, &l.LoanKey, &c, &p, &i, &f, &b, &l.Status)
		if err != sql.ErrNoRows {
			break
		}
	}
	if err == sql.ErrNoRows {
		var one int
		if tx.QueryRow(ctx, `SELECT 1 FROM ledger_pools WHERE pool = ?`, pool).Scan(&one) == sql.ErrNoRows {
			return l, reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
		}
		return l, reclaim.Errorf(reclaim.ENOTFOUND, "loan %q is not in pool %q", ref, pool)
	}
	if err != nil {
		return l, err
	}
	cny := func(m int64) money.Amount { return money.New(m, "CNY") }
	l.Claim, l.Principal, l.Interest, l.Fees, l.Balance = cny(c), cny(p), cny(i), cny(f), cny(b)
	return l, nil
}

// checkOpenPeriod applies tlog.CheckMovementDate inside a movement's transaction: a movement
// dated in a closed period is refused. The read of the last report and ClosePeriod's count of
// the outbox conflict under PostgreSQL's SERIALIZABLE isolation (and SQLite has one writer), so
// a movement racing a close is either seen by the close (which then sequences it first and
// counts it by its date) or sees the close and is checked against it.
func checkOpenPeriod(ctx context.Context, tx *Tx, pool string, eff date.Date) error {
	var through date.Date
	err := tx.QueryRow(ctx, `SELECT period_end FROM pool_reports WHERE pool = ? ORDER BY to_index DESC LIMIT 1`, pool).Scan(dateScan{&through})
	if err != nil && err != sql.ErrNoRows {
		return err
	}
	return tlog.CheckMovementDate(through, eff)
}

// PostCollection records a collection and its loan.collection entry. The amount pays fees first,
// then interest, then principal. A transaction id already posted is ECONFLICT (posting is
// idempotent per bank transaction); ids are compared by their key (textnorm.TxnKey), so ids that
// differ only in case, width, surrounding space or invisible characters are one transaction. The
// id is stored and committed on the ledger as sent (trimmed), which is what the bank statement
// shows. An amount above the balance is EINVALID; so is text that is not acceptable
// (textnorm.Check) in the id, the loan ref, the channel or the poster.
func (d *DB) PostCollection(ctx context.Context, c Collection) (string, error) {
	if c.Amount.Currency() != "CNY" || c.Amount.Minor() <= 0 {
		return "", reclaim.Errorf(reclaim.EINVALID, "a collection is a positive CNY amount, not %v", c.Amount)
	}
	for name, v := range map[string]string{"txn_id": c.TxnID, "loan": c.LoanRef, "posted_by": c.PostedBy, "channel": c.Channel} {
		if err := textnorm.Check(v); err != nil {
			return "", &reclaim.Error{Code: reclaim.EINVALID, Message: "collection: " + name + " " + err.Error(),
				Fields: map[string]string{name: err.Error()}}
		}
	}
	c.TxnID = textnorm.Trim(c.TxnID)
	key := textnorm.TxnKey(c.TxnID)
	if key == "" || len(c.TxnID) > 128 {
		return "", reclaim.Errorf(reclaim.EINVALID, "a collection needs its bank transaction id (1 to 128 characters)")
	}
	if c.Effective.IsZero() {
		return "", reclaim.Errorf(reclaim.EINVALID, "a collection needs its value date")
	}
	eventID := newID("col-", 8)
	salt := newSalt()
	var id string
	err := d.WriteTx(ctx, func(tx *Tx) error {
		l, err := lockPoolLoanBy(ctx, tx, c.Pool, c.LoanRef, "loan_key")
		if err != nil {
			return err
		}
		if err := checkOpenPeriod(ctx, tx, c.Pool, c.Effective); err != nil {
			return err
		}
		if err := checkDealDate(ctx, tx, c.Pool, c.Effective); err != nil { // a live deal's reported windows (deals.go)
			return err
		}
		amt := c.Amount.Minor()
		if amt > l.Balance.Minor() {
			return reclaim.Errorf(reclaim.EINVALID, "collection %s exceeds loan %s's balance %s", c.Amount, l.Ref, l.Balance)
		}
		fees := min(amt, l.Fees.Minor())
		interest := min(amt-fees, l.Interest.Minor())
		principal := amt - fees - interest
		e := verify.LoanCollection{Header: hdr(c.Pool, eventID, c.Effective), Loan: l.Ref, Amount: verify.Amount(amt),
			Principal: verify.Amount(principal), Interest: verify.Amount(interest), Fees: verify.Amount(fees), Channel: c.Channel,
			BankTxn: verify.Commit(salt, verify.TagBankTxn, verify.BankTxnRecord(c.TxnID))}
		entry, err := e.Encode()
		if err != nil {
			return entryErr(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pool_collections (pool, event_id, loan_ref, amount_minor, channel, txn_id, txn_key, effective, posted_by, posted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.Pool, eventID, l.Ref, amt, c.Channel, c.TxnID, key, dateArg(c.Effective), c.PostedBy,
			d.instant(d.nowUTC())); err != nil {
			if isUniqueViolation(err) {
				return reclaim.Errorf(reclaim.ECONFLICT, "bank transaction %q is already posted to pool %q", c.TxnID, c.Pool)
			}
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE pool_loans SET fees_minor = fees_minor - ?, interest_minor = interest_minor - ?,
			principal_minor = principal_minor - ?, balance_minor = balance_minor - ? WHERE pool = ? AND loan_ref = ?`,
			fees, interest, principal, amt, c.Pool, l.Ref); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_salts (pool, event_id, tag, loan_ref, salt) VALUES (?, ?, ?, ?, ?)`,
			c.Pool, eventID, verify.TagBankTxn, l.Ref, salt); err != nil {
			return err
		}
		id = eventID
		return tx.Enqueue(ctx, c.Pool, eventID, entry)
	})
	return id, dbError(err, "posting a collection")
}

// SetLoanStatus moves a loan of a pool to a workout status (verify's Status* constants) and logs
// loan.status.
func (d *DB) SetLoanStatus(ctx context.Context, pool, ref, status, reason string, eff date.Date) (string, error) {
	eventID := newID("st-", 8)
	entry, err := verify.LoanStatus{Header: hdr(pool, eventID, eff), Loan: ref, Status: status, Reason: reason}.Encode()
	if err != nil {
		return "", entryErr(err)
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		l, err := lockPoolLoan(ctx, tx, pool, ref)
		if err != nil {
			return err
		}
		if l.Status == verify.RemovalRemoved || l.Status == verify.RemovalRepurchased || l.Status == verify.RemovalSold {
			return reclaim.Errorf(reclaim.EINVALID, "loan %s has left the pool (%s)", ref, l.Status)
		}
		if err := checkOpenPeriod(ctx, tx, pool, eff); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE pool_loans SET status = ? WHERE pool = ? AND loan_ref = ?`, status, pool, ref); err != nil {
			return err
		}
		return tx.Enqueue(ctx, pool, eventID, entry)
	})
	return eventID, dbError(err, "changing a loan's status")
}

// RemoveLoan takes a loan out of the pool (removed, repurchased by the seller, or sold) at a price
// and logs loan.removed with its remaining balance.
func (d *DB) RemoveLoan(ctx context.Context, pool, ref, reason string, price money.Amount, eff date.Date) (string, error) {
	if price.IsAbsent() {
		price = money.Zero("CNY")
	}
	if price.Currency() != "CNY" || price.Minor() < 0 {
		return "", reclaim.Errorf(reclaim.EINVALID, "a removal price is a CNY amount >= 0")
	}
	eventID := newID("rm-", 8)
	err := d.WriteTx(ctx, func(tx *Tx) error {
		l, err := lockPoolLoan(ctx, tx, pool, ref)
		if err != nil {
			return err
		}
		if slices.Contains([]string{verify.RemovalRemoved, verify.RemovalRepurchased, verify.RemovalSold}, l.Status) {
			return reclaim.Errorf(reclaim.ECONFLICT, "loan %s has already left the pool (%s)", ref, l.Status)
		}
		if err := checkOpenPeriod(ctx, tx, pool, eff); err != nil {
			return err
		}
		// The removal takes the loan's balance after every collection logged so far, so it
		// cannot be dated before one of them: the loan would keep that collection's amount
		// outstanding, after its removal, in every period that ends between the two dates.
		var last date.Date
		if err := tx.QueryRow(ctx, `SELECT MAX(effective) FROM pool_collections WHERE pool = ? AND loan_ref = ?`, pool, ref).Scan(dateScan{&last}); err != nil {
			return err
		}
		if !last.IsZero() && eff.Before(last) {
			e := reclaim.Errorf(reclaim.EINVALID, "loan %s has a collection dated %s: its removal cannot be dated before it (%s)", ref, last, eff)
			e.Fields = map[string]string{"rule": "removal_before_collection"}
			return e
		}
		entry, err := verify.LoanRemoved{Header: hdr(pool, eventID, eff), Loan: ref, Reason: reason,
			Balance: verify.Amount(l.Balance.Minor()), Price: verify.Amount(price.Minor())}.Encode()
		if err != nil {
			return entryErr(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE pool_loans SET status = ?, balance_minor = 0, principal_minor = 0, interest_minor = 0, fees_minor = 0
			WHERE pool = ? AND loan_ref = ?`, reason, pool, ref); err != nil {
			return err
		}
		return tx.Enqueue(ctx, pool, eventID, entry)
	})
	return eventID, dbError(err, "removing a loan")
}

// UpdateLoanRecord logs a correction of a loan's record: a new commitment (fresh salt) over the
// corrected record, naming the fields that changed. The old commitment stays on the log.
func (d *DB) UpdateLoanRecord(ctx context.Context, pool, ref string, record []byte, fields []string, eff date.Date) (string, error) {
	eventID := newID("upd-", 8)
	salt := newSalt()
	fields = slices.Clone(fields)
	slices.Sort(fields)
	entry, err := verify.LoanRecordUpdated{Header: hdr(pool, eventID, eff), Loan: ref,
		Commitment: verify.Commit(salt, verify.TagLoanRecord, record), Fields: slices.Compact(fields)}.Encode()
	if err != nil {
		return "", entryErr(err)
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := lockPoolLoan(ctx, tx, pool, ref); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_salts (pool, event_id, tag, loan_ref, salt) VALUES (?, ?, ?, ?, ?)`,
			pool, eventID, verify.TagLoanRecord, ref, salt); err != nil {
			return err
		}
		return tx.Enqueue(ctx, pool, eventID, entry)
	})
	return eventID, dbError(err, "correcting a loan record")
}

// ClosePeriod writes the report of the period [start, end]: it sequences the outbox, then, with
// the outbox empty and the pool locked, computes the report from the log's own entries and queues
// the period.report entry, which therefore lands at index ToIndex. Periods are cut by effective
// date, not by log position (tlog.Place, tlog/verify/README.md): the report counts the movements
// sequenced before it whose effective date is in [start, end]; one dated later is counted by the
// report of the period containing its date. FromIndex is the smallest index of a counted movement,
// or the previous report's ToIndex if smaller. The first period must start on or before the first
// movement's date (EINVALID, rule period_start_after_movement). It returns the report. A pool
// whose outbox keeps refilling is EUNAVAILABLE (retry).
func (d *DB) ClosePeriod(ctx context.Context, pool string, start, end, eff date.Date) (PeriodReportDoc, error) {
	if start.IsZero() || end.IsZero() || end.Before(start) {
		return tlog.PeriodReport{}, reclaim.Errorf(reclaim.EINVALID, "a period needs a start and an end on or after it")
	}
	for attempt := 0; attempt < 5; attempt++ {
		for {
			n, err := d.Sequence(ctx, pool, 0)
			if errors.Is(err, ErrNotLeader) {
				// Another node leads and sequences: wait for it to drain the outbox.
				err = d.awaitDrained(ctx, pool, 15*time.Second)
				n = 0
			}
			if err != nil {
				return tlog.PeriodReport{}, err
			}
			if n == 0 {
				break
			}
		}
		doc, busy, err := d.closePeriodOnce(ctx, pool, start, end, eff)
		if err != nil || !busy {
			return doc, err
		}
	}
	return tlog.PeriodReport{}, reclaim.Errorf(reclaim.EUNAVAILABLE, "pool %s keeps receiving entries; retry the period report", pool)
}

// lockPoolTree reads a pool's tree size for a period close, locking the pool's row on
// PostgreSQL (SQLite's one writer already serialises), and says whether entries are still queued
// in its outbox: a period is closed only over a quiet log, so the caller retries when queued.
func (d *DB) lockPoolTree(ctx context.Context, tx *Tx, pool string) (size int64, queued bool, err error) {
	q := `SELECT tree_size FROM ledger_pools WHERE pool = ?`
	if d.dialect == Postgres {
		q += ` FOR UPDATE`
	}
	if err := tx.QueryRow(ctx, q, pool).Scan(&size); err == sql.ErrNoRows {
		return 0, false, reclaim.Errorf(reclaim.ENOTFOUND, "pool %q has no ledger", pool)
	} else if err != nil {
		return 0, false, err
	}
	var n int64
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM ledger_outbox WHERE pool = ?`, pool).Scan(&n); err != nil {
		return 0, false, err
	}
	return size, n > 0, nil
}

func (d *DB) closePeriodOnce(ctx context.Context, pool string, start, end, eff date.Date) (doc PeriodReportDoc, busy bool, err error) {
	eventID := newID("rep-", 8)
	err = d.WriteTx(ctx, func(tx *Tx) error {
		size, queued, lerr := d.lockPoolTree(ctx, tx, pool)
		if lerr != nil {
			return lerr
		}
		if busy = queued; busy {
			return nil
		}
		var prevTo, scanFrom, opening int64
		var prev tlog.Period
		err := tx.QueryRow(ctx, `SELECT to_index, COALESCE(carry_from, to_index), closing_minor, period_start, period_end FROM pool_reports
			WHERE pool = ? ORDER BY to_index DESC LIMIT 1`, pool).Scan(&prevTo, &scanFrom, &opening, dateScan{&prev.Start}, dateScan{&prev.End})
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		// The period is checked here, with the pool row locked, so two concurrent reports
		// cannot both pass against the same previous one.
		var prevp *tlog.Period
		if err == nil {
			prevp = &prev
		}
		next := tlog.Period{Start: start, End: end}
		if err := tlog.ValidatePeriod(prevp, next, date.FromTime(d.nowUTC())); err != nil {
			return err
		}
		// Periods are cut by effective date (tlog.Place): the report counts the movements
		// sequenced before it (index < size) dated in the period. Every movement below scanFrom
		// was counted by an earlier report; from scanFrom on, some were left for a later period
		// (dated after their period's end) and are counted here if their date is in this one.
		from, carry := prevTo, size
		doc = tlog.PeriodReport{Pool: pool, EventID: eventID, PeriodStart: start.String(), PeriodEnd: end.String(), ToIndex: size,
			ByChannel: map[string]int64{}, StatusChanges: map[string]int64{}}
		var coll, prin, boarded, removed, revAmt, revPrin, waived verify.Amount
		rows, err := tx.Query(ctx, `SELECT idx, entry FROM ledger_leaves WHERE pool = ? AND idx >= ? AND idx < ? ORDER BY idx`, pool, scanFrom, size)
		if err != nil {
			return err
		}
		defer rows.Close()
		want := scanFrom
		for rows.Next() {
			var idx int64
			var b []byte
			if err := rows.Scan(&idx, &b); err != nil {
				return err
			}
			if idx != want {
				return reclaim.Errorf(reclaim.EINTERNAL, "ledger entry %d of pool %s is missing", want, pool)
			}
			want++
			e, err := verify.ParseEntry(b)
			if err != nil {
				return reclaim.WrapError(reclaim.EINTERNAL, err, "ledger entry %d of pool %s does not parse", idx, pool)
			}
			if !verify.IsMovement(e) {
				continue
			}
			dated, err := date.ParseStrict(e.EntryHeader().Effective)
			if err != nil {
				return reclaim.WrapError(reclaim.EINTERNAL, err, "ledger entry %d of pool %s has a bad date", idx, pool)
			}
			switch tlog.Place(prevp, prevTo, next, idx, dated) {
			case tlog.InEarlier:
				continue
			case tlog.InLater:
				carry = min(carry, idx)
				continue
			case tlog.BeforeFirst:
				e := reclaim.Errorf(reclaim.EINVALID, "the first period cannot start on %s: entry %d (%s) is dated %s; start it on or before the first movement's date",
					start, idx, e.Type(), dated)
				e.Fields = map[string]string{"rule": "period_start_after_movement"}
				return e
			case tlog.Misbooked:
				return reclaim.Errorf(reclaim.EINTERNAL, "ledger entry %d of pool %s is dated %s, in the period closed by the report at %d, but was sequenced after it",
					idx, pool, dated, prevTo)
			}
			from = min(from, idx)
			switch e := e.(type) {
			case verify.LoanBoarded:
				doc.LoansBoarded++
				boarded += e.Claim
			case verify.LoanCollection:
				doc.CollectionsCount++
				coll += e.Amount
				prin += e.Principal
				doc.ByChannel[e.Channel] += int64(e.Amount)
			case verify.LoanCollectionReversal:
				doc.ReversalsCount++
				revAmt += e.Amount
				revPrin += e.Principal
			case verify.LoanWaiver:
				doc.WaiversCount++
				waived += e.Amount
			case verify.LoanRemoved:
				doc.LoansRemoved++
				removed += e.Balance
			case verify.LoanStatus:
				doc.StatusChanges[e.Status]++
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if want != size {
			return reclaim.Errorf(reclaim.EINTERNAL, "ledger of pool %s ends at %d, tree size %d", pool, want, size)
		}
		doc.FromIndex = from
		// Collections are reported net of the reversals dated in the period
		// (verify.ReportEntries); a period whose reversals exceed its collections cannot be.
		if revAmt > coll || revPrin > prin {
			e := reclaim.Errorf(reclaim.EINVALID, "the reversals dated in the period (%s) exceed its collections (%s): close a longer period", revAmt.Major(), coll.Major())
			e.Fields = map[string]string{"rule": "reversals_exceed_collections"}
			return e
		}
		if revAmt > 0 {
			doc.Reversals = revAmt.String()
		}
		coll -= revAmt
		prin -= revPrin
		closing := verify.Amount(opening) + boarded - coll - removed - waived
		if waived > 0 {
			doc.Waived = waived.String()
		}
		if closing < 0 {
			return reclaim.Errorf(reclaim.EINTERNAL, "pool %s: negative closing balance %d", pool, closing)
		}
		doc.Collections, doc.PrincipalCollected = coll.String(), prin.String()
		doc.OpeningBalance, doc.BoardedBalance, doc.RemovedBalance, doc.ClosingBalance =
			verify.Amount(opening).String(), boarded.String(), removed.String(), closing.String()
		body, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		// A period with waivers is reported in version 2, which carries them in the roll-forward.
		h := hdr(pool, eventID, eff)
		if waived > 0 {
			h.V = verify.EntryVersion2
		}
		entry, err := verify.PeriodReport{Header: h, WaiversCount: doc.WaiversCount, Waived: waived, PeriodStart: doc.PeriodStart, PeriodEnd: doc.PeriodEnd,
			FromIndex: doc.FromIndex, ToIndex: size, LoansBoarded: doc.LoansBoarded, LoansRemoved: doc.LoansRemoved, CollectionsCount: doc.CollectionsCount,
			Collections: coll, PrincipalCollected: prin, OpeningBalance: verify.Amount(opening), BoardedBalance: boarded,
			RemovedBalance: removed, ClosingBalance: closing, ReportHash: hex.EncodeToString(sum[:])}.Encode()
		if err != nil {
			return entryErr(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO pool_reports (pool, event_id, period_start, period_end, to_index, closing_minor, doc, carry_from)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, pool, eventID, dateArg(start), dateArg(end), size, int64(closing), body, carry); err != nil {
			return err
		}
		return tx.Enqueue(ctx, pool, eventID, entry)
	})
	return doc, busy, dbError(err, "closing a period")
}

// PeriodReports lists a pool's period reports, oldest first.
func (d *DB) PeriodReports(ctx context.Context, pool string) ([]PeriodReportDoc, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT doc FROM pool_reports WHERE pool = ? ORDER BY to_index`), pool)
	if err != nil {
		return nil, dbError(err, "reading period reports")
	}
	defer rows.Close()
	out := []tlog.PeriodReport{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, dbError(err, "reading period reports")
		}
		var doc PeriodReportDoc
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "period report of pool %s is corrupt", pool)
		}
		out = append(out, doc)
	}
	return out, dbError(rows.Err(), "reading period reports")
}

// PoolLoans pages through a pool's loans in reference order.
func (d *DB) PoolLoans(ctx context.Context, pool string, offset, limit int) ([]PoolLoan, int64, error) {
	var total int64
	if err := d.r.QueryRowContext(ctx, d.rebind(`SELECT COUNT(*) FROM pool_loans WHERE pool = ?`), pool).Scan(&total); err != nil {
		return nil, 0, dbError(err, "reading pool loans")
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT loan_ref, loan_key, claim_minor, principal_minor, interest_minor, fees_minor, balance_minor, status
		FROM pool_loans WHERE pool = ? ORDER BY loan_ref LIMIT ? OFFSET ?`), pool, limit, offset)
	if err != nil {
		return nil, 0, dbError(err, "reading pool loans")
	}
	defer rows.Close()
	out := []PoolLoan{}
	for rows.Next() {
		var l PoolLoan
		var c, p, i, f, b int64
		if err := rows.Scan(&l.Ref, &l.LoanKey, &c, &p, &i, &f, &b, &l.Status); err != nil {
			return nil, 0, dbError(err, "reading pool loans")
		}
		cny := func(m int64) money.Amount { return money.New(m, "CNY") }
		l.Claim, l.Principal, l.Interest, l.Fees, l.Balance = cny(c), cny(p), cny(i), cny(f), cny(b)
		out = append(out, l)
	}
	return out, total, dbError(rows.Err(), "reading pool loans")
}

// Salt returns the salt of a commitment an entry carries (for an authorised opening), or
// ENOTFOUND when it was never stored or has been destroyed.
func (d *DB) Salt(ctx context.Context, pool, eventID, tag string) ([]byte, error) {
	var s []byte
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT salt FROM ledger_salts WHERE pool = ? AND event_id = ? AND tag = ?`), pool, eventID, tag).Scan(&s)
	if err == sql.ErrNoRows {
		return nil, reclaim.Errorf(reclaim.ENOTFOUND, "no salt for %s/%s (%s): never stored or erased", pool, eventID, tag)
	}
	return s, dbError(err, "reading a salt")
}

// EraseSalts destroys the salts of every commitment to a loan's records in a pool (PIPL
// erasure): the commitments stay on the log but can no longer be opened. It returns how many were
// destroyed.
func (d *DB) EraseSalts(ctx context.Context, pool, ref string) (int64, error) {
	var n int64
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := lockPoolLoan(ctx, tx, pool, ref); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM ledger_salts WHERE pool = ? AND loan_ref = ? AND tag = ?`, pool, ref, verify.TagLoanRecord)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, dbError(err, fmt.Sprintf("erasing the salts of %s/%s", pool, ref))
}

// RecordCashStatement logs a cash.statement entry (the bank side that reconcile checks the
// collections against). Opening + credits - debits must equal closing.
func (d *DB) RecordCashStatement(ctx context.Context, s CashStatement) (string, error) {
	for _, a := range []money.Amount{s.Opening, s.Credits, s.Debits, s.Closing} {
		if a.IsAbsent() || a.Currency() != "CNY" || a.Minor() < 0 {
			return "", reclaim.Errorf(reclaim.EINVALID, "statement amounts are CNY amounts >= 0")
		}
	}
	if s.Opening.Minor()+s.Credits.Minor()-s.Debits.Minor() != s.Closing.Minor() {
		return "", reclaim.Errorf(reclaim.EINVALID, "statement does not balance: %s + %s - %s != %s", s.Opening, s.Credits, s.Debits, s.Closing)
	}
	if s.Account == "" || len(s.Document) == 0 {
		return "", reclaim.Errorf(reclaim.EINVALID, "a statement needs its account and its document")
	}
	eventID := newID("stmt-", 8)
	salt := newSalt()
	sum := sha256.Sum256(s.Document)
	entry, err := verify.CashStatement{Header: hdr(s.Pool, eventID, s.Effective), Account: verify.Commit(salt, verify.TagBankAccount, []byte(s.Account)),
		PeriodStart: s.PeriodStart.String(), PeriodEnd: s.PeriodEnd.String(), Opening: verify.Amount(s.Opening.Minor()),
		Credits: verify.Amount(s.Credits.Minor()), Debits: verify.Amount(s.Debits.Minor()), Closing: verify.Amount(s.Closing.Minor()),
		StatementHash: hex.EncodeToString(sum[:])}.Encode()
	if err != nil {
		return "", entryErr(err)
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO ledger_salts (pool, event_id, tag, salt) VALUES (?, ?, ?, ?)`,
			s.Pool, eventID, verify.TagBankAccount, salt); err != nil {
			return err
		}
		return tx.Enqueue(ctx, s.Pool, eventID, entry)
	})
	return eventID, dbError(err, "recording a cash statement")
}

// AuctionSale is the result of an auction lot of pool loans.
type AuctionSale struct {
	Pool      string
	Auction   string
	Lot       string
	LoanRefs  []string
	Price     money.Amount // the lot's price, split over its loans by balance
	Winner    string       // the winning bidder's id (committed; never logged)
	Effective date.Date
	// Bids and BidHistory are the accepted-bid count and verify.BidHistoryHash of the auction's
	// accepted bids; with no BidHistory the lot is taken as sold without a published history
	// (zero bids, the hash of the empty history).
	Bids       int64
	BidHistory string
}

// RecordAuctionResult logs an auction.result entry and a loan.removed (sold) entry for every loan
// of the lot, with the price split over the loans in proportion to their balances (largest
// remainder, so the parts sum to the price), in one transaction.
func (d *DB) RecordAuctionResult(ctx context.Context, a AuctionSale) (string, error) {
	if len(a.LoanRefs) == 0 || a.Price.IsAbsent() || a.Price.Currency() != "CNY" || a.Price.Minor() < 0 || a.Winner == "" {
		return "", reclaim.Errorf(reclaim.EINVALID, "an auction result needs loans, a CNY price >= 0 and a winner")
	}
	eventID := newID("auc-", 8)
	salt := newSalt()
	if a.BidHistory == "" && a.Bids == 0 {
		a.BidHistory, _ = verify.BidHistoryHash(nil)
	}
	result, err := verify.AuctionResult{Header: hdr(a.Pool, eventID, a.Effective), Auction: a.Auction, Lot: a.Lot, Loans: int64(len(a.LoanRefs)),
		Price: verify.Amount(a.Price.Minor()), Winner: verify.Commit(salt, verify.TagBidder, []byte(a.Winner)),
		Bids: a.Bids, BidHistory: a.BidHistory}.Encode()
	if err != nil {
		return "", entryErr(err)
	}
	err = d.WriteTx(ctx, func(tx *Tx) error { return d.recordAuctionResultTx(ctx, tx, a, eventID, salt, result) })
	return eventID, dbError(err, "recording an auction result")
}

// recordAuctionResultTx is RecordAuctionResult inside the caller's transaction (the
// marketplace's settlement writes it with its own changes): result is the encoded
// auction.result entry with event id eventID and the winner's commitment salt.
func (d *DB) recordAuctionResultTx(ctx context.Context, tx *Tx, a AuctionSale, eventID string, salt, result []byte) error {
	loans := make([]PoolLoan, len(a.LoanRefs))
	weights := make([]int64, len(a.LoanRefs))
	for i, ref := range a.LoanRefs {
		l, err := lockPoolLoan(ctx, tx, a.Pool, ref)
		if err != nil {
			return err
		}
		if slices.Contains([]string{verify.RemovalRemoved, verify.RemovalRepurchased, verify.RemovalSold}, l.Status) {
			return reclaim.Errorf(reclaim.ECONFLICT, "loan %s has already left the pool (%s)", ref, l.Status)
		}
		loans[i], weights[i] = l, max(l.Balance.Minor(), 1)
	}
	parts, err := a.Price.Allocate(weights...)
	if err != nil {
		return reclaim.WrapError(reclaim.EINVALID, err, "splitting the price: %v", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO ledger_salts (pool, event_id, tag, salt) VALUES (?, ?, ?, ?)`, a.Pool, eventID, verify.TagBidder, salt); err != nil {
		return err
	}
	if err := tx.Enqueue(ctx, a.Pool, eventID, result); err != nil {
		return err
	}
	for i, l := range loans {
		rid := newID("rm-", 8)
		e, err := verify.LoanRemoved{Header: hdr(a.Pool, rid, a.Effective), Loan: l.Ref, Reason: verify.RemovalSold,
			Balance: verify.Amount(l.Balance.Minor()), Price: verify.Amount(parts[i].Minor())}.Encode()
		if err != nil {
			return entryErr(err)
		}
		if _, err := tx.Exec(ctx, `UPDATE pool_loans SET status = ?, balance_minor = 0, principal_minor = 0, interest_minor = 0, fees_minor = 0
			WHERE pool = ? AND loan_ref = ?`, verify.RemovalSold, a.Pool, l.Ref); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, a.Pool, rid, e); err != nil {
			return err
		}
	}
	return nil
}

// backfillTxnKeys gives collections stored before migration 00009 their transaction key. A row
// whose key another collection of the pool already holds (a variant posted twice before keys
// existed) keeps a NULL key: it stays on record, and the earlier posting's key refuses new
// variants. It runs at every Migrate; with nothing to key it is one read of the collections table.
func (d *DB) backfillTxnKeys(ctx context.Context) error {
	type row struct{ pool, event, txn string }
	var rows []row
	err := d.ReadTx(ctx, func(tx *Tx) error {
		rows = rows[:0]
		rs, err := tx.Query(ctx, `SELECT pool, event_id, txn_id FROM pool_collections WHERE txn_key IS NULL ORDER BY posted_at, event_id`)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.pool, &r.event, &r.txn); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return rs.Err()
	})
	if err != nil {
		return dbError(err, "reading collections without a transaction key")
	}
	for _, r := range rows {
		err := d.WriteTx(ctx, func(tx *Tx) error {
			_, err := tx.Exec(ctx, `UPDATE pool_collections SET txn_key = ? WHERE pool = ? AND event_id = ? AND txn_key IS NULL`,
				textnorm.TxnKey(r.txn), r.pool, r.event)
			return err
		})
		// A variant of an earlier posting keeps no key; so does an id that is not storable text
		// (SQLite accepted NUL before 00009's release).
		if err != nil && !isUniqueViolation(err) && reclaim.ErrorCode(err) != reclaim.EINVALID {
			return dbError(err, "keying collection "+r.event)
		}
	}
	return nil
}
