// Unit tests of src/ledger/verify.ts (the in-browser ledger verifier) under `node --test`.
// The module is transpiled with the project's own TypeScript (no extra dependency) and run
// against Node's WebCrypto, which has the same Ed25519 and SHA-256 as Chromium's.
//
// Vectors: the RFC 6962 Merkle tree of the Certificate Transparency test leaves (roots and
// inclusion proofs as in github.com/transparency-dev/merkle testonly and proof/verify_test.go),
// the golang.org/x/mod/sumdb/note example note, the leaf hashes that tlog/verify's Go tests
// pin for every entry type, and notes signed here with generated Ed25519 keys.
import { test, before } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

const here = path.dirname(fileURLToPath(import.meta.url))
let V
let P

before(async () => {
  // verify.ts and pin.ts (which imports './verify'), transpiled side by side.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reclaim-verify-'))
  for (const name of ['verify', 'pin']) {
    const src = fs.readFileSync(path.resolve(here, `../src/ledger/${name}.ts`), 'utf8')
    const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
    fs.writeFileSync(path.join(dir, `${name}.mjs`), out.outputText.replace(/from '\.\/verify'/g, "from './verify.mjs'"))
  }
  V = await import(pathToFileURL(path.join(dir, 'verify.mjs')).href)
  P = await import(pathToFileURL(path.join(dir, 'pin.mjs')).href)
})

const hx = (s) => Uint8Array.from(Buffer.from(s, 'hex'))
const b64 = (b) => Buffer.from(b).toString('base64')
const utf8 = (s) => new TextEncoder().encode(s)

// github.com/transparency-dev/merkle testonly.LeafInputs and RootHashes.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(hx)
const ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
]
// transparency-dev/merkle proof/verify_test.go inclusionProofs (leaf numbers are 1-based).
const INCLUSION = [
  { leaf: 1, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { leaf: 6, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { leaf: 3, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { leaf: 2, size: 5, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
]

test('RFC 6962 leaf and node hashes', async () => {
  assert.equal(V.hex(await V.leafHash(new Uint8Array(0))), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d')
  assert.equal(V.hex(await V.leafHash(hx('00'))), '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7')
  assert.equal(
    V.hex(await V.nodeHash(await V.leafHash(LEAVES[0]), await V.leafHash(LEAVES[1]))),
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  )
})

test('RFC 6962 roots of the Certificate Transparency test leaves, sizes 0 to 8', async () => {
  for (let n = 0; n <= 8; n++) {
    assert.equal(V.hex(await V.merkleRoot(LEAVES.slice(0, n))), ROOTS[n], `root of ${n} leaves`)
  }
})

test('inclusion proofs of the transparency-dev vectors verify; tampered ones do not', async () => {
  for (const v of INCLUSION) {
    const index = v.leaf - 1
    const proof = v.proof.map(hx)
    const root = hx(ROOTS[v.size])
    const ok = await V.verifyInclusion(LEAVES[index], index, v.size, proof, root)
    assert.equal(ok.ok, true, `leaf ${index} of ${v.size}: ${ok.detail}`)
    assert.equal(V.hex(ok.computedRoot), ROOTS[v.size])
    // Another leaf, another index, another size, a flipped bit, a missing or extra hash: all fail.
    assert.equal((await V.verifyInclusion(LEAVES[(index + 1) % 8], index, v.size, proof, root)).code, 'root_mismatch')
    if (v.size > 1) assert.equal((await V.verifyInclusion(LEAVES[index], (index + 1) % v.size, v.size, proof, root)).ok, false)
    for (let i = 0; i < proof.length; i++) {
      const bad = proof.map((p) => p.slice())
      bad[i][7] ^= 0x10
      assert.equal((await V.verifyInclusion(LEAVES[index], index, v.size, bad, root)).code, 'root_mismatch', `flip in hash ${i}`)
    }
    assert.equal((await V.verifyInclusion(LEAVES[index], index, v.size, proof.slice(0, -1), root)).ok, false)
    assert.equal((await V.verifyInclusion(LEAVES[index], index, v.size, [...proof, proof[0]], root)).code, 'proof_malformed')
  }
  // Which side each sibling is on: leaf 0 of 8 has all of them on the right; leaf 5 of 8 (101b)
  // has left, right, left.
  assert.deepEqual(V.proofSides(0, 8, 3), ['right', 'right', 'right'])
  assert.deepEqual(V.proofSides(5, 8, 3), ['left', 'right', 'left'])
  assert.deepEqual(V.proofSides(2, 3, 1), ['left'])
  // Out-of-range indices and sizes (transparency-dev's probes).
  for (const [index, size] of [[0, 0], [1, 0], [2, 1], [-1, 4], [1.5, 4]]) {
    const r = await V.verifyInclusion(LEAVES[0], index, size, [], hx(ROOTS[1]))
    assert.equal(r.code, 'proof_malformed', `index ${index} size ${size}`)
  }
  // A one-leaf tree: no proof, the root is the leaf hash.
  assert.equal((await V.verifyInclusion(LEAVES[0], 0, 1, [], hx(ROOTS[1]))).ok, true)
  // A short hash is refused.
  assert.equal((await V.verifyInclusion(LEAVES[0], 0, 2, [hx('abcd')], hx(ROOTS[2]))).code, 'proof_malformed')
})

// The RFC 6962 section 2.1.1 audit path, computed from the definition (the reference).
async function auditPath(hashes, m, lo, hi) {
  const n = hi - lo
  if (n <= 1) return []
  let k = 1
  while (k * 2 < n) k *= 2
  const sub = async (a, b) => {
    if (b - a === 1) return hashes[a]
    let j = 1
    while (j * 2 < b - a) j *= 2
    return V.nodeHash(await sub(a, a + j), await sub(a + j, b))
  }
  if (m < k) return [...(await auditPath(hashes, m, lo, lo + k)), await sub(lo + k, hi)]
  return [...(await auditPath(hashes, m - k, lo + k, hi)), await sub(lo, lo + k)]
}

test('every proof of every tree up to 33 leaves walks to the root', async () => {
  const leaves = Array.from({ length: 33 }, (_, i) => utf8(`entry ${i}`))
  const hashes = await Promise.all(leaves.map((l) => V.leafHash(l)))
  for (let size = 1; size <= leaves.length; size++) {
    const root = await V.merkleRoot(leaves.slice(0, size))
    for (let i = 0; i < size; i++) {
      const proof = await auditPath(hashes.slice(0, size), i, 0, size)
      const r = await V.verifyInclusion(leaves[i], i, size, proof, root)
      assert.equal(r.ok, true, `leaf ${i} of ${size}: ${r.detail}`)
      if (size > 1) assert.equal((await V.verifyInclusion(leaves[(i + 1) % size], i, size, proof, root)).ok, false)
    }
  }
})

test('leaf hashes agree with the Go verifier for every entry type (tlog/verify/testdata)', async (t) => {
  const dir = path.resolve(here, '../../tlog/verify/testdata/entries')
  if (!fs.existsSync(dir)) return t.skip('tlog/verify/testdata/entries is not here')
  const names = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
  assert.ok(names.length >= 10, 'the Go test data lists every entry type')
  for (const f of names) {
    const entry = new Uint8Array(fs.readFileSync(path.join(dir, f)))
    const want = fs.readFileSync(path.join(dir, f.replace(/\.json$/, '.hash')), 'utf8').trim()
    assert.equal(b64(await V.leafHash(entry)), want, f)
  }
})

test('base64: canonical standard encoding only', () => {
  for (const s of ['', 'AA==', 'AAE=', 'AAEC', '+/8=', 'aGVsbG8gd29ybGQ=']) {
    const b = V.b64decode(s)
    assert.ok(b, s)
    assert.equal(V.b64encode(b), s)
    assert.deepEqual(Buffer.from(b), Buffer.from(s, 'base64'))
  }
  for (const s of ['A', 'AA', 'AA=', 'AB==', 'AAF=', '-_8=', 'AA ==', 'A===', '=AAA', 'AA==AA==']) assert.equal(V.b64decode(s), null, s)
})

// golang.org/x/mod/sumdb/note's example (note.go and example_test.go).
const PN_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'
const PN_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
const PN_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n'
const PN_SIG2 = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n'

test('the sumdb/note example note verifies under its verifier key', async () => {
  const key = await V.parseVerifierKey(PN_VKEY)
  assert.equal(key.name, 'PeterNeumann')
  assert.equal(key.keyHash, 0xc74f20a3)
  const n = await V.verifyNote(PN_TEXT + '\n' + PN_SIG + PN_SIG2, key)
  assert.equal(n.text, PN_TEXT)
  assert.deepEqual(n.sigs.map((s) => s.name), ['PeterNeumann', 'EnochRoot'])
  // As bytes, too.
  await V.verifyNote(utf8(PN_TEXT + '\n' + PN_SIG), key)
  const fails = async (msg, code) => assert.rejects(V.verifyNote(msg, key), (e) => e.code === code)
  await fails(PN_TEXT.replace('answer', 'Answer') + '\n' + PN_SIG, 'bad_signature')
  await fails(PN_TEXT + '\n' + PN_SIG2, 'no_signature')
  await fails(PN_TEXT + PN_SIG, 'note_malformed') // no blank line
  await fails(PN_TEXT + '\n' + PN_SIG.slice(0, -1), 'note_malformed') // no final newline
  await fails(PN_TEXT + '\n' + PN_SIG.replace('— ', '- '), 'note_malformed')
  await fails(PN_TEXT.replace('problem,', 'problem,\t') + '\n' + PN_SIG, 'note_malformed')
  await fails(new Uint8Array([...utf8(PN_TEXT), 0xff, ...utf8('\n\n' + PN_SIG)]), 'note_malformed')
})

test('verifier keys: form, algorithm and key hash are checked', async () => {
  const bad = async (vkey, code, alg) => assert.rejects(V.parseVerifierKey(vkey, alg), (e) => e.code === code, vkey)
  await bad('PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'vkey_hash')
  await bad('PeterNeumann2+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'vkey_hash')
  await bad('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'vkey_algorithm', V.ALG_COSIGNATURE_V1)
  await bad('PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'vkey_malformed')
  await bad('PeterNeumann+c74f20a3', 'vkey_malformed')
  await bad('Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW', 'vkey_malformed')
  await bad('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10', 'vkey_malformed')
  await bad('PeterNeumann+c74f20a3+AhpAc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T', 'vkey_algorithm')
  // A trailing newline (as served by /ledger/{pool}/vkey) is fine.
  assert.equal((await V.parseVerifierKey(PN_VKEY + '\n')).name, 'PeterNeumann')
})

// ---- a log signed here: the same bytes a Go publisher writes.
const subtle = globalThis.crypto.subtle

async function newKey(name, alg) {
  const kp = await subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])
  const pub = new Uint8Array(await subtle.exportKey('raw', kp.publicKey))
  const id = await V.keyHashOf(name, alg, pub)
  const vkey = `${name}+${id.toString(16).padStart(8, '0')}+${b64([alg, ...pub])}`
  return { name, id, pub, vkey, priv: kp.privateKey }
}
async function sigLine(k, msg, prefix = new Uint8Array(0)) {
  const sig = new Uint8Array(await subtle.sign({ name: 'Ed25519' }, k.priv, msg))
  const id = new Uint8Array(4)
  new DataView(id.buffer).setUint32(0, k.id, false)
  return `— ${k.name} ${b64([...id, ...prefix, ...sig])}\n`
}
async function cosigLine(k, text, ts) {
  const t = new Uint8Array(8)
  new DataView(t.buffer).setBigUint64(0, BigInt(ts), false)
  return sigLine(k, V.cosignedMessage(BigInt(ts), text), t)
}

test('a checkpoint signed with a generated Ed25519 key, with witness cosignatures', async () => {
  const origin = 'reclaim.example/pools/RCL-TEST-1'
  const log = await newKey(origin, V.ALG_ED25519)
  const w1 = await newKey('trustee.example/witness', V.ALG_COSIGNATURE_V1)
  const w2 = await newKey('rating.example/witness', V.ALG_COSIGNATURE_V1)
  const w3 = await newKey('investor.example/witness', V.ALG_COSIGNATURE_V1)
  const leaves = Array.from({ length: 11 }, (_, i) => utf8(`{"v":1,"pool":"RCL-TEST-1","event_id":"e${i}"}`))
  const root = await V.merkleRoot(leaves)
  const text = `${origin}\n11\n${b64(root)}\n`
  const witnesses = [w1, w2, w3].map((w) => ({ name: w.name, vkey: w.vkey }))
  const note = text + '\n' + (await sigLine(log, utf8(text))) + (await cosigLine(w1, text, 1767225600)) + (await cosigLine(w2, text, 1767225601))

  const r = await V.verifyCheckpoint(note, log.vkey, { origin, witnesses })
  assert.equal(r.ok, true, r.detail)
  assert.equal(r.checkpoint.origin, origin)
  assert.equal(r.checkpoint.size, 11)
  assert.equal(V.hex(r.checkpoint.root), V.hex(root))
  assert.deepEqual(r.cosignatures.map((c) => [c.name, c.status, c.timestamp]), [
    ['trustee.example/witness', 'verified', 1767225600],
    ['rating.example/witness', 'verified', 1767225601],
  ])
  assert.equal(r.witnessesVerified, 2)

  // A witness list may give a witness a display name other than its key name: the key counts.
  const r1 = await V.verifyCheckpoint(note, log.vkey, { origin, witnesses: [{ name: 'trustee', vkey: w1.vkey }] })
  assert.deepEqual(r1.cosignatures.map((c) => c.status), ['verified', 'unknown'])
  assert.equal(V.keyNameOf(w1.vkey), 'trustee.example/witness')
  assert.equal(V.isWitness({ name: 'trustee', vkey: w1.vkey }, 'trustee'), false, 'a display name is not a signer name')

  // Unlisted witness keys are reported as unknown; a forged cosignature as invalid.
  const r2 = await V.verifyCheckpoint(note, log.vkey, { witnesses: [witnesses[0]] })
  assert.deepEqual(r2.cosignatures.map((c) => c.status), ['verified', 'unknown'])
  const forged = text + '\n' + (await sigLine(log, utf8(text))) + (await cosigLine(w1, text.replace('11', '12'), 5)).replace(/^— \S+ /, '— trustee.example/witness ')
  const r3 = await V.verifyCheckpoint(forged, log.vkey, { witnesses })
  assert.equal(r3.ok, true)
  assert.equal(r3.cosignatures[0].status, 'invalid')
  assert.equal(r3.witnessesVerified, 0)

  // The log's signature is what the badge stands on.
  const other = await newKey(origin, V.ALG_ED25519)
  assert.equal((await V.verifyCheckpoint(note, other.vkey)).code, 'no_signature') // same name, other key hash
  assert.equal((await V.verifyCheckpoint(note.replace('\n11\n', '\n12\n'), log.vkey)).code, 'bad_signature')
  assert.equal((await V.verifyCheckpoint(note, log.vkey, { origin: 'reclaim.example/pools/OTHER' })).code, 'origin_mismatch')
  const notCp = 'hello\n\n' + (await sigLine(log, utf8('hello\n')))
  assert.equal((await V.verifyCheckpoint(notCp, log.vkey)).code, 'checkpoint_malformed')
  const zeroSize = `${origin}\n011\n${b64(root)}\n`
  assert.equal((await V.verifyCheckpoint(zeroSize + '\n' + (await sigLine(log, utf8(zeroSize))), log.vkey)).code, 'checkpoint_malformed')

  // A receipt: entry 7 with its proof against this checkpoint.
  const hashes = await Promise.all(leaves.map((l) => V.leafHash(l)))
  const receipt = { pool: 'RCL-TEST-1', index: 7, entry: b64(leaves[7]), proof: (await auditPath(hashes, 7, 0, 11)).map(b64), checkpoint: note }
  const ok = await V.verifyReceipt(receipt, log.vkey, { origin, witnesses })
  assert.equal(ok.ok, true, ok.detail)
  assert.equal(ok.entryText, new TextDecoder().decode(leaves[7]))
  assert.equal(V.hex(ok.inclusion.leafHash), V.hex(hashes[7]))
  assert.equal((await V.verifyReceipt({ ...receipt, entry: b64(leaves[6]) }, log.vkey)).code, 'root_mismatch')
  assert.equal((await V.verifyReceipt({ ...receipt, index: 6 }, log.vkey)).code, 'root_mismatch')
  assert.equal((await V.verifyReceipt({ ...receipt, proof: receipt.proof.slice(1) }, log.vkey)).ok, false)
  assert.equal((await V.verifyReceipt({ ...receipt, checkpoint: note.replace(b64(root), b64(hashes[0])) }, log.vkey)).code, 'bad_signature')
  assert.equal((await V.verifyReceipt({ ...receipt, proof: ['not base64!'] }, log.vkey)).code, 'proof_malformed')
})

// ---- consistency proofs (RFC 6962 section 2.1.2; RFC 9162 section 2.1.4)

// golang.org/x/mod/sumdb/tlog.ProveTree over the Certificate Transparency test leaves (the order
// the server's /ledger/{pool}/proof/consistency returns); the same as transparency-dev/merkle's
// proof/verify_test.go consistencyProofs.
const CONSISTENCY = [
  { old: 1, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { old: 6, size: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { old: 2, size: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
  { old: 6, size: 7, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { old: 3, size: 7, proof: ['0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7', '07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7', 'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125', '837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e'] },
]

test('consistency proofs of the sumdb/tlog vectors verify; tampered ones and swapped roots do not', async () => {
  for (const v of CONSISTENCY) {
    const proof = v.proof.map(hx)
    const oldRoot = hx(ROOTS[v.old])
    const newRoot = hx(ROOTS[v.size])
    const ok = await V.verifyConsistency(v.old, v.size, oldRoot, newRoot, proof)
    assert.equal(ok.ok, true, `${v.old} -> ${v.size}: ${ok.detail}`)
    // A different old root (a fork of the old tree), a different new root, a flipped bit, a
    // missing or extra hash: all fail. (The sizes themselves come from signed checkpoints.)
    assert.equal((await V.verifyConsistency(v.old, v.size, hx(ROOTS[v.old - 1]), newRoot, proof)).code, 'inconsistent')
    assert.equal((await V.verifyConsistency(v.old, v.size, oldRoot, hx(ROOTS[v.size - 1]), proof)).code, 'inconsistent')
    for (let i = 0; i < proof.length; i++) {
      const bad = proof.map((p) => p.slice())
      bad[i][3] ^= 1
      assert.equal((await V.verifyConsistency(v.old, v.size, oldRoot, newRoot, bad)).ok, false, `flip in hash ${i}`)
    }
    assert.equal((await V.verifyConsistency(v.old, v.size, oldRoot, newRoot, proof.slice(0, -1))).ok, false)
    assert.equal((await V.verifyConsistency(v.old, v.size, oldRoot, newRoot, [...proof, proof[0]])).ok, false)
  }
  // Equal sizes: empty proof and equal roots; different roots are a fork.
  assert.equal((await V.verifyConsistency(5, 5, hx(ROOTS[5]), hx(ROOTS[5]), [])).ok, true)
  assert.equal((await V.verifyConsistency(5, 5, hx(ROOTS[5]), hx(ROOTS[4]), [])).code, 'inconsistent')
  assert.equal((await V.verifyConsistency(5, 5, hx(ROOTS[5]), hx(ROOTS[5]), [hx(ROOTS[1])])).code, 'proof_malformed')
  // Shrinking trees, negative or fractional sizes, short hashes, empty proofs are malformed.
  for (const [o, n] of [[8, 7], [-1, 3], [1.5, 3]]) assert.equal((await V.verifyConsistency(o, n, hx(ROOTS[1]), hx(ROOTS[3]), [])).code, 'proof_malformed')
  assert.equal((await V.verifyConsistency(2, 5, hx(ROOTS[2]), hx(ROOTS[5]), [hx('abcd'), hx(ROOTS[1])])).code, 'proof_malformed')
  assert.equal((await V.verifyConsistency(2, 5, hx(ROOTS[2]), hx(ROOTS[5]), [])).code, 'proof_malformed')
  // Every tree extends the empty tree.
  assert.equal((await V.verifyConsistency(0, 8, hx(ROOTS[0]), hx(ROOTS[8]), [])).ok, true)
})

/** A test tree: leaf hashes, subtree hashes and the RFC 6962 SUBPROOF, from the definitions. */
async function testTree(leaves) {
  const hashes = await Promise.all(leaves.map((l) => V.leafHash(l)))
  const sub = async (a, b) => {
    if (b - a === 1) return hashes[a]
    let j = 1
    while (j * 2 < b - a) j *= 2
    return V.nodeHash(await sub(a, a + j), await sub(a + j, b))
  }
  // RFC 6962 section 2.1.2: SUBPROOF(m, D[lo:hi], b).
  const subproof = async (m, lo, hi, b) => {
    const n = hi - lo
    if (m === n) return b ? [] : [await sub(lo, hi)]
    let k = 1
    while (k * 2 < n) k *= 2
    if (m <= k) return [...(await subproof(m, lo, lo + k, b)), await sub(lo + k, hi)]
    return [...(await subproof(m - k, lo + k, hi, false)), await sub(lo, lo + k)]
  }
  return {
    root: (n) => (n === 0 ? V.merkleRoot([]) : sub(0, n)),
    consistency: (m, n) => (m === 0 || m === n ? Promise.resolve([]) : subproof(m, 0, n, true)),
  }
}

test('every consistency proof between trees of up to 33 leaves verifies, and none across a fork', async () => {
  const leaves = Array.from({ length: 33 }, (_, i) => utf8(`entry ${i}`))
  const t = await testTree(leaves)
  // A fork: entry 9 differs.
  const forked = leaves.slice()
  forked[9] = utf8('entry 9, rewritten')
  const f = await testTree(forked)
  for (let n = 1; n <= leaves.length; n++) {
    const newRoot = await t.root(n)
    for (let m = 1; m <= n; m++) {
      const proof = await t.consistency(m, n)
      const r = await V.verifyConsistency(m, n, await t.root(m), newRoot, proof)
      assert.equal(r.ok, true, `${m} -> ${n}: ${r.detail}`)
      if (m > 9) {
        // The remembered old tree had the original entry 9; the server now serves the fork.
        const fr = await V.verifyConsistency(m, n, await t.root(m), await f.root(n), await f.consistency(m, n))
        assert.equal(fr.ok, false, `fork ${m} -> ${n} passed`)
      }
    }
  }
})

// ---- pinning: the key on first sight, the last checkpoint, consistency on every visit

/** A signing log for the pinning tests: append entries, sign checkpoints, prove consistency. */
async function testLog(origin, n, witnesses = []) {
  const key = await newKey(origin, V.ALG_ED25519)
  const log = {
    key,
    leaves: Array.from({ length: n }, (_, i) => utf8(`{"i":${i}}`)),
    async note(size = log.leaves.length, by = witnesses, k = log.key) {
      const t = await testTree(log.leaves)
      const text = `${origin}\n${size}\n${b64(await t.root(size))}\n`
      let note = text + '\n' + (await sigLine(k, utf8(text)))
      for (const w of by) note += await cosigLine(w, text, 1767225600)
      return note
    },
    async fetchConsistency(old, size) {
      const t = await testTree(log.leaves)
      return { old, size, proof: (await t.consistency(old, size)).map(b64) }
    },
    append(k) {
      for (let i = 0; i < k; i++) log.leaves.push(utf8(`{"i":${log.leaves.length}}`))
    },
  }
  return log
}

test('pinning: first sight pins the served key and remembers the checkpoint; an honest append passes', async () => {
  const origin = 'reclaim.example/pools/PIN-1'
  const w = await newKey('trustee.example/witness', V.ALG_COSIGNATURE_V1)
  const witnesses = [{ name: w.name, vkey: w.vkey }]
  const log = await testLog(origin, 20, [w])
  const base = { servedVKey: log.key.vkey + '\n', origin, serverWitnesses: witnesses, serverQuorum: 1, now: '2026-12-06T10:00:00Z' }
  let calls = []
  const fetchConsistency = (o, s) => {
    calls.push([o, s])
    return log.fetchConsistency(o, s)
  }

  const r1 = await P.checkTrust({ ...base, trust: null, note: await log.note(), fetchConsistency })
  assert.equal(r1.ok, true, r1.detail)
  assert.equal(r1.firstSight, true)
  assert.equal(r1.trust.vkey, log.key.vkey)
  assert.equal(r1.trust.source, 'first-sight')
  assert.equal(r1.trust.last.size, 20)
  assert.equal(r1.checkpoint.witnessesVerified, 1)
  assert.equal(r1.consistency, undefined)
  assert.deepEqual(calls, [])

  // The same checkpoint again: no proof needed, the roots must be equal.
  const r2 = await P.checkTrust({ ...base, trust: r1.trust, note: await log.note(), fetchConsistency })
  assert.equal(r2.ok, true, r2.detail)
  assert.equal(r2.firstSight, false)
  assert.equal(r2.consistency.kind, 'same')

  // 13 more entries: the browser asks for the proof 20 -> 33 and checks it.
  log.append(13)
  const r3 = await P.checkTrust({ ...base, trust: r2.trust, note: await log.note(), fetchConsistency })
  assert.equal(r3.ok, true, r3.detail)
  assert.deepEqual(calls, [[20, 33]])
  assert.deepEqual([r3.consistency.from, r3.consistency.to, r3.consistency.kind], [20, 33, 'proof'])
  assert.ok(r3.consistency.hashes > 0)
  assert.equal(r3.trust.last.size, 33)
  assert.equal(r3.trust.pinnedAt, r1.trust.pinnedAt)
})

test('pinning: a swapped key, a rollback and a fork fail with the evidence, and the pins stay', async () => {
  const origin = 'reclaim.example/pools/PIN-2'
  const log = await testLog(origin, 40)
  const base = { origin, serverWitnesses: [], serverQuorum: 0, now: '2026-12-06T11:00:00Z', fetchConsistency: log.fetchConsistency }
  const pinned = (await P.checkTrust({ ...base, trust: null, servedVKey: log.key.vkey, note: await log.note() })).trust
  assert.equal(pinned.last.size, 40)

  // The server now has a new key (same name: same origin) and serves it, signing with it.
  const other = await newKey(origin, V.ALG_ED25519)
  const swapped = await P.checkTrust({ ...base, trust: pinned, servedVKey: other.vkey, note: await log.note(40, [], other) })
  assert.equal(swapped.ok, false)
  assert.equal(swapped.code, 'key_changed')
  assert.equal(swapped.evidence.kind, 'key')
  assert.equal(swapped.evidence.pinnedKey, log.key.vkey)
  assert.equal(swapped.evidence.servedKey, other.vkey)
  assert.equal(swapped.checkpoint.code, 'no_signature') // and the checkpoint is not signed by the pinned key
  assert.deepEqual(swapped.trust, pinned)
  // Signing with a new key while still serving the old one is no better.
  const sneaky = await P.checkTrust({ ...base, trust: pinned, servedVKey: log.key.vkey, note: await log.note(40, [], other) })
  assert.equal(sneaky.code, 'no_signature')
  assert.deepEqual(sneaky.trust, pinned)

  // A rollback: a validly signed checkpoint of a shorter log.
  const rolled = await P.checkTrust({ ...base, trust: pinned, servedVKey: log.key.vkey, note: await log.note(31) })
  assert.equal(rolled.ok, false)
  assert.equal(rolled.code, 'rollback')
  assert.equal(rolled.checkpoint.ok, true, 'the signature itself is valid')
  assert.deepEqual([rolled.evidence.old.size, rolled.evidence.now.size], [40, 31])
  assert.equal(rolled.evidence.old.root, pinned.last.root)
  assert.deepEqual(rolled.trust, pinned)

  // A fork at the same size: entry 7 rewritten, re-signed with the real key.
  const honest = log.leaves.slice()
  log.leaves[7] = utf8('{"i":7,"rewritten":true}')
  const sameSize = await P.checkTrust({ ...base, trust: pinned, servedVKey: log.key.vkey, note: await log.note() })
  assert.equal(sameSize.code, 'fork')
  assert.notEqual(sameSize.evidence.now.root, sameSize.evidence.old.root)
  // A fork that also grew: the server's own consistency proof cannot join the remembered root.
  log.append(5)
  const grown = await P.checkTrust({ ...base, trust: pinned, servedVKey: log.key.vkey, note: await log.note() })
  assert.equal(grown.code, 'fork')
  assert.equal(grown.evidence.kind, 'fork')
  assert.ok(grown.evidence.proof.length > 0)
  assert.notEqual(grown.evidence.computedOld, pinned.last.root)
  assert.deepEqual(grown.trust, pinned)
  // A proof from the honest tree does not help either (it does not lead to the forked root).
  const t = await testTree([...honest, ...log.leaves.slice(40)])
  const mixed = await P.checkTrust({ ...base, trust: pinned, servedVKey: log.key.vkey, note: await log.note(), fetchConsistency: async (o, s) => ({ old: o, size: s, proof: (await t.consistency(o, s)).map(b64) }) })
  assert.equal(mixed.code, 'fork')

  // No proof, a proof for other sizes, a proof that is not base64: never green.
  const noProof = await P.checkTrust({ ...base, trust: pinned, servedVKey: log.key.vkey, note: await log.note(), fetchConsistency: async () => { throw new Error('HTTP 500') } })
  assert.equal(noProof.code, 'consistency_fetch')
  const otherSizes = await P.checkTrust({ ...base, trust: pinned, servedVKey: log.key.vkey, note: await log.note(), fetchConsistency: async () => ({ old: 1, size: 45, proof: [] }) })
  assert.equal(otherSizes.code, 'consistency_fetch')
  const junk = await P.checkTrust({ ...base, trust: pinned, servedVKey: log.key.vkey, note: await log.note(), fetchConsistency: async (o, s) => ({ old: o, size: s, proof: ['!!'] }) })
  assert.equal(junk.code, 'fork')
})

test('pinning: a pasted policy pins the key, the witnesses and the quorum; it never forgets the last checkpoint', async () => {
  const origin = 'reclaim.example/pools/PIN-3'
  const w1 = await newKey('trustee.example/witness', V.ALG_COSIGNATURE_V1)
  const w2 = await newKey('rating.example/witness', V.ALG_COSIGNATURE_V1)
  const log = await testLog(origin, 12, [w1, w2])
  const policyText = `# from: reclaim ledger policy --pool PIN-3\nlog ${log.key.vkey}\norigin ${origin}\nurl http://127.0.0.1:8080/ledger/PIN-3/\npool PIN-3\nwitness ${w1.vkey}\nwitness ${w2.vkey}\nquorum 2\n`
  const pins = await P.parseTrustInput(policyText)
  assert.deepEqual(pins, { vkey: log.key.vkey, origin, witnesses: [{ name: w1.name, vkey: w1.vkey }, { name: w2.name, vkey: w2.vkey }], quorum: 2 })
  assert.deepEqual(await P.parseTrustInput('  ' + log.key.vkey + '\n'), { vkey: log.key.vkey })
  for (const bad of ['', 'not a key', `log ${log.key.vkey}\nlog ${log.key.vkey}`, `log ${log.key.vkey}\nwitness ${w1.vkey}`, `log ${log.key.vkey}\nwitness ${w1.vkey}\nquorum 2`,
    `log ${w1.vkey}`, `witness ${w1.vkey}\nquorum 1`, `log ${log.key.vkey}\nfoo bar`, log.key.vkey.replace(/.$/, 'A')]) {
    await assert.rejects(P.parseTrustInput(bad), (e) => e instanceof V.VerifyError, JSON.stringify(bad))
  }

  // The server lists a witness key of its own making under the trustee's name, and claims quorum 0.
  const fake = await newKey('trustee.example/witness', V.ALG_COSIGNATURE_V1)
  const serverWitnesses = [{ name: fake.name, vkey: fake.vkey }]
  const base = { origin, servedVKey: log.key.vkey, serverWitnesses, serverQuorum: 0, now: '2026-12-06T12:00:00Z', fetchConsistency: log.fetchConsistency }
  const earlier = (await P.checkTrust({ ...base, trust: null, note: await log.note(12, [fake]) })).trust
  const trust = P.pinPasted(earlier, pins, '2026-12-06T12:05:00Z')
  assert.equal(trust.source, 'pasted')
  assert.deepEqual(trust.last, earlier.last)

  const forgedCosig = await P.checkTrust({ ...base, trust, note: await log.note(12, [fake]) })
  assert.equal(forgedCosig.ok, true, forgedCosig.detail)
  assert.equal(forgedCosig.witnessSource, 'policy')
  assert.equal(forgedCosig.quorum, 2)
  assert.equal(forgedCosig.checkpoint.witnessesVerified, 0, 'a cosignature by a key the policy does not list is not counted')
  log.append(3)
  const real = await P.checkTrust({ ...base, trust, note: await log.note() })
  assert.equal(real.ok, true, real.detail)
  assert.equal(real.checkpoint.witnessesVerified, 2)
  // The pasted key is what counts: a server serving another key is refused even on a first paste.
  const other = await newKey(origin, V.ALG_ED25519)
  assert.equal((await P.checkTrust({ ...base, servedVKey: other.vkey, trust: P.pinPasted(null, pins, base.now), note: await log.note(15, [], other) })).code, 'key_changed')
  // Pasting keeps the remembered checkpoint: a rollback after a paste is still a rollback.
  assert.equal((await P.checkTrust({ ...base, trust: real.trust, note: await log.note(12) })).code, 'rollback')
  // The policy's origin is enforced.
  const wrongOrigin = P.pinPasted(null, { ...pins, origin: 'reclaim.example/pools/OTHER' }, base.now)
  assert.equal((await P.checkTrust({ ...base, trust: wrongOrigin, note: await log.note() })).code, 'origin_mismatch')
})

test('pinning: the browser store keeps one item per pool and refuses a damaged one', () => {
  const m = new Map()
  const storage = { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) }
  const s = P.storageTrustStore(storage)
  assert.equal(s.get('A'), null)
  const t = { v: 1, vkey: 'x+00000000+AA==', source: 'first-sight', pinnedAt: 'now', last: { size: 3, root: 'r', note: 'n', verifiedAt: 'now' } }
  s.set('A', t)
  assert.deepEqual(s.get('A'), t)
  assert.equal(s.get('B'), null)
  for (const bad of ['{', '{"v":2}', JSON.stringify({ ...t, last: { ...t.last, size: -1 } }), JSON.stringify({ ...t, source: 'server' })]) {
    m.set('reclaim.ledger.trust.v1.A', bad)
    assert.throws(() => s.get('A'), /damaged/)
  }
  s.clear('A')
  assert.equal(s.get('A'), null)
})
