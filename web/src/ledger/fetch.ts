// The public raw log of a pool, fetched straight from /ledger/{pool}/ (not the JSON API): the
// log's note verifier key and its latest signed checkpoint, exactly as any investor's tool sees
// them.

/** RawLogError is a failed fetch of the raw log (status 0: the network). */
export class RawLogError extends Error {
  status: number
  constructor(status: number, what: string) {
    super(`${what}: ${status ? 'HTTP ' + status : 'network error'}`)
    this.status = status
  }
}

async function get(path: string, what: string): Promise<Response> {
  let res: Response
  try {
    res = await fetch(path, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/plain, application/json' } })
  } catch {
    throw new RawLogError(0, what)
  }
  if (!res.ok) throw new RawLogError(res.status, what)
  return res
}

const base = (pool: string) => `/ledger/${encodeURIComponent(pool)}`

/** fetchVerifierKey returns the text of GET /ledger/{pool}/vkey. */
export async function fetchVerifierKey(pool: string): Promise<string> {
  return (await get(`${base(pool)}/vkey`, 'vkey')).text()
}

/** fetchCheckpoint returns the exact bytes of GET /ledger/{pool}/checkpoint (a signed note). */
export async function fetchCheckpoint(pool: string): Promise<Uint8Array> {
  return new Uint8Array(await (await get(`${base(pool)}/checkpoint`, 'checkpoint')).arrayBuffer())
}

/** ConsistencyProofDoc is GET /ledger/{pool}/proof/consistency: hashes in standard base64. */
export interface ConsistencyProofDoc {
  old: number
  size: number
  proof: string[]
}

/**
 * fetchConsistency returns the server's consistency proof from the tree of size old to the tree
 * of size size (GET /ledger/{pool}/proof/consistency?old=&size=; needs ledger.read). The proof
 * is checked by the caller (verifyConsistency), never trusted.
 */
export async function fetchConsistency(pool: string, old: number, size: number): Promise<ConsistencyProofDoc> {
  const res = await get(`${base(pool)}/proof/consistency?old=${old}&size=${size}`, 'consistency proof')
  try {
    return (await res.json()) as ConsistencyProofDoc
  } catch {
    throw new RawLogError(res.status, 'consistency proof: not JSON')
  }
}
