import { reactive } from 'vue'
import { api, ApiError } from './api/client'
import type { Me, User } from './api/types'

/** The signed-in user and their permissions, from GET /api/v1/auth/me. */
export const session = reactive({
  user: null as User | null,
  permissions: [] as string[],
  loaded: false,
})

let inflight: Promise<boolean> | null = null

/** loadMe fetches the current user once; it resolves false when nobody is signed in. */
export function loadMe(force = false): Promise<boolean> {
  if (session.loaded && !force) return Promise.resolve(!!session.user)
  if (inflight) return inflight
  inflight = api
    .get<Me>('/auth/me', undefined, { quiet401: true })
    .then((me) => {
      setMe(me)
      return true
    })
    .catch((e) => {
      if (e instanceof ApiError && e.status === 401) {
        clearSession()
        session.loaded = true
        return false
      }
      throw e
    })
    .finally(() => {
      inflight = null
    })
  return inflight
}

export function setMe(me: Me) {
  session.user = me.user
  session.permissions = me.permissions || []
  session.loaded = true
}

export function clearSession() {
  session.user = null
  session.permissions = []
  session.loaded = false
}

export function can(perm?: string | string[]): boolean {
  if (!perm) return true
  const list = Array.isArray(perm) ? perm : [perm]
  return list.some((p) => session.permissions.includes(p))
}

export const Perm = {
  portfolioRead: 'portfolio.read',
  tapeImport: 'tape.import',
  exportMasked: 'tape.export_masked',
  casePersonal: 'case.personal',
  userManage: 'user.manage',
  auditRead: 'audit.read',
  ledgerRead: 'ledger.read',
} as const

/** homePath is where "/" leads: the first page the signed-in user may open. */
export function homePath(): string {
  // Those who work cases (collectors, managers, agencies, legal) start at their queue.
  if (can('case.work')) return '/cases'
  if (can(Perm.portfolioRead)) return '/portfolios'
  if (can(Perm.ledgerRead)) return '/pools'
  if (can('auction.read')) return '/market'
  return '/portfolios'
}
