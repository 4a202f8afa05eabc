// Browser test of the collections console (issue 12, item 7 and its evidence), against a real
// `reclaim serve` prepared by `reclaim demo` (scripts/e2e.sh). Skipped without RECLAIM_URL: the
// mock server has no workout routes.
//
//   RECLAIM_URL               the server
//   RECLAIM_COLLECTOR_USER/PASS   a collector with cases assigned (the demo's demo-collector)
//   RECLAIM_MANAGER_USER/PASS     a collection manager (compliance report; optional)
//
// What it shows: the collector opens a case from its queue; personal data is revealed only with
// a purpose; a call at 22:00 debtor local time is DENIED by the compliance engine with its reason
// (CN-1) shown in words; an allowed call is logged and appears live (SSE) in the timeline of a
// second window (a phone, 390 px wide) on the same case; the statement screen shows the
// unmatched queue. Screenshots (desktop and phone) go to web/test-artifacts/.
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
const collector = { user: process.env.RECLAIM_COLLECTOR_USER, pass: process.env.RECLAIM_COLLECTOR_PASS }
const manager = { user: process.env.RECLAIM_MANAGER_USER, pass: process.env.RECLAIM_MANAGER_PASS }
const skip = BASE ? false : 'RECLAIM_URL is not set (the mock server has no workout routes)'
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
  return openPage(browser, locale, { width, height, timeout: 15000, allowStatus: [400, 401, 403, 409, 429] })
}

const shot = screenshotter(ART, 'workout', 300)

async function login(page, { user, pass }) {
  return signIn(page, BASE, user, pass)
}

/** A past day (UTC+8), different on every run, so that a rerun does not meet its own history. */
function pastDay() {
  const back = 30 + Math.floor(Math.random() * 300)
  return new Date(Date.now() + 8 * 3600e3 - back * 86400e3).toISOString().slice(0, 10)
}

test('workbench: a contact at 22:00 is denied with its reason; an allowed call is logged and appears live', { skip }, async () => {
  assert.ok(collector.user && collector.pass, 'set RECLAIM_COLLECTOR_USER and RECLAIM_COLLECTOR_PASS')
  const { ctx, page, problems } = await open('zh-CN')
  await login(page, collector)
  // A collector lands on its queue.
  await page.waitForURL(/\/cases$/)
  await page.getByTestId('workout-queue').waitFor()
  const first = page.locator('[data-testid^=case-row-]').first()
  await first.waitFor()
  await shot(page, 'queue-desktop', false)
  const ids = await page.evaluate(async () => (await (await fetch('/api/v1/cases?mine=true&limit=200')).json()).items.map((c) => c.id))
  assert.ok(ids.length >= 10, `the demo assigns cases to the collector (got ${ids.length})`)
  // One of the cases the queue shows first (50 at a time), a different one on every run.
  const id = ids[Math.floor(Math.random() * Math.min(50, ids.length))]
  await page.getByTestId('case-row-' + id).click()
  await page.waitForURL(new RegExp('/cases/' + id + '$'))
  await page.getByTestId('workout-case').waitFor()
  const masked = await page.getByTestId('masked-name').innerText()
  assert.match(masked, /\*/, 'the name is masked')

  // A second window, a phone, on the same case: it must see the logged call live.
  const phone = await open('zh-CN', 390, 844)
  await login(phone.page, collector)
  await phone.page.goto(BASE + '/cases/' + id)
  await phone.page.getByTestId('workout-case').waitFor()
  await phone.page.getByTestId('case-live').filter({ hasText: '实时' }).waitFor()

  // Reveal: the purpose is required; the reveal goes through the audited path.
  await page.getByTestId('reveal-btn').click()
  await page.getByTestId('reveal-submit').click()
  await page.getByTestId('reveal-error').waitFor()
  assert.match(await page.getByTestId('reveal-error').innerText(), /用途/)
  await shot(page, 'reveal-purpose', false)
  await page.getByTestId('reveal-purpose').fill('电话沟通还款方案')
  await page.getByTestId('reveal-submit').click()
  await page.getByTestId('revealed').waitFor()
  const revealed = await page.getByTestId('revealed').innerText()
  assert.doesNotMatch(revealed, /\*\*/, 'the revealed name is in the clear')

  // A call at 22:00 debtor local time: denied, with CN-1 and its reason in words.
  await page.getByTestId('contact-btn').click()
  await page.getByTestId('contact-dialog').waitFor()
  const number = '139' + String(Math.floor(Math.random() * 1e8)).padStart(8, '0')
  await page.getByTestId('contact-number').fill(number)
  await page.getByTestId('contact-day').fill(pastDay())
  await page.getByTestId('contact-time').fill('22:00')
  await page.getByTestId('contact-log').click()
  const decision = page.getByTestId('contact-decision')
  await decision.waitFor()
  assert.equal(await decision.getAttribute('data-allowed'), 'false')
  const why = await page.getByTestId('contact-reason').first().innerText()
  assert.match(why, /CN-1/)
  assert.match(why, /超出允许时段/)
  assert.match(why, /22:00/)
  await shot(page, 'contact-denied-22h', false)

  // An allowed call (10:00 local) with a note that names this run: logged, and live on the phone.
  const note = 'e2e ' + Date.now().toString(36)
  await page.getByTestId('contact-time').fill('10:00')
  await page.getByTestId('contact-note').fill(note)
  await page.getByTestId('contact-log').click()
  await page.locator('[data-testid=contact-decision][data-allowed=true]').waitFor()
  await shot(page, 'contact-allowed', false)
  await phone.page.getByTestId('timeline').getByText(note).waitFor()
  // The refused attempt is on the timeline too, with its rule.
  await phone.page.getByTestId('timeline').getByText('CN-1').first().waitFor()
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 1, `the case page fits a 390 px phone (overflow ${overflow}px)`)
  await shot(phone.page, 'case-phone')
  await page.getByTestId('contact-dialog').getByRole('button', { name: '关闭', exact: true }).click()
  await shot(page, 'case-desktop')

  // The contact dialog on the phone (a field visit needs a recording reference).
  await phone.page.getByTestId('contact-btn').click()
  await phone.page.getByTestId('contact-dialog').waitFor()
  await shot(phone.page, 'contact-phone', false)
  await phone.page.goto(BASE + '/cases')
  await phone.page.locator('[data-testid^=case-row-]').first().waitFor()
  await shot(phone.page, 'queue-phone', false)
  noProblems(problems)
  noProblems(phone.problems)
  await phone.ctx.close()
  await ctx.close()
})

test('statement matching shows the unmatched queue (en, desktop and phone)', { skip }, async () => {
  const { ctx, page, problems } = await open('en')
  await login(page, collector)
  await page.goto(BASE + '/statements')
  const queue = page.getByTestId('unmatched-queue')
  await queue.waitFor()
  await queue.locator('.el-table__body-wrapper .el-table__row').first().waitFor()
  assert.match(await queue.innerText(), /No match|Several cases fit/)
  // Upload a statement: one credit names a case of the collector's, one names nothing.
  const caseId = await page.evaluate(async () => (await (await fetch('/api/v1/cases?mine=true&limit=1')).json()).items[0].id)
  const tag = Date.now().toString(36).toUpperCase()
  const day = new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
  const csv = `txn_id,date,amount,payer_name,reference,reverses\nE2E${tag}A,${day},12.34,,还款 C${caseId},\nE2E${tag}B,${day},56.78,,转账 ${tag},\n`
  await page.getByTestId('statement-file').setInputFiles({ name: `e2e-${tag}.csv`, mimeType: 'text/csv', buffer: Buffer.from(csv) })
  await page.getByTestId('statement-upload').click()
  const result = page.getByTestId('statement-result')
  await result.waitFor()
  assert.match(await result.innerText(), /2 lines[\s\S]*1 matched[\s\S]*1 unmatched/)
  const row = queue.locator('.el-table__row', { hasText: `E2E${tag}B` })
  await row.waitFor()
  await shot(page, 'statements-desktop')
  // Match the unmatched credit to the case by hand: it leaves the queue.
  await row.getByRole('button', { name: 'Match to case' }).click()
  await page.getByPlaceholder('Case, e.g. C42').fill('C' + caseId)
  await page.locator('.el-dialog').getByRole('button', { name: 'Match to case' }).click()
  await row.waitFor({ state: 'detached' })
  await page.getByTestId('applied-list').getByText(`E2E${tag}B`).waitFor()
  await page.setViewportSize({ width: 390, height: 844 })
  await shot(page, 'statements-phone')
  noProblems(problems)
  await ctx.close()
})

test('compliance report: attempts, allowed and denied by rule, as a chart', { skip: skip || (!manager.user && 'RECLAIM_MANAGER_USER is not set') }, async () => {
  const { ctx, page, problems } = await open('en')
  await login(page, manager)
  await page.goto(BASE + '/compliance')
  await page.getByTestId('compliance-report').waitFor()
  await page.locator('.echart canvas').first().waitFor()
  await page.waitForFunction(() => (document.querySelector('.echart')?.dataset.texts || '').length > 2)
  const texts = await page.locator('.echart').first().getAttribute('data-texts')
  assert.match(texts || '', /Allowed/)
  assert.match(texts || '', /CN-1/, 'the demo history has a refused 22:30 call')
  await shot(page, 'compliance-report')
  noProblems(problems)
  await ctx.close()
})
