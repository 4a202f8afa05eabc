// Trust that outlives one page load: the console pins a pool's log key on first sight (or takes
// it, with the witnesses and quorum, from an investor's policy file), remembers the last
// checkpoint it verified, and on every later visit demands a consistency proof from that
// checkpoint to the new one. A new key, a smaller tree (a rollback) or a tree that does not
// contain the remembered one (a fork) fails, with the evidence kept for display.
//
// The logic (checkTrust) is a pure function of its inputs and a proof fetcher, so it runs the
// same under `node --test` (tests/verify.test.mjs) as in the browser; the storage is a small
// interface over localStorage.
import {
  ALG_COSIGNATURE_V1,
  b64decode,
  b64encode,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  verifyCheckpoint,
  verifyConsistency,
  VerifyError,
  type CheckpointResult,
  type VerifyCode,
  type WitnessKey,
} from './verify'

/** Where the pinned log key came from. */
export type KeySource = 'first-sight' | 'pasted'

/** What a browser remembers about one pool (stored as JSON, one item per pool). */
export interface PoolTrust {
  v: 1
  /** The pinned log verifier key (name+hash+key) and how it was pinned. */
  vkey: string
  source: KeySource
  pinnedAt: string
  /** From a pasted policy file: the origin, the trusted witnesses and the quorum. */
  origin?: string
  witnesses?: WitnessKey[]
  quorum?: number
  /** The last checkpoint this browser verified: its size, root (base64) and the signed note. */
  last?: { size: number; root: string; note: string; verifiedAt: string }
}

/** Why a trust check failed: a verification code, or one of the pinning failures. */
export type TrustCode =
  | VerifyCode
  | 'key_changed' // the server serves, or signs with, another key than the pinned one
  | 'rollback' // the checkpoint is smaller than the remembered one
  | 'fork' // the checkpoint does not extend the remembered one
  | 'consistency_fetch' // the server gave no usable consistency proof

/** Evidence shown with a red badge: what was remembered and what the server now says. */
export interface TrustEvidence {
  kind: 'key' | 'rollback' | 'fork'
  pinnedKey?: string
  servedKey?: string
  keySource?: KeySource
  pinnedAt?: string
  old?: { size: number; root: string; note: string; verifiedAt: string }
  /** The server's checkpoint now; unverified when it does not verify under the pinned key. */
  now?: { size: number; root: string; note: string; unverified?: boolean }
  /** The consistency proof that was checked (base64 hashes) and the roots it led to. */
  proof?: string[]
  computedOld?: string
  computedNew?: string
}

/** The outcome of checkTrust. */
export interface TrustResult {
  ok: boolean
  code?: TrustCode
  detail?: string
  /** The checkpoint's verification against the pinned key (absent when it never ran). */
  checkpoint?: CheckpointResult
  evidence?: TrustEvidence
  /** True when the key was pinned by this check (first visit). */
  firstSight: boolean
  /** The consistency step: from the remembered size to the new one ('same' for equal sizes). */
  consistency?: { from: number; to: number; hashes: number; kind: 'proof' | 'same' | 'empty' }
  /** What to store: the new trust state on success; the stored one (null on a first visit) otherwise. */
  trust: PoolTrust | null
  /** The witnesses and the quorum the check used, and whether they came from a policy file. */
  witnesses: WitnessKey[]
  quorum: number
  witnessSource: 'policy' | 'server'
}

/** A consistency proof as GET /ledger/{pool}/proof/consistency returns it. */
export interface ConsistencyDoc {
  old: number
  size: number
  proof: string[]
}

/** TrustInput is everything checkTrust needs; fetchConsistency is only called when needed. */
export interface TrustInput {
  trust: PoolTrust | null
  /** The verifier key the server serves now (GET /ledger/{pool}/vkey). */
  servedVKey: string
  /** The signed checkpoint the server serves now (GET /ledger/{pool}/checkpoint). */
  note: Uint8Array | string
  /** The pool's origin, witnesses and quorum as the server's API lists them. */
  origin?: string
  serverWitnesses: WitnessKey[]
  serverQuorum: number
  fetchConsistency: (old: number, size: number) => Promise<ConsistencyDoc>
  now: string
}

const noteText = (n: Uint8Array | string) => (typeof n === 'string' ? n : new TextDecoder('utf-8', { fatal: false }).decode(n))

/**
 * checkTrust verifies a pool's checkpoint under the pinned key (the served key on first sight),
 * then its consistency with the remembered checkpoint. It never throws for bad input. On
 * success the returned trust remembers the new checkpoint (and, on a first visit, pins the
 * served key); on any failure it is the stored one unchanged, so nothing is pinned from a
 * checkpoint that did not verify.
 */
export async function checkTrust(inp: TrustInput): Promise<TrustResult> {
  const served = inp.servedVKey.trim()
  const first = !inp.trust
  const trust: PoolTrust = inp.trust ?? { v: 1, vkey: served, source: 'first-sight', pinnedAt: inp.now }
  const policy = trust.source === 'pasted' && trust.witnesses !== undefined
  const witnesses = policy ? trust.witnesses! : inp.serverWitnesses
  const quorum = policy && trust.quorum !== undefined ? trust.quorum : inp.serverQuorum
  const base = { firstSight: first, witnesses, quorum, witnessSource: (policy ? 'policy' : 'server') as 'policy' | 'server' }
  const stored = inp.trust
  const text = noteText(inp.note)

  const cp = await verifyCheckpoint(inp.note, trust.vkey, { origin: trust.origin ?? inp.origin, witnesses })
  if (served !== trust.vkey) {
    // The server names another key than the one this browser pinned. Whether or not the
    // checkpoint still verifies under the pinned key, the server's claim is the evidence.
    const sameSigner = cp.ok ? ' (the checkpoint itself is still signed by the pinned key)' : ''
    // What the server now claims, read (not verified) from the note for the evidence.
    let claimed: TrustEvidence['now']
    try {
      const body = parseCheckpoint(parseNote(inp.note).text)
      claimed = { size: body.size, root: b64encode(body.root), note: text, unverified: !cp.ok }
    } catch {
      claimed = undefined
    }
    return {
      ...base, ok: false, code: 'key_changed', checkpoint: cp, trust: stored,
      detail: `the server serves the key ${served.slice(0, 120)}, this browser pinned ${trust.vkey}${sameSigner}`,
      evidence: { kind: 'key', pinnedKey: trust.vkey, servedKey: served, keySource: trust.source, pinnedAt: trust.pinnedAt, old: trust.last, now: claimed },
    }
  }
  if (!cp.ok || !cp.checkpoint) return { ...base, ok: false, code: cp.code, detail: cp.detail, checkpoint: cp, trust: stored }
  const c = cp.checkpoint
  const now = { size: c.size, root: b64encode(c.root), note: text }
  const last = trust.last
  let consistency: TrustResult['consistency']
  if (last) {
    const oldRoot = b64decode(last.root)
    const evidence = (kind: 'rollback' | 'fork', extra: Partial<TrustEvidence> = {}): TrustEvidence => ({ kind, old: last, now, pinnedKey: trust.vkey, keySource: trust.source, ...extra })
    if (!oldRoot) return { ...base, ok: false, code: 'proof_malformed', detail: 'the remembered root is not base64', checkpoint: cp, trust: stored }
    if (c.size < last.size) {
      return {
        ...base, ok: false, code: 'rollback', checkpoint: cp, trust: stored, evidence: evidence('rollback'),
        detail: `the log shrank from ${last.size} entries (verified ${last.verifiedAt}) to ${c.size}`,
      }
    }
    let doc: ConsistencyDoc = { old: last.size, size: c.size, proof: [] }
    if (c.size > last.size && last.size > 0) {
      try {
        doc = await inp.fetchConsistency(last.size, c.size)
      } catch (e) {
        return { ...base, ok: false, code: 'consistency_fetch', detail: (e as Error).message, checkpoint: cp, trust: stored, evidence: evidence('fork') }
      }
      if (doc && doc.proof === null) doc = { ...doc, proof: [] }
      if (!doc || doc.old !== last.size || doc.size !== c.size || !Array.isArray(doc.proof)) {
        return { ...base, ok: false, code: 'consistency_fetch', detail: `the server answered a proof for sizes ${doc?.old}→${doc?.size}, not ${last.size}→${c.size}`, checkpoint: cp, trust: stored, evidence: evidence('fork') }
      }
    }
    const hashes: Uint8Array[] = []
    for (const [i, h] of doc.proof.entries()) {
      const b = typeof h === 'string' ? b64decode(h) : null
      if (!b) return { ...base, ok: false, code: 'fork', detail: `consistency proof hash ${i + 1} is not base64`, checkpoint: cp, trust: stored, evidence: evidence('fork', { proof: doc.proof }) }
      hashes.push(b)
    }
    const r = await verifyConsistency(last.size, c.size, oldRoot, c.root, hashes)
    if (!r.ok) {
      return {
        ...base, ok: false, code: 'fork', checkpoint: cp, trust: stored, detail: r.detail,
        evidence: evidence('fork', { proof: doc.proof, computedOld: r.computedOld && b64encode(r.computedOld), computedNew: r.computedNew && b64encode(r.computedNew) }),
      }
    }
    consistency = { from: last.size, to: c.size, hashes: hashes.length, kind: c.size === last.size ? 'same' : last.size === 0 ? 'empty' : 'proof' }
  }
  return { ...base, ok: true, checkpoint: cp, consistency, trust: { ...trust, last: { ...now, verifiedAt: inp.now } } }
}

/** PolicyPins is what a pasted key or policy file pins. */
export interface PolicyPins {
  vkey: string
  origin?: string
  witnesses?: WitnessKey[]
  quorum?: number
}

/**
 * parseTrustInput reads what an investor pastes: either a bare log verifier key, or a policy
 * file as `reclaim ledger policy` writes it (log, origin, url, pool, witness, quorum lines;
 * blank lines and '#' comments ignored; tlog/verify.ParsePolicy's rules). Keys are checked
 * (form, algorithm, key hash). It throws a VerifyError('vkey_malformed') naming the line.
 */
export async function parseTrustInput(text: string): Promise<PolicyPins> {
  const t = text.trim()
  if (!t) throw new VerifyError('vkey_malformed', 'nothing was pasted')
  if (!/\s/.test(t)) return { vkey: (await parseVerifierKey(t)).text }
  const out: PolicyPins = { vkey: '' }
  const seen = new Set<string>()
  const witnesses: WitnessKey[] = []
  const lines = t.split('\n')
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '').trim()
    if (!line || line.startsWith('#')) continue
    const m = /^(\S+)\s+(.+)$/.exec(line)
    const fail = (why: string) => new VerifyError('vkey_malformed', `policy line ${i + 1}: ${why}`)
    if (!m) throw fail(`"${line.slice(0, 40)}" has no value`)
    const [, dir, arg] = m
    if (['log', 'origin', 'url', 'pool', 'quorum'].includes(dir)) {
      if (seen.has(dir)) throw fail(`${dir} is repeated`)
      seen.add(dir)
    }
    if (dir !== 'origin' && /\s/.test(arg)) throw fail(`${dir}: want a single value`)
    try {
      if (dir === 'log') out.vkey = (await parseVerifierKey(arg)).text
      else if (dir === 'origin') out.origin = arg
      else if (dir === 'witness') {
        const k = await parseVerifierKey(arg, ALG_COSIGNATURE_V1)
        if (witnesses.some((w) => w.vkey === k.text)) throw fail('witness listed twice')
        witnesses.push({ name: k.name, vkey: k.text })
      } else if (dir === 'quorum') {
        if (!/^(0|[1-9][0-9]{0,3})$/.test(arg)) throw fail(`quorum "${arg}" is not a small number`)
        out.quorum = Number(arg)
      } else if (dir !== 'url' && dir !== 'pool') throw fail(`unknown directive "${dir}"`)
    } catch (e) {
      if (e instanceof VerifyError && !e.message.startsWith('policy line')) throw fail(e.message)
      throw e
    }
  }
  if (!out.vkey) throw new VerifyError('vkey_malformed', 'the policy has no "log <verifier key>" line')
  if (witnesses.length && out.quorum === undefined) throw new VerifyError('vkey_malformed', 'the policy lists witnesses but no quorum')
  if ((out.quorum ?? 0) > witnesses.length) throw new VerifyError('vkey_malformed', `quorum ${out.quorum} is more than the ${witnesses.length} witnesses`)
  if (seen.has('quorum') || witnesses.length) out.witnesses = witnesses
  return out
}

/**
 * pinPasted turns pasted pins into the trust state to store. The remembered checkpoint is
 * kept: pasting a key never lets the log roll back behind what this browser has seen.
 */
export function pinPasted(prev: PoolTrust | null, p: PolicyPins, now: string): PoolTrust {
  return { v: 1, vkey: p.vkey, source: 'pasted', pinnedAt: now, origin: p.origin, witnesses: p.witnesses, quorum: p.quorum, last: prev?.last }
}

/** TrustStore keeps PoolTrust per pool. */
export interface TrustStore {
  get(pool: string): PoolTrust | null
  set(pool: string, t: PoolTrust): void
  clear(pool: string): void
}

const PREFIX = 'reclaim.ledger.trust.v1.'

/** validTrust checks the shape of a stored item (anything else is treated as absent). */
export function validTrust(x: unknown): x is PoolTrust {
  const t = x as PoolTrust
  if (!t || typeof t !== 'object' || t.v !== 1 || typeof t.vkey !== 'string' || !t.vkey || (t.source !== 'first-sight' && t.source !== 'pasted')) return false
  if (t.last !== undefined) {
    const l = t.last
    if (!l || !Number.isSafeInteger(l.size) || l.size < 0 || typeof l.root !== 'string' || typeof l.note !== 'string') return false
  }
  if (t.witnesses !== undefined && (!Array.isArray(t.witnesses) || t.witnesses.some((w) => typeof w?.name !== 'string' || typeof w?.vkey !== 'string'))) return false
  return true
}

/**
 * storageTrustStore keeps trust in a Web Storage (localStorage), one JSON item per pool. A
 * stored item that does not parse is kept (never silently replaced by a first-sight pin):
 * get throws, so the page shows the problem instead of trusting the server afresh.
 */
export function storageTrustStore(s: Storage): TrustStore {
  return {
    get(pool) {
      const raw = s.getItem(PREFIX + pool)
      if (raw === null) return null
      let v: unknown
      try {
        v = JSON.parse(raw)
      } catch {
        v = null
      }
      if (!validTrust(v)) throw new Error(`the pinned state of pool ${pool} in this browser is damaged; forget it to pin again`)
      return v
    },
    set(pool, t) {
      s.setItem(PREFIX + pool, JSON.stringify(t))
    },
    clear(pool) {
      s.removeItem(PREFIX + pool)
    },
  }
}

/** browserTrustStore is the trust store of this browser (localStorage), or null without one. */
export function browserTrustStore(): TrustStore | null {
  try {
    const s = globalThis.localStorage
    return s ? storageTrustStore(s) : null
  } catch {
    return null
  }
}
