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
    res = await fetch(path, { credentials: 'same-origin', cache: 'no-store', headers: { Accept: 'text/plain' } })
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
