// Bulk contact campaigns (docs/workout-api.md, "Campaigns").
import { api } from '@/api/client'

export interface CampaignSelection {
  case_ids?: number[]
  portfolio_id?: number
  assignee?: string
  agency?: string
  all?: boolean
}
export interface Campaign {
  id: number
  name: string
  channel: 'sms' | 'letter' | 'email'
  template: string
  selection: CampaignSelection
  max_per_day: number
  scheduled_at: string
  status: 'scheduled' | 'running' | 'done'
  total: number
  done: number
  sent: number
  denied: number
  by_rule: Record<string, number>
  created_by: string
  created_at: string
  started_at?: string
  finished_at?: string
}
export interface CampaignRequest {
  key: string
  name: string
  channel: string
  template: string
  selection: CampaignSelection
  max_per_day?: number
  scheduled_at: string
}

export const campaignApi = {
  list: () => api.get<Campaign[]>('/workout/campaigns', { limit: 100 }),
  get: (id: number) => api.get<Campaign>(`/workout/campaigns/${id}`),
  create: (req: CampaignRequest) => api.post<Campaign>('/workout/campaigns', req),
}

/** newKey is a fresh idempotency key: a retried submit reuses it, so nothing is sent twice. */
export function newKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto ? crypto.randomUUID() : 'k-' + Date.now().toString(36) + Math.random().toString(36).slice(2)
}
