// Package service values stored portfolios: it reads loans, repayment histories, pool
// collections and registered recovery models from sqldb and runs package valuation on them. It
// is the adapter behind the API's valuation routes (httpapi.ValuationService) and the CLI's
// value, price and backtest commands.
//
// Loaded models are kept in memory by name and version, and each portfolio valuation is cached
// per (portfolio, model version, target IRR, target multiple, confidence, paths) for the life of
// the Service: imported portfolios do not change, and a new model version is a new key. Two
// requests for the same valuation share one computation. With Options.ReadStored and
// WriteStored (the server) completed valuations are also kept in the database
// (sqldb.SaveValuation), so that they outlive the process.
package service

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"

	"reclaim"
	"reclaim/date"
	"reclaim/sqldb"
	"reclaim/valuation"
	"reclaim/valuation/pricing"
)

// Options configure a Service.
type Options struct {
	// Logger receives warnings (nil: slog.Default()).
	Logger *slog.Logger
	// MaxCached bounds the cached valuations (0: 64); the oldest are dropped first.
	MaxCached int
	// Progress, when not nil, is told about long work (see valuation.ValueInput.Progress, and
	// the stage "loading" while a portfolio's header is read).
	Progress func(stage string, done, total int)
	// Batch is the number of loans a valuation reads and scores at a time (0:
	// valuation.DefaultBatch).
	Batch int
	// KeepLoans is the number of loans up to which the Monte Carlo is simulated loan by loan
	// (0: pricing.DefaultKeepLoans; negative: never); see valuation.StreamInput.
	KeepLoans int
	// ReadStored answers a valuation from the database (sqldb.LoadValuation) when one was
	// computed and stored for the same request before, by this process or another; WriteStored
	// stores every valuation computed (sqldb.SaveValuation). The server does both, so that the
	// valuation view answers at once after a restart and after `reclaim value`, which only
	// writes (it always computes). Portfolios and model versions do not change, so a stored
	// valuation stays right.
	ReadStored, WriteStored bool
}

// Service values stored portfolios. It is safe for concurrent use.
type Service struct {
	db   *sqldb.DB
	opts Options

	mu      sync.Mutex
	models  map[valuation.ModelRef]*valuation.RecoveryModel
	vals    map[valKey]*pending
	order   []valKey
	running int
}

type valKey struct {
	portfolio   int64
	model       valuation.ModelRef
	irr, mult   float64
	conf        float64
	paths       int
	assumptions string // the request's assumptions, formatted ("" for the defaults)
	litigation  float64
}

type pending struct {
	done chan struct{}
	v    *valuation.Valuation
	err  error
	// waiters are the contexts of the requests waiting for the result (guarded by Service.mu).
	// The computation stops as soon as every one of them is done (see computeCtx).
	waiters []*context.Context
	cancel  context.CancelFunc
}

// computeCtx is the context of a valuation shared by the requests waiting for it: it is
// cancelled when all of them have gone. Err checks their contexts itself, so that the long loops,
// which poll Err between chunks of loans and Monte Carlo paths, stop at once, without waiting
// for a request's goroutine to be scheduled.
type computeCtx struct {
	context.Context
	s   *Service
	key valKey
	p   *pending
}

func (c *computeCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	for _, w := range c.p.waiters {
		if (*w).Err() == nil {
			return nil
		}
	}
	// Nobody wants the result any more: stop, and forget the entry so that a later request
	// starts afresh.
	c.p.cancel()
	c.s.forget(c.key, c.p)
	return c.Context.Err()
}

// CancelledMessage is the message of the ECANCELED error a valuation stopped by its caller returns.
const CancelledMessage = "valuation cancelled; nothing was stored"

// New returns a service over db.
func New(db *sqldb.DB, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxCached <= 0 {
		opts.MaxCached = 64
	}
	return &Service{db: db, opts: opts, models: map[valuation.ModelRef]*valuation.RecoveryModel{}, vals: map[valKey]*pending{}}
}

// progress tells the service's Options.Progress and the one ctx carries (valuation.WithProgress)
// about long work.
func (s *Service) progress(ctx context.Context, stage string, done, total int) {
	if s.opts.Progress != nil {
		s.opts.Progress(stage, done, total)
	}
	if f := valuation.ProgressFrom(ctx); f != nil {
		f(stage, done, total)
	}
}

// Models lists every registered model version with its summary, by name and newest first.
func (s *Service) Models(ctx context.Context) ([]valuation.ModelCard, error) {
	recs, err := s.db.ListModels(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]valuation.ModelCard, 0, len(recs))
	for _, r := range recs {
		c, err := card(r)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

func card(r sqldb.ModelRecord) (valuation.ModelCard, error) {
	c := valuation.ModelCard{Name: r.Name, Version: r.Version, FeatureSet: r.FeatureSet, CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy,
		Active: r.Active, SHA256: r.SHA256, Size: r.Size}
	if err := json.Unmarshal(r.MetricsJSON, &c.ModelSummary); err != nil {
		return c, reclaim.WrapError(reclaim.EINTERNAL, err, "the stored summary of model %s version %d is unreadable", r.Name, r.Version)
	}
	c.Tail = valuation.ModelTailCard(c.Info.Horizon)
	return c, nil
}

// ActivateModel makes a version the active one of its name.
func (s *Service) ActivateModel(ctx context.Context, name string, version int) error {
	return s.db.ActivateModel(ctx, name, version)
}

// SaveModel registers m under name (a new version, made active) and returns its card.
func (s *Service) SaveModel(ctx context.Context, name, createdBy string, m *valuation.RecoveryModel) (valuation.ModelCard, error) {
	file, err := m.MarshalBinary()
	if err != nil {
		return valuation.ModelCard{}, err
	}
	summary, err := json.Marshal(m.Summary)
	if err != nil {
		return valuation.ModelCard{}, err
	}
	rec, err := s.db.SaveModel(ctx, sqldb.NewModel{Name: name, FeatureSet: m.FeatureSet, CreatedBy: createdBy, MetricsJSON: summary, File: file})
	if err != nil {
		return valuation.ModelCard{}, err
	}
	s.mu.Lock()
	s.models[valuation.ModelRef{Name: rec.Name, Version: rec.Version}] = m
	s.mu.Unlock()
	return card(rec)
}

// ParseModelSpec splits "NAME@VERSION" into its parts; a spec without "@" has version 0 (the
// active one). A malformed version is EINVALID.
func ParseModelSpec(spec string) (string, int, error) {
	name, v, ok := strings.Cut(strings.TrimSpace(spec), "@")
	if !ok {
		return name, 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return "", 0, reclaim.Errorf(reclaim.EINVALID, "model %q: the version after @ must be a positive number", spec)
	}
	return name, n, nil
}

// resolve turns a model spec into a registered name and version without reading any file.
func (s *Service) resolve(ctx context.Context, spec string) (valuation.ModelRef, error) {
	name, version, err := ParseModelSpec(spec)
	if err != nil {
		return valuation.ModelRef{}, err
	}
	recs, err := s.db.ListModels(ctx)
	if err != nil {
		return valuation.ModelRef{}, err
	}
	if name == "" {
		var best, any *sqldb.ModelRecord
		for i := range recs {
			r := &recs[i]
			if !r.Active {
				continue
			}
			if any == nil || r.CreatedAt.After(any.CreatedAt) || (r.CreatedAt.Equal(any.CreatedAt) && r.ID > any.ID) {
				any = r
			}
			if r.FeatureSet == valuation.CNV1 && (best == nil || r.CreatedAt.After(best.CreatedAt) || (r.CreatedAt.Equal(best.CreatedAt) && r.ID > best.ID)) {
				best = r
			}
		}
		if best == nil {
			best = any
		}
		if best == nil {
			return valuation.ModelRef{}, reclaim.Errorf(reclaim.ENOTFOUND, "no recovery model is registered; train one with 'reclaim model train'")
		}
		return valuation.ModelRef{Name: best.Name, Version: best.Version}, nil
	}
	for _, r := range recs {
		if r.Name == name && ((version == 0 && r.Active) || r.Version == version) {
			return valuation.ModelRef{Name: r.Name, Version: r.Version}, nil
		}
	}
	if version > 0 {
		return valuation.ModelRef{}, reclaim.Errorf(reclaim.ENOTFOUND, "model %q has no version %d", name, version)
	}
	return valuation.ModelRef{}, reclaim.Errorf(reclaim.ENOTFOUND, "no model named %q (see 'reclaim model list')", name)
}

// Model returns the registered model a spec names (see valuation.Request.Model), loading its
// file once. A file that fails to load (another format version, a bad checksum) is EINTERNAL
// with the loader's explanation.
func (s *Service) Model(ctx context.Context, spec string) (*valuation.RecoveryModel, valuation.ModelRef, error) {
	ref, err := s.resolve(ctx, spec)
	if err != nil {
		return nil, ref, err
	}
	s.mu.Lock()
	m, ok := s.models[ref]
	s.mu.Unlock()
	if ok {
		return m, ref, nil
	}
	rec, err := s.db.GetModel(ctx, ref.Name, ref.Version)
	if err != nil {
		return nil, ref, err
	}
	m, err = valuation.LoadRecoveryModel(bytes.NewReader(rec.File))
	var ve *valuation.ModelVersionError
	if errors.As(err, &ve) {
		// A model saved by an older build: the user can act on it (retrain, or activate a newer
		// version), so say so instead of an internal error.
		return nil, ref, reclaim.Errorf(reclaim.ECONFLICT, "model %s version %d is in recovery-model format %d; this build reads format %d: retrain it ('reclaim model train') or activate a newer version",
			ref.Name, ref.Version, ve.File, ve.Build)
	}
	if err != nil {
		return nil, ref, reclaim.WrapError(reclaim.EINTERNAL, err, "model %s version %d cannot be loaded", ref.Name, ref.Version)
	}
	s.mu.Lock()
	s.models[ref] = m
	s.mu.Unlock()
	return m, ref, nil
}

// Portfolio is a stored portfolio read for valuation.
type Portfolio struct {
	reclaim.Portfolio
	// Inputs are the loans with their repayment histories, as of the cut-off, in import order.
	Inputs []valuation.Input
	// HistoryStart is the first month the portfolio's repayment history covers (zero without
	// one): the seller's history window is taken to start with the earliest month any loan has.
	HistoryStart date.Date
}

// absentFields returns the critical fields the portfolio's tape lacked and was imported without
// (its import report's missing_allowed): the valuation treats them as unknown.
func (s *Service) absentFields(ctx context.Context, portfolioID int64) ([]string, error) {
	raw, err := s.db.PortfolioReportJSON(ctx, portfolioID)
	if err != nil || len(raw) == 0 {
		return nil, err
	}
	var rep struct {
		MissingAllowed []string `json:"missing_allowed"`
	}
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "the import report of portfolio %d is unreadable", portfolioID)
	}
	return rep.MissingAllowed, nil
}

// LoadPortfolio reads a portfolio's loans and repayment histories.
func (s *Service) LoadPortfolio(ctx context.Context, portfolioID int64) (*Portfolio, error) {
	p, err := s.db.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	out := &Portfolio{Portfolio: p, Inputs: make([]valuation.Input, 0, p.LoanCount)}
	first, _, rows, err := s.db.RepaymentMonths(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	if rows > 0 {
		out.HistoryStart = first.StartOfMonth()
	}
	absent, err := s.absentFields(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	total := int(p.LoanCount)
	index := make(map[string]int, total)
	err = s.db.StreamLoans(ctx, portfolioID, func(l *reclaim.Loan) error {
		c := *l
		index[c.LoanID] = len(out.Inputs)
		out.Inputs = append(out.Inputs, valuation.Input{Loan: &c, HistoryStart: out.HistoryStart, AsOf: c.CutOffDate, Absent: absent})
		if n := len(out.Inputs); n%4096 == 0 {
			s.progress(ctx, "loading", n, total)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rows > 0 {
		err = s.db.StreamRepayments(ctx, portfolioID, func(r *reclaim.Repayment) error {
			if i, ok := index[r.LoanID]; ok {
				out.Inputs[i].History = append(out.Inputs[i].History, *r)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	s.progress(ctx, "loading", total, total)
	return out, nil
}

// PortfolioValuation values a stored portfolio (see valuation.Value), from the cache when the
// same request was answered before.
func (s *Service) PortfolioValuation(ctx context.Context, portfolioID int64, req valuation.Request) (*valuation.Valuation, error) {
	if _, err := s.db.GetPortfolio(ctx, portfolioID); err != nil {
		return nil, err
	}
	m, ref, err := s.Model(ctx, req.Model)
	if err != nil {
		return nil, err
	}
	key := valKey{portfolio: portfolioID, model: ref, irr: orDefault(req.TargetIRR, valuation.DefaultTargetIRR),
		mult: orDefault(req.TargetMultiple, valuation.DefaultTargetMultiple), conf: orDefault(req.Confidence, valuation.DefaultConfidence),
		paths: req.Paths, litigation: req.LitigationShare}
	if req.Assumptions != nil {
		key.assumptions = fmt.Sprintf("%+v", *req.Assumptions)
	}
	if key.paths == 0 {
		key.paths = valuation.DefaultPaths
	}
	s.mu.Lock()
	p, ok := s.vals[key]
	if !ok {
		// The computation serves every request for the same valuation (and the cache): it runs
		// until it is done or until every request waiting for it has gone away.
		cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		p = &pending{done: make(chan struct{}), cancel: cancel}
		s.vals[key] = p
		s.order = append(s.order, key)
		for len(s.order) > s.opts.MaxCached {
			delete(s.vals, s.order[0])
			s.order = s.order[1:]
		}
		s.running++
		go s.compute(&computeCtx{Context: cctx, s: s, key: key, p: p}, p, portfolioID, m, ref, key, req.Assumptions)
	}
	w := &ctx
	p.waiters = append(p.waiters, w)
	s.mu.Unlock()
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	s.mu.Lock()
	p.waiters = slices.DeleteFunc(p.waiters, func(x *context.Context) bool { return x == w })
	last := ctx.Err() != nil && len(p.waiters) == 0
	if last {
		// Nobody wants the result any more: stop the work and forget it (a later request starts
		// afresh).
		p.cancel()
		s.forget(key, p)
	}
	s.mu.Unlock()
	if ctx.Err() == nil {
		<-p.done
		return p.v, p.err
	}
	// The computation checks its context between chunks of loans and Monte Carlo paths, so this
	// returns promptly; once it has, nothing of a valuation this request was the last to want is
	// left running.
	if last {
		<-p.done
	}
	return nil, reclaim.WrapError(reclaim.ECANCELED, ctx.Err(), CancelledMessage)
}

// compute runs one valuation for the requests waiting on p; a failed or cancelled one is not cached.
func (s *Service) compute(ctx context.Context, p *pending, portfolioID int64, m *valuation.RecoveryModel, ref valuation.ModelRef, key valKey, a *pricing.Assumptions) {
	defer p.cancel()
	v, err := s.value(ctx, portfolioID, m, ref, key, a)
	if err == nil && ctx.Err() != nil {
		v, err = nil, ctx.Err()
	}
	if err != nil && ctx.Err() != nil {
		err = reclaim.WrapError(reclaim.ECANCELED, ctx.Err(), CancelledMessage)
	}
	s.mu.Lock()
	if err != nil {
		s.forget(key, p)
	}
	s.running--
	s.mu.Unlock()
	p.v, p.err = v, err
	close(p.done)
}

// forget drops p from the cache if it is still the entry for key (s.mu held).
func (s *Service) forget(key valKey, p *pending) {
	if s.vals[key] != p {
		return
	}
	delete(s.vals, key)
	if i := slices.Index(s.order, key); i >= 0 {
		s.order = slices.Delete(s.order, i, i+1)
	}
}

// Stats counts a Service's portfolio valuations.
type Stats struct {
	// Running is the valuations being computed, Waiting the requests waiting for them, Cached
	// the valuations kept (done, or being computed).
	Running, Waiting, Cached int
}

// Stats reports the valuations being computed, the requests waiting and the cached valuations.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Running: s.running, Cached: len(s.vals)}
	for _, p := range s.vals {
		st.Waiting += len(p.waiters)
	}
	return st
}

func orDefault(x, d float64) float64 {
	if x == 0 {
		return d
	}
	return x
}

// value answers a valuation from the database when Options.ReadStored and one is stored under
// the same key, and otherwise computes it (valueNow) and, with Options.WriteStored, stores it.
func (s *Service) value(ctx context.Context, portfolioID int64, m *valuation.RecoveryModel, ref valuation.ModelRef, key valKey, a *pricing.Assumptions) (*valuation.Valuation, error) {
	if s.opts.ReadStored {
		body, ok, err := s.db.LoadValuation(ctx, portfolioID, key.String(s.opts))
		if err != nil {
			return nil, err
		}
		if ok {
			var v valuation.Valuation
			if err := json.Unmarshal(body, &v); err == nil {
				return &v, nil
			}
			s.opts.Logger.Warn("stored valuation unreadable; computing it again", "portfolio", portfolioID, "err", err)
		}
	}
	v, err := s.valueNow(ctx, portfolioID, m, ref, key, a)
	if err == nil && s.opts.WriteStored && ctx.Err() == nil {
		body, jerr := json.Marshal(v)
		if jerr == nil {
			jerr = s.db.SaveValuation(context.WithoutCancel(ctx), sqldb.StoredValuation{PortfolioID: portfolioID, Key: key.String(s.opts),
				ModelName: ref.Name, ModelVersion: ref.Version, Body: body})
		}
		if jerr != nil {
			// The valuation is right and is returned; only the next process will compute it again.
			s.opts.Logger.Warn("valuation not stored", "portfolio", portfolioID, "err", jerr)
		}
	}
	return v, err
}

// String is the key a valuation is stored under (sqldb.SaveValuation): every parameter that
// changes the result, including the service's batch and loan-level simulation bound.
func (k valKey) String(o Options) string {
	batch := o.Batch
	if batch <= 0 {
		batch = valuation.DefaultBatch
	}
	return fmt.Sprintf("model=%s@%d irr=%g mult=%g conf=%g paths=%d litigation=%g batch=%d keep=%d assumptions=%s",
		k.model.Name, k.model.Version, k.irr, k.mult, k.conf, k.paths, k.litigation, batch, o.KeepLoans, k.assumptions)
}

// valueNow values a stored portfolio by streaming it (valuation.ValueStream): the loans and their
// histories are read Batch at a time and dropped once scored, so memory does not grow with the
// portfolio. Progress: "loading" while the portfolio's header, history range and import report
// are read (0 then 1 of 1), then "scoring" (loans read and scored), "projecting", "simulating".
func (s *Service) valueNow(ctx context.Context, portfolioID int64, m *valuation.RecoveryModel, ref valuation.ModelRef, key valKey, a *pricing.Assumptions) (*valuation.Valuation, error) {
	s.progress(ctx, "loading", 0, 1)
	p, err := s.db.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	first, _, rows, err := s.db.RepaymentMonths(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	var historyStart date.Date
	if rows > 0 {
		historyStart = first.StartOfMonth()
	}
	absent, err := s.absentFields(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	s.progress(ctx, "loading", 1, 1)
	if p.LoanCount == 0 {
		return nil, reclaim.Errorf(reclaim.EINVALID, "portfolio %d has no loans to value", portfolioID)
	}
	batch := s.opts.Batch
	if batch <= 0 {
		batch = valuation.DefaultBatch
	}
	src := func(ctx context.Context, yield func([]valuation.Input) error) error {
		return s.db.StreamLoanBatches(ctx, portfolioID, batch, rows > 0, func(loans []reclaim.Loan, history [][]reclaim.Repayment) error {
			ins := make([]valuation.Input, len(loans))
			for i := range loans {
				ins[i] = valuation.Input{Loan: &loans[i], History: history[i], HistoryStart: historyStart, AsOf: loans[i].CutOffDate, Absent: absent}
			}
			return yield(ins)
		})
	}
	v, err := valuation.ValueStream(ctx, valuation.ValueInput{Model: m, ModelRef: ref, AsOf: p.CutOffDate, Currency: p.Currency,
		Paths: key.paths, TargetIRR: key.irr, TargetMultiple: key.mult, Confidence: key.conf, Assumptions: a, LitigationShare: key.litigation,
		Progress: func(stage string, done, total int) { s.progress(ctx, stage, done, total) }},
		valuation.StreamInput{Source: src, Count: int(p.LoanCount), KeepLoans: s.opts.KeepLoans})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		var re *reclaim.Error
		if errors.As(err, &re) {
			return nil, err
		}
		return nil, reclaim.WrapError(reclaim.EINVALID, err, "portfolio %d cannot be valued", portfolioID)
	}
	return v, nil
}

// LoanValuation scores one loan of a portfolio with every reason code and its timing.
func (s *Service) LoanValuation(ctx context.Context, portfolioID int64, loanRef, model string) (*valuation.LoanValuation, error) {
	m, _, err := s.Model(ctx, model)
	if err != nil {
		return nil, err
	}
	l, err := s.db.LoanByRef(ctx, portfolioID, loanRef)
	if err != nil {
		return nil, err
	}
	reps, err := s.db.Repayments(ctx, portfolioID, loanRef)
	if err != nil {
		return nil, err
	}
	absent, err := s.absentFields(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	in := valuation.Input{Loan: &l, History: reps, AsOf: l.CutOffDate, Absent: absent}
	first, _, rows, err := s.db.RepaymentMonths(ctx, portfolioID)
	if err != nil {
		return nil, err
	}
	if rows > 0 {
		in.HistoryStart = first.StartOfMonth()
	}
	lv, err := valuation.ValueLoan(ctx, m, in, l.Currency)
	if err != nil {
		return nil, reclaim.WrapError(reclaim.EINTERNAL, err, "scoring loan %s", loanRef)
	}
	return &lv, nil
}

// BackTest compares a model's predicted collections for a portfolio with what was collected
// after its cut-off: repayment-history entries dated after the cut-off's month (seasoned tapes)
// and the collections posted to every pool opened from the portfolio, both by month after the
// cut-off's month (a collection dated in that month counts as month 1). The months compared run
// to the latest month with an actual collection, within the model's timing curves.
//
// It streams like a valuation: the pools' collections are read first (they are held, by loan),
// then the loans and their histories Batch at a time, each batch scored and added to the
// back-test (valuation.BackTestAccumulator) and dropped, so memory does not grow with the
// portfolio. The result is the same as backTestInMemory's (a test).
func (s *Service) BackTest(ctx context.Context, portfolioID int64, model string) (*valuation.BackTestReport, valuation.ModelRef, error) {
	m, ref, err := s.Model(ctx, model)
	if err != nil {
		return nil, ref, err
	}
	p, err := s.db.GetPortfolio(ctx, portfolioID)
	if err != nil {
		return nil, ref, err
	}
	first, _, rows, err := s.db.RepaymentMonths(ctx, portfolioID)
	if err != nil {
		return nil, ref, err
	}
	var historyStart date.Date
	if rows > 0 {
		historyStart = first.StartOfMonth()
	}
	absent, err := s.absentFields(ctx, portfolioID)
	if err != nil {
		return nil, ref, err
	}
	base := p.CutOffDate.StartOfMonth()
	monthOf := func(d date.Date) int { return max(date.MonthsBetween(base, d.StartOfMonth()), 1) }
	months := 0
	// The pools' collections after the cut-off, by loan id, in the order they are read.
	type collected struct {
		k      int
		amount float64
	}
	pooled := map[string][]collected{}
	pools, err := s.db.LedgerPools(ctx)
	if err != nil {
		return nil, ref, err
	}
	for _, pool := range pools {
		if pool.PortfolioID != portfolioID {
			continue
		}
		err := s.db.StreamPoolCollections(ctx, pool.Pool, func(c sqldb.PoolCollectionRow) error {
			if !c.Effective.Before(p.CutOffDate) {
				k := monthOf(c.Effective)
				pooled[c.LoanKey] = append(pooled[c.LoanKey], collected{k, c.Amount.Float()})
				months = max(months, k)
			}
			return nil
		})
		if err != nil {
			return nil, ref, err
		}
	}
	if rows > 0 {
		last, err := s.db.LastRepaymentCollected(ctx, portfolioID, base.AddMonths(1))
		if err != nil {
			return nil, ref, err
		}
		if !last.IsZero() {
			months = max(months, monthOf(last))
		}
	}
	timing, _ := m.Timing("")
	months = min(months, len(timing))
	// actualOf builds a loan's actual collections the way they are collected: its history first,
	// then its pool collections.
	actualOf := func(id string, history []reclaim.Repayment) []float64 {
		var a []float64
		put := func(k int, amount float64) {
			for len(a) < k {
				a = append(a, 0)
			}
			a[k-1] += amount
		}
		for _, r := range history {
			if r.Month.StartOfMonth().After(base) && r.Amount.Sign() > 0 {
				put(monthOf(r.Month), r.Amount.Float())
			}
		}
		for _, c := range pooled[id] {
			put(c.k, c.amount)
		}
		return a
	}
	batch := s.opts.Batch
	if batch <= 0 {
		batch = valuation.DefaultBatch
	}
	acc := valuation.NewBackTestAccumulator(months)
	cov := m.NewCoverage()
	done, total := 0, int(p.LoanCount)
	err = s.db.StreamLoanBatches(ctx, portfolioID, batch, rows > 0, func(loans []reclaim.Loan, history [][]reclaim.Repayment) error {
		ins := make([]valuation.Input, len(loans))
		for i := range loans {
			ins[i] = valuation.Input{Loan: &loans[i], History: history[i], HistoryStart: historyStart, AsOf: loans[i].CutOffDate, Absent: absent}
		}
		scores, err := m.ScoreBatch(ctx, ins, valuation.ScoreOptions{}, cov)
		if err != nil {
			return err
		}
		bl := valuation.BackTestLoans(scores, ins, months)
		for i := range bl {
			acc.Add(&bl[i], actualOf(bl[i].LoanID, history[i]))
			delete(pooled, bl[i].LoanID)
		}
		done += len(loans)
		s.progress(ctx, "scoring", done, total)
		return nil
	})
	if err != nil {
		return nil, ref, err
	}
	if err := cov.Check(); err != nil {
		return nil, ref, err
	}
	// Pool collections of loan ids the portfolio does not have.
	rest := make([]string, 0, len(pooled))
	for id := range pooled {
		rest = append(rest, id)
	}
	slices.Sort(rest)
	for _, id := range rest {
		acc.Unmatched(actualOf(id, nil))
	}
	return acc.Report(), ref, nil
}

// backTestInMemory is BackTest over the whole portfolio loaded at once (LoadPortfolio): the
// reference the streaming BackTest is tested against.
func (s *Service) backTestInMemory(ctx context.Context, portfolioID int64, model string) (*valuation.BackTestReport, valuation.ModelRef, error) {
	m, ref, err := s.Model(ctx, model)
	if err != nil {
		return nil, ref, err
	}
	p, err := s.LoadPortfolio(ctx, portfolioID)
	if err != nil {
		return nil, ref, err
	}
	base := p.CutOffDate.StartOfMonth()
	actual := map[string][]float64{}
	months := 0
	add := func(loan string, month date.Date, amount float64) {
		k := max(date.MonthsBetween(base, month.StartOfMonth()), 1)
		a := actual[loan]
		for len(a) < k {
			a = append(a, 0)
		}
		a[k-1] += amount
		actual[loan] = a
		months = max(months, k)
	}
	for _, in := range p.Inputs {
		for _, r := range in.History {
			if r.Month.StartOfMonth().After(base) && r.Amount.Sign() > 0 {
				add(in.Loan.LoanID, r.Month, r.Amount.Float())
			}
		}
	}
	pools, err := s.db.LedgerPools(ctx)
	if err != nil {
		return nil, ref, err
	}
	for _, pool := range pools {
		if pool.PortfolioID != portfolioID {
			continue
		}
		err := s.db.StreamPoolCollections(ctx, pool.Pool, func(c sqldb.PoolCollectionRow) error {
			if !c.Effective.Before(p.CutOffDate) {
				add(c.LoanKey, c.Effective, c.Amount.Float())
			}
			return nil
		})
		if err != nil {
			return nil, ref, err
		}
	}
	timing, _ := m.Timing("")
	months = min(months, len(timing))
	scores, err := m.Score(ctx, p.Inputs, valuation.ScoreOptions{})
	if err != nil {
		return nil, ref, err
	}
	return valuation.BackTest(valuation.BackTestLoans(scores, p.Inputs, months), actual, months), ref, nil
}

// ModelRef formats a model reference as "NAME@VERSION".
func ModelRef(r valuation.ModelRef) string { return fmt.Sprintf("%s@%d", r.Name, r.Version) }
