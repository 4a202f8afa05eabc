// The valuation endpoints of the mock server (tests/mock-server.mjs), in the shapes of
// valuation/value.go and valuation/recovery.go: the model registry and a portfolio's valuation
// (recovery curve with its Monte Carlo band, price for a target IRR, the IRR distribution, the
// price table, the best and riskiest loans with reason codes).
//
// Everything is deterministic: each loan is scored by a small additive model over its tape fields
// (a stand-in for the GBDT and its SHAP contributions, on the rate scale: bias + Σ contributions =
// margin = expected rate), the expected collections are spread over the horizon, and the Monte
// Carlo paths are seeded by the portfolio and the number of paths. Amounts are decimal strings as
// the server sends them (the console also accepts numbers).
//
//   GET /api/v1/models
//   GET /api/v1/portfolios/{id}/valuation?model=NAME[@VERSION]&target_irr=0.18&paths=500
//   GET /api/v1/portfolios/{id}/loans/{ref}/valuation
//   GET /api/v1/portfolios/{id}/backtest?model=NAME[@VERSION]

const HORIZON = 24
// Months of post-cut-off collections each seeded portfolio has for the back-test (others: none).
const HISTORY_MONTHS = { 'GDB-2026-01': 14, 'ZJXF-2025-Q4': 18 }
const COLLECTION_COST = 0.3 // of cash collected
const SERVICING_PER_MONTH = 3 // yuan per open account a month
const OTHER = '(other features)'

function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
function gauss(r) {
  const u = Math.max(1e-12, r()), v = r()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}
const sigmoid = (x) => 1 / (1 + Math.exp(-x))
const yuan = (x) => (Math.round(x * 100) / 100).toFixed(2)
function hash(s) {
  let h = 2166136261
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0
  return h
}

// ---- the registry
const IMPORTANCE = [
  ['post_default_pay_months', 1842.5], ['province', 1630.1], ['phone_available', 1211.9], ['legal_status', 988.4],
  ['log_claim', 902.7], ['limitation_headroom_months', 744.0], ['pay_months_12m', 690.2], ['never_paid', 611.8],
  ['borrower_age', 402.3], ['product', 377.5], ['months_since_last_payment', 351.0], ['five_category_rank', 298.6],
  ['interest_fee_share', 251.4], ['written_off', 180.9], ['dpd', 164.2], ['months_since_contact', 120.7],
  ['agency_placements', 96.3], ['security', 71.8], ['macro_region', 52.5], ['forbearance_count', 18.2],
  ['pay_share_6m', 12.0], ['pay_months_36m', 9.1],
]
const shares = (list) => {
  const t = list.reduce((a, [, g]) => a + g, 0)
  return list.map(([feature, g]) => ({ feature, gain: g / t }))
}

function calibration(seed, skew, scale) {
  const r = rng(seed)
  const out = []
  let lo = 0
  for (let b = 0; b < 10; b++) {
    const predicted = scale * (0.02 + b * 0.055 + b * b * 0.004)
    const hi = predicted * 1.15
    const observed = Math.min(0.99, Math.max(0.001, predicted * (1 + skew) + (r() - 0.5) * 0.03 * scale))
    out.push({ bin: b + 1, predicted, observed, count: 399, lo, hi })
    lo = hi
  }
  return out
}

function card(name, version, fs, createdAt, by, active, m, seed) {
  return {
    name, version, feature_set: fs, created_at: createdAt, created_by: by, active,
    sha256: (hash(name + version).toString(16) + '0'.repeat(56)).slice(0, 64), size: 428924 + version * 1000,
    metrics: m,
    calibration: calibration(seed, 0.04, 1),
    rate_calibration: calibration(seed + 100, -0.06, 0.6),
    importance: shares(IMPORTANCE.slice(0, 22 - version)),
    material_importance: shares([...IMPORTANCE].reverse().slice(4).reverse().map(([f, g], i) => [f, g * (1 + ((i * 7) % 5) / 10)]).sort((a, b) => b[1] - a[1])),
    info: {
      source: 'seasoned synthetic portfolio: 20000 loans, profile bank_mixed, seed 2024, 24 months of collections',
      rows: 20000, train_rows: 16009, valid_rows: 3991, valid_fold: 0, folds: 5, horizon: HORIZON, exposure: 'total_claim',
      rate_objective: 'reg:squarederror', material_trees: 94, rate_trees: 88,
    },
  }
}
const BASE = { baseline_auc_rate10: 0.598, baseline_mae: 0.1441, baseline_rmse: 0.2215, baseline_auc_material: 0.603, baseline_logloss: 0.4448, baseline_spearman: 0.127, baseline_portfolio_error_pct: -15.1 }

export const MODELS = [
  card('recovery-demo', 3, 'cn-v1', '2026-07-02T09:14:00Z', 'demo-analyst', true,
    { auc_material: 0.737, auc_rate10: 0.735, logloss: 0.3878, mae: 0.1361, rmse: 0.2127, spearman: 0.2998, portfolio_error_pct: -6.5, ...BASE, rows: 3991 }, 11),
  card('recovery-demo', 2, 'cn-v1', '2026-05-18T03:40:00Z', 'demo-admin', false,
    { auc_material: 0.721, auc_rate10: 0.718, logloss: 0.3951, mae: 0.1402, rmse: 0.2169, spearman: 0.281, portfolio_error_pct: -9.2, ...BASE, rows: 3991 }, 12),
  {
    ...card('lc-benchmark', 1, 'lendingclub-v1', '2026-04-02T12:00:00Z', 'demo-analyst', true,
      { auc_material: 0.701, auc_rate10: 0.688, logloss: 0.571, mae: 0.0911, rmse: 0.14, spearman: 0.377, portfolio_error_pct: null, baseline_auc_rate10: 0.611, baseline_mae: 0.1032, rows: 25000 }, 13),
    importance: shares([['int_rate', 980], ['sub_grade_rank', 870], ['months_to_last_payment', 820], ['total_rec_prncp_share', 640], ['annual_inc', 410], ['dti', 300], ['term', 210], ['emp_length', 120]]),
    rate_calibration: null,
  },
]

// ---- scoring one loan (contributions on the rate scale: identity link)
const LEGAL = { not_sued: -0.012, in_litigation: 0.008, judgment: 0.031, enforcement: 0.018, enforcement_terminated: -0.05 }
const PRODUCT = ['credit_card', 'consumer_loan', 'business_loan', 'auto_loan', 'mortgage']
const PRODUCT_C = { credit_card: -0.006, consumer_loan: 0.002, business_loan: 0.012, auto_loan: 0.027 }
const LEGAL_LEVELS = ['not_sued', 'in_litigation', 'mediated', 'judgment', 'enforcement', 'enforcement_terminated', 'closed']
const PROVINCES = ['110000', '120000', '130000', '140000', '150000', '210000', '220000', '230000', '310000', '320000', '330000', '340000', '350000', '360000', '370000', '410000', '420000', '430000', '440000', '450000', '460000', '500000', '510000', '520000', '530000', '540000', '610000', '620000', '630000', '640000', '650000']
const FIVE = { substandard: 0, doubtful: 1, loss: 2 }
const BIAS = 0.058

/** score returns the loan's reason codes (all features), scores and missing features. */
function score(l) {
  const r = rng(hash(l.loan_id))
  const claim = (l._p + l._i + l._f) / 100
  const hasHistory = r() < 0.9
  const payMonths = hasHistory ? Math.floor(r() ** 2.2 * 12) : null
  const postDefault = hasHistory ? Math.min(payMonths, Math.floor(r() * 8)) : null
  const paid6 = payMonths ? Math.round(r() * 0.05 * payMonths * 1000) / 1000 : hasHistory ? 0 : null
  const lastPay = r() < 0.2 ? null : Math.floor(3 + r() * 70)
  const contact = r() < 0.06 ? null : Math.floor(r() * 30)
  const phone = r() < 0.7 ? 1 : 0
  const headroom = Math.round(36 - l.days_past_due / 30.4 + r() * 30)
  const prov = l.region_code.slice(0, 2) + '0000'
  const provC = ((hash(prov) % 41) - 20) / 1000
  const feats = [
    { feature: 'post_default_pay_months', value: postDefault, contribution: postDefault === null ? -0.004 : postDefault * 0.027 - 0.01 },
    { feature: 'province', value: Math.max(0, PROVINCES.indexOf(prov)), level: prov, contribution: provC },
    { feature: 'phone_available', value: phone, contribution: phone ? 0.011 : -0.025 },
    { feature: 'legal_status', value: LEGAL_LEVELS.indexOf(l.legal_status), level: l.legal_status, contribution: LEGAL[l.legal_status] ?? 0 },
    { feature: 'log_claim', value: Math.log1p(claim), contribution: -(Math.log1p(claim) - 10.6) * 0.011 },
    { feature: 'limitation_headroom_months', value: headroom, contribution: headroom < 0 ? -0.021 : Math.min(0.01, headroom * 0.0004) },
    { feature: 'pay_months_12m', value: payMonths, contribution: payMonths === null ? -0.002 : payMonths * 0.007 - 0.006 },
    { feature: 'borrower_age', value: l.age, contribution: -(l.age - 40) * 0.0009 },
    { feature: 'product', value: PRODUCT.indexOf(l.product_type), level: l.product_type, contribution: PRODUCT_C[l.product_type] ?? 0 },
    { feature: 'months_since_last_payment', value: lastPay, contribution: lastPay === null ? -0.003 : 0.02 - lastPay * 0.0006 },
    { feature: 'five_category_rank', value: FIVE[l.five_category] ?? null, contribution: 0.007 - (FIVE[l.five_category] ?? 1) * 0.006 },
    { feature: 'written_off', value: l.written_off ? 1 : 0, contribution: l.written_off ? -0.006 : 0.002 },
    { feature: 'pay_share_6m', value: paid6, contribution: paid6 === null ? 0 : paid6 * 0.3 - 0.001 },
    { feature: 'dpd', value: l.days_past_due, contribution: -(l.days_past_due - 900) / 900 * 0.012 },
    { feature: 'months_since_contact', value: contact, contribution: contact === null ? -0.002 : 0.006 - contact * 0.0004 },
  ]
  const sum = feats.reduce((a, x) => a + x.contribution, 0)
  const margin = BIAS + sum
  const rate = Math.min(0.95, Math.max(0, margin))
  const p = sigmoid(-1.9 + sum * 14)
  const missing = feats.filter((x) => x.value === null).map((x) => x.feature)
  // The server's static-pool segment keys (valuation.StandardSegment: tape.DPDBuckets × balance bands).
  const d = l.days_past_due
  const dpdB = d < 180 ? 'lt180' : d < 365 ? '180_360' : d < 730 ? '1_2y' : d < 1095 ? '2_3y' : d < 1826 ? '3_5y' : 'gt5y'
  const claimB = claim < 5000 ? 'lt5k' : claim < 20000 ? '5k_20k' : claim < 50000 ? '20k_50k' : claim < 100000 ? '50k_100k' : 'ge100k'
  return { claim, p, rate, margin, reasons: feats, missing, segment: `${l.product_type}|${dpdB}|${claimB}`, baselineRate: 0.04 + (hash(l.product_type + dpdB) % 50) / 1000 }
}

const TIMING = (() => {
  const w = []
  for (let m = 1; m <= HORIZON; m++) w.push(Math.pow(m, 0.4) * Math.exp(-m / 8))
  const s = w.reduce((a, x) => a + x, 0)
  return w.map((x) => x / s)
})()

/** loanValuation is one loan as the API sends it: the top `limit` reasons plus the rest summed. */
function loanValuation(l, s, limit) {
  const all = [...s.reasons].sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
  let reasons = all
  if (limit) {
    reasons = all.slice(0, limit)
    const rest = all.slice(limit).reduce((a, x) => a + x.contribution, 0)
    reasons.push({ feature: OTHER, value: null, contribution: rest })
  }
  return {
    loan_id: l.loan_id,
    claim: yuan(s.claim),
    p_recovery: s.p,
    expected_rate: s.rate,
    expected_recovery: yuan(s.claim * s.rate),
    reasons,
    bias: BIAS,
    margin: s.margin,
    link: 'identity',
    segment: s.segment,
    baseline_rate: s.baselineRate,
    missing: s.missing,
    ...(limit ? {} : { timing: TIMING }),
  }
}

// ---- cash flows and returns
const monthlyRate = (irr) => Math.pow(1 + irr, 1 / 12) - 1
function pv(flows, irr) {
  const m = monthlyRate(irr)
  let s = 0
  for (let i = 0; i < flows.length; i++) s += flows[i] / Math.pow(1 + m, i + 1)
  return s
}
/** irrFor solves pv(flows, irr) = price (negative when the flows do not repay it); null when none does. */
function irrFor(price, flows, cap = 100) {
  let lo = -0.99, hi = cap
  if (price <= 0 || pv(flows, lo) <= price) return null
  if (pv(flows, hi) > price) return cap
  for (let k = 0; k < 80; k++) {
    const mid = (lo + hi) / 2
    if (pv(flows, mid) > price) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}
function payback(price, flows) {
  let c = 0
  for (let i = 0; i < flows.length; i++) if ((c += flows[i]) >= price) return i + 1
  return 0
}
function quantile(sorted, q) {
  if (!sorted.length) return NaN
  const pos = (sorted.length - 1) * q
  const i = Math.floor(pos), f = pos - i
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
}
const LEVELS = [1, 5, 10, 25, 50, 75, 90, 95, 99]

export function createValuation() {
  const cache = new Map() // portfolio id -> scored loans
  const models = structuredClone(MODELS) // this server's registry (activation changes it)

  function scored(pf, loans) {
    if (!cache.has(pf.id)) cache.set(pf.id, loans.map((l) => ({ l, s: score(l) })))
    return cache.get(pf.id)
  }

  function pick(name) {
    if (!name) return models.find((m) => m.active && m.feature_set === 'cn-v1')
    const [n, v] = name.split('@')
    return models.find((m) => m.name === n && (v ? String(m.version) === v : m.active))
  }

  function portfolioValuation(pf, loans, q, fail, res) {
    const model = pick(q.get('model') || '')
    if (!model) return fail(res, 404, 'not_found', `no registered model ${q.get('model')}`)
    if (model.feature_set !== 'cn-v1') return fail(res, 400, 'invalid', `model ${model.name} scores ${model.feature_set} loans; portfolio ${pf.id} is a cn-v1 tape`)
    const target = q.has('target_irr') ? Number(q.get('target_irr')) : 0.18
    const paths = q.has('paths') ? Number(q.get('paths')) : 500
    if (!Number.isFinite(target) || target < -0.99 || target > 100) return fail(res, 422, 'invalid', 'target_irr must be between -0.99 and 100', { target_irr: 'out of range' })
    if (!Number.isInteger(paths) || paths < 0 || paths > 20000) return fail(res, 422, 'invalid', 'paths must be between 0 and 20000', { paths: 'out of range' })

    const rows = scored(pf, loans)
    const claim = rows.reduce((a, x) => a + x.s.claim, 0)
    const exp = rows.reduce((a, x) => a + x.s.claim * x.s.rate, 0)
    const missing = {}
    for (const x of rows) for (const f of x.s.missing) missing[f] = (missing[f] || 0) + 1

    const gross = TIMING.map((w) => exp * w)
    const open = rows.length
    const servicing = gross.map((_, i) => open * SERVICING_PER_MONTH * (1 - i / HORIZON / 2))
    const net = gross.map((g, i) => g * (1 - COLLECTION_COST) - servicing[i])
    const sumNet = net.reduce((a, x) => a + x, 0)

    // Monte Carlo: a level shock per path (recoveries move together) and monthly noise.
    const r = rng(hash(pf.ref) ^ paths)
    const sims = []
    for (let k = 0; k < paths; k++) {
      const level = Math.exp(gauss(r) * 0.3 - 0.04)
      sims.push(gross.map((g) => Math.max(0, g * level * (1 + gauss(r) * 0.35))))
    }
    const curve = gross.map((g, i) => {
      const col = sims.map((p) => p[i]).sort((a, b) => a - b)
      return paths
        ? { month: i + 1, expected: yuan(g), p5: yuan(quantile(col, 0.05)), p50: yuan(quantile(col, 0.5)), p95: yuan(quantile(col, 0.95)), cumulative: '' }
        : { month: i + 1, expected: yuan(g), p5: null, p50: null, p95: null, cumulative: '' }
    })
    let cum = 0
    curve.forEach((c, i) => (c.cumulative = yuan((cum += gross[i]))))

    const priceNum = pv(net, target)
    const reachable = priceNum > 0 && target < 40
    const price = reachable ? priceNum : null
    const priceAt = (p) => (p === null ? null : p)
    // The price at which 90% of paths earn the target.
    let pConf = null
    if (paths && reachable) {
      const ps = sims.map((g) => pv(g.map((x, i) => x * (1 - COLLECTION_COST) - servicing[i]), target)).sort((a, b) => a - b)
      pConf = Math.max(0, quantile(ps, 0.1))
    }
    const targetMultiple = 2
    const pMult = exp / targetMultiple
    const priceTable = []
    for (let pct = 1; pct <= 20; pct++) {
      const p = (claim * pct) / 100
      const irr = irrFor(p, net)
      priceTable.push({ price: yuan(p), price_pct: pct, irr, multiple: exp / p, net_multiple: sumNet / p, payback_month: payback(p, net) })
    }

    let dist = null
    if (paths && price !== null) {
      const irrs = sims.map((g) => irrFor(price, g.map((x, i) => x * (1 - COLLECTION_COST) - servicing[i])) ?? -0.99).sort((a, b) => a - b)
      const mults = sims.map((g) => g.reduce((a, x) => a + x, 0) / price).sort((a, b) => a - b)
      const lo = quantile(irrs, 0.01), hi = quantile(irrs, 0.99)
      const bins = 20
      const w = (hi - lo) / bins || 0.01
      const histogram = Array.from({ length: bins }, (_, i) => ({ lo: lo + i * w, hi: lo + (i + 1) * w, count: 0 }))
      for (const x of irrs) histogram[Math.max(0, Math.min(bins - 1, Math.floor((x - lo) / w)))].count++
      dist = {
        price: yuan(price),
        paths,
        percentiles: LEVELS.map((p) => ({ p, irr: quantile(irrs, p / 100) })),
        prob_miss_hurdle: irrs.filter((x) => x < target).length / irrs.length,
        histogram,
        multiple_percentiles: LEVELS.map((p) => ({ p, multiple: quantile(mults, p / 100) })),
        mean_irr: irrs.reduce((a, x) => a + x, 0) / irrs.length,
      }
    }

    const byRate = [...rows].sort((a, b) => b.s.rate - a.s.rate || b.s.claim - a.s.claim)
    const top = byRate.slice(0, 10).map((x) => loanValuation(x.l, x.s, 5))
    const bottom = byRate.slice(-10).reverse().map((x) => loanValuation(x.l, x.s, 5))
    const baseRate = rows.reduce((a, x) => a + x.s.claim * x.s.baselineRate, 0) / claim
    const servSum = servicing.reduce((a, x) => a + x, 0)

    return {
      model: { name: model.name, version: model.version },
      as_of: pf.cut_off_date,
      currency: pf.currency || 'CNY',
      horizon: HORIZON,
      loans: rows.length,
      claim: yuan(claim),
      expected_recovery: yuan(exp),
      expected_rate: exp / claim,
      p_material_mean: rows.reduce((a, x) => a + x.s.p, 0) / rows.length,
      missing_features: missing,
      curve,
      totals: { gross: yuan(exp), collection_cost: yuan(exp * COLLECTION_COST), legal_cost: '0.00', servicing_cost: yuan(servSum), net: yuan(sumNet) },
      price: {
        target_irr: target,
        price: price === null ? null : yuan(price),
        price_pct: price === null ? null : (price / claim) * 100,
        multiple: price === null ? null : exp / price,
        net_multiple: price === null ? null : sumNet / price,
        payback_month: price === null ? null : payback(price, net) || null,
        explanation: price === null ? `no positive price earns ${(target * 100).toFixed(0)}% a year on the expected net flows within ${HORIZON} months` : '',
        target_multiple: targetMultiple,
        price_for_multiple: yuan(pMult),
        price_for_multiple_pct: (pMult / claim) * 100,
        confidence: 0.9,
        price_at_confidence: priceAt(pConf === null ? null : yuan(pConf)),
        price_at_confidence_pct: pConf === null ? null : (pConf / claim) * 100,
        ...(pConf === null ? { confidence_explanation: paths ? 'no positive price earns the target on 90% of the paths' : 'no simulation' } : {}),
      },
      irr_distribution: dist,
      price_table: priceTable,
      top_loans: top,
      bottom_loans: bottom,
      baseline: { expected_recovery: yuan(claim * baseRate), expected_rate: baseRate },
      assumptions: { collection_cost: COLLECTION_COST, servicing_cost: SERVICING_PER_MONTH },
    }
  }

  function loanValuationOf(pf, loans, ref, fail, res) {
    const x = scored(pf, loans).find((y) => y.l.loan_id === ref)
    if (!x) return fail(res, 404, 'not_found', `loan ${ref} is not in portfolio ${pf.id}`)
    return loanValuation(x.l, x.s, 0)
  }

  /** activate makes a version the active one of its name; false when there is no such version. */
  function activate(name, version) {
    if (!models.some((m) => m.name === name && m.version === version)) return false
    for (const m of models) if (m.name === name) m.active = m.version === version
    return true
  }

  /**
   * backTest is valuation.BackTest over the mock's scores: each loan's predicted collections are
   * its expected recovery spread over the timing curve; its actual collections are drawn around
   * them (a month-level factor shared by every loan, and per-loan lumps). Portfolios listed in
   * HISTORY_MONTHS have that many months of post-cut-off history; the others have none (the
   * empty state: months 0, no rows but the total).
   */
  function backTest(pf, loans, q, fail, res) {
    const model = pick(q.get('model') || '')
    if (!model) return fail(res, 404, 'not_found', `no registered model ${q.get('model')}`)
    const months = HISTORY_MONTHS[pf.ref] || 0
    const rows = scored(pf, loans)
    const r = rng(hash(pf.ref + '/backtest'))
    const level = []
    for (let k = 0; k < months; k++) level.push(Math.exp(gauss(r) * 0.18) * (1 + 0.06 * Math.sin(k)))
    const total = { key: 'all', loans: 0, exposure: 0, predicted: 0, actual: 0 }
    const byMonth = Array.from({ length: months }, (_, k) => ({ month: k + 1, predicted: 0, actual: 0, cum_predicted: 0, cum_actual: 0 }))
    const seg = new Map(), vin = new Map()
    const add = (m, key, exposure, p, a) => {
      if (!m.has(key)) m.set(key, { key, loans: 0, exposure: 0, predicted: 0, actual: 0 })
      const g = m.get(key)
      g.loans++
      g.exposure += exposure
      g.predicted += p
      g.actual += a
    }
    for (const { l, s } of rows) {
      const lr = rng(hash(l.loan_id + '/actual'))
      const er = s.claim * s.rate
      let p = 0, a = 0
      for (let k = 0; k < months; k++) {
        const pk = er * TIMING[k]
        // Collections are lumpy: most loan-months pay nothing, a few pay several months' worth.
        const ak = lr() < 0.25 ? (pk / 0.25) * level[k] * (0.6 + lr() * 0.8) : 0
        byMonth[k].predicted += pk
        byMonth[k].actual += ak
        p += pk
        a += ak
      }
      total.loans++
      total.exposure += s.claim
      total.predicted += p
      total.actual += a
      add(seg, s.segment, s.claim, p, a)
      add(vin, String(Number(l.default_date.slice(0, 4)) - 1 - (hash(l.loan_id) % 3)), s.claim, p, a)
    }
    let cp = 0, ca = 0
    for (const m of byMonth) {
      cp += m.predicted
      ca += m.actual
      m.cum_predicted = cp
      m.cum_actual = ca
    }
    const err = (g) => ({ ...g, error_pct: g.actual > 0 ? (100 * (g.predicted - g.actual)) / g.actual : null })
    return {
      model: { name: model.name, version: model.version },
      months,
      total: err(total),
      by_month: byMonth,
      by_segment: [...seg.values()].map(err).sort((x, y) => y.exposure - x.exposure || x.key.localeCompare(y.key)),
      by_vintage: [...vin.values()].map(err).sort((x, y) => x.key.localeCompare(y.key)),
      unmatched_loans: months ? 3 : 0,
      unmatched_amount: months ? 1234.5 : 0,
    }
  }

  return { models: () => models, portfolioValuation, loanValuation: loanValuationOf, activate, backTest }
}
