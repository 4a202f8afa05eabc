import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router'
import { loadMe, session, clearSession, homePath } from './session'
import { setUnauthorizedHandler, setPasswordChangeHandler } from './api/client'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    /** The permission (any of) a page needs; without it the layout shows the denial. */
    perm?: string | string[]
    title?: string
  }
}

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true, title: 'login.title' } },
    // Outside the layout: a user with a temporary password may call nothing else.
    { path: '/password', name: 'password', component: () => import('./views/ChangePasswordView.vue'), meta: { title: 'password.title' } },
    {
      path: '/',
      component: () => import('./views/AppLayout.vue'),
      children: [
        // Resolved in beforeEach once the user's permissions are known (see homePath).
        { path: '', name: 'home', component: () => import('./views/NotFound.vue') },
        { path: 'portfolios', name: 'portfolios', component: () => import('./views/PortfolioList.vue'), meta: { perm: 'portfolio.read', title: 'nav.portfolios' } },
        { path: 'portfolios/:id', name: 'portfolio', component: () => import('./views/PortfolioDetail.vue'), meta: { perm: 'portfolio.read', title: 'nav.portfolios' } },
        { path: 'upload', name: 'upload', component: () => import('./views/UploadView.vue'), meta: { perm: 'tape.import', title: 'nav.upload' } },
        { path: 'admin/users', name: 'users', component: () => import('./views/UsersView.vue'), meta: { perm: 'user.manage', title: 'nav.users' } },
        { path: 'pools', name: 'pools', component: () => import('./views/LedgerList.vue'), meta: { perm: 'ledger.read', title: 'nav.ledger' } },
        { path: 'pools/:pool', name: 'pool', component: () => import('./views/LedgerPool.vue'), meta: { perm: 'ledger.read', title: 'nav.ledger' } },
        { path: 'models', name: 'models', component: () => import('./views/ModelsView.vue'), meta: { perm: 'valuation.read', title: 'nav.models' } },
        { path: 'audit', name: 'audit', component: () => import('./views/AuditView.vue'), meta: { perm: 'audit.read', title: 'nav.audit' } },
        { path: 'deals', name: 'deals', component: () => import('./deals/DealsList.vue'), meta: { perm: 'deal.read', title: 'deals.nav' } },
        { path: 'deals/:pool', name: 'deal', component: () => import('./deals/DealView.vue'), meta: { perm: 'deal.read', title: 'deals.nav' } },
        { path: 'market', name: 'market', component: () => import('./market/MarketList.vue'), meta: { perm: 'auction.read', title: 'market.nav.list' } },
        { path: 'market/new', name: 'market-new', component: () => import('./market/ListingWizard.vue'), meta: { perm: 'auction.manage', title: 'market.wizard.title' } },
        { path: 'market/:id(\\d+)', name: 'auction', component: () => import('./market/AuctionRoom.vue'), meta: { perm: 'auction.read', title: 'market.nav.list' } },
        { path: 'bids', name: 'my-bids', component: () => import('./market/MyMarket.vue'), meta: { perm: 'auction.bid', title: 'market.nav.me' } },
        { path: 'bidders', name: 'bidders', component: () => import('./market/OrgApprovals.vue'), meta: { perm: 'org.manage', title: 'market.nav.orgs' } },
        { path: 'cases', name: 'workout-queue', component: () => import('./workout/CaseQueue.vue'), meta: { perm: 'case.read', title: 'workout.nav.cases' } },
        { path: 'cases/:id', name: 'workout-case', component: () => import('./workout/CasePage.vue'), meta: { perm: 'case.read', title: 'workout.nav.cases' } },
        { path: 'statements', name: 'workout-statements', component: () => import('./workout/StatementsView.vue'), meta: { perm: 'payment.read', title: 'workout.nav.statements' } },
        { path: 'dashboard', name: 'workout-dashboard', component: () => import('./dashboard/DashboardView.vue'), meta: { perm: 'workout.dashboard', title: 'dashboard.nav' } },
        { path: 'approvals', name: 'settle-approvals', component: () => import('./workout/ApprovalsView.vue'), meta: { perm: 'settlement.approve', title: 'settle.approvals' } },
        { path: 'campaigns', name: 'campaigns', component: () => import('./campaigns/CampaignsView.vue'), meta: { perm: 'compliance.report', title: 'campaigns.nav' } },
        { path: 'compliance', name: 'workout-compliance', component: () => import('./workout/ComplianceReport.vue'), meta: { perm: 'compliance.report', title: 'workout.nav.compliance' } },
        { path: ':pathMatch(.*)*', name: 'notfound', component: () => import('./views/NotFound.vue'), meta: { title: 'notFound.title' } },
      ],
    },
  ],
  scrollBehavior() {
    return { top: 0 }
  },
})

function loginTarget(to: RouteLocationNormalized) {
  return { name: 'login', query: to.fullPath && to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
}

router.beforeEach(async (to) => {
  if (to.meta.public) return true
  let signedIn = false
  try {
    signedIn = await loadMe()
  } catch {
    // The server is unreachable or failing; let the page show its own error.
    return to.name === 'home' ? { path: '/portfolios', replace: true } : true
  }
  if (!signedIn) return loginTarget(to)
  if (session.user?.must_change_password && to.name !== 'password') {
    return { name: 'password', query: to.fullPath && to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (to.name === 'home') return { path: homePath(), replace: true }
  return true
})

// Any 401 from the API (session expired) sends the user to sign in, then back.
setUnauthorizedHandler(() => {
  const cur = router.currentRoute.value
  if (cur.meta.public) return
  clearSession()
  session.loaded = true
  router.replace(loginTarget(cur))
})

// A 403 password_change_required (an administrator reset the password meanwhile, or set it at
// creation) sends the user to choose their own.
setPasswordChangeHandler(() => {
  const cur = router.currentRoute.value
  if (cur.name === 'password' || cur.meta.public) return
  if (session.user) session.user.must_change_password = true
  router.replace({ name: 'password', query: { redirect: cur.fullPath } })
})
