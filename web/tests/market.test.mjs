// Browser test of the marketplace console (issue 14, item 7): two bidders in two browser contexts
// outbid each other on an English auction whose end is minutes away; each screen updates live
// (SSE), the anti-sniping extension shows as it happens, the server's rejection reason shows, and
// the admin's pages (bidder approval, listing wizard with the pack's checks) work.
//
// Runs only against a real server (RECLAIM_URL, as scripts/e2e.sh sets it after `reclaim demo`):
// the mock server has no marketplace. Environment, beside tests/e2e.test.mjs's:
//   RECLAIM_BIDDER_USER / RECLAIM_BIDDER_PASS    the first bidder (demo-bidder)
//   RECLAIM_BIDDER2_USER / RECLAIM_BIDDER2_PASS  the second bidder (demo-bidder2), of another organisation
// Screenshots: web/test-artifacts/market-*.png.
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
const cfg = {
  adminUser: process.env.RECLAIM_ADMIN_USER,
  adminPass: process.env.RECLAIM_ADMIN_PASS,
  b1User: process.env.RECLAIM_BIDDER_USER,
  b1Pass: process.env.RECLAIM_BIDDER_PASS,
  b2User: process.env.RECLAIM_BIDDER2_USER,
  b2Pass: process.env.RECLAIM_BIDDER2_PASS,
}
const skip = !BASE ? 'RECLAIM_URL is unset (the mock server has no marketplace)' : false
let browser

before(async () => {
  if (skip) return
  for (const [k, v] of Object.entries(cfg)) assert.ok(v, `set the environment variable for ${k} (see the top of tests/market.test.mjs)`)
  fs.mkdirSync(ART, { recursive: true })
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})
after(async () => {
  await browser?.close()
})

async function open(locale, width = 1440, height = 900) {
  const ctx = await browser.newContext({ viewport: { width, height }, locale })
  await ctx.addInitScript((l) => localStorage.setItem('reclaim.locale', l), locale)
  const page = await ctx.newPage()
  page.setDefaultTimeout(15000)
  const problems = []
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message))
  page.on('response', async (r) => {
    if (r.status() === 400) problems.push('400 ' + r.url() + ' ' + (await r.text().catch(() => '')))
  })
  page.on('console', (m) => {
    const text = m.text()
    if (m.type() === 'warning' && /\[ElementPlus\]|deprecat/i.test(text)) problems.push('warning: ' + text)
    if (m.type() !== 'error') return
    if (/Failed to load resource.*\b(401|403|409|429)\b/.test(text)) return
    problems.push('console: ' + text)
  })
  return { ctx, page, problems }
}

async function login(page, user, pass) {
  return signIn(page, BASE, user, pass)
}

async function shot(page, name, { fullPage = true } = {}) {
  await page.waitForTimeout(400)
  await page.screenshot({ path: path.join(ART, `market-${name}.png`), fullPage })
}

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
  const wan = /万/.test(text)
  const n = Number(text.replace(/[^\d.]/g, ''))
  return wan ? Math.round(n * 10000) : n
}

test('admin: bidder approval lists the demo organisations; the listing wizard shows the pack checks before submit', { skip }, async () => {
  const { ctx, page, problems } = await open('zh-CN')
  await login(page, cfg.adminUser, cfg.adminPass)
  await page.getByTestId('nav-bidders').click()
  await page.waitForURL(/\/bidders/)
  const table = page.getByTestId('org-table')
  await table.getByText('华东示范资产管理有限公司').waitFor()
  assert.match(await table.innerText(), /华南示范资产管理有限公司/)
  assert.match(await table.innerText(), /已通过/)
  await shot(page, 'admin-bidders')
  // The demo leaves one organisation pending: approve it (a fresh demo; skipped once approved).
  await page.getByTestId('org-table').getByText('华北示范消费金融有限公司').waitFor()
  const pending = page.locator('[data-testid^="approve-"]')
  if (await pending.count()) {
    await pending.first().click()
    await page.waitForFunction(() => !document.querySelector('[data-testid^="approve-"]'))
    const row = page.getByTestId('org-table').locator('tr', { hasText: '华北示范消费金融有限公司' })
    assert.match(await row.innerText(), /已通过/)
  }

  await page.goto(BASE + '/market/new')
  await page.getByTestId('wiz-kind').getByText('动产', { exact: true }).click()
  await page.getByTestId('wiz-title').fill('E2E 挂牌向导：二手设备一批')
  await page.getByTestId('wiz-appraisal').fill('1000000')
  await page.getByTestId('wiz-next').click()
  await page.getByTestId('wiz-pack').getByText('司法拍卖规则').click()
  await page.getByTestId('wiz-next').click()
  await page.getByTestId('wiz-next').click()
  await page.getByTestId('wiz-start').fill('600000')
  // The judicial pack's checks show before anything is stored: JA-1 (start < 70% of the
  // appraisal), JA-3 (a day's notice for a movable), JA-6 (two hours of bidding).
  const checks = page.getByTestId('wiz-violations')
  await checks.getByText('JA-1').waitFor()
  const text = await checks.innerText()
  for (const rule of ['JA-1', 'JA-3', 'JA-6']) assert.match(text, new RegExp(rule))
  await shot(page, 'wizard-checks')
  // Fix them with the pack's numbers: dates fitted, start 70%, then the wizard lets it through.
  await page.getByTestId('wiz-start').fill('700000')
  await page.getByText('按规则填写建议值').click()
  await page.getByText('上一步').click()
  await page.getByText('按规则调整时间').click()
  await page.getByTestId('wiz-valid').waitFor()
  await page.getByTestId('wiz-next').click()
  await page.getByTestId('wiz-next').click()
  await page.getByTestId('wiz-submit').click()
  await page.waitForURL(/\/market\/\d+$/)
  await page.getByTestId('auction-title').getByText('E2E 挂牌向导').waitFor()
  await shot(page, 'wizard-listed')
  noProblems(problems)
  await ctx.close()
})

test('two bidders outbid each other live; the extension shows on both screens; the server rejection shows', { skip }, async () => {
  // An English auction under the marketplace pack (3-minute extension) ending in under three
  // minutes, listed through the API as the admin.
  const admin = await open('zh-CN')
  await login(admin.page, cfg.adminUser, cfg.adminPass)
  const now = Date.now()
  const iso = (ms) => new Date(ms).toISOString()
  const title = `E2E 竞价：抵债车辆 ${new Date(now).toISOString().slice(11, 19)}`
  const created = await api(admin.page, 'POST', '/market/auctions', {
    title, description: 'Browser test of two bidders (issue 14, item 7).', pack: 'marketplace', format: 'english', kind: 'movable',
    appraisal: null, start_price: '100000.00', increment: '1000.00', deposit: '5000.00', reserve: null,
    notice_at: iso(now - 26 * 3600e3), start: iso(now - 58 * 60e3), end: iso(now + 170e3),
  })
  assert.equal(created.status, 201, JSON.stringify(created.body))
  const id = created.body.id

  const b1 = await open('zh-CN')
  const b2 = await open('en')
  await login(b1.page, cfg.b1User, cfg.b1Pass)
  await login(b2.page, cfg.b2User, cfg.b2Pass)
  // Each registers from the marketplace list (a bidder sees only its organisation's auctions).
  for (const b of [b1, b2]) {
    await b.page.goto(BASE + '/market')
    await b.page.getByTestId(`register-${id}`).click()
    await b.page.getByTestId(`auction-card-${id}`).waitFor()
  }
  await shot(b1.page, 'bidder-list')
  for (const b of [b1, b2]) {
    await b.page.getByTestId(`auction-card-${id}`).click()
    await b.page.waitForURL(new RegExp(`/market/${id}$`))
    await b.page.getByTestId('do-nda').click()
    await b.page.getByTestId('do-deposit').click()
    await b.page.getByTestId('bid-submit').waitFor()
    await b.page.locator('[data-testid="live-state"][data-state="live"]').waitFor()
  }
  const code1 = (await b1.page.getByTestId('my-code').innerText()).trim().split(/\s+/).pop()
  const code2 = (await b2.page.getByTestId('my-code').innerText()).trim().split(/\s+/).pop()
  assert.notEqual(code1, code2)
  assert.equal(await b2.page.getByTestId('extension-notice').count(), 0)
  const end0 = await b2.page.getByTestId('room-end').innerText()

  async function bid(b, amount) {
    if (amount) await b.page.getByTestId('bid-amount').fill(amount)
    else await b.page.getByTestId('bid-min').click()
    await b.page.getByTestId('bid-submit').click()
    await b.page.getByTestId('bid-confirm-ok').click()
  }
  async function priceIs(b, yuan) {
    await b.page.waitForFunction(
      ([y]) => {
        const t = document.querySelector('[data-testid="live-price"]')?.textContent || ''
        const n = Number(t.replace(/[^\d.]/g, ''))
        return (/万/.test(t) ? Math.round(n * 10000) : n) === y
      },
      [yuan],
      { timeout: 10000 },
    )
  }

  // Bidder 1 opens at the start price, less than three minutes before the end: the end moves,
  // and bidder 2's screen shows the new price and the extension without a reload.
  await bid(b1, '')
  await priceIs(b2, 100000)
  await b2.page.getByTestId('extension-notice').waitFor()
  assert.notEqual(await b2.page.getByTestId('room-end').innerText(), end0)
  assert.equal(await b2.page.getByTestId('leader').innerText(), code1)
  await b1.page.getByTestId('extension-notice').waitFor({ timeout: 10000 }).catch(() => {})
  await shot(b2.page, 'b2-sees-extension')

  // The console checks the amount against price + increment before asking the server.
  await b2.page.getByTestId('bid-amount').fill('100500')
  await b2.page.getByTestId('bid-amount-error').waitFor()
  assert.ok(await b2.page.getByTestId('bid-submit').isDisabled())
  await shot(b2.page, 'b2-client-check')

  // Bidder 2 outbids; bidder 1's screen follows.
  await bid(b2, '101000')
  await priceIs(b1, 101000)
  await b1.page.waitForFunction((c) => document.querySelector('[data-testid="leader"]')?.textContent === c, code2)
  await b1.page.getByTestId('extension-notice').waitFor()
  await shot(b1.page, 'b1-outbid')

  // A race: bidder 1 confirms 102,000 only after bidder 2 placed it; the server (receipt time
  // decides) rejects the late one and the screen shows its rule and reason.
  await b1.page.getByTestId('bid-min').click()
  await b1.page.getByTestId('bid-submit').click()
  await b1.page.getByTestId('bid-confirm-ok').waitFor()
  await bid(b2, '102000')
  await priceIs(b2, 102000)
  await b1.page.getByTestId('bid-confirm-ok').click()
  const rej = b1.page.getByTestId('bid-rejection')
  await rej.waitFor()
  assert.match(await rej.innerText(), /MP-6/)
  await priceIs(b1, 102000)
  await shot(b1.page, 'b1-server-rejection')

  // And bidder 1 wins the lead back with the lowest valid bid.
  await rej.locator('.el-alert__close-btn').click().catch(() => {})
  await bid(b1, '')
  await priceIs(b2, 103000)
  await b2.page.waitForFunction((c) => document.querySelector('[data-testid="leader"]')?.textContent === c, code1)

  // Both screens agree: four accepted bids, the chart drawn, history by bidder codes only.
  for (const b of [b1, b2]) {
    await b.page.waitForFunction(() => document.querySelector('[data-testid="bid-count"]')?.textContent?.trim() === '4')
    await b.page.getByTestId('bid-chart').waitFor()
    const hist = await b.page.getByTestId('bid-history').innerText()
    assert.match(hist, new RegExp(code1))
    assert.match(hist, new RegExp(code2))
    assert.doesNotMatch(hist, /示范资产管理/, 'names stay hidden while bidding runs')
  }
  // The stored history agrees with what the screens showed.
  const st = await api(admin.page, 'GET', `/market/auctions/${id}`)
  assert.equal(st.status, 200)
  assert.deepEqual(st.body.view.bids.map((x) => yuanOf(x.amount)), [100000, 101000, 102000, 103000])
  assert.ok(Date.parse(st.body.view.end) > now + 170e3, 'the end moved later')
  await shot(b1.page, 'b1-room')
  await shot(b2.page, 'b2-room')

  // The phone width: the room stays usable (bid form above the history).
  await b2.page.setViewportSize({ width: 390, height: 844 })
  await b2.page.getByTestId('bid-submit').scrollIntoViewIfNeeded()
  await shot(b2.page, 'b2-room-390', { fullPage: false })

  // My bids and deposits: the frozen deposit and the bids.
  await b1.page.goto(BASE + '/bids')
  await b1.page.getByTestId('my-bids').getByText(`#${id}`).first().waitFor()
  assert.ok(yuanOf(await b1.page.getByTestId('deposit-account').innerText().then((t) => t.split('\n').find((l) => /万元|元/.test(l) && l !== '') || '0')) > 0)
  await shot(b1.page, 'b1-my-bids')

  // The demo's finished auction: the result with names revealed and the history hash.
  const list = await api(b1.page, 'GET', '/market/auctions')
  const done = list.body.find((a) => a.title.startsWith('示范拍卖：抵债工程车辆') && a.outcome?.status === 'sold')
  assert.ok(done, 'the demo has a finished auction')
  await b1.page.goto(BASE + `/market/${done.id}`)
  await b1.page.getByTestId('result-hash').waitFor()
  assert.match(await b1.page.getByTestId('result-winner').innerText(), /示范资产管理/)
  assert.match(await b1.page.getByTestId('bid-history').innerText(), /示范资产管理/)
  await shot(b1.page, 'result')

  for (const b of [admin, b1, b2]) noProblems(b.problems)
  for (const b of [admin, b1, b2]) await b.ctx.close()
})

test('admin: the listing wizard offers every format of the pack and lists a Dutch auction with its price schedule', { skip }, async () => {
  const { ctx, page, problems } = await open('en')
  await login(page, cfg.adminUser, cfg.adminPass)
  await page.goto(BASE + '/market/new')
  await page.getByTestId('wiz-kind').getByText('Movable asset', { exact: true }).click()
  await page.getByTestId('wiz-title').fill('E2E wizard: Dutch sale of a forklift fleet')
  await page.getByTestId('wiz-appraisal').fill('600000')
  await page.getByTestId('wiz-next').click()
  // The marketplace pack offers the engine's four formats.
  const formats = page.getByTestId('wiz-format')
  for (const f of ['English (ascending)', 'Sealed bid', 'Dutch', 'Multi-round']) await formats.getByText(f, { exact: true }).waitFor()
  await formats.getByText('Multi-round', { exact: true }).click()
  await page.getByTestId('wiz-next').click()
  await page.getByTestId('wiz-round-0').waitFor() // a multi-round auction gets its sealed rounds
  await page.getByText('Back', { exact: true }).click()
  await formats.getByText('Dutch', { exact: true }).click()
  await page.getByText('Descending: the price falls').waitFor()
  await page.getByTestId('wiz-next').click()
  await page.getByText('Fit the dates to the pack').click()
  await page.getByTestId('wiz-next').click()
  assert.equal(await page.getByTestId('wiz-increment').count(), 0, 'a Dutch auction has no increment')
  await page.getByTestId('wiz-start').fill('500000')
  // No step yet: the engine's check says so before anything is stored.
  await page.getByTestId('wiz-violations').getByText('positive step').waitFor()
  await page.getByTestId('wiz-dutch-step').fill('10000')
  await page.getByTestId('wiz-dutch-floor').fill('600000') // above the start: refused
  await page.getByTestId('wiz-violations').getByText('floor').waitFor()
  await page.getByTestId('wiz-dutch-floor').fill('400000')
  await page.getByText('Suggest from the pack').click()
  await page.getByTestId('wiz-valid').waitFor()
  await shot(page, 'wizard-dutch')
  await page.getByTestId('wiz-next').click()
  assert.match(await page.getByTestId('wiz-review-dutch').innerText(), /10,000.*10 min.*400,000/)
  await page.getByTestId('wiz-submit').click()
  await page.waitForURL(/\/market\/\d+$/)
  await page.getByTestId('auction-title').getByText('Dutch sale of a forklift fleet').waitFor()
  const id = Number(page.url().match(/\/market\/(\d+)$/)[1])
  const got = await api(page, 'GET', `/market/auctions/${id}`)
  assert.equal(got.status, 200)
  assert.equal(got.body.auction.format, 'dutch')
  await shot(page, 'wizard-dutch-listed')
  noProblems(problems)
  await ctx.close()

  // The wizard at phone width, Chinese: the Dutch fields fit.
  const phone = await open('zh-CN', 390, 844)
  await login(phone.page, cfg.adminUser, cfg.adminPass)
  await phone.page.goto(BASE + '/market/new')
  await phone.page.getByTestId('wiz-kind').getByText('动产', { exact: true }).click()
  await phone.page.getByTestId('wiz-title').fill('手机宽度')
  await phone.page.getByTestId('wiz-next').click()
  await phone.page.getByTestId('wiz-format').getByText('降价拍卖', { exact: true }).click()
  await phone.page.getByTestId('wiz-next').click()
  await phone.page.getByTestId('wiz-next').click()
  await phone.page.getByTestId('wiz-dutch-step').waitFor()
  await shot(phone.page, 'wizard-dutch-phone')
  noProblems(phone.problems)
  await phone.ctx.close()
})
