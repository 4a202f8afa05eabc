// Shapes of the JSON API (docs/api.md). Amounts are decimal strings in major units.

export type Role =
  | 'admin'
  | 'analyst'
  | 'collector'
  | 'bidder'
  | 'investor'
  | 'trustee'
  | 'auditor'
  | 'collection_manager'
  | 'agency'
  | 'legal'
  | 'credit_committee'

export interface User {
  id: number
  username: string
  display_name: string
  role: Role | string
  disabled?: boolean
  created_at?: string
  last_login_at?: string
  /** Set when an admin or operator chose the password: every route but me, logout and
   * change-password answers 403 password_change_required until the user changes it. */
  must_change_password?: boolean
}

/** An API token as listed (never the token itself). */
export interface APIToken {
  id: number
  user_id: number
  name: string
  created_at: string
  revoked: boolean
  revoked_at?: string
  revoked_reason?: string
}

/** One account change from GET /api/v1/audit/accounts. */
export interface AccountEvent {
  id: number
  at: string
  actor: string
  action: string
  user_id: number
  username: string
  /** JSON object text: old and new role, token id and name, reason, ... */
  detail: string
}

export interface Me {
  user: User
  permissions: string[]
}

export interface Portfolio {
  id: number
  name: string
  ref: string
  seller_name: string
  cut_off_date: string
  currency: string
  loan_count: number
  total_claim: string
  imported_at: string
  status: string
  source_file?: string
}

export interface Stratum {
  key: string
  label: string
  label_zh: string
  loans: number
  principal: string
  claim: string
  claim_share: number
  loan_share: number
}

export interface PoolHeader {
  portfolio_ref: string
  cut_off_date: string
  currency: string
  loans: number
  borrowers: number
  principal: string
  interest: string
  fees: string
  claim: string
  wa_days_past_due: number
  wa_borrower_age: number
  age_coverage: number
  wa_credit_line: string | null
  credit_line_coverage: number
  largest_borrower_claim: string
  average_borrower_claim: string
  average_loan_claim: string
  by_five_category: Stratum[] | null
  by_written_off: Stratum[] | null
  by_security_type: Stratum[] | null
  by_legal_status: Stratum[] | null
  by_product: Stratum[] | null
  by_province: Stratum[] | null
  by_dpd_bucket: Stratum[] | null
}

export type StrataKey =
  | 'by_dpd_bucket'
  | 'by_province'
  | 'by_product'
  | 'by_legal_status'
  | 'by_five_category'
  | 'by_written_off'
  | 'by_security_type'

/** One broken rule in one row. The Go type has no JSON tags yet, so both spellings are accepted. */
export interface RowError {
  line?: number
  column?: string
  field?: string
  value?: string
  rule?: string
  message?: string
  /** The message's catalog code and arguments (src/api/messages.ts renders them). */
  code?: string
  args?: Record<string, string> | null
  Line?: number
  Column?: string
  Field?: string
  Value?: string
  Rule?: string
  Message?: string
}

export interface RuleCount {
  rule: string
  description: string
  rows: number
  /** "rule.NAME": the description's catalog code. */
  code?: string
}

export interface ColumnBinding {
  field: string
  column: string
  constant?: string
  unit?: string
}

export interface ImportReport {
  file: string
  format: string
  encoding?: string
  content_hash: string
  status: 'imported' | 'rejected' | 'validated' | string
  message?: string
  message_code?: string
  message_args?: Record<string, string> | null
  rows: number
  imported: number
  rejected: number
  valid: number
  invalid: number
  columns: ColumnBinding[] | null
  unmapped_columns?: string[] | null
  derived_fields?: string[] | null
  missing_critical?: string[] | null
  by_rule: RuleCount[] | null
  errors: RowError[] | null
  errors_shown: number
  errors_total: number
  rejects_file?: string
  header?: PoolHeader | null
  portfolio_id?: number
  seconds: number
}

export interface Upload {
  id: number | string
  file: string
  status: 'running' | 'done' | 'failed' | string
  rows: number
  bytes_read: number
  size: number
  report?: ImportReport | null
  message?: string
  error?: string
}

export interface Page<T> {
  items: T[] | null
  total: number
}

export type LoanRow = Record<string, unknown>

export interface AuditEntry {
  id?: number
  at: string
  actor: string
  purpose: string
  portfolio_id: number
  borrower_ref: string
  fields: string[] | string | null
}

export interface ApiErrorBody {
  code?: string
  message?: string
  fields?: Record<string, string>
  detail?: string
  title?: string
}

// ---- pool ledger (docs/api.md "Ledger"; entry fields in tlog/verify/entry.go)

/** The latest published checkpoint of a pool: tree size, base64 root, the signed note text. */
export interface PoolCheckpoint {
  size: number
  root: string
  note: string
  /** How many witness cosignatures the note carries. */
  cosigners: number
  published_at: string
}

/** A pool and its transparency log: GET /api/v1/pools. */
export interface Pool {
  pool: string
  origin: string
  name: string
  portfolio_id?: number
  currency: string
  cutoff: string
  /** Sequenced entries (the tree size). */
  size: number
  /** base64 root hash of the sequenced tree. */
  root: string
  /** Entries waiting in the outbox to be sequenced. */
  pending: number
  created_at: string
  frozen_at?: string | null
  checkpoint?: PoolCheckpoint | null
  quorum?: number
  integrity?: PoolIntegrity | null
}

/** A witness the log asks to cosign: its name and cosignature/v1 verifier key. */
export interface WitnessInfo {
  name: string
  vkey: string
}

/** One difference between the stored log and what its entries recompute to. */
export interface IntegrityMismatch {
  kind: string
  index: number
  hash_index: number
  level: number
  n: number
  stored?: string
  recomputed?: string
  changed?: string
}

/** The store self-audit status of a pool: damaged means the server stopped signing it. */
export interface PoolIntegrity {
  pool: string
  damaged: boolean
  detected_at?: string
  report?: { pool: string; mismatches: IntegrityMismatch[] | null } | null
  audited_to: number
  last_clean_at?: string
}

/** GET /api/v1/pools/{pool}: the pool with the log's verifier key and its witnesses. */
export interface PoolDetail extends Pool {
  witnesses?: WitnessInfo[] | null
  quorum: number
  vkey?: string
}

/** One sequenced entry; entry is the exact entry bytes as a UTF-8 JSON string. */
export interface LedgerEntry {
  index: number
  event_id: string
  type: string
  entry: string
  queued_at?: string
  sequenced_at?: string
}

/** GET /api/v1/pools/{pool}/entries: a page of entries, newest first, and the tree size. */
export interface LedgerPage {
  items: LedgerEntry[] | null
  size: number
}

/** A period report (the period.report entry's figures plus breakdowns). Amounts in major units. */
export interface PeriodReportRow {
  pool: string
  event_id: string
  period_start: string
  period_end: string
  from_index: number
  to_index: number
  loans_boarded: number
  loans_removed: number
  collections_count: number
  /** Amounts: strings of integer minor units (fen), as on the ledger. */
  collections: string
  principal_collected: string
  opening_balance: string
  boarded_balance: string
  removed_balance: string
  closing_balance: string
  /** Collections per channel, in minor units (fen). */
  collections_by_channel_minor?: Record<string, number> | null
  status_changes?: Record<string, number> | null
}

/** SSE ledger.<pool> "entry" data. */
export interface LedgerEntryEvent {
  index: number
  event_id: string
  type: string
  entry: string
}

/** SSE ledger.<pool> "checkpoint" data. */
export interface LedgerCheckpointEvent {
  size: number
  root: string
  cosigners: number
}
