// Browser test of the auction room's Dutch and multi-round views (issue 14, item 7): two bidders
// in two browser contexts (one in Chinese at desktop width, one in English on a 390 px phone).
// Dutch: the price falls live on the listed schedule, bidder 1 accepts at the current price with
// a confirmation, and bidder 2's screen shows the auction sold to bidder 1's code without a
// reload. Multi-round: both bidders send sealed quotes, each round's best is published at its
// deadline on both screens, the round view advances to the final phase, and the auction closes
// to the best quote. The seller (admin) sees the results of both.
//
// Runs only against a real server (RECLAIM_URL, as scripts/e2e.sh sets it after `reclaim demo`),
// with the environment of tests/market.test.mjs. Screenshots: web/test-artifacts/formats-*.png.
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
const cfg = {
  adminUser: process.env.RECLAIM_ADMIN_USER,
  adminPass: process.env.RECLAIM_ADMIN_PASS,
  b1User: process.env.RECLAIM_BIDDER_USER,
  b1Pass: process.env.RECLAIM_BIDDER_PASS,
  b2User: process.env.RECLAIM_BIDDER2_USER,
  b2Pass: process.env.RECLAIM_BIDDER2_PASS,
}
const skip = !BASE ? 'RECLAIM_URL is unset (the mock server has no marketplace)' : false
const shot = screenshotter(ART, 'formats', 400)
let browser

before(async () => {
  if (skip) return
  for (const [k, v] of Object.entries(cfg)) assert.ok(v, `set the environment variable for ${k} (see the top of tests/market.test.mjs)`)
  fs.mkdirSync(ART, { recursive: true })
  browser = await launchChromium(chromium)
})
after(async () => {
  await browser?.close()
})

/** api calls the API from a signed-in page (same origin, its session cookie). */
async function api(page, method, p, body) {
  return page.evaluate(
    async ([method, p, body]) => {
      const r = await fetch('/api/v1' + p, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined })
      const text = await r.text()
      return { status: r.status, body: text ? JSON.parse(text) : null }
    },
    [method, p, body],
  )
}

/** The number an amount text shows, in yuan: "¥101,000.00" or "10.10 万元". */
function yuanOf(text) {
  const n = Number(text.replace(/[^\d.]/g, ''))
  return /万/.test(text) ? Math.round(n * 10000) : n
}

const iso = (ms) => new Date(ms).toISOString()
/** amt matches an amount of y yuan as either language shows it ("230,000" or "23.00 万"). */
const amt = (y) => `(?:${y.toLocaleString('en-US')}|${(y / 10000).toFixed(2)} 万)`

/** Signs the three accounts in: the admin (zh-CN), bidder 1 (zh-CN, desktop), bidder 2 (en, phone). */
async function people() {
  const admin = await openPage(browser, 'zh-CN')
  const b1 = await openPage(browser, 'zh-CN')
  const b2 = await openPage(browser, 'en', { width: 390, height: 844 })
  await signIn(admin.page, BASE, cfg.adminUser, cfg.adminPass)
  await signIn(b1.page, BASE, cfg.b1User, cfg.b1Pass)
  await signIn(b2.page, BASE, cfg.b2User, cfg.b2Pass)
  return { admin, b1, b2 }
}

/** Registers a bidder from the marketplace list, then accepts the NDA and freezes the deposit
 * in the room, and waits for the live connection. Returns the bidder's code. */
async function join(b, id) {
  await b.page.goto(BASE + '/market')
  await b.page.getByTestId(`register-${id}`).click()
  await b.page.getByTestId(`auction-card-${id}`).click()
  await b.page.waitForURL(new RegExp(`/market/${id}$`))
  await b.page.getByTestId('do-nda').click()
  await b.page.getByTestId('do-deposit').click()
  await b.page.locator('[data-testid="live-state"][data-state="live"]').waitFor()
  await b.page.getByTestId('my-code').waitFor()
  return (await b.page.getByTestId('my-code').innerText()).trim().split(/\s+/).pop()
}

async function priceOn(page) {
  return yuanOf(await page.getByTestId('live-price').innerText())
}

test('Dutch: the price falls live; bidder 1 accepts; bidder 2 sees it sold to bidder 1 live; the seller sees the result', { skip }, async () => {
  const { admin, b1, b2 } = await people()
  // Marketplace pack, movable asset: from 100,000 the price falls by 1,000 every 3 seconds to
  // 60,000; bidding opens 20 seconds from now.
  const now = Date.now()
  const start = now + 20e3
  const title = `E2E 降价拍卖：叉车一批 ${iso(now).slice(11, 19)}`
  const created = await api(admin.page, 'POST', '/market/auctions', {
    title, description: 'Browser test of the Dutch room (issue 14, item 7).', pack: 'marketplace', format: 'dutch', kind: 'movable',
    appraisal: null, start_price: '100000.00', increment: null, deposit: '5000.00', reserve: null,
    notice_at: iso(now - 26 * 3600e3), start: iso(start), end: iso(start + 2 * 3600e3),
    dutch: { step: '1000.00', every_seconds: 3, floor: '60000.00' },
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const id = created.body.id
  const code1 = await join(b1, id)
  const code2 = await join(b2, id)
  assert.notEqual(code1, code2)

  // Before the start: the start price; then the price falls on both screens without a reload.
  await b1.page.getByTestId('dutch-card').waitFor()
  await b1.page.waitForFunction((s) => Date.now() > s + 1000, start, { timeout: 40e3 })
  await b1.page.getByTestId('dutch-accept').waitFor()
  const p1 = await priceOn(b1.page)
  assert.ok(p1 <= 100000 && p1 > 60000, `price ${p1}`)
  assert.match(await b1.page.getByTestId('dutch-next').innerText(), /底价/)
  await b1.page.waitForFunction(
    (p) => {
      const t = document.querySelector('[data-testid="live-price"]')?.textContent || ''
      const n = Number(t.replace(/[^\d.]/g, ''))
      return (/万/.test(t) ? Math.round(n * 10000) : n) < p
    },
    p1,
    { timeout: 8000 },
  )
  const p2 = await priceOn(b1.page)
  assert.ok(p2 < p1 && (p1 - p2) % 1000 === 0, `the price fell from ${p1} to ${p2} in steps of 1,000`)
  // The screens agree with the server's price at its clock (the server decides).
  const st = await api(b1.page, 'GET', `/market/auctions/${id}`)
  assert.equal(st.status, 200)
  assert.equal(st.body.auction.dutch.every_seconds, 3)
  assert.ok(st.body.dutch_next, 'the server names the next step')
  assert.ok(Math.abs(yuanOf(st.body.view.dutch_price) - (await priceOn(b1.page))) <= 1000)
  await b1.page.getByTestId('bid-chart').waitFor()
  await shot(b1.page, 'dutch-b1-falling')
  await b2.page.getByTestId('dutch-accept').scrollIntoViewIfNeeded()
  await shot(b2.page, 'dutch-b2-phone', false)

  // Bidder 1 accepts: a confirmation names the price; the server's price at receipt applies.
  await b1.page.getByTestId('dutch-accept').click()
  const dialog = b1.page.getByTestId('bid-confirm')
  await dialog.waitFor()
  assert.match(await dialog.innerText(), /买入/)
  await shot(b1.page, 'dutch-b1-confirm', false)
  const shown = await priceOn(b1.page)
  await b1.page.getByTestId('bid-confirm-ok').click()

  // Both screens show it sold to bidder 1's code, live.
  for (const b of [b1, b2]) {
    await b.page.getByTestId('sold-to').waitFor({ timeout: 10e3 })
    assert.match(await b.page.getByTestId('sold-to').innerText(), new RegExp(code1))
  }
  const paid = await priceOn(b2.page)
  assert.ok(paid <= shown && paid >= 60000, `sold at ${paid}, shown ${shown}`)
  assert.equal(await b2.page.getByTestId('dutch-accept').count(), 0, 'no acceptance after the sale')
  assert.match(await b2.page.getByTestId('bid-history').innerText(), new RegExp(code1))
  await shot(b2.page, 'dutch-b2-sold-phone', false)
  await b1.page.getByTestId('auction-result').waitFor({ timeout: 10e3 })
  await shot(b1.page, 'dutch-b1-sold')

  // The seller's result: the winner named, the price, the history hash.
  await admin.page.goto(BASE + `/market/${id}`)
  await admin.page.getByTestId('result-hash').waitFor()
  assert.match(await admin.page.getByTestId('result-winner').innerText(), new RegExp(`示范.*\\(${code1}\\)`))
  const res = await api(admin.page, 'GET', `/market/auctions/${id}/result`)
  assert.equal(res.status, 200)
  assert.equal(res.body.auction.outcome.status, 'sold')
  assert.equal(yuanOf(res.body.auction.outcome.price), paid)
  assert.deepEqual(res.body.bids.map((x) => [x.code, yuanOf(x.amount)]), [[code1, paid]])
  await shot(admin.page, 'dutch-seller-result')

  for (const p of [admin, b1, b2]) noProblems(p.problems)
  for (const p of [admin, b1, b2]) await p.ctx.close()
})

test('multi-round: sealed quotes per round, each round best published live, then the final phase and the result', { skip }, async () => {
  const { admin, b1, b2 } = await people()
  // Two sealed rounds ending 40 s and 70 s from now, then a final phase of 30 s.
  const now = Date.now()
  const r1 = now + 40e3
  const r2 = now + 70e3
  const end = now + 100e3
  const title = `E2E 多轮竞价：个贷资产包 ${iso(now).slice(11, 19)}`
  const created = await api(admin.page, 'POST', '/market/auctions', {
    title, description: 'Browser test of the multi-round room (issue 14, item 7).', pack: 'marketplace', format: 'multi_round', kind: 'movable',
    appraisal: null, start_price: '200000.00', increment: '1000.00', deposit: '5000.00', reserve: null,
    notice_at: iso(now - 26 * 3600e3), start: iso(now - 62 * 60e3), end: iso(end), rounds: [iso(r1), iso(r2)],
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const id = created.body.id
  const code1 = await join(b1, id)
  const code2 = await join(b2, id)

  async function quote(b, amount) {
    await b.page.getByTestId('quote-amount').fill(amount)
    await b.page.getByTestId('quote-submit').click()
    await b.page.getByTestId('bid-confirm-ok').click()
    await b.page.getByTestId('quote-sent').waitFor()
  }
  // Round 1: the panel says what the round takes; a quote below the start is caught first.
  const rounds = b1.page.getByTestId('rounds-panel')
  await rounds.waitFor()
  assert.match(await b1.page.getByTestId('round-1').innerText(), /进行中/)
  assert.match(await b1.page.getByTestId('round-requires').innerText(), /第 1 轮/)
  await b1.page.getByTestId('quote-amount').fill('150000')
  await b1.page.getByTestId('quote-amount-error').waitFor()
  await quote(b1, '210000')
  await quote(b2, '230000')
  // Each sees its own quote; the other's stays sealed (counted, no amount).
  assert.match(await b1.page.getByTestId('round-mine').innerText(), new RegExp(amt(210000)))
  await b1.page.waitForFunction(() => /2/.test(document.querySelector('[data-testid="round-1"]')?.textContent || ''))
  assert.doesNotMatch(await b1.page.getByTestId('rounds-panel').innerText(), new RegExp(amt(230000)))
  await shot(b1.page, 'rounds-b1-round1')
  await b2.page.getByTestId('rounds-panel').scrollIntoViewIfNeeded()
  await shot(b2.page, 'rounds-b2-round1-phone', false)

  // The deadline passes: round 1's best (bidder 2's) is published on both screens, live, and
  // round 2 runs with the published best as its floor.
  for (const b of [b1, b2]) {
    await b.page.locator('[data-testid="round-1"][data-state="closed"]').waitFor({ timeout: 60e3 })
    await b.page.locator('[data-testid="round-2"][data-state="running"]').waitFor()
    const best = await b.page.getByTestId('round-1').getByTestId('round-best').innerText()
    assert.match(best, new RegExp(amt(230000)))
    assert.match(best, new RegExp(code2))
  }
  assert.match(await b1.page.getByTestId('round-requires').innerText(), new RegExp(amt(230000)))
  await b1.page.getByTestId('quote-amount').fill('220000') // below the published best
  await b1.page.getByTestId('quote-amount-error').waitFor()
  await quote(b1, '240000')
  await shot(b1.page, 'rounds-b1-round2')

  // Round 2 closes with bidder 1's quote best; the final phase opens.
  for (const b of [b1, b2]) {
    await b.page.locator('[data-testid="round-2"][data-state="closed"]').waitFor({ timeout: 60e3 })
    await b.page.locator('[data-testid="round-final"].running').waitFor()
    assert.match(await b.page.getByTestId('round-2').getByTestId('round-best').innerText(), new RegExp(`${amt(240000)}[\\s\\S]*${code1}`))
  }
  assert.match(await b2.page.getByTestId('round-phase').innerText(), /Final/)
  assert.match(await b2.page.getByTestId('round-requires').innerText(), /241,000/)
  await b2.page.getByTestId('bid-submit').waitFor() // bidder 2 quoted: it may bid
  await b2.page.getByTestId('rounds-panel').scrollIntoViewIfNeeded()
  await shot(b2.page, 'rounds-b2-final-phone', false)
  await shot(b1.page, 'rounds-b1-final')

  // No final bid: at the end the best quote wins. The seller sees the result and the rounds
  // with names revealed.
  await admin.page.goto(BASE + `/market/${id}`)
  await admin.page.getByTestId('result-hash').waitFor({ timeout: 60e3 })
  assert.match(await admin.page.getByTestId('result-winner').innerText(), new RegExp(`示范.*\\(${code1}\\)`))
  const panel = await admin.page.getByTestId('rounds-panel').innerText()
  assert.match(panel, new RegExp(amt(230000)))
  assert.match(panel, new RegExp(amt(240000)))
  assert.match(panel, /示范/, 'names revealed after the close')
  const res = await api(admin.page, 'GET', `/market/auctions/${id}/result`)
  assert.equal(res.body.auction.outcome.status, 'sold')
  assert.equal(yuanOf(res.body.auction.outcome.price), 240000)
  await shot(admin.page, 'rounds-seller-result')
  await b2.page.getByTestId('auction-result').waitFor({ timeout: 10e3 })
  await shot(b2.page, 'rounds-b2-result-phone')

  for (const p of [admin, b1, b2]) noProblems(p.problems)
  for (const p of [admin, b1, b2]) await p.ctx.close()
})
