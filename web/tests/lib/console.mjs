// Helpers shared by the browser tests (not a test file: node --test runs only *.test.mjs here).
import assert from 'node:assert/strict'

/**
 * signIn signs in through the console's form at base. The server slows down repeated failed
 * sign-ins per account and client address (successes never count), so a "too many attempts"
 * refusal only follows failures; it is waited out (up to about 90 s) and the sign-in tried again.
 */
export async function signIn(page, base, user, pass) {
  for (let attempt = 0; ; attempt++) {
    await page.goto(base + '/login')
    await page.getByTestId('login-username').fill(user)
    await page.getByTestId('login-password').fill(pass)
    await page.getByTestId('login-submit').click()
    const outcome = await Promise.race([
      page.waitForURL((u) => !u.pathname.startsWith('/login')).then(() => 'in', () => 'timeout'),
      page.getByTestId('login-error').waitFor().then(() => 'error', () => 'timeout'),
    ])
    if (outcome === 'in') return
    const msg = outcome === 'error' ? await page.getByTestId('login-error').innerText() : 'no answer'
    if (!/尝试次数过多|too many/i.test(msg) || attempt >= 8) assert.fail(`signing in as ${user} failed: ${msg}`)
    await page.waitForTimeout(10000)
  }
}

/**
 * noProblems asserts that the page logged no console error and no CSP violation (Chromium's
 * harmless "ResizeObserver loop" notice aside); allow drops further expected messages.
 */
export function noProblems(problems, allow = /$^/) {
  assert.deepEqual(problems.filter((p) => !/ResizeObserver loop/.test(p) && !allow.test(p)), [], 'console errors or CSP violations')
}

/** launchChromium starts Debian's Chromium headless with the flags this machine needs. */
export function launchChromium(chromium) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}

/**
 * openPage opens a new context and page in the given locale and size (a phone below 500 px),
 * collecting console errors, page errors and Element Plus deprecation warnings into problems.
 * Failed loads with a status in allowStatus are answers the test expects, not problems.
 */
export async function openPage(browser, locale, { width = 1440, height = 900, timeout = 15000, allowStatus = [400, 401, 403, 409, 429] } = {}) {
  const ctx = await browser.newContext({ viewport: { width, height }, locale, isMobile: width < 500, hasTouch: width < 500 })
  await ctx.addInitScript((l) => localStorage.setItem('reclaim.locale', l), locale)
  const page = await ctx.newPage()
  page.setDefaultTimeout(timeout)
  const problems = []
  const expected = new RegExp(`Failed to load resource.*\\b(${allowStatus.join('|')})\\b`)
  page.on('pageerror', (e) => problems.push('pageerror: ' + e.message))
  page.on('console', (m) => {
    if (m.type() === 'warning' && /\[ElementPlus\]|deprecat/i.test(m.text())) problems.push('warning: ' + m.text())
    if (m.type() !== 'error' || expected.test(m.text())) return
    problems.push('console: ' + m.text())
  })
  return { ctx, page, problems }
}

/** screenshotter returns shot(page, name, fullPage), writing dir/prefix-name.png after a pause. */
export function screenshotter(dir, prefix, pause = 300) {
  return async (page, name, fullPage = true) => {
    await page.waitForTimeout(pause)
    await page.screenshot({ path: `${dir}/${prefix}-${name}.png`, fullPage })
  }
}
