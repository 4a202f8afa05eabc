// Timeline lines, in the page's language, for the case actions that are not contacts: legal
// steps (with the court fee), complaints and their handling, consent records, placements and
// recalls, suppression and the notice's delivery. Anything else: undefined (the caller's own
// wording applies).
import { fmtAmount, fmtDate } from '@/format'
import type { TimelineItem } from './api'

type T = (key: string, named?: Record<string, unknown>) => string
type TE = (key: string) => boolean

interface ActionFields {
  outcome?: string
  note?: string
  channel?: string
  agency?: string
  amount?: string
  effective?: string
}

/** kindLabel names a timeline kind: the case actions' own words first, then the workbench's. */
export function kindLabel(kind: string, t: T, te: TE): string {
  if (te('caseui.kinds.' + kind)) return t('caseui.kinds.' + kind)
  if (te('workout.kinds.' + kind)) return t('workout.kinds.' + kind)
  return kind
}

/** actionLine is the words of one non-contact action, or undefined. */
export function actionLine(it: TimelineItem, t: T, te: TE): string | undefined {
  const lbl = (k: string, v?: string) => (v && te(k + v) ? t(k + v) : v || '')
  const join = (...p: (string | undefined)[]) => p.filter(Boolean).join(' · ')
  if (it.type === 'attempt' && it.attempt?.outcome === 'pending') {
    // A pre-dial check: nothing was contacted.
    return join(lbl('workout.kinds.', it.attempt.channel), t('caseui.pending'))
  }
  if (it.type !== 'action' || !it.action) return undefined
  const a = it.action as ActionFields
  switch (it.kind) {
    case 'legal':
      return join(lbl('caseui.legal.steps.', a.outcome), a.effective ? fmtDate(a.effective) : '',
        a.amount && Number(a.amount) > 0 ? t('caseui.legal.fee') + ' ' + fmtAmount(a.amount) : '', a.note)
    case 'complaint':
      return join(lbl('caseui.complaint.channels.', a.channel), a.note)
    case 'complaint_handled':
      return join(t('caseui.complaint.status.handled'), a.note)
    case 'consent': {
      if (a.outcome === 'revoked') {
        // note "do_not_contact revoked (record 3)"
        const k = (a.note || '').split(' ')[0]
        return join(t('caseui.consent.revoked'), lbl('workout.consents.', k))
      }
      // note "do_not_contact recorded (ref …)": the reference is what the reader needs.
      const ref = /\(ref (.*)\)$/.exec(a.note || '')?.[1]
      return join(lbl('workout.consents.', a.outcome), ref !== undefined ? ref : a.note)
    }
    case 'placement':
      return join(a.agency, a.note)
    case 'recall':
      return join(a.agency, a.note)
    case 'suppression': {
      // outcome "deceased=true,bankrupt=false"
      const parts = (a.outcome || '').split(',').filter(Boolean).map((kv) => {
        const [k, v] = kv.split('=')
        return t(`caseui.suppression.${k}.${v === 'true' ? 'on' : 'off'}`)
      })
      return join(parts.join(', '), a.note)
    }
    case 'notice_delivered':
      return join(t('caseui.notice.name'), lbl('caseui.notice.channels.', a.channel), a.effective ? fmtDate(a.effective) : '',
        /\(proof (.*)\)$/.exec(a.note || '')?.[1] ?? a.note)
  }
  return undefined
}
