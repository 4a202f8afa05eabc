// Browser test of settlements with maker-checker (issue 13 item 2), against a real `reclaim
// serve` prepared by `reclaim demo` (scripts/e2e.sh). Skipped without RECLAIM_URL.
//
//   RECLAIM_URL                    the server
//   RECLAIM_COLLECTOR_USER/PASS    a collector with cases assigned (demo-collector)
//   RECLAIM_MANAGER_USER/PASS      a collection manager (demo-collection_manager)
//
// What it shows: the collector opens the Settle dialog on one of its cases (the NPV-optimal
// discount is suggested), proposes 50% (above a collector's 30%): the offer waits for a checker.
// The manager sees it on the Approvals page and approves it; the collector's case page shows
// the approval live (SSE), the collector records the debtor's acceptance with a 6-month plan and
// the case shows the schedule. Screenshots (desktop and a 390 px phone) go to web/test-artifacts/.
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
const skip = BASE ? false : 'RECLAIM_URL is not set (the mock server has no settlement routes)'
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
  return openPage(browser, locale, { width, height, timeout: 15000, allowStatus: [400, 401, 403, 404, 409, 429] })
}

const shot = screenshotter(ART, 'settle', 300)

test('maker-checker: a collector proposes above its limit, a manager approves, the case shows the offer and its schedule', { skip }, async () => {
  assert.ok(collector.user && collector.pass && manager.user && manager.pass, 'set the collector and manager accounts')
  const col = await open('zh-CN')
  await signIn(col.page, BASE, collector.user, collector.pass)
  await col.page.waitForURL(/\/cases$/)
  // One of the collector's cases with a balance and no live offer (a rerun skips its earlier ones).
  const id = await col.page.evaluate(async () => {
    const ids = (await (await fetch('/api/v1/cases?mine=true&limit=200')).json()).items.map((c) => c.id)
    for (const i of ids.sort(() => Math.random() - 0.5)) {
      const p = await (await fetch(`/api/v1/workout/cases/${i}/settlements`)).json()
      if (Number(p.claim) > 0 && !p.offers.some((o) => ['proposed', 'approved', 'accepted'].includes(o.status))) return i
    }
    return 0
  })
  assert.ok(id > 0, 'a case of the collector without a live offer')
  await col.page.goto(BASE + '/cases/' + id)
  await col.page.getByTestId('settle-panel').waitFor()
  const sug = await col.page.getByTestId('settle-suggestion').innerText()
  assert.match(sug, /建议减免\s*\d+\.\d%/)
  // The expected-NPV curve the suggestion maximises, with the collector's limit marked.
  await col.page.getByTestId('settle-curve').locator('canvas').waitFor()
  await shot(col.page, 'panel-desktop', false)

  // Settle at 50%: above the collector's 30%, the dialog warns; the offer waits for a checker.
  await col.page.getByTestId('settle-btn').click()
  await col.page.getByTestId('settle-dialog').waitFor()
  const input = col.page.getByTestId('settle-discount').locator('input')
  await input.fill('50')
  await input.blur()
  await col.page.getByTestId('settle-beyond').waitFor()
  await shot(col.page, 'dialog-desktop', false)
  await col.page.getByTestId('settle-submit').click()
  await col.page.locator('[data-testid=settle-offer][data-status=proposed]').waitFor()
  assert.match(await col.page.getByTestId('settle-needs').innerText(), /待复核/)
  const offerId = await col.page.evaluate(async (i) => (await (await fetch(`/api/v1/workout/cases/${i}/settlements`)).json()).offers[0].id, id)
  await shot(col.page, 'proposed-desktop')

  // The manager approves it on the Approvals page.
  const mgr = await open('en')
  await signIn(mgr.page, BASE, manager.user, manager.pass)
  await mgr.page.goto(BASE + '/approvals')
  await mgr.page.getByTestId('approvals').waitFor()
  await mgr.page.getByTestId('approval-' + offerId).waitFor()
  await shot(mgr.page, 'approvals-desktop', false)
  await mgr.page.getByTestId('approve-' + offerId).click()
  await mgr.page.getByTestId('approval-' + offerId).waitFor({ state: 'detached' })

  // The collector's page shows the approval live, records the acceptance with a 6-month plan,
  // and shows its schedule.
  await col.page.locator('[data-testid=settle-offer][data-status=approved]').waitFor()
  await col.page.getByTestId('settle-accept').click()
  await col.page.getByTestId('accept-dialog').waitFor()
  await col.page.getByTestId('accept-preview').waitFor()
  await col.page.getByTestId('accept-submit').click()
  await col.page.locator('[data-testid=settle-offer][data-status=accepted]').waitFor()
  const rows = await col.page.getByTestId('settle-schedule').locator('tbody tr').count()
  assert.equal(rows, 6, 'a 6-month schedule')
  await shot(col.page, 'schedule-desktop')
  // A promise to pay recorded through the API appears live on the panel (event promise).
  const st = await col.page.evaluate(async (i) => {
    const due = new Date(Date.now() + 8 * 3600e3 + 7 * 86400e3).toISOString().slice(0, 10)
    const r = await fetch(`/api/v1/workout/cases/${i}/promises`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ amount: '500.00', due }) })
    return r.status
  }, id)
  assert.equal(st, 201)
  await col.page.getByTestId('settle-commitments').getByText('待履行').waitFor()

  // The same case on a 390 px phone.
  const phone = await open('zh-CN', 390, 844)
  await signIn(phone.page, BASE, collector.user, collector.pass)
  await phone.page.goto(BASE + '/cases/' + id)
  await phone.page.getByTestId('settle-schedule').waitFor()
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 1, `the settlement panel fits a 390 px phone (overflow ${overflow}px)`)
  await shot(phone.page, 'schedule-phone')
  noProblems(col.problems)
  noProblems(mgr.problems)
  noProblems(phone.problems)
  await col.ctx.close()
  await mgr.ctx.close()
  await phone.ctx.close()
})
