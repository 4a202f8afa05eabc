// The investor portal's view of the live-deal API (docs/abs-live.md, "API (for the investor
// portal)"). Amounts are decimal strings in yuan, dates YYYY-MM-DD.
import { api, url } from '@/api/client'

export interface Holding {
  investor: string
  pool: string
  tranche: string
  amount: string
}

export interface DealTranche {
  name: string
  balance: string
  coupon?: string
  issue_price?: string
  rating?: string
}

export interface Deal {
  pool: string
  name: string
  origin: string
  hash: string
  opened_hash: string
  criteria: Record<string, unknown> | null
  created_by: string
  created_at: string
  tranches: DealTranche[]
  holdings: Holding[] | null
}

export interface CurvePoint {
  period: number
  date: string
  forecast: string
  actual: string | null
  cumulative_forecast: string
  cumulative_actual: string | null
}

export interface TrancheBalance {
  name: string
  issued: string
  balance: string
  factor: string
}

export interface TriggerHeadroom {
  trigger: string
  kind: string
  metric: string
  threshold: string
  headroom: string
  state: 'ok' | 'near' | 'hit'
  reason: string
}

export interface Alert {
  level: 'warning' | 'critical'
  trigger: string
  message: string
}

export interface Snapshot {
  deal: string
  pool: string
  as_of: string
  deal_hash: string
  period: number
  status: string
  curve: CurvePoint[]
  tranches: TrancheBalance[]
  reserves: { account: string; balance: string }[]
  triggers: TriggerHeadroom[]
  alerts: Alert[]
}

export interface ReportInfo {
  period: number
  payment_date: string
  event_id: string
  hash: string
  created_at: string
  checkpoint?: { size: number } | null
}

export interface LoanRow {
  ref: string
  product: string
  prefecture: string
  grade: string
  dpd_at_boarding: number
  claim_at_boarding: string
  balance: string
  status: string
}

const enc = encodeURIComponent

export const dealsApi = {
  list: () => api.get<Deal[]>('/deals'),
  holdings: () => api.get<Holding[]>('/holdings'),
  get: (pool: string) => api.get<Deal>(`/deals/${enc(pool)}`),
  monitor: (pool: string) => api.get<Snapshot>(`/deals/${enc(pool)}/monitor`),
  reports: (pool: string) => api.get<ReportInfo[]>(`/deals/${enc(pool)}/reports`),
  closeReport: (pool: string, period: number) => api.post<unknown>(`/deals/${enc(pool)}/reports`, { period }),
  loans: (pool: string) => api.get<LoanRow[]>(`/deals/${enc(pool)}/loans`),
}

/** reportUrl is the address of a stored report in one of its formats (json, csv, html). */
export function reportUrl(pool: string, period: number, format: 'json' | 'csv' | 'html'): string {
  return url(`/deals/${enc(pool)}/reports/${period}`, { format })
}

/** previewUrl is the address of the current period's report computed now (not yet closed). */
export function previewUrl(pool: string, period: number): string {
  return url(`/deals/${enc(pool)}/reports/${period}/preview`)
}

/** loansUrl is the address of the pool's loan-level data without personal data. */
export function loansUrl(pool: string, format: 'csv' | 'parquet'): string {
  return url(`/deals/${enc(pool)}/loans`, { format })
}

/** streamUrl is the SSE address of the deal's monitoring topic. */
export function streamUrl(pool: string): string {
  return url('/stream', { topic: `deal.${pool}` })
}
