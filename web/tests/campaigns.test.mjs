// Browser test of the bulk-campaign page (issue 12 item 3), against a real `reclaim serve`
// prepared by `reclaim demo` (scripts/e2e.sh). Skipped without RECLAIM_URL (the mock server has
// no workout routes) or without a collection manager account.
//
//   RECLAIM_URL                     the server
//   RECLAIM_MANAGER_USER/PASS       a collection manager (the demo's demo-collection_manager)
//   RECLAIM_COLLECTOR_USER/PASS     a collector (must not see the page)
//
// What it shows: the manager schedules an SMS campaign over a few cases; a double click makes
// one campaign, not two; the server sends it at once (every contact decided by the compliance
// engine) and the page follows it live to "done", with the result by rule id; a collector has
// no Campaigns entry and the API refuses it. Screenshots at desktop and 390 px phone width.
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
const skip = !BASE ? 'RECLAIM_URL is not set (the mock server has no workout routes)' : !manager.user ? 'RECLAIM_MANAGER_USER is not set' : false
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
  return openPage(browser, locale, { width, height, timeout: 20000, allowStatus: [400, 401, 403, 404, 409, 429] })
}

const shot = screenshotter(ART, 'campaigns', 300)

test('a collection manager schedules an SMS campaign; it is sent once, decided case by case, and followed live', { skip }, async () => {
  for (const [locale, width] of [['zh-CN', 1440], ['en', 390]]) {
    const { ctx, page, problems } = await open(locale, width, width < 500 ? 844 : 900)
    await signIn(page, BASE, manager.user, manager.pass)
    const ids = await page.evaluate(async () => ((await (await fetch('/api/v1/cases?limit=4')).json()).items || []).map((c) => c.id))
    assert.ok(ids.length >= 2, 'the demo has cases')
    const before = await page.evaluate(async () => (await (await fetch('/api/v1/workout/campaigns')).json()).length)
    if (width < 500) {
      await page.goto(BASE + '/campaigns')
    } else {
      await page.getByTestId('nav-campaigns').click()
    }
    await page.getByTestId('campaign-form').waitFor()
    await page.getByTestId('campaigns-live').filter({ hasText: /实时|live/ }).waitFor()
    // Missing fields are named before anything is sent.
    await page.getByTestId('campaign-submit').click()
    await page.locator('[data-testid=campaign-form] .el-form-item__error').first().waitFor()
    assert.ok((await page.locator('[data-testid=campaign-form] .el-form-item__error').count()) >= 2, 'name and template errors')
    const name = (locale === 'zh-CN' ? '三月还款提醒 ' : 'March reminder ') + Date.now().toString(36)
    await page.getByTestId('campaign-name').fill(name)
    await page.getByTestId('campaign-template').fill('remind-v1')
    await page.getByTestId('campaign-mode').click()
    await page.locator('.el-select-dropdown__item').filter({ hasText: locale === 'zh-CN' ? '案件列表' : 'Case list' }).click()
    await page.getByTestId('campaign-value').fill(ids.map((i) => 'C' + i).join(', '))
    await shot(page, 'form-' + locale)
    // A double click: one campaign (the request carries one idempotency key).
    await page.getByTestId('campaign-submit').dblclick()
    const card = page.getByTestId('campaign-result').filter({ hasText: name })
    await card.getByTestId('campaign-status').filter({ hasText: locale === 'zh-CN' ? '已完成' : 'done' }).waitFor({ timeout: 30000 })
    const list = await page.evaluate(async () => (await (await fetch('/api/v1/workout/campaigns')).json()))
    assert.equal(list.length, before + 1, 'one campaign per click sequence')
    // Clicking again after it was sent: still the same campaign (200, same id), nothing re-sent.
    await page.getByTestId('campaign-submit').click()
    await page.waitForTimeout(800)
    assert.equal(await page.evaluate(async () => (await (await fetch('/api/v1/workout/campaigns')).json()).length), before + 1, 'a repeated submit made another campaign')
    assert.equal(await page.locator('[data-testid=campaign-form] .el-form-item__error').count(), 0, 'no error after a successful submit')
    const c = list[0]
    assert.equal(c.name, name)
    assert.equal(c.done, ids.length)
    assert.equal(c.sent + c.denied, ids.length)
    assert.equal(Object.values(c.by_rule).reduce((a, b) => a + b, 0) >= c.denied, true, 'every denial has a rule id')
    const result = page.getByTestId('campaign-result')
    assert.match(await result.innerText(), new RegExp(name))
    assert.match(await page.getByTestId('campaign-sent').innerText(), new RegExp(String(c.sent)))
    // Each case's timeline holds the campaign's contact once, decided by the engine: a refused one
    // as an attempt, an allowed one as the action it became (its attempt is not listed apart).
    // Which it is depends on the hour in China when the test runs (the contact-hours rule).
    const entries = await page.evaluate(async ([id, cid]) => (await (await fetch('/api/v1/cases/' + id)).json()).timeline.filter((x) =>
      (x.attempt && String(x.attempt.contact_id || '').startsWith(`campaign-${cid}-`)) ||
      (x.type === 'action' && x.action && String(x.action.note || '').startsWith(`campaign ${cid} `))).map((x) => x.type), [ids[0], c.id])
    assert.equal(entries.length, 1, `one recorded contact per case, got ${JSON.stringify(entries)}`)
    await shot(page, 'result-' + locale)
    noProblems(problems)
    await ctx.close()
  }
  if (collector.user) {
    const { ctx, page, problems } = await open('zh-CN')
    await signIn(page, BASE, collector.user, collector.pass)
    assert.equal(await page.getByTestId('nav-campaigns').count(), 0, 'a collector has no Campaigns entry')
    const st = await page.evaluate(async () => (await fetch('/api/v1/workout/campaigns', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ key: 'x', name: 'x', channel: 'sms', template: 't', selection: { all: true }, scheduled_at: new Date().toISOString() }) })).status)
    assert.equal(st, 403)
    noProblems(problems)
    await ctx.close()
  }
})
