// Labels and number formats of the valuation pages: feature names, feature values (categories by
// name), reason-code contributions, IRRs and multiples, in the current locale.
import { i18n, currentLocale } from '@/i18n'
import { fmtInt, fmtNum, fmtPct, toNum } from '@/format'
import { OTHER_FEATURES, type Reason } from '@/api/valuation'

const DASH = '—'

function tr(key: string, fallback: string): string {
  const g = i18n.global
  return g.te(key) ? g.t(key) : fallback
}

/** featureLabel is the feature's name in the current locale, or its model name when unknown. */
export function featureLabel(feature: string): string {
  if (feature === OTHER_FEATURES) return tr('valuation.reasons.other', 'other features')
  return tr('features.' + feature, feature)
}

// Provinces by GB/T 2260 code (the levels of the cn-v1 "province" feature).
const PROVINCES: Record<string, [string, string]> = {
  '110000': ['北京', 'Beijing'], '120000': ['天津', 'Tianjin'], '130000': ['河北', 'Hebei'], '140000': ['山西', 'Shanxi'],
  '150000': ['内蒙古', 'Inner Mongolia'], '210000': ['辽宁', 'Liaoning'], '220000': ['吉林', 'Jilin'], '230000': ['黑龙江', 'Heilongjiang'],
  '310000': ['上海', 'Shanghai'], '320000': ['江苏', 'Jiangsu'], '330000': ['浙江', 'Zhejiang'], '340000': ['安徽', 'Anhui'],
  '350000': ['福建', 'Fujian'], '360000': ['江西', 'Jiangxi'], '370000': ['山东', 'Shandong'], '410000': ['河南', 'Henan'],
  '420000': ['湖北', 'Hubei'], '430000': ['湖南', 'Hunan'], '440000': ['广东', 'Guangdong'], '450000': ['广西', 'Guangxi'],
  '460000': ['海南', 'Hainan'], '500000': ['重庆', 'Chongqing'], '510000': ['四川', 'Sichuan'], '520000': ['贵州', 'Guizhou'],
  '530000': ['云南', 'Yunnan'], '540000': ['西藏', 'Tibet'], '610000': ['陕西', 'Shaanxi'], '620000': ['甘肃', 'Gansu'],
  '630000': ['青海', 'Qinghai'], '640000': ['宁夏', 'Ningxia'], '650000': ['新疆', 'Xinjiang'],
}
// The statistical macro-regions (levels of "macro_region" are their English names).
const MACRO: Record<string, string> = {
  'North China': '华北', 'Northeast China': '东北', 'East China': '华东',
  'South-Central China': '中南', 'Southwest China': '西南', 'Northwest China': '西北',
}

/** levelLabel names a categorical feature's level: an enum value, a province, a macro-region. */
export function levelLabel(level: string): string {
  const zh = currentLocale() === 'zh-CN'
  const p = PROVINCES[level]
  if (p) return zh ? p[0] : p[1]
  if (MACRO[level]) return zh ? MACRO[level] : level
  return tr('enums.' + level, level)
}

/**
 * fmtFeatureValue shows a feature value: strings as sent (enum values translated), integers whole,
 * other numbers to 2–3 digits; an absent value reads "missing".
 */
export function fmtFeatureValue(v: unknown): string {
  if (v === null || v === undefined || v === '' || (typeof v === 'number' && !Number.isFinite(v))) return tr('valuation.missingValue', 'missing')
  if (typeof v === 'boolean') return tr(v ? 'common.yes' : 'common.no', String(v))
  if (typeof v === 'string') return levelLabel(v)
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return fmtInt(v)
    return fmtNum(v, Math.abs(v) < 1 ? 3 : 2)
  }
  return String(v)
}

// Yes/no features (0/1) and the five-category rank (0 substandard, 1 doubtful, 2 loss).
const FLAGS = new Set(['written_off', 'never_paid', 'phone_available', 'repayment_plan_active', 'complaint', 'deceased', 'bankrupt'])
const FIVE = ['substandard', 'doubtful', 'loss']

/** reasonValue is what a reason shows as the loan's value: the category's name, else the value. */
export function reasonValue(r: Reason): string {
  if (r.feature === OTHER_FEATURES) return ''
  if (r.level) return levelLabel(r.level)
  if (FLAGS.has(r.feature) && (r.value === 0 || r.value === 1)) return tr(r.value ? 'common.yes' : 'common.no', String(r.value))
  if (r.feature === 'five_category_rank' && typeof r.value === 'number' && FIVE[r.value]) return levelLabel(FIVE[r.value])
  // Shares (fractions of a whole) read as percentages, never as 0.123.
  if (/(^|_)share(_|$)/.test(r.feature) && typeof r.value === 'number' && Number.isFinite(r.value)) return fmtPct(r.value, 1)
  return fmtFeatureValue(r.value)
}

/** onRateScale says whether contributions add up to the recovery rate itself (identity link). */
export const onRateScale = (link?: string) => link === 'identity'

/**
 * fmtContribution is a signed contribution: on the rate scale in percentage points ("+16.2%"),
 * else as a number ("+0.42").
 */
export function fmtContribution(c: number, link?: string): string {
  if (!Number.isFinite(c)) return DASH
  const sign = c > 0 ? '+' : c < 0 ? '−' : '±'
  if (onRateScale(link)) {
    const pts = Math.abs(c) * 100
    return sign + fmtNum(pts, pts > 0 && pts < 0.1 ? 2 : 1) + '%'
  }
  return sign + fmtNum(Math.abs(c), Math.abs(c) >= 10 ? 1 : 2)
}

/** fmtIrr is an annual IRR given as a fraction (0.18 → "18.0%"). */
export function fmtIrr(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return DASH
  return fmtPct(v, Math.abs(v) >= 10 ? 0 : digits)
}

/** fmtMultiple is a money multiple ("1.28×"). */
export function fmtMultiple(v: unknown): string {
  const n = toNum(v)
  if (!Number.isFinite(n)) return DASH
  return fmtNum(n, 2) + '×'
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string)
}
