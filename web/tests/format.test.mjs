// Unit tests of src/format.ts (issue 11, item 14): one unit per column and per axis, one date
// format in both languages. The module is transpiled with the project's TypeScript, with the
// locale (src/i18n.ts) replaced by a switch the tests set.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const here = path.dirname(fileURLToPath(import.meta.url))
let F

before(async () => {
  let src = fs.readFileSync(path.resolve(here, '../src/format.ts'), 'utf8')
  const imp = "import { currentLocale } from './i18n'"
  assert.ok(src.includes(imp), 'format.ts reads the locale from ./i18n')
  src = src.replace(imp, "let __loc = 'zh-CN'\nexport function __setLocale(l: string) { __loc = l }\nconst currentLocale = () => __loc")
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reclaim-format-'))
  const file = path.join(dir, 'format.mjs')
  fs.writeFileSync(file, out.outputText)
  F = await import(pathToFileURL(file).href)
})

test('a column of amounts is in one unit: 万元 for every cell once one reaches 10万 (zh-CN), never in en', () => {
  F.__setLocale('zh-CN')
  const col = ['4,321.00', '98765.43', '250000.00']
  const wan = F.useWan(col)
  assert.equal(wan, true)
  const cells = col.map((v) => F.fmtAmount(v, 'CNY', { wan }))
  assert.deepEqual(cells, ['0.43 万元', '9.88 万元', '25.00 万元'])
  // Without the column's decision the cells would mix units (what the issue found).
  assert.deepEqual(new Set(col.map((v) => F.fmtAmount(v, 'CNY').split(' ')[1])), new Set(['元', '万元']))
  assert.equal(F.useWan(['4321.00', '99999.99']), false)
  assert.equal(F.fmtAmount('99999.99', 'CNY', { wan: false }), '99,999.99 元')
  F.__setLocale('en')
  assert.equal(F.useWan(col), false)
  assert.equal(F.fmtAmount('250000', 'CNY', { wan: F.useWan(col) }), '¥250,000.00')
})

test('an amount axis has one unit, named once, and plain tick labels', () => {
  F.__setLocale('zh-CN')
  let ax = F.amountAxis([0, 5e6, 3.5e7])
  assert.equal(ax.name, '万元')
  assert.deepEqual([0, 5e6, 1e7, 3e7].map(ax.fmt), ['0', '500', '1,000', '3,000'])
  ax = F.amountAxis([0, 9000, 60000])
  assert.equal(ax.name, '元')
  assert.equal(ax.fmt(20000), '20,000')
  F.__setLocale('en')
  ax = F.amountAxis([0, 4e7])
  assert.equal(ax.name, 'CNY million')
  assert.deepEqual([0, 1e7, 2.5e7].map(ax.fmt), ['0', '10', '25'])
  ax = F.amountAxis([0, 8e6])
  assert.equal(ax.name, 'CNY thousand')
  assert.equal(ax.fmt(8e6), '8,000')
  for (const loc of ['zh-CN', 'en']) {
    F.__setLocale(loc)
    for (const max of [900, 9e4, 9e5, 9e6, 9e7, 9e8]) {
      const a = F.amountAxis([max])
      for (const v of [0, max / 4, max / 2, max]) assert.match(a.fmt(v), /^[\d,.]+$/, `${loc} ${max}: ${a.fmt(v)}`)
    }
  }
})

test('dates read YYYY-MM-DD in both languages, with the time as HH:mm', () => {
  for (const loc of ['zh-CN', 'en']) {
    F.__setLocale(loc)
    assert.equal(F.fmtDate('2026-04-14'), '2026-04-14')
    assert.equal(F.fmtDate('2026-04-14T03:11:00Z'), '2026-04-14')
    const d = new Date('2026-04-14T03:11:00Z')
    const p = (n) => String(n).padStart(2, '0')
    const want = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
    assert.equal(F.fmtDateTime('2026-04-14T03:11:00Z'), want)
    assert.match(F.fmtDateTime('2026-12-31T23:59:00+08:00'), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)
  }
})
