package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"time"

	"reclaim"
	"reclaim/date"
	"reclaim/money"
	"reclaim/valuation"
	"reclaim/workout"
)

// Performance against the price paid and the manager's dashboard (issue 13 items 3 and 5;
// docs/performance.md): storage of the forecast frozen at purchase and of the champion/challenger
// arm of each case, and the loads the pure rules (valuation.PerformanceOf, workout.Collections,
// workout.ArmLift) need. No rule lives here.

// FrozenForecast is the valuation forecast an acquisition was priced on, month 1 = the first
// month after the purchase. Amounts are in the acquisition's currency.
type FrozenForecast struct {
	PortfolioID int64 `json:"portfolio_id"`
	// Source is "boarding" (frozen when the portfolio was boarded) or "backfill" (computed later
	// from a valuation run).
	Source string `json:"source"`
	// Model is the recovery model the valuation used (NAME@VERSION).
	Model string `json:"model"`
	// TargetIRR is the valuation's target IRR; AsOf its as-of date.
	TargetIRR          float64        `json:"target_irr"`
	AsOf               date.Date      `json:"as_of"`
	CollectionCostRate float64        `json:"collection_cost_rate"`
	Currency           money.Currency `json:"currency"`
	// Gross and FixedCost are the months' expected gross collections and their legal and
	// servicing costs.
	Gross     []money.Amount `json:"gross"`
	FixedCost []money.Amount `json:"fixed_cost"`
	Actor     string         `json:"actor"`
	CreatedAt time.Time      `json:"created_at"`
}

// Forecast sources.
const (
	ForecastAtBoarding = "boarding"
	ForecastBackfill   = "backfill"
)

// Engine returns the forecast in the engine's major units.
func (f *FrozenForecast) Engine() *valuation.Forecast {
	out := &valuation.Forecast{CollectionCostRate: f.CollectionCostRate, TargetIRR: f.TargetIRR}
	for i := range f.Gross {
		out.Months = append(out.Months, valuation.ForecastMonth{Gross: f.Gross[i].Float(), FixedCost: f.FixedCost[i].Float()})
	}
	return out
}

// SaveForecast freezes an acquisition's forecast. The portfolio must have been acquired (else
// ENOTFOUND) and have no forecast yet (else ECONFLICT: a frozen forecast is never replaced); the
// months must be in the acquisition's currency, with Gross and FixedCost of one length (1..600),
// amounts not negative, and the rates finite (else EINVALID). Nothing is written on a refusal.
func (d *DB) SaveForecast(ctx context.Context, f FrozenForecast) error {
	bad := func(field, value, rule, msg string) error {
		return &reclaim.Error{Code: reclaim.EINVALID, Message: msg, Fields: map[string]string{"field": field, "value": value, "rule": rule}}
	}
	n := len(f.Gross)
	switch {
	case f.Source != ForecastAtBoarding && f.Source != ForecastBackfill:
		return bad("source", f.Source, "enum", "the forecast's source must be boarding or backfill")
	case n == 0 || n > 600 || len(f.FixedCost) != n:
		return bad("months", fmt.Sprint(n), "range", fmt.Sprintf("a forecast has 1 to 600 months with a gross and a fixed cost each (got %d and %d)", n, len(f.FixedCost)))
	case math.IsNaN(f.TargetIRR) || math.IsInf(f.TargetIRR, 0) || !(f.CollectionCostRate >= 0 && f.CollectionCostRate < 1):
		return bad("collection_cost_rate", fmt.Sprint(f.CollectionCostRate), "range", "the target IRR must be finite and the collection cost rate in [0, 1)")
	case f.Model == "":
		return bad("model", "", "required", "the forecast names the model it came from")
	}
	for i := range n {
		for name, a := range map[string]money.Amount{"gross": f.Gross[i], "fixed_cost": f.FixedCost[i]} {
			if a.IsAbsent() || a.Currency() != f.Currency || a.Minor() < 0 {
				return bad(fmt.Sprintf("months[%d].%s", i+1, name), a.String(), "amount", fmt.Sprintf("month %d: the %s must be a non-negative amount in %s", i+1, name, f.Currency))
			}
		}
	}
	now := d.nowUTC()
	return d.WriteTx(ctx, func(tx *Tx) error {
		var cur string
		err := tx.QueryRow(ctx, `SELECT currency FROM acquisitions WHERE portfolio_id = ?`, f.PortfolioID).Scan(&cur)
		if err == sql.ErrNoRows {
			return reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d was not acquired", f.PortfolioID)
		} else if err != nil {
			return err
		}
		if money.Currency(cur) != f.Currency {
			return bad("currency", string(f.Currency), "currency", fmt.Sprintf("the forecast is in %s, the acquisition in %s", f.Currency, cur))
		}
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM acquisition_forecasts WHERE portfolio_id = ?`, f.PortfolioID).Scan(&one); err == nil {
			return reclaim.Errorf(reclaim.ECONFLICT, "portfolio %d already has its forecast at purchase (it is frozen)", f.PortfolioID)
		} else if err != sql.ErrNoRows {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO acquisition_forecasts (portfolio_id, source, model, target_irr, as_of, collection_cost_rate,
			currency, actor, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.PortfolioID, f.Source, f.Model, f.TargetIRR, dateArg(f.AsOf),
			f.CollectionCostRate, string(f.Currency), f.Actor, d.instant(now)); err != nil {
			return err
		}
		args := make([]any, 0, 4*n)
		for i := range n {
			args = append(args, f.PortfolioID, i+1, f.Gross[i].Minor(), f.FixedCost[i].Minor())
		}
		return insertBatch(ctx, tx, "acquisition_forecast_months", "portfolio_id, month, gross_minor, fixed_cost_minor", 4, args)
	})
}

// GetForecast returns an acquisition's frozen forecast (ENOTFOUND when it has none).
func (d *DB) GetForecast(ctx context.Context, portfolioID int64) (FrozenForecast, error) {
	fs, err := d.forecasts(ctx, portfolioID)
	if err != nil {
		return FrozenForecast{}, err
	}
	f, ok := fs[portfolioID]
	if !ok {
		return FrozenForecast{}, reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d has no forecast at purchase", portfolioID)
	}
	return *f, nil
}

// forecasts loads the frozen forecasts of one portfolio (portfolioID > 0) or of all.
func (d *DB) forecasts(ctx context.Context, portfolioID int64) (map[int64]*FrozenForecast, error) {
	out := map[int64]*FrozenForecast{}
	err := d.ReadTx(ctx, func(tx *Tx) error {
		q := `SELECT portfolio_id, source, model, target_irr, as_of, collection_cost_rate, currency, actor, created_at FROM acquisition_forecasts`
		var args []any
		if portfolioID > 0 {
			q += ` WHERE portfolio_id = ?`
			args = append(args, portfolioID)
		}
		rows, err := tx.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			f := &FrozenForecast{}
			var cur string
			if err := rows.Scan(&f.PortfolioID, &f.Source, &f.Model, &f.TargetIRR, dateScan{&f.AsOf}, &f.CollectionCostRate, &cur, &f.Actor,
				instantScan{&f.CreatedAt}); err != nil {
				return err
			}
			f.Currency = money.Currency(cur)
			out[f.PortfolioID] = f
		}
		if err := rows.Err(); err != nil {
			return err
		}
		q = `SELECT portfolio_id, gross_minor, fixed_cost_minor FROM acquisition_forecast_months`
		if portfolioID > 0 {
			q += ` WHERE portfolio_id = ?`
		}
		rows, err = tx.Query(ctx, q+` ORDER BY portfolio_id, month`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, g, fc int64
			if err := rows.Scan(&id, &g, &fc); err != nil {
				return err
			}
			if f := out[id]; f != nil {
				f.Gross = append(f.Gross, money.New(g, f.Currency))
				f.FixedCost = append(f.FixedCost, money.New(fc, f.Currency))
			}
		}
		return rows.Err()
	})
	return out, dbError(err, "reading forecasts at purchase")
}

// PerformanceRecord is what the performance of one acquisition needs: the acquisition, its
// frozen forecast (nil: none), its collections by day (payments less reversals posted to its
// accounts), and its loans' cost basis and collections by origination year.
type PerformanceRecord struct {
	Acquisition workout.Acquisition
	Forecast    *FrozenForecast
	Collections []valuation.Collection
	// ByOrigination is, per origination year (0: unknown), the cost basis of the loans and their
	// collections by day.
	ByOrigination map[int]*OriginationRecord
}

// OriginationRecord is one origination year of an acquisition.
type OriginationRecord struct {
	Loans       int
	CostBasis   money.Amount
	Collections []valuation.Collection
}

// PerformanceRecords loads every acquisition (or one: portfolioID > 0; ENOTFOUND when it was not
// acquired), in portfolio order.
func (d *DB) PerformanceRecords(ctx context.Context, portfolioID int64) ([]PerformanceRecord, error) {
	fs, err := d.forecasts(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	var out []PerformanceRecord
	idx := map[int64]int{}
	err = d.ReadTx(ctx, func(tx *Tx) error {
		q := `SELECT id, portfolio_id, seller, bid_minor, award_date, price_minor, currency, actor, created_at FROM acquisitions`
		var args []any
		if portfolioID > 0 {
			q += ` WHERE portfolio_id = ?`
			args = append(args, portfolioID)
		}
		rows, err := tx.Query(ctx, q+` ORDER BY portfolio_id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a workout.Acquisition
			var bid amountScan
			var price int64
			var cur string
			if err := rows.Scan(&a.ID, &a.PortfolioID, &a.Seller, &bid, dateScan{&a.AwardDate}, &price, &cur, &a.Actor, instantScan{&a.CreatedAt}); err != nil {
				return err
			}
			a.Bid = bid.amount(money.Currency(cur))
			a.Price = money.New(price, money.Currency(cur))
			idx[a.PortfolioID] = len(out)
			out = append(out, PerformanceRecord{Acquisition: a, Forecast: fs[a.PortfolioID], ByOrigination: map[int]*OriginationRecord{}})
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if portfolioID > 0 && len(out) == 0 {
			return reclaim.Errorf(reclaim.ENOTFOUND, "portfolio %d was not acquired", portfolioID)
		}
		// Cost basis by origination year.
		q = `SELECT a.portfolio_id, l.origination_date, COUNT(*), SUM(a.cost_basis_minor) FROM accounts a JOIN loans l ON l.id = a.loan_id`
		if portfolioID > 0 {
			q += ` WHERE a.portfolio_id = ?`
		}
		rows, err = tx.Query(ctx, q+` GROUP BY a.portfolio_id, l.origination_date`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var pid, n, basis int64
			var orig date.Date
			if err := rows.Scan(&pid, dateScan{&orig}, &n, &basis); err != nil {
				return err
			}
			i, ok := idx[pid]
			if !ok {
				continue
			}
			r := &out[i]
			o := originationOf(r, yearOf(orig))
			o.Loans += int(n)
			o.CostBasis = money.New(o.CostBasis.Minor()+basis, r.Acquisition.Price.Currency())
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// Collections by day and origination date.
		q = `SELECT a.portfolio_id, l.origination_date, m.effective, SUM(m.amount_minor) FROM account_movements m
			JOIN accounts a ON a.loan_id = m.loan_id JOIN loans l ON l.id = m.loan_id WHERE m.type IN (?, ?)`
		cargs := []any{workout.MovePayment, workout.MoveReversal}
		if portfolioID > 0 {
			q += ` AND a.portfolio_id = ?`
			cargs = append(cargs, portfolioID)
		}
		rows, err = tx.Query(ctx, q+` GROUP BY a.portfolio_id, l.origination_date, m.effective ORDER BY a.portfolio_id, m.effective`, cargs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var pid, sum int64
			var orig, eff date.Date
			if err := rows.Scan(&pid, dateScan{&orig}, dateScan{&eff}, &sum); err != nil {
				return err
			}
			i, ok := idx[pid]
			if !ok {
				continue
			}
			r := &out[i]
			c := valuation.Collection{On: eff, Amount: money.New(-sum, r.Acquisition.Price.Currency()).Float()} // payments are negative movements
			r.Collections = append(r.Collections, c)
			o := originationOf(r, yearOf(orig))
			o.Collections = append(o.Collections, c)
		}
		return rows.Err()
	})
	return out, dbError(err, "reading acquisitions and their collections")
}

func yearOf(d date.Date) int {
	if d.IsZero() {
		return 0
	}
	return d.Year()
}

func originationOf(r *PerformanceRecord, year int) *OriginationRecord {
	o := r.ByOrigination[year]
	if o == nil {
		o = &OriginationRecord{CostBasis: money.New(0, r.Acquisition.Price.Currency())}
		r.ByOrigination[year] = o
	}
	return o
}

// AssignArms draws the champion/challenger arm of every case that has none (workout.DrawArm with
// seed and share, experiment named by experiment) and stores it with the day; cases already in an
// arm keep it. It returns how many cases were drawn. share must be in [0, 1].
func (d *DB) AssignArms(ctx context.Context, experiment string, seed uint64, share float64, on date.Date) (int, error) {
	if experiment == "" || !(share >= 0 && share <= 1) || on.IsZero() {
		return 0, &reclaim.Error{Code: reclaim.EINVALID, Message: "an experiment needs a name, a challenger share in [0, 1] and a day",
			Fields: map[string]string{"field": "share", "value": fmt.Sprint(share), "rule": "range"}}
	}
	n := 0
	err := d.WriteTx(ctx, func(tx *Tx) error {
		n = 0
		rows, err := tx.Query(ctx, `SELECT c.id FROM cases c LEFT JOIN case_arms x ON x.case_id = c.id WHERE x.case_id IS NULL ORDER BY c.id`)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		args := make([]any, 0, 4*len(ids))
		for _, id := range ids {
			args = append(args, id, experiment, workout.DrawArm(seed, workout.CaseRef(id), share), dateArg(on))
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		return insertBatch(ctx, tx, "case_arms", "case_id, experiment, arm, assigned_on", 4, args)
	})
	return n, dbError(err, "assigning strategy arms")
}

// DashboardData is what the dashboard's rules read over a window.
type DashboardData struct {
	Cases    []workout.DashCase
	Payments []workout.DashPayment
	Contacts []workout.DashContact
	// PortfolioClaim is each acquired portfolio's claim at boarding.
	PortfolioClaim map[int64]float64
}

// DashboardData loads every case with its claims by portfolio, assignee, agency, arm and
// limitation expiry; the net payments per case and day in [from, to]; and the contacts that
// happened (allowed, or reported by an agency; pre-dial checks excluded) on debtor-local days in
// [from, to].
func (d *DB) DashboardData(ctx context.Context, from, to date.Date) (*DashboardData, error) {
	out := &DashboardData{PortfolioClaim: map[int64]float64{}}
	err := d.ReadTx(ctx, func(tx *Tx) error {
		*out = DashboardData{PortfolioClaim: map[int64]float64{}}
		// Claims summed per case and portfolio first (in the order of the covering index
		// accounts_case_claim), then joined to their case: no grouping over the case's columns.
		rows, err := tx.Query(ctx, `SELECT c.id, c.assignee, c.agency, c.limitation_expiry, x.arm, s.portfolio_id, s.claim
			FROM (SELECT case_id, portfolio_id, SUM(claim_minor) AS claim FROM accounts GROUP BY case_id, portfolio_id) s
			JOIN cases c ON c.id = s.case_id LEFT JOIN case_arms x ON x.case_id = c.id ORDER BY s.case_id, s.portfolio_id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c workout.DashCase
			var pid, claim int64
			if err := rows.Scan(&c.ID, textScan{&c.Assignee}, textScan{&c.Agency}, dateScan{&c.LimitationExpiry}, textScan{&c.Arm}, &pid, &claim); err != nil {
				return err
			}
			cl := workout.DashClaim{Portfolio: pid, Claim: float64(claim) / 100}
			out.PortfolioClaim[pid] += cl.Claim
			if k := len(out.Cases); k > 0 && out.Cases[k-1].ID == c.ID {
				out.Cases[k-1].Claims = append(out.Cases[k-1].Claims, cl)
				continue
			}
			c.Claims = []workout.DashClaim{cl}
			out.Cases = append(out.Cases, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT case_id, effective, SUM(amount_minor) FROM account_movements WHERE type IN (?, ?) AND effective >= ? AND effective <= ?
			GROUP BY case_id, effective ORDER BY case_id, effective`, workout.MovePayment, workout.MoveReversal, dateArg(from), dateArg(to))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p workout.DashPayment
			var sum int64
			if err := rows.Scan(&p.CaseID, dateScan{&p.On}, &sum); err != nil {
				return err
			}
			p.Amount = float64(-sum) / 100
			out.Payments = append(out.Payments, p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		// Local days may lie up to 14 hours either side of UTC: read a margin and keep the
		// contacts whose local day is in range.
		// In (at, id) order from the covering index contact_attempts_window, then ordered by
		// case (stable: by case, at, id) here, rather than sorted by the database.
		rows, err = tx.Query(ctx, `SELECT case_id, local_at, channel FROM contact_attempts
			WHERE at >= ? AND at < ? AND (source = ? OR (allowed AND source <> ?)) ORDER BY at, id`,
			d.instant(from.Time().Add(-14*time.Hour)), d.instant(to.AddDays(1).Time().Add(14*time.Hour)), workout.SourceAgency, workout.SourceCheck)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c workout.DashContact
			var local string
			if err := rows.Scan(&c.CaseID, &local, &c.Channel); err != nil {
				return err
			}
			if len(local) < 10 {
				continue
			}
			day, err := date.Parse(local[:10])
			if err != nil || day.Before(from) || day.After(to) {
				continue
			}
			c.On = day
			out.Contacts = append(out.Contacts, c)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		slices.SortStableFunc(out.Contacts, func(a, b workout.DashContact) int { return cmp.Compare(a.CaseID, b.CaseID) })
		return nil
	})
	return out, dbError(err, "reading the dashboard's cases, payments and contacts")
}

// AttemptDays summarises the contact attempts made in [from, to) (instants; pre-dial checks
// excluded) by debtor-local day, in two grouped reads: the attempts and denials per day, and
// the compliance rules of the attempts that carry reasons (few: denials and flags) per day. It
// is what SummarizeAttempts gives summed over agents and agencies, without loading every
// attempt. Summaries are by day; Agent and Agency are empty.
func (d *DB) AttemptDays(ctx context.Context, from, to time.Time) ([]workout.AttemptSummary, error) {
	var out []workout.AttemptSummary
	err := d.ReadTx(ctx, func(tx *Tx) error {
		out = out[:0]
		at := map[string]int{}
		rows, err := tx.Query(ctx, `SELECT substr(local_at, 1, 10), COUNT(*), SUM(CASE WHEN allowed THEN 0 ELSE 1 END) FROM contact_attempts
			WHERE at >= ? AND at < ? AND source <> ? GROUP BY substr(local_at, 1, 10) ORDER BY 1`, d.instant(from), d.instant(to), workout.SourceCheck)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s workout.AttemptSummary
			var n, denied int64
			if err := rows.Scan(&s.Day, &n, &denied); err != nil {
				return err
			}
			s.Attempts, s.Denied, s.ByRule = int(n), int(denied), map[string]int{}
			at[s.Day] = len(out)
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT substr(local_at, 1, 10), reasons FROM contact_attempts
			WHERE at >= ? AND at < ? AND source <> ? AND reasons NOT IN ('[]', 'null', '')`, d.instant(from), d.instant(to), workout.SourceCheck)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var day, reasons string
			if err := rows.Scan(&day, &reasons); err != nil {
				return err
			}
			if k, ok := at[day]; ok {
				for _, r := range parseReasons(reasons) {
					out[k].ByRule[r.Rule]++
				}
			}
		}
		return rows.Err()
	})
	return out, dbError(err, "summarising the contact attempts by day")
}
