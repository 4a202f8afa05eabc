// Types and calls of the workout and payments API (docs/workout-api.md, docs/payments.md).
import { api, url } from '@/api/client'

export interface CaseRow {
  id: number
  ref: string
  status: string
  assignee?: string
  agency?: string
  deceased: boolean
  bankrupt: boolean
  do_not_contact: boolean
  limitation_expiry?: string
  enforcement_deadline?: string
  loans: number
  balance: string
  masked_name?: string
  masked_phone?: string
  limitation_warning?: string
  enforcement_warning?: string
  updated_at?: string
}
// One planned contact of a day's live queue (GET /workout/queue, docs/strategy.md).
export interface PlanItem {
  day: string
  case_id: number
  arm: string
  team: string
  assignee?: string
  agency?: string
  channel: string
  planned_at: string
  value: number
  net: number
  rank: number
}
export interface Reason {
  rule: string
  message: string
}
export interface TimelineItem {
  at: string
  type: 'action' | 'attempt' | 'movement'
  kind: string
  actor: string
  summary: string
  attempt?: { allowed: boolean; reasons?: Reason[]; local_at?: string; outcome?: string; channel?: string }
  action?: { recording_ref?: string; outcome?: string; note?: string }
}
export interface Account {
  loan_id: number
  loan_ref: string
  principal: string
  interest: string
  fees: string
  claim: string
  status: string
  boarded_on?: string
  limitation_expiry?: string
}
export interface CasePage extends CaseRow {
  accounts: Account[]
  timeline: TimelineItem[]
  notices?: { id: number; delivered_on?: string; channel?: string }[]
  complaints?: { id: number; channel: string; summary: string; handled_at?: string }[]
  consents?: { id: number; kind: string; value?: string; revoked_at?: string }[]
}
export interface ContactResult {
  allowed: boolean
  reasons?: Reason[]
  attempt?: { id: number; local_at: string }
}
export interface Payment {
  id: number
  txn_id: string
  import_id?: number
  line?: number
  value_date: string
  amount: string
  reference: string
  payer_masked?: string
  status: string
  case_id?: number
  method?: string
  queue_reason?: string
  queue_detail?: string
  credit: string
  created_at: string
}
export interface StatementImport {
  id: number
  filename: string
  lines: number
  matched: number
  queued: number
  reversals: number
  applied: string
}
export interface ReportRow {
  day: string
  agent: string
  agency: string
  attempts: number
  denied: number
  by_rule?: Record<string, number>
}

export const workoutApi = {
  cases: (q: Record<string, string | number | boolean>) => api.get<{ items: CaseRow[] }>('/cases', q),
  queue: (day: string) => api.get<{ day: string; items: PlanItem[] }>('/workout/queue', { day }),
  case: (id: number) => api.get<CasePage>(`/cases/${id}`),
  reveal: (id: number, purpose: string) => api.post<Record<string, unknown>>(`/cases/${id}/personal`, { purpose }),
  contact: (id: number, body: Record<string, unknown>, check = false) =>
    api.post<ContactResult>(`/cases/${id}/contacts${check ? '/check' : ''}`, body, { headers: { 'X-Reclaim-Client': 'console' } }),
  note: (id: number, note: string) => api.post(`/cases/${id}/notes`, { note }),
  complaint: (id: number, body: Record<string, unknown>) => api.post(`/cases/${id}/complaints`, body),
  consent: (id: number, body: Record<string, unknown>) => api.post(`/cases/${id}/consents`, body),
  payments: (q: Record<string, string | number>) => api.get<Payment[] | { items: Payment[] }>('/payments', q),
  upload: (file: File) => {
    const fd = new FormData()
    fd.append('file', file)
    return api.post<StatementImport>('/payments/statements', fd)
  },
  match: (id: number, caseId: number) => api.post<Payment>(`/payments/${id}/match`, { case_id: caseId }),
  reverse: (id: number, date: string, reason: string) => api.post<Payment>(`/payments/${id}/reverse`, { date, reason }),
  report: (q: Record<string, string>) => api.get<{ from: string; to: string; rows: ReportRow[] }>('/compliance/report', q),
}

/** stream opens the SSE topic and calls on() for every named event; returns the source. */
export function stream(topic: string, events: string[], on: (type: string, data: unknown) => void, state?: (s: string) => void): EventSource | null {
  if (typeof EventSource === 'undefined') return null
  const src = new EventSource(url('/stream', { topic }), { withCredentials: true })
  state?.('connecting')
  src.onopen = () => state?.('live')
  src.onerror = () => state?.(src.readyState === EventSource.CLOSED ? 'off' : 'connecting')
  for (const e of events) {
    src.addEventListener(e, (ev) => {
      let d: unknown = null
      try {
        d = JSON.parse((ev as MessageEvent).data)
      } catch {
        /* not JSON */
      }
      on(e, d)
    })
  }
  return src
}

/** CASE_EVENTS are the events of topic case.<id>. */
export const CASE_EVENTS = ['contact', 'action', 'assigned', 'placed', 'recalled', 'complaint', 'consent', 'consent_revoked', 'suppression', 'notice_delivered', 'agency_contacts']

/** localInstant builds an RFC 3339 instant at the debtor's local time (UTC+8, China). */
export function localInstant(day: string, time: string): string {
  return `${day}T${time.length === 5 ? time + ':00' : time}+08:00`
}

/** todayCST is today's date in China (UTC+8). */
export function todayCST(): string {
  return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 10)
}
