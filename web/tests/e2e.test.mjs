// Browser tests of the Reclaim console: Debian's Chromium driven by playwright-core under
// `node --test` (never downloads a browser).
//
// Environment:
//   RECLAIM_URL          base URL of a running `reclaim serve` (e.g. http://127.0.0.1:18080).
//                        Unset: the tests start tests/mock-server.mjs on a free port (needs `npm run build`).
//   RECLAIM_ADMIN_USER   an admin account            (mock default: admin)
//   RECLAIM_ADMIN_PASS   its password                (mock default: admin-pass-123)
//   RECLAIM_BIDDER_USER  a bidder or collector account, without user.manage and tape.import (mock: bidder)
//   RECLAIM_BIDDER_PASS  its password                (mock default: bidder-pass-123)
//   RECLAIM_BAD_TAPE     path to a loan tape with invalid rows (mock: a generated bad-tape.csv)
//   RECLAIM_GOOD_TAPE    optional: a valid tape, uploaded first when the server has no portfolio yet
//   CHROMIUM             Chromium binary (default /usr/bin/chromium)
//   RECLAIM_ARTIFACTS    screenshot folder (default web/test-artifacts)
//
// The server must have at least one portfolio (or RECLAIM_GOOD_TAPE set) for the chart test.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = path.dirname(fileURLToPath(import.meta.url))
const ART = process.env.RECLAIM_ARTIFACTS || path.resolve(here, '..', 'test-artifacts')
fs.mkdirSync(ART, { recursive: true })

let BASE = process.env.RECLAIM_URL?.replace(/\/$/, '')
let mock = null
const cfg = {
  adminUser: process.env.RECLAIM_ADMIN_USER,
  adminPass: process.env.RECLAIM_ADMIN_PASS,
  bidderUser: process.env.RECLAIM_BIDDER_USER,
  bidderPass: process.env.RECLAIM_BIDDER_PASS,
  badTape: process.env.RECLAIM_BAD_TAPE,
  goodTape: process.env.RECLAIM_GOOD_TAPE,
}
let browser

before(async () => {
  if (!BASE) {
    const { startMock } = await import('./mock-server.mjs')
    mock = await startMock({ port: 0 })
    BASE = mock.url
    cfg.adminUser ??= 'admin'
    cfg.adminPass ??= 'admin-pass-123'
    cfg.bidderUser ??= 'bidder'
    cfg.bidderPass ??= 'bidder-pass-123'
    if (!cfg.badTape) {
      cfg.badTape = path.join(os.tmpdir(), `bad-tape-${process.pid}.csv`)
      const rows = ['资产包编号,基准日,借据号,客户号,本金余额,利息余额,费用余额,本息费合计']
      for (let i = 1; i <= 150; i++) rows.push(`P1,2026-03-31,L${i},B${i},1000.00,10.00,0.00,${i % 4 ? '1010.00' : 'BAD'}`)
      fs.writeFileSync(cfg.badTape, rows.join('\n') + '\n')
    }
  }
  for (const k of ['adminUser', 'adminPass', 'bidderUser', 'bidderPass', 'badTape']) {
    assert.ok(cfg[k], `set the environment variable for ${k} (see the top of tests/e2e.test.mjs)`)
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})

after(async () => {
  await browser?.close()
  await mock?.close()
})

/** A fresh browser context (own cookies and storage) with console and CSP error collection. */
async function open(locale = 'zh-CN') {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true, locale })
  await ctx.addInitScript((l) => {
    if (!localStorage.getItem('reclaim.locale')) localStorage.setItem('reclaim.locale', l)
  }, locale)
  const page = await ctx.newPage()
  page.setDefaultTimeout(15000)
  const problems = []
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    const text = m.text()
    // Expected refusals (signed out, wrong password, a permission denial) are logged by Chromium.
    if (/Failed to load resource.*\b(401|403|409|429)\b/.test(text)) return
    problems.push('console: ' + text)
  })
  return { ctx, page, problems }
}

let shotN = 0
async function shot(page, name) {
  shotN++
  await page.waitForTimeout(300)
  await page.screenshot({ path: path.join(ART, `${String(shotN).padStart(2, '0')}-${name}.png`), fullPage: true })
}

async function login(page, user, pass) {
  await page.goto(BASE + '/login')
  await page.getByTestId('login-username').fill(user)
  await page.getByTestId('login-password').fill(pass)
  await page.getByTestId('login-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
}

function noProblems(problems) {
  assert.deepEqual(problems.filter((p) => !/ResizeObserver loop/.test(p)), [], 'console errors or CSP violations')
}

test('sign in: a wrong password shows an error, the right one lands on portfolios', async () => {
  const { ctx, page, problems } = await open()
  await page.goto(BASE + '/portfolios')
  await page.waitForURL(/\/login/)
  await page.getByTestId('login-form').waitFor()
  await shot(page, 'login')
  await page.getByTestId('login-username').fill(cfg.adminUser)
  await page.getByTestId('login-password').fill(cfg.adminPass + '-wrong')
  await page.getByTestId('login-submit').click()
  const err = page.getByTestId('login-error')
  await err.waitFor()
  assert.match(await err.innerText(), /用户名或密码不正确|尝试次数过多/)
  await shot(page, 'login-wrong-password')
  await page.getByTestId('login-password').fill(cfg.adminPass)
  await page.getByTestId('login-submit').click()
  await page.waitForURL(/\/portfolios$/)
  await page.locator('[data-testid=portfolio-table], [data-testid=portfolio-empty]').first().waitFor()
  assert.equal(await page.getByTestId('role-badge').innerText(), '管理员')
  await shot(page, 'portfolios')
  noProblems(problems)
  await ctx.close()
})

async function firstPortfolio(page) {
  await page.goto(BASE + '/portfolios')
  await page.locator('[data-testid=portfolio-table], [data-testid=portfolio-empty]').first().waitFor()
  if (await page.getByTestId('portfolio-empty').count()) {
    assert.ok(cfg.goodTape, 'the server has no portfolio: import one, or set RECLAIM_GOOD_TAPE')
    await uploadTape(page, cfg.goodTape, 'e2e seller')
    await page.getByTestId('portfolio-link').click()
  } else {
    await page.getByTestId('portfolio-row').first().locator('a').click()
  }
  await page.waitForURL(/\/portfolios\/\d+/)
}

async function canvasInk(page, testid) {
  const chart = page.getByTestId(testid)
  await chart.locator('canvas').first().waitFor()
  await page.waitForTimeout(900) // ECharts animates in
  return chart.locator('canvas').first().evaluate((c) => {
    const g = c.getContext('2d')
    const d = g.getImageData(0, 0, c.width, c.height).data
    let ink = 0
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++
    return { ink, w: c.width, h: c.height }
  })
}

test('a portfolio shows its KPIs and charts, stratification, report and loans', async () => {
  const { ctx, page, problems } = await open()
  await login(page, cfg.adminUser, cfg.adminPass)
  await firstPortfolio(page)
  await page.getByTestId('kpi-claim').waitFor()
  for (const id of ['chart-dpd', 'chart-province', 'chart-product', 'chart-legal', 'chart-five-category', 'chart-written-off']) {
    const r = await canvasInk(page, id)
    assert.ok(r.w > 100 && r.h > 100, `${id}: canvas ${r.w}x${r.h}`)
    assert.ok(r.ink > 500, `${id}: the canvas is empty`)
  }
  await shot(page, 'portfolio-overview')
  await page.getByTestId('chart-dpd-toggle').getByText('笔数').click()
  assert.ok((await canvasInk(page, 'chart-dpd')).ink > 500)

  await page.getByRole('tab', { name: '分层统计' }).click()
  await page.getByTestId('strata-by_dpd_bucket').waitFor()
  await shot(page, 'portfolio-strata')
  await page.getByRole('tab', { name: '导入报告' }).click()
  await page.getByTestId('import-report').waitFor()
  await shot(page, 'portfolio-report')
  await page.getByRole('tab', { name: '贷款明细' }).click()
  await page.getByTestId('loans-table').locator('.el-table__row').first().waitFor()
  const body = await page.getByTestId('loans-table').innerText()
  assert.doesNotMatch(body, /\b\d{17}[\dX]\b/, 'a national ID is shown unmasked')
  assert.doesNotMatch(body, /\b1\d{10}\b/, 'a phone number is shown unmasked')
  await shot(page, 'portfolio-loans')
  noProblems(problems)
  await ctx.close()
})

test('the language switch changes the labels and is remembered', async () => {
  const { ctx, page, problems } = await open()
  await login(page, cfg.adminUser, cfg.adminPass)
  const h1 = page.locator('.page-head h1')
  await page.getByTestId('portfolio-summary').waitFor()
  assert.equal(await h1.innerText(), '资产包')
  await page.getByTestId('lang-en').click()
  await page.waitForFunction(() => document.querySelector('.page-head h1')?.textContent?.trim() === 'Portfolios')
  assert.match(await page.getByTestId('side-menu').innerText(), /Upload tape/)
  assert.equal(await page.getByTestId('logout').innerText(), 'Sign out')
  await shot(page, 'portfolios-en')
  await page.reload()
  await page.waitForFunction(() => document.querySelector('.page-head h1')?.textContent?.trim() === 'Portfolios')
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en')
  await firstPortfolio(page)
  await page.getByTestId('chart-province').locator('canvas').waitFor()
  await page.getByRole('tab', { name: 'Stratification' }).waitFor()
  await shot(page, 'portfolio-en')
  await page.getByTestId('lang-zh-CN').click()
  await page.getByRole('tab', { name: '分层统计' }).waitFor()
  assert.match(await page.getByTestId('side-menu').innerText(), /资产包/)
  noProblems(problems)
  await ctx.close()
})

async function uploadTape(page, file, seller, skipInvalid = false) {
  await page.goto(BASE + '/upload')
  await page.getByTestId('upload-form').waitFor()
  await page.getByTestId('upload-input').setInputFiles(file)
  await page.getByTestId('upload-seller').fill(seller)
  const sw = page.getByTestId('upload-skip-invalid')
  const on = (await sw.getAttribute('class'))?.includes('is-checked')
  if (on !== skipInvalid) await sw.click()
  await page.getByTestId('upload-submit').click()
  await page.getByTestId('upload-progress').waitFor()
  await page.locator('[data-testid=import-report], [data-testid=upload-error]').first().waitFor({ timeout: 120000 })
}

test('uploading a tape with errors (all-or-nothing) shows the report, the rules, the rows and the rejects link', async () => {
  const { ctx, page, problems } = await open()
  await login(page, cfg.adminUser, cfg.adminPass)
  await page.goto(BASE + '/upload')
  await page.getByTestId('upload-form').waitFor()
  await shot(page, 'upload')
  await uploadTape(page, cfg.badTape, 'e2e 测试卖方', false)
  if (await page.getByTestId('upload-error').count()) {
    assert.fail('the upload failed: ' + (await page.getByTestId('upload-error').innerText()))
  }
  assert.equal(await page.getByTestId('upload-progress').getAttribute('data-phase'), 'done')
  assert.equal(await page.getByTestId('report-status').getAttribute('data-status'), 'rejected')
  const counts = await page.getByTestId('report-counts').innerText()
  assert.match(counts, /总行数/)
  const ruleRows = await page.getByTestId('rules-table').locator('.el-table__row').count()
  assert.ok(ruleRows > 0, 'no rules listed')
  await page.getByTestId('rules-chart').locator('canvas').waitFor()
  const errRows = await page.getByTestId('report-table').locator('.el-table__row').count()
  assert.ok(errRows > 0, 'no row errors listed')
  const href = await page.getByTestId('rejects-link').getAttribute('href')
  assert.match(href, /\/api\/v1\/uploads\/[^/]+\/rejects\.csv$/)
  const rej = await page.evaluate(async (h) => {
    const r = await fetch(h)
    return { status: r.status, text: (await r.text()).split('\n')[0] }
  }, href)
  assert.equal(rej.status, 200)
  assert.match(rej.text, /_line/)
  await shot(page, 'upload-report')
  noProblems(problems)
  await ctx.close()
})

test('a bidder is refused the users page and the upload page', async () => {
  const { ctx, page, problems } = await open()
  await login(page, cfg.bidderUser, cfg.bidderPass)
  const menu = await page.getByTestId('side-menu').innerText()
  assert.doesNotMatch(menu, /用户管理|上传数据/)
  await page.goto(BASE + '/admin/users')
  await page.getByTestId('permission-denied').waitFor()
  assert.match(await page.getByTestId('permission-denied').innerText(), /没有访问权限/)
  await shot(page, 'denied-users')
  await page.goto(BASE + '/upload')
  await page.getByTestId('permission-denied').waitFor()
  await shot(page, 'denied-upload')
  noProblems(problems)
  await ctx.close()
})

test('admin pages: users and the audit log', async () => {
  const { ctx, page, problems } = await open('en')
  await login(page, cfg.adminUser, cfg.adminPass)
  await page.goto(BASE + '/admin/users')
  await page.getByTestId('users-table').waitFor()
  assert.ok((await page.getByTestId('users-table').locator('.el-table__row').count()) >= 1)
  await shot(page, 'users')
  await page.goto(BASE + '/audit')
  await page.locator('[data-testid=audit-table], [data-testid=audit-empty]').first().waitFor()
  await shot(page, 'audit')
  noProblems(problems)
  await ctx.close()
})
