// The valuation API (recovery model registry, portfolio valuation and pricing; valuation/value.go
// and valuation/recovery.go on the server): the shapes the server sends and the normalised shapes
// the views use (src/valuation/normalize.ts converts).
import { api } from './client'
import { normalize, normalizeLoan } from '@/valuation/normalize'

/** An amount in yuan: a decimal string or a number (both are accepted), null when absent. */
export type Amount = string | number | null | undefined

/** One calibration bin: loans in equal-count groups by prediction, mean predicted and observed. */
export interface CalibrationBin {
  bin: number | string
  predicted: number
  observed: number
  count: number
  lo?: number
  hi?: number
}

/** Held-out metrics of a model and of the static-pool baseline (null when not computable). */
export interface ModelMetrics {
  auc_material?: number | null
  auc_rate10?: number | null
  logloss?: number | null
  mae?: number | null
  rmse?: number | null
  spearman?: number | null
  /** 100 × (expected − recovered) / recovered over the held-out loans: −6.5 is 6.5% under. */
  portfolio_error_pct?: number | null
  baseline_auc_rate10?: number | null
  baseline_mae?: number | null
  baseline_rmse?: number | null
  baseline_auc_material?: number | null
  baseline_logloss?: number | null
  baseline_spearman?: number | null
  baseline_portfolio_error_pct?: number | null
  rows?: number | null
  [k: string]: number | null | undefined
}

export interface FeatureGain {
  feature: string
  /** Share of the model's total split gain (or a raw gain; the console shows shares either way). */
  gain: number
}

/** How a model was trained. */
export interface TrainInfo {
  source?: string
  rows?: number
  train_rows?: number
  valid_rows?: number
  folds?: number
  horizon?: number
  exposure?: string
  rate_objective?: string
  material_trees?: number
  rate_trees?: number
  [k: string]: unknown
}

/** GET /api/v1/models: one registered model version. */
export interface ModelInfo {
  name: string
  version: number | string
  feature_set: string
  created_at: string
  created_by: string
  active: boolean
  sha256?: string
  size?: number
  metrics: ModelMetrics | null
  /** Reliability of P(material recovery) by decile; rate_calibration that of the expected rate. */
  calibration: CalibrationBin[] | null
  rate_calibration?: CalibrationBin[] | null
  /** Gain shares of the rate model; material_importance those of the P(material) model. */
  importance: FeatureGain[] | null
  material_importance?: FeatureGain[] | null
  info?: TrainInfo | null
  /** How valuations beyond the training horizon are extended (absent: they are not). */
  tail?: { method: string; source: string; training_horizon: number; factor_to_60: number } | null
}

/** The reason that sums the contributions of the features a top-k list leaves out. */
export const OTHER_FEATURES = '(other features)'

/** One reason code: a feature, the loan's value of it and its contribution to the margin. */
export interface Reason {
  feature: string
  /** The value (a number; a categorical feature's code), null when missing. */
  value: unknown
  /** The category a categorical feature's value names ("credit_card", "440000"). */
  level?: string | null
  contribution: number
}

export interface LoanScoreRaw {
  loan_id: string
  claim: Amount
  p_recovery: number | null
  expected_rate: number | null
  expected_recovery: Amount
  reasons: Reason[] | null
  /** bias + Σ contributions = margin; link says how the margin maps to the rate. */
  bias?: number | null
  margin?: number | null
  link?: string
  segment?: string
  baseline_rate?: number | null
  missing?: string[] | null
  /** Shares of the recovery by month (the loan endpoint). */
  timing?: number[] | null
  [k: string]: unknown
}

export interface ValuationRaw {
  model: { name: string; version: number | string }
  as_of: string
  currency?: string
  horizon?: number
  loans: number
  claim: Amount
  expected_recovery: Amount
  expected_rate: number | null
  p_material_mean: number | null
  missing_features: Record<string, number> | null
  curve: { month: number; expected: Amount; p5: Amount; p50: Amount; p95: Amount; cumulative: Amount; tail?: boolean }[] | null
  tail?: {
    method: string
    source: string
    training_horizon: number
    horizon: number
    factor: number
    within: Amount
    amount: Amount
    rate: number
  } | null
  totals?: { gross: Amount; collection_cost: Amount; legal_cost: Amount; servicing_cost: Amount; net: Amount } | null
  price: {
    target_irr: number
    price: Amount
    /** Percent of the claim (5 is 5%), like every *_pct field. */
    price_pct: number | null
    /** Gross money multiple at the price; net_multiple the net one. */
    multiple: number | null
    net_multiple?: number | null
    payback_month: number | null
    explanation?: string
    target_multiple?: number | null
    price_for_multiple?: Amount
    price_for_multiple_pct?: number | null
    confidence?: number | null
    price_at_confidence?: Amount
    price_at_confidence_pct?: number | null
    confidence_explanation?: string
  } | null
  irr_distribution: {
    price?: Amount
    paths?: number
    percentiles: { p: number; irr: number | null }[] | null
    prob_miss_hurdle: number | null
    histogram: { lo: number; hi: number; count: number }[] | null
    multiple_percentiles: { p: number; multiple: number | null }[] | null
    mean_irr?: number | null
  } | null
  price_table: { price: Amount; price_pct: number | null; irr: number | null; multiple: number | null; net_multiple?: number | null; payback_month?: number | null }[] | null
  top_loans: LoanScoreRaw[] | null
  bottom_loans: LoanScoreRaw[] | null
  baseline: { expected_recovery: Amount; expected_rate: number | null } | null
}

// ---- normalised shapes (numbers; NaN where absent)

export interface LoanScore {
  loanId: string
  claim: number
  pRecovery: number
  expectedRate: number
  expectedRecovery: number
  reasons: Reason[]
  bias: number
  margin: number
  /** "identity": contributions are on the rate scale (0.05 is 5 points of recovery rate). */
  link: string
  segment: string
  baselineRate: number
  missing: string[]
  timing: number[]
  /** Fields beyond these, shown as they come. */
  extra: Record<string, unknown>
}

export interface CurvePoint {
  month: number
  expected: number
  p5: number
  p50: number
  p95: number
  cumulative: number
  /** True for a month beyond the model's training horizon (the tail's collections). */
  tail: boolean
}

/** The collections a valuation adds beyond the model's training horizon (docs/valuation.md). */
export interface TailInfo {
  method: string
  source: string
  trainingHorizon: number
  horizon: number
  factor: number
  within: number
  amount: number
  /** Fraction of the claim. */
  rate: number
}

export interface PriceRow {
  price: number
  /** Fraction of the claim (0.05 = 5%). */
  pct: number
  irr: number | null
  multiple: number
  netMultiple: number
  paybackMonth: number | null
}

/** A price with its share of the claim (a fraction), or null when none is reached. */
export interface AltPrice {
  price: number | null
  pct: number
}

export interface Valuation {
  model: { name: string; version: string }
  asOf: string
  currency: string
  horizon: number
  loans: number
  claim: number
  expectedRecovery: number
  expectedRate: number
  pMaterial: number
  missing: { feature: string; count: number }[]
  curve: CurvePoint[]
  /** The tail beyond the training horizon, or null when the valuation stays within it. */
  tail: TailInfo | null
  /** True when curve[].cumulative is a share of the claim rather than an amount. */
  cumulativeIsShare: boolean
  totals: { gross: number; collectionCost: number; legalCost: number; servicingCost: number; net: number } | null
  targetIrr: number
  price: number | null
  /** Fraction of the claim. */
  pricePct: number
  /** Gross money multiple at the price. */
  multiple: number
  netMultiple: number
  paybackMonth: number | null
  explanation: string
  /** The price at which `confidence` of the paths earn the target IRR. */
  atConfidence: (AltPrice & { confidence: number; explanation: string }) | null
  /** The price at which expected gross collections are `multiple` times the price. */
  forMultiple: (AltPrice & { multiple: number }) | null
  paths: number
  /** Percentile levels are in percent (5, 50, 95). */
  irrPercentiles: { p: number; irr: number }[]
  multiplePercentiles: { p: number; multiple: number }[]
  probMissHurdle: number
  meanIrr: number
  histogram: { lo: number; hi: number; count: number }[]
  priceTable: PriceRow[]
  top: LoanScore[]
  bottom: LoanScore[]
  baseline: { expectedRecovery: number; expectedRate: number } | null
}

export interface ValuationQuery {
  model?: string
  targetIrr: number
  paths: number
  /** Months to value; 0 or absent: the model's training horizon. */
  horizon?: number
}

export async function getValuation(portfolioId: string, q: ValuationQuery, signal?: AbortSignal): Promise<Valuation> {
  const raw = await api.get<ValuationRaw>(
    `/portfolios/${encodeURIComponent(portfolioId)}/valuation`,
    { model: q.model, target_irr: q.targetIrr, paths: q.paths, horizon: q.horizon || undefined },
    { signal },
  )
  return normalize(raw)
}

export async function getLoanValuation(portfolioId: string, loanRef: string, model?: string): Promise<LoanScore> {
  const raw = await api.get<LoanScoreRaw>(
    `/portfolios/${encodeURIComponent(portfolioId)}/loans/${encodeURIComponent(loanRef)}/valuation`,
    { model },
  )
  return normalizeLoan(raw)
}

export async function listModels(): Promise<ModelInfo[]> {
  const r = await api.get<ModelInfo[] | { items: ModelInfo[] | null } | null>('/models')
  return (Array.isArray(r) ? r : r?.items) || []
}

/** modelKey identifies one version of a model, as the API's model parameter takes it. */
export const modelKey = (m: { name: string; version: number | string }) => `${m.name}@${m.version}`

// ---- the back-test (GET /portfolios/{id}/backtest): amounts are numbers in major units.

/** BackTestRow is one group of loans (a segment, a vintage year, "unknown", or "all"). */
export interface BackTestRow {
  key: string
  loans: number
  exposure: number
  predicted: number
  actual: number
  /** 100 × (predicted − actual) / actual; null when nothing was collected. */
  error_pct: number | null
}

export interface BackTestMonth {
  month: number
  predicted: number
  actual: number
  cum_predicted: number
  cum_actual: number
}

export interface BackTest {
  model: { name: string; version: number }
  /** Months compared: 1..months after the cut-off's month (0: no post-cut-off history). */
  months: number
  total: BackTestRow
  by_month: BackTestMonth[]
  by_segment: BackTestRow[]
  by_vintage: BackTestRow[]
  unmatched_loans: number
  unmatched_amount: number
}

export async function getBackTest(portfolioId: string, model?: string, signal?: AbortSignal): Promise<BackTest> {
  const r = await api.get<BackTest>(`/portfolios/${encodeURIComponent(portfolioId)}/backtest`, { model: model || undefined }, { signal })
  return {
    ...r,
    months: r.months || 0,
    by_month: r.by_month || [],
    by_segment: r.by_segment || [],
    by_vintage: r.by_vintage || [],
  }
}
