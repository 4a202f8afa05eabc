// Types and calls of the settlement API (docs/workout-api.md, "Settlements").
import { api } from '@/api/client'

export interface Instalment {
  seq: number
  due: string
  amount: string
}
export interface Plan {
  id: number
  offer_id?: number
  case_id: string
  total: string
  instalments: Instalment[]
  grace_days: number
  start_on: string
  status: 'active' | 'complete' | 'broken'
  paid: string
  missed_seq?: number
  shortfall: string
}
export interface Offer {
  id: number
  case_id: number
  claim: string
  amount: string
  waived: string
  discount: number
  suggested_discount: number
  status: 'proposed' | 'approved' | 'rejected' | 'accepted' | 'expired' | 'paid' | 'broken'
  maker: string
  maker_role: string
  checker_role?: string
  checker?: string
  decision_note?: string
  expires_on: string
  pay_by: string
  grace_days: number
  accepted_on?: string
  closed_on?: string
  received: string
  note?: string
  created_at: string
  plan?: Plan
}
export interface Suggestion {
  discount: number
  amount: string
  waived: string
  p_accept: number
  expected_npv: number
}
export interface SettlementPage {
  case_id: number
  claim: string
  suggestion?: Suggestion
  curve?: { discount: number; p_accept: number; expected_npv: number }[]
  approval?: { maker: string; checker?: string; roles?: string[] }
  limit?: { role: string; max_discount: number; max_waiver: string }
  offers: Offer[]
  plans: Plan[]
  promises: { id: number; due: string; amount: string; status: string; received: string }[]
  waivers: { id: number; offer_id: number; on: string; waived: string; paid: string }[]
}

export const settleApi = {
  page: (caseId: number) => api.get<SettlementPage>(`/workout/cases/${caseId}/settlements`),
  propose: (caseId: number, body: Record<string, unknown>) => api.post<Offer>(`/workout/cases/${caseId}/offers`, body),
  accept: (id: number, body: Record<string, unknown>) => api.post<Offer>(`/workout/offers/${id}/accept`, body),
  approve: (id: number, note: string) => api.post<Offer>(`/workout/offers/${id}/approve`, { note }),
  reject: (id: number, note: string) => api.post<Offer>(`/workout/offers/${id}/reject`, { note }),
  approvals: () => api.get<{ items: Offer[] }>('/workout/approvals'),
}

/** SETTLE_EVENTS are the case events that change the settlement panel. */
export const SETTLE_EVENTS = ['settlement', 'plan', 'promise']

/** pct shows a share as a percentage with one decimal. */
export function pct(x: number): string {
  return (x * 100).toFixed(1) + '%'
}

/** addMonths adds k months to a YYYY-MM-DD day with end-of-month clipping from the anchor (as the server does). */
export function addMonths(day: string, k: number): string {
  const [y, m, d] = day.split('-').map(Number)
  const t = y * 12 + (m - 1) + k
  const ny = Math.floor(t / 12)
  const nm = (t % 12) + 1
  const last = new Date(Date.UTC(ny, nm, 0)).getUTCDate()
  return `${ny}-${String(nm).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`
}

/** schedule previews NewPlan: total (fen) split evenly over months by largest remainder, first due on first. */
export function schedule(totalMinor: number, first: string, months: number): Instalment[] {
  if (!(months >= 1) || !first || !(totalMinor > 0)) return []
  const base = Math.floor(totalMinor / months)
  let rest = totalMinor - base * months
  const out: Instalment[] = []
  for (let k = 0; k < months; k++) {
    const a = base + (rest > 0 ? 1 : 0)
    if (rest > 0) rest--
    out.push({ seq: k + 1, due: addMonths(first, k), amount: (a / 100).toFixed(2) })
  }
  return out
}
