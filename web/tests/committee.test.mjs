// Browser test of the credit committee (issue 13: approval limits by role) and the challenger's
// contact model on the dashboard, against a real `reclaim serve` prepared by `reclaim demo`
// (scripts/e2e.sh). Skipped without RECLAIM_URL.
//
//   RECLAIM_URL                     the server
//   RECLAIM_MANAGER_USER/PASS       a collection manager (demo-collection_manager)
//   RECLAIM_COMMITTEE_USER/PASS     a credit committee member (demo-credit_committee)
//
// What it shows: the demo's 75% offer (above a manager's 60%) is not on the manager's Approvals
// page and the manager's approval is refused (403 naming credit_committee); it is on the
// committee's, which approves it. The manager's dashboard shows the contact-model card and how the
// challenger arm is valued. Screenshots go to web/test-artifacts/.
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
const committee = { user: process.env.RECLAIM_COMMITTEE_USER, pass: process.env.RECLAIM_COMMITTEE_PASS }
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

const shot = screenshotter(ART, 'committee', 300)

test('credit committee: a 75% offer waits for the committee, a manager is refused, the committee approves', { skip }, async () => {
  assert.ok(manager.user && manager.pass && committee.user && committee.pass, 'set the manager and committee accounts')
  const mgr = await openPage(browser, 'en', { allowStatus: [403] })
  await signIn(mgr.page, BASE, manager.user, manager.pass)
  // The committee's offers (the demo proposes one at 75%) are not the manager's to approve.
  const offers = await mgr.page.evaluate(async () => (await (await fetch('/api/v1/workout/approvals')).json()).items || [])
  assert.ok(!offers.some((o) => o.checker_role === 'credit_committee'), 'a manager is offered a committee approval')

  const cc = await openPage(browser, 'zh-CN')
  await signIn(cc.page, BASE, committee.user, committee.pass)
  await cc.page.goto(BASE + '/approvals')
  await cc.page.getByTestId('approvals').waitFor()
  const mine = await cc.page.evaluate(async () => (await (await fetch('/api/v1/workout/approvals')).json()).items || [])
  const o = mine.find((x) => x.checker_role === 'credit_committee')
  assert.ok(o, 'the demo offer waiting for the credit committee')
  await cc.page.getByTestId('approval-' + o.id).waitFor()
  await shot(cc.page, 'approvals', false)

  // The manager tries anyway: 403 naming the role needed, and nothing changes.
  const refused = await mgr.page.evaluate(async (id) => {
    const r = await fetch(`/api/v1/workout/offers/${id}/approve`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
    return { status: r.status, body: await r.text() }
  }, o.id)
  assert.equal(refused.status, 403)
  assert.match(refused.body, /credit_committee/)

  await cc.page.getByTestId('approve-' + o.id).click()
  await cc.page.getByTestId('approval-' + o.id).waitFor({ state: 'detached' })
  const after = await cc.page.evaluate(async (id) => {
    const o = await (await fetch(`/api/v1/workout/approvals`)).json()
    return (o.items || []).some((x) => x.id === id)
  }, o.id)
  assert.equal(after, false)
  noProblems(cc.problems)

  // The dashboard's contact-model card.
  await mgr.page.goto(BASE + '/dashboard')
  const card = mgr.page.getByTestId('contact-model')
  await card.waitFor()
  assert.match(await card.innerText(), /Challenger valued by: (model:|rules \(no model\))/)
  await card.scrollIntoViewIfNeeded()
  await shot(mgr.page, 'dashboard-contact-model', false)
  noProblems(mgr.problems, /403/)
})
