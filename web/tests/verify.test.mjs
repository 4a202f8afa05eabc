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

before(async () => {
  const src = fs.readFileSync(path.resolve(here, '../src/ledger/verify.ts'), 'utf8')
  const out = ts.transpileModule(src, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'reclaim-verify-'))
  const file = path.join(dir, 'verify.mjs')
  fs.writeFileSync(file, out.outputText)
  V = await import(pathToFileURL(file).href)
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
