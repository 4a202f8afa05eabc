// A small stand-in for `reclaim serve`, for developing and screenshotting the console without the
// Go server. It serves web/dist under the production Content-Security-Policy and answers the JSON
// API of docs/api.md with fixed, deterministic data (in memory; nothing is stored).
//
//   node tests/mock-server.mjs            # http://127.0.0.1:18080  (PORT=... to change)
//
// Accounts (username / password): admin / admin-pass-123, analyst / analyst-pass-123,
// bidder / bidder-pass-123, collector / collector-pass-123, auditor / auditor-pass-123,
// investor / investor-pass-123, trustee / trustee-pass-123.
// Pool ledgers (tests/mock-ledger.mjs): RCL-DEMO-1 with signed and cosigned checkpoints and a
// live feed (LEDGER_MS, default 6000 ms; 0 stops it), and RCL-2026-02 without a checkpoint.
// Valuation (tests/mock-valuation.mjs): the model registry, every portfolio's valuation and its
// back-test (post-cut-off collections for the first two seeded portfolios, none for the third).
// An uploaded file whose name contains "bad" (or whose content contains "BAD") is rejected with
// row errors; any other file is imported as a new portfolio; the same bytes twice are a duplicate.
// Report summaries, rule descriptions and row problems carry catalog codes and args beside their
// English message, as the Go server sends them (src/api/messages.json is the catalog).
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { createLedger } from './mock-ledger.mjs'
import { createValuation } from './mock-valuation.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const CATALOG = JSON.parse(fs.readFileSync(path.join(here, '..', 'src', 'api', 'messages.json'), 'utf8'))
/** english renders a catalog code in English, as the server's `message` fields are. */
function english(code, args = {}) {
  const t = CATALOG[code]
  if (!t) throw new Error('mock: unknown message code ' + code)
  return t.en.replace(/\{([a-z0-9_]+)\}/g, (w, k) => (k in args ? String(args[k]) : w))
}
/** coded returns {message, message_code, message_args} for a report. */
function coded(code, args) {
  return { message: english(code, args), message_code: code, message_args: args }
}
const DIST = path.resolve(here, '..', 'dist')

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
  "connect-src 'self'; font-src 'self' data:; object-src 'none'; frame-ancestors 'none'"

const ALL = ['portfolio.read', 'tape.import', 'tape.export_masked', 'user.manage', 'audit.read', 'ledger.read', 'valuation.read', 'model.manage', 'collection.post']
const PERMS = {
  admin: ALL,
  analyst: ['portfolio.read', 'tape.import', 'tape.export_masked', 'ledger.read', 'valuation.read', 'model.manage'],
  collector: ['portfolio.read', 'case.personal', 'collection.post'],
  bidder: ['portfolio.read'],
  investor: ['ledger.read'],
  trustee: ['ledger.read'],
  auditor: ['portfolio.read', 'audit.read', 'ledger.read', 'valuation.read'],
}

// ---- deterministic data
function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}
const PROVINCES = [
  ['440000', 'Guangdong', '广东省'], ['320000', 'Jiangsu', '江苏省'], ['330000', 'Zhejiang', '浙江省'],
  ['370000', 'Shandong', '山东省'], ['410000', 'Henan', '河南省'], ['510000', 'Sichuan', '四川省'],
  ['420000', 'Hubei', '湖北省'], ['430000', 'Hunan', '湖南省'], ['350000', 'Fujian', '福建省'],
  ['130000', 'Hebei', '河北省'], ['340000', 'Anhui', '安徽省'], ['110000', 'Beijing', '北京市'],
  ['310000', 'Shanghai', '上海市'], ['610000', 'Shaanxi', '陕西省'], ['360000', 'Jiangxi', '江西省'],
  ['450000', 'Guangxi', '广西壮族自治区'], ['500000', 'Chongqing', '重庆市'], ['210000', 'Liaoning', '辽宁省'],
  ['530000', 'Yunnan', '云南省'], ['220000', 'Jilin', '吉林省'],
]
const ENUMS = {
  product_type: [['credit_card', 'Credit card', '信用卡', 0.55], ['consumer_loan', 'Consumer loan', '消费贷款', 0.3], ['business_loan', 'Business loan', '个人经营贷款', 0.1], ['auto_loan', 'Auto loan', '汽车贷款', 0.05]],
  five_category: [['substandard', 'Substandard', '次级', 0.2], ['doubtful', 'Doubtful', '可疑', 0.35], ['loss', 'Loss', '损失', 0.45]],
  legal_status: [['not_sued', 'Not sued', '未诉讼', 0.55], ['in_litigation', 'In litigation', '诉讼中', 0.15], ['judgment', 'Judgment', '已判决', 0.12], ['enforcement', 'Enforcement', '执行中', 0.1], ['enforcement_terminated', 'Enforcement terminated', '终结本次执行', 0.08]],
  security_type: [['unsecured', 'Unsecured', '信用', 0.9], ['guaranteed', 'Guaranteed', '保证', 0.1]],
}
const DPD = [['lt180', '< 180 days', '180天以内', 0, 180], ['180_360', '180-360 days', '180-360天', 180, 365], ['1_2y', '1-2 years', '1-2年', 365, 730], ['2_3y', '2-3 years', '2-3年', 730, 1095], ['3_5y', '3-5 years', '3-5年', 1095, 1826], ['gt5y', '> 5 years', '5年以上', 1826, 1e9]]

function pickW(r, list) {
  let x = r()
  for (const it of list) {
    x -= it[3]
    if (x <= 0) return it
  }
  return list[list.length - 1]
}
const money = (minor) => (minor / 100).toFixed(2)

function makeLoans(seed, n, ref, cutOff) {
  const r = rng(seed)
  const loans = []
  for (let i = 0; i < n; i++) {
    const prov = PROVINCES[Math.min(PROVINCES.length - 1, Math.floor(-Math.log(1 - r() * 0.999) * 5))]
    const principal = Math.round((2000 + r() ** 2 * 180000) * 100)
    const interest = Math.round(principal * (0.05 + r() * 0.5))
    const fees = Math.round(principal * r() * 0.03)
    const dpd = Math.floor(90 + r() ** 1.5 * 2600)
    loans.push({
      loan_id: `${ref}-L${String(i + 1).padStart(6, '0')}`,
      borrower_ref: 'b_' + crypto.createHash('sha256').update(ref + (i % Math.floor(n * 0.92))).digest('hex').slice(0, 12),
      name: ['张', '王', '李', '赵', '刘', '陈'][i % 6] + '**',
      national_id: `${prov[0].slice(0, 4)}**************`, // cnid.Mask: province and prefecture only
      phone: `1${38 + (i % 9)}****${String(1000 + ((i * 53) % 9000))}`,
      product_type: pickW(r, ENUMS.product_type)[0],
      region_code: prov[0].slice(0, 2) + '0100',
      principal_outstanding: money(principal),
      interest_outstanding: money(interest),
      fees_outstanding: money(fees),
      total_claim: money(principal + interest + fees),
      days_past_due: dpd,
      default_date: new Date(Date.parse(cutOff) - dpd * 864e5).toISOString().slice(0, 10),
      five_category: pickW(r, ENUMS.five_category)[0],
      written_off: r() < 0.4,
      legal_status: pickW(r, ENUMS.legal_status)[0],
      security_type: pickW(r, ENUMS.security_type)[0],
      age: 24 + Math.floor(r() * 38),
      _prov: prov,
      _p: principal, _i: interest, _f: fees,
      _line: Math.round(principal * (1.1 + r())),
    })
  }
  return loans
}

function header(p, loans) {
  const sum = (f) => loans.reduce((a, l) => a + f(l), 0)
  const P = sum((l) => l._p), I = sum((l) => l._i), F = sum((l) => l._f), C = P + I + F
  const W = sum((l) => l._p + l._i)
  const by = new Map()
  for (const l of loans) by.set(l.borrower_ref, (by.get(l.borrower_ref) || 0) + l._p + l._i + l._f)
  const strata = (keyOf, labels, order) => {
    const m = new Map()
    for (const l of loans) {
      const k = keyOf(l)
      const s = m.get(k) || { key: k, loans: 0, p: 0, c: 0 }
      s.loans++
      s.p += l._p
      s.c += l._p + l._i + l._f
      m.set(k, s)
    }
    let out = [...m.values()].map((s) => {
      const [en, zh] = labels(s.key)
      return { key: s.key, label: en, label_zh: zh, loans: s.loans, principal: money(s.p), claim: money(s.c), claim_share: +(s.c / C).toFixed(4), loan_share: +(s.loans / loans.length).toFixed(4) }
    })
    out.sort((a, b) => (order ? order.indexOf(a.key) - order.indexOf(b.key) : Number(b.claim) - Number(a.claim)))
    return out
  }
  const enumLabels = (name) => (k) => {
    const e = ENUMS[name].find((x) => x[0] === k)
    return e ? [e[1], e[2]] : [k, k]
  }
  const order = (name) => ENUMS[name].map((x) => x[0])
  return {
    portfolio_ref: p.ref, cut_off_date: p.cut_off_date, currency: p.currency,
    loans: loans.length, borrowers: by.size,
    principal: money(P), interest: money(I), fees: money(F), claim: money(C),
    wa_days_past_due: +(sum((l) => (l._p + l._i) * l.days_past_due) / W).toFixed(2),
    wa_borrower_age: +(sum((l) => (l._p + l._i) * l.age) / W).toFixed(2),
    age_coverage: 1,
    wa_credit_line: money(Math.round(sum((l) => (l._p + l._i) * l._line) / W)),
    credit_line_coverage: 0.87,
    largest_borrower_claim: money(Math.max(...by.values())),
    average_borrower_claim: money(Math.round(C / by.size)),
    average_loan_claim: money(Math.round(C / loans.length)),
    by_five_category: strata((l) => l.five_category, enumLabels('five_category'), order('five_category')),
    by_written_off: strata((l) => (l.written_off ? 'yes' : 'no'), (k) => (k === 'yes' ? ['Written off', '已核销'] : ['Not written off', '未核销']), ['no', 'yes']),
    by_security_type: strata((l) => l.security_type, enumLabels('security_type'), order('security_type')),
    by_legal_status: strata((l) => l.legal_status, enumLabels('legal_status'), order('legal_status')),
    by_product: strata((l) => l.product_type, enumLabels('product_type'), order('product_type')),
    by_province: strata((l) => l._prov[0], (k) => { const p = PROVINCES.find((x) => x[0] === k); return [p[1], p[2]] }),
    by_dpd_bucket: strata((l) => DPD.find((b) => l.days_past_due >= b[3] && l.days_past_due < b[4])[0], (k) => { const b = DPD.find((x) => x[0] === k); return [b[1], b[2]] }, DPD.map((b) => b[0])),
  }
}

const COLUMNS = [
  ['portfolio_id', '资产包编号'], ['cut_off_date', '基准日'], ['loan_id', '借据号'], ['borrower_id', '客户号'],
  ['product_type', '产品类型'], ['principal_outstanding', '本金余额'], ['interest_outstanding', '利息余额'],
  ['fees_outstanding', '费用余额'], ['total_claim', '本息费合计'], ['default_date', '逾期起始日'], ['days_past_due', '逾期天数'],
  ['five_category', '五级分类'], ['legal_status', '诉讼状态'], ['region_code', '行政区划代码'], ['national_id', '身份证号'], ['phone', '手机号'],
].map(([field, column]) => ({ field, column }))

function importedReport(p, h, file) {
  return {
    file, format: 'csv', encoding: 'gbk', content_hash: crypto.createHash('sha256').update(file).digest('hex'),
    status: 'imported', rows: h.loans, imported: h.loans, rejected: 0, valid: h.loans, invalid: 0,
    ...coded('report.imported', { imported: String(h.loans), rows: String(h.loans), rejected: '0' }),
    columns: COLUMNS, unmapped_columns: ['备注'], derived_fields: [], by_rule: [], errors: [], errors_shown: 0, errors_total: 0,
    header: h, portfolio_id: p.id, seconds: 1.84,
  }
}

// [rule, field, column, value(i), code, args(i)]
const RULES = [
  ['claim_sum', 'total_claim', '本息费合计', (i) => `${(12000 + i * 7.31).toFixed(2)}`, 'row.claim_sum', (i) => ({ total: (12000 + i * 7.31).toFixed(2), sum: (12010.5 + i * 7.31).toFixed(2) })],
  ['national_id', 'national_id', '身份证号', () => '1101**************', 'row.id_checksum', () => ({})],
  ['dpd_consistent', 'days_past_due', '逾期天数', (i) => String(400 + i), 'row.dpd', () => ({ want: '395' })],
  ['mobile', 'phone', '手机号', () => '238***5678', 'row.mobile_prefix', () => ({})],
  ['date_format', 'default_date', '逾期起始日', () => '2023-02-30', 'row.date_invalid', () => ({})],
  ['enum', 'five_category', '五级分类', () => '关注', 'row.enum_performing', () => ({})],
]

function rejectedReport(file, rows, skip) {
  const errors = []
  const byRule = []
  const counts = [17, 9, 6, 4, 2, 1]
  let line = 2
  RULES.forEach((r, k) => {
    byRule.push({ rule: r[0], description: english('rule.' + r[0]), code: 'rule.' + r[0], rows: counts[k] })
    for (let i = 0; i < counts[k]; i++) {
      line += 3 + ((i * 7) % 11)
      const args = r[5](i)
      errors.push({ line, column: r[2], field: r[1], value: r[3](i), rule: r[0], message: english(r[4], args), code: r[4], ...(Object.keys(args).length ? { args } : {}) })
    }
  })
  errors.sort((a, b) => a.line - b.line)
  const invalid = 36
  return {
    file, format: 'csv', encoding: 'utf-8', content_hash: '', status: skip ? 'imported' : 'rejected',
    ...(skip
      ? coded('report.imported', { imported: String(rows - invalid), rows: String(rows), rejected: String(invalid) })
      : coded('report.all_or_nothing', { invalid: String(invalid), rows: String(rows), valid: String(rows - invalid) })),
    rows, imported: skip ? rows - invalid : 0, rejected: skip ? invalid : rows, valid: rows - invalid, invalid,
    columns: COLUMNS, by_rule: byRule, errors, errors_shown: errors.length, errors_total: errors.length + 3,
    rejects_file: 'rejects.csv', seconds: 0.92,
  }
}

// ---- state
function initialState() {
  const st = { users: [], sessions: new Map(), portfolios: [], loans: new Map(), headers: new Map(), reports: new Map(), uploads: new Map(), hashes: new Map(), audit: [], failures: new Map(), nextUser: 1, nextPortfolio: 1, nextUpload: 1 }
  for (const [u, name, role] of [['admin', '系统管理员', 'admin'], ['analyst', '王分析', 'analyst'], ['bidder', 'Bidder Co.', 'bidder'], ['collector', '李催收', 'collector'], ['auditor', '赵审计', 'auditor'], ['investor', '华泰投资（投资人）', 'investor'], ['trustee', '中信信托（受托人）', 'trustee']]) {
    st.users.push({ id: st.nextUser++, username: u, display_name: name, role, disabled: false, created_at: '2026-01-05T08:00:00Z', password: `${u}-pass-123` })
  }
  const add = (name, ref, seller, cut, n, seed, at) => {
    const p = { id: st.nextPortfolio++, name, ref, seller_id: 1, seller_name: seller, cut_off_date: cut, currency: 'CNY', status: 'active', loan_count: n, total_claim: '0', source_file: ref + '.csv', content_hash: '', imported_at: at }
    const loans = makeLoans(seed, n, ref, cut)
    const h = header(p, loans)
    p.total_claim = h.claim
    st.portfolios.push(p)
    st.loans.set(p.id, loans)
    st.headers.set(p.id, h)
    st.reports.set(p.id, importedReport(p, h, p.source_file))
  }
  add('2026年第一期个人信用卡不良资产包', 'GDB-2026-01', '广发银行股份有限公司', '2026-03-31', 1800, 7, '2026-04-12T06:21:00Z')
  add('消费贷不良资产包（华东）', 'ZJXF-2025-Q4', '浙江某消费金融公司', '2025-12-31', 640, 11, '2026-02-03T02:10:00Z')
  add('个人经营贷资产包 A', 'PAB-BL-0925', '平安银行股份有限公司', '2025-09-30', 260, 23, '2025-11-20T09:45:00Z')
  st.tokens = [
    { id: 1, user_id: 2, name: 'nightly-import', created_at: '2026-02-01T02:00:00Z', revoked: false },
    { id: 2, user_id: 2, name: 'old-laptop', created_at: '2026-01-10T02:00:00Z', revoked: true, revoked_at: '2026-03-01T09:00:00Z', revoked_reason: 'password changed' },
  ]
  st.nextToken = 3
  st.accountEvents = [
    { id: 1, at: '2026-01-05T08:00:00Z', actor: 'cli:root', action: 'account.created', user_id: 1, username: 'admin', detail: '{"role":"admin","temporary_password":true}' },
    { id: 2, at: '2026-01-05T08:05:00Z', actor: 'user:admin', action: 'account.created', user_id: 4, username: 'collector', detail: '{"role":"collector","temporary_password":true}' },
    { id: 3, at: '2026-01-05T09:00:00Z', actor: 'user:collector', action: 'account.password_changed', user_id: 4, username: 'collector', detail: '{"temporary":false}' },
    { id: 4, at: '2026-03-01T09:00:00Z', actor: 'user:admin', action: 'account.token_revoked', user_id: 2, username: 'analyst', detail: '{"name":"old-laptop","reason":"password changed","token_id":2}' },
  ]
  st.audit = [
    { at: '2026-04-14T03:11:00Z', actor: 'collector', purpose: '电话催收前核实身份', portfolio_id: 1, borrower_ref: 'b_3f2a9c11d0e4', fields: ['name', 'phone'] },
    { at: '2026-04-14T05:40:00Z', actor: 'collector', purpose: '诉讼材料准备', portfolio_id: 1, borrower_ref: 'b_77ac20be91f3', fields: ['name', 'national_id', 'address'] },
    { at: '2026-04-15T01:02:00Z', actor: 'admin', purpose: 'data quality check', portfolio_id: 2, borrower_ref: 'b_0a9de3f61c22', fields: ['national_id'] },
  ]
  return st
}

// ---- HTTP helpers
function send(res, status, body, headers = {}) {
  const b = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers })
  res.end(b)
}
const fail = (res, status, code, message, fields) => send(res, status, { code, message, ...(fields ? { fields } : {}) })

async function readBody(req, limit = 64 << 20) {
  const chunks = []
  let n = 0
  for await (const c of req) {
    n += c.length
    if (n > limit) throw Object.assign(new Error('too large'), { status: 413 })
    chunks.push(c)
  }
  return Buffer.concat(chunks)
}

function parseMultipart(buf, ctype) {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(ctype || '')
  if (!m) return null
  const boundary = Buffer.from('--' + (m[1] || m[2]))
  const parts = {}
  let pos = buf.indexOf(boundary)
  while (pos >= 0) {
    const start = pos + boundary.length
    if (buf.slice(start, start + 2).toString() === '--') break
    const next = buf.indexOf(boundary, start)
    if (next < 0) break
    const part = buf.slice(start + 2, next - 2)
    const sep = part.indexOf('\r\n\r\n')
    const head = part.slice(0, sep).toString('utf8')
    const data = part.slice(sep + 4)
    const name = /name="([^"]*)"/.exec(head)?.[1]
    const filename = /filename="([^"]*)"/.exec(head)?.[1]
    if (name) parts[name] = filename !== undefined ? { filename, data } : data.toString('utf8')
    pos = next
  }
  return parts
}

const MIME = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json', '.ico': 'image/x-icon' }

function serveStatic(req, res, dist) {
  const u = new URL(req.url, 'http://x')
  let file = path.join(dist, decodeURIComponent(u.pathname))
  if (!file.startsWith(dist)) return fail(res, 400, 'invalid', 'bad path')
  if (!fs.existsSync(file) || fs.statSync(file).isDirectory()) {
    if (u.pathname.startsWith('/assets/')) return fail(res, 404, 'not_found', 'no such asset')
    file = path.join(dist, 'index.html')
  }
  if (!fs.existsSync(file)) {
    res.writeHead(503, { 'Content-Type': 'text/plain' })
    return res.end('web/dist is missing: run `npm run build` in web/')
  }
  const ext = path.extname(file)
  res.writeHead(200, {
    'Content-Type': MIME[ext] || 'application/octet-stream',
    'Content-Security-Policy': CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
  })
  fs.createReadStream(file).pipe(res)
}

// ---- the API
export function createMock({ dist = DIST, stepMs = 120, ledgerMs = Number(process.env.LEDGER_MS ?? 6000) } = {}) {
  const st = initialState()
  const subscribers = new Map() // topic -> Set(res)
  const ledgerEvents = new Map() // topic -> [events]
  const valuation = createValuation() // tests/mock-valuation.mjs
  const ledger = createLedger({
    liveMs: ledgerMs,
    onEvent: (pool, type, data) => {
      const topic = `ledger.${pool}`
      if (!ledgerEvents.has(topic)) ledgerEvents.set(topic, [])
      const log = ledgerEvents.get(topic)
      publish(topic, type, data, log)
    },
  })

  // The pools' loans carry the tape loan id of their portfolio's loans (as pool_loans.loan_key).
  for (const pool of ledger.pools.values()) {
    const pl = st.loans.get(pool.portfolioId) || []
    pool.loans.forEach((l, i) => (l.key = pl[i]?.loan_id || ''))
  }
  const postedTxns = new Set()

  function publish(topic, type, data, log) {
    const ev = { id: log.length + 1, type, data }
    log.push(ev)
    for (const res of subscribers.get(topic) || []) writeEvent(res, ev)
  }
  function writeEvent(res, ev) {
    res.write(`event: ${ev.type}\nid: ${ev.id}\ndata: ${JSON.stringify(ev.data)}\n\n`)
  }

  function userOf(req) {
    const c = /(?:^|;\s*)reclaim_session=([^;]+)/.exec(req.headers.cookie || '')
    const id = c && st.sessions.get(c[1])
    const u = id && st.users.find((x) => x.id === id && !x.disabled)
    return u || null
  }
  const pub = (u) => ({ id: u.id, username: u.username, display_name: u.display_name, role: u.role, disabled: u.disabled, created_at: u.created_at, must_change_password: !!u.must_change_password })
  // Account changes end the user's sessions and tokens and are recorded, as on the real server.
  function accountEvent(actor, action, usr, detail = {}) {
    st.accountEvents.unshift({ id: st.accountEvents.length + 1, at: new Date().toISOString(), actor: 'user:' + actor.username, action, user_id: usr.id, username: usr.username, detail: JSON.stringify(detail) })
  }
  function endCredentials(actor, usr, reason, keepSid) {
    for (const [sid, id] of st.sessions) if (id === usr.id && sid !== keepSid) st.sessions.delete(sid)
    for (const tk of st.tokens) {
      if (tk.user_id === usr.id && !tk.revoked) {
        Object.assign(tk, { revoked: true, revoked_at: new Date().toISOString(), revoked_reason: reason })
        accountEvent(actor, 'account.token_revoked', usr, { token_id: tk.id, name: tk.name, reason })
      }
    }
  }

  function startUpload(u, parts) {
    const f = parts.file
    const id = st.nextUpload++
    const text = f.data.toString('utf8')
    const rows = Math.max(1, text.split(/\r?\n/).filter(Boolean).length - 1)
    const hash = crypto.createHash('sha256').update(f.data).digest('hex')
    const skip = parts.skip_invalid === 'true'
    const up = { id, file: f.filename, status: 'running', rows: 0, bytes_read: 0, size: f.data.length, report: null, events: [], owner: u.id }
    st.uploads.set(id, up)
    const topic = `upload.${id}`
    const steps = 12
    let k = 0
    const timer = setInterval(() => {
      k++
      if (k <= steps) {
        up.bytes_read = Math.round((f.data.length * k) / steps)
        up.rows = Math.round((rows * k) / steps)
        publish(topic, 'progress', { rows: up.rows, bytes_read: up.bytes_read, size: up.size }, up.events)
        return
      }
      clearInterval(timer)
      if (st.hashes.has(hash)) {
        const pid = st.hashes.get(hash)
        up.status = 'failed'
        up.report = { file: f.filename, format: 'csv', content_hash: hash, status: 'rejected', rows: 0, imported: 0, rejected: 0, valid: 0, invalid: 0, columns: null, by_rule: null, errors: null, errors_shown: 0, errors_total: 0, portfolio_id: pid, seconds: 0.01 }
        Object.assign(up.report, coded('report.duplicate', { hash: hash.slice(0, 12), portfolio: String(pid) }))
        up.message = up.report.message
        publish(topic, 'failed', { status: 'failed', message: up.message, portfolio_id: pid }, up.events)
        return
      }
      const bad = /bad/i.test(f.filename) || text.includes('BAD')
      let report
      if (bad) {
        report = rejectedReport(f.filename, Math.max(rows, 120), skip)
        report.content_hash = hash
      }
      if (!bad || skip) {
        const name = parts.name || f.filename
        const p = { id: st.nextPortfolio++, name, ref: 'UP-' + id, seller_id: 2, seller_name: parts.seller || '—', cut_off_date: '2026-06-30', currency: 'CNY', status: 'active', loan_count: 0, total_claim: '0', source_file: f.filename, content_hash: hash, imported_at: new Date().toISOString() }
        const loans = makeLoans(100 + id, Math.max(20, Math.min(rows, 3000) - (bad ? 36 : 0)), p.ref, p.cut_off_date)
        const h = header(p, loans)
        p.loan_count = loans.length
        p.total_claim = h.claim
        st.portfolios.push(p)
        st.loans.set(p.id, loans)
        st.headers.set(p.id, h)
        if (!report) report = importedReport(p, h, f.filename)
        report.portfolio_id = p.id
        report.header = h
        st.reports.set(p.id, report)
        st.hashes.set(hash, p.id)
      }
      // Like httpapi/uploads.go: a tape rejected for its content ends "failed" with its report kept
      // on the upload; the events carry a summary, not the report.
      up.status = report.status === 'imported' ? 'done' : 'failed'
      up.message = report.message || ''
      up.report = report
      up.portfolio_id = report.portfolio_id || 0
      publish(topic, up.status, { status: up.status, message: up.message, portfolio_id: up.portfolio_id, rows: report.rows, imported: report.imported, rejected: report.rejected }, up.events)
    }, stepMs)
  }

  async function api(req, res, u, parts) {
    const method = req.method
    const p = parts
    const q = new URL(req.url, 'http://x').searchParams

    if (p[0] === 'auth' && p[1] === 'login' && method === 'POST') {
      let b
      try {
        b = JSON.parse((await readBody(req)).toString() || '{}')
      } catch {
        return fail(res, 400, 'invalid', 'body is not JSON')
      }
      const key = String(b.username || '')
      const now = Date.now()
      const fl = (st.failures.get(key) || []).filter((t) => now - t < 60000)
      if (fl.length >= 5) return send(res, 429, { code: 'rate_limited', message: 'too many attempts; try again in a minute' }, { 'Retry-After': '60' })
      const usr = st.users.find((x) => x.username === key)
      if (!usr || usr.password !== b.password || usr.disabled) {
        fl.push(now)
        st.failures.set(key, fl)
        return fail(res, 401, 'unauthorized', 'wrong username or password')
      }
      const sid = crypto.randomBytes(16).toString('hex')
      st.sessions.set(sid, usr.id)
      return send(res, 200, { user: pub(usr) }, { 'Set-Cookie': `reclaim_session=${sid}; Path=/; HttpOnly; SameSite=Lax` })
    }
    if (!u) return fail(res, 401, 'unauthorized', 'sign in first')
    const perms = PERMS[u.role] || []
    const need = (perm) => {
      if (perms.includes(perm)) return true
      fail(res, 403, 'forbidden', `your role (${u.role}) does not have ${perm}`)
      return false
    }

    if (p[0] === 'auth' && p[1] === 'logout' && method === 'POST') {
      const c = /(?:^|;\s*)reclaim_session=([^;]+)/.exec(req.headers.cookie || '')
      if (c) st.sessions.delete(c[1])
      return send(res, 204, undefined, { 'Set-Cookie': 'reclaim_session=; Path=/; Max-Age=0' })
    }
    if (p[0] === 'auth' && p[1] === 'me') return send(res, 200, { user: pub(u), permissions: perms })
    if (p[0] === 'auth' && p[1] === 'password' && method === 'POST') {
      const b = JSON.parse((await readBody(req)).toString() || '{}')
      if (b.current_password !== u.password) return fail(res, 400, 'invalid', 'the current password is wrong', { current_password: 'wrong password' })
      if (!b.new_password || [...b.new_password].length < 12) return fail(res, 400, 'invalid', 'password policy', { new_password: 'a password needs at least 12 characters' })
      if (b.new_password === b.current_password) return fail(res, 400, 'invalid', 'choose a new password', { new_password: 'same as the current password' })
      if (b.new_password.toLowerCase().includes(u.username.toLowerCase())) return fail(res, 400, 'invalid', 'password policy', { new_password: 'a password must not contain the user name' })
      u.password = b.new_password
      u.must_change_password = false
      accountEvent(u, 'account.password_changed', u, { temporary: false })
      const c = /(?:^|;\s*)reclaim_session=([^;]+)/.exec(req.headers.cookie || '')
      endCredentials(u, u, 'password changed', c && c[1])
      return send(res, 200, { user: pub(u), permissions: perms })
    }
    if (u.must_change_password) return fail(res, 403, 'password_change_required', 'your password was set by an administrator: change it before doing anything else')

    if (p[0] === 'portfolios') {
      if (!need('portfolio.read')) return
      if (p.length === 1) return send(res, 200, st.portfolios.map(({ ...x }) => x))
      const pf = st.portfolios.find((x) => String(x.id) === p[1])
      if (!pf) return fail(res, 404, 'not_found', `portfolio ${p[1]} not found`)
      if (p.length === 2) return send(res, 200, pf)
      if (p[2] === 'header') return send(res, 200, st.headers.get(pf.id))
      if (p[2] === 'report') return send(res, 200, st.reports.get(pf.id))
      if (p[2] === 'valuation' && p.length === 3) {
        if (!need('valuation.read')) return
        const v = valuation.portfolioValuation(pf, st.loans.get(pf.id), q, fail, res)
        return v && send(res, 200, v)
      }
      if (p[2] === 'backtest' && p.length === 3) {
        if (!need('valuation.read')) return
        const v = valuation.backTest(pf, st.loans.get(pf.id), q, fail, res)
        return v && send(res, 200, v)
      }
      if (p[2] === 'loans' && p[4] === 'valuation' && p.length === 5) {
        if (!need('valuation.read')) return
        const v = valuation.loanValuation(pf, st.loans.get(pf.id), decodeURIComponent(p[3]), fail, res)
        return v && send(res, 200, v)
      }
      if (p[2] === 'loans') {
        const off = Math.max(0, Number(q.get('offset') || 0))
        const lim = Math.min(500, Math.max(1, Number(q.get('limit') || 50)))
        const all = st.loans.get(pf.id)
        const items = all.slice(off, off + lim).map((l) => ({
          PortfolioRef: pf.ref, CutOffDate: pf.cut_off_date, LoanID: l.loan_id, BorrowerID: l.borrower_ref, ProductType: l.product_type,
          Currency: 'CNY', PrincipalOutstanding: l.principal_outstanding, InterestOutstanding: l.interest_outstanding,
          FeesOutstanding: l.fees_outstanding, TotalClaim: l.total_claim, DefaultDate: l.default_date, DaysPastDue: l.days_past_due,
          FiveCategory: l.five_category, WrittenOff: l.written_off, SecurityType: l.security_type, LegalStatus: l.legal_status,
          BirthYear: Number(pf.cut_off_date.slice(0, 4)) - l.age, Age: l.age, RegionCode: l.region_code, ForbearanceCount: -1, Extras: null,
          borrower: { name: l.name, national_id: l.national_id, phone: l.phone },
        }))
        return send(res, 200, { items, total: all.length, offset: off, limit: lim })
      }
      if (p[2] === 'pools' && p.length === 3) {
        return send(res, 200, [...ledger.pools.values()].filter((x) => x.portfolioId === pf.id).map((x) => ({ pool: x.pool, name: x.name, frozen: false })))
      }
      if (p[2] === 'borrowers' && p[4] === 'personal' && p.length === 5) {
        if (method !== 'POST') return fail(res, 405, 'unsupported', 'reading personal data is a POST')
        if (!need('case.personal')) return // the real server also limits it to the collector's own cases
        const b = JSON.parse((await readBody(req)).toString() || '{}')
        const purpose = String(b.purpose || '').trim()
        if ([...purpose].length < 5) return fail(res, 400, 'invalid', 'say why you need the data, in at least 5 characters', { purpose: 'at least 5 characters once leading and trailing spaces are removed' })
        const ref = decodeURIComponent(p[3])
        const l = st.loans.get(pf.id).find((x) => x.borrower_ref === ref)
        if (!l) return fail(res, 404, 'not_found', `borrower ${ref} not found`)
        const data = { name: l.name.replace(/\*+/g, '某某'), national_id: l.national_id.replace(/\*+/g, '19800101123') + '4', phone: l.phone.replace('****', '5678'), address: '广州市天河区体育西路 100 号' }
        st.audit.unshift({ at: new Date().toISOString(), actor: 'user:' + u.username, purpose, portfolio_id: pf.id, borrower_ref: ref, fields: Object.keys(data) })
        return send(res, 200, data, { 'Cache-Control': 'no-store' })
      }
      if (p[2] === 'masked-tape.csv') {
        if (method !== 'POST') return fail(res, 405, 'unsupported', 'the masked export is a POST')
        if (!need('tape.export_masked')) return
        let rcp = ''
        try {
          rcp = String(JSON.parse((await readBody(req)).toString() || '{}').recipient || '').trim()
        } catch {
          return fail(res, 400, 'invalid', 'the body is not JSON')
        }
        if (!rcp) return fail(res, 400, 'invalid', 'recipient is required', { recipient: 'required' })
        const rows = st.loans.get(pf.id).map((l) => [crypto.createHash('sha256').update(rcp + l.loan_id).digest('hex').slice(0, 16), l.product_type, l.principal_outstanding, l.total_claim, l.days_past_due, l.legal_status].join(','))
        res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Disposition': `attachment; filename="${pf.ref}-masked.csv"` })
        return res.end(`# watermark: ${rcp}\nloan_key,product_type,principal_outstanding,total_claim,days_past_due,legal_status\n` + rows.join('\n') + '\n')
      }
    }

    if (p[0] === 'uploads') {
      if (!need('tape.import')) return
      if (p.length === 1 && method === 'POST') {
        let body
        try {
          body = await readBody(req)
        } catch (e) {
          return fail(res, e.status || 400, 'too_large', 'the file is larger than the 64 MiB limit')
        }
        const parts = parseMultipart(body, req.headers['content-type'])
        if (!parts || !parts.file || !parts.file.filename) return fail(res, 400, 'invalid', 'a file is required', { file: 'required' })
        if (!parts.seller) return fail(res, 400, 'invalid', 'seller is required', { seller: 'required' })
        startUpload(u, parts)
        return send(res, 202, { id: String(st.nextUpload - 1) })
      }
      const up = st.uploads.get(Number(p[1]))
      if (!up) return fail(res, 404, 'not_found', `upload ${p[1]} not found`)
      if (p.length === 2) {
        const { events, owner, ...rest } = up
        void events, void owner
        return send(res, 200, rest)
      }
      if (p[2] === 'rejects.csv') {
        // Like httpapi/uploads.go: the uploader's alone (anyone else, an admin too, gets 404).
        if (up.owner !== u.id) return fail(res, 404, 'not_found', `upload ${p[1]} not found`)
        const errs = up.report?.errors || []
        res.writeHead(200, { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': `attachment; filename="rejects-${up.id}.csv"` })
        return res.end('_line,_rules,_errors,借据号\n' + errs.map((e) => `${e.line},${e.rule},"${e.message.replace(/"/g, '""')}",L${e.line}`).join('\n') + '\n')
      }
    }

    if (p[0] === 'models' && p.length === 1) {
      if (!need('valuation.read')) return
      return send(res, 200, valuation.models())
    }
    if (p[0] === 'models' && p[2] === 'versions' && p[4] === 'activate' && p.length === 5 && method === 'POST') {
      if (!need('model.manage')) return
      if (!valuation.activate(decodeURIComponent(p[1]), Number(p[3]))) return fail(res, 404, 'not_found', `no model ${p[1]} version ${p[3]}`)
      return send(res, 204)
    }

    if (p[0] === 'pools' && p[2] === 'collections' && p.length === 3 && method === 'POST') {
      if (!need('collection.post')) return
      const pool = ledger.pools.get(decodeURIComponent(p[1]))
      if (!pool) return fail(res, 404, 'not_found', `pool ${p[1]} has no ledger`)
      const b = JSON.parse((await readBody(req)).toString() || '{}')
      if (!/^\d+(\.\d{1,2})?$/.test(String(b.amount || '')) || !(Number(b.amount) > 0)) return fail(res, 400, 'invalid', 'amount: a positive amount with at most two decimals', { amount: 'not an amount' })
      const tomorrow = new Date(Date.now() + 864e5).toISOString().slice(0, 10)
      if (!/^\d{4}-\d{2}-\d{2}$/.test(String(b.effective || '')) || b.effective > tomorrow) return fail(res, 400, 'invalid', 'effective: a date no later than tomorrow', { effective: 'after tomorrow' })
      const txn = String(b.txn_id || '').trim()
      if (!txn) return fail(res, 400, 'invalid', 'a collection needs its bank transaction id', { txn_id: 'required' })
      const l = pool.loans.find((x) => x.ref === b.loan) || pool.loans.find((x) => x.key && x.key === b.loan)
      if (!l) return fail(res, 404, 'not_found', `loan "${b.loan}" is not in pool "${pool.pool}"`)
      const amt = Math.round(Number(b.amount) * 100)
      if (amt > l.balance) return fail(res, 400, 'invalid', `collection ${b.amount} exceeds loan ${l.ref}'s balance`)
      if (postedTxns.has(txn.toLowerCase())) return fail(res, 409, 'conflict', `bank transaction "${txn}" is already posted to pool "${pool.pool}"`)
      postedTxns.add(txn.toLowerCase())
      const e = pool.post(l, amt, b.channel || 'bank_transfer', b.effective)
      return send(res, 201, { event_id: e.event_id })
    }
    if (p[0] === 'pools') {
      if (!need('ledger.read')) return
      q.withLoanIds = perms.includes('portfolio.read')
      return ledger.api(res, p, q, send, fail)
    }

    if (p[0] === 'stream' && /^ledger\./.test(q.get('topic') || '')) {
      const topic = q.get('topic')
      if (!need('ledger.read')) return
      if (!ledger.pools.has(topic.slice('ledger.'.length))) return fail(res, 404, 'not_found', 'no such topic')
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
      res.write('retry: 2000\n\n')
      const last = Number(req.headers['last-event-id'] || 0)
      for (const ev of ledgerEvents.get(topic) || []) if (ev.id > last) writeEvent(res, ev)
      if (!subscribers.has(topic)) subscribers.set(topic, new Set())
      subscribers.get(topic).add(res)
      const hb = setInterval(() => res.write(': heartbeat\n\n'), 15000)
      req.on('close', () => {
        clearInterval(hb)
        subscribers.get(topic)?.delete(res)
      })
      return
    }

    if (p[0] === 'stream') {
      const topic = q.get('topic') || ''
      const m = /^upload\.(\d+)$/.exec(topic)
      if (!m) return fail(res, 400, 'invalid', 'unknown topic')
      if (!need('tape.import')) return
      const up = st.uploads.get(Number(m[1]))
      if (!up) return fail(res, 404, 'not_found', 'no such upload')
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' })
      res.write(': connected\n\n')
      const last = Number(req.headers['last-event-id'] || 0)
      for (const ev of up.events) if (ev.id > last) writeEvent(res, ev)
      if (!subscribers.has(topic)) subscribers.set(topic, new Set())
      subscribers.get(topic).add(res)
      const hb = setInterval(() => res.write(': heartbeat\n\n'), 15000)
      req.on('close', () => {
        clearInterval(hb)
        subscribers.get(topic)?.delete(res)
      })
      return
    }

    if (p[0] === 'users') {
      if (!need('user.manage')) return
      if (p.length === 1 && method === 'GET') return send(res, 200, st.users.map(pub))
      if (p.length === 1 && method === 'POST') {
        const b = JSON.parse((await readBody(req)).toString() || '{}')
        if (!b.username) return fail(res, 400, 'invalid', 'username is required', { username: 'required' })
        if (st.users.some((x) => x.username === b.username)) return fail(res, 409, 'conflict', `user ${b.username} exists`)
        if (!PERMS[b.role]) return fail(res, 400, 'invalid', 'unknown role', { role: 'unknown role' })
        if (!b.password || [...b.password].length < 12) return fail(res, 400, 'invalid', 'password policy', { password: 'a password needs at least 12 characters' })
        if (st.users.some((x) => x.username.toLowerCase() === String(b.username).toLowerCase())) return fail(res, 409, 'conflict', `the username ${b.username} is taken`)
        const nu = { id: st.nextUser++, username: b.username, display_name: b.display_name || b.username, role: b.role, disabled: false, created_at: new Date().toISOString(), password: b.password, must_change_password: true }
        st.users.push(nu)
        accountEvent(u, 'account.created', nu, { role: nu.role, temporary_password: true })
        return send(res, 201, pub(nu))
      }
      const usr = st.users.find((x) => String(x.id) === p[1])
      if (!usr) return fail(res, 404, 'not_found', 'no such user')
      if (p[2] === 'tokens' && p.length === 3 && method === 'GET') {
        return send(res, 200, st.tokens.filter((tk) => tk.user_id === usr.id).sort((a, b) => b.id - a.id))
      }
      if (p[2] === 'tokens' && p.length === 4 && method === 'DELETE') {
        const tk = st.tokens.find((x) => String(x.id) === p[3] && x.user_id === usr.id)
        if (!tk) return fail(res, 404, 'not_found', 'no such token')
        if (!tk.revoked) {
          const reason = q.get('reason') || 'revoked by user:' + u.username
          Object.assign(tk, { revoked: true, revoked_at: new Date().toISOString(), revoked_reason: reason })
          accountEvent(u, 'account.token_revoked', usr, { token_id: tk.id, name: tk.name, reason })
        }
        return send(res, 200, tk)
      }
      if (method === 'PATCH') {
        const b = JSON.parse((await readBody(req)).toString() || '{}')
        if (b.password !== undefined) {
          if (usr.id === u.id) return fail(res, 400, 'invalid', 'change your own password with POST /api/v1/auth/password')
          if ([...b.password].length < 12) return fail(res, 400, 'invalid', 'password policy', { password: 'a password needs at least 12 characters' })
        }
        if (b.role !== undefined && b.role !== usr.role) {
          accountEvent(u, 'account.role_changed', usr, { from: usr.role, to: b.role })
          usr.role = b.role
          endCredentials(u, usr, 'role changed')
        }
        if (b.disabled !== undefined && !!b.disabled !== !!usr.disabled) {
          usr.disabled = !!b.disabled
          accountEvent(u, usr.disabled ? 'account.disabled' : 'account.enabled', usr)
          endCredentials(u, usr, usr.disabled ? 'account disabled' : 'account enabled')
        }
        if (b.password !== undefined) {
          usr.password = b.password
          usr.must_change_password = true
          accountEvent(u, 'account.password_set', usr, { temporary: true })
          endCredentials(u, usr, 'password reset')
        }
        return send(res, 200, pub(usr))
      }
    }

    if (p[0] === 'audit' && p[1] === 'accounts') {
      if (!need('audit.read')) return
      let list = st.accountEvents
      if (q.get('actor')) list = list.filter((a) => a.actor === q.get('actor'))
      if (q.get('username')) list = list.filter((a) => a.username.toLowerCase() === q.get('username').toLowerCase())
      if (q.get('from')) list = list.filter((a) => Date.parse(a.at) >= Date.parse(q.get('from')))
      if (q.get('to')) list = list.filter((a) => Date.parse(a.at) < Date.parse(q.get('to')))
      return send(res, 200, list.slice(0, Number(q.get('limit') || 100)))
    }
    if (p[0] === 'audit') {
      if (!need('audit.read')) return
      let list = st.audit
      if (q.get('actor')) list = list.filter((a) => a.actor === q.get('actor'))
      if (q.get('portfolio_id')) list = list.filter((a) => String(a.portfolio_id) === q.get('portfolio_id'))
      if (q.get('from')) list = list.filter((a) => Date.parse(a.at) >= Date.parse(q.get('from')))
      if (q.get('to')) list = list.filter((a) => Date.parse(a.at) < Date.parse(q.get('to')))
      return send(res, 200, list.slice(0, Number(q.get('limit') || 100)))
    }
    return fail(res, 404, 'not_found', 'no such route')
  }

  const server = http.createServer(async (req, res) => {
    try {
      const u = new URL(req.url, 'http://x')
      if (/^\/ledger\/[^/]+\/(checkpoint|vkey)$/.test(u.pathname) && req.method === 'GET') return ledger.raw(res, u.pathname, fail)
      if (/^\/ledger\/[^/]+\/proof\/consistency$/.test(u.pathname) && req.method === 'GET') {
        // Like the real server: proofs need ledger.read.
        const user = userOf(req)
        if (!user) return fail(res, 401, 'unauthenticated', 'sign in first')
        if (!PERMS[user.role]?.includes('ledger.read')) return fail(res, 403, 'forbidden', 'ledger.read required')
        return ledger.raw(res, u.pathname, fail, u.searchParams)
      }
      // Test controls: make the mock's log misbehave (see control() in tests/mock-ledger.mjs).
      const mc = /^\/__mock\/ledger\/([^/]+)\/([a-z-]+)$/.exec(u.pathname)
      if (mc) {
        const out = ledger.control(decodeURIComponent(mc[1]), mc[2], u.searchParams)
        if (out === null) return fail(res, 404, 'not_found', 'no such pool or action')
        if (typeof out === 'string') {
          res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' })
          return res.end(out)
        }
        return send(res, 200, out)
      }
      if (u.pathname.startsWith('/api/v1/')) {
        const parts = u.pathname.slice('/api/v1/'.length).split('/').filter(Boolean)
        return await api(req, res, userOf(req), parts)
      }
      if (u.pathname === '/healthz' || u.pathname === '/readyz') return send(res, 200, { status: 'ok' })
      return serveStatic(req, res, dist)
    } catch (e) {
      console.error(e)
      if (!res.headersSent) fail(res, 500, 'internal', 'internal error')
      else res.end()
    }
  })
  server.on('close', () => ledger.close())
  return server
}

/** startMock listens on 127.0.0.1:port (0 = any free port) and resolves {url, close}. */
export function startMock(opts = {}) {
  const server = createMock(opts)
  return new Promise((resolve) => {
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address()
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()) }) })
    })
  })
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const port = Number(process.env.PORT || 18080)
  startMock({ port }).then(({ url }) => console.log(`mock Reclaim at ${url} (serving ${DIST})`))
}
