// The pool ledger's entry types and their fields, in the order tlog/verify/entry.go encodes them,
// with the kind of each value so that pages can format it. Entries are UTF-8 JSON with a fixed
// key order; amounts are strings of integer minor units ("123456" is 1,234.56 yuan), as
// ../shared/design/ledger.md specifies.

export type FieldKind = 'text' | 'amount' | 'int' | 'date' | 'hex' | 'loan' | 'channel' | 'status' | 'removal' | 'currency' | 'list' | 'vkey'

export interface FieldDef {
  key: string
  kind: FieldKind
  /** Shown in the one-line summary of the live feed. */
  summary?: boolean
}

const f = (key: string, kind: FieldKind, summary = false): FieldDef => ({ key, kind, summary })

/** The entry types, in the order the console lists them. */
export const ENTRY_TYPES = [
  'pool.opened',
  'loan.boarded',
  'loan.collection',
  'loan.status',
  'loan.removed',
  'loan.record_updated',
  'cash.statement',
  'period.report',
  'auction.result',
  'key.rotation',
] as const

/** The header keys every entry starts with. */
export const HEADER_KEYS = ['v', 'pool', 'event_id', 'type', 'effective']

/** FIELDS lists each type's keys after the header (tlog/verify/entry.go, fields()). */
export const FIELDS: Record<string, FieldDef[]> = {
  'pool.opened': [f('name', 'text', true), f('cutoff', 'date', true), f('currency', 'currency', true), f('waterfall_hash', 'hex')],
  'loan.boarded': [
    f('loan', 'loan', true), f('claim', 'amount', true), f('principal', 'amount'), f('interest', 'amount'), f('fees', 'amount'),
    f('dpd', 'int', true), f('commitment', 'hex'),
  ],
  'loan.collection': [
    f('loan', 'loan', true), f('amount', 'amount', true), f('principal', 'amount'), f('interest', 'amount'), f('fees', 'amount'),
    f('channel', 'channel', true), f('bank_txn', 'hex'),
  ],
  'loan.status': [f('loan', 'loan', true), f('status', 'status', true), f('reason', 'text', true)],
  'loan.removed': [f('loan', 'loan', true), f('reason', 'removal', true), f('balance', 'amount', true), f('price', 'amount', true)],
  'loan.record_updated': [f('loan', 'loan', true), f('commitment', 'hex'), f('fields', 'list', true)],
  'cash.statement': [
    f('account', 'hex'), f('period_start', 'date', true), f('period_end', 'date', true), f('opening', 'amount'), f('credits', 'amount', true),
    f('debits', 'amount', true), f('closing', 'amount', true), f('statement_hash', 'hex'),
  ],
  'period.report': [
    f('period_start', 'date', true), f('period_end', 'date', true), f('from_index', 'int'), f('to_index', 'int'),
    f('loans_boarded', 'int'), f('loans_removed', 'int'), f('collections_count', 'int', true), f('collections', 'amount', true),
    f('principal_collected', 'amount'), f('opening_balance', 'amount'), f('boarded_balance', 'amount'), f('removed_balance', 'amount'),
    f('closing_balance', 'amount', true), f('report_hash', 'hex'),
  ],
  'auction.result': [f('auction', 'text', true), f('lot', 'text', true), f('loans', 'int', true), f('price', 'amount', true), f('winner', 'hex')],
  'key.rotation': [f('old_key', 'vkey'), f('new_key', 'vkey', true)],
}

/** typeKey turns an entry type into an i18n key segment ("loan.boarded" -> "loan_boarded"). */
export function typeKey(type: string): string {
  return type.replace(/\./g, '_')
}

/** A decoded entry: its JSON object, or null when the bytes are not a JSON object. */
export type DecodedEntry = Record<string, unknown>

/** decodeEntry parses entry JSON; it returns null (never throws) for anything but an object. */
export function decodeEntry(text: string): DecodedEntry | null {
  try {
    const v = JSON.parse(text)
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as DecodedEntry) : null
  } catch {
    return null
  }
}

/** fieldsOf returns the field list of a type (the keys of the entry itself when the type is unknown). */
export function fieldsOf(type: string, e: DecodedEntry | null): FieldDef[] {
  const known = FIELDS[type]
  if (known) return known
  if (!e) return []
  return Object.keys(e)
    .filter((k) => !HEADER_KEYS.includes(k))
    .map((k) => f(k, typeof e[k] === 'number' ? 'int' : 'text', true))
}

/** Colours per entry type, shared by tags and charts. */
export const TYPE_COLORS: Record<string, string> = {
  'pool.opened': '#1d3f8f',
  'loan.boarded': '#3e7cc9',
  'loan.collection': '#1f7a4d',
  'loan.status': '#7a7fb0',
  'loan.removed': '#d9825b',
  'loan.record_updated': '#9aa4b2',
  'cash.statement': '#5fb0c9',
  'period.report': '#e2b65a',
  'auction.result': '#a8687d',
  'key.rotation': '#b42318',
}

/** shortHex abbreviates a long hex string for display: first 8 and last 4 digits. */
export function shortHex(s: string, head = 8, tail = 4): string {
  return s.length > head + tail + 1 ? `${s.slice(0, head)}…${s.slice(-tail)}` : s
}

/** toMinor parses an amount in major units with up to two decimals ("1234.5") into minor units. */
export function toMinor(s: unknown): bigint | null {
  if (typeof s !== 'string') return null
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s.trim())
  if (!m) return null
  const v = BigInt(m[2]) * 100n + BigInt((m[3] || '0').padEnd(2, '0'))
  return m[1] ? -v : v
}

/** ledgerAmount converts a ledger amount (a string of integer minor units, "123456") into a
 *  major-unit decimal string ("1234.56") for display and arithmetic; null when malformed. */
export function ledgerAmount(s: unknown): string | null {
  if (typeof s !== 'string' || !/^-?\d+$/.test(s)) return null
  return minorToMajor(BigInt(s))
}

/** minorToMajor writes minor units as a major-unit decimal string with two decimals. */
export function minorToMajor(n: bigint | number): string {
  const v = BigInt(n)
  const neg = v < 0n
  const a = neg ? -v : v
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`
}
