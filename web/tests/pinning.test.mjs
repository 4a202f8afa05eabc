// Browser tests of key and checkpoint pinning on the pool ledger page (src/ledger/pin.ts,
// src/components/CheckpointCard.vue), in Debian's Chromium driven by playwright-core, against
// the mock server made to misbehave on demand (POST /__mock/ledger/{pool}/{action} in
// tests/mock-ledger.mjs): a swapped log key, a rollback and a fork must turn the badge red with
// the evidence; an honest append must stay green, with the consistency proof checked.
//
// This file always starts its own mock (the misbehaviour has to be staged), also when the other
// browser tests run against a real server. Needs `npm run build`. Screenshots: web/test-artifacts/pin-*.png.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { startMock } from './mock-server.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const ART = process.env.RECLAIM_ARTIFACTS || path.resolve(here, '..', 'test-artifacts')
fs.mkdirSync(ART, { recursive: true })
const POOL = 'RCL-DEMO-1'

let mock
let browser

before(async () => {
  mock = await startMock({ port: 0, ledgerMs: 0 })
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
})

after(async () => {
  await browser?.close()
  await mock?.close()
})

/** control makes the mock misbehave (or behave) and returns its answer. */
async function control(action, query = '') {
  const res = await fetch(`${mock.url}/__mock/ledger/${POOL}/${action}${query}`, { method: 'POST' })
  assert.equal(res.status, 200, `mock ${action}`)
  const type = res.headers.get('content-type') || ''
  return type.includes('json') ? res.json() : res.text()
}

/** A browser (own cookies and localStorage, like one investor's browser), signed in as the investor. */
async function investor(locale) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale })
  await ctx.addInitScript((l) => {
    if (!localStorage.getItem('reclaim.locale')) localStorage.setItem('reclaim.locale', l)
  }, locale)
  const page = await ctx.newPage()
  page.setDefaultTimeout(15000)
  const problems = []
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message))
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource.*\b(401|403)\b/.test(m.text())) problems.push('console: ' + m.text())
  })
  await page.goto(mock.url + '/login')
  await page.getByTestId('login-username').fill('investor')
  await page.getByTestId('login-password').fill('investor-pass-123')
  await page.getByTestId('login-submit').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'))
  return { ctx, page, problems }
}

/** visit opens (or reopens: a new visit) the pool page and waits for the browser's verdict. */
async function visit(page) {
  await page.goto(`${mock.url}/pools/${POOL}`)
  const badge = page.getByTestId('verify-badge')
  await badge.waitFor()
  await page.waitForFunction(() => document.querySelector('[data-testid=verify-badge]')?.getAttribute('data-state') !== 'checking')
  return { state: await badge.getAttribute('data-state'), code: await badge.getAttribute('data-code'), text: await badge.innerText() }
}

const stepStatus = (page, step) => page.locator(`[data-testid=verify-badge] [data-step=${step}]`).getAttribute('data-status')

async function evidence(page) {
  const ev = page.getByTestId('trust-evidence')
  await ev.waitFor()
  const rows = {}
  for (const r of await ev.locator('tbody tr').all()) {
    rows[await r.getAttribute('data-row')] = [await r.getByTestId('evidence-old').innerText(), await r.getByTestId('evidence-new').innerText()]
  }
  return { kind: await ev.getAttribute('data-kind'), rows }
}

async function shot(page, name) {
  await page.waitForTimeout(300)
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.screenshot({ path: path.join(ART, `pin-${name}.png`) })
  await page.getByTestId('checkpoint-card').screenshot({ path: path.join(ART, `pin-${name}-card.png`) })
}

function noProblems(problems) {
  assert.deepEqual(problems.filter((p) => !/ResizeObserver loop/.test(p)), [], 'console errors or CSP violations')
}

const storedTrust = (page) => page.evaluate((pool) => JSON.parse(localStorage.getItem('reclaim.ledger.trust.v1.' + pool) || 'null'), POOL)

test('first visit pins the key; an honest append stays green with its consistency proof; a fork turns it red', async () => {
  await control('reset')
  const { ctx, page, problems } = await investor('zh-CN')
  let v = await visit(page)
  assert.equal(v.state, 'verified', v.text)
  assert.match(v.text, /首次访问：此公钥已固定在本浏览器中/)
  const first = await storedTrust(page)
  assert.equal(first.source, 'first-sight')
  const size0 = first.last.size
  assert.equal(await page.getByTestId('trust-bar').getAttribute('data-source'), 'first-sight')

  // The server appends honestly: on the next visit the browser asks for the proof and checks it.
  const proofs = []
  page.on('request', (r) => r.url().includes('/proof/consistency') && proofs.push(new URL(r.url()).search))
  const grown = await control('append', '?n=4')
  v = await visit(page)
  assert.equal(v.state, 'verified', v.text)
  assert.deepEqual(proofs, [`?old=${size0}&size=${grown.size}`])
  assert.equal(await stepStatus(page, 'history'), 'ok')
  assert.match(v.text, new RegExp(`一致性证明 ${size0} → ${grown.size}`))
  assert.equal((await storedTrust(page)).last.size, grown.size)
  await shot(page, 'honest-append')

  // A fork: entry 5 is rewritten under the same key and two entries are appended. The server's
  // own consistency proof cannot join the remembered root to the new one.
  const forked = await control('fork', '?n=2')
  v = await visit(page)
  assert.equal(v.state, 'failed', v.text)
  assert.equal(v.code, 'fork')
  assert.match(v.text, /分叉：日志不是此前验证的检查点的延续/)
  assert.equal(await stepStatus(page, 'sig'), 'ok', 'the signature itself is valid')
  assert.equal(await stepStatus(page, 'history'), 'fail')
  const ev = await evidence(page)
  assert.equal(ev.kind, 'fork')
  assert.deepEqual(ev.rows.size, [grown.size.toLocaleString('zh-CN'), forked.size.toLocaleString('zh-CN')])
  assert.equal(ev.rows.root[0], (await storedTrust(page)).last.root)
  assert.equal(ev.rows.root[1], forked.root)
  await page.getByTestId('evidence-proof').locator('summary').click()
  assert.ok((await page.getByTestId('evidence-proof').locator('li').count()) > 0)
  await shot(page, 'fork')
  // The evidence can be downloaded: both checkpoints and the proof.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('evidence-download').click()])
  const doc = JSON.parse(fs.readFileSync(await download.path(), 'utf8'))
  assert.equal(doc.code, 'fork')
  assert.equal(doc.remembered_checkpoint.size, grown.size)
  assert.match(doc.served_checkpoint.note, /— mock\.reclaim\.example\/pools\/RCL-DEMO-1 /)
  assert.ok(doc.consistency_proof.length > 0)
  // Nothing was remembered from the forked log; the verdict stays red on the next visit.
  assert.equal((await storedTrust(page)).last.size, grown.size)
  assert.equal((await visit(page)).code, 'fork')
  noProblems(problems)
  await ctx.close()
})

test('a swapped log key turns the badge red with both keys; pasting the policy file pins key, witnesses and quorum', async () => {
  await control('reset')
  const policy = await control('policy')
  const { ctx, page, problems } = await investor('en')
  let v = await visit(page)
  assert.equal(v.state, 'verified', v.text)
  const before = await storedTrust(page)

  // The server now signs with a new key of the same name, and serves that key.
  const swapped = await control('swap-key')
  v = await visit(page)
  assert.equal(v.state, 'failed', v.text)
  assert.equal(v.code, 'key_changed')
  assert.match(v.text, /The log key changed/)
  assert.equal(await stepStatus(page, 'pin'), 'fail')
  const ev = await evidence(page)
  assert.equal(ev.kind, 'key')
  assert.deepEqual(ev.rows.key, [before.vkey, swapped.vkey])
  assert.notEqual(ev.rows.keyHash[0], ev.rows.keyHash[1])
  assert.equal((await storedTrust(page)).vkey, before.vkey, 'the pinned key is kept')
  await shot(page, 'key-swapped')

  // The investor pastes the policy file they were given out of band (with the old key): still red.
  await page.getByTestId('pin-open').click()
  await page.getByTestId('pin-input').fill(policy)
  await page.getByTestId('pin-save').click()
  v = await visit(page)
  assert.equal(v.code, 'key_changed')
  // A malformed paste is refused with the reason and changes nothing.
  await page.getByTestId('pin-open').click()
  await page.getByTestId('pin-input').fill('log not-a-key')
  await page.getByTestId('pin-save').click()
  await page.getByTestId('pin-error').waitFor()
  assert.match(await page.getByTestId('pin-error').innerText(), /policy line 1/)
  await page.screenshot({ path: path.join(ART, 'pin-paste-error.png') })
  // The new key, announced to investors with a new policy file: green again, and the witness
  // keys and the quorum now come from the policy, not from the server.
  await page.getByTestId('pin-input').fill(await control('policy'))
  await page.getByTestId('pin-save').click()
  await page.waitForFunction(() => document.querySelector('[data-testid=verify-badge]')?.getAttribute('data-state') === 'verified')
  const after = await storedTrust(page)
  assert.equal(after.source, 'pasted')
  assert.equal(after.vkey, swapped.vkey)
  assert.equal(after.quorum, 2)
  assert.equal(after.witnesses.length, 3)
  // The remembered checkpoint survived the paste: the new one was accepted only with a proof from it.
  assert.equal(after.last.size, swapped.size)
  assert.match(await page.getByTestId('verify-badge').innerText(), new RegExp(`consistency proof ${before.last.size} → ${swapped.size}`))
  assert.equal(await page.getByTestId('cp-witnesses').getAttribute('data-source'), 'policy')
  const statuses = await page.getByTestId('witness-tag').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))
  assert.deepEqual(statuses.filter((s) => s === 'verified').length, 2)
  assert.match(await page.getByTestId('trust-bar').innerText(), /from your policy file/)
  await shot(page, 'policy-pinned')
  noProblems(problems)
  await ctx.close()
})

test('a rollback turns the badge red with the old and new size; forgetting the pins is explicit', async () => {
  await control('reset')
  const { ctx, page, problems } = await investor('en')
  let v = await visit(page)
  assert.equal(v.state, 'verified', v.text)
  const before = await storedTrust(page)

  const rolled = await control('rollback', '?n=7')
  assert.ok(rolled.size < before.last.size)
  v = await visit(page)
  assert.equal(v.state, 'failed', v.text)
  assert.equal(v.code, 'rollback')
  assert.match(v.text, /Rollback: the log is smaller than the checkpoint verified before/)
  assert.equal(await stepStatus(page, 'sig'), 'ok', 'the rolled-back checkpoint is validly signed')
  const ev = await evidence(page)
  assert.equal(ev.kind, 'rollback')
  assert.deepEqual(ev.rows.size, [before.last.size.toLocaleString('en'), rolled.size.toLocaleString('en')])
  assert.deepEqual(ev.rows.root, [before.last.root, rolled.root])
  await shot(page, 'rollback')

  // Honest growth past the old size does not hide the rollback: the new log lacks the old entries.
  const regrown = await control('append', '?n=12')
  assert.ok(regrown.size > before.last.size)
  v = await visit(page)
  assert.equal(v.code, 'fork')

  // Forgetting is a deliberate act with a warning; afterwards the browser pins afresh.
  await page.getByTestId('forget-open').click()
  await page.getByTestId('forget-dialog').waitFor()
  assert.match(await page.getByTestId('forget-dialog').innerText(), /no longer detect a rollback/)
  await page.screenshot({ path: path.join(ART, 'pin-forget-dialog.png') })
  await page.getByTestId('forget-confirm').click()
  await page.waitForFunction(() => document.querySelector('[data-testid=verify-badge]')?.getAttribute('data-state') === 'verified')
  assert.equal((await storedTrust(page)).last.size, regrown.size)
  noProblems(problems)
  await ctx.close()
})
