// The marketplace API (docs/marketplace.md) as the console uses it: types mirror market/market.go
// and auction/view.go; amounts are decimal strings in yuan (null when absent).
import { api } from '@/api/client'
import type { DutchSchedule } from './schedule'
// ElMessage is imported explicitly by the market pages, so the resolver does not add its style.
import 'element-plus/es/components/message/style/css'

export interface MarketOrg {
  id: number
  name: string
  licence_type: string
  documents: string[]
  status: 'pending' | 'approved' | 'rejected' | string
  reason: string
  barred: boolean
  barred_reason: string
  created_at: string
  created_by: string
  decided_at?: string
  decided_by?: string
}

export interface Movement {
  id: number
  org_id: number
  auction_id?: number
  kind: 'credit' | 'freeze' | 'release' | 'apply' | 'forfeit' | string
  amount: string
  at: string
  actor: string
  note: string
}

export interface Account {
  org_id: number
  balance: string
  frozen: string
  available: string
  movements: Movement[]
}

export interface Outcome {
  status: string
  end: string
  winner_org?: number
  winner_name?: string
  winner_code?: string
  price: string | null
  reason?: string
  relist?: { min_start_price: string; min_notice_days: number }
}

export interface Auction {
  id: number
  title: string
  description: string
  pack: string
  format: string
  kind: string
  stage: string
  portfolio_id?: number
  loans: number
  external: boolean
  case_number?: string
  platform?: string
  status: string
  notice_at: string
  start: string
  end: string
  appraisal: string | null
  start_price: string | null
  increment: string | null
  deposit: string | null
  teaser: Record<string, unknown> | null
  /** A multi-round auction's sealed-round deadlines, in order. */
  rounds?: string[]
  /** A Dutch auction's price schedule. */
  dutch?: DutchSchedule
  seq: number
  created_at: string
  created_by: string
  closed_at?: string
  outcome?: Outcome
}

export interface BidView {
  bidder: string
  amount: string | null
  at: string
}

export interface View {
  format: string
  status: string
  end: string
  price: string | null
  leader?: string
  reserve: string | null
  dutch_price: string | null
  bids: BidView[]
  rounds?: BidView[]
  hidden: number
  winner?: string
  now: string
}

export interface AuctionState {
  auction: Auction
  view: View
  registered: boolean
  nda: boolean
  deposited: boolean
  my_code?: string
  /** The server's clock when the state was read (the room counts down from it). */
  now: string
  /** When an open Dutch auction's price falls next (absent at the floor). */
  dutch_next?: string
}

export interface MarketEvent {
  /** Set in lists spanning auctions (GET /market/me). */
  auction_id?: number
  seq: number
  at: string
  type: string
  bidder: string
  amount: string | null
  accepted: boolean
  rule: string
  reason: string
  mine?: boolean
}

export interface BidReceipt {
  auction_id: number
  seq: number
  at: string
  accepted: boolean
  rule: string
  reason: string
  repeat: boolean
  amount: string | null
  price: string | null
  end: string
  code: string
}

export interface Settlement {
  auction_id: number
  winner_org: number
  winner_name: string
  price: string
  status: string
  awarded_at: string
  paid_at?: string
  settled_at?: string
  bids: number
  history_hash: string
  ledger_pool?: string
  ledger_event?: string
}

export interface HistoryBid {
  n: number
  at: string
  code: string
  name?: string
  amount: string
}

export interface Result {
  auction: Auction
  bids: HistoryBid[]
  history_hash: string
  settlement?: Settlement
}

export interface MarketMe {
  org: MarketOrg
  account: Account
  bids: MarketEvent[]
}

export interface ListingSpec {
  title: string
  description?: string
  pack: string
  format: string
  kind: string
  portfolio_id?: number
  appraisal?: string | null
  start_price: string | null
  increment: string | null
  deposit: string | null
  reserve?: string | null
  reserve_public?: boolean
  notice_at: string
  start: string
  end: string
  rounds?: string[]
  dutch?: { step: string | null; every_seconds: number; floor: string | null }
}

export interface ListingCheck {
  valid: boolean
  violations: { rule: string; message: string }[]
  pack: {
    name: string
    prefix: string
    extension_seconds: number
    min_start_pct: number
    deposit_min_pct: number
    deposit_max_pct: number
    notice_days: number
    min_duration_seconds: number
    formats: string[]
    min_start_price?: string
    deposit_min?: string
    deposit_max?: string
    reserve_is_start_price: boolean
  }
}

/** What a bid request is: a bid, a sealed quote of a multi-round auction, a Dutch acceptance. */
export type BidType = 'bid' | 'quote' | 'accept'

const B = '/market'

export const market = {
  auctions: () => api.get<Auction[]>(`${B}/auctions`),
  teasers: () => api.get<Auction[]>(`${B}/teasers`),
  state: (id: number | string) => api.get<AuctionState>(`${B}/auctions/${id}`),
  events: (id: number | string, since = 0) => api.get<MarketEvent[]>(`${B}/auctions/${id}/events`, { since, limit: 5000 }),
  result: (id: number | string) => api.get<Result>(`${B}/auctions/${id}/result`),
  register: (id: number) => api.post<void>(`${B}/auctions/${id}/registration`),
  nda: (id: number) => api.post<void>(`${B}/auctions/${id}/nda`),
  deposit: (id: number) => api.post<BidReceipt>(`${B}/auctions/${id}/deposit`),
  /** bid places a bid, a sealed quote (multi-round) or a Dutch acceptance (amount null: the
   * price at the server's receipt time). */
  bid: (id: number, amount: string | null, key: string, type: BidType = 'bid') =>
    api.post<BidReceipt>(`${B}/auctions/${id}/bids`, { amount, key, type }),
  me: () => api.get<MarketMe>(`${B}/me`),
  orgs: () => api.get<MarketOrg[]>(`${B}/orgs`),
  decide: (id: number, approve: boolean, reason: string) => api.post<MarketOrg>(`${B}/orgs/${id}/decision`, { approve, reason }),
  link: (id: number, userId: number) => api.post<void>(`${B}/orgs/${id}/users`, { user_id: userId }),
  credit: (id: number, amount: string, note: string) => api.post<Account>(`${B}/orgs/${id}/deposits`, { amount, note }),
  account: (id: number) => api.get<Account>(`${B}/orgs/${id}/account`),
  check: (spec: ListingSpec) => api.post<ListingCheck>(`${B}/listing-check`, spec),
  create: (spec: ListingSpec) => api.post<Auction>(`${B}/auctions`, spec),
  payment: (id: number) => api.post<Settlement>(`${B}/auctions/${id}/payment`),
}

// ---- exact amounts: decimal strings <-> integer fen (amounts stay below 2^53 fen: the engine
// refuses more than one trillion yuan).

/** toFen parses a decimal yuan string ("1,234.5") into integer fen; NaN when it is not one. */
export function toFen(s: string | null | undefined): number {
  if (s == null) return NaN
  const t = String(s).replace(/[,\s]/g, '')
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(t)
  if (!m) return NaN
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'))
}

/** fenStr formats integer fen as the API's decimal string ("1234.50"). */
export function fenStr(f: number): string {
  const neg = f < 0
  const a = Math.abs(Math.round(f))
  const s = `${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`
  return neg ? '-' + s : s
}

/** BidCheck is the console's advisory check of an English bid; the server decides. */
export type BidCheck = { ok: true } | { ok: false; key: string; min: string; inc: string }

/**
 * checkBid: the first bid is the start price plus k increments (k >= 0); a later one the current
 * price plus k increments (k >= 1) (auction-rules.md, replay semantics).
 */
export function checkBid(amount: string, price: string | null, start: string | null, inc: string | null, first: boolean): BidCheck {
  const a = toFen(amount)
  const base = toFen(first ? start : price)
  const step = toFen(inc)
  if (!Number.isFinite(a) || a <= 0) return { ok: false, key: 'market.bid.notAmount', min: '', inc: inc || '' }
  if (!Number.isFinite(base) || !Number.isFinite(step) || step <= 0) return { ok: true }
  const min = first ? base : base + step
  if (a < min) return { ok: false, key: 'market.bid.tooLow', min: fenStr(min), inc: fenStr(step) }
  if ((a - base) % step !== 0) return { ok: false, key: 'market.bid.offGrid', min: fenStr(min), inc: fenStr(step) }
  return { ok: true }
}

/** extensionSeconds is each pack's anti-sniping window E (auction-rules.md), for display. */
export const extensionSeconds: Record<string, number> = { judicial: 300, yindeng: 300, marketplace: 180 }

/** countdown formats the time left until end ("1d 02:03:04", "02:03", "0:00"). */
export function countdown(endMs: number, nowMs: number): string {
  let s = Math.max(0, Math.floor((endMs - nowMs) / 1000))
  const d = Math.floor(s / 86400)
  s -= d * 86400
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  const two = (n: number) => String(n).padStart(2, '0')
  if (d > 0) return `${d}d ${two(h)}:${two(m)}:${two(s)}`
  if (h > 0) return `${h}:${two(m)}:${two(s)}`
  return `${m}:${two(s)}`
}

/** newKey returns a fresh idempotency key for one bid (a retry of the same bid reuses it). */
export function newKey(): string {
  const b = new Uint8Array(12)
  crypto.getRandomValues(b)
  return 'web-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
}

/** fmtSecond formats an instant in local time to the second ("2026-12-06 16:09:42"): in an
 * auction room an extension of seconds must be visible. */
export function fmtSecond(v: string | null | undefined): string {
  if (!v) return '—'
  const d = new Date(v)
  if (isNaN(d.getTime())) return v
  const p2 = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`
}
