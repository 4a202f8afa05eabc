import { currentLocale } from './i18n'

// Number formatting per locale. zh-CN shows large amounts in 万元 (ten-thousands of yuan);
// en shows yuan with thousands separators. Amounts arrive as decimal strings.

const cache = new Map<string, Intl.NumberFormat>()
function nf(locale: string, min: number, max: number): Intl.NumberFormat {
  const k = `${locale}|${min}|${max}`
  let f = cache.get(k)
  if (!f) {
    f = new Intl.NumberFormat(locale, { minimumFractionDigits: min, maximumFractionDigits: max })
    cache.set(k, f)
  }
  return f
}

export function toNum(v: unknown): number {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && v !== '') {
    const n = Number(v.replace(/,/g, ''))
    return Number.isFinite(n) ? n : NaN
  }
  return NaN
}

const DASH = '—'

export function fmtInt(v: unknown): string {
  const n = toNum(v)
  if (!Number.isFinite(n)) return DASH
  return nf(currentLocale(), 0, 0).format(n)
}

export function fmtNum(v: unknown, digits = 1): string {
  const n = toNum(v)
  if (!Number.isFinite(n)) return DASH
  return nf(currentLocale(), digits, digits).format(n)
}

export function fmtPct(v: unknown, digits = 1): string {
  const n = toNum(v)
  if (!Number.isFinite(n)) return DASH
  return nf(currentLocale(), digits, digits).format(n * 100) + '%'
}

const SYMBOL: Record<string, string> = { CNY: '¥', USD: '$', EUR: '€', HKD: 'HK$', GBP: '£' }

/**
 * fmtAmount formats a money amount. zh-CN: amounts of 10万 or more in 万元 with two decimals
 * ("1,234.57 万元"), smaller ones in 元; en: "¥1,234,567.89" (the currency code when no symbol).
 * With unit=false the unit is left off (for table cells under a unit header).
 */
export function fmtAmount(v: unknown, currency = 'CNY', opts: { unit?: boolean; wan?: boolean } = {}): string {
  const n = toNum(v)
  if (!Number.isFinite(n)) return DASH
  const unit = opts.unit !== false
  const loc = currentLocale()
  if (loc === 'zh-CN') {
    const useWan = opts.wan ?? Math.abs(n) >= 100000
    const cur = currency === 'CNY' || !currency ? '元' : ' ' + currency
    if (useWan) {
      const s = nf(loc, 2, 2).format(n / 10000)
      return unit ? `${s} 万${cur}` : s
    }
    const s = nf(loc, 2, 2).format(n)
    return unit ? `${s} ${cur.trim()}` : s
  }
  const s = nf('en-US', 2, 2).format(n)
  if (!unit) return s
  const sym = SYMBOL[currency || 'CNY']
  return sym ? `${sym}${s}` : `${currency} ${s}`
}

/**
 * useWan says whether a column (or axis) of amounts is shown in 万元: in zh-CN when its largest
 * amount is 10万 or more, so that one column never mixes 元 and 万元. Always false in en.
 */
export function useWan(values: unknown[]): boolean {
  if (currentLocale() !== 'zh-CN') return false
  let max = 0
  for (const v of values) {
    const n = Math.abs(toNum(v))
    if (Number.isFinite(n) && n > max) max = n
  }
  return max >= 100000
}

/** amountUnit is the unit of a column or axis of amounts: 万元 / 元 in zh-CN, the currency (CNY) in en. */
export function amountUnit(currency = 'CNY', wan = false): string {
  if (currentLocale() === 'zh-CN') {
    const cur = currency === 'CNY' || !currency ? '元' : currency
    return wan ? '万' + cur : cur
  }
  return currency || 'CNY'
}

/**
 * amountAxis scales a value axis of amounts to one unit: its labels are plain numbers (no 万/K
 * suffix that changes along the axis) and `name` is the unit to show at the axis end
 * (万元 or 元 in zh-CN; CNY, CNY thousand or CNY million in en).
 */
export function amountAxis(values: unknown[], currency = 'CNY'): { name: string; fmt: (v: number) => string } {
  const loc = currentLocale()
  let max = 0
  for (const v of values) {
    const n = Math.abs(toNum(v))
    if (Number.isFinite(n) && n > max) max = n
  }
  if (loc === 'zh-CN') {
    const wan = max >= 100000
    const div = wan ? 1e4 : 1
    return { name: amountUnit(currency, wan), fmt: (v) => nf(loc, 0, 2).format(v / div) }
  }
  const cur = currency || 'CNY'
  if (max >= 1e7) return { name: cur + ' million', fmt: (v) => nf('en-US', 0, 2).format(v / 1e6) }
  if (max >= 1e4) return { name: cur + ' thousand', fmt: (v) => nf('en-US', 0, 1).format(v / 1e3) }
  return { name: cur, fmt: (v) => nf('en-US', 0, 0).format(v) }
}

/** fmtCompact is for chart axes: 万/亿 in zh-CN, K/M/B in en. */
export function fmtCompact(n: number): string {
  if (!Number.isFinite(n)) return ''
  const loc = currentLocale()
  const a = Math.abs(n)
  if (loc === 'zh-CN') {
    if (a >= 1e8) return nf(loc, 0, 2).format(n / 1e8) + '亿'
    if (a >= 1e4) return nf(loc, 0, 1).format(n / 1e4) + '万'
    return nf(loc, 0, 0).format(n)
  }
  if (a >= 1e9) return nf('en-US', 0, 2).format(n / 1e9) + 'B'
  if (a >= 1e6) return nf('en-US', 0, 1).format(n / 1e6) + 'M'
  if (a >= 1e3) return nf('en-US', 0, 1).format(n / 1e3) + 'K'
  return nf('en-US', 0, 0).format(n)
}

export function fmtDate(v: unknown): string {
  if (typeof v !== 'string' || !v) return DASH
  return v.slice(0, 10)
}

export function fmtDateTime(v: unknown): string {
  if (typeof v !== 'string' || !v) return DASH
  const d = new Date(v)
  if (isNaN(d.getTime())) return v
  // One date format in both languages (YYYY-MM-DD), local time to the minute.
  const p2 = (n: number) => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}`
}

/** fmtAgo says how long ago an instant was ("3 分钟前", "3 minutes ago"), relative to now. */
export function fmtAgo(v: unknown, now: number = Date.now()): string {
  if (typeof v !== 'string' || !v) return DASH
  const t = new Date(v).getTime()
  if (isNaN(t)) return DASH
  const s = Math.round((t - now) / 1000)
  const rtf = new Intl.RelativeTimeFormat(currentLocale(), { numeric: 'auto' })
  const a = Math.abs(s)
  if (a < 45) return rtf.format(0, 'second')
  if (a < 45 * 60) return rtf.format(Math.round(s / 60), 'minute')
  if (a < 22 * 3600) return rtf.format(Math.round(s / 3600), 'hour')
  if (a < 26 * 86400) return rtf.format(Math.round(s / 86400), 'day')
  if (a < 320 * 86400) return rtf.format(Math.round(s / (30 * 86400)), 'month')
  return rtf.format(Math.round(s / (365 * 86400)), 'year')
}

export function fmtBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return DASH
  const u = ['B', 'KB', 'MB', 'GB']
  let i = 0
  while (n >= 1024 && i < u.length - 1) {
    n /= 1024
    i++
  }
  return nf(currentLocale(), 0, i ? 1 : 0).format(n) + ' ' + u[i]
}

/** stratumLabel picks label_zh in zh-CN and label in en. */
export function stratumLabel(s: { key: string; label?: string; label_zh?: string }): string {
  if (currentLocale() === 'zh-CN') return s.label_zh || s.label || s.key
  return s.label || s.label_zh || s.key
}
