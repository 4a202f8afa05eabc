// Calls of the case's other actions (docs/workout-api.md): legal steps with the court fee
// preview, notices of assignment and their delivery, complaints, consent / do-not-contact
// records, agency placement and recall, deceased / bankrupt suppression.
import { api } from '@/api/client'

export interface CourtFee {
  claim: string
  court_fee: string
  procedure: 'ordinary' | 'simplified'
  currency: string
}
export interface Notice {
  id: number
  kind: string
  text: string
  created_at: string
  delivered_on?: string
  channel?: string
  proof_ref?: string
  delivered_by?: string
}
export interface Complaint {
  id: number
  channel: string
  received_on: string
  summary: string
  status: string
  actor: string
  handled_by?: string
  handled_at?: string
  resolution?: string
}
export interface Consent {
  id: number
  kind: string
  value: string
  ref: string
  actor: string
  at: string
  revoked_at?: string
}
export interface Placement {
  id: number
  agency: string
  placed_at: string
  placed_by: string
  recalled_at?: string
  recalled_by?: string
  reason: string
}
export interface LegalAction {
  id: number
  outcome: string
  amount?: string
  effective?: string
  note: string
}

export const LEGAL_STEPS = ['filing', 'judgment', 'enforcement', 'enforcement_terminated', 'enforcement_restored']
export const COMPLAINT_CHANNELS = ['12378', '12345', '12315', 'direct', 'regulator', 'court', 'other']
export const CONSENT_KINDS = ['do_not_contact', 'late_hours', 'third_party_stop', 'inconvenient', 'channel']
export const DELIVERY_CHANNELS = ['ems', 'post', 'in_person', 'court', 'sms', 'email']

export const caseActionsApi = {
  courtFee: (id: number, claim: string, simplified: boolean) =>
    api.get<CourtFee>(`/cases/${id}/legal/court-fee`, { claim, simplified }),
  legal: (id: number, body: Record<string, unknown>) => api.post<LegalAction>(`/cases/${id}/legal`, body),
  deliver: (id: number, body: { notice_id: number; delivered_on: string; channel: string; proof_ref: string }) =>
    api.post<Notice>(`/cases/${id}/notices/deliver`, body),
  complaint: (id: number, body: { channel: string; received_on: string; summary: string }) => api.post<Complaint>(`/cases/${id}/complaints`, body),
  handle: (id: number, complaintId: number, resolution: string) =>
    api.post<Complaint>(`/cases/${id}/complaints/handle`, { complaint_id: complaintId, resolution }),
  consent: (id: number, body: { kind: string; value: string; ref: string }) => api.post<Consent>(`/cases/${id}/consents`, body),
  revoke: (id: number, consentId: number) => api.post(`/cases/${id}/consents/revoke`, { consent_id: consentId }),
  place: (id: number, agency: string, reason: string) => api.post<Placement>(`/cases/${id}/placement`, { agency, reason }),
  recall: (id: number, reason: string) => api.post<Placement>(`/cases/${id}/recall`, { reason }),
  suppress: (id: number, body: { deceased?: boolean; bankrupt?: boolean; note?: string }) => api.post(`/cases/${id}/suppression`, body),
}

/** claimPattern is the API's amount form: digits with at most two decimals. */
export const claimPattern = /^\d{1,15}(\.\d{1,2})?$/
