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
