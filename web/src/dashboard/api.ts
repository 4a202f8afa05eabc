// Types and calls of the manager's dashboard and performance against the price paid
// (docs/performance.md).
import { api } from '@/api/client'

export interface CollectionRow {
  key: string
  cases: number
  collected: number
  forecast: number | null
  ratio: number | null
  contacts: number
  contact_cost: number
}
export interface PerformanceMonth {
  month: number
  label: string
  actual: number
  forecast: number | null
  cum_actual: number
  cum_forecast: number | null
}
export interface Performance {
  key: string
  portfolios: number
  price: number
  purchased: string
  as_of: string
  months_elapsed: number
  has_forecast: boolean
  collected: number
  forecast_to_date: number | null
  forecast_total: number | null
  collected_vs_forecast: number | null
  multiple: number
  irr_to_date: number | null
  irr_to_date_note?: string
  projected_irr: number | null
  projected_irr_note?: string
  projected_irr_scaled: number | null
  underwritten_irr: number | null
  underwritten_irr_note?: string
  target_irr: number | null
  months: PerformanceMonth[]
}
export interface Lift {
  method: string
  champion_mean: number
  challenger_mean: number
  diff: number
  lo: number
  hi: number
  relative_diff: number | null
  relative_lo: number | null
  relative_hi: number | null
}
export interface Dashboard {
  from: string
  to: string
  collections: { total: CollectionRow; by_channel: CollectionRow[]; by_agent: CollectionRow[]; by_agency: CollectionRow[] }
  denials: { attempts: number; denied: number; by_rule: { key: string; count: number }[]; by_day: { day: string; attempts: number; denied: number }[] }
  arms: { champion_cases: number; challenger_cases: number; confidence: number; lift: Lift | null; note?: string }
  experiment?: string
  limitation: { expired: number; within_30d: number; within_90d: number; later: number; unknown: number }
  vintages: Performance[]
}

// The newest trained contact model (GET /workout/contact-model, docs/strategy.md).
export interface ContactModelSummary {
  rows: number
  train_rows: number
  holdout_rows: number
  positives: number
  rows_by_channel: Record<string, number>
  positives_by_channel: Record<string, number>
  auc: number
  pay_share: number
  horizon_days: number
  min_rows: number
}
export interface ContactModelCard {
  model: boolean
  info?: { id: number; name: string; created_at: string; trainer: string; summary: ContactModelSummary }
  challenger_valuation: string
}

export const dashboardApi = {
  contactModel: () => api.get<ContactModelCard>('/workout/contact-model'),
  trainContactModel: (body: { min_rows?: number; horizon_days?: number }) => api.post<ContactModelCard['info']>('/workout/contact-model/train', body),
  dashboard: (q: Record<string, string>) => api.get<Dashboard>('/workout/dashboard', q),
  performance: (q: Record<string, string> = {}) => api.get<{ as_of: string; portfolios: Performance[]; vintages: Performance[] }>('/workout/performance', q),
}
