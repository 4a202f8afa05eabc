package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"

	"reclaim"
	"reclaim/workout"
)

// Campaign storage (docs/workout-api.md, "Campaigns"). The rules (validation, the per-debtor
// cap, the compliance decision) are in package workout; workout/service sends a campaign batch
// by batch: ClaimCampaign, CampaignCases, ContactStates, RecordCampaignBatch, FinishCampaign.

const campaignCols = `id, name, channel, template, selection, max_per_day, scheduled_at, status, total, done, sent, denied, by_rule,
	created_by, created_at, started_at, finished_at, cursor_id`

func scanCampaign(r rowScanner, c *workout.Campaign) error {
	var sel, byRule string
	if err := r.Scan(&c.ID, &c.Name, &c.Channel, &c.Template, &sel, &c.MaxPerDay, instantScan{&c.ScheduledAt}, &c.Status, &c.Total, &c.Done,
		&c.Sent, &c.Denied, &byRule, &c.CreatedBy, instantScan{&c.CreatedAt}, instantScan{&c.StartedAt}, instantScan{&c.FinishedAt}, &c.Cursor); err != nil {
		return err
	}
	c.ByRule = map[string]int64{}
	if err := json.Unmarshal([]byte(sel), &c.Selection); err != nil {
		return err
	}
	return json.Unmarshal([]byte(byRule), &c.ByRule)
}

// CreateCampaign stores a validated campaign (status scheduled). Idempotent by (createdBy,
// spec.Key): the same request again returns the stored campaign with created false; the same key
// with a different request is ECONFLICT.
func (d *DB) CreateCampaign(ctx context.Context, spec workout.CampaignSpec, createdBy string) (workout.Campaign, bool, error) {
	hash := spec.Hash()
	sel, err := json.Marshal(spec.Selection)
	if err != nil {
		return workout.Campaign{}, false, err
	}
	var c workout.Campaign
	created := false
	find := func(tx *Tx) (bool, error) {
		var have string
		var id int64
		err := tx.QueryRow(ctx, `SELECT id, request_hash FROM campaigns WHERE created_by = ? AND idem_key = ?`, createdBy, spec.Key).Scan(&id, &have)
		if err == sql.ErrNoRows {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if have != hash {
			return true, &reclaim.Error{Code: reclaim.ECONFLICT, Message: "key " + spec.Key + " was used for another campaign; use a new key for a new campaign",
				Fields: map[string]string{"field": "key", "value": spec.Key, "rule": "idempotency"}}
		}
		return true, scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id), &c)
	}
	for range 2 {
		err = d.WriteTx(ctx, func(tx *Tx) error {
			created = false
			if ok, err := find(tx); ok || err != nil {
				return err
			}
			now := d.nowUTC()
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO campaigns (created_by, idem_key, request_hash, name, channel, template, selection, max_per_day,
				scheduled_at, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, createdBy, spec.Key, hash, spec.Name,
				spec.Channel, spec.Template, string(sel), spec.MaxPerDay, d.instant(spec.ScheduledAt.UTC().Truncate(time.Microsecond)),
				workout.CampaignScheduled, d.instant(now)).Scan(&id); err != nil {
				return err
			}
			created = true
			return scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id), &c)
		})
		if err == nil || !isUniqueViolation(err) {
			break
		}
		// A concurrent identical request won the insert: the next round finds it.
	}
	return c, created, dbError(err, "creating a campaign")
}

// GetCampaign returns one campaign (ENOTFOUND when there is none).
func (d *DB) GetCampaign(ctx context.Context, id int64) (workout.Campaign, error) {
	var c workout.Campaign
	err := scanCampaign(d.r.QueryRowContext(ctx, d.rebind(`SELECT `+campaignCols+` FROM campaigns WHERE id = ?`), id), &c)
	if err == sql.ErrNoRows {
		return c, reclaim.Errorf(reclaim.ENOTFOUND, "campaign %d not found", id)
	}
	return c, dbError(err, "reading a campaign")
}

// ListCampaigns lists campaigns, newest first (at most limit, default 100).
func (d *DB) ListCampaigns(ctx context.Context, limit int) ([]workout.Campaign, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT `+campaignCols+` FROM campaigns ORDER BY id DESC LIMIT ?`), limit)
	if err != nil {
		return nil, dbError(err, "listing campaigns")
	}
	defer rows.Close()
	out := []workout.Campaign{}
	for rows.Next() {
		var c workout.Campaign
		if err := scanCampaign(rows, &c); err != nil {
			return nil, dbError(err, "listing campaigns")
		}
		out = append(out, c)
	}
	return out, dbError(rows.Err(), "listing campaigns")
}

// campaignWhere is the selection as SQL over cases c: open cases, the explicit ids or the
// filters, ids after the cursor.
func campaignWhere(c workout.Campaign, after int64) (string, []any) {
	where := []string{"c.status = ?", "c.id > ?"}
	args := []any{workout.CaseOpen, after}
	s := c.Selection
	if len(s.CaseIDs) > 0 {
		return strings.Join(where, " AND "), args // the ids are applied by the caller, in chunks
	}
	if s.PortfolioID != 0 {
		where, args = append(where, "c.id IN (SELECT a.case_id FROM accounts a WHERE a.portfolio_id = ?)"), append(args, s.PortfolioID)
	}
	if s.Assignee != "" {
		where, args = append(where, "c.assignee = ?"), append(args, s.Assignee)
	}
	if s.Agency != "" {
		where, args = append(where, "c.agency = ?"), append(args, s.Agency)
	}
	return strings.Join(where, " AND "), args
}

// CampaignCases returns the next open cases the campaign selects (ids ascending, greater than
// after, at most limit), as they are now, and the cursor to continue after; the selection is
// exhausted when the cursor does not move. With explicit case ids the cursor moves over ids
// that are closed or unknown too.
func (d *DB) CampaignCases(ctx context.Context, c workout.Campaign, after int64, limit int) ([]int64, int64, error) {
	where, args := campaignWhere(c, after)
	cursor := after
	if len(c.Selection.CaseIDs) > 0 {
		var next []any
		for _, id := range c.Selection.CaseIDs {
			if id > after && len(next) < limit {
				next = append(next, id)
				cursor = id
			}
		}
		if len(next) == 0 {
			return nil, after, nil
		}
		where += " AND c.id IN (?" + strings.Repeat(",?", len(next)-1) + ")"
		args = append(args, next...)
	}
	rows, err := d.r.QueryContext(ctx, d.rebind(`SELECT c.id FROM cases c WHERE `+where+` ORDER BY c.id LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, after, dbError(err, "selecting a campaign's cases")
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, after, dbError(err, "selecting a campaign's cases")
		}
		ids = append(ids, id)
		if len(c.Selection.CaseIDs) == 0 {
			cursor = id
		}
	}
	return ids, cursor, dbError(rows.Err(), "selecting a campaign's cases")
}

// countCampaignCases counts the open cases the campaign selects.
func (t *Tx) countCampaignCases(ctx context.Context, c workout.Campaign) (int64, error) {
	where, args := campaignWhere(c, 0)
	if ids := c.Selection.CaseIDs; len(ids) > 0 {
		var n int64
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			a := append([]any{}, args...)
			for _, id := range chunk {
				a = append(a, id)
			}
			var k int64
			if err := t.QueryRow(ctx, `SELECT COUNT(*) FROM cases c WHERE `+where+` AND c.id IN (?`+strings.Repeat(",?", len(chunk)-1)+`)`, a...).Scan(&k); err != nil {
				return 0, err
			}
			n += k
		}
		return n, nil
	}
	var n int64
	err := t.QueryRow(ctx, `SELECT COUNT(*) FROM cases c WHERE `+where, args...).Scan(&n)
	return n, err
}

// ClaimCampaign takes the lease of one due campaign (scheduled at or before now, not done, its
// lease free or expired) for owner until now+lease, marks it running and, the first time,
// counts its cases. ok is false when none is due. Two runners never hold one campaign: the
// conditional update lets one of them win.
func (d *DB) ClaimCampaign(ctx context.Context, owner string, now time.Time, lease time.Duration) (workout.Campaign, bool, error) {
	var c workout.Campaign
	ok := false
	err := d.WriteTx(ctx, func(tx *Tx) error {
		ok = false
		var id int64
		nowArg := d.instant(now.UTC().Truncate(time.Microsecond))
		err := tx.QueryRow(ctx, `SELECT id FROM campaigns WHERE status <> ? AND scheduled_at <= ? AND (lease_until IS NULL OR lease_until < ?)
			ORDER BY scheduled_at, id LIMIT 1`, workout.CampaignDone, nowArg, nowArg).Scan(&id)
		if err == sql.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE campaigns SET status = ?, lease_owner = ?, lease_until = ? WHERE id = ? AND status <> ?
			AND (lease_until IS NULL OR lease_until < ?)`, workout.CampaignRunning, owner, d.instant(now.Add(lease).UTC().Truncate(time.Microsecond)),
			id, workout.CampaignDone, nowArg)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil // another runner took it
		}
		if err := scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id), &c); err != nil {
			return err
		}
		if c.StartedAt.IsZero() {
			total, err := tx.countCampaignCases(ctx, c)
			if err != nil {
				return err
			}
			c.Total, c.StartedAt = total, d.nowUTC()
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET total = ?, started_at = ? WHERE id = ?`, total, d.instant(c.StartedAt), id); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	return c, ok, dbError(err, "claiming a campaign")
}

// ContactStates loads the contact state of many cases at once (what ContactState loads for one):
// the case, its live consents, whether a notice was delivered, its first contact and the
// contacts that happened since. Unlike ContactState it does not add the debtor's older contacts
// that CN-4 reads: its callers (campaigns, the day's queue) decide contacts with the debtor
// only, which CN-4 never checks.
func (d *DB) ContactStates(ctx context.Context, ids []int64, since time.Time) (map[int64]*workout.ContactState, error) {
	out := make(map[int64]*workout.ContactState, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	in := "(?" + strings.Repeat(",?", len(ids)-1) + ")"
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	const happened = `(source = 'agency' OR (allowed AND source <> 'check'))`
	err := d.ReadTx(ctx, func(tx *Tx) error {
		clear(out)
		rows, err := tx.Query(ctx, `SELECT `+caseCols+` FROM cases c WHERE c.id IN `+in, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			st := &workout.ContactState{}
			if err := scanCase(rows, &st.Case); err != nil {
				rows.Close()
				return err
			}
			out[st.Case.ID] = st
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		if rows, err = tx.Query(ctx, `SELECT id, case_id, kind, value, ref, actor, at, revoked_at FROM consents WHERE revoked_at IS NULL AND case_id IN `+in+` ORDER BY id`, args...); err != nil {
			return err
		}
		for rows.Next() {
			var c workout.Consent
			if err := rows.Scan(&c.ID, &c.CaseID, &c.Kind, &c.Value, &c.Ref, &c.Actor, instantScan{&c.At}, instantScan{&c.RevokedAt}); err != nil {
				rows.Close()
				return err
			}
			if st := out[c.CaseID]; st != nil {
				st.Consents = append(st.Consents, c)
			}
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		if rows, err = tx.Query(ctx, `SELECT DISTINCT case_id FROM notices WHERE delivered_on IS NOT NULL AND case_id IN `+in, args...); err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			if st := out[id]; st != nil {
				st.NoticeDelivered = true
			}
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		if rows, err = tx.Query(ctx, `SELECT case_id, MIN(at) FROM contact_attempts WHERE `+happened+` AND case_id IN `+in+` GROUP BY case_id`, args...); err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var first time.Time
			if err := rows.Scan(&id, instantScan{&first}); err != nil {
				rows.Close()
				return err
			}
			if st := out[id]; st != nil {
				st.FirstContact = first
			}
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		hist, err := queryAttempts(ctx, func(q string, a ...any) (*sql.Rows, error) { return tx.Query(ctx, q, a...) },
			`SELECT `+attemptCols+` FROM contact_attempts WHERE case_id IN `+in+` AND at >= ? AND `+happened+` ORDER BY case_id, at, id`,
			append(append([]any{}, args...), d.instant(since))...)
		if err != nil {
			return err
		}
		for _, a := range hist {
			if st := out[a.CaseID]; st != nil {
				st.History = append(st.History, a)
			}
		}
		return nil
	})
	return out, dbError(err, "loading contact states")
}

func closeRows(rows *sql.Rows) error {
	if err := rows.Err(); err != nil {
		rows.Close()
		return err
	}
	return rows.Close()
}

// CampaignItem is one case's decided contact: the attempt (allowed or denied) and, when allowed,
// the action on the case's timeline.
type CampaignItem struct {
	Attempt workout.Attempt
	Action  *workout.Action
}

// RecordCampaignBatch records a batch of decided contacts in one transaction, moves the cursor
// and the counters, and renews the lease, only while owner still holds the campaign (ECONFLICT
// otherwise: nothing is written). A case already recorded for the campaign is skipped, so a batch
// retried after a crash or a lost lease never sends twice. It returns the campaign as stored.
func (d *DB) RecordCampaignBatch(ctx context.Context, id int64, owner string, items []CampaignItem, cursor int64, leaseUntil time.Time) (workout.Campaign, error) {
	var c workout.Campaign
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if err := scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ? AND lease_owner = ? AND status = ?`,
			id, owner, workout.CampaignRunning), &c); err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ECONFLICT, "campaign %d: the lease of %s was lost", id, owner)
		} else if err != nil {
			return err
		}
		done := map[int64]bool{}
		if len(items) > 0 {
			args := []any{id}
			for _, it := range items {
				args = append(args, it.Attempt.CaseID)
			}
			rows, err := tx.Query(ctx, `SELECT case_id FROM campaign_items WHERE campaign_id = ? AND case_id IN (?`+strings.Repeat(",?", len(items)-1)+`)`, args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var cid int64
				if err := rows.Scan(&cid); err != nil {
					rows.Close()
					return err
				}
				done[cid] = true
			}
			if err := closeRows(rows); err != nil {
				return err
			}
		}
		var todo []CampaignItem
		for _, it := range items {
			if !done[it.Attempt.CaseID] {
				done[it.Attempt.CaseID] = true
				todo = append(todo, it)
			}
		}
		// Multi-row inserts, a chunk at a time: actions, then attempts (with their action ids),
		// then the campaign's items. One case appears once per batch, so RETURNING's case_id
		// maps each new row back to its case.
		for start := 0; start < len(todo); start += campaignInsertChunk {
			if err := tx.insertCampaignChunk(ctx, id, todo[start:min(start+campaignInsertChunk, len(todo))]); err != nil {
				return err
			}
		}
		for _, it := range todo {
			at := it.Attempt
			c.Done++
			if at.Allowed {
				c.Sent++
			} else {
				c.Denied++
			}
			for _, r := range at.Reasons {
				c.ByRule[r.Rule]++
			}
		}
		byRule, _ := json.Marshal(c.ByRule)
		if cursor > c.Cursor {
			c.Cursor = cursor
		}
		_, err := tx.Exec(ctx, `UPDATE campaigns SET done = ?, sent = ?, denied = ?, by_rule = ?, cursor_id = ?, lease_until = ? WHERE id = ?`,
			c.Done, c.Sent, c.Denied, string(byRule), c.Cursor, d.instant(leaseUntil.UTC().Truncate(time.Microsecond)), id)
		return err
	})
	return c, dbError(err, "recording a campaign batch")
}

// FinishCampaign marks the campaign done and frees its lease (only by its owner).
func (d *DB) FinishCampaign(ctx context.Context, id int64, owner string) (workout.Campaign, error) {
	var c workout.Campaign
	err := d.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE campaigns SET status = ?, finished_at = ?, lease_owner = NULL, lease_until = NULL
			WHERE id = ? AND lease_owner = ? AND status = ?`, workout.CampaignDone, d.instant(d.nowUTC()), id, owner, workout.CampaignRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return reclaim.Errorf(reclaim.ECONFLICT, "campaign %d: the lease of %s was lost", id, owner)
		}
		return scanCampaign(tx.QueryRow(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = ?`, id), &c)
	})
	return c, dbError(err, "finishing a campaign")
}

// campaignInsertChunk bounds the rows of one multi-row insert (17 parameters an attempt: well
// under SQLite's and PostgreSQL's limits).
const campaignInsertChunk = 250

func (t *Tx) insertCampaignChunk(ctx context.Context, campaignID int64, items []CampaignItem) error {
	scanIDs := func(rows *sql.Rows, into map[int64]int64) error {
		for rows.Next() {
			var id, caseID int64
			if err := rows.Scan(&id, &caseID); err != nil {
				rows.Close()
				return err
			}
			into[caseID] = id
		}
		return closeRows(rows)
	}
	actionIDs := map[int64]int64{}
	var q strings.Builder
	var args []any
	for _, it := range items {
		if it.Action == nil {
			continue
		}
		a := *it.Action
		if a.At.IsZero() {
			a.At = t.db.nowUTC()
		}
		if len(args) > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, it.Attempt.CaseID, a.Kind, a.Channel, a.Outcome, a.Actor, textArg(a.Agency), t.db.instant(a.At), a.Note)
	}
	if len(args) > 0 {
		rows, err := t.Query(ctx, `INSERT INTO case_actions (case_id, kind, channel, outcome, actor, agency, at, note) VALUES `+q.String()+
			` RETURNING id, case_id`, args...)
		if err != nil {
			return err
		}
		if err := scanIDs(rows, actionIDs); err != nil {
			return err
		}
	}
	q.Reset()
	args = args[:0]
	for i, it := range items {
		at := it.Attempt
		if at.Reasons == nil {
			at.Reasons = []workout.ContactReason{}
		}
		reasons, err := json.Marshal(at.Reasons)
		if err != nil {
			return err
		}
		var action any
		if id, ok := actionIDs[at.CaseID]; ok {
			action = id
		}
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
		args = append(args, at.CaseID, at.ContactID, at.DebtID, at.Channel, at.Party, at.NumberKey, t.db.instant(at.At), at.LocalAt, at.Outcome,
			at.Consent, at.Agent, at.Agency, at.Source, at.Pack, at.Allowed, string(reasons), action)
	}
	attemptIDs := map[int64]int64{}
	rows, err := t.Query(ctx, `INSERT INTO contact_attempts (case_id, contact_id, debt_id, channel, party, number_key, at, local_at, outcome,
		consent, agent, agency, source, pack, allowed, reasons, action_id) VALUES `+q.String()+` RETURNING id, case_id`, args...)
	if err != nil {
		return err
	}
	if err := scanIDs(rows, attemptIDs); err != nil {
		return err
	}
	q.Reset()
	args = args[:0]
	for i, it := range items {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?, ?, ?, ?)")
		args = append(args, campaignID, it.Attempt.CaseID, attemptIDs[it.Attempt.CaseID], it.Attempt.Allowed)
	}
	_, err = t.Exec(ctx, `INSERT INTO campaign_items (campaign_id, case_id, attempt_id, allowed) VALUES `+q.String(), args...)
	return err
}
