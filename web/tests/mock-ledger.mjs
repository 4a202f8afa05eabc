// The pool ledger of the mock server (tests/mock-server.mjs): real RFC 6962 trees, checkpoints
// signed with a fresh Ed25519 key (node:crypto) in the sumdb/note format, witness cosignatures
// in the C2SP tlog-cosignature format, receipts with real inclusion proofs, period reports
// computed from the entries, and a live feed (an entry every few seconds, a checkpoint every
// third one). Nothing here trusts the console: the browser has to verify it all itself.
import crypto from 'node:crypto'

const b64 = (b) => Buffer.from(b).toString('base64')
const sha256 = (...parts) => {
  const h = crypto.createHash('sha256')
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))
  return h.digest()
}
const money = (minor) => String(minor) // ledger amounts: integer minor units

/** A Merkle tree with RFC 6962 hashing; subtree hashes are memoised (subtrees never change). */
class Tree {
  constructor() {
    this.leaves = []
    this.memo = new Map()
  }
  append(entry) {
    this.leaves.push(sha256([0], entry))
  }
  get size() {
    return this.leaves.length
  }
  hash(lo, hi) {
    if (hi - lo === 1) return this.leaves[lo]
    const key = `${lo}:${hi}`
    let h = this.memo.get(key)
    if (!h) {
      let k = 1
      while (k * 2 < hi - lo) k *= 2
      h = sha256([1], this.hash(lo, lo + k), this.hash(lo + k, hi))
      this.memo.set(key, h)
    }
    return h
  }
  root(n = this.size) {
    return n === 0 ? sha256('') : this.hash(0, n)
  }
  /** The RFC 6962 consistency proof (SUBPROOF) from the first m leaves to the first n. */
  consistency(m, n) {
    if (m === n) return []
    const sub = (m, lo, hi, b) => {
      if (m === hi - lo) return b ? [] : [this.hash(lo, hi)]
      let k = 1
      while (k * 2 < hi - lo) k *= 2
      if (m <= k) return [...sub(m, lo, lo + k, b), this.hash(lo + k, hi)]
      return [...sub(m - k, lo + k, hi, false), this.hash(lo, lo + k)]
    }
    return sub(m, 0, n, true)
  }
  /** The RFC 6962 audit path of leaf m in the tree of the first n leaves, leaf upward. */
  proof(m, n, lo = 0) {
    if (n <= 1) return []
    let k = 1
    while (k * 2 < n) k *= 2
    if (m < k) return [...this.proof(m, k, lo), this.hash(lo + k, lo + n)]
    return [...this.proof(m - k, n - k, lo + k), this.hash(lo, lo + k)]
  }
}

function newKey(name, alg) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519')
  const pub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)
  const id = sha256(name + '\n', [alg], pub).readUInt32BE(0)
  return { name, id, pub, priv: privateKey, vkey: `${name}+${id.toString(16).padStart(8, '0')}+${b64(Buffer.concat([Buffer.from([alg]), pub]))}` }
}
function sigLine(k, msg, prefix = Buffer.alloc(0)) {
  const id = Buffer.alloc(4)
  id.writeUInt32BE(k.id)
  return `— ${k.name} ${b64(Buffer.concat([id, prefix, crypto.sign(null, Buffer.from(msg), k.priv)]))}\n`
}
function cosigLine(k, text, ts) {
  const t = Buffer.alloc(8)
  t.writeBigUInt64BE(BigInt(ts))
  return sigLine(k, `cosignature/v1\ntime ${ts}\n${text}`, t)
}

function rng(seed) {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const CHANNELS = ['bank_transfer', 'online', 'agency', 'court', 'cash']
const STATUSES = ['contacted', 'promise', 'plan', 'litigation', 'settled']

function pad(n, w = 6) {
  return String(n).padStart(w, '0')
}

/** A pool's log: entries, tree, checkpoints, reports. */
class PoolLog {
  constructor({ pool, name, currency, cutoff, createdAt, portfolioId, logKey, witnesses, seed }) {
    Object.assign(this, { pool, name, currency, cutoff, createdAt, portfolioId, logKey, witnesses })
    this.origin = logKey.name
    this.r = rng(seed)
    this.tree = new Tree()
    this.entries = [] // {index, event_id, type, entry, queued_at, sequenced_at}
    this.byEvent = new Map()
    this.loans = [] // {ref, balance}
    this.pendingN = 0
    this.checkpoint = null // {size, root, note, cosigners, published_at}
    this.reports = []
    this.seq = 0
    this.clock = Date.parse(createdAt)
  }
  hex64() {
    return crypto.randomBytes(32).toString('hex')
  }
  add(type, effective, body, idPrefix) {
    const index = this.entries.length
    const event_id = `${idPrefix}-${pad(++this.seq)}`
    const obj = { v: 1, pool: this.pool, event_id, type, effective, ...body }
    const entry = JSON.stringify(obj)
    // Sequenced on the business date (office hours, China time), never in the future.
    const eff = Date.parse(effective + 'T01:00:00Z') + Math.floor(this.r() * 8 * 3600e3)
    this.clock = Math.max(this.clock + 1000 + Math.floor(this.r() * 60000), eff)
    const at = new Date(Math.min(this.clock, Date.now() - 1000)).toISOString()
    const e = { index, event_id, type, entry, queued_at: at, sequenced_at: at }
    this.entries.push(e)
    this.byEvent.set(event_id, e)
    this.tree.append(Buffer.from(entry, 'utf8'))
    return e
  }
  open(effective) {
    return this.add('pool.opened', effective, { name: this.name, cutoff: this.cutoff, currency: this.currency, waterfall_hash: this.hex64() }, 'open')
  }
  board(effective) {
    const p = Math.round((3000 + this.r() ** 2 * 150000) * 100)
    const i = Math.round(p * (0.05 + this.r() * 0.4))
    const f = Math.round(p * this.r() * 0.02)
    const ref = 'L' + crypto.randomBytes(6).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')
    this.loans.push({ ref, claim: p + i + f, balance: p + i + f, removed: false, key: '' })
    return this.add('loan.boarded', effective, {
      loan: ref, claim: money(p + i + f), principal: money(p), interest: money(i), fees: money(f),
      dpd: 120 + Math.floor(this.r() * 2000), commitment: this.hex64(),
    }, 'board')
  }
  live() {
    return this.loans.filter((l) => !l.removed && l.balance > 0)
  }
  collect(effective) {
    const ls = this.live()
    if (!ls.length) return null
    const l = ls[Math.floor(this.r() * ls.length)]
    const amt = Math.max(100, Math.min(l.balance, Math.round(l.balance * (0.01 + this.r() * 0.08))))
    l.balance -= amt
    const fees = Math.min(amt, Math.round(amt * 0.02))
    const interest = Math.min(amt - fees, Math.round(amt * 0.25))
    const ch = CHANNELS[Math.floor(this.r() ** 1.6 * CHANNELS.length)]
    return this.add('loan.collection', effective, {
      loan: l.ref, amount: money(amt), principal: money(amt - interest - fees), interest: money(interest), fees: money(fees),
      channel: ch, bank_txn: this.hex64(),
    }, 'coll')
  }
  /** post records a collection as the API does (POST /pools/{pool}/collections): fees, interest, then principal. */
  post(l, amt, channel, effective) {
    l.balance -= amt
    const fees = Math.min(amt, Math.round(amt * 0.02))
    const interest = Math.min(amt - fees, Math.round(amt * 0.25))
    return this.add('loan.collection', effective, {
      loan: l.ref, amount: money(amt), principal: money(amt - interest - fees), interest: money(interest), fees: money(fees),
      channel, bank_txn: this.hex64(),
    }, 'col')
  }
  status(effective) {
    const ls = this.live()
    const l = ls[Math.floor(this.r() * ls.length)]
    const s = STATUSES[Math.floor(this.r() * STATUSES.length)]
    return this.add('loan.status', effective, { loan: l.ref, status: s, reason: s === 'plan' ? '12期分期还款协议' : '' }, 'status')
  }
  remove(effective) {
    const l = this.live()[0]
    l.removed = true
    return this.add('loan.removed', effective, { loan: l.ref, reason: 'repurchased', balance: money(l.balance), price: money(l.balance) }, 'remove')
  }
  recordUpdated(effective) {
    const l = this.live()[1]
    return this.add('loan.record_updated', effective, { loan: l.ref, commitment: this.hex64(), fields: ['address', 'phone'] }, 'record')
  }
  statement(start, end, credits) {
    return this.add('cash.statement', end, {
      account: this.hex64(), period_start: start, period_end: end, opening: '0', credits: money(credits), debits: '0',
      closing: money(credits), statement_hash: this.hex64(),
    }, 'stmt')
  }
  /** A period report over the entries since the previous one, computed from them. */
  report(start, end) {
    const prev = this.reports[this.reports.length - 1]
    const from = prev ? prev.to_index : 0
    const to = this.entries.length
    let boarded = 0, removed = 0, count = 0, coll = 0, princ = 0, boardedBal = 0, removedBal = 0
    const byCh = {}
    const status = {}
    for (const e of this.entries.slice(from, to)) {
      const o = JSON.parse(e.entry)
      const m = (s) => Number(s) // ledger amounts are integer minor units already
      if (o.type === 'loan.boarded') { boarded++; boardedBal += m(o.claim) }
      if (o.type === 'loan.removed') { removed++; removedBal += m(o.balance) }
      if (o.type === 'loan.collection') { count++; coll += m(o.amount); princ += m(o.principal); byCh[o.channel] = (byCh[o.channel] || 0) + m(o.amount) }
      if (o.type === 'loan.status') status[o.status] = (status[o.status] || 0) + 1
    }
    const opening = prev ? Number(prev.closing_balance) : 0
    const closing = opening + boardedBal - coll - removedBal
    const body = {
      period_start: start, period_end: end, from_index: from, to_index: to, loans_boarded: boarded, loans_removed: removed,
      collections_count: count, collections: money(coll), principal_collected: money(princ), opening_balance: money(opening),
      boarded_balance: money(boardedBal), removed_balance: money(removedBal), closing_balance: money(closing), report_hash: this.hex64(),
    }
    const e = this.add('period.report', end, body, 'report')
    const { report_hash, ...figures } = body
    void report_hash
    this.reports.push({ pool: this.pool, event_id: e.event_id, ...figures, collections_by_channel_minor: byCh, status_changes: status })
    return e
  }
  /** Sign a checkpoint of the current tree; cosigned by the witnesses in `by` (indices). */
  publish(by = [0, 1], at = new Date()) {
    const size = this.tree.size
    const text = `${this.origin}\n${size}\n${b64(this.tree.root(size))}\n`
    const ts = Math.floor(at.getTime() / 1000)
    let note = text + '\n' + sigLine(this.logKey, text)
    for (const i of by) note += cosigLine(this.witnesses[i], text, ts)
    this.checkpoint = { size, root: b64(this.tree.root(size)), note, cosigners: by.length, published_at: at.toISOString() }
    return this.checkpoint
  }
  /** Rebuild the tree from the entries (after the mock rewrote or dropped some). */
  rebuild() {
    this.tree = new Tree()
    this.byEvent = new Map()
    for (const [i, e] of this.entries.entries()) {
      e.index = i
      this.tree.append(Buffer.from(e.entry, 'utf8'))
      this.byEvent.set(e.event_id, e)
    }
  }
  /** The policy file an investor would have received (`reclaim ledger policy`). */
  policy() {
    return `# policy of pool ${this.pool} (mock)\nlog ${this.logKey.vkey}\norigin ${this.origin}\npool ${this.pool}\n` +
      this.witnesses.map((w) => `witness ${w.vkey}\n`).join('') + `quorum 2\n`
  }
  view(detail) {
    const v = {
      pool: this.pool, origin: this.origin, name: this.name, portfolio_id: this.portfolioId, currency: this.currency, cutoff: this.cutoff,
      size: this.tree.size, root: b64(this.tree.root()), pending: this.pendingN, created_at: this.createdAt,
      ...(this.checkpoint ? { checkpoint: this.checkpoint } : {}), quorum: 2,
    }
    if (detail) Object.assign(v, { witnesses: this.witnesses.map((w) => ({ name: w.name, vkey: w.vkey })), vkey: this.logKey.vkey })
    return v
  }
}

/** makeDemo builds RCL-DEMO-1: three months of servicing, a checkpoint, three entries after it. */
function makeDemo(witnesses) {
  const logKey = newKey('mock.reclaim.example/pools/RCL-DEMO-1', 0x01)
  const demo = new PoolLog({
    pool: 'RCL-DEMO-1', name: '瑞可 2026 年第一期不良资产支持证券', currency: 'CNY', cutoff: '2025-12-31',
    createdAt: '2026-01-05T02:00:00Z', portfolioId: 1, logKey, witnesses, seed: 42,
  })
  demo.open('2026-01-05')
  for (let i = 0; i < 36; i++) demo.board('2026-01-05')
  const month = (y, m, nColl, nStatus) => {
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate()
    const mm = String(m).padStart(2, '0')
    let credits = 0
    for (let i = 0; i < nColl; i++) {
      const d = `${y}-${mm}-${String(1 + Math.floor((i * last) / nColl)).padStart(2, '0')}`
      const e = demo.collect(d)
      if (e) credits += Number(JSON.parse(e.entry).amount)
      if (i % Math.ceil(nColl / nStatus) === 0) demo.status(d)
    }
    demo.statement(`${y}-${mm}-01`, `${y}-${mm}-${last}`, credits)
    demo.report(`${y}-${mm}-01`, `${y}-${mm}-${last}`)
  }
  month(2026, 1, 22, 4)
  demo.recordUpdated('2026-02-03')
  month(2026, 2, 30, 5)
  demo.remove('2026-03-02')
  month(2026, 3, 34, 6)
  demo.publish([0, 1], new Date(Date.now() - 7 * 60000))
  for (let i = 0; i < 3; i++) demo.collect('2026-04-02')
  demo.pendingN = 2

  return demo
}

/**
 * createLedger builds the mock pools. liveMs > 0 adds a collection to RCL-DEMO-1 every liveMs
 * and publishes a checkpoint every third time; publish(pool, type, data) receives the SSE events.
 */
export function createLedger({ liveMs = 6000, onEvent = () => {} } = {}) {
  const witnesses = [
    newKey('trustee.example/witness', 0x04),
    newKey('rating-agency.example/witness', 0x04),
    newKey('investor-rep.example/witness', 0x04),
  ]
  let demo = makeDemo(witnesses)

  const second = new PoolLog({
    pool: 'RCL-2026-02', name: '消费贷不良资产支持证券 2026-2（筹备中）', currency: 'CNY', cutoff: '2026-03-31',
    createdAt: '2026-04-08T06:00:00Z', portfolioId: 2, logKey: newKey('mock.reclaim.example/pools/RCL-2026-02', 0x01), witnesses, seed: 7,
  })
  second.open('2026-04-08')
  for (let i = 0; i < 12; i++) second.board('2026-04-08')

  const pools = new Map([demo, second].map((p) => [p.pool, p]))
  const announce = (p) => {
    const c = p.checkpoint
    onEvent(p.pool, 'checkpoint', { size: c.size, root: c.root, cosigners: c.cosigners })
  }

  /**
   * The misbehaving server, on demand (POST /__mock/ledger/{pool}/{action}, tests only):
   *   append[?n=3]   an honest append of n collections and a new checkpoint
   *   swap-key       a new log key with the same name (origin) signs a new checkpoint, and is served
   *   rollback[?n=5] the last n entries disappear; a checkpoint of the shorter log is signed
   *   fork[?n=2]     entry 5 is rewritten (same log key), n entries appended, a checkpoint signed
   *   reset          the demo pool is built again from scratch (new key, as on another server)
   * GET /__mock/ledger/{pool}/policy returns the investors' policy file of the pool.
   */
  function control(pool, action, q) {
    const p = pools.get(pool)
    if (!p) return null
    const n = Math.max(0, Math.min(100, Number(q.get('n') || 0)))
    const today = new Date().toISOString().slice(0, 10)
    switch (action) {
      case 'policy':
        return p.policy()
      case 'append':
        for (let i = 0; i < (n || 3); i++) p.collect(today)
        break
      case 'swap-key':
        p.logKey = newKey(p.logKey.name, 0x01)
        break
      case 'rollback':
        p.entries.splice(Math.max(1, p.entries.length - (n || 5)))
        p.rebuild()
        break
      case 'fork': {
        const e = p.entries[5]
        e.entry = e.entry.replace(/"claim":"(\d+)"/, (_, v) => `"claim":"${Number(v) - 100000}"`)
        p.rebuild()
        for (let i = 0; i < (n || 2); i++) p.collect(today)
        break
      }
      case 'reset':
        if (p !== demo) return null
        demo = makeDemo(witnesses)
        pools.set(demo.pool, demo)
        return { size: demo.checkpoint.size }
      default:
        return null
    }
    p.publish([0, 1])
    announce(p)
    return { size: p.checkpoint.size, root: p.checkpoint.root, vkey: p.logKey.vkey }
  }

  let ticks = 0
  const timer = liveMs > 0
    ? setInterval(() => {
        ticks++
        const e = demo.collect(new Date().toISOString().slice(0, 10))
        if (e) e.queued_at = e.sequenced_at = new Date().toISOString()
        if (e) onEvent(demo.pool, 'entry', { index: e.index, event_id: e.event_id, type: e.type, entry: e.entry })
        if (ticks % 3 === 0) {
          const c = demo.publish(ticks % 6 === 0 ? [0, 1, 2] : [0, 1])
          onEvent(demo.pool, 'checkpoint', { size: c.size, root: c.root, cosigners: c.cosigners })
        }
      }, liveMs)
    : null
  timer?.unref?.()

  return {
    pools,
    control,
    close() {
      if (timer) clearInterval(timer)
    },
    /** The JSON API under /api/v1/pools; parts are the path segments after /api/v1/. */
    api(res, parts, q, send, fail) {
      if (parts.length === 1) return send(res, 200, [...pools.values()].map((p) => p.view(false)))
      const p = pools.get(parts[1])
      if (!p) return fail(res, 404, 'not_found', `no pool ${parts[1]}`)
      if (parts.length === 2) return send(res, 200, p.view(true))
      if (parts[2] === 'entries' && parts.length === 3) {
        const limit = Math.min(500, Math.max(1, Number(q.get('limit') || 50)))
        const before = Number(q.get('before') || 0)
        const end = before > 0 ? Math.min(before, p.entries.length) : p.entries.length
        const items = p.entries.slice(Math.max(0, end - limit), end).reverse()
        return send(res, 200, { items, size: p.entries.length })
      }
      if (parts[2] === 'entries' && parts.length === 4) {
        const e = p.byEvent.get(parts[3])
        if (!e) return fail(res, 404, 'not_found', `no entry ${parts[3]} in pool ${p.pool}`)
        const cp = p.checkpoint
        if (!cp || e.index >= cp.size) return fail(res, 404, 'not_found', `entry ${e.index} is not covered by the latest checkpoint (size ${cp ? cp.size : 0}) yet`)
        return send(res, 200, { pool: p.pool, index: e.index, entry: b64(Buffer.from(e.entry, 'utf8')), proof: p.tree.proof(e.index, cp.size).map(b64), checkpoint: cp.note })
      }
      if (parts[2] === 'reports') return send(res, 200, p.reports)
      if (parts[2] === 'loans' && parts.length === 3) {
        // The tape's loan id only for roles that may read the portfolio (portfolio.read).
        const off = Math.max(0, Number(q.get('offset') || 0))
        const lim = Math.min(500, Math.max(1, Number(q.get('limit') || 50)))
        const items = p.loans.slice(off, off + lim).map((l) => ({
          ref: l.ref, ...(q.withLoanIds && l.key ? { loan_id: l.key } : {}), claim: money(l.claim), principal: money(l.claim),
          interest: '0.00', fees: '0.00', balance: money(l.removed ? 0 : l.balance), status: l.removed ? 'closed' : 'open',
        }))
        return send(res, 200, { items, total: p.loans.length, offset: off, limit: lim })
      }
      return fail(res, 404, 'not_found', 'no such route')
    },
    /** The public raw log: /ledger/{pool}/checkpoint and /ledger/{pool}/vkey; and consistency proofs. */
    raw(res, pathname, fail, q = new URLSearchParams()) {
      const cm = /^\/ledger\/([^/]+)\/proof\/consistency$/.exec(pathname)
      if (cm) {
        const p = pools.get(decodeURIComponent(cm[1]))
        if (!p) return fail(res, 404, 'not_found', 'no such pool')
        const old = Number(q.get('old'))
        const size = q.has('size') ? Number(q.get('size')) : p.checkpoint?.size ?? 0
        if (!Number.isSafeInteger(old) || !Number.isSafeInteger(size) || old < 1 || old > size || size > p.tree.size) {
          return fail(res, 400, 'invalid', `no consistency proof from ${q.get('old')} to ${size} in a tree of ${p.tree.size}`)
        }
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' })
        return res.end(JSON.stringify({ old, size, proof: p.tree.consistency(old, size).map(b64) }))
      }
      const m = /^\/ledger\/([^/]+)\/(checkpoint|vkey)$/.exec(pathname)
      const p = m && pools.get(decodeURIComponent(m[1]))
      if (!p) return fail(res, 404, 'not_found', 'no such pool')
      if (m[2] === 'checkpoint' && !p.checkpoint) return fail(res, 404, 'not_found', 'no checkpoint yet')
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache' })
      res.end(m[2] === 'vkey' ? p.logKey.vkey + '\n' : p.checkpoint.note)
    },
  }
}
