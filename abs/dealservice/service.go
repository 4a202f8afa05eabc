// Package dealservice is the live-deal service (docs/abs-live.md): the adapter that loads what
// package abs/live needs from sqldb and the valuation service, and stores what it decides. It
// implements httpapi.DealService; cmd/reclaim wires it into the API and the CLI.
package dealservice

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"reclaim"
	"reclaim/abs"
	"reclaim/abs/live"
	"reclaim/date"
	"reclaim/httpapi"
	"reclaim/sqldb"
	"reclaim/tlog/verify"
	"reclaim/valuation"
	"reclaim/valuation/service"
)

// Service is the live-deal service over sqldb and the valuation service.
type Service struct {
	db     *sqldb.DB
	val    *service.Service
	origin string
	logKey string
	now    func() time.Time
}

// New returns the service. origin is the ledger's origin prefix (a deal's checkpoint origin is
// origin/pool), logKey the note verifier key new pools are signed with ("" for none), val the
// valuation service the forecast comes from (nil: deals must bring their own forecast), now the
// clock (nil: time.Now).
func New(db *sqldb.DB, val *service.Service, origin, logKey string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, val: val, origin: origin, logKey: logKey, now: now}
}

// DB is the service's database.
func (b *Service) DB() *sqldb.DB { return b.db }

var _ httpapi.DealService = (*Service)(nil)

// Today is the service clock's date (UTC).
func (b *Service) Today() date.Date { return date.FromTime(b.now().UTC()) }

// Deals lists the deals.
func (b *Service) Deals(ctx context.Context) ([]live.DealRecord, error) {
	return b.db.ListDeals(ctx, nil)
}

// Deal reads a deal (ENOTFOUND when the pool is not one).
func (b *Service) Deal(ctx context.Context, pool string) (live.DealRecord, error) {
	return b.db.GetDeal(ctx, pool)
}

// UserPools are the pools the user's investor organisation holds a tranche of.
func (b *Service) UserPools(ctx context.Context, userID int64) (map[string]bool, error) {
	return b.db.UserPools(ctx, userID)
}

// UserInvestor is the user's investor organisation ("" when none).
func (b *Service) UserInvestor(ctx context.Context, userID int64) (string, error) {
	return b.db.UserInvestor(ctx, userID)
}

// selectLoans reads the candidate loans that meet the criteria.
func (b *Service) selectLoans(ctx context.Context, c live.Criteria, asOf date.Date) ([]sqldb.DealLoan, error) {
	m, err := c.Compile(asOf)
	if err != nil {
		return nil, err
	}
	var out []sqldb.DealLoan
	errFull := fmt.Errorf("full")
	err = b.db.CandidateLoans(ctx, c.Portfolios, func(pid int64, l *reclaim.Loan) error {
		if !m.Match(l) {
			return nil
		}
		out = append(out, sqldb.DealLoan{PortfolioID: pid, Loan: l})
		if m.Limit() > 0 && len(out) >= m.Limit() {
			return errFull
		}
		return nil
	})
	if err != nil && err != errFull {
		return nil, err
	}
	return out, nil
}

// forecast is the valuation model's projection of the selected loans, portfolio by portfolio
// (each as of its cut-off), summed by date (live.ForecastFromCurve, live.MergeFlows).
func (b *Service) forecast(ctx context.Context, loans []sqldb.DealLoan, model string) ([]abs.Flow, error) {
	if b.val == nil {
		return nil, reclaim.Errorf(reclaim.EUNAVAILABLE, "no valuation service")
	}
	m, ref, err := b.val.Model(ctx, model)
	if err != nil {
		return nil, err
	}
	byP := map[int64]map[string]bool{}
	var order []int64
	for _, l := range loans {
		if byP[l.PortfolioID] == nil {
			byP[l.PortfolioID] = map[string]bool{}
			order = append(order, l.PortfolioID)
		}
		byP[l.PortfolioID][l.Loan.LoanID] = true
	}
	var sets [][]abs.Flow
	for _, pid := range order {
		p, err := b.val.LoadPortfolio(ctx, pid)
		if err != nil {
			return nil, err
		}
		var in []valuation.Input
		for _, x := range p.Inputs {
			if byP[pid][x.Loan.LoanID] {
				in = append(in, x)
			}
		}
		if len(in) == 0 {
			continue
		}
		v, err := valuation.Value(ctx, valuation.ValueInput{Model: m, ModelRef: ref, Loans: in, AsOf: p.CutOffDate, Currency: "CNY", Paths: -1})
		if err != nil {
			return nil, reclaim.WrapError(reclaim.EINVALID, err, "forecasting portfolio %d: %v", pid, err)
		}
		f, err := live.ForecastFromCurve(v.Curve, v.Totals, p.CutOffDate)
		if err != nil {
			return nil, err
		}
		sets = append(sets, f)
	}
	return live.MergeFlows(sets...), nil
}

// Select previews a pool selection with its disclosure and the valuation's forecast, and the
// deal's sizing against it when doc (a deal document) is not nil.
func (b *Service) Select(ctx context.Context, c live.Criteria, asOf date.Date, model string, doc []byte) (*httpapi.DealSelection, error) {
	var parsed *abs.Document
	if doc != nil {
		if _, err := abs.Load(doc, abs.Options{}); err != nil {
			return nil, err
		}
		var err error
		if parsed, err = abs.Parse(doc); err != nil {
			return nil, err
		}
	}
	loans, err := b.selectLoans(ctx, c, asOf)
	if err != nil {
		return nil, err
	}
	sel := make([]live.Selected, len(loans))
	for i, l := range loans {
		sel[i] = live.Selected{PortfolioID: l.PortfolioID, Loan: l.Loan}
	}
	var flows []abs.Flow
	note := ""
	if len(loans) > 0 {
		if flows, err = b.forecast(ctx, loans, model); err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			note, flows = "no forecast: "+err.Error(), nil
		}
	}
	d, err := live.Disclose(sel, asOf, flows)
	if err != nil {
		return nil, err
	}
	if parsed != nil {
		if d.Sizing, err = live.SizeDeal(parsed, d); err != nil {
			return nil, err
		}
	}
	return &httpapi.DealSelection{Loans: len(loans), Disclosure: d, ForecastNote: note}, nil
}

// Create validates the document, selects the pool, inlines the valuation's forecast (unless
// req.UseDocForecast) and opens the deal.
func (b *Service) Create(ctx context.Context, req httpapi.DealCreate) (live.DealRecord, error) {
	doc := req.Document
	if _, err := abs.Load(doc, abs.Options{}); err != nil { // nothing is selected for an invalid document
		return live.DealRecord{}, err
	}
	loans, err := b.selectLoans(ctx, req.Criteria, req.AsOf)
	if err != nil {
		return live.DealRecord{}, err
	}
	if len(loans) == 0 {
		return live.DealRecord{}, reclaim.Errorf(reclaim.EINVALID, "no loan meets the criteria")
	}
	if !req.UseDocForecast {
		parsed, err := abs.Parse(doc)
		if err != nil {
			return live.DealRecord{}, err
		}
		flows, err := b.forecast(ctx, loans, req.Model)
		if err != nil {
			return live.DealRecord{}, err
		}
		sel := make([]live.Selected, len(loans))
		for i, l := range loans {
			sel[i] = live.Selected{PortfolioID: l.PortfolioID, Loan: l.Loan}
		}
		cutoff, err := date.ParseStrict(parsed.Dates.Cutoff)
		if err != nil {
			return live.DealRecord{}, reclaim.WrapError(reclaim.EINVALID, err, "dates.cutoff: %v", err)
		}
		disc, err := live.Disclose(sel, cutoff, flows)
		if err != nil {
			return live.DealRecord{}, err
		}
		if doc, err = json.Marshal(live.WithForecast(parsed, disc)); err != nil {
			return live.DealRecord{}, err
		}
	}
	crit, _ := json.Marshal(req.Criteria)
	return b.db.CreateDeal(ctx, sqldb.DealSpec{Pool: req.Pool, Name: req.Name, Origin: b.origin + "/" + req.Pool, Doc: doc, Effective: req.Effective,
		Loans: loans, Criteria: string(crit), CreatedBy: req.Actor, LogKey: b.logKey})
}

// Amend replaces the deal document (deal.amended).
func (b *Service) Amend(ctx context.Context, pool string, doc []byte, reason string, eff date.Date) (live.DealRecord, error) {
	return b.db.AmendDeal(ctx, pool, doc, reason, eff)
}

// loaded returns the deal in force and the state of its log (queued entries included when
// withQueued).
func (b *Service) loaded(ctx context.Context, pool string, withQueued bool) (*abs.Deal, live.DealRecord, *live.State, []verify.Entry, error) {
	rec, err := b.db.GetDeal(ctx, pool)
	if err != nil {
		return nil, rec, nil, nil, err
	}
	d, err := abs.Load(rec.Doc, abs.Options{})
	if err != nil {
		return nil, rec, nil, nil, reclaim.WrapError(reclaim.EINTERNAL, err, "the stored document of deal %s does not load: %v", pool, err)
	}
	log, err := b.db.DealLog(ctx, pool, withQueued)
	if err != nil {
		return nil, rec, nil, nil, err
	}
	st, err := live.StateFromEntries(log)
	return d, rec, st, log, err
}

// Run runs the deal with actual cash for the collection periods ended before asOf.
func (b *Service) Run(ctx context.Context, pool string, asOf date.Date) (*abs.Result, error) {
	d, _, st, _, err := b.loaded(ctx, pool, true)
	if err != nil {
		return nil, err
	}
	res, _, err := live.Run(d, st, asOf)
	return res, err
}

// Monitor is the deal's monitoring snapshot as of asOf.
func (b *Service) Monitor(ctx context.Context, pool string, asOf date.Date) (*live.DealSnapshot, error) {
	d, _, st, _, err := b.loaded(ctx, pool, true)
	if err != nil {
		return nil, err
	}
	return live.Monitor(d, st, asOf)
}

// Reports lists the closed reports.
func (b *Service) Reports(ctx context.Context, pool string) ([]live.ReportInfo, error) {
	return b.db.DealReports(ctx, pool)
}

// ReportDoc is a closed report's document.
func (b *Service) ReportDoc(ctx context.Context, pool string, period int) ([]byte, error) {
	return b.db.DealReportDoc(ctx, pool, period)
}

// PreviewReport computes a period's report now from the log (queued entries included).
func (b *Service) PreviewReport(ctx context.Context, pool string, period int) (*live.Report, error) {
	d, rec, st, log, err := b.loaded(ctx, pool, true)
	if err != nil {
		return nil, err
	}
	rep, _, err := live.Build(live.Input{Deal: d, State: st, Period: period, Preview: true, Origin: rec.Origin, LedgerSize: int64(len(log))})
	return rep, err
}

// CloseReport closes a payment date (sqldb.CloseDealPeriod with live.Build). The payment date
// must have come.
func (b *Service) CloseReport(ctx context.Context, pool string, period int) ([]byte, error) {
	rec, err := b.db.GetDeal(ctx, pool)
	if err != nil {
		return nil, err
	}
	d, err := abs.Load(rec.Doc, abs.Options{})
	if err != nil {
		return nil, err
	}
	pay := d.PaymentDates()
	if period < 1 || period > len(pay) {
		return nil, reclaim.Errorf(reclaim.EINVALID, "period %d is not a payment date of deal %s (1..%d)", period, pool, len(pay))
	}
	if pay[period-1].After(b.Today()) {
		return nil, reclaim.Errorf(reclaim.EINVALID, "payment date %d is %s, after today (%s): it cannot be reported yet", period, pay[period-1], b.Today())
	}
	return b.db.CloseDealPeriod(ctx, pool, period, func(log []verify.Entry, size int64) ([]byte, []verify.Entry, error) {
		st, err := live.StateFromEntries(log)
		if err != nil {
			return nil, nil, err
		}
		rep, _, err := live.Build(live.Input{Deal: d, State: st, Period: period, Origin: rec.Origin, LedgerSize: size})
		if err != nil {
			return nil, nil, err
		}
		body, err := rep.Encode()
		if err != nil {
			return nil, nil, err
		}
		_, wins, err := live.Scenario(d, st, period)
		if err != nil {
			return nil, nil, err
		}
		es, err := rep.Entries(body, wins[period-1])
		return body, es, err
	})
}

// Loans is the loan-level data without personal data.
func (b *Service) Loans(ctx context.Context, pool string) ([]live.DealLoanRow, error) {
	return b.db.DealLoans(ctx, pool)
}

// RecordCost records a cost or waiver (deal.cost).
func (b *Service) RecordCost(ctx context.Context, c httpapi.DealCost) (string, error) {
	return b.db.RecordDealCost(ctx, sqldb.DealCostSpec{Pool: c.Pool, Kind: c.Kind, Loan: c.Loan, Channel: c.Channel, Amount: c.Amount,
		Effective: c.Effective, Memo: c.Memo, PostedBy: c.Actor})
}

// ImportServicerFile logs a servicer file (deal.collections per row).
func (b *Service) ImportServicerFile(ctx context.Context, pool string, file []byte) (int, error) {
	return b.db.ImportServicerFile(ctx, pool, file)
}

// Investors lists the investor organisations.
func (b *Service) Investors(ctx context.Context) ([]live.Investor, error) {
	return b.db.Investors(ctx)
}

// CreateInvestor creates an investor organisation.
func (b *Service) CreateInvestor(ctx context.Context, inv live.Investor) error {
	return b.db.CreateInvestor(ctx, inv)
}

// SetInvestorUser makes a user a member of an investor organisation.
func (b *Service) SetInvestorUser(ctx context.Context, investor string, userID int64) error {
	return b.db.SetInvestorUser(ctx, investor, userID)
}

// SetHolding sets an investor's holding of a tranche.
func (b *Service) SetHolding(ctx context.Context, h live.Holding) error {
	return b.db.SetHolding(ctx, h)
}

// Holdings lists an investor's holdings (every holding for "").
func (b *Service) Holdings(ctx context.Context, investor string) ([]live.Holding, error) {
	return b.db.Holdings(ctx, investor)
}
