package sqldb

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/workout"
)

// Workout storage (issue 12; docs/workout.md). The rules (cost basis, which case a loan joins,
// limitation, notices) are package workout's; this file loads what they need and stores what
// they decided.

// Statuses and movement types (workout's).
const (
	CaseOpen       = workout.CaseOpen
	CaseClosed     = workout.CaseClosed
	AccountActive  = workout.AccountActive
	AccountClosed  = workout.AccountClosed
	MoveBoarded    = workout.MoveBoarded
	MovePayment    = workout.MovePayment
	MoveReversal   = workout.MoveReversal
	MoveFee        = workout.MoveFee
	MoveAdjustment = workout.MoveAdjustment
)

// BoardSpec is workout.BoardSpec.
type BoardSpec = workout.BoardSpec

// Acquisition is workout.Acquisition.
type Acquisition = workout.Acquisition

// BoardResult is workout.BoardResult.
type BoardResult = workout.BoardResult

// Case is workout.Case.
type Case = workout.Case

// Account is workout.Account.
type Account = workout.Account

// Movement is workout.Movement.
type Movement = workout.Movement

// boardLoan is what boarding reads of one loan.
type boardLoan struct {
	id, borrower                        int64
	ref, bref                           string
	principal, interest, fees, claim    amountScan
	def, lastPay, legalStart, statedExp date.Date
	legal                               string
}

// insertBatch inserts rows of ncols values held in args with multi-row INSERTs.
func insertBatch(ctx context.Context, tx *Tx, table, cols string, ncols int, args []any) error {
	per := 30000 / ncols
	for len(args) > 0 {
		n := min(len(args)/ncols, per)
		q := strings.Replace(multiInsertSQL(table, cols, ncols, n), "INSERT OR FAIL INTO", "INSERT INTO", 1)
		if _, err := tx.tx.ExecContext(ctx, Rebind(tx.db.dialect, q), args[:n*ncols]...); err != nil {
			return err
		}
		args = args[n*ncols:]
	}
	return nil
}

func termKey(kind string, h []byte) string { return kind + ":" + hex.EncodeToString(h) }

// BoardPortfolio records the purchase of a portfolio and boards it in one transaction: a
// servicing account per loan (opening balance and a boarding movement, cost basis by claim share
// from workout.CostBasis), each borrower's loans into a case (workout.JoinCase over the keyed
// blind index: a debtor already known from another portfolio joins that case), each loan's
// limitation expiry (workout.LimitationExpiry), and per case a notice of assignment
// (workout.RenderNotice, masked data only). A portfolio is acquired once (ECONFLICT after);
// an unknown portfolio is ENOTFOUND; a bad spec EINVALID. Boardings are serialised.
func (d *DB) BoardPortfolio(ctx context.Context, spec BoardSpec) (BoardResult, error) {
	var res BoardResult
	if spec.AwardDate.IsZero() {
		return res, reclaim.Errorf(reclaim.EINVALID, "board: award date is required")
	}
	if spec.Price.IsAbsent() || spec.Price.Sign() < 0 {
		return res, reclaim.Errorf(reclaim.EINVALID, "board: price must be given and not negative")
	}
	if !spec.Bid.IsAbsent() && spec.Bid.Currency() != spec.Price.Currency() {
		return res, reclaim.Errorf(reclaim.EINVALID, "board: bid currency %s is not the price currency %s", spec.Bid.Currency(), spec.Price.Currency())
	}
	if spec.Buyer == "" {
		spec.Buyer = "本公司 (the AMC)"
	}
	if spec.Actor == "" {
		spec.Actor = "system"
	}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		res = BoardResult{}
		if d.dialect == Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(7114001)`); err != nil {
				return err
			}
		}
		var cur, seller, pref string
		err := tx.QueryRow(ctx, `SELECT p.currency, s.name, p.ref FROM portfolios p JOIN sellers s ON s.id = p.seller_id
			WHERE p.id = ? AND p.status <> 'importing'`, spec.PortfolioID).Scan(&cur, &seller, &pref)
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d not found", spec.PortfolioID)
		}
		if err != nil {
			return err
		}
		if money.Currency(cur) != spec.Price.Currency() {
			return reclaim.Errorf(reclaim.EINVALID, "board: price currency %s is not the portfolio currency %s", spec.Price.Currency(), cur)
		}
		if spec.Seller == "" {
			spec.Seller = seller
		}
		now := d.nowUTC()
		a := Acquisition{PortfolioID: spec.PortfolioID, Seller: spec.Seller, Bid: spec.Bid, AwardDate: spec.AwardDate,
			Price: spec.Price, Actor: spec.Actor, CreatedAt: now}
		err = tx.QueryRow(ctx, `INSERT INTO acquisitions (portfolio_id, seller, bid_minor, award_date, price_minor, currency, actor, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, spec.PortfolioID, spec.Seller, minorArg(spec.Bid), dateArg(spec.AwardDate),
			spec.Price.Minor(), cur, spec.Actor, d.instant(now)).Scan(&a.ID)
		if isUniqueViolation(err) {
			return reclaim.Errorf(reclaim.ECONFLICT, "portfolio %d was already acquired", spec.PortfolioID)
		}
		if err != nil {
			return err
		}
		res.Acquisition = a

		// The loans.
		rows, err := tx.Query(ctx, `SELECT l.id, l.borrower_id, l.loan_ref, l.borrower_ref, l.principal_minor, l.interest_minor,
			l.fees_minor, l.total_claim_minor, l.default_date, l.last_payment_date, l.legal_start_date, l.limitation_expiry_date,
			l.legal_status FROM loans l WHERE l.portfolio_id = ? ORDER BY l.id`, spec.PortfolioID)
		if err != nil {
			return err
		}
		var loans []boardLoan
		for rows.Next() {
			var l boardLoan
			if err := rows.Scan(&l.id, &l.borrower, &l.ref, &l.bref, &l.principal, &l.interest, &l.fees, &l.claim,
				dateScan{&l.def}, dateScan{&l.lastPay}, dateScan{&l.legalStart}, dateScan{&l.statedExp}, textScan{&l.legal}); err != nil {
				rows.Close()
				return err
			}
			loans = append(loans, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(loans) == 0 {
			return reclaim.Errorf(reclaim.EINVALID, "board: portfolio %d has no loans", spec.PortfolioID)
		}
		c := money.Currency(cur)
		claims := make([]money.Amount, len(loans))
		for i := range loans {
			cl := loans[i].claim.amount(c)
			if cl.IsAbsent() {
				cl = money.Zero(c)
			}
			claims[i] = cl
		}
		basis, err := workout.CostBasis(spec.Price, claims)
		if err != nil {
			return err
		}

		// The borrowers' blind-index terms and the cases they lead to.
		terms := map[int64][]workout.BlindTerm{}
		rows, err = tx.Query(ctx, `SELECT p.borrower_id, p.blind FROM borrower_pii p
			JOIN borrowers b ON b.id = p.borrower_id WHERE b.portfolio_id = ? AND p.blind IS NOT NULL ORDER BY p.borrower_id`, spec.PortfolioID)
		if err != nil {
			return err
		}
		var hashes [][]byte
		for rows.Next() {
			var bid int64
			var enc []byte
			if err := rows.Scan(&bid, &enc); err != nil {
				rows.Close()
				return err
			}
			ts, err := decodeBlindTerms(enc)
			if err != nil {
				rows.Close()
				return fmt.Errorf("borrower %d: %w", bid, err)
			}
			slices.SortFunc(ts, func(x, y workout.BlindTerm) int {
				return cmp.Or(strings.Compare(x.Kind, y.Kind), bytes.Compare(x.Hash, y.Hash))
			})
			terms[bid] = ts
			for _, t := range ts {
				hashes = append(hashes, t.Hash)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		known := map[string][]int64{} // term key -> case ids
		for len(hashes) > 0 {
			part := hashes[:min(len(hashes), 500)]
			hashes = hashes[len(part):]
			args := make([]any, len(part))
			for i, h := range part {
				args[i] = h
			}
			q := `SELECT hash, kind, case_id FROM case_keys WHERE hash IN (?` + strings.Repeat(",?", len(part)-1) + `)`
			rs, err := tx.tx.QueryContext(ctx, Rebind(d.dialect, q), args...)
			if err != nil {
				return err
			}
			for rs.Next() {
				var h []byte
				var kind string
				var id int64
				if err := rs.Scan(&h, &kind, &id); err != nil {
					rs.Close()
					return err
				}
				k := termKey(kind, h)
				known[k] = append(known[k], id)
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return err
			}
		}

		// Case per borrower (in loan order, so the result does not depend on map order).
		caseOf := map[int64]int64{}
		touched := map[int64]bool{}
		var newCases []int64
		var nextCase int64
		var caseSeq string
		var reserved []int64
		if d.dialect == SQLite {
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM cases`).Scan(&nextCase); err != nil {
				return err
			}
		} else if err := tx.QueryRow(ctx, `SELECT pg_get_serial_sequence('cases', 'id')`).Scan(&caseSeq); err != nil {
			return err
		}
		newCaseID := func() (int64, error) {
			if d.dialect == SQLite {
				id := nextCase
				nextCase++
				return id, nil
			}
			if len(reserved) == 0 { // reserve ids 1,000 at a time: one round trip, not one per case
				rs, err := tx.tx.QueryContext(ctx, `SELECT nextval($1::regclass) FROM generate_series(1, 1000)`, caseSeq)
				if err != nil {
					return 0, err
				}
				for rs.Next() {
					var id int64
					if err := rs.Scan(&id); err != nil {
						rs.Close()
						return 0, err
					}
					reserved = append(reserved, id)
				}
				rs.Close()
				if err := rs.Err(); err != nil {
					return 0, err
				}
				slices.Sort(reserved)
			}
			id := reserved[0]
			reserved = reserved[1:]
			return id, nil
		}
		var keyArgs []any
		for i := range loans {
			b := loans[i].borrower
			if _, ok := caseOf[b]; ok {
				continue
			}
			ts := terms[b]
			var matches []workout.CaseMatch
			for _, t := range ts {
				for _, id := range known[termKey(t.Kind, t.Hash)] {
					matches = append(matches, workout.CaseMatch{CaseID: id, Kind: t.Kind})
				}
			}
			id := workout.JoinCase(ts, matches)
			if id == 0 {
				if id, err = newCaseID(); err != nil {
					return err
				}
				newCases = append(newCases, id)
			}
			caseOf[b] = id
			touched[id] = true
			for _, t := range ts {
				k := termKey(t.Kind, t.Hash)
				if !containsID(known[k], id) {
					known[k] = append(known[k], id)
					keyArgs = append(keyArgs, t.Hash, t.Kind, id)
				}
			}
		}

		// Accounts, boarding movements, per-loan limitation.
		acc := make([]any, 0, len(loans)*15)
		mov := make([]any, 0, len(loans)*12)
		caseExp := map[int64]date.Date{}
		caseEnf := map[int64]date.Date{}
		for i := range loans {
			l := &loans[i]
			cid := caseOf[l.borrower]
			lim := workout.LimitationExpiry(loanLimitationEvents(l.def, l.lastPay, l.legalStart, l.statedExp, reclaim.LegalStatus(l.legal)))
			if e, ok := caseExp[cid]; !lim.Expiry.IsZero() && (!ok || e.IsZero() || lim.Expiry.Before(e)) {
				caseExp[cid] = lim.Expiry
			}
			if e := caseEnf[cid]; !lim.EnforcementDeadline.IsZero() && (e.IsZero() || lim.EnforcementDeadline.Before(e)) {
				caseEnf[cid] = lim.EnforcementDeadline
			}
			p, in, f := l.principal.v, l.interest.v, l.fees.v
			claim := claims[i].Minor()
			acc = append(acc, l.id, cid, a.ID, spec.PortfolioID, l.borrower, l.ref, cur, p, in, f, claim, basis[i].Minor(),
				AccountActive, dateArg(spec.AwardDate), dateArg(lim.Expiry))
			mov = append(mov, l.id, cid, MoveBoarded, claim, p, in, f, cur, dateArg(spec.AwardDate), "acquisition:"+itoa(int(a.ID)), spec.Actor, d.instant(now))
		}
		// New cases carry their loans' earliest expiry from the start; cases that existed are
		// recomputed over all their accounts (old ones too) below.
		if len(newCases) > 0 {
			args := make([]any, 0, len(newCases)*7)
			for _, id := range newCases {
				args = append(args, id, CaseOpen, cur, dateArg(caseExp[id]), dateArg(caseEnf[id]), d.instant(now), d.instant(now))
			}
			if err := insertBatch(ctx, tx, "cases", "id, status, currency, limitation_expiry, enforcement_deadline, opened_at, updated_at", 7, args); err != nil {
				return err
			}
		}
		if err := insertBatch(ctx, tx, "case_keys", "hash, kind, case_id", 3, keyArgs); err != nil {
			return err
		}
		if err := insertBatch(ctx, tx, "accounts", `loan_id, case_id, acquisition_id, portfolio_id, borrower_id, loan_ref, currency,
			principal_minor, interest_minor, fees_minor, claim_minor, cost_basis_minor, status, boarded_on, limitation_expiry`, 15, acc); err != nil {
			if isUniqueViolation(err) {
				return reclaim.Errorf(reclaim.ECONFLICT, "board: a loan of portfolio %d is already boarded", spec.PortfolioID)
			}
			return err
		}
		// The boarded borrowers' masked names, for name-and-amount payment matching (payments.go).
		if _, err := tx.Exec(ctx, `INSERT INTO borrower_names (masked_name, borrower_id)
			SELECT DISTINCT b.masked_name, b.id FROM accounts a JOIN borrowers b ON b.id = a.borrower_id
			WHERE a.portfolio_id = ? AND b.masked_name IS NOT NULL ON CONFLICT DO NOTHING`, spec.PortfolioID); err != nil {
			return err
		}
		if err := insertBatch(ctx, tx, "account_movements", `loan_id, case_id, type, amount_minor, principal_minor, interest_minor,
			fees_minor, currency, effective, reference, actor, at`, 12, mov); err != nil {
			return err
		}
		res.Accounts = int64(len(loans))
		res.Cases = int64(len(touched))
		res.NewCases = int64(len(newCases))

		ids := make([]int64, 0, len(touched))
		for id := range touched {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		fresh := make(map[int64]bool, len(newCases))
		for _, id := range newCases {
			fresh[id] = true
		}
		for _, id := range ids {
			if fresh[id] {
				continue
			}
			if err := tx.refreshCaseLimitation(ctx, id, now); err != nil {
				return err
			}
		}

		// Notices of assignment, one per case for this acquisition.
		masked := map[int64][2]string{}
		rows, err = tx.Query(ctx, `SELECT id, masked_name, masked_phone FROM borrowers WHERE portfolio_id = ?`, spec.PortfolioID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var n, ph string
			if err := rows.Scan(&id, textScan{&n}, textScan{&ph}); err != nil {
				rows.Close()
				return err
			}
			masked[id] = [2]string{n, ph}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		byCase := map[int64]*workout.NoticeData{}
		for i := range loans {
			l := &loans[i]
			cid := caseOf[l.borrower]
			nd := byCase[cid]
			if nd == nil {
				nd = &workout.NoticeData{CaseRef: workout.CaseRef(cid), MaskedName: masked[l.borrower][0], Seller: spec.Seller,
					Buyer: spec.Buyer, AwardDate: spec.AwardDate, PortfolioRef: pref}
				byCase[cid] = nd
			}
			nd.Loans = append(nd.Loans, workout.NoticeLoan{LoanRef: l.ref, Claim: claims[i]})
		}
		nargs := make([]any, 0, len(ids)*6)
		for _, id := range ids {
			text, html := workout.RenderNotice(*byCase[id])
			nargs = append(nargs, id, a.ID, workout.NoticeKindAssignment, text, html, d.instant(now))
		}
		if err := insertBatch(ctx, tx, "notices", "case_id, acquisition_id, kind, body_text, body_html, created_at", 6, nargs); err != nil {
			return err
		}
		res.Notices = int64(len(ids))
		_, err = insertEvent(ctx, tx.tx, d, reclaim.Event{PortfolioID: spec.PortfolioID, Type: "portfolio.boarded", Actor: spec.Actor,
			Detail: `{"acquisition":` + itoa(int(a.ID)) + `,"accounts":` + itoa(len(loans)) + `,"cases":` + itoa(len(ids)) + `}`})
		return err
	})
	return res, dbError(err, "boarding a portfolio")
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// loanLimitationEvents are the limitation events a loan's tape record gives: its default, its
// last payment, the filing of a suit (when the loan was sued) and the seller's stated expiry.
func loanLimitationEvents(def, lastPay, legalStart, stated date.Date, legal reclaim.LegalStatus) []workout.LimitationEvent {
	ev := []workout.LimitationEvent{{Kind: workout.LimDefault, On: def}, {Kind: workout.LimPartPayment, On: lastPay},
		{Kind: workout.LimStatedExpiry, On: stated}}
	if legal != "" && legal != reclaim.NotSued {
		ev = append(ev, workout.LimitationEvent{Kind: workout.LimSuit, On: legalStart})
	}
	return ev
}

// refreshCaseLimitation recomputes each account's expiry from its tape events and the case's
// recorded limitation events, then the case's earliest expiry and enforcement deadline.
func (t *Tx) refreshCaseLimitation(ctx context.Context, caseID int64, now time.Time) error {
	var caseEvents []workout.LimitationEvent
	rows, err := t.Query(ctx, `SELECT loan_id, kind, on_date FROM limitation_events WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return err
	}
	perLoan := map[int64][]workout.LimitationEvent{}
	for rows.Next() {
		var loan sql.NullInt64
		var kind string
		var on date.Date
		if err := rows.Scan(&loan, &kind, dateScan{&on}); err != nil {
			rows.Close()
			return err
		}
		e := workout.LimitationEvent{Kind: workout.LimitationKind(kind), On: on, Delivered: true}
		if loan.Valid {
			perLoan[loan.Int64] = append(perLoan[loan.Int64], e)
		} else {
			caseEvents = append(caseEvents, e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = t.Query(ctx, `SELECT a.loan_id, l.default_date, l.last_payment_date, l.legal_start_date, l.limitation_expiry_date, l.legal_status
		FROM accounts a JOIN loans l ON l.id = a.loan_id WHERE a.case_id = ? AND a.status = ? ORDER BY a.loan_id`, caseID, AccountActive)
	if err != nil {
		return err
	}
	type upd struct {
		id  int64
		exp date.Date
	}
	var ups []upd
	var caseExp, caseEnf date.Date
	for rows.Next() {
		var id int64
		var def, lp, ls, st date.Date
		var legal string
		if err := rows.Scan(&id, dateScan{&def}, dateScan{&lp}, dateScan{&ls}, dateScan{&st}, textScan{&legal}); err != nil {
			rows.Close()
			return err
		}
		ev := append(loanLimitationEvents(def, lp, ls, st, reclaim.LegalStatus(legal)), caseEvents...)
		ev = append(ev, perLoan[id]...)
		lim := workout.LimitationExpiry(ev)
		ups = append(ups, upd{id, lim.Expiry})
		if !lim.Expiry.IsZero() && (caseExp.IsZero() || lim.Expiry.Before(caseExp)) {
			caseExp = lim.Expiry
		}
		if !lim.EnforcementDeadline.IsZero() && (caseEnf.IsZero() || lim.EnforcementDeadline.Before(caseEnf)) {
			caseEnf = lim.EnforcementDeadline
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, u := range ups {
		if _, err := t.Exec(ctx, `UPDATE accounts SET limitation_expiry = ? WHERE loan_id = ?`, dateArg(u.exp), u.id); err != nil {
			return err
		}
	}
	_, err = t.Exec(ctx, `UPDATE cases SET limitation_expiry = ?, enforcement_deadline = ?, updated_at = ? WHERE id = ?`,
		dateArg(caseExp), dateArg(caseEnf), t.db.instant(now), caseID)
	return err
}

// GetAcquisition returns the acquisition of a portfolio (ENOTFOUND when it was not acquired).
func (d *DB) GetAcquisition(ctx context.Context, portfolioID int64) (Acquisition, error) {
	var a Acquisition
	var bid amountScan
	var price int64
	var cur string
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT id, portfolio_id, seller, bid_minor, award_date, price_minor, currency, actor, created_at
		FROM acquisitions WHERE portfolio_id = ?`), portfolioID).Scan(&a.ID, &a.PortfolioID, &a.Seller, &bid, dateScan{&a.AwardDate},
		&price, &cur, &a.Actor, instantScan{&a.CreatedAt})
	if err == sql.ErrNoRows {
		return a, reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d was not acquired", portfolioID)
	}
	a.Bid = bid.amount(money.Currency(cur))
	a.Price = money.New(price, money.Currency(cur))
	return a, dbError(err, "reading an acquisition")
}

const caseCols = `c.id, c.status, c.currency, c.assignee, c.agency, c.deceased, c.bankrupt, c.do_not_contact, c.limitation_expiry,
	c.enforcement_deadline, c.opened_at, c.updated_at,
	(SELECT COUNT(*) FROM accounts a WHERE a.case_id = c.id),
	(SELECT COALESCE(SUM(a.principal_minor + a.interest_minor + a.fees_minor), 0) FROM accounts a WHERE a.case_id = c.id),
	(SELECT b.masked_name FROM accounts a JOIN borrowers b ON b.id = a.borrower_id WHERE a.case_id = c.id ORDER BY a.loan_id LIMIT 1),
	(SELECT b.masked_phone FROM accounts a JOIN borrowers b ON b.id = a.borrower_id WHERE a.case_id = c.id ORDER BY a.loan_id LIMIT 1)`

func scanCase(r rowScanner, c *Case) error {
	var cur string
	var bal int64
	err := r.Scan(&c.ID, &c.Status, &cur, textScan{&c.Assignee}, textScan{&c.Agency}, boolScan{&c.Deceased}, boolScan{&c.Bankrupt},
		boolScan{&c.DoNotContact}, dateScan{&c.LimitationExpiry}, dateScan{&c.EnforcementDeadline}, instantScan{&c.OpenedAt},
		instantScan{&c.UpdatedAt}, &c.Loans, &bal, textScan{&c.MaskedName}, textScan{&c.MaskedPhone})
	c.Balance = money.New(bal, money.Currency(cur))
	c.Ref = workout.CaseRef(c.ID)
	return err
}

// GetCase returns a case with its loan count, balance and masked name (ENOTFOUND when absent).
func (d *DB) GetCase(ctx context.Context, id int64) (Case, error) {
	var c Case
	err := scanCase(d.r.QueryRowContext(ctx, d.rebind(`SELECT `+caseCols+` FROM cases c WHERE c.id = ?`), id), &c)
	if err == sql.ErrNoRows {
		return c, reclaim.Errorf(reclaim.ENOTFOUND, "case %d not found", id)
	}
	return c, dbError(err, "reading a case")
}

// CaseFilter selects cases for ListCases; zero fields do not filter.
type CaseFilter struct {
	Assignee string // only cases assigned to this user
	Agency   string // only cases currently placed with this agency
	Status   string
	// ExpiringBefore keeps cases whose limitation expires before this date.
	ExpiringBefore date.Date
	AfterID        int64 // keyset paging: ids greater than this
	Limit          int   // default 100, at most 1000
}

// ListCases lists cases in id order (or, with Assignee set, the queue order: earliest
// limitation expiry first, then id).
func (d *DB) ListCases(ctx context.Context, f CaseFilter) ([]Case, error) {
	var where []string
	var args []any
	if f.Assignee != "" {
		where, args = append(where, "c.assignee = ?"), append(args, f.Assignee)
	}
	if f.Agency != "" {
		where, args = append(where, "c.agency = ?"), append(args, f.Agency)
	}
	if f.Status != "" {
		where, args = append(where, "c.status = ?"), append(args, f.Status)
	}
	if !f.ExpiringBefore.IsZero() {
		where, args = append(where, "c.limitation_expiry < ?"), append(args, dateArg(f.ExpiringBefore))
	}
	if f.AfterID > 0 {
		where, args = append(where, "c.id > ?"), append(args, f.AfterID)
	}
	q := `SELECT ` + caseCols + ` FROM cases c`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Assignee != "" && f.AfterID == 0 {
		q += " ORDER BY CASE WHEN c.limitation_expiry IS NULL THEN 1 ELSE 0 END, c.limitation_expiry, c.id"
	} else {
		q += " ORDER BY c.id"
	}
	lim := f.Limit
	if lim <= 0 {
		lim = 100
	}
	lim = min(lim, 1000)
	q += " LIMIT " + itoa(lim)
	rows, err := d.r.QueryContext(ctx, d.rebind(q), args...)
	if err != nil {
		return nil, dbError(err, "listing cases")
	}
	defer rows.Close()
	var out []Case
	for rows.Next() {
		var c Case
		if err := scanCase(rows, &c); err != nil {
			return nil, dbError(err, "listing cases")
		}
		out = append(out, c)
	}
	return out, dbError(rows.Err(), "listing cases")
}

// CaseAccounts returns a case's servicing accounts in loan id order.
func (d *DB) CaseAccounts(ctx context.Context, caseID int64) ([]Account, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT a.loan_id, a.loan_ref, a.case_id, a.portfolio_id, a.borrower_id, b.borrower_ref,
		a.acquisition_id, a.currency, a.principal_minor, a.interest_minor, a.fees_minor, a.claim_minor, a.cost_basis_minor, a.status,
		a.boarded_on, a.limitation_expiry FROM accounts a JOIN borrowers b ON b.id = a.borrower_id WHERE a.case_id = ? ORDER BY a.loan_id`), caseID)
	if err != nil {
		return nil, dbError(err, "reading a case's accounts")
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		var cur string
		var p, i, f, cl, cb int64
		if err := rows.Scan(&a.LoanID, &a.LoanRef, &a.CaseID, &a.PortfolioID, &a.BorrowerID, &a.BorrowerRef, &a.AcquisitionID, &cur,
			&p, &i, &f, &cl, &cb, &a.Status, dateScan{&a.BoardedOn}, dateScan{&a.LimitationExpiry}); err != nil {
			return nil, dbError(err, "reading a case's accounts")
		}
		c := money.Currency(cur)
		a.Principal, a.Interest, a.Fees, a.Claim, a.CostBasis = money.New(p, c), money.New(i, c), money.New(f, c), money.New(cl, c), money.New(cb, c)
		out = append(out, a)
	}
	return out, dbError(rows.Err(), "reading a case's accounts")
}

// CaseForLoan returns the case a portfolio's loan was boarded into (ENOTFOUND when the loan is
// unknown or not boarded).
func (d *DB) CaseForLoan(ctx context.Context, portfolioID int64, loanRef string) (int64, error) {
	var id int64
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT case_id FROM accounts WHERE portfolio_id = ? AND loan_ref = ?`), portfolioID, loanRef).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, reclaim.Errorf(reclaim.ENOTFOUND, "loan %s of portfolio %d is not boarded", loanRef, portfolioID)
	}
	return id, dbError(err, "finding a loan's case")
}

// Movements returns a case's account movements in order.
func (d *DB) Movements(ctx context.Context, caseID int64) ([]Movement, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT id, loan_id, case_id, type, amount_minor, principal_minor, interest_minor, fees_minor,
		currency, effective, reference, actor, at FROM account_movements WHERE case_id = ? ORDER BY id`), caseID)
	if err != nil {
		return nil, dbError(err, "reading movements")
	}
	defer rows.Close()
	var out []Movement
	for rows.Next() {
		var m Movement
		var a, p, i, f int64
		var cur string
		if err := rows.Scan(&m.ID, &m.LoanID, &m.CaseID, &m.Type, &a, &p, &i, &f, &cur, dateScan{&m.Effective}, &m.Reference, &m.Actor,
			instantScan{&m.At}); err != nil {
			return nil, dbError(err, "reading movements")
		}
		c := money.Currency(cur)
		m.Amount, m.Principal, m.Interest, m.Fees = money.New(a, c), money.New(p, c), money.New(i, c), money.New(f, c)
		out = append(out, m)
	}
	return out, dbError(rows.Err(), "reading movements")
}

// AssignCase sets (or, with "", clears) the collector a case is assigned to.
func (d *DB) AssignCase(ctx context.Context, caseID int64, assignee string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE cases SET assignee = ?, updated_at = ? WHERE id = ?`, textArg(assignee), d.instant(d.nowUTC()), caseID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return reclaim.Errorf(reclaim.ENOTFOUND, "case %d not found", caseID)
		}
		return nil
	})
	return dbError(err, "assigning a case")
}
