// Unit tests of src/valuation/normalize.ts (how the console reads the valuation API) under
// `node --test`: the module is transpiled with the project's own TypeScript, as verify.test.mjs does.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const here = path.dirname(fileURLToPath(import.meta.url))
let N

before(async () => {
  const src = fs.readFileSync(path.resolve(here, '../src/valuation/normalize.ts'), 'utf8')
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reclaim-valuation-'))
  const file = path.join(dir, 'normalize.mjs')
  fs.writeFileSync(file, out.outputText)
  N = await import(pathToFileURL(file).href)
})

function raw(over = {}) {
  return {
    model: { name: 'recovery-demo', version: 3 },
    as_of: '2026-03-31',
    loans: 4,
    claim: '1000000.00',
    expected_recovery: '80000.00',
    expected_rate: 0.08,
    p_material_mean: 0.3,
    missing_features: { borrower_age: 2, dpd: 0 },
    curve: [
      { month: 1, expected: '1000.50', p5: 500, p50: '990', p95: 1600, cumulative: '1000.50' },
      { month: 2, expected: 2000, p5: 1200, p50: 1980, p95: 2900, cumulative: 3000.5 },
    ],
    price: {
      target_irr: 0.18, price: '45000.00', price_pct: 4.5, multiple: 1.3, net_multiple: 1.1, payback_month: 28, explanation: '',
      target_multiple: 2, price_for_multiple: '40000.00', price_for_multiple_pct: 4, confidence: 0.9, price_at_confidence: null, price_at_confidence_pct: null,
      confidence_explanation: 'no positive price earns the target on 90% of the paths',
    },
    totals: { gross: '80000.00', collection_cost: '24000.00', legal_cost: '0.00', servicing_cost: 500, net: '55500.00' },
    horizon: 24,
    irr_distribution: {
      percentiles: [{ p: 5, irr: -0.05 }, { p: 50, irr: 0.17 }, { p: 95, irr: 0.38 }],
      prob_miss_hurdle: 0.52,
      histogram: [{ lo: 0, hi: 0.1, count: 3 }],
      multiple_percentiles: [{ p: 50, multiple: 1.28 }],
    },
    price_table: [
      { price: 50000, price_pct: 5, irr: null, multiple: 0.9 },
      { price: '10000.00', price_pct: 1, irr: 2.4, multiple: 4 },
    ],
    top_loans: [{
      loan_id: 'L1', claim: '2000.00', p_recovery: 0.9, expected_rate: 0.4, expected_recovery: 800, bias: 0.06, margin: 0.4, link: 'identity',
      reasons: [{ feature: 'dpd', value: 120, contribution: '0.3' }, { feature: 'product', value: 0, level: 'credit_card', contribution: -0.01 }, { feature: '(other features)', value: null, contribution: 0.05 }],
      segment: 'credit_card|1_2y|5k_20k', baseline_rate: 0.12, missing: ['months_since_contact'], timing: [0.5, 0.3, 0.2], p_material: 0.9,
    }],
    bottom_loans: null,
    baseline: { expected_recovery: 70000, expected_rate: 0.07 },
    ...over,
  }
}

test('amounts are read from decimal strings and from numbers alike', () => {
  const v = N.normalize(raw())
  assert.equal(v.claim, 1000000)
  assert.equal(v.expectedRecovery, 80000)
  assert.deepEqual(v.curve[0], { month: 1, expected: 1000.5, p5: 500, p50: 990, p95: 1600, cumulative: 1000.5, tail: false })
  assert.equal(v.curve[1].cumulative, 3000.5)
  assert.equal(v.cumulativeIsShare, false)
  assert.equal(v.price, 45000)
  assert.equal(v.baseline.expectedRecovery, 70000)
  assert.equal(N.toNumber('1,234.56'), 1234.56)
  assert.ok(Number.isNaN(N.toNumber(null)))
  assert.ok(Number.isNaN(N.toNumber('abc')))
})

test('prices as a share of the claim: from price/claim, else the percent field', () => {
  const v = N.normalize(raw())
  assert.equal(v.pricePct, 0.045)
  assert.deepEqual(v.priceTable.map((r) => r.pct), [0.01, 0.05], 'sorted by price')
  assert.equal(v.priceTable[0].irr, 2.4)
  assert.equal(v.priceTable[1].irr, null)
  const noClaim = N.normalize(raw({ claim: null, price_table: [{ price: null, price_pct: 5, irr: 0.1, multiple: 1 }, { price: null, price_pct: 0.5, irr: 0.3, multiple: 2 }] }))
  assert.deepEqual(noClaim.priceTable.map((r) => r.pct), [0.005, 0.05], 'price_pct is a percentage: 0.5 is half a percent')
})

test('the other prices, the totals and the gross and net multiples', () => {
  const v = N.normalize(raw())
  assert.equal(v.multiple, 1.3)
  assert.equal(v.netMultiple, 1.1)
  assert.deepEqual(v.forMultiple, { price: 40000, pct: 0.04, multiple: 2 })
  assert.equal(v.atConfidence.price, null)
  assert.ok(Number.isNaN(v.atConfidence.pct))
  assert.equal(v.atConfidence.confidence, 0.9)
  assert.match(v.atConfidence.explanation, /90%/)
  assert.deepEqual(v.totals, { gross: 80000, collectionCost: 24000, legalCost: 0, servicingCost: 500, net: 55500 })
  assert.equal(v.horizon, 24)
})

test('an unreachable target IRR: a null price and no distribution', () => {
  const v = N.normalize(raw({ price: { target_irr: 3, price: null, price_pct: null, multiple: null, payback_month: null, explanation: 'no price reaches 300%' }, irr_distribution: null }))
  assert.equal(v.price, null)
  assert.ok(Number.isNaN(v.pricePct))
  assert.equal(v.paybackMonth, null)
  assert.equal(v.explanation, 'no price reaches 300%')
  assert.equal(v.targetIrr, 3)
  assert.deepEqual(v.histogram, [])
  assert.deepEqual(v.irrPercentiles, [])
  assert.ok(Number.isNaN(v.probMissHurdle))
})

test('null lists are empty, missing features are counted and sorted, levels are in percent', () => {
  const v = N.normalize(raw({
    curve: null, top_loans: null, price_table: null, baseline: null,
    missing_features: { a: 1, b: 5, c: 0 },
    irr_distribution: { percentiles: [{ p: 0.05, irr: 0.1 }, { p: 0.5, irr: 0.2 }], prob_miss_hurdle: 0.4, histogram: null, multiple_percentiles: null },
  }))
  assert.deepEqual(v.curve, [])
  assert.deepEqual(v.top, [])
  assert.deepEqual(v.bottom, [])
  assert.deepEqual(v.priceTable, [])
  assert.equal(v.baseline, null)
  assert.deepEqual(v.missing, [{ feature: 'b', count: 5 }, { feature: 'a', count: 1 }])
  assert.deepEqual(v.irrPercentiles.map((x) => x.p), [5, 50])
})

test('the tail beyond the training horizon: read apart, months flagged; absent means none', () => {
  assert.equal(N.normalize(raw()).tail, null)
  assert.deepEqual(N.normalize(raw()).curve.map((c) => c.tail), [false, false])
  const v = N.normalize(raw({
    horizon: 3,
    curve: [
      { month: 1, expected: '1000.50', p5: 500, p50: '990', p95: 1600, cumulative: '1000.50' },
      { month: 2, expected: 2000, p5: 1200, p50: 1980, p95: 2900, cumulative: 3000.5 },
      { month: 3, expected: '700.00', p5: 300, p50: 650, p95: 1200, cumulative: '3700.50', tail: true },
    ],
    tail: { method: 'market-lifetime-shares', source: 'design/market.md', training_horizon: 2, horizon: 3, factor: 0.2333, within: '3000.50', amount: '700.00', rate: 0.0007 },
  }))
  assert.deepEqual(v.curve.map((c) => c.tail), [false, false, true])
  assert.deepEqual(v.tail, { method: 'market-lifetime-shares', source: 'design/market.md', trainingHorizon: 2, horizon: 3, factor: 0.2333, within: 3000.5, amount: 700, rate: 0.0007 })
})

test('a cumulative curve that ends at a share of the claim is recognised', () => {
  const v = N.normalize(raw({ curve: [{ month: 1, expected: 1000, p5: 1, p50: 1, p95: 1, cumulative: 0.001 }, { month: 2, expected: 2000, p5: 1, p50: 1, p95: 1, cumulative: 0.003 }] }))
  assert.equal(v.cumulativeIsShare, true)
})

test('a loan keeps its reason codes (levels too), its margin, segment, missing features and timing', () => {
  const l = N.normalize(raw()).top[0]
  assert.equal(l.loanId, 'L1')
  assert.equal(l.claim, 2000)
  assert.deepEqual(l.reasons, [
    { feature: 'dpd', value: 120, contribution: 0.3 },
    { feature: 'product', value: 0, level: 'credit_card', contribution: -0.01 },
    { feature: '(other features)', value: null, contribution: 0.05 },
  ])
  assert.equal(l.bias, 0.06)
  assert.equal(l.margin, 0.4)
  assert.equal(l.link, 'identity')
  assert.equal(l.segment, 'credit_card|1_2y|5k_20k')
  assert.equal(l.baselineRate, 0.12)
  assert.deepEqual(l.missing, ['months_since_contact'])
  assert.deepEqual(l.timing, [0.5, 0.3, 0.2])
  assert.deepEqual(l.extra, { p_material: 0.9 })
  const bare = N.normalizeLoan({ loan_id: 'L2', claim: 1, p_recovery: null, expected_rate: null, expected_recovery: null, reasons: null })
  assert.deepEqual([bare.reasons, bare.missing, bare.timing, bare.link], [[], [], [], ''])
  assert.ok(Number.isNaN(bare.pRecovery))
})

test('splitTails sets the IRR floor apart from the body of the histogram', () => {
  const bins = (counts, lo = -1, w = 0.1) => counts.map((count, i) => ({ lo: lo + i * w, hi: lo + (i + 1) * w, count }))
  const h = bins([20, 0, 0, 0, 0, 0, 0, 0, 5, 40, 80, 60, 10, 0, 2])
  const s = N.splitTails(h)
  assert.equal(s.left.count, 20)
  assert.equal(s.body[0].count, 5)
  assert.equal(s.body.at(-1).count, 2, 'a short gap stays in the body')
  assert.equal(s.right, null)
  const plain = bins([1, 4, 9, 4, 1, 0, 1])
  assert.deepEqual(N.splitTails(plain), { body: plain, left: null, right: null })
  // A long right tail beyond the 95th percentile is merged into one bin.
  const skew = bins([132, 128, 85, 47, 24, 23, 12, 13, 10, 4, 4, 4, 3, 1, 1, 1, 1, 1, 0, 6], -0.8, 0.42)
  const k = N.splitTails(skew, 3.03)
  assert.equal(k.body.length, 10)
  assert.equal(k.right.count, 22)
  assert.equal(k.left, null)
  assert.deepEqual(N.splitTails(skew, 100), { body: skew, left: null, right: null })
  const both = bins([3, 0, 0, 0, 0, 10, 30, 10, 0, 0, 0, 0, 2])
  const t = N.splitTails(both)
  assert.equal(t.left.count, 3)
  assert.equal(t.right.count, 2)
  assert.equal(t.body.length, 3)
})
