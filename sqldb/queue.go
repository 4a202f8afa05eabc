package sqldb

import (
	"context"
	"encoding/hex"

	"reclaim"
	"reclaim/date"
	"reclaim/workout"
)

// The live daily queue's loads and stores (workout/service/queue.go plans; workout.PlanQueue
// decides). Nothing here decides anything.

// QueueCandidate is an open case as the day's plan reads it.
type QueueCandidate struct {
	CaseID      int64
	Assignee    string
	Agency      string
	Arm         string // "champion", "challenger" or "" (no arm drawn)
	DaysPastDue int    // the largest days past due of its loans at their tape's cut-off
	// NumberKey is the hex blind index of one of the debtor's phone numbers ("" none known).
	NumberKey string
}

// QueueCandidates returns every open case by id with its arm, assignee, agency, days past due
// and a phone's blind index.
func (d *DB) QueueCandidates(ctx context.Context) ([]QueueCandidate, error) {
	var out []QueueCandidate
	err := d.ReadTx(ctx, func(tx *Tx) error {
		out = out[:0]
		at := map[int64]int{}
		rows, err := tx.Query(ctx, `SELECT c.id, c.assignee, c.agency, x.arm
			FROM cases c LEFT JOIN case_arms x ON x.case_id = c.id WHERE c.status = 'open' ORDER BY c.id`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var q QueueCandidate
			if err := rows.Scan(&q.CaseID, textScan{&q.Assignee}, textScan{&q.Agency}, textScan{&q.Arm}); err != nil {
				rows.Close()
				return err
			}
			at[q.CaseID] = len(out)
			out = append(out, q)
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		// One grouped read each (case_keys has no index by case: a per-case subquery would
		// scan it once per case).
		if rows, err = tx.Query(ctx, `SELECT a.case_id, MAX(l.days_past_due) FROM accounts a JOIN loans l ON l.id = a.loan_id GROUP BY a.case_id`); err != nil {
			return err
		}
		for rows.Next() {
			var id, dpd int64
			if err := rows.Scan(&id, &dpd); err != nil {
				rows.Close()
				return err
			}
			if k, ok := at[id]; ok {
				out[k].DaysPastDue = int(dpd)
			}
		}
		if err := closeRows(rows); err != nil {
			return err
		}
		if rows, err = tx.Query(ctx, `SELECT case_id, hash FROM case_keys WHERE kind = 'phone'`); err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var key []byte
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return err
			}
			// The smallest hash of the case's numbers: the same number on every run.
			if k, ok := at[id]; ok && len(key) > 0 {
				if h := hex.EncodeToString(key); out[k].NumberKey == "" || h < out[k].NumberKey {
					out[k].NumberKey = h
				}
			}
		}
		return closeRows(rows)
	})
	return out, dbError(err, "loading the queue's cases")
}

// Collectors returns the usernames of the enabled users with the collector role, sorted.
func (d *DB) Collectors(ctx context.Context) ([]string, error) {
	us, err := d.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, u := range us {
		if u.Role == reclaim.RoleCollector && !u.Disabled {
			out = append(out, u.Username)
		}
	}
	return out, nil
}

// PlacedAgencies returns the agencies that hold at least one open case, sorted.
func (d *DB) PlacedAgencies(ctx context.Context) ([]string, error) {
	var out []string
	err := d.ReadTx(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT DISTINCT agency FROM cases WHERE status = 'open' AND agency IS NOT NULL AND agency <> '' ORDER BY agency`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a string
			if err := rows.Scan(&a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, dbError(err, "loading the agencies")
}

// PlanItem is one planned contact of a day's queue as stored (workout.PlanItem).
type PlanItem = workout.PlanItem

// ReplacePlan stores the plan of day, replacing every earlier plan of that day, in one
// transaction (planning a day twice leaves only the second plan).
func (d *DB) ReplacePlan(ctx context.Context, day date.Date, items []PlanItem) error {
	if day.IsZero() {
		return reclaim.Errorf(reclaim.EINVALID, "a plan needs a day")
	}
	err := d.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM queue_plans WHERE day = ?`, dateArg(day)); err != nil {
			return err
		}
		args := make([]any, 0, 12*len(items))
		for _, it := range items {
			args = append(args, dateArg(day), it.CaseID, it.Arm, it.Team, textArg(it.Assignee), textArg(it.Agency), it.Channel,
				it.PlannedAt, it.Value, it.Net, it.Rank, it.PlannedBy)
		}
		if len(items) == 0 {
			return nil
		}
		return insertBatch(ctx, tx, "queue_plans", "day, case_id, arm, team, assignee, agency, channel, planned_at, value, net, rank, planned_by", 12, args)
	})
	return dbError(err, "storing the day's plan")
}

// PlanFilter selects a day's planned items; a zero field does not filter.
type PlanFilter struct {
	// Assignee keeps the items planned for this collector on cases still assigned to it.
	Assignee string
	// Agency keeps the items planned for this agency on cases still placed with it.
	Agency string
	// Mine, when true, applies Assignee and Agency even when empty (an empty one then matches
	// nothing): a scoped viewer never falls through to every item.
	Mine bool
}

// Plan returns the planned items of day by rank.
func (d *DB) Plan(ctx context.Context, day date.Date, f PlanFilter) ([]PlanItem, error) {
	q := `SELECT p.case_id, p.arm, p.team, p.assignee, p.agency, p.channel, p.planned_at, p.value, p.net, p.rank, p.planned_by
		FROM queue_plans p JOIN cases c ON c.id = p.case_id WHERE p.day = ?`
	args := []any{dateArg(day)}
	if f.Mine || f.Assignee != "" {
		if f.Assignee != "" {
			q += ` AND p.assignee = ? AND c.assignee = ?`
			args = append(args, f.Assignee, f.Assignee)
		}
	}
	if f.Mine || f.Agency != "" {
		if f.Agency != "" {
			q += ` AND p.agency = ? AND c.agency = ?`
			args = append(args, f.Agency, f.Agency)
		}
	}
	if f.Mine && f.Assignee == "" && f.Agency == "" {
		q += ` AND 1 = 0`
	}
	q += ` ORDER BY p.rank`
	var out []PlanItem
	err := d.ReadTx(ctx, func(tx *Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			it := PlanItem{Day: day}
			if err := rows.Scan(&it.CaseID, &it.Arm, &it.Team, textScan{&it.Assignee}, textScan{&it.Agency}, &it.Channel, &it.PlannedAt,
				&it.Value, &it.Net, &it.Rank, &it.PlannedBy); err != nil {
				return err
			}
			out = append(out, it)
		}
		return rows.Err()
	})
	return out, dbError(err, "reading the day's plan")
}
