// Unit tests of src/market/schedule.ts: the auction room's Dutch price and rounds between two
// server reads agree with the engine (the cases of auction/formats_test.go's TestDutch and
// TestDutchEndAndNextStep). The module is transpiled with the project's TypeScript.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const here = path.dirname(fileURLToPath(import.meta.url))
let S

before(async () => {
  const src = fs.readFileSync(path.resolve(here, '../src/market/schedule.ts'), 'utf8')
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reclaim-schedule-'))
  const file = path.join(dir, 'schedule.mjs')
  fs.writeFileSync(file, out.outputText)
  S = await import(pathToFileURL(file).href)
})

const t0 = Date.parse('2026-03-02T02:00:00Z')
const min = 60e3
const sched = { step: '500.00', every_seconds: 600, floor: '8000.00' }

test('the Dutch price steps down every interval to the floor, as the engine computes it', () => {
  const cases = [[-60, 1_000_000], [0, 1_000_000], [10 * min - 1, 1_000_000], [10 * min, 950_000], [35 * min, 850_000], [40 * min, 800_000], [120 * min, 800_000]]
  for (const [at, want] of cases) assert.equal(S.dutchPriceFen('10000.00', t0, sched, t0 + at), want, `price at +${at / min} min`)
  // Without a floor the price stops one step above zero; without a schedule it stays.
  assert.equal(S.dutchPriceFen('1000.00', t0, { step: '300.00', every_seconds: 60, floor: null }, t0 + 600 * min), 30_000)
  assert.equal(S.dutchPriceFen('1000.00', t0, null, t0 + 600 * min), 100_000)
  assert.ok(Number.isNaN(S.dutchPriceFen(null, t0, sched, t0)))
})

test('the next step is the next interval boundary until the floor', () => {
  const cases = [[-60 * min, 10 * min], [0, 10 * min], [10 * min - 1, 10 * min], [10 * min, 20 * min], [35 * min, 40 * min], [40 * min, null], [120 * min, null]]
  for (const [at, want] of cases) {
    const got = S.dutchNextStep('10000.00', t0, sched, t0 + at)
    assert.equal(got == null ? null : got - t0, want, `next step after +${at / min} min`)
  }
  assert.equal(S.dutchNextStep('10000.00', t0, { step: '0', every_seconds: 600, floor: null }, t0), null)
})

test('the chart points follow the schedule and stop at the floor or the end', () => {
  const pts = S.dutchSteps('10000.00', t0, t0 + 180 * min, sched)
  assert.deepEqual(pts.map(([t, p]) => [(t - t0) / min, p]), [[0, 1_000_000], [10, 950_000], [20, 900_000], [30, 850_000], [40, 800_000]])
  assert.equal(S.dutchSteps('10000.00', t0, t0 + 15 * min, sched).length, 2)
  assert.equal(S.dutchSteps('10000.00', t0, t0 + 10e9, { step: '0.01', every_seconds: 1, floor: '0.01' }, 50).length, 50)
})

test('a quote belongs to the first round whose deadline is after it', () => {
  const rounds = [t0 + 30 * min, t0 + 60 * min]
  assert.equal(S.roundOf(rounds, t0), 0)
  assert.equal(S.roundOf(rounds, t0 + 30 * min - 1), 0)
  assert.equal(S.roundOf(rounds, t0 + 30 * min), 1)
  assert.equal(S.roundOf(rounds, t0 + 60 * min), 2)
  assert.equal(S.roundOf([], t0), 0)
})
