// Browser tests of the investor portal (issue 15 item 7) against a real `reclaim serve` whose data
// `reclaim demo` made: deal RCL-ABS-DEMO-1 held by the demo investor's organisation, deal
// RCL-ABS-DEMO-2 held by another, the recovery-shortfall trigger of the first hit (its collections
// run at 80% of the forecast against a 90% threshold). Debian's Chromium via playwright-core.
//
// Environment (as tests/e2e.test.mjs; skipped when RECLAIM_URL is unset: the mock server has no
// deal routes):
//   RECLAIM_URL, RECLAIM_ADMIN_USER/PASS, RECLAIM_INVESTOR_USER/PASS, optional
//   RECLAIM_COLLECTOR_USER/PASS (who posts the live collection; the admin when unset),
//   RECLAIM_DEAL (default RCL-ABS-DEMO-1), RECLAIM_OTHER_DEAL (default RCL-ABS-DEMO-2),
//   CHROMIUM, RECLAIM_ARTIFACTS.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { signIn, noProblems } from './lib/console.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const ART = process.env.RECLAIM_ARTIFACTS || path.resolve(here, '..', 'test-artifacts')
const BASE = process.env.RECLAIM_URL?.replace(/\/$/, '')
const DEAL = process.env.RECLAIM_DEAL || 'RCL-ABS-DEMO-1'
const OTHER = process.env.RECLAIM_OTHER_DEAL || 'RCL-ABS-DEMO-2'
const cfg = {
  adminUser: process.env.RECLAIM_ADMIN_USER,
  adminPass: process.env.RECLAIM_ADMIN_PASS,
  investorUser: process.env.RECLAIM_INVESTOR_USER,
  investorPass: process.env.RECLAIM_INVESTOR_PASS,
  postUser: process.env.RECLAIM_COLLECTOR_USER || process.env.RECLAIM_ADMIN_USER,
  postPass: process.env.RECLAIM_COLLECTOR_USER ? process.env.RECLAIM_COLLECTOR_PASS : process.env.RECLAIM_ADMIN_PASS,
}
const skip = BASE ? false : 'RECLAIM_URL is unset: the mock server has no deal routes'
let browser

before(async () => {
  if (skip) return
  fs.mkdirSync(ART, { recursive: true })
  for (const k of ['adminUser', 'adminPass', 'investorUser', 'investorPass']) {
    assert.ok(cfg[k], `set the environment variable for ${k} (see the top of tests/deals.test.mjs)`)
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})

after(async () => {
  await browser?.close()
})

/** A fresh browser context with console error collection (expected 404s are the caller's to allow). */
async function open(locale = 'en', viewport = { width: 1440, height: 900 }) {
  const ctx = await browser.newContext({ viewport, locale })
  await ctx.addInitScript((l) => {
    if (!localStorage.getItem('reclaim.locale')) localStorage.setItem('reclaim.locale', l)
  }, locale)
  const page = await ctx.newPage()
  page.setDefaultTimeout(20000)
  const problems = []
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message))
  page.on('console', (m) => {
    if (m.type() === 'warning' && /\[ElementPlus\]|deprecat/i.test(m.text())) problems.push('warning: ' + m.text())
    if (m.type() !== 'error') return
    if (/Failed to load resource.*\b(401|403|409|429)\b/.test(m.text())) return
    problems.push('console: ' + m.text())
  })
  return { ctx, page, problems }
}

let shotN = 0
async function shot(page, name, { fullPage = true } = {}) {
  shotN++
  await page.waitForTimeout(400)
  await page.screenshot({ path: path.join(ART, `deals-${String(shotN).padStart(2, '0')}-${name}.png`), fullPage })
}

async function login(page, user, pass) {
  return signIn(page, BASE, user, pass)
}

/** status fetches an API path in the page's session and returns its HTTP status. */
function status(page, p) {
  return page.evaluate(async (u) => (await fetch(u)).status, p)
}

test('an investor sees only the deals its organisation holds; another deal is 404 everywhere', { skip }, async () => {
  // The other deal exists: the administrator sees both.
  const adm = await open('en')
  await login(adm.page, cfg.adminUser, cfg.adminPass)
  const all = await adm.page.evaluate(async () => (await (await fetch('/api/v1/deals')).json()).map((d) => d.pool))
  assert.ok(all.includes(DEAL) && all.includes(OTHER), 'the admin sees both demo deals: ' + all)
  assert.equal(await status(adm.page, `/api/v1/deals/${OTHER}`), 200)
  await adm.ctx.close()

  const { ctx, page, problems } = await open('zh-CN')
  await login(page, cfg.investorUser, cfg.investorPass)
  assert.match(await page.getByTestId('side-menu').innerText(), /ABS 项目/)
  await page.goto(BASE + '/deals')
  await page.getByTestId('deal-card-' + DEAL).waitFor()
  assert.equal(await page.getByTestId('deal-card-' + OTHER).count(), 0, 'the deal the investor does not hold is listed')
  assert.match(await page.getByTestId('deal-card-' + DEAL).innerText(), /持有/)
  await shot(page, 'investor-deal-list-zh')

  const listed = await page.evaluate(async () => (await (await fetch('/api/v1/deals')).json()).map((d) => d.pool))
  assert.deepEqual(listed, [DEAL])
  for (const p of [`/api/v1/deals/${OTHER}`, `/api/v1/deals/${OTHER}/monitor`, `/api/v1/deals/${OTHER}/reports`, `/api/v1/deals/${OTHER}/reports/1`,
    `/api/v1/deals/${OTHER}/reports/1?format=html`, `/api/v1/deals/${OTHER}/loans?format=csv`, `/api/v1/pools/${OTHER}`]) {
    assert.equal(await status(page, p), 404, p)
  }
  // The SSE topic of the other deal is refused too (the stream does not open).
  const sse = await page.evaluate(async (pool) => (await fetch(`/api/v1/stream?topic=deal.${pool}`)).status, OTHER)
  assert.ok(sse === 404 || sse === 403, 'stream of the other deal: ' + sse)

  // Its page says it does not exist.
  await page.goto(BASE + '/deals/' + OTHER)
  await page.getByTestId('load-error').waitFor()
  assert.equal(await page.getByTestId('deal-title').count(), 0)
  await shot(page, 'investor-other-deal-404')

  // Its own deal's page, in Chinese.
  await page.goto(BASE + '/deals/' + DEAL)
  await page.getByTestId('chart-curve').waitFor()
  assert.match(await page.locator('.deal-page').innerText(), /实际回收与预测/)
  assert.match(await page.getByTestId('deal-alert').first().innerText(), /触发事件已触发/)
  await shot(page, 'investor-deal-zh')
  noProblems(problems, /Failed to load resource.*\b404\b/)
  await ctx.close()
})

test('the deal page is live: a collection posted during the test moves it; the trigger alert shows', { skip }, async () => {
  const { ctx, page, problems } = await open('en')
  await login(page, cfg.investorUser, cfg.investorPass)
  await page.goto(BASE + '/deals/' + DEAL)
  await page.getByTestId('deal-title').waitFor()
  await page.locator('[data-testid=deal-live][data-state=live]').waitFor()

  // The recovery-shortfall trigger is hit: a critical banner names it.
  const alert = page.locator('[data-testid=deal-alert][data-trigger=recovery_shortfall]')
  await alert.waitFor()
  assert.equal(await alert.getAttribute('data-level'), 'critical')
  assert.match(await alert.innerText(), /recovery_shortfall/)
  assert.match(await page.getByTestId('trigger-state-recovery_shortfall').innerText(), /Hit/)
  // The cumulative figure is the one the trigger tests: the same ratio as its metric.
  const metric = (await page.getByTestId('deal-triggers').innerText()).match(/= (\d+\.\d+)%/)
  assert.ok(metric, 'the recovery_shortfall metric shows its ratio')
  assert.match(await page.getByTestId('stat-cumulative').innerText(), new RegExp(metric[1].replace('.', '\\.') + '%'))

  // Charts drawn, the report archive and the loan data without personal data.
  for (const id of ['chart-curve', 'chart-tranches', 'chart-headroom']) await page.getByTestId(id).waitFor()
  await page.getByTestId('report-links-1').waitFor()
  const links = await page.getByTestId('report-links-1').locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')))
  assert.equal(links.length, 3)
  for (const href of links) {
    const r = await page.evaluate(async (u) => {
      const res = await fetch(u)
      return { status: res.status, type: res.headers.get('content-type') || '', body: (await res.text()).slice(0, 400) }
    }, href)
    assert.equal(r.status, 200, href)
    if (href.includes('format=html')) assert.match(r.type, /text\/html/)
    if (href.includes('format=json')) assert.match(r.body, /"period":\s*1/)
    if (href.includes('format=csv')) assert.match(r.body, /section,row,field,value/)
  }
  const csv = await page.evaluate(async (u) => (await fetch(u)).text(), await page.getByTestId('loans-csv').getAttribute('href'))
  const header = csv.split('\n')[0]
  assert.match(header, /ref/)
  assert.doesNotMatch(csv, /national_id|phone|borrower_name|身份证|手机/, 'the loan-level file carries no personal data')
  assert.ok(csv.trim().split('\n').length > 10, 'the loan-level file has the pool loans')

  const before = await page.getByTestId('current-collected').innerText()
  await shot(page, 'investor-deal-live-before')

  // A collector posts a collection to the deal's pool through the API.
  const poster = await open('en')
  await login(poster.page, cfg.postUser, cfg.postPass)
  // A loan of the pool, by its per-pool reference, from the investor's loan-level data.
  const rows = await page.evaluate(async (pool) => (await fetch(`/api/v1/deals/${pool}/loans`)).json(), DEAL)
  const loan = rows.find((l) => Number(l.balance) > 10000)
  assert.ok(loan, 'a loan of the deal pool with a balance')
  const posted = await poster.page.evaluate(async ({ pool, loan }) => {
    const r = await fetch(`/api/v1/pools/${pool}/collections`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ loan, amount: '4321.09', channel: 'online', txn_id: `E2E-DEAL-${Date.now()}`, effective: new Date().toISOString().slice(0, 10) }),
    })
    return { status: r.status, body: await r.text() }
  }, { pool: DEAL, loan: loan.ref })
  assert.equal(posted.status, 201, posted.body)
  await poster.ctx.close()

  // The investor's page moves without a reload (SSE deal.<pool>).
  await page.waitForFunction((b) => document.querySelector('[data-testid=current-collected]')?.textContent?.trim() !== b.trim(), before, { timeout: 30000 })
  const after = await page.getByTestId('current-collected').innerText()
  const num = (s) => Number(s.replace(/[^0-9.]/g, ''))
  assert.ok(Math.abs(num(after) - num(before) - 4321.09) < 0.01, `collected ${before} -> ${after}`)
  await shot(page, 'investor-deal-live-after')

  // At phone width the page stays usable: no horizontal scroll of the page itself.
  await page.setViewportSize({ width: 390, height: 844 })
  await page.waitForTimeout(500)
  await shot(page, 'investor-deal-phone')
  const overflow = await page.evaluate(() => document.querySelector('.deal-page').scrollWidth - document.querySelector('.deal-page').clientWidth)
  assert.ok(overflow <= 2, 'the deal page overflows its width at 390px by ' + overflow)
  noProblems(problems)
  await ctx.close()
})
