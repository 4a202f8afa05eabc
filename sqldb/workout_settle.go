package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/tlog/verify"
	"reclaim/workout"
)

// Settlement storage (issue 13 item 2; docs/strategy.md): offers and their maker-checker
// decisions, instalment plans, promises to pay, the broken-promise job and the waiver a settlement
// paid in full records (an account movement per loan and, for pool loans, a loan.waiver ledger
// entry in the same transaction). Every decision is package workout's; this file loads what it
// needs and stores what it decided.

const offerCols = `id, case_id, currency, claim_minor, amount_minor, waived_minor, discount, suggested_discount, status, maker, maker_role,
	checker_role, checker, decided_at, decision_note, expires_on, pay_by, grace_days, accepted_on, closed_on, received_minor, note, created_at, updated_at`

func scanOffer(r rowScanner, o *workout.SettlementOffer) error {
	var cur string
	var claim, amt, waived, recv int64
	err := r.Scan(&o.ID, &o.CaseID, &cur, &claim, &amt, &waived, &o.Discount, &o.SuggestedDiscount, &o.Status, &o.Maker, &o.MakerRole,
		&o.CheckerRole, textScan{&o.Checker}, instantScan{&o.DecidedAt}, &o.DecisionNote, dateScan{&o.ExpiresOn}, dateScan{&o.PayBy},
		&o.GraceDays, dateScan{&o.AcceptedOn}, dateScan{&o.ClosedOn}, &recv, &o.Note, instantScan{&o.CreatedAt}, instantScan{&o.UpdatedAt})
	c := money.Currency(cur)
	o.Claim, o.Amount, o.Waived, o.Received = money.New(claim, c), money.New(amt, c), money.New(waived, c), money.New(recv, c)
	return err
}

// caseBalances returns the balances of a case's active accounts (loan keys are the loan ids)
// and their currency; ENOTFOUND for an unknown case.
func caseBalances(ctx context.Context, tx *Tx, caseID int64) ([]workout.LoanBalance, money.Currency, error) {
	cur, err := caseExists(ctx, tx, caseID)
	if err != nil {
		return nil, "", err
	}
	rows, err := tx.Query(ctx, `SELECT loan_id, principal_minor, interest_minor, fees_minor FROM accounts WHERE case_id = ? AND status = ? ORDER BY loan_id`,
		caseID, AccountActive)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	c := money.Currency(cur)
	var out []workout.LoanBalance
	for rows.Next() {
		var id, p, i, f int64
		if err := rows.Scan(&id, &p, &i, &f); err != nil {
			return nil, "", err
		}
		out = append(out, workout.LoanBalance{Loan: strconv.FormatInt(id, 10), Principal: money.New(p, c), Interest: money.New(i, c), Fees: money.New(f, c)})
	}
	return out, c, rows.Err()
}

func claimOf(ls []workout.LoanBalance, c money.Currency) money.Amount {
	var n int64
	for _, l := range ls {
		n += l.Total()
	}
	return money.New(n, c)
}

// CaseClaim returns what a case's debtor owes now: the sum of its active accounts' balances.
func (d *DB) CaseClaim(ctx context.Context, caseID int64) (money.Amount, error) {
	var claim money.Amount
	err := d.ReadTx(ctx, func(tx *Tx) error {
		ls, c, err := caseBalances(ctx, tx, caseID)
		claim = claimOf(ls, c)
		return err
	})
	return claim, dbError(err, "reading a case's claim")
}

// ProposeOffer stores a settlement offer on a case. decide receives the case's claim (read in
// the transaction) and returns the offer to store: its amounts, status (proposed or, within the
// maker's limits, approved) and checker role, as package workout decided them; an error from it
// stores nothing. A case with a live offer (proposed, approved or accepted) is ECONFLICT.
func (d *DB) ProposeOffer(ctx context.Context, caseID int64, decide func(claim money.Amount) (workout.SettlementOffer, error)) (workout.SettlementOffer, error) {
	var o workout.SettlementOffer
	err := d.WriteTx(ctx, func(tx *Tx) error {
		ls, c, err := caseBalances(ctx, tx, caseID)
		if err != nil {
			return err
		}
		if o, err = decide(claimOf(ls, c)); err != nil {
			return err
		}
		var live int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM settlement_offers WHERE case_id = ? AND status IN (?, ?, ?)`, caseID,
			workout.OfferProposed, workout.OfferApproved, workout.OfferAccepted).Scan(&live); err != nil {
			return err
		}
		if live > 0 {
			return liveOfferErr(caseID)
		}
		now := d.nowUTC()
		o.CaseID, o.CreatedAt, o.UpdatedAt, o.Received = caseID, now, now, money.Zero(c)
		err = tx.QueryRow(ctx, `INSERT INTO settlement_offers (case_id, currency, claim_minor, amount_minor, waived_minor, discount, suggested_discount,
			status, maker, maker_role, checker_role, checker, decided_at, decision_note, expires_on, pay_by, grace_days, received_minor, note, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, '', ?, ?, ?, 0, ?, ?, ?) RETURNING id`,
			caseID, string(c), o.Claim.Minor(), o.Amount.Minor(), o.Waived.Minor(), o.Discount, o.SuggestedDiscount, o.Status, o.Maker, o.MakerRole,
			o.CheckerRole, dateArg(o.ExpiresOn), dateArg(o.PayBy), o.GraceDays, o.Note, d.instant(now), d.instant(now)).Scan(&o.ID)
		if isUniqueViolation(err) {
			return liveOfferErr(caseID)
		}
		return err
	})
	return o, dbError(err, "proposing a settlement")
}

func liveOfferErr(caseID int64) error {
	return &reclaim.Error{Code: reclaim.ECONFLICT, Message: fmt.Sprintf("case %d already has a live settlement offer: wait for its outcome", caseID),
		Fields: map[string]string{"rule": "one live offer a case"}}
}

func getOffer(ctx context.Context, tx *Tx, id int64) (workout.SettlementOffer, error) {
	var o workout.SettlementOffer
	err := scanOffer(tx.QueryRow(ctx, `SELECT `+offerCols+` FROM settlement_offers WHERE id = ?`, id), &o)
	if err == sql.ErrNoRows {
		return o, reclaim.Errorf(reclaim.ENOTFOUND, "settlement offer %d not found", id)
	}
	if err != nil {
		return o, err
	}
	p, err := offerPlan(ctx, tx, id)
	o.Plan = p
	return o, err
}

// GetOffer returns an offer with its plan (ENOTFOUND when absent).
func (d *DB) GetOffer(ctx context.Context, id int64) (workout.SettlementOffer, error) {
	var o workout.SettlementOffer
	err := d.ReadTx(ctx, func(tx *Tx) (err error) {
		o, err = getOffer(ctx, tx, id)
		return err
	})
	return o, dbError(err, "reading a settlement offer")
}

// OfferFilter selects offers; zero fields do not filter.
type OfferFilter struct {
	CaseID int64
	Status string
	Limit  int // default 100, at most 1000
}

// ListOffers lists offers, newest first.
func (d *DB) ListOffers(ctx context.Context, f OfferFilter) ([]workout.SettlementOffer, error) {
	q, args := `SELECT `+offerCols+` FROM settlement_offers WHERE 1 = 1`, []any{}
	if f.CaseID > 0 {
		q, args = q+` AND case_id = ?`, append(args, f.CaseID)
	}
	if f.Status != "" {
		q, args = q+` AND status = ?`, append(args, f.Status)
	}
	lim := f.Limit
	if lim <= 0 {
		lim = 100
	}
	q += ` ORDER BY id DESC LIMIT ` + itoa(min(lim, 1000))
	var out []workout.SettlementOffer
	err := d.ReadTx(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var o workout.SettlementOffer
			if err := scanOffer(rows, &o); err != nil {
				rows.Close()
				return err
			}
			out = append(out, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			if out[i].Plan, err = offerPlan(ctx, tx, out[i].ID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, dbError(err, "listing settlement offers")
}

// DecideOffer approves or rejects a proposed offer. check receives the offer as stored (read in
// the transaction) and returns nil when checker may decide it (workout.DecideOffer); the status
// then moves from proposed exactly once: of two checkers deciding at the same time one wins, the
// other gets ECONFLICT.
func (d *DB) DecideOffer(ctx context.Context, id int64, approve bool, checker, note string, check func(workout.SettlementOffer) error) (workout.SettlementOffer, error) {
	var o workout.SettlementOffer
	to := workout.OfferRejected
	if approve {
		to = workout.OfferApproved
	}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if o, err = getOffer(ctx, tx, id); err != nil {
			return err
		}
		if err := check(o); err != nil {
			return err
		}
		if err := workout.OfferTransition(o.Status, to); err != nil {
			return err
		}
		now := d.nowUTC()
		res, err := tx.Exec(ctx, `UPDATE settlement_offers SET status = ?, checker = ?, decided_at = ?, decision_note = ?, updated_at = ?
			WHERE id = ? AND status = ?`, to, checker, d.instant(now), note, d.instant(now), id, workout.OfferProposed)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return workout.OfferTransition(workout.OfferApproved, to) // decided meanwhile
		}
		o.Status, o.Checker, o.DecidedAt, o.DecisionNote, o.UpdatedAt = to, checker, now, note, now
		return nil
	})
	return o, dbError(err, "deciding a settlement offer")
}

// AcceptOffer records that the debtor accepted an approved offer on a date (on or before its
// expiry), with its instalment plan when it is paid in instalments (plan.Total must be the
// offer's amount; workout.ValidatePlan checks it). Payments count toward it from that date.
func (d *DB) AcceptOffer(ctx context.Context, id int64, on date.Date, plan *workout.Plan, actor string) (workout.SettlementOffer, error) {
	var o workout.SettlementOffer
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var err error
		if o, err = getOffer(ctx, tx, id); err != nil {
			return err
		}
		if err := workout.OfferTransition(o.Status, workout.OfferAccepted); err != nil {
			return err
		}
		if on.After(o.ExpiresOn) {
			return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("the offer expired on %s: it cannot be accepted on %s", o.ExpiresOn, on),
				Fields: map[string]string{"field": "accepted_on", "value": on.String(), "rule": "on or before expires_on"}}
		}
		if plan != nil {
			plan.CaseID = workout.CaseRef(o.CaseID)
			if err := workout.ValidatePlan(*plan); err != nil {
				return err
			}
			if !plan.Total.Equal(o.Amount) {
				return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("the plan's total %s is not the offer's amount %s", plan.Total, o.Amount),
					Fields: map[string]string{"field": "plan.total", "value": plan.Total.String(), "rule": "equals the offer amount"}}
			}
			if p, err := insertPlan(ctx, tx, d, o.CaseID, o.ID, *plan, o.GraceDays, on, actor); err != nil {
				return err
			} else {
				o.Plan = &p
			}
		}
		now := d.nowUTC()
		res, err := tx.Exec(ctx, `UPDATE settlement_offers SET status = ?, accepted_on = ?, updated_at = ? WHERE id = ? AND status = ?`,
			workout.OfferAccepted, dateArg(on), d.instant(now), id, workout.OfferApproved)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return workout.OfferTransition(workout.OfferAccepted, workout.OfferAccepted)
		}
		o.Status, o.AcceptedOn, o.UpdatedAt = workout.OfferAccepted, on, now
		return nil
	})
	return o, dbError(err, "accepting a settlement offer")
}

func insertPlan(ctx context.Context, tx *Tx, d *DB, caseID, offerID int64, p workout.Plan, grace int, start date.Date, actor string) (workout.StoredPlan, error) {
	now := d.nowUTC()
	sp := workout.StoredPlan{OfferID: offerID, Plan: p, GraceDays: grace, StartOn: start, Status: workout.PlanActive,
		Paid: money.Zero(p.Total.Currency()), Shortfall: money.Zero(p.Total.Currency()), CreatedBy: actor, CreatedAt: now}
	var offer any
	if offerID > 0 {
		offer = offerID
	}
	if err := tx.QueryRow(ctx, `INSERT INTO payment_plans (case_id, offer_id, currency, total_minor, grace_days, start_on, status, paid_minor,
		missed_seq, shortfall_minor, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?) RETURNING id`, caseID, offer,
		string(p.Total.Currency()), p.Total.Minor(), grace, dateArg(start), workout.PlanActive, actor, d.instant(now)).Scan(&sp.ID); err != nil {
		return sp, err
	}
	for _, in := range p.Instalments {
		if _, err := tx.Exec(ctx, `INSERT INTO plan_instalments (plan_id, seq, due, amount_minor) VALUES (?, ?, ?, ?)`,
			sp.ID, in.Seq, dateArg(in.Due), in.Amount.Minor()); err != nil {
			return sp, err
		}
	}
	return sp, nil
}

// CreatePlan stores an instalment plan for a case's balance (not an offer's): workout.ValidatePlan
// checks it (negative or overlapping instalments are EINVALID naming the instalment) and its
// total may not exceed the case's claim. Payments count toward it from start.
func (d *DB) CreatePlan(ctx context.Context, caseID int64, p workout.Plan, grace int, start date.Date, actor string) (workout.StoredPlan, error) {
	var sp workout.StoredPlan
	err := d.WriteTx(ctx, func(tx *Tx) error {
		ls, c, err := caseBalances(ctx, tx, caseID)
		if err != nil {
			return err
		}
		p.CaseID = workout.CaseRef(caseID)
		if err := workout.ValidatePlan(p); err != nil {
			return err
		}
		if claim := claimOf(ls, c); p.Total.Currency() != c || p.Total.Cmp(claim) > 0 {
			return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("the plan's total %s exceeds the case's balance %s", p.Total, claim),
				Fields: map[string]string{"field": "total", "value": p.Total.String(), "rule": "at most the case's balance"}}
		}
		if grace < 0 {
			return &reclaim.Error{Code: reclaim.EINVALID, Message: "grace days must be >= 0", Fields: map[string]string{"field": "grace_days"}}
		}
		sp, err = insertPlan(ctx, tx, d, caseID, 0, p, grace, start, actor)
		return err
	})
	return sp, dbError(err, "storing a plan")
}

const planCols = `id, case_id, COALESCE(offer_id, 0), currency, total_minor, grace_days, start_on, status, paid_minor, missed_seq, shortfall_minor,
	closed_on, created_by, created_at`

func scanPlan(r rowScanner, p *workout.StoredPlan) error {
	var caseID, total, paid, short int64
	var cur string
	err := r.Scan(&p.ID, &caseID, &p.OfferID, &cur, &total, &p.GraceDays, dateScan{&p.StartOn}, &p.Status, &paid, &p.MissedSeq, &short,
		dateScan{&p.ClosedOn}, &p.CreatedBy, instantScan{&p.CreatedAt})
	c := money.Currency(cur)
	p.CaseID, p.Total, p.Paid, p.Shortfall = workout.CaseRef(caseID), money.New(total, c), money.New(paid, c), money.New(short, c)
	return err
}

func loadInstalments(ctx context.Context, tx *Tx, p *workout.StoredPlan) error {
	rows, err := tx.Query(ctx, `SELECT seq, due, amount_minor FROM plan_instalments WHERE plan_id = ? ORDER BY seq`, p.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	p.Instalments = p.Instalments[:0]
	for rows.Next() {
		var in workout.Instalment
		var a int64
		if err := rows.Scan(&in.Seq, dateScan{&in.Due}, &a); err != nil {
			return err
		}
		in.Amount = money.New(a, p.Total.Currency())
		p.Instalments = append(p.Instalments, in)
	}
	return rows.Err()
}

func queryPlans(ctx context.Context, tx *Tx, where string, args ...any) ([]workout.StoredPlan, error) {
	rows, err := tx.Query(ctx, `SELECT `+planCols+` FROM payment_plans WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	var out []workout.StoredPlan
	for rows.Next() {
		var p workout.StoredPlan
		if err := scanPlan(rows, &p); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if err := loadInstalments(ctx, tx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func offerPlan(ctx context.Context, tx *Tx, offerID int64) (*workout.StoredPlan, error) {
	ps, err := queryPlans(ctx, tx, `offer_id = ?`, offerID)
	if err != nil || len(ps) == 0 {
		return nil, err
	}
	return &ps[0], nil
}

// CasePlans lists a case's plans (oldest first) with their schedules.
func (d *DB) CasePlans(ctx context.Context, caseID int64) ([]workout.StoredPlan, error) {
	var out []workout.StoredPlan
	err := d.ReadTx(ctx, func(tx *Tx) (err error) {
		out, err = queryPlans(ctx, tx, `case_id = ?`, caseID)
		return err
	})
	return out, dbError(err, "listing plans")
}

// AddPromise stores a promise to pay. A promise that names an action must name a
// promise_to_pay call of the same case (EINVALID otherwise).
func (d *DB) AddPromise(ctx context.Context, p workout.StoredPromise) (workout.StoredPromise, error) {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		cur, err := caseExists(ctx, tx, p.CaseID)
		if err != nil {
			return err
		}
		if p.Amount.Sign() <= 0 || string(p.Amount.Currency()) != cur {
			return &reclaim.Error{Code: reclaim.EINVALID, Message: "a promise is a positive amount in the case's currency " + cur,
				Fields: map[string]string{"field": "amount", "value": p.Amount.String(), "rule": "positive, case currency"}}
		}
		if p.Due.Before(p.Made) || p.Grace < 0 {
			return &reclaim.Error{Code: reclaim.EINVALID, Message: "a promise is due on or after the day it was made, with grace days >= 0",
				Fields: map[string]string{"field": "due", "value": p.Due.String(), "rule": "on or after made"}}
		}
		if p.ActionID > 0 {
			var outcome string
			err := tx.QueryRow(ctx, `SELECT outcome FROM case_actions WHERE id = ? AND case_id = ?`, p.ActionID, p.CaseID).Scan(&outcome)
			if err == sql.ErrNoRows || (err == nil && outcome != workout.CallPromiseToPay) {
				return &reclaim.Error{Code: reclaim.EINVALID, Message: fmt.Sprintf("action %d is not a promise_to_pay call of case %d", p.ActionID, p.CaseID),
					Fields: map[string]string{"field": "action_id", "value": strconv.FormatInt(p.ActionID, 10), "rule": "a promise_to_pay call of the case"}}
			}
			if err != nil {
				return err
			}
		}
		now := d.nowUTC()
		var action any
		if p.ActionID > 0 {
			action = p.ActionID
		}
		p.Status, p.Received, p.Created = string(workout.PromisePending), money.Zero(p.Amount.Currency()), now
		return tx.QueryRow(ctx, `INSERT INTO promises (case_id, action_id, made_on, due, currency, amount_minor, grace_days, status, received_minor,
			actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING id`, p.CaseID, action, dateArg(p.Made), dateArg(p.Due), cur,
			p.Amount.Minor(), p.Grace, p.Status, p.Actor, d.instant(now)).Scan(&p.ID)
	})
	return p, dbError(err, "storing a promise")
}

const promiseCols = `id, case_id, COALESCE(action_id, 0), made_on, due, currency, amount_minor, grace_days, status, received_minor, closed_on, actor, created_at`

func scanPromise(r rowScanner, p *workout.StoredPromise) error {
	var cur string
	var a, recv int64
	err := r.Scan(&p.ID, &p.CaseID, &p.ActionID, dateScan{&p.Made}, dateScan{&p.Due}, &cur, &a, &p.Grace, &p.Status, &recv,
		dateScan{&p.ClosedOn}, &p.Actor, instantScan{&p.Created})
	p.Amount, p.Received = money.New(a, money.Currency(cur)), money.New(recv, money.Currency(cur))
	return err
}

func queryPromises(ctx context.Context, tx *Tx, where string, args ...any) ([]workout.StoredPromise, error) {
	rows, err := tx.Query(ctx, `SELECT `+promiseCols+` FROM promises WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []workout.StoredPromise
	for rows.Next() {
		var p workout.StoredPromise
		if err := scanPromise(rows, &p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// CasePromises lists a case's promises, oldest first.
func (d *DB) CasePromises(ctx context.Context, caseID int64) ([]workout.StoredPromise, error) {
	var out []workout.StoredPromise
	err := d.ReadTx(ctx, func(tx *Tx) (err error) {
		out, err = queryPromises(ctx, tx, `case_id = ?`, caseID)
		return err
	})
	return out, dbError(err, "listing promises")
}

// receipts returns the payments applied to a case (reversed ones excluded) as engine receipts.
func receipts(ctx context.Context, tx *Tx, caseID int64) ([]workout.Receipt, error) {
	rows, err := tx.Query(ctx, `SELECT value_date, amount_minor, currency FROM payments WHERE case_id = ? AND status = ? AND amount_minor > 0 ORDER BY id`,
		caseID, PaymentApplied)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []workout.Receipt
	for rows.Next() {
		var r workout.Receipt
		var a int64
		var cur string
		if err := rows.Scan(dateScan{&r.On}, &a, &cur); err != nil {
			return nil, err
		}
		r.Amount = money.New(a, money.Currency(cur))
		out = append(out, r)
	}
	return out, rows.Err()
}

// CheckCommitments is the broken-promise job: on asOf it expires the offers not approved or
// accepted by their expiry date, settles the accepted offers (paid in full: status paid and the
// remainder waived, with an account movement per loan and a loan.waiver ledger entry for pool
// loans; short after the due date + grace, or a missed instalment: broken), and marks plans and
// promises kept/complete or broken from the payments applied to their cases
// (workout.SettlementStanding, CheckPlan, CheckPromise). Each item is settled in its own
// transaction; one that fails is listed in Errors and the others still happen. Running it again
// on the same day changes nothing.
func (d *DB) CheckCommitments(ctx context.Context, asOf date.Date, actor string) (workout.CommitmentCheck, error) {
	res := workout.CommitmentCheck{AsOf: asOf, OffersExpired: []int64{}, OffersPaid: []int64{}, OffersBroken: []int64{}, PlansComplete: []int64{},
		PlansBroken: []int64{}, PromisesKept: []int64{}, PromisesBroken: []int64{}, Waivers: []int64{}, CasesClosed: []int64{}, Errors: []string{}}
	var offers []int64
	var plans []int64
	var promises []int64
	err := d.ReadTx(ctx, func(tx *Tx) error {
		offers, plans, promises = nil, nil, nil
		for _, q := range []struct {
			sql  string
			args []any
			into *[]int64
		}{
			{`SELECT id FROM settlement_offers WHERE status IN (?, ?, ?) ORDER BY id`, []any{workout.OfferProposed, workout.OfferApproved, workout.OfferAccepted}, &offers},
			{`SELECT id FROM payment_plans WHERE status = ? AND offer_id IS NULL ORDER BY id`, []any{workout.PlanActive}, &plans},
			{`SELECT id FROM promises WHERE status = ? ORDER BY id`, []any{string(workout.PromisePending)}, &promises},
		} {
			rows, err := tx.Query(ctx, q.sql, q.args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				*q.into = append(*q.into, id)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return res, dbError(err, "listing commitments")
	}
	for _, id := range offers {
		if err := d.checkOffer(ctx, id, asOf, actor, &res); err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("offer %d: %s", id, errText(err)))
		}
	}
	for _, id := range plans {
		if err := d.checkPlan(ctx, id, asOf, &res); err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("plan %d: %s", id, errText(err)))
		}
	}
	for _, id := range promises {
		if err := d.checkPromise(ctx, id, asOf, &res); err != nil {
			res.Errors = append(res.Errors, fmt.Sprintf("promise %d: %s", id, errText(err)))
		}
	}
	return res, nil
}

func errText(err error) string {
	var e *reclaim.Error
	if errors.As(err, &e) && e.Code != reclaim.EINTERNAL {
		return e.Message
	}
	return "internal error"
}

func (d *DB) checkOffer(ctx context.Context, id int64, asOf date.Date, actor string, res *workout.CommitmentCheck) error {
	var expired, paid, broken, caseClosed bool
	var waiverID, caseID int64
	err := d.WriteTx(ctx, func(tx *Tx) error {
		expired, paid, broken, caseClosed, waiverID = false, false, false, false, 0
		o, err := getOffer(ctx, tx, id)
		if err != nil {
			return err
		}
		now := d.nowUTC()
		switch o.Status {
		case workout.OfferProposed, workout.OfferApproved:
			if !asOf.After(o.ExpiresOn) {
				return nil
			}
			expired = true
			_, err := tx.Exec(ctx, `UPDATE settlement_offers SET status = ?, closed_on = ?, updated_at = ? WHERE id = ? AND status = ?`,
				workout.OfferExpired, dateArg(asOf), d.instant(now), id, o.Status)
			return err
		case workout.OfferAccepted:
		default:
			return nil
		}
		rs, err := receipts(ctx, tx, o.CaseID)
		if err != nil {
			return err
		}
		var plan *workout.Plan
		if o.Plan != nil {
			plan = &o.Plan.Plan
		}
		st, got, err := workout.SettlementStanding(o.Amount, o.AcceptedOn, o.PayBy, o.GraceDays, plan, rs, asOf)
		if err != nil {
			return err
		}
		if o.Plan != nil {
			// The plan's standing counts the payments from acceptance, as SettlementStanding does.
			from := slices.DeleteFunc(slices.Clone(rs), func(r workout.Receipt) bool { return r.On.Before(o.AcceptedOn) })
			ps, err := workout.CheckPlan(o.Plan.Plan, from, asOf, o.GraceDays)
			if err != nil {
				return err
			}
			pst := workout.PlanActive
			switch st {
			case workout.OfferPaid:
				pst = workout.PlanComplete
			case workout.OfferBroken:
				pst = workout.PlanBroken
			}
			if _, err := tx.Exec(ctx, `UPDATE payment_plans SET status = ?, paid_minor = ?, missed_seq = ?, shortfall_minor = ?, closed_on = ? WHERE id = ?`,
				pst, got.Minor(), ps.Missed, ps.Shortfall.Minor(), closedArg(pst != workout.PlanActive, asOf), o.Plan.ID); err != nil {
				return err
			}
		}
		if st == workout.OfferAccepted {
			_, err := tx.Exec(ctx, `UPDATE settlement_offers SET received_minor = ? WHERE id = ?`, got.Minor(), id)
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE settlement_offers SET status = ?, received_minor = ?, closed_on = ?, updated_at = ? WHERE id = ? AND status = ?`,
			st, got.Minor(), dateArg(asOf), d.instant(now), id, workout.OfferAccepted); err != nil {
			return err
		}
		if st == workout.OfferBroken {
			broken = true
			return nil
		}
		paid = true
		if waiverID, err = d.writeWaiver(ctx, tx, o, got, asOf, actor); err != nil {
			return err
		}
		caseID = o.CaseID
		caseClosed, err = d.closeSettled(ctx, tx, o, got, asOf, actor)
		return err
	})
	switch {
	case err != nil:
		return err
	case expired:
		res.OffersExpired = append(res.OffersExpired, id)
	case broken:
		res.OffersBroken = append(res.OffersBroken, id)
	case paid:
		res.OffersPaid = append(res.OffersPaid, id)
		if waiverID > 0 {
			res.Waivers = append(res.Waivers, waiverID)
		}
		if caseClosed {
			res.CasesClosed = append(res.CasesClosed, caseID)
		}
	}
	return nil
}

// closeSettled closes, after a settlement paid in full (and its waiver), the case's accounts
// with nothing left and, when none stays active, the case itself with a case_closed action on
// its timeline (workout.CloseSettled decides). It reports whether the case closed.
func (d *DB) closeSettled(ctx context.Context, tx *Tx, o workout.SettlementOffer, paid money.Amount, on date.Date, actor string) (bool, error) {
	ls, _, err := caseBalances(ctx, tx, o.CaseID)
	if err != nil {
		return false, err
	}
	cl := workout.CloseSettled(ls)
	for _, l := range cl.Loans {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET status = ? WHERE loan_id = ? AND status = ?`, AccountClosed, l, AccountActive); err != nil {
			return false, err
		}
	}
	if !cl.Case {
		return false, nil
	}
	now := d.nowUTC()
	r, err := tx.Exec(ctx, `UPDATE cases SET status = ?, updated_at = ? WHERE id = ? AND status = ?`, CaseClosed, d.instant(now), o.CaseID, CaseOpen)
	if err != nil {
		return false, err
	}
	if n, err := r.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	a := workout.Action{CaseID: o.CaseID, Kind: workout.KindCaseClosed, Outcome: "settled", Actor: actor, At: now, Effective: on, Amount: paid,
		Note: fmt.Sprintf("settlement offer %d paid in full: %d account(s) closed, the case leaves the queue", o.ID, len(cl.Loans))}
	return true, tx.insertAction(ctx, &a)
}

func closedArg(closed bool, on date.Date) any {
	if !closed {
		return nil
	}
	return dateArg(on)
}

// writeWaiver records the waiver of a settlement paid in full: workout.WaiveRemainder of the
// case's active accounts, a waiver movement per loan, the accounts' balances, and a loan.waiver
// ledger entry for each loan in a pool. Nothing left to waive records no waiver (0).
func (d *DB) writeWaiver(ctx context.Context, tx *Tx, o workout.SettlementOffer, paid money.Amount, on date.Date, actor string) (int64, error) {
	ls, c, err := caseBalances(ctx, tx, o.CaseID)
	if err != nil {
		return 0, err
	}
	mv := workout.WaiveRemainder(ls)
	if len(mv) == 0 {
		return 0, nil
	}
	total := money.Zero(c)
	for _, m := range mv {
		total = money.New(total.Minor()+m.Total(), c)
	}
	// The record: claim at the offer, what was paid, what is forgiven now.
	w := workout.Waiver{CaseID: workout.CaseRef(o.CaseID), On: on, Claim: o.Claim, Paid: paid, Waived: total,
		Maker: o.Maker, Checker: o.Checker}
	if o.Claim.Sign() > 0 {
		w.Discount = total.Float() / o.Claim.Float()
	}
	now := d.nowUTC()
	var wid int64
	if err := tx.QueryRow(ctx, `INSERT INTO waivers (case_id, offer_id, on_date, currency, claim_minor, paid_minor, waived_minor, discount, maker, checker, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, o.CaseID, o.ID, dateArg(on), string(c), o.Claim.Minor(), paid.Minor(), total.Minor(),
		w.Discount, o.Maker, o.Checker, d.instant(now)).Scan(&wid); err != nil {
		return 0, err
	}
	ref := "settlement:" + strconv.FormatInt(o.ID, 10)
	for _, m := range mv {
		loanID, _ := strconv.ParseInt(m.Loan, 10, 64)
		var portfolioID int64
		var loanRef string
		if err := tx.QueryRow(ctx, `SELECT portfolio_id, loan_ref FROM accounts WHERE loan_id = ?`, loanID).Scan(&portfolioID, &loanRef); err != nil {
			return 0, err
		}
		pool, poolLoan, err := poolOfLoan(ctx, tx, portfolioID, loanRef)
		if err != nil {
			return 0, err
		}
		var event string
		if pool != "" {
			if event, err = poolWaiver(ctx, tx, pool, poolLoan, m, on, o.ID); err != nil {
				return 0, err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO waiver_loans (waiver_id, loan_id, principal_minor, interest_minor, fees_minor, pool, pool_loan, pool_event)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, wid, loanID, m.Principal.Minor(), m.Interest.Minor(), m.Fees.Minor(), textArg(pool), textArg(poolLoan),
			textArg(event)); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO account_movements (loan_id, case_id, type, amount_minor, principal_minor, interest_minor, fees_minor,
			currency, effective, reference, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, loanID, o.CaseID, workout.MoveWaiver, -m.Total(),
			-m.Principal.Minor(), -m.Interest.Minor(), -m.Fees.Minor(), string(c), dateArg(on), ref, actor, d.instant(now)); err != nil {
			return 0, err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET principal_minor = principal_minor - ?, interest_minor = interest_minor - ?, fees_minor = fees_minor - ?
			WHERE loan_id = ?`, m.Principal.Minor(), m.Interest.Minor(), m.Fees.Minor(), loanID); err != nil {
			return 0, err
		}
	}
	return wid, nil
}

// poolOfLoan finds the pool a servicing account's loan is in and its reference there, or "": a
// pool opened from its whole portfolio that still holds the loan, or a live deal's pool that
// selected it (deal_members, whose row goes when the loan leaves the pool). A loan is in one
// pool at a time (docs/abs-live.md), so there is at most one.
func poolOfLoan(ctx context.Context, tx *Tx, portfolioID int64, loanRef string) (string, string, error) {
	var pool, ref string
	err := tx.QueryRow(ctx, `SELECT pool, loan_ref FROM (
			SELECT pl.pool, pl.loan_ref FROM ledger_pools lp JOIN pool_loans pl ON pl.pool = lp.pool
			WHERE lp.portfolio_id = ? AND pl.loan_key = ? AND pl.status NOT IN (?, ?, ?)
			UNION ALL
			SELECT dm.pool, dm.loan_ref FROM deal_members dm JOIN pool_loans pl ON pl.pool = dm.pool AND pl.loan_ref = dm.loan_ref
			WHERE dm.portfolio_id = ? AND dm.loan_id = ? AND pl.status NOT IN (?, ?, ?)
		) m ORDER BY pool LIMIT 1`,
		portfolioID, loanRef, verify.RemovalRemoved, verify.RemovalRepurchased, verify.RemovalSold,
		portfolioID, loanRef, verify.RemovalRemoved, verify.RemovalRepurchased, verify.RemovalSold).Scan(&pool, &ref)
	if err == sql.ErrNoRows {
		return "", "", nil
	}
	return pool, ref, err
}

// poolWaiver writes the loan.waiver entry of a pool loan's share of a waiver and lowers the pool
// loan's balance; a waiver above that balance or dated in a closed period is refused.
func poolWaiver(ctx context.Context, tx *Tx, pool, ref string, m workout.LoanMovement, on date.Date, offerID int64) (string, error) {
	if m.Principal.Currency() != money.CNY {
		return "", reclaim.Errorf(reclaim.EUNSUPPORTED, "pool loans are CNY")
	}
	pl, err := lockPoolLoan(ctx, tx, pool, ref)
	if err != nil {
		return "", err
	}
	if err := checkOpenPeriod(ctx, tx, pool, on); err != nil {
		return "", err
	}
	if err := checkDealDate(ctx, tx, pool, on); err != nil { // a live deal's reported windows (deals.go)
		return "", err
	}
	amt := m.Total()
	if amt > pl.Balance.Minor() {
		return "", reclaim.Errorf(reclaim.EINVALID, "the waiver of %s on loan %s exceeds its balance %s in pool %s", money.New(amt, money.CNY), ref, pl.Balance, pool)
	}
	eventID := newID("waiver-", 8)
	entry, err := verify.LoanWaiver{Header: hdr(pool, eventID, on), Loan: pl.Ref, Amount: verify.Amount(amt), Principal: verify.Amount(m.Principal.Minor()),
		Interest: verify.Amount(m.Interest.Minor()), Fees: verify.Amount(m.Fees.Minor()), Settlement: "offer-" + strconv.FormatInt(offerID, 10),
		Reason: "settlement paid in full"}.Encode()
	if err != nil {
		return "", entryErr(err)
	}
	if _, err := tx.Exec(ctx, `UPDATE pool_loans SET fees_minor = fees_minor - ?, interest_minor = interest_minor - ?,
		principal_minor = principal_minor - ?, balance_minor = balance_minor - ? WHERE pool = ? AND loan_ref = ?`,
		m.Fees.Minor(), m.Interest.Minor(), m.Principal.Minor(), amt, pool, pl.Ref); err != nil {
		return "", err
	}
	return eventID, tx.Enqueue(ctx, pool, eventID, entry)
}

func (d *DB) checkPlan(ctx context.Context, id int64, asOf date.Date, res *workout.CommitmentCheck) error {
	var st string
	err := d.WriteTx(ctx, func(tx *Tx) error {
		st = ""
		ps, err := queryPlans(ctx, tx, `id = ?`, id)
		if err != nil || len(ps) == 0 || ps[0].Status != workout.PlanActive {
			return err
		}
		p := ps[0]
		caseID, _ := strconv.ParseInt(p.CaseID[1:], 10, 64)
		rs, err := receipts(ctx, tx, caseID)
		if err != nil {
			return err
		}
		rs = slices.DeleteFunc(rs, func(r workout.Receipt) bool { return r.On.Before(p.StartOn) })
		s, err := workout.CheckPlan(p.Plan, rs, asOf, p.GraceDays)
		if err != nil {
			return err
		}
		st = workout.PlanActive
		switch {
		case s.Complete:
			st = workout.PlanComplete
		case s.Broken:
			st = workout.PlanBroken
		}
		_, err = tx.Exec(ctx, `UPDATE payment_plans SET status = ?, paid_minor = ?, missed_seq = ?, shortfall_minor = ?, closed_on = ? WHERE id = ? AND status = ?`,
			st, s.Paid.Minor(), s.Missed, s.Shortfall.Minor(), closedArg(st != workout.PlanActive, asOf), id, workout.PlanActive)
		return err
	})
	switch st {
	case workout.PlanComplete:
		res.PlansComplete = append(res.PlansComplete, id)
	case workout.PlanBroken:
		res.PlansBroken = append(res.PlansBroken, id)
	}
	return err
}

func (d *DB) checkPromise(ctx context.Context, id int64, asOf date.Date, res *workout.CommitmentCheck) error {
	var st workout.PromiseStatus
	err := d.WriteTx(ctx, func(tx *Tx) error {
		st = ""
		ps, err := queryPromises(ctx, tx, `id = ?`, id)
		if err != nil || len(ps) == 0 || ps[0].Status != string(workout.PromisePending) {
			return err
		}
		p := ps[0]
		rs, err := receipts(ctx, tx, p.CaseID)
		if err != nil {
			return err
		}
		var got money.Amount
		st, got, err = workout.CheckPromise(workout.Promise{Made: p.Made, Due: p.Due, Amount: p.Amount, Grace: p.Grace}, rs, asOf)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE promises SET status = ?, received_minor = ?, closed_on = ? WHERE id = ? AND status = ?`,
			string(st), got.Minor(), closedArg(st != workout.PromisePending, asOf), id, string(workout.PromisePending))
		return err
	})
	switch st {
	case workout.PromiseKept:
		res.PromisesKept = append(res.PromisesKept, id)
	case workout.PromiseBroken:
		res.PromisesBroken = append(res.PromisesBroken, id)
	}
	return err
}

// CaseWaivers lists a case's waivers with their loans, oldest first.
func (d *DB) CaseWaivers(ctx context.Context, caseID int64) ([]workout.StoredWaiver, error) {
	var out []workout.StoredWaiver
	err := d.ReadTx(ctx, func(tx *Tx) error {
		out = nil
		rows, err := tx.Query(ctx, `SELECT w.id, w.offer_id, w.on_date, w.currency, w.claim_minor, w.paid_minor, w.waived_minor, w.discount, w.maker,
			w.checker, w.created_at FROM waivers w WHERE w.case_id = ? ORDER BY w.id`, caseID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var w workout.StoredWaiver
			var cur string
			var cl, pd, wv int64
			if err := rows.Scan(&w.ID, &w.OfferID, dateScan{&w.On}, &cur, &cl, &pd, &wv, &w.Discount, &w.Maker, &w.Checker, instantScan{&w.CreatedAt}); err != nil {
				rows.Close()
				return err
			}
			c := money.Currency(cur)
			w.CaseID, w.Claim, w.Paid, w.Waived = workout.CaseRef(caseID), money.New(cl, c), money.New(pd, c), money.New(wv, c)
			out = append(out, w)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for i := range out {
			lr, err := tx.Query(ctx, `SELECT loan_id, principal_minor, interest_minor, fees_minor, COALESCE(pool, ''), COALESCE(pool_loan, ''),
				COALESCE(pool_event, '') FROM waiver_loans WHERE waiver_id = ? ORDER BY loan_id`, out[i].ID)
			if err != nil {
				return err
			}
			c := out[i].Waived.Currency()
			out[i].Loans = []workout.WaiverLoan{}
			for lr.Next() {
				var l workout.WaiverLoan
				var p, in, f int64
				if err := lr.Scan(&l.LoanID, &p, &in, &f, &l.Pool, &l.PoolLoan, &l.PoolEvent); err != nil {
					lr.Close()
					return err
				}
				l.Principal, l.Interest, l.Fees = money.New(p, c), money.New(in, c), money.New(f, c)
				out[i].Loans = append(out[i].Loans, l)
			}
			lr.Close()
			if err := lr.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return out, dbError(err, "listing waivers")
}
