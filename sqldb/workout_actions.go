package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/workout"
)

// Actions, contact attempts, placements, complaints, consents, notices and the timeline of a
// case. Every write that changes a case also writes its case_actions row (the timeline) in the
// same transaction.

func caseExists(ctx context.Context, tx *Tx, id int64) (string, error) {
	var cur string
	err := tx.QueryRow(ctx, `SELECT currency FROM cases WHERE id = ?`, id).Scan(&cur)
	if err == sql.ErrNoRows {
		return "", reclaim.Errorf(reclaim.ENOTFOUND, "case %d not found", id)
	}
	return cur, err
}

func (t *Tx) insertAction(ctx context.Context, a *workout.Action) error {
	if a.At.IsZero() {
		a.At = t.db.nowUTC()
	}
	a.At = a.At.UTC().Truncate(time.Microsecond)
	var detail any
	if a.Detail != "" {
		detail = a.Detail
	}
	return t.QueryRow(ctx, `INSERT INTO case_actions (case_id, kind, channel, outcome, actor, agency, at, effective, recording_ref,
		amount_minor, note, detail_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.CaseID, a.Kind, a.Channel, a.Outcome,
		a.Actor, textArg(a.Agency), t.db.instant(a.At), dateArg(a.Effective), textArg(a.RecordingRef), minorArg(a.Amount), a.Note, detail).Scan(&a.ID)
}

// AddAction records an action on a case (with its limitation event when lim is given: a legal
// step or a delivered demand), moving the case's limitation expiry. ENOTFOUND for an unknown
// case.
func (d *DB) AddAction(ctx context.Context, a workout.Action, lim *workout.LimitationEvent) (workout.Action, error) {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := caseExists(ctx, tx, a.CaseID); err != nil {
			return err
		}
		if err := tx.insertAction(ctx, &a); err != nil {
			return err
		}
		if lim != nil {
			return tx.addLimitationEvent(ctx, a.CaseID, 0, *lim, "action:"+itoa(int(a.ID)))
		}
		return nil
	})
	return a, dbError(err, "recording an action")
}

// RecordAttempt records a contact attempt with its decision and, when action is not nil (an
// allowed contact that took place), the action, linked, and the limitation event the contact
// records (lim: a demand with proof of delivery, an acknowledgement; nil for none), in one
// transaction. ENOTFOUND for an unknown case.
func (d *DB) RecordAttempt(ctx context.Context, at workout.Attempt, action *workout.Action, lim *workout.LimitationEvent) (workout.Attempt, error) {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := caseExists(ctx, tx, at.CaseID); err != nil {
			return err
		}
		at.ActionID = 0
		if action != nil {
			action.CaseID = at.CaseID
			if err := tx.insertAction(ctx, action); err != nil {
				return err
			}
			at.ActionID = action.ID
			if lim != nil {
				if err := tx.addLimitationEvent(ctx, at.CaseID, 0, *lim, "action:"+itoa(int(action.ID))); err != nil {
					return err
				}
			}
		}
		return tx.insertAttempt(ctx, &at)
	})
	return at, dbError(err, "recording a contact attempt")
}

func (t *Tx) insertAttempt(ctx context.Context, at *workout.Attempt) error {
	if at.Reasons == nil {
		at.Reasons = []workout.ContactReason{}
	}
	reasons, err := json.Marshal(at.Reasons)
	if err != nil {
		return err
	}
	at.At = at.At.UTC().Truncate(time.Microsecond)
	var action any
	if at.ActionID != 0 {
		action = at.ActionID
	}
	return t.QueryRow(ctx, `INSERT INTO contact_attempts (case_id, contact_id, debt_id, channel, party, number_key, at, local_at, outcome,
		consent, agent, agency, source, pack, allowed, reasons, action_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		at.CaseID, at.ContactID, at.DebtID, at.Channel, at.Party, at.NumberKey, t.db.instant(at.At), at.LocalAt, at.Outcome, at.Consent,
		at.Agent, at.Agency, at.Source, at.Pack, at.Allowed, string(reasons), action).Scan(&at.ID)
}

func parseReasons(s string) []workout.ContactReason {
	out := []workout.ContactReason{}
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

// addLimitationEvent records a limitation event of a case (loanID 0: every loan of the case)
// and moves the case's expiry. A demand without proof of delivery is not recorded (it
// interrupts nothing).
func (t *Tx) addLimitationEvent(ctx context.Context, caseID, loanID int64, e workout.LimitationEvent, ref string) error {
	if e.On.IsZero() || !e.Kind.Valid() || (e.Kind == workout.LimDemand && !e.Delivered) {
		return nil
	}
	var loan any
	if loanID != 0 {
		loan = loanID
	}
	if _, err := t.Exec(ctx, `INSERT INTO limitation_events (case_id, loan_id, kind, on_date, ref, at) VALUES (?, ?, ?, ?, ?, ?)`,
		caseID, loan, string(e.Kind), dateArg(e.On), ref, t.db.instant(t.db.nowUTC())); err != nil {
		return err
	}
	return t.refreshCaseLimitation(ctx, caseID, t.db.nowUTC())
}

// AddLimitationEvent records an event that interrupts the limitation period of one boarded loan
// (a part-payment posted to it, an acknowledgement) or, with loanID 0, of every loan of the case,
// and moves the expiries. ref names its source (a payment id). ENOTFOUND for an unknown case, or
// a loan not in the case.
func (d *DB) AddLimitationEvent(ctx context.Context, caseID, loanID int64, e workout.LimitationEvent, ref string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := caseExists(ctx, tx, caseID); err != nil {
			return err
		}
		if loanID != 0 {
			var one int
			if err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE loan_id = ? AND case_id = ?`, loanID, caseID).Scan(&one); err == sql.ErrNoRows {
				return reclaim.Errorf(reclaim.ENOTFOUND, "loan %d is not in case %d", loanID, caseID)
			} else if err != nil {
				return err
			}
		}
		return tx.addLimitationEvent(ctx, caseID, loanID, e, ref)
	})
	return dbError(err, "recording a limitation event")
}

// RecordAgencyAttempts records contacts an agency reported (they happened, allowed or flagged),
// all or nothing. Each attempt's CaseID must exist (ENOTFOUND naming the contact otherwise).
func (d *DB) RecordAgencyAttempts(ctx context.Context, ats []workout.Attempt) ([]workout.Attempt, error) {
	out := make([]workout.Attempt, len(ats))
	err := d.WriteTx(ctx, func(tx *Tx) error {
		seen := map[int64]bool{}
		for i, at := range ats {
			if !seen[at.CaseID] {
				if _, err := caseExists(ctx, tx, at.CaseID); err != nil {
					return reclaim.Errorf(reclaim.ENOTFOUND, "contact %s: case %d not found", at.ContactID, at.CaseID)
				}
				seen[at.CaseID] = true
			}
			act := &workout.Action{CaseID: at.CaseID, Kind: at.Channel, Channel: at.Channel, Outcome: at.Outcome, Actor: at.Agent,
				Agency: at.Agency, At: at.At, Note: "reported by agency " + at.Agency}
			if err := tx.insertAction(ctx, act); err != nil {
				return err
			}
			at.ActionID = act.ID
			if err := tx.insertAttempt(ctx, &at); err != nil {
				return err
			}
			out[i] = at
		}
		return nil
	})
	return out, dbError(err, "recording agency contacts")
}

const attemptCols = `id, case_id, contact_id, debt_id, channel, party, number_key, at, local_at, outcome, consent, agent, agency, source,
	pack, allowed, reasons, action_id`

func scanAttempt(r rowScanner, a *workout.Attempt) error {
	var reasons string
	var action sql.NullInt64
	err := r.Scan(&a.ID, &a.CaseID, &a.ContactID, &a.DebtID, &a.Channel, &a.Party, &a.NumberKey, instantScan{&a.At}, &a.LocalAt, &a.Outcome,
		&a.Consent, &a.Agent, &a.Agency, &a.Source, &a.Pack, boolScan{&a.Allowed}, &reasons, &action)
	a.Reasons = parseReasons(reasons)
	a.ActionID = action.Int64
	return err
}

func queryAttempts(ctx context.Context, q func(string, ...any) (*sql.Rows, error), query string, args ...any) ([]workout.Attempt, error) {
	rows, err := q(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []workout.Attempt
	for rows.Next() {
		var a workout.Attempt
		if err := scanAttempt(rows, &a); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ContactState loads what a compliance decision on a case needs: the case, its live consents,
// whether a notice was delivered, the first contact ever, and the contacts that happened at or
// after since (agency reports included; checks and denied attempts excluded), in time order.
// The history starts with the debtor's own contacts before since that CN-4 still reads (the
// last three, and the latest invalid_number), because whether the debtor is unreachable does
// not expire with the history window (workout.Decide's contract); they are older than every
// other contact of the history, so it stays in time order.
func (d *DB) ContactState(ctx context.Context, caseID int64, since time.Time) (workout.ContactState, error) {
	var st workout.ContactState
	err := d.ReadTx(ctx, func(tx *Tx) error {
		if err := scanCase(tx.QueryRow(ctx, `SELECT `+caseCols+` FROM cases c WHERE c.id = ?`, caseID), &st.Case); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "case %d not found", caseID)
		} else if err != nil {
			return err
		}
		var err error
		if st.Consents, err = tx.consents(ctx, caseID, true); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM notices WHERE case_id = ? AND delivered_on IS NOT NULL`, caseID).Scan(&n); err != nil {
			return err
		}
		st.NoticeDelivered = n > 0
		var firstT time.Time
		err = tx.QueryRow(ctx, `SELECT at FROM contact_attempts WHERE case_id = ? AND (source = 'agency' OR (allowed AND source <> 'check'))
			ORDER BY at LIMIT 1`, caseID).Scan(instantScan{&firstT})
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		st.FirstContact = firstT
		q := func(q string, a ...any) (*sql.Rows, error) { return tx.Query(ctx, q, a...) }
		// rn numbers the debtor's contacts before since from the latest, rk the same within
		// invalid_number and the rest, so rk = 1 on an invalid_number row is the latest one.
		older, err := queryAttempts(ctx, q, `SELECT `+attemptCols+` FROM (SELECT `+attemptCols+`,
				ROW_NUMBER() OVER (PARTITION BY case_id ORDER BY at DESC, id DESC) AS rn,
				ROW_NUMBER() OVER (PARTITION BY case_id, outcome = 'invalid_number' ORDER BY at DESC, id DESC) AS rk
			FROM contact_attempts WHERE case_id = ? AND party = 'debtor' AND at < ? AND (source = 'agency' OR (allowed AND source <> 'check'))) x
			WHERE rn <= 3 OR (outcome = 'invalid_number' AND rk = 1) ORDER BY at, id`, caseID, d.instant(since))
		if err != nil {
			return err
		}
		recent, err := queryAttempts(ctx, q,
			`SELECT `+attemptCols+` FROM contact_attempts WHERE case_id = ? AND at >= ? AND (source = 'agency' OR (allowed AND source <> 'check'))
			ORDER BY at, id`, caseID, d.instant(since))
		st.History = append(older, recent...)
		return err
	})
	return st, dbError(err, "loading a case's contact state")
}

// AttemptFilter selects contact attempts for the compliance report; zero fields do not filter.
type AttemptFilter struct {
	From, To time.Time // [From, To)
	Agent    string
	Agency   string
	CaseID   int64
	Limit    int // default 100,000
}

// Attempts lists contact attempts in time order.
func (d *DB) Attempts(ctx context.Context, f AttemptFilter) ([]workout.Attempt, error) {
	var where []string
	var args []any
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, d.instant(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, d.instant(f.To))
	}
	if f.Agent != "" {
		where, args = append(where, "agent = ?"), append(args, f.Agent)
	}
	if f.Agency != "" {
		where, args = append(where, "agency = ?"), append(args, f.Agency)
	}
	if f.CaseID != 0 {
		where, args = append(where, "case_id = ?"), append(args, f.CaseID)
	}
	q := `SELECT ` + attemptCols + ` FROM contact_attempts`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	lim := f.Limit
	if lim <= 0 {
		lim = 100000
	}
	q += " ORDER BY at, id LIMIT " + itoa(lim)
	out, err := queryAttempts(ctx, func(q string, a ...any) (*sql.Rows, error) { return d.r.QueryContext(ctx, d.rebind(q), a...) }, q, args...)
	return out, dbError(err, "listing contact attempts")
}

// SetCaseFlags sets a case's do-not-contact, deceased and bankrupt flags (nil leaves one as
// it is) and records the action.
func (d *DB) SetCaseFlags(ctx context.Context, caseID int64, dnc, deceased, bankrupt *bool, a workout.Action) (workout.Action, error) {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := caseExists(ctx, tx, caseID); err != nil {
			return err
		}
		for col, v := range map[string]*bool{"do_not_contact": dnc, "deceased": deceased, "bankrupt": bankrupt} {
			if v == nil {
				continue
			}
			if _, err := tx.Exec(ctx, `UPDATE cases SET `+col+` = ?, updated_at = ? WHERE id = ?`, *v, d.instant(d.nowUTC()), caseID); err != nil {
				return err
			}
		}
		a.CaseID = caseID
		return tx.insertAction(ctx, &a)
	})
	return a, dbError(err, "setting case flags")
}

// AddConsent records a consent (or do-not-contact, third-party stop, inconvenient time) and its
// action; a do-not-contact record also sets the case's flag.
func (d *DB) AddConsent(ctx context.Context, c workout.Consent) (workout.Consent, error) {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := caseExists(ctx, tx, c.CaseID); err != nil {
			return err
		}
		c.At = d.nowUTC()
		if err := tx.QueryRow(ctx, `INSERT INTO consents (case_id, kind, value, ref, actor, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			c.CaseID, c.Kind, c.Value, c.Ref, c.Actor, d.instant(c.At)).Scan(&c.ID); err != nil {
			return err
		}
		if c.Kind == workout.ConsentDoNotContact {
			if _, err := tx.Exec(ctx, `UPDATE cases SET do_not_contact = ?, updated_at = ? WHERE id = ?`, true, d.instant(c.At), c.CaseID); err != nil {
				return err
			}
		}
		return tx.insertAction(ctx, &workout.Action{CaseID: c.CaseID, Kind: workout.KindConsent, Channel: "", Outcome: c.Kind, Actor: c.Actor,
			At: c.At, Note: c.Kind + " recorded (ref " + c.Ref + ")"})
	})
	return c, dbError(err, "recording a consent")
}

// RevokeConsent revokes a consent record of the case (ENOTFOUND when absent or already
// revoked); revoking the last do-not-contact record clears the case's flag.
func (d *DB) RevokeConsent(ctx context.Context, caseID, id int64, actor string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		now := d.nowUTC()
		var kind string
		if err := tx.QueryRow(ctx, `SELECT kind FROM consents WHERE id = ? AND case_id = ? AND revoked_at IS NULL`, id, caseID).Scan(&kind); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "consent %d of case %d not found or already revoked", id, caseID)
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE consents SET revoked_at = ? WHERE id = ?`, d.instant(now), id); err != nil {
			return err
		}
		if kind == workout.ConsentDoNotContact {
			var left int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM consents WHERE case_id = ? AND kind = ? AND revoked_at IS NULL`, caseID, kind).Scan(&left); err != nil {
				return err
			}
			if left == 0 {
				if _, err := tx.Exec(ctx, `UPDATE cases SET do_not_contact = ?, updated_at = ? WHERE id = ?`, false, d.instant(now), caseID); err != nil {
					return err
				}
			}
		}
		return tx.insertAction(ctx, &workout.Action{CaseID: caseID, Kind: workout.KindConsent, Outcome: "revoked", Actor: actor, At: now,
			Note: kind + " revoked (record " + itoa(int(id)) + ")"})
	})
	return dbError(err, "revoking a consent")
}

func (t *Tx) consents(ctx context.Context, caseID int64, liveOnly bool) ([]workout.Consent, error) {
	q := `SELECT id, case_id, kind, value, ref, actor, at, revoked_at FROM consents WHERE case_id = ?`
	if liveOnly {
		q += ` AND revoked_at IS NULL`
	}
	rows, err := t.Query(ctx, q+` ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []workout.Consent
	for rows.Next() {
		var c workout.Consent
		if err := rows.Scan(&c.ID, &c.CaseID, &c.Kind, &c.Value, &c.Ref, &c.Actor, instantScan{&c.At}, instantScan{&c.RevokedAt}); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Consents lists a case's consent records, revoked ones included.
func (d *DB) Consents(ctx context.Context, caseID int64) ([]workout.Consent, error) {
	var out []workout.Consent
	err := d.ReadTx(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.consents(ctx, caseID, false)
		return err
	})
	return out, dbError(err, "listing consents")
}

// PlaceCase places a case with an agency (ECONFLICT when it is placed already) and records the
// action.
func (d *DB) PlaceCase(ctx context.Context, caseID int64, agency, actor, reason string) (workout.Placement, error) {
	p := workout.Placement{CaseID: caseID, Agency: agency, PlacedBy: actor, Reason: reason}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := caseExists(ctx, tx, caseID); err != nil {
			return err
		}
		var cur sql.NullString
		if err := tx.QueryRow(ctx, `SELECT agency FROM cases WHERE id = ?`, caseID).Scan(&cur); err != nil {
			return err
		}
		if cur.Valid && cur.String != "" {
			return reclaim.Errorf(reclaim.ECONFLICT, "case %d is placed with %s already: recall it first", caseID, cur.String)
		}
		p.PlacedAt = d.nowUTC()
		if err := tx.QueryRow(ctx, `INSERT INTO placements (case_id, agency, placed_at, placed_by, reason) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			caseID, agency, d.instant(p.PlacedAt), actor, reason).Scan(&p.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET agency = ?, updated_at = ? WHERE id = ?`, agency, d.instant(p.PlacedAt), caseID); err != nil {
			return err
		}
		return tx.insertAction(ctx, &workout.Action{CaseID: caseID, Kind: workout.KindPlacement, Outcome: "placed", Actor: actor, Agency: agency,
			At: p.PlacedAt, Note: reason})
	})
	return p, dbError(err, "placing a case")
}

// RecallCase ends a case's open placement (ECONFLICT when it has none) and records the action.
func (d *DB) RecallCase(ctx context.Context, caseID int64, actor, reason string) (workout.Placement, error) {
	var p workout.Placement
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := caseExists(ctx, tx, caseID); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `SELECT id, case_id, agency, placed_at, placed_by, reason FROM placements WHERE case_id = ? AND recalled_at IS NULL
			ORDER BY id DESC LIMIT 1`, caseID).Scan(&p.ID, &p.CaseID, &p.Agency, instantScan{&p.PlacedAt}, &p.PlacedBy, &p.Reason)
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ECONFLICT, "case %d is not placed with an agency", caseID)
		}
		if err != nil {
			return err
		}
		p.RecalledAt, p.RecalledBy = d.nowUTC(), actor
		if _, err := tx.Exec(ctx, `UPDATE placements SET recalled_at = ?, recalled_by = ? WHERE id = ?`, d.instant(p.RecalledAt), actor, p.ID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE cases SET agency = NULL, updated_at = ? WHERE id = ?`, d.instant(p.RecalledAt), caseID); err != nil {
			return err
		}
		return tx.insertAction(ctx, &workout.Action{CaseID: caseID, Kind: workout.KindRecall, Outcome: "recalled", Actor: actor, Agency: p.Agency,
			At: p.RecalledAt, Note: reason})
	})
	return p, dbError(err, "recalling a case")
}

// PlacementFilter selects placements; zero fields do not filter.
type PlacementFilter struct {
	Agency   string
	CaseID   int64
	OpenOnly bool
}

// Placements lists placements in id order.
func (d *DB) Placements(ctx context.Context, f PlacementFilter) ([]workout.Placement, error) {
	q := `SELECT id, case_id, agency, placed_at, placed_by, recalled_at, recalled_by, reason FROM placements WHERE 1 = 1`
	var args []any
	if f.Agency != "" {
		q, args = q+" AND agency = ?", append(args, f.Agency)
	}
	if f.CaseID != 0 {
		q, args = q+" AND case_id = ?", append(args, f.CaseID)
	}
	if f.OpenOnly {
		q += " AND recalled_at IS NULL"
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(q+" ORDER BY id LIMIT 10000"), args...)
	if err != nil {
		return nil, dbError(err, "listing placements")
	}
	defer rows.Close()
	var out []workout.Placement
	for rows.Next() {
		var p workout.Placement
		if err := rows.Scan(&p.ID, &p.CaseID, &p.Agency, instantScan{&p.PlacedAt}, &p.PlacedBy, instantScan{&p.RecalledAt}, textScan{&p.RecalledBy}, &p.Reason); err != nil {
			return nil, dbError(err, "listing placements")
		}
		out = append(out, p)
	}
	return out, dbError(rows.Err(), "listing placements")
}

// SetAgencyMember makes username a member of agency ("" removes the membership).
func (d *DB) SetAgencyMember(ctx context.Context, username, agency string) error {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM agency_members WHERE username = ?`, username); err != nil {
			return err
		}
		if agency == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `INSERT INTO agency_members (username, agency) VALUES (?, ?)`, username, agency)
		return err
	})
	return dbError(err, "setting an agency membership")
}

// AgencyOf returns the agency username belongs to ("" when none).
func (d *DB) AgencyOf(ctx context.Context, username string) (string, error) {
	var a string
	err := d.r.QueryRowContext(ctx, d.rebind(`SELECT agency FROM agency_members WHERE username = ?`), username).Scan(&a)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return a, dbError(err, "reading an agency membership")
}

// AddComplaint records a complaint on a case and its action.
func (d *DB) AddComplaint(ctx context.Context, c workout.Complaint) (workout.Complaint, error) {
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := caseExists(ctx, tx, c.CaseID); err != nil {
			return err
		}
		c.CreatedAt, c.Status = d.nowUTC(), "open"
		if err := tx.QueryRow(ctx, `INSERT INTO complaints (case_id, channel, received_on, summary, status, actor, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, c.CaseID, c.Channel, dateArg(c.ReceivedOn), c.Summary, c.Status, c.Actor,
			d.instant(c.CreatedAt)).Scan(&c.ID); err != nil {
			return err
		}
		return tx.insertAction(ctx, &workout.Action{CaseID: c.CaseID, Kind: workout.KindComplaint, Channel: c.Channel, Outcome: "open", Actor: c.Actor,
			At: c.CreatedAt, Effective: c.ReceivedOn, Note: c.Summary})
	})
	return c, dbError(err, "recording a complaint")
}

// HandleComplaint records a complaint's handling (ENOTFOUND when the complaint is not the case's,
// ECONFLICT when it was handled already).
func (d *DB) HandleComplaint(ctx context.Context, caseID, id int64, actor, resolution string) (workout.Complaint, error) {
	var c workout.Complaint
	err := d.WriteTx(ctx, func(tx *Tx) error {
		err := tx.QueryRow(ctx, `SELECT id, case_id, channel, received_on, summary, status, actor, created_at FROM complaints WHERE id = ? AND case_id = ?`,
			id, caseID).Scan(&c.ID, &c.CaseID, &c.Channel, dateScan{&c.ReceivedOn}, &c.Summary, &c.Status, &c.Actor, instantScan{&c.CreatedAt})
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "complaint %d of case %d not found", id, caseID)
		}
		if err != nil {
			return err
		}
		if c.Status != "open" {
			return reclaim.Errorf(reclaim.ECONFLICT, "complaint %d was handled already", id)
		}
		c.Status, c.HandledBy, c.HandledAt, c.Resolution = "handled", actor, d.nowUTC(), resolution
		if _, err := tx.Exec(ctx, `UPDATE complaints SET status = ?, handled_by = ?, handled_at = ?, resolution = ? WHERE id = ?`,
			c.Status, actor, d.instant(c.HandledAt), resolution, id); err != nil {
			return err
		}
		return tx.insertAction(ctx, &workout.Action{CaseID: caseID, Kind: workout.KindHandled, Channel: c.Channel, Outcome: "handled", Actor: actor,
			At: c.HandledAt, Note: resolution})
	})
	return c, dbError(err, "handling a complaint")
}

// Complaints lists a case's complaints.
func (d *DB) Complaints(ctx context.Context, caseID int64) ([]workout.Complaint, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT id, case_id, channel, received_on, summary, status, actor, created_at, handled_by,
		handled_at, resolution FROM complaints WHERE case_id = ? ORDER BY id`), caseID)
	if err != nil {
		return nil, dbError(err, "listing complaints")
	}
	defer rows.Close()
	var out []workout.Complaint
	for rows.Next() {
		var c workout.Complaint
		if err := rows.Scan(&c.ID, &c.CaseID, &c.Channel, dateScan{&c.ReceivedOn}, &c.Summary, &c.Status, &c.Actor, instantScan{&c.CreatedAt},
			textScan{&c.HandledBy}, instantScan{&c.HandledAt}, textScan{&c.Resolution}); err != nil {
			return nil, dbError(err, "listing complaints")
		}
		out = append(out, c)
	}
	return out, dbError(rows.Err(), "listing complaints")
}

// Notices lists a case's notices of assignment.
func (d *DB) Notices(ctx context.Context, caseID int64) ([]workout.Notice, error) {
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT id, case_id, acquisition_id, kind, body_text, body_html, created_at, delivered_on,
		channel, proof_ref, delivered_by FROM notices WHERE case_id = ? ORDER BY id`), caseID)
	if err != nil {
		return nil, dbError(err, "listing notices")
	}
	defer rows.Close()
	var out []workout.Notice
	for rows.Next() {
		var n workout.Notice
		if err := rows.Scan(&n.ID, &n.CaseID, &n.AcquisitionID, &n.Kind, &n.Text, &n.HTML, instantScan{&n.CreatedAt}, dateScan{&n.DeliveredOn},
			textScan{&n.Channel}, textScan{&n.ProofRef}, textScan{&n.DeliveredBy}); err != nil {
			return nil, dbError(err, "listing notices")
		}
		out = append(out, n)
	}
	return out, dbError(rows.Err(), "listing notices")
}

// DeliverNotice records a notice's delivery (channel, date, proof), which interrupts the
// limitation period of the loans the notice assigned (a notice_delivered limitation event per
// loan of its acquisition in the case), and its action.
// ENOTFOUND when the notice is not the case's; ECONFLICT when it was delivered already.
func (d *DB) DeliverNotice(ctx context.Context, caseID, noticeID int64, on date.Date, channel, proof, actor string) (workout.Notice, error) {
	var n workout.Notice
	err := d.WriteTx(ctx, func(tx *Tx) error {
		var delivered date.Date
		err := tx.QueryRow(ctx, `SELECT id, case_id, acquisition_id, kind, created_at, delivered_on FROM notices WHERE id = ? AND case_id = ?`,
			noticeID, caseID).Scan(&n.ID, &n.CaseID, &n.AcquisitionID, &n.Kind, instantScan{&n.CreatedAt}, dateScan{&delivered})
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "notice %d of case %d not found", noticeID, caseID)
		}
		if err != nil {
			return err
		}
		if !delivered.IsZero() {
			return reclaim.Errorf(reclaim.ECONFLICT, "notice %d was delivered on %s already", noticeID, delivered)
		}
		now := d.nowUTC()
		if _, err := tx.Exec(ctx, `UPDATE notices SET delivered_on = ?, channel = ?, proof_ref = ?, delivered_by = ?, delivered_at = ? WHERE id = ?`,
			dateArg(on), channel, proof, actor, d.instant(now), noticeID); err != nil {
			return err
		}
		n.DeliveredOn, n.Channel, n.ProofRef, n.DeliveredBy = on, channel, proof, actor
		// The notice interrupts the limitation of the loans it assigned (this acquisition's loans
		// in the case), not of the debtor's loans bought elsewhere.
		rows, err := tx.Query(ctx, `SELECT loan_id FROM accounts WHERE case_id = ? AND acquisition_id = ? ORDER BY loan_id`, caseID, n.AcquisitionID)
		if err != nil {
			return err
		}
		var loans []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			loans = append(loans, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		args := make([]any, 0, 6*len(loans))
		for _, id := range loans {
			args = append(args, caseID, id, string(workout.LimNoticeDelivered), dateArg(on), "notice:"+itoa(int(noticeID)), d.instant(now))
		}
		if err := insertBatch(ctx, tx, "limitation_events", "case_id, loan_id, kind, on_date, ref, at", 6, args); err != nil {
			return err
		}
		if err := tx.insertAction(ctx, &workout.Action{CaseID: caseID, Kind: workout.KindNotice, Channel: channel, Outcome: "delivered", Actor: actor,
			At: now, Effective: on, Note: "notice of assignment delivered (proof " + proof + ")"}); err != nil {
			return err
		}
		return tx.refreshCaseLimitation(ctx, caseID, now)
	})
	return n, dbError(err, "recording a notice delivery")
}

// Timeline returns everything on a case in time order: actions, denied or checked contact
// attempts (allowed ones are their actions), balance movements and notices.
func (d *DB) Timeline(ctx context.Context, caseID int64, limit int) ([]workout.TimelineItem, error) {
	if limit <= 0 {
		limit = 500
	}
	var items []workout.TimelineItem
	err := d.ReadTx(ctx, func(tx *Tx) error {
		items = items[:0]
		cur, err := caseExists(ctx, tx, caseID)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, case_id, kind, channel, outcome, actor, agency, at, effective, recording_ref, amount_minor, note,
			detail_json FROM case_actions WHERE case_id = ? ORDER BY at DESC, id DESC LIMIT `+itoa(limit), caseID)
		if err != nil {
			return err
		}
		for rows.Next() {
			var a workout.Action
			var amt amountScan
			if err := rows.Scan(&a.ID, &a.CaseID, &a.Kind, &a.Channel, &a.Outcome, &a.Actor, textScan{&a.Agency}, instantScan{&a.At},
				dateScan{&a.Effective}, textScan{&a.RecordingRef}, &amt, &a.Note, textScan{&a.Detail}); err != nil {
				rows.Close()
				return err
			}
			a.Amount = amt.amount(money.Currency(cur))
			items = append(items, workout.TimelineItem{At: a.At, Type: "action", Kind: a.Kind, Actor: a.Actor, Summary: summarize(a), Action: &a})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ats, err := queryAttempts(ctx, func(q string, a ...any) (*sql.Rows, error) { return tx.Query(ctx, q, a...) },
			`SELECT `+attemptCols+` FROM contact_attempts WHERE case_id = ? AND action_id IS NULL ORDER BY at DESC, id DESC LIMIT `+itoa(limit), caseID)
		if err != nil {
			return err
		}
		for i := range ats {
			a := ats[i]
			kind := "contact_denied"
			if a.Allowed {
				kind = "contact_checked"
			}
			var rules []string
			for _, v := range a.Reasons {
				rules = append(rules, v.Rule)
			}
			items = append(items, workout.TimelineItem{At: a.At, Type: "attempt", Kind: kind, Actor: a.Agent,
				Summary: a.Channel + " " + kind + " " + strings.Join(rules, ","), Attempt: &a})
		}
		ms, err := d.movementsTx(ctx, tx, caseID, limit)
		if err != nil {
			return err
		}
		for i := range ms {
			m := ms[i]
			items = append(items, workout.TimelineItem{At: m.At, Type: "movement", Kind: m.Type, Actor: m.Actor,
				Summary: m.Type + " " + m.Amount.String() + " (" + m.Reference + ")", Movement: &m})
		}
		return nil
	})
	if err != nil {
		return nil, dbError(err, "reading a case timeline")
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].At.After(items[j].At) })
	if len(items) > limit {
		items = items[:limit]
	}
	return items, nil
}

func summarize(a workout.Action) string {
	s := a.Kind
	if a.Outcome != "" {
		s += " " + a.Outcome
	}
	if a.Note != "" {
		s += ": " + a.Note
	}
	return s
}

func (d *DB) movementsTx(ctx context.Context, tx *Tx, caseID int64, limit int) ([]workout.Movement, error) {
	rows, err := tx.Query(ctx, `SELECT id, loan_id, case_id, type, amount_minor, principal_minor, interest_minor, fees_minor,
		currency, effective, reference, actor, at FROM account_movements WHERE case_id = ? ORDER BY id DESC LIMIT `+itoa(limit), caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []workout.Movement
	for rows.Next() {
		var m workout.Movement
		var a, p, i, f int64
		var cur string
		if err := rows.Scan(&m.ID, &m.LoanID, &m.CaseID, &m.Type, &a, &p, &i, &f, &cur, dateScan{&m.Effective}, &m.Reference, &m.Actor,
			instantScan{&m.At}); err != nil {
			return nil, err
		}
		c := money.Currency(cur)
		m.Amount, m.Principal, m.Interest, m.Fees = money.New(a, c), money.New(p, c), money.New(i, c), money.New(f, c)
		out = append(out, m)
	}
	return out, rows.Err()
}
