// Normalisation of the valuation API's responses (src/api/valuation.ts), kept free of imports so
// that tests/valuation.test.mjs can run it under node.
//
// The server may send amounts as decimal strings in yuan or as numbers, a price of null when the
// target IRR cannot be reached, percent-of-claim as 5 or 0.05, percentile levels as 5 or 0.05, and
// null for empty lists; normalize() turns a response into plain numbers (NaN where a value is
// absent) so the views and charts do no parsing of their own.
import type { LoanScore, LoanScoreRaw, Valuation, ValuationRaw } from '@/api/valuation'

/** toNumber reads a number or a decimal string ("1,234.56" too); anything else is NaN. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v.replace(/,/g, ''))
    return Number.isFinite(n) ? n : NaN
  }
  return NaN
}
const num = toNumber

/**
 * pctFraction is a price as a fraction of the claim: price / claim when both are known, else the
 * API's percent-of-claim field (5 means 5%) / 100.
 */
function pctFraction(pct: unknown, price: number, claim: number): number {
  if (Number.isFinite(price) && Number.isFinite(claim) && claim > 0) return price / claim
  const n = num(pct)
  return Number.isFinite(n) ? n / 100 : NaN
}

/** Percentile levels may come as 5/50/95 or 0.05/0.5/0.95; the console uses percent. */
function levels<T extends { p: number }>(list: T[]): T[] {
  const frac = list.length > 0 && list.every((x) => x.p <= 1)
  return frac ? list.map((x) => ({ ...x, p: Math.round(x.p * 1000) / 10 })) : list
}

/** amountOrNull reads an amount that may be absent (null) as null, else a number. */
function amountOrNull(v: unknown): number | null {
  if (v === null || v === undefined || v === '') return null
  const n = num(v)
  return Number.isFinite(n) ? n : null
}

const LOAN_FIELDS = new Set(['loan_id', 'claim', 'p_recovery', 'expected_rate', 'expected_recovery', 'reasons', 'bias', 'margin', 'link', 'segment', 'baseline_rate', 'missing', 'timing'])

export function normalizeLoan(r: LoanScoreRaw): LoanScore {
  const extra: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(r)) if (!LOAN_FIELDS.has(k)) extra[k] = v
  return {
    loanId: String(r.loan_id ?? ''),
    claim: num(r.claim),
    pRecovery: num(r.p_recovery),
    expectedRate: num(r.expected_rate),
    expectedRecovery: num(r.expected_recovery),
    reasons: (r.reasons || []).map((x) => ({
      feature: String(x.feature),
      value: x.value ?? null,
      ...(x.level ? { level: String(x.level) } : {}),
      contribution: num(x.contribution),
    })),
    bias: num(r.bias),
    margin: num(r.margin),
    link: typeof r.link === 'string' ? r.link : '',
    segment: typeof r.segment === 'string' ? r.segment : '',
    baselineRate: num(r.baseline_rate),
    missing: Array.isArray(r.missing) ? r.missing.map(String) : [],
    timing: Array.isArray(r.timing) ? r.timing.map(num) : [],
    extra,
  }
}

export function normalize(v: ValuationRaw): Valuation {
  const claim = num(v.claim)
  const curve = (v.curve || []).map((c) => ({
    month: num(c.month),
    expected: num(c.expected),
    p5: num(c.p5),
    p50: num(c.p50),
    p95: num(c.p95),
    cumulative: num(c.cumulative),
    tail: c.tail === true,
  }))
  const tr = v.tail
  const lastCum = curve.length ? curve[curve.length - 1].cumulative : NaN
  const sumExpected = curve.reduce((a, c) => a + (Number.isFinite(c.expected) ? c.expected : 0), 0)
  // A cumulative that ends at or below 1 while the monthly amounts are sums of money is a share.
  const cumulativeIsShare = Number.isFinite(lastCum) && lastCum <= 1.0001 && sumExpected > 1.5
  const pr = v.price
  const price = amountOrNull(pr?.price)
  const dist = v.irr_distribution
  const conf = amountOrNull(pr?.price_at_confidence)
  const mult = amountOrNull(pr?.price_for_multiple)
  const t = v.totals
  return {
    model: { name: v.model?.name ?? '', version: String(v.model?.version ?? '') },
    asOf: v.as_of || '',
    currency: v.currency || '',
    horizon: num(v.horizon),
    loans: num(v.loans),
    claim,
    expectedRecovery: num(v.expected_recovery),
    expectedRate: num(v.expected_rate),
    pMaterial: num(v.p_material_mean),
    missing: Object.entries(v.missing_features || {})
      .map(([feature, count]) => ({ feature, count: num(count) }))
      .filter((m) => m.count > 0)
      .sort((a, b) => b.count - a.count || a.feature.localeCompare(b.feature)),
    curve,
    tail: tr
      ? {
          method: tr.method || '',
          source: tr.source || '',
          trainingHorizon: num(tr.training_horizon),
          horizon: num(tr.horizon),
          factor: num(tr.factor),
          within: num(tr.within),
          amount: num(tr.amount),
          rate: num(tr.rate),
        }
      : null,
    cumulativeIsShare,
    totals: t
      ? { gross: num(t.gross), collectionCost: num(t.collection_cost), legalCost: num(t.legal_cost), servicingCost: num(t.servicing_cost), net: num(t.net) }
      : null,
    targetIrr: num(pr?.target_irr),
    price,
    pricePct: price !== null ? pctFraction(pr?.price_pct, price, claim) : NaN,
    multiple: num(pr?.multiple),
    netMultiple: num(pr?.net_multiple),
    paybackMonth: pr?.payback_month ? num(pr.payback_month) : null,
    explanation: pr?.explanation || '',
    atConfidence:
      pr && (pr.confidence !== undefined || pr.price_at_confidence !== undefined)
        ? { price: conf, pct: conf !== null ? pctFraction(pr.price_at_confidence_pct, conf, claim) : NaN, confidence: num(pr.confidence), explanation: pr.confidence_explanation || '' }
        : null,
    forMultiple:
      pr && (pr.target_multiple !== undefined || pr.price_for_multiple !== undefined)
        ? { price: mult, pct: mult !== null ? pctFraction(pr.price_for_multiple_pct, mult, claim) : NaN, multiple: num(pr.target_multiple) }
        : null,
    paths: num(dist?.paths),
    irrPercentiles: levels((dist?.percentiles || []).map((x) => ({ p: num(x.p), irr: num(x.irr) }))),
    multiplePercentiles: levels((dist?.multiple_percentiles || []).map((x) => ({ p: num(x.p), multiple: num(x.multiple) }))),
    probMissHurdle: num(dist?.prob_miss_hurdle),
    meanIrr: num(dist?.mean_irr),
    histogram: (dist?.histogram || []).map((h) => ({ lo: num(h.lo), hi: num(h.hi), count: num(h.count) })),
    priceTable: (v.price_table || [])
      .map((r) => {
        const p = num(r.price)
        const irr = r.irr === null || r.irr === undefined ? null : num(r.irr)
        return {
          price: p,
          pct: pctFraction(r.price_pct, p, claim),
          irr: irr !== null && Number.isFinite(irr) ? irr : null,
          multiple: num(r.multiple),
          netMultiple: num(r.net_multiple),
          paybackMonth: r.payback_month ? num(r.payback_month) : null,
        }
      })
      .sort((a, b) => a.pct - b.pct),
    top: (v.top_loans || []).map(normalizeLoan),
    bottom: (v.bottom_loans || []).map(normalizeLoan),
    baseline: v.baseline
      ? { expectedRecovery: num(v.baseline.expected_recovery), expectedRate: num(v.baseline.expected_rate) }
      : null,
  }
}

type Bin = { lo: number; hi: number; count: number }

/**
 * splitTails separates the body of a histogram from its outlying bins, so that the body keeps its
 * resolution: bins beyond a long run of empty bins (paths that never repay the price sit at the
 * IRR floor, far from the rest), and, given hiCut (the 95th percentile), the bins of a long right
 * tail that start at or above it. Each tail comes back merged into one bin, or null.
 */
export function splitTails(h: Bin[], hiCut?: number): { body: Bin[]; left: Bin | null; right: Bin | null } {
  const n = h.length
  if (n < 6) return { body: h, left: null, right: null }
  const long = Math.max(3, Math.ceil(n * 0.2))
  // Segments of non-empty bins, split where a run of empty bins is long.
  const segs: [number, number][] = []
  let cur: [number, number] | null = null
  let gap = 0
  for (let i = 0; i < n; i++) {
    if (h[i].count > 0) {
      if (cur && gap >= long) {
        segs.push(cur)
        cur = null
      }
      if (cur) cur[1] = i
      else cur = [i, i]
      gap = 0
    } else gap++
  }
  if (cur) segs.push(cur)
  let from = 0
  let to = n - 1
  if (segs.length > 1) {
    const total = (a: number, b: number) => h.slice(a, b + 1).reduce((x, y) => x + y.count, 0)
    let best = segs[0]
    for (const sg of segs) if (total(sg[0], sg[1]) > total(best[0], best[1])) best = sg
    ;[from, to] = best
  }
  if (hiCut !== undefined && Number.isFinite(hiCut)) {
    let k = to
    while (k > from && h[k].lo >= hiCut) k--
    if (to - k >= 3 && k - from + 1 >= 4) to = k
  }
  const merge = (list: Bin[]): Bin | null => {
    const ne = list.filter((b) => b.count > 0)
    return ne.length ? { lo: ne[0].lo, hi: ne[ne.length - 1].hi, count: ne.reduce((a, b) => a + b.count, 0) } : null
  }
  if (from === 0 && to === n - 1) return { body: h, left: null, right: null }
  return { body: h.slice(from, to + 1), left: merge(h.slice(0, from)), right: merge(h.slice(to + 1)) }
}
