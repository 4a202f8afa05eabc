// Verification of the pool ledger in the browser, with WebCrypto only (no dependency): C2SP
// signed notes (Ed25519, sumdb/note format), tlog-checkpoint bodies, C2SP tlog-cosignature
// witness cosignatures, and RFC 6962 / RFC 9162 Merkle inclusion proofs.
//
// Everything here is a pure function of its inputs; it runs the same in a browser and in Node
// (tests/verify.test.mjs). Failures are VerifyError values with a stable code (for the UI to
// translate) and an English detail.

/** Why a verification failed. */
export type VerifyCode =
  | 'no_webcrypto' // crypto.subtle is missing (not a secure context) or has no Ed25519
  | 'vkey_malformed' // the verifier key is not name+hash+base64
  | 'vkey_algorithm' // the key is not Ed25519 (algorithm byte 0x01)
  | 'vkey_hash' // the key hash does not match SHA-256(name \n 0x01 pubkey)
  | 'note_malformed' // the signed note breaks the note format
  | 'no_signature' // no signature line from the log key
  | 'bad_signature' // the log key's signature does not verify
  | 'checkpoint_malformed' // the note text is not origin / size / root
  | 'origin_mismatch' // the checkpoint names another log
  | 'proof_malformed' // wrong hash sizes, index out of range, wrong proof length
  | 'root_mismatch' // the proof leads to another root
  | 'inconsistent' // a consistency proof does not join the old root to the new one

export class VerifyError extends Error {
  code: VerifyCode
  constructor(code: VerifyCode, detail: string) {
    super(detail)
    this.code = code
    this.name = 'VerifyError'
  }
}

const enc = new TextEncoder()
const HASH = 32
/** The algorithm byte of Ed25519 note keys (sumdb/note). */
export const ALG_ED25519 = 0x01
/** The algorithm byte of witness cosignature keys (C2SP tlog-cosignature, cosignature/v1). */
export const ALG_COSIGNATURE_V1 = 0x04

function subtle(): SubtleCrypto {
  const c = (globalThis as { crypto?: Crypto }).crypto
  if (!c || !c.subtle) throw new VerifyError('no_webcrypto', 'WebCrypto (crypto.subtle) is not available in this page')
  return c.subtle
}

// ---- bytes

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]))

/**
 * b64decode decodes canonical standard base64 (with padding). It returns null for anything else:
 * other alphabets, missing padding, whitespace, or non-zero bits in the padding.
 */
export function b64decode(s: string): Uint8Array | null {
  if (s.length % 4 !== 0) return null
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0
  const n = (s.length / 4) * 3 - pad
  const out = new Uint8Array(n)
  let o = 0
  for (let i = 0; i < s.length; i += 4) {
    let v = 0
    for (let j = 0; j < 4; j++) {
      const c = s[i + j]
      let d: number
      if (c === '=') {
        if (i + 4 !== s.length || j < 4 - pad) return null
        d = 0
      } else {
        const x = B64_INDEX.get(c)
        if (x === undefined) return null
        d = x
      }
      v = (v << 6) | d
    }
    const bytes = [(v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff]
    for (let j = 0; j < 3 && o < n; j++) out[o++] = bytes[j]
    if (i + 4 === s.length && pad > 0) {
      // Canonical form: the bits under the padding are zero.
      if ((pad === 1 && (v & 0xff) !== 0) || (pad === 2 && (v & 0xffff) !== 0)) return null
    }
  }
  return out
}

/** b64encode encodes bytes as standard base64 with padding. */
export function b64encode(b: Uint8Array): string {
  let s = ''
  for (let i = 0; i < b.length; i += 3) {
    const n = b.length - i
    const v = (b[i] << 16) | ((n > 1 ? b[i + 1] : 0) << 8) | (n > 2 ? b[i + 2] : 0)
    s += B64[(v >>> 18) & 63] + B64[(v >>> 12) & 63] + (n > 1 ? B64[(v >>> 6) & 63] : '=') + (n > 2 ? B64[v & 63] : '=')
  }
  return s
}

/** hex encodes bytes as lower-case hexadecimal. */
export function hex(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += x.toString(16).padStart(2, '0')
  return s
}

/** unhex decodes hexadecimal (either case); it throws on an odd length or a non-hex digit. */
export function unhex(s: string): Uint8Array {
  if (s.length % 2 || /[^0-9a-fA-F]/.test(s)) throw new Error(`not hex: ${s.slice(0, 20)}`)
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0))
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** equalBytes compares two byte strings. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i]
  return d === 0
}

// WebCrypto wants a BufferSource backed by an ArrayBuffer (not a SharedArrayBuffer).
function buf(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer
}

/** sha256 returns SHA-256 of the bytes. */
export async function sha256(b: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', buf(b)))
}

// ---- Merkle trees (RFC 6962 section 2.1; RFC 9162 section 2.1)

/** leafHash is the RFC 6962 leaf hash SHA-256(0x00 || entry). */
export function leafHash(entry: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(new Uint8Array([0]), entry))
}

/** nodeHash is the RFC 6962 interior node hash SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(concat(new Uint8Array([1]), left, right))
}

/**
 * merkleRoot is the RFC 6962 Merkle Tree Hash of the leaf inputs (the empty tree hashes to
 * SHA-256 of nothing). It builds the whole tree, so it is meant for tests and small logs.
 */
export async function merkleRoot(leaves: Uint8Array[]): Promise<Uint8Array> {
  if (leaves.length === 0) return sha256(new Uint8Array(0))
  const hashes = await Promise.all(leaves.map(leafHash))
  const mth = async (lo: number, hi: number): Promise<Uint8Array> => {
    if (hi - lo === 1) return hashes[lo]
    let k = 1
    while (k * 2 < hi - lo) k *= 2
    return nodeHash(await mth(lo, lo + k), await mth(lo + k, hi))
  }
  return mth(0, leaves.length)
}

// Bit operations on indices up to 2^53 (JavaScript's bitwise operators are 32-bit).
const lsb = (x: number) => x % 2 === 1
const shr = (x: number) => Math.floor(x / 2)

/**
 * rootFromInclusionProof walks an audit path (hashes from the leaf upward, as
 * golang.org/x/mod/sumdb/tlog.ProveRecord and RFC 9162 give them) from the leaf hash of entry
 * `index` in a tree of `size` entries and returns the root it leads to. It follows RFC 9162
 * section 2.1.3.2 and throws a VerifyError('proof_malformed') when the index is out of range, a
 * hash is not 32 bytes, or the proof has the wrong number of hashes for the index and size.
 */
export async function rootFromInclusionProof(index: number, size: number, leaf: Uint8Array, proof: Uint8Array[]): Promise<Uint8Array> {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new VerifyError('proof_malformed', `index ${index} is not in a tree of size ${size}`)
  }
  if (leaf.length !== HASH) throw new VerifyError('proof_malformed', `the leaf hash has ${leaf.length} bytes, not ${HASH}`)
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const [i, p] of proof.entries()) {
    if (p.length !== HASH) throw new VerifyError('proof_malformed', `proof hash ${i + 1} has ${p.length} bytes, not ${HASH}`)
    if (sn === 0) throw new VerifyError('proof_malformed', `the proof has ${proof.length} hashes, more than the tree needs`)
    if (lsb(fn) || fn === sn) {
      r = await nodeHash(p, r)
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = shr(fn)
          sn = shr(sn)
        }
      }
    } else {
      r = await nodeHash(r, p)
    }
    fn = shr(fn)
    sn = shr(sn)
  }
  if (sn !== 0) throw new VerifyError('proof_malformed', `the proof has ${proof.length} hashes, fewer than the tree needs`)
  return r
}

/**
 * proofSides says, for each hash of a well-formed inclusion proof of `index` in a tree of
 * `size`, whether it is the left or the right sibling on the way up (for display; the walk
 * itself is rootFromInclusionProof). It returns at most n sides.
 */
export function proofSides(index: number, size: number, n: number): ('left' | 'right')[] {
  const out: ('left' | 'right')[] = []
  let fn = index
  let sn = size - 1
  while (out.length < n && sn > 0) {
    if (lsb(fn) || fn === sn) {
      out.push('left')
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = shr(fn)
          sn = shr(sn)
        }
      }
    } else {
      out.push('right')
    }
    fn = shr(fn)
    sn = shr(sn)
  }
  return out
}

/** ConsistencyResult says whether the tree of newSize extends the tree of oldSize, and how we know. */
export interface ConsistencyResult {
  ok: boolean
  code?: VerifyCode
  detail?: string
  /** The old and the new root the proof leads to (when it is well-formed). */
  computedOld?: Uint8Array
  computedNew?: Uint8Array
}

const isPow2 = (x: number) => x > 0 && 2 ** Math.round(Math.log2(x)) === x

/**
 * verifyConsistency checks an RFC 6962 / RFC 9162 consistency proof (hashes in the order
 * golang.org/x/mod/sumdb/tlog.ProveTree returns them) that the tree of oldSize with root oldRoot
 * is a prefix of the tree of newSize with root newRoot, following RFC 9162 section 2.1.4.2.
 * Equal sizes need an empty proof and equal roots; any tree extends the empty tree. It never
 * throws for bad input: code 'proof_malformed' for a proof of the wrong shape, 'inconsistent'
 * when the proof does not lead to both roots (a fork, or a bad proof).
 */
export async function verifyConsistency(oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: Uint8Array[]): Promise<ConsistencyResult> {
  const bad = (code: VerifyCode, detail: string, extra: Partial<ConsistencyResult> = {}): ConsistencyResult => ({ ok: false, code, detail, ...extra })
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) {
    return bad('proof_malformed', `no consistency proof goes from size ${oldSize} to size ${newSize}`)
  }
  if (oldRoot.length !== HASH || newRoot.length !== HASH) return bad('proof_malformed', `a root hash is not ${HASH} bytes`)
  for (const [i, p] of proof.entries()) {
    if (p.length !== HASH) return bad('proof_malformed', `proof hash ${i + 1} has ${p.length} bytes, not ${HASH}`)
  }
  if (oldSize === newSize) {
    if (proof.length) return bad('proof_malformed', `a proof between equal sizes is empty, this one has ${proof.length} hashes`)
    if (!equalBytes(oldRoot, newRoot)) return bad('inconsistent', `two different roots for the same size ${oldSize}: ${b64encode(oldRoot)} and ${b64encode(newRoot)}`)
    return { ok: true, computedOld: oldRoot, computedNew: newRoot }
  }
  if (oldSize === 0) {
    if (proof.length) return bad('proof_malformed', 'a proof from the empty tree is empty')
    return { ok: true }
  }
  if (!proof.length) return bad('proof_malformed', `the proof from size ${oldSize} to ${newSize} is empty`)
  const path = isPow2(oldSize) ? [oldRoot, ...proof] : proof
  let fn = oldSize - 1
  let sn = newSize - 1
  while (lsb(fn)) {
    fn = shr(fn)
    sn = shr(sn)
  }
  let fr = path[0]
  let sr = path[0]
  for (const c of path.slice(1)) {
    if (sn === 0) return bad('proof_malformed', `the proof has ${proof.length} hashes, more than sizes ${oldSize} and ${newSize} need`)
    if (lsb(fn) || fn === sn) {
      fr = await nodeHash(c, fr)
      sr = await nodeHash(c, sr)
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = shr(fn)
          sn = shr(sn)
        }
      }
    } else {
      sr = await nodeHash(sr, c)
    }
    fn = shr(fn)
    sn = shr(sn)
  }
  if (sn !== 0) return bad('proof_malformed', `the proof has ${proof.length} hashes, fewer than sizes ${oldSize} and ${newSize} need`)
  const got = { computedOld: fr, computedNew: sr }
  if (!equalBytes(fr, oldRoot)) {
    return bad('inconsistent', `the proof leads to old root ${b64encode(fr)}, not the remembered ${b64encode(oldRoot)}: the log of size ${newSize} does not contain the log of size ${oldSize}`, got)
  }
  if (!equalBytes(sr, newRoot)) {
    return bad('inconsistent', `the proof leads to new root ${b64encode(sr)}, not the signed ${b64encode(newRoot)}`, got)
  }
  return { ok: true, ...got }
}

/** InclusionResult says whether an entry is in the tree with the given root, and how we know. */
export interface InclusionResult {
  ok: boolean
  code?: VerifyCode
  detail?: string
  /** SHA-256(0x00 || entry), recomputed here. */
  leafHash: Uint8Array
  /** The root the proof leads to (when the proof is well-formed). */
  computedRoot?: Uint8Array
}

/**
 * verifyInclusion recomputes the leaf hash of the exact entry bytes, walks the proof, and
 * compares the result with the checkpoint's root. It never throws for bad input; the result
 * says what failed.
 */
export async function verifyInclusion(entry: Uint8Array, index: number, size: number, proof: Uint8Array[], root: Uint8Array): Promise<InclusionResult> {
  const lh = await leafHash(entry)
  try {
    const computed = await rootFromInclusionProof(index, size, lh, proof)
    if (!equalBytes(computed, root)) {
      return { ok: false, code: 'root_mismatch', detail: `the proof leads to ${b64encode(computed)}, not the checkpoint root ${b64encode(root)}`, leafHash: lh, computedRoot: computed }
    }
    return { ok: true, leafHash: lh, computedRoot: computed }
  } catch (e) {
    if (e instanceof VerifyError) return { ok: false, code: e.code, detail: e.message, leafHash: lh }
    throw e
  }
}

// ---- note keys

/** VerifierKey is a parsed note verifier key "<name>+<8 hex key hash>+<base64(alg || key)>". */
export interface VerifierKey {
  name: string
  keyHash: number
  alg: number
  /** The 32-byte Ed25519 public key. */
  pub: Uint8Array
  text: string
}

/** validKeyName reports whether a key name is allowed: non-empty, UTF-8 text, no space, no '+'. */
export function validKeyName(name: string): boolean {
  return name !== '' && !/[\s+]/u.test(name) && !/[\u0000-\u001f]/.test(name)
}

/** keyHashOf is the note key hash: the first 4 bytes, big-endian, of SHA-256(name || "\n" || alg || key). */
export async function keyHashOf(name: string, alg: number, pub: Uint8Array): Promise<number> {
  const h = await sha256(concat(enc.encode(name + '\n'), new Uint8Array([alg]), pub))
  return new DataView(h.buffer, h.byteOffset).getUint32(0, false)
}

/**
 * parseVerifierKey parses and checks a note verifier key of the expected algorithm (Ed25519
 * 0x01 for the log, cosignature/v1 0x04 for witnesses): its form, its algorithm byte, its key
 * length, and that its key hash is the one its name and key imply. It throws a VerifyError.
 */
export async function parseVerifierKey(vkey: string, alg: number = ALG_ED25519): Promise<VerifierKey> {
  const text = vkey.trim()
  // name+hash+key, split at the first two '+' (the base64 key may itself contain '+').
  const i = text.indexOf('+')
  const j = i < 0 ? -1 : text.indexOf('+', i + 1)
  const parts = [text.slice(0, i), text.slice(i + 1, j), text.slice(j + 1)]
  if (i < 0 || j < 0 || !validKeyName(parts[0]) || !/^[0-9a-f]{8}$/.test(parts[1])) {
    throw new VerifyError('vkey_malformed', `"${text.slice(0, 80)}" is not a verifier key name+hash+key`)
  }
  const key = b64decode(parts[2])
  if (!key || key.length !== 33) throw new VerifyError('vkey_malformed', `the key part of "${parts[0]}" is not base64 of 33 bytes`)
  if (key[0] !== alg) {
    throw new VerifyError('vkey_algorithm', `key "${parts[0]}" has algorithm 0x${key[0].toString(16).padStart(2, '0')}, want 0x${alg.toString(16).padStart(2, '0')}`)
  }
  const pub = key.slice(1)
  const want = parseInt(parts[1], 16)
  const got = await keyHashOf(parts[0], alg, pub)
  if (got !== want) {
    throw new VerifyError('vkey_hash', `key hash ${parts[1]} of "${parts[0]}" does not match its name and key (${got.toString(16).padStart(8, '0')})`)
  }
  return { name: parts[0], keyHash: want, alg, pub, text }
}

/** ed25519Verify checks an Ed25519 signature with WebCrypto. */
export async function ed25519Verify(pub: Uint8Array, sig: Uint8Array, msg: Uint8Array): Promise<boolean> {
  if (sig.length !== 64 || pub.length !== 32) return false
  let key: CryptoKey
  try {
    key = await subtle().importKey('raw', buf(pub), { name: 'Ed25519' }, false, ['verify'])
  } catch (e) {
    if (e instanceof VerifyError) throw e
    const name = (e as Error)?.name
    // An unknown algorithm is the browser's fault; a bad point is the key's.
    if (name === 'NotSupportedError') throw new VerifyError('no_webcrypto', 'this browser has no Ed25519 in WebCrypto')
    return false
  }
  return subtle().verify({ name: 'Ed25519' }, key, buf(sig), buf(msg))
}

// ---- signed notes

/** NoteSignature is one signature line "— <name> <base64(key hash || signature)>". */
export interface NoteSignature {
  name: string
  keyHash: number
  sig: Uint8Array
}

/** SignedNote is a note split into its text (ending in a newline) and its signature lines. */
export interface SignedNote {
  text: string
  sigs: NoteSignature[]
}

const SIG_PREFIX = '\u2014 '

function decodeUTF8(b: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b)
  } catch {
    throw new VerifyError('note_malformed', 'the note is not valid UTF-8')
  }
}

/**
 * parseNote splits a signed note like golang.org/x/mod/sumdb/note.Open: valid text without
 * control characters other than newline, a blank line, then one or more lines
 * "— <name> <base64>" of at least 5 decoded bytes. It throws VerifyError('note_malformed').
 */
export function parseNote(note: string | Uint8Array): SignedNote {
  const msg = typeof note === 'string' ? note : decodeUTF8(note)
  if (/[\u0000-\u0009\u000b-\u001f]/.test(msg)) {
    throw new VerifyError('note_malformed', 'the note has a control character other than newline')
  }
  const split = msg.lastIndexOf('\n\n')
  if (split < 0) throw new VerifyError('note_malformed', 'the note has no blank line before its signatures')
  const text = msg.slice(0, split + 1)
  let rest = msg.slice(split + 2)
  if (rest === '' || !rest.endsWith('\n')) throw new VerifyError('note_malformed', 'the signature block is empty or does not end in a newline')
  const sigs: NoteSignature[] = []
  while (rest) {
    const i = rest.indexOf('\n')
    const line = rest.slice(0, i)
    rest = rest.slice(i + 1)
    if (!line.startsWith(SIG_PREFIX)) throw new VerifyError('note_malformed', `signature line "${line.slice(0, 40)}" does not start with "— "`)
    const body = line.slice(SIG_PREFIX.length)
    const sp = body.indexOf(' ')
    const name = sp < 0 ? body : body.slice(0, sp)
    const b64 = sp < 0 ? '' : body.slice(sp + 1)
    const raw = b64 ? b64decode(b64) : null
    if (!raw || !validKeyName(name) || raw.length < 5) {
      throw new VerifyError('note_malformed', `signature line of "${name.slice(0, 40)}" is malformed`)
    }
    sigs.push({ name, keyHash: new DataView(raw.buffer).getUint32(0, false), sig: raw.slice(4) })
    if (sigs.length > 100) throw new VerifyError('note_malformed', 'more than 100 signatures')
  }
  return { text, sigs }
}

/**
 * verifyNote checks that the note carries a valid signature by the key: a line with the key's
 * name and key hash whose Ed25519 signature verifies over the note text. It throws a VerifyError
 * ('no_signature', 'bad_signature') and returns the parsed note.
 */
export async function verifyNote(msg: string | Uint8Array, key: VerifierKey): Promise<SignedNote> {
  const n = parseNote(msg)
  const mine = n.sigs.filter((s) => s.name === key.name && s.keyHash === key.keyHash)
  if (!mine.length) {
    const names = n.sigs.map((s) => `${s.name}+${s.keyHash.toString(16).padStart(8, '0')}`).join(', ')
    throw new VerifyError('no_signature', `no signature by ${key.name}+${key.keyHash.toString(16).padStart(8, '0')} (the note is signed by ${names || 'nobody'})`)
  }
  const text = enc.encode(n.text)
  for (const s of mine) {
    if (!(await ed25519Verify(key.pub, s.sig, text))) {
      throw new VerifyError('bad_signature', `the Ed25519 signature of ${key.name} does not verify over the checkpoint text`)
    }
  }
  return n
}

// ---- checkpoints

/** Checkpoint is a C2SP tlog-checkpoint body: origin, tree size, root hash, extension lines. */
export interface Checkpoint {
  origin: string
  size: number
  root: Uint8Array
  extensions: string[]
}

/** parseCheckpoint parses a checkpoint body (note text); it throws VerifyError('checkpoint_malformed'). */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith('\n')) throw new VerifyError('checkpoint_malformed', 'the checkpoint does not end in a newline')
  const lines = text.slice(0, -1).split('\n')
  if (lines.length < 3) throw new VerifyError('checkpoint_malformed', `the checkpoint has ${lines.length} lines, not origin, size and root`)
  const [origin, sizeLine, rootLine, ...extensions] = lines
  if (!origin) throw new VerifyError('checkpoint_malformed', 'line 1: empty origin')
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) {
    throw new VerifyError('checkpoint_malformed', `line 2: size "${sizeLine.slice(0, 30)}" is not a decimal`)
  }
  const root = b64decode(rootLine)
  if (!root || root.length !== HASH) throw new VerifyError('checkpoint_malformed', `line 3: "${rootLine.slice(0, 60)}" is not a base64 32-byte hash`)
  if (extensions.some((e) => e === '')) throw new VerifyError('checkpoint_malformed', 'empty extension line')
  return { origin, size: Number(sizeLine), root, extensions }
}

/** Cosigner is one witness listed by the pool (name and cosignature/v1 verifier key). */
export interface WitnessKey {
  name: string
  vkey: string
}

/** CosignatureResult is what the browser found about one signature line other than the log's. */
export interface CosignatureResult {
  name: string
  /** verified: a listed witness's cosignature that verifies; unknown: no listed witness key. */
  status: 'verified' | 'invalid' | 'unknown'
  /** The cosignature's timestamp (seconds since 1970), when it is a cosignature/v1. */
  timestamp?: number
  detail?: string
}

/** CheckpointResult is the outcome of verifyCheckpoint. */
export interface CheckpointResult {
  ok: boolean
  code?: VerifyCode
  detail?: string
  key?: VerifierKey
  checkpoint?: Checkpoint
  cosignatures: CosignatureResult[]
  /** How many listed witnesses' cosignatures verified. */
  witnessesVerified: number
}

/** cosignedMessage is what a cosignature/v1 signs: "cosignature/v1\ntime <ts>\n" + note text. */
export function cosignedMessage(timestamp: bigint | number, text: string): Uint8Array {
  return enc.encode(`cosignature/v1\ntime ${timestamp}\n${text}`)
}

/**
 * keyNameOf is the name part of a verifier key ("name+hash+key"): the name its signature lines
 * carry, which may differ from the display name a witness list gives the witness.
 */
export function keyNameOf(vkey: string): string {
  const i = vkey.trim().indexOf('+')
  return i < 0 ? '' : vkey.trim().slice(0, i)
}

/** isWitness reports whether a signature line's name is the given witness's. */
export function isWitness(w: WitnessKey, sigName: string): boolean {
  return keyNameOf(w.vkey) === sigName || (!keyNameOf(w.vkey) && w.name === sigName)
}

async function checkCosignature(s: NoteSignature, text: string, witnesses: WitnessKey[]): Promise<CosignatureResult> {
  const w = witnesses.find((x) => isWitness(x, s.name))
  if (!w) return { name: s.name, status: 'unknown' }
  let key: VerifierKey
  try {
    key = await parseVerifierKey(w.vkey, ALG_COSIGNATURE_V1)
  } catch (e) {
    return { name: s.name, status: 'invalid', detail: (e as Error).message }
  }
  if (key.keyHash !== s.keyHash) return { name: s.name, status: 'unknown', detail: 'signed with another key than the listed one' }
  if (s.sig.length !== 72) return { name: s.name, status: 'invalid', detail: `a cosignature has 72 bytes, this one ${s.sig.length}` }
  const ts = new DataView(s.sig.buffer, s.sig.byteOffset).getBigUint64(0, false)
  if (ts > (1n << 63n) - 1n) return { name: s.name, status: 'invalid', detail: 'timestamp out of range' }
  const ok = await ed25519Verify(key.pub, s.sig.slice(8), cosignedMessage(ts, text))
  return { name: s.name, status: ok ? 'verified' : 'invalid', timestamp: Number(ts), detail: ok ? undefined : 'the Ed25519 cosignature does not verify' }
}

/**
 * verifyCheckpoint checks a signed checkpoint against the log's verifier key: the key's form and
 * hash, the note format, the log's Ed25519 signature over the text, the checkpoint body, and
 * (when origin is given) that the checkpoint names that log. It then checks every other
 * signature line against the listed witness keys (C2SP tlog-cosignature). It never throws for
 * bad input: the result's code and detail say what failed first.
 */
export async function verifyCheckpoint(note: string | Uint8Array, vkey: string, opts: { origin?: string; witnesses?: WitnessKey[] } = {}): Promise<CheckpointResult> {
  const out: CheckpointResult = { ok: false, cosignatures: [], witnessesVerified: 0 }
  try {
    const key = await parseVerifierKey(vkey)
    out.key = key
    const n = await verifyNote(note, key)
    const cp = parseCheckpoint(n.text)
    out.checkpoint = cp
    if (opts.origin !== undefined && cp.origin !== opts.origin) {
      throw new VerifyError('origin_mismatch', `the checkpoint is of log "${cp.origin}", not "${opts.origin}"`)
    }
    const others = n.sigs.filter((s) => !(s.name === key.name && s.keyHash === key.keyHash))
    out.cosignatures = await Promise.all(others.map((s) => checkCosignature(s, n.text, opts.witnesses || [])))
    out.witnessesVerified = new Set(out.cosignatures.filter((c) => c.status === 'verified').map((c) => c.name)).size
    out.ok = true
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e
    out.code = e.code
    out.detail = e.message
  }
  return out
}

/** Receipt is GET /api/v1/pools/{pool}/entries/{event_id}: an entry with its inclusion proof. */
export interface Receipt {
  pool: string
  index: number
  /** base64 of the exact entry bytes */
  entry: string
  /** base64 hashes, leaf upward */
  proof: string[]
  /** the signed checkpoint the proof is against */
  checkpoint: string
}

/** ReceiptResult is the outcome of verifyReceipt. */
export interface ReceiptResult {
  ok: boolean
  code?: VerifyCode
  detail?: string
  checkpoint?: CheckpointResult
  inclusion?: InclusionResult
  entryText?: string
}

/**
 * verifyReceipt checks a receipt end to end: the checkpoint's signature by the log key (and its
 * origin when given), then the inclusion of the exact entry bytes at the receipt's index in the
 * checkpoint's tree.
 */
export async function verifyReceipt(r: Receipt, vkey: string, opts: { origin?: string; witnesses?: WitnessKey[] } = {}): Promise<ReceiptResult> {
  const entry = b64decode(r.entry)
  const entryText = entry ? new TextDecoder('utf-8', { fatal: false }).decode(entry) : undefined
  const checkpoint = await verifyCheckpoint(r.checkpoint, vkey, opts)
  if (!checkpoint.ok || !checkpoint.checkpoint) return { ok: false, code: checkpoint.code, detail: checkpoint.detail, checkpoint, entryText }
  if (!entry) return { ok: false, code: 'proof_malformed', detail: 'the entry is not base64', checkpoint }
  const proof: Uint8Array[] = []
  for (const [i, p] of (r.proof || []).entries()) {
    const h = b64decode(p)
    if (!h) return { ok: false, code: 'proof_malformed', detail: `proof hash ${i + 1} is not base64`, checkpoint, entryText }
    proof.push(h)
  }
  const inclusion = await verifyInclusion(entry, r.index, checkpoint.checkpoint.size, proof, checkpoint.checkpoint.root)
  return { ok: inclusion.ok, code: inclusion.code, detail: inclusion.detail, checkpoint, inclusion, entryText }
}
