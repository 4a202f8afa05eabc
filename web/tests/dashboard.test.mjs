// Browser test of the manager's dashboard (issue 13 item 5; docs/performance.md), against a real
// `reclaim serve` prepared by `reclaim demo` (scripts/e2e.sh). Skipped without RECLAIM_URL: the
// mock server has no workout routes.
//
//   RECLAIM_URL                   the server
//   RECLAIM_MANAGER_USER/PASS     a collection manager (the demo's demo-collection_manager)
//   RECLAIM_COLLECTOR_USER/PASS   a collector (demo-collector), who gets no dashboard
//
// What it shows: the manager sees every panel with numbers (collections against forecast by
// agent, agency and channel; compliance denials; champion against challenger with its interval;
// limitation warnings; vintage IRR against underwriting), in English and Chinese and on a 390 px
// phone without sideways scrolling; a payment posted meanwhile shows up without a reload (SSE); a
// collector has no menu entry, sees the permission page, and the API answers 403. Screenshots go
// to web/test-artifacts/dashboard-*.png.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { signIn, noProblems, launchChromium, openPage, screenshotter } from './lib/console.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const ART = process.env.RECLAIM_ARTIFACTS || path.resolve(here, '..', 'test-artifacts')
const BASE = process.env.RECLAIM_URL?.replace(/\/$/, '')
const manager = { user: process.env.RECLAIM_MANAGER_USER, pass: process.env.RECLAIM_MANAGER_PASS }
const collector = { user: process.env.RECLAIM_COLLECTOR_USER, pass: process.env.RECLAIM_COLLECTOR_PASS }
const skip = BASE && manager.user ? false : 'RECLAIM_URL and RECLAIM_MANAGER_USER are not set (the mock server has no workout routes)'
let browser

before(async () => {
  if (skip) return
  fs.mkdirSync(ART, { recursive: true })
  browser = await launchChromium(chromium)
})
after(async () => {
  await browser?.close()
})

function open(locale, width = 1440, height = 900) {
  return openPage(browser, locale, { width, height, timeout: 20000, allowStatus: [400, 401, 403, 409, 429] })
}

const shot = screenshotter(ART, 'dashboard', 500)

const digits = /\d/

test('the manager sees every panel with numbers, live', { skip }, async () => {
  const { ctx, page, problems } = await open('en')
  await signIn(page, BASE, manager.user, manager.pass)
  await page.getByTestId('nav-dashboard').click()
  await page.getByTestId('dashboard').waitFor()
  await page.getByTestId('kpi-collected').waitFor()
  for (const id of ['kpi-collected', 'kpi-denied', 'kpi-lift', 'kpi-limitation']) {
    const v = await page.getByTestId(id).locator('.value').innerText()
    assert.match(v, digits, `${id} shows a number, not "${v}"`)
  }
  // Collections against forecast: by agent (forecast shown), agency, channel.
  const table = page.getByTestId('collections-table')
  assert.ok((await table.locator('tbody tr').count()) >= 2, 'collections by agent: at least two agents')
  assert.match(await table.locator('tbody tr').first().innerText(), /¥[\d,]+\.\d\d[\s\S]*¥[\d,]+\.\d\d/, 'an agent row has collected and forecast amounts')
  await page.getByTestId('dash-by').getByText('Agency').click()
  assert.ok((await table.locator('tbody tr').count()) >= 2, 'collections by agency: in-house and the demo agency')
  await page.getByTestId('dash-by').getByText('Channel').click()
  assert.match(await table.innerText(), /Call|SMS|Letter/, 'collections by channel name channels')
  await page.getByTestId('dash-by').getByText('Agent').click()
  // Denials by rule, arms with an interval, limitation, vintages.
  assert.ok((await page.getByTestId('denials-table').locator('tbody tr').count()) >= 1, 'denials by rule')
  assert.match(await page.getByTestId('denials-table').innerText(), /CN-\d/, 'a rule id')
  const arms = await page.getByTestId('panel-arms').innerText()
  assert.match(arms, /Champion[\s\S]*\d[\s\S]*Challenger[\s\S]*\d/, 'both arms with their cases')
  assert.match(arms, /¥-?[\d,.]+ … ¥-?[\d,.]+/, 'the lift interval')
  assert.equal(await page.getByTestId('panel-limitation').locator('canvas').count(), 1, 'the limitation chart')
  const vint = page.getByTestId('vintages-table')
  assert.ok((await vint.locator('tbody tr').count()) >= 1, 'a vintage')
  assert.match(await vint.locator('tbody tr').first().innerText(), /\d{4}-\d\d[\s\S]*%[\s\S]*%/, 'vintage with its IRRs')
  assert.equal(await page.getByTestId('panel-vintages').locator('canvas').count(), 1, 'the vintage IRR chart')
  await page.getByTestId('dash-live').getByText('live').waitFor()
  await shot(page, 'en-desktop')

  // Live: a payment posted now raises "collected" without a reload.
  const before = await page.getByTestId('kpi-collected').locator('.value').innerText()
  const status = await page.evaluate(async () => {
    const cases = await (await fetch('/api/v1/cases?limit=1')).json()
    const d = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
    const r = await fetch('/api/v1/payments', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ txn_id: 'E2E-DASH-' + Date.now(), date: d, amount: '12345.67', case_id: cases.items[0].id }),
    })
    return r.status
  })
  assert.equal(status, 201, 'the manager posts a payment')
  await page.waitForFunction((b) => {
    const el = document.querySelector('[data-testid="kpi-collected"] .value')
    return el && el.textContent.trim() !== b
  }, before, { timeout: 15000 })
  noProblems(problems)
  await ctx.close()
})

test('the dashboard in Chinese and on a phone', { skip }, async () => {
  const zh = await open('zh-CN')
  await signIn(zh.page, BASE, manager.user, manager.pass)
  await zh.page.goto(BASE + '/dashboard')
  await zh.page.getByTestId('kpi-collected').waitFor()
  assert.match(await zh.page.getByTestId('dashboard').innerText(), /催收管理看板[\s\S]*回收与预测对比[\s\S]*冠军策略与挑战者策略/)
  await shot(zh.page, 'zh-desktop')
  noProblems(zh.problems)
  await zh.ctx.close()

  const phone = await open('zh-CN', 390, 844)
  await signIn(phone.page, BASE, manager.user, manager.pass)
  await phone.page.goto(BASE + '/dashboard')
  await phone.page.getByTestId('kpi-collected').waitFor()
  await phone.page.waitForTimeout(500)
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 1, `the phone page scrolls sideways by ${overflow}px`)
  await shot(phone.page, 'zh-phone')
  noProblems(phone.problems)
  await phone.ctx.close()
})

test('a collector gets no dashboard', { skip: skip || (!collector.user && 'RECLAIM_COLLECTOR_USER is not set') }, async () => {
  const { ctx, page, problems } = await open('en')
  await signIn(page, BASE, collector.user, collector.pass)
  assert.equal(await page.getByTestId('nav-dashboard').count(), 0, 'no menu entry')
  await page.goto(BASE + '/dashboard')
  await page.getByTestId('permission-denied').waitFor()
  assert.equal(await page.getByTestId('kpi-collected').count(), 0)
  const status = await page.evaluate(async () => (await fetch('/api/v1/workout/dashboard')).status)
  assert.equal(status, 403)
  const perf = await page.evaluate(async () => (await fetch('/api/v1/workout/performance')).status)
  assert.equal(perf, 403)
  noProblems(problems)
  await ctx.close()
})
