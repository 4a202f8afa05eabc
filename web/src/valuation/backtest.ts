// ECharts options and labels of the back-test view (GET /portfolios/{id}/backtest): actual against
// predicted collections by month after the cut-off, by static-pool segment and by vintage. Each
// money axis is scaled to one unit (format.ts amountAxis) named at the axis end.
import type { EChartsCoreOption } from '@/charts'
import { i18n, currentLocale } from '@/i18n'
import { amountAxis, fmtAmount, fmtNum, useWan } from '@/format'
import type { BackTestMonth, BackTestRow } from '@/api/valuation'
import { COLORS } from './charts'
import { escapeHtml } from './labels'

const t = (k: string, v?: Record<string, unknown>) => (v ? i18n.global.t(k, v) : i18n.global.t(k))
const te = (k: string) => i18n.global.te(k)
const textStyle = { fontFamily: 'inherit', color: COLORS.text }
const ACTUAL = COLORS.primary
const PREDICTED = COLORS.accent

// The DPD buckets of tape.DPDBuckets (the segment's middle part), in both languages.
const DPD: Record<string, [string, string]> = {
  lt180: ['180天以内', '< 180 days'], '180_360': ['180-360天', '180-360 days'], '1_2y': ['1-2年', '1-2 years'],
  '2_3y': ['2-3年', '2-3 years'], '3_5y': ['3-5年', '3-5 years'], gt5y: ['5年以上', '> 5 years'],
}

/**
 * segmentLabel names a static-pool segment "product|dpd bucket|balance band" in the current
 * language ("信用卡 · 1-2年 · 5千-2万元"); parts it does not know are shown as sent.
 */
export function segmentLabel(key: string): string {
  const zh = currentLocale() === 'zh-CN'
  const parts = key.split('|')
  if (parts.length !== 3) return key === 'unknown' ? t('backtest.unknown') : key
  const [prod, dpd, band] = parts
  const p = prod === 'unknown' ? t('backtest.unknown') : te('enums.' + prod) ? t('enums.' + prod) : prod
  const d = DPD[dpd] ? DPD[dpd][zh ? 0 : 1] : dpd === 'unknown' ? t('backtest.unknown') : dpd
  const b = te('backtest.bands.' + band) ? t('backtest.bands.' + band) : band
  return `${p} · ${d} · ${b}`
}

/** vintageLabel names an origination year ("2021年" / "2021"), or the unknown vintage. */
export function vintageLabel(key: string): string {
  if (key === 'unknown') return t('backtest.unknown')
  return t('backtest.vintageYear', { y: key })
}

/** fmtError shows a signed error in percent ("+5.1%", "−3.0%"), a dash when undefined. */
export function fmtError(pct: number | null | undefined): string {
  if (pct === null || pct === undefined || !Number.isFinite(pct)) return '—'
  const s = fmtNum(Math.abs(pct), 1)
  return (pct > 0 ? '+' : pct < 0 ? '−' : '±') + s + '%'
}

const axisName = (label: string, unit: string) => `${label}${t('console.units.paren', { u: unit })}`
const valueAxis = (fmt: (v: number) => string, extra: Record<string, unknown> = {}) => ({
  type: 'value',
  axisLabel: { color: COLORS.axis, formatter: fmt },
  splitLine: { lineStyle: { color: COLORS.split } },
  nameTextStyle: { color: COLORS.axis, fontSize: 11 },
  ...extra,
})
const dot = (color: string, dashed = false) =>
  dashed
    ? `<i style="display:inline-block;width:12px;height:0;border-top:2px dashed ${color};margin:0 6px 3px 0"></i>`
    : `<i style="display:inline-block;width:8px;height:8px;border-radius:2px;background:${color};margin-right:6px"></i>`
const tipRow = (marker: string, label: string, val: string) =>
  `<div style="display:flex;gap:16px;justify-content:space-between"><span>${marker}${escapeHtml(label)}</span><b>${val}</b></div>`

/** Monthly actual and predicted collections (bars) with both cumulative sums (lines, right axis). */
export function monthsOption(months: BackTestMonth[], currency: string): EChartsCoreOption {
  const names = {
    actual: t('backtest.month.actual'),
    predicted: t('backtest.month.predicted'),
    cumActual: t('backtest.month.cumActual'),
    cumPredicted: t('backtest.month.cumPredicted'),
  }
  const monthly = amountAxis(months.flatMap((m) => [m.actual, m.predicted]), currency)
  const cum = amountAxis(months.flatMap((m) => [m.cum_actual, m.cum_predicted]), currency)
  const wan = useWan(months.flatMap((m) => [m.actual, m.predicted]))
  const cumWan = useWan(months.flatMap((m) => [m.cum_actual, m.cum_predicted]))
  const every = months.length > 24 ? 6 : months.length > 12 ? 3 : 1
  return {
    textStyle,
    animationDuration: 500,
    legend: { top: 0, left: 0, data: [names.actual, names.predicted, names.cumActual, names.cumPredicted], textStyle: { color: COLORS.text }, itemWidth: 18 },
    grid: { left: 8, right: 8, top: 56, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      confine: true,
      axisPointer: { type: 'shadow' },
      formatter: (ps: unknown) => {
        const i = ((Array.isArray(ps) ? ps[0] : ps) as { dataIndex: number })?.dataIndex
        const m = months[i]
        if (!m) return ''
        return (
          `<b>${escapeHtml(t('valuation.curve.monthN', { n: m.month }))}</b>` +
          tipRow(dot(ACTUAL), names.actual, fmtAmount(m.actual, currency, { wan })) +
          tipRow(dot(PREDICTED), names.predicted, fmtAmount(m.predicted, currency, { wan })) +
          tipRow(dot(ACTUAL, true), names.cumActual, fmtAmount(m.cum_actual, currency, { wan: cumWan })) +
          tipRow(dot(PREDICTED, true), names.cumPredicted, fmtAmount(m.cum_predicted, currency, { wan: cumWan }))
        )
      },
    },
    xAxis: {
      type: 'category',
      data: months.map((m) => String(m.month)),
      axisTick: { show: false },
      axisLine: { lineStyle: { color: '#d0d5dd' } },
      axisLabel: { color: COLORS.axis, interval: (i: number) => i === 0 || (i + 1) % every === 0, formatter: (m: string) => t('valuation.curve.monthTick', { n: m }) },
    },
    yAxis: [
      valueAxis(monthly.fmt, { name: axisName(t('backtest.month.monthlyAxis'), monthly.name), nameLocation: 'end', nameGap: 12, nameTextStyle: { color: COLORS.axis, fontSize: 11, align: 'left' } }),
      valueAxis(cum.fmt, {
        name: axisName(t('backtest.month.cumAxis'), cum.name), nameLocation: 'end', nameGap: 12, position: 'right',
        splitLine: { show: false }, nameTextStyle: { color: COLORS.axis, fontSize: 11, align: 'right' },
      }),
    ],
    series: [
      { name: names.actual, type: 'bar', data: months.map((m) => m.actual), itemStyle: { color: ACTUAL, borderRadius: [2, 2, 0, 0] }, barGap: '10%', barCategoryGap: '30%' },
      { name: names.predicted, type: 'bar', data: months.map((m) => m.predicted), itemStyle: { color: PREDICTED, borderRadius: [2, 2, 0, 0] } },
      { name: names.cumActual, type: 'line', yAxisIndex: 1, data: months.map((m) => m.cum_actual), symbol: 'circle', symbolSize: 5, lineStyle: { width: 2, color: ACTUAL }, itemStyle: { color: ACTUAL } },
      { name: names.cumPredicted, type: 'line', yAxisIndex: 1, data: months.map((m) => m.cum_predicted), symbol: 'circle', symbolSize: 5, lineStyle: { width: 2, type: 'dashed', color: PREDICTED }, itemStyle: { color: PREDICTED } },
    ],
  }
}

/**
 * Actual against predicted collections of groups of loans (segments, horizontal; vintages,
 * vertical), with each group's error in the tooltip.
 */
export function groupsOption(rows: BackTestRow[], currency: string, kind: 'segment' | 'vintage'): EChartsCoreOption {
  const label = kind === 'segment' ? segmentLabel : vintageLabel
  const names = { actual: t('backtest.month.actual'), predicted: t('backtest.month.predicted') }
  const ax = amountAxis(rows.flatMap((r) => [r.actual, r.predicted]), currency)
  const wan = useWan(rows.flatMap((r) => [r.actual, r.predicted]))
  const horizontal = kind === 'segment'
  // Horizontal bars list the largest group at the top.
  const shown = horizontal ? [...rows].reverse() : rows
  const cats = shown.map((r) => label(r.key))
  const cat = {
    type: 'category', data: cats, axisTick: { show: false }, axisLine: { lineStyle: { color: '#d0d5dd' } },
    axisLabel: { color: COLORS.axis, interval: 0, fontSize: horizontal ? 11 : 12 },
  }
  const val = valueAxis(ax.fmt, {
    name: axisName(t('backtest.collectedAxis'), ax.name), nameLocation: horizontal ? 'middle' : 'end', nameGap: horizontal ? 26 : 12,
    nameTextStyle: { color: COLORS.axis, fontSize: 11, align: horizontal ? 'center' : 'left' },
  })
  return {
    textStyle,
    animationDuration: 500,
    legend: { top: 0, left: 0, data: [names.actual, names.predicted], textStyle: { color: COLORS.text }, itemWidth: 14 },
    grid: { left: 8, right: 16, top: horizontal ? 30 : 52, bottom: horizontal ? 28 : 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      confine: true,
      axisPointer: { type: 'shadow' },
      formatter: (ps: unknown) => {
        const i = ((Array.isArray(ps) ? ps[0] : ps) as { dataIndex: number })?.dataIndex
        const r = shown[i]
        if (!r) return ''
        return (
          `<b>${escapeHtml(label(r.key))}</b>` +
          tipRow(dot(ACTUAL), names.actual, fmtAmount(r.actual, currency, { wan })) +
          tipRow(dot(PREDICTED), names.predicted, fmtAmount(r.predicted, currency, { wan })) +
          tipRow('', t('backtest.error'), fmtError(r.error_pct)) +
          tipRow('', t('backtest.loans'), fmtNum(r.loans, 0))
        )
      },
    },
    xAxis: horizontal ? val : cat,
    yAxis: horizontal ? cat : val,
    series: [
      { name: names.actual, type: 'bar', data: shown.map((r) => r.actual), itemStyle: { color: ACTUAL, borderRadius: horizontal ? [0, 2, 2, 0] : [2, 2, 0, 0] }, barGap: '10%', barMaxWidth: 22 },
      { name: names.predicted, type: 'bar', data: shown.map((r) => r.predicted), itemStyle: { color: PREDICTED, borderRadius: horizontal ? [0, 2, 2, 0] : [2, 2, 0, 0] }, barMaxWidth: 22 },
    ],
  }
}
