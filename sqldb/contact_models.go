package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/workout"
)

// The trained contact model's loads and stores (workout.LiveExamples and
// workout.TrainLiveContactModel decide; workout/service/contact_model.go wires them).

// ContactLog loads what the contact model trains on: every boarded case with its static facts,
// every contact that happened (allowed, or reported by an agency; pre-dial checks excluded) by
// case and time, and the net payments (payments less reversals) per case and day.
func (d *DB) ContactLog(ctx context.Context) (*workout.ContactLog, error) {
	out := &workout.ContactLog{}
	err := d.ReadTx(ctx, func(tx *Tx) error {
		*out = workout.ContactLog{}
		cs, err := liveCases(ctx, tx, nil)
		if err != nil {
			return err
		}
		out.Cases = cs
		rows, err := tx.Query(ctx, `SELECT id, case_id, at, local_at, channel, outcome FROM contact_attempts
			WHERE source = ? OR (allowed AND source <> ?) ORDER BY case_id, at, id`, workout.SourceAgency, workout.SourceCheck)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c workout.LiveContact
			var local string
			if err := rows.Scan(&c.ID, &c.CaseID, instantScan{&c.At}, &local, &c.Channel, &c.Outcome); err != nil {
				return err
			}
			c.Day = date.FromTime(c.At)
			if len(local) >= 10 {
				if day, err := date.Parse(local[:10]); err == nil {
					c.Day = day
				}
			}
			out.Contacts = append(out.Contacts, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT case_id, effective, SUM(amount_minor) FROM account_movements WHERE type IN (?, ?)
			GROUP BY case_id, effective ORDER BY case_id, effective`, workout.MovePayment, workout.MoveReversal)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p workout.LivePayment
			var sum int64
			if err := rows.Scan(&p.CaseID, dateScan{&p.On}, &sum); err != nil {
				return err
			}
			if sum < 0 { // payments are negative movements
				p.Amount = float64(-sum) / 100
				out.Payments = append(out.Payments, p)
			}
		}
		return rows.Err()
	})
	return out, dbError(err, "reading the contact log")
}

// LiveCases returns the static facts the contact model needs of the cases ids (every boarded
// case when ids is nil), by id.
func (d *DB) LiveCases(ctx context.Context, ids []int64) (map[int64]*workout.LiveCase, error) {
	out := map[int64]*workout.LiveCase{}
	err := d.ReadTx(ctx, func(tx *Tx) error {
		clear(out)
		for lo := 0; lo < len(ids) || (ids == nil && lo == 0); lo += 1000 {
			var batch []int64
			if ids != nil {
				batch = ids[lo:min(lo+1000, len(ids))]
			}
			cs, err := liveCases(ctx, tx, batch)
			if err != nil {
				return err
			}
			for i := range cs {
				out[cs[i].ID] = &cs[i]
			}
			if ids == nil {
				break
			}
		}
		return nil
	})
	return out, dbError(err, "reading the cases' features")
}

// liveCases reads the static facts of ids (nil: every boarded case) in set-based reads.
func liveCases(ctx context.Context, tx *Tx, ids []int64) ([]workout.LiveCase, error) {
	where, args := "", []any{string(reclaim.CreditCard)}
	if ids != nil {
		if len(ids) == 0 {
			return nil, nil
		}
		where = " WHERE a.case_id IN (?" + repeatPlaceholders(len(ids)-1) + ")"
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := tx.Query(ctx, `SELECT a.case_id, SUM(a.claim_minor), MAX(l.days_past_due), MAX(p.cut_off_date), MIN(l.birth_year),
		MAX(CASE WHEN l.product_type = ? THEN 1 ELSE 0 END), MAX(CASE WHEN l.write_off_date IS NOT NULL THEN 1 ELSE 0 END), MIN(q.award_date)
		FROM accounts a JOIN loans l ON l.id = a.loan_id JOIN portfolios p ON p.id = a.portfolio_id JOIN acquisitions q ON q.id = a.acquisition_id`+where+`
		GROUP BY a.case_id ORDER BY a.case_id`, args...)
	if err != nil {
		return nil, err
	}
	var out []workout.LiveCase
	at := map[int64]int{}
	for rows.Next() {
		var c workout.LiveCase
		var claim, dpd, card, wo int64
		var birth *int64
		if err := rows.Scan(&c.ID, &claim, &dpd, dateScan{&c.CutOff}, &birth, &card, &wo, dateScan{&c.BoardedOn}); err != nil {
			rows.Close()
			return nil, err
		}
		c.Claim, c.DPD, c.CreditCard, c.WrittenOff = float64(claim)/100, int(dpd), card > 0, wo > 0
		if birth != nil {
			c.BirthYear = int(*birth)
		}
		at[c.ID] = len(out)
		out = append(out, c)
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	cwhere := ""
	cargs := args[1:]
	if ids != nil {
		cwhere = " AND case_id IN (?" + repeatPlaceholders(len(ids)-1) + ")"
	}
	if rows, err = tx.Query(ctx, `SELECT DISTINCT case_id FROM case_keys WHERE kind = 'phone'`+cwhere, cargs...); err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		if k, ok := at[id]; ok {
			out[k].Phone = true
		}
	}
	if err := closeRows(rows); err != nil {
		return nil, err
	}
	if rows, err = tx.Query(ctx, `SELECT case_id, MIN(at) FROM case_actions WHERE kind = ? AND outcome = ?`+cwhere+` GROUP BY case_id`,
		append([]any{workout.KindLegal, workout.LegalFiling}, cargs...)...); err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		var t time.Time
		if err := rows.Scan(&id, instantScan{&t}); err != nil {
			rows.Close()
			return nil, err
		}
		if k, ok := at[id]; ok {
			out[k].SuedOn = date.FromTime(t)
		}
	}
	return out, closeRows(rows)
}

func repeatPlaceholders(n int) string {
	b := make([]byte, 0, 2*n)
	for range n {
		b = append(b, ",?"...)
	}
	return string(b)
}

// ContactModelRecord is a stored contact model: its description and the model file.
type ContactModelRecord struct {
	workout.ContactModelInfo
	Model []byte `json:"-"`
}

// SaveContactModel stores a trained model; a name already used is ECONFLICT.
func (d *DB) SaveContactModel(ctx context.Context, r ContactModelRecord) (ContactModelRecord, error) {
	if r.Name == "" || len(r.Model) == 0 || r.Trainer == "" {
		return r, reclaim.Errorf(reclaim.EINVALID, "a contact model needs a name, a trainer and the model")
	}
	sum, err := json.Marshal(summaryJSON(r.Summary))
	if err != nil {
		return r, err
	}
	err = d.WriteTx(ctx, func(tx *Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM contact_models WHERE name = ?`, r.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return reclaim.Errorf(reclaim.ECONFLICT, "a contact model named %q exists", r.Name)
		}
		return tx.QueryRow(ctx, `INSERT INTO contact_models (name, created_at, trainer, model, summary_json) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			r.Name, d.instant(r.CreatedAt), r.Trainer, r.Model, string(sum)).Scan(&r.ID)
	})
	return r, dbError(err, "storing the contact model")
}

// summaryJSON replaces a NaN AUC (JSON has no NaN) by -1 for storage.
func summaryJSON(s workout.ContactModelSummary) workout.ContactModelSummary {
	if s.AUC != s.AUC {
		s.AUC = -1
	}
	return s
}

// LatestContactModel returns the newest stored contact model (by id); ENOTFOUND when none is.
func (d *DB) LatestContactModel(ctx context.Context) (ContactModelRecord, error) {
	var r ContactModelRecord
	err := d.ReadTx(ctx, func(tx *Tx) error {
		var sum string
		err := tx.QueryRow(ctx, `SELECT id, name, created_at, trainer, model, summary_json FROM contact_models ORDER BY id DESC LIMIT 1`).
			Scan(&r.ID, &r.Name, instantScan{&r.CreatedAt}, &r.Trainer, &r.Model, &sum)
		if err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(sum), &r.Summary); err != nil {
			return fmt.Errorf("contact model %d: summary: %w", r.ID, err)
		}
		return nil
	})
	if errors.Is(err, sql.ErrNoRows) {
		return r, reclaim.Errorf(reclaim.ENOTFOUND, "no contact model has been trained")
	}
	return r, dbError(err, "reading the contact model")
}

// CountContactModels returns how many contact models are stored.
func (d *DB) CountContactModels(ctx context.Context) (int, error) {
	var n int64
	err := d.ReadTx(ctx, func(tx *Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM contact_models`).Scan(&n)
	})
	return int(n), dbError(err, "counting contact models")
}
