// ECharts options of the valuation pages, built from normalised API data (src/api/valuation.ts).
// Each builder reads the current locale through vue-i18n, so a component that wraps one in a
// computed() that also reads `locale` redraws when the language changes.
import type { EChartsCoreOption } from '@/charts'
import { i18n } from '@/i18n'
import { amountAxis, fmtAmount as fmtAmountRaw, fmtInt, fmtNum, fmtPct, useWan } from '@/format'
import type { CalibrationBin, Valuation } from '@/api/valuation'
import { escapeHtml, featureLabel, fmtIrr, fmtMultiple } from './labels'
import { splitTails } from './normalize'

const fmtAmount = fmtAmountRaw

type Bin = { lo: number; hi: number; count: number }

const t = (k: string, v?: Record<string, unknown>) => (v ? i18n.global.t(k, v) : i18n.global.t(k))

export const COLORS = {
  primary: '#1d3f8f',
  secondary: '#3e7cc9',
  band: 'rgba(62, 124, 201, 0.18)',
  accent: '#d98c2b',
  tail: '#7a5af8',
  tailSoft: 'rgba(122, 90, 248, 0.08)',
  good: '#2f7d5b',
  bad: '#c4553a',
  badSoft: '#e7a08c',
  grey: '#98a2b3',
  axis: '#667085',
  split: '#eef0f3',
  text: '#475467',
}

const textStyle = { fontFamily: 'inherit', color: COLORS.text }
const valueAxis = (fmt: (v: number) => string, extra: Record<string, unknown> = {}) => ({
  type: 'value',
  axisLabel: { color: COLORS.axis, formatter: fmt },
  splitLine: { lineStyle: { color: COLORS.split } },
  nameTextStyle: { color: COLORS.axis, fontSize: 11 },
  ...extra,
})
const pctAxis = (digits = 0) => (v: number) => fmtNum(v, digits) + '%'
// Rounded to a step, forgiving the float noise of price / claim (20.00004% is 20%).
const niceCeil = (x: number, step: number) => Math.ceil(x / step - 1e-6) * step
const niceFloor = (x: number, step: number) => Math.floor(x / step + 1e-6) * step
/** niceStep is a round axis step (1, 2, 2.5 or 5 × 10^k) giving about `ticks` intervals over span. */
function niceStep(span: number, ticks = 6): number {
  if (!(span > 0)) return 1
  const raw = span / ticks
  const e = Math.pow(10, Math.floor(Math.log10(raw)))
  const f = raw / e
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * e
}

/** The projected monthly collections: expected, median, the P5–P95 band, and the cumulative line. */
export function curveOption(v: Valuation, currency: string): EChartsCoreOption {
  const c = v.curve
  const months = c.map((p) => String(p.month))
  const names = {
    expected: t('valuation.curve.expected'),
    median: t('valuation.curve.median'),
    band: t('valuation.curve.band'),
    cumulative: t('valuation.curve.cumulative'),
    tail: t('valuation.curve.tail'),
  }
  const lineOnly = { symbol: 'none' }
  // Months beyond the model's training horizon carry the tail (docs/valuation.md): drawn in their
  // own colour over a shaded span, joined to the expected line at the last month of the horizon.
  const firstTail = c.findIndex((p) => p.tail)
  const hasTail = firstTail > 0
  const expectedData = c.map((p, i) => (hasTail && i >= firstTail ? null : p.expected))
  const tailData = c.map((p, i) => (hasTail && i >= firstTail - 1 ? p.expected : null))
  // One unit per axis (and one in the tooltip): the monthly axis and, when it is money, the
  // cumulative axis are scaled to a single unit named at the axis end.
  const monthly = amountAxis(c.map((p) => p.p95).concat(c.map((p) => p.expected)), currency)
  const cumAx = amountAxis(c.map((p) => p.cumulative), currency)
  const cumFmt = v.cumulativeIsShare ? (x: number) => fmtPct(x, 0) : cumAx.fmt
  const wan = useWan(c.map((p) => p.p95).concat(c.map((p) => p.expected)))
  const fmtAmount = (x: unknown, cur: string, o: { unit?: boolean } = {}) => fmtAmountRaw(x, cur, { ...o, wan })
  const cumWan = useWan(c.map((p) => p.cumulative))
  const series: Record<string, unknown>[] = [
    // The band is drawn as a transparent P5 line with the P95−P5 width stacked on it.
    { name: '__p5', type: 'line', data: c.map((p) => p.p5), stack: 'band', lineStyle: { opacity: 0 }, ...lineOnly, silent: true, z: 1 },
    {
      name: names.band, type: 'line', data: c.map((p) => Math.max(0, p.p95 - p.p5)), stack: 'band',
      lineStyle: { opacity: 0 }, areaStyle: { color: COLORS.band }, itemStyle: { color: 'rgba(62, 124, 201, 0.45)' }, ...lineOnly, silent: true, z: 1,
    },
    { name: names.median, type: 'line', data: c.map((p) => p.p50), lineStyle: { width: 1.5, type: 'dashed', color: COLORS.secondary }, itemStyle: { color: COLORS.secondary }, ...lineOnly, z: 2 },
    {
      name: names.expected, type: 'line', data: expectedData, lineStyle: { width: 2.5, color: COLORS.primary }, itemStyle: { color: COLORS.primary }, ...lineOnly, z: 3,
      markLine: v.paybackMonth && v.paybackMonth <= c.length
        ? {
            symbol: 'none', silent: true,
            lineStyle: { color: COLORS.good, type: 'dashed', width: 1.2 },
            label: { formatter: t('valuation.curve.payback', { n: v.paybackMonth }), color: COLORS.good, fontSize: 11, position: 'end' },
            data: [{ xAxis: String(v.paybackMonth) }],
          }
        : undefined,
    },
    {
      name: names.cumulative, type: 'line', yAxisIndex: 1, data: c.map((p) => p.cumulative),
      lineStyle: { width: 2, color: COLORS.accent }, itemStyle: { color: COLORS.accent }, ...lineOnly, z: 2,
    },
  ]
  if (hasTail) {
    series.push({
      name: names.tail, type: 'line', data: tailData, lineStyle: { width: 2.5, color: COLORS.tail }, itemStyle: { color: COLORS.tail }, ...lineOnly, z: 3,
      markArea: {
        silent: true,
        itemStyle: { color: COLORS.tailSoft },
        label: { show: true, position: 'insideTop', color: COLORS.tail, fontSize: 11, formatter: t('valuation.curve.tailSpan', { n: firstTail }) },
        data: [[{ xAxis: String(c[firstTail].month) }, { xAxis: String(c[c.length - 1].month) }]],
      },
    })
  }
  return {
    textStyle,
    animationDuration: 500,
    legend: { top: 0, left: 0, data: [names.expected, ...(hasTail ? [names.tail] : []), names.median, names.band, names.cumulative], textStyle: { color: COLORS.text }, itemWidth: 18 },
    grid: { left: 8, right: 8, top: 52, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (ps: unknown) => {
        const i = (Array.isArray(ps) ? ps[0] : ps)?.dataIndex as number
        const p = c[i]
        if (!p) return ''
        const row = (label: string, val: string, color: string) =>
          `<div style="display:flex;gap:16px;justify-content:space-between"><span><i style="display:inline-block;width:8px;height:8px;border-radius:4px;background:${color};margin-right:6px"></i>${escapeHtml(label)}</span><b>${val}</b></div>`
        return (
          `<b>${escapeHtml(t('valuation.curve.monthN', { n: p.month }))}</b>` +
          (p.tail ? row(names.tail, fmtAmount(p.expected, currency), COLORS.tail) : row(names.expected, fmtAmount(p.expected, currency), COLORS.primary)) +
          row(names.median, fmtAmount(p.p50, currency), COLORS.secondary) +
          row(names.band, `${fmtAmount(p.p5, currency, { unit: false })} – ${fmtAmount(p.p95, currency)}`, 'rgba(62, 124, 201, 0.45)') +
          row(names.cumulative, v.cumulativeIsShare ? fmtPct(p.cumulative) : fmtAmountRaw(p.cumulative, currency, { wan: cumWan }), COLORS.accent)
        )
      },
    },
    xAxis: {
      type: 'category', data: months, boundaryGap: false,
      axisTick: { show: false }, axisLine: { lineStyle: { color: '#d0d5dd' } },
      axisLabel: {
        color: COLORS.axis,
        interval: (i: number) => (i + 1) % 6 === 0 || i === 0,
        formatter: (m: string) => t('valuation.curve.monthTick', { n: m }),
        hideOverlap: true,
      },
    },
    yAxis: [
      valueAxis(monthly.fmt, {
        name: `${t('valuation.curve.monthly')}${t('console.units.paren', { u: monthly.name })}`, nameLocation: 'end', nameGap: 10,
        nameTextStyle: { color: COLORS.axis, fontSize: 11, align: 'left' },
      }),
      valueAxis(cumFmt, {
        name: v.cumulativeIsShare ? t('valuation.curve.cumAxis') : `${t('valuation.curve.cumAxis')}${t('console.units.paren', { u: cumAx.name })}`,
        nameLocation: 'end', nameGap: 10, splitLine: { show: false }, position: 'right',
        nameTextStyle: { color: COLORS.axis, fontSize: 11, align: 'right' },
      }),
    ],
    series,
  }
}

/** The Monte Carlo distribution of the IRR at the chosen price, with the hurdle marked. */
export function irrHistogramOption(v: Valuation): EChartsCoreOption {
  const p50 = v.irrPercentiles.find((x) => x.p === 50)?.irr
  const p95 = v.irrPercentiles.find((x) => x.p === 95)?.irr
  const { body, left, right } = splitTails(v.histogram, p95)
  if (!body.length) return {}
  const total = v.histogram.reduce((a, b) => a + b.count, 0) || 1
  const target = v.targetIrr
  const w = Math.max(1e-9, body[0].hi - body[0].lo)
  const lo = body[0].lo, hi = body[body.length - 1].hi
  // Each bar: the real bin (for colour and tooltip) and where it is drawn.
  const bars: { bin: Bin; x: number; tail?: 'left' | 'right' }[] = []
  if (left) bars.push({ bin: left, x: lo - 1.5 * w, tail: 'left' })
  for (const b of body) bars.push({ bin: b, x: (b.lo + b.hi) / 2 })
  if (right) bars.push({ bin: right, x: hi + 1.5 * w, tail: 'right' })
  const place = (x: number) => (x < lo ? (left ? lo - 0.75 * w : lo) : x > hi ? (right ? hi + 0.75 * w : hi) : x)
  const data = bars.map(({ bin, x, tail }) => {
    const below = bin.hi <= target + 1e-12
    const straddles = !below && bin.lo < target
    return {
      value: [x * 100, bin.count],
      itemStyle: { color: below ? COLORS.bad : straddles ? COLORS.badSoft : COLORS.secondary, borderRadius: [2, 2, 0, 0], opacity: tail ? 0.75 : 1 },
      label: tail
        ? { show: true, position: 'top', color: COLORS.text, fontSize: 11, formatter: tail === 'left' ? `≤ ${fmtIrr(bin.hi, 0)}` : `≥ ${fmtIrr(bin.lo, 0)}` }
        : undefined,
    }
  })
  const lines: Record<string, unknown>[] = []
  if (Number.isFinite(target)) {
    lines.push({
      xAxis: place(target) * 100,
      lineStyle: { color: COLORS.bad, width: 2, type: 'solid' },
      label: { formatter: t('valuation.irr.hurdleMark', { v: fmtIrr(target, 0) }), color: COLORS.bad, fontWeight: 600, position: 'end' },
    })
  }
  if (p50 !== undefined && Number.isFinite(p50)) {
    lines.push({ xAxis: place(p50) * 100, lineStyle: { color: COLORS.primary, width: 1.5, type: 'dashed' }, label: { show: false } })
  }
  const xmin = (left ? lo - 2 * w : lo) * 100
  const xmax = (right ? hi + 2 * w : hi) * 100
  return {
    textStyle,
    animationDuration: 500,
    grid: { left: 8, right: 24, top: 30, bottom: 26, containLabel: true },
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (p: { dataIndex: number }) => {
        const b = bars[p.dataIndex]?.bin
        if (!b) return ''
        return `<b>IRR ${fmtIrr(b.lo)} – ${fmtIrr(b.hi)}</b><br/>${escapeHtml(t('valuation.irr.paths', { n: fmtInt(b.count) }))} (${fmtPct(b.count / total)})`
      },
    },
    xAxis: valueAxis((x) => (x < lo * 100 - 1e-6 || x > hi * 100 + 1e-6 ? '' : fmtNum(x, 0) + '%'), {
      min: xmin, max: xmax, name: 'IRR', nameLocation: 'end', nameGap: 6,
      nameTextStyle: { color: COLORS.axis, fontSize: 11, verticalAlign: 'top', padding: [8, 0, 0, 0] },
      splitLine: { show: false }, axisLine: { show: true, lineStyle: { color: '#d0d5dd' } },
      axisLabel: {
        color: COLORS.axis, showMinLabel: false, showMaxLabel: false,
        formatter: (x: number) => (x < lo * 100 - 1e-6 || x > hi * 100 + 1e-6 ? '' : fmtNum(x, 0) + '%'),
      },
    }),
    yAxis: valueAxis((x) => fmtInt(x), { name: t('valuation.irr.pathsAxis'), nameLocation: 'end', nameGap: 10, minInterval: 1 }),
    series: [
      {
        type: 'bar',
        data,
        barWidth: '92%',
        barCategoryGap: '8%',
        markLine: { symbol: 'none', silent: true, data: lines },
      },
    ],
  }
}

/** IRR against the price (as a share of the claim), with the target IRR and the chosen price. */
export function priceIrrOption(v: Valuation, currency: string): EChartsCoreOption {
  const rows = v.priceTable.filter((r) => r.irr !== null && Number.isFinite(r.pct))
  const target = v.targetIrr
  const maxIrr = rows.reduce((a, r) => Math.max(a, r.irr as number), -Infinity)
  const minIrr = rows.reduce((a, r) => Math.min(a, r.irr as number), Infinity)
  // Very cheap prices have IRRs in the hundreds of percent; keep the interesting range in view.
  const cap = Math.max(Number.isFinite(target) ? target * 3 : 0.6, 0.6)
  const ymax = niceCeil(Math.min(maxIrr, cap) * 100, 10)
  const ymin = Math.min(0, niceFloor(minIrr * 100, 10))
  const firstInView = rows.findIndex((r) => (r.irr as number) * 100 <= ymax)
  const from = rows.length ? rows[Math.max(0, firstInView - 1)].pct * 100 : 0
  const to = rows.length ? rows[rows.length - 1].pct * 100 : 1
  const xStep = niceStep(to - from)
  const xmin = niceFloor(from, xStep)
  const xmax = niceCeil(to, xStep)
  const chosen = v.price !== null && Number.isFinite(v.pricePct)
  const lines: Record<string, unknown>[] = []
  if (Number.isFinite(target)) {
    lines.push({
      yAxis: target * 100,
      lineStyle: { color: COLORS.bad, type: 'dashed', width: 1.5 },
      label: { formatter: t('valuation.priceIrr.targetMark', { v: fmtIrr(target, 0) }), color: COLORS.bad, position: 'insideEndTop' },
    })
  }
  if (chosen) {
    lines.push({
      xAxis: v.pricePct * 100,
      lineStyle: { color: COLORS.good, type: 'dashed', width: 1.5 },
      label: { formatter: t('valuation.priceIrr.priceMark', { v: fmtPct(v.pricePct, 2) }), color: COLORS.good, fontWeight: 600, position: 'end' },
    })
  }
  return {
    textStyle,
    animationDuration: 500,
    grid: { left: 8, right: 28, top: 34, bottom: 26, containLabel: true },
    tooltip: {
      trigger: 'axis',
      confine: true,
      formatter: (ps: unknown) => {
        const p = (Array.isArray(ps) ? ps[0] : ps) as { dataIndex: number; seriesIndex: number }
        if (!p || p.seriesIndex !== 0) return ''
        const r = rows[p.dataIndex]
        if (!r) return ''
        return (
          `<b>${escapeHtml(t('valuation.priceIrr.priceAt', { pct: fmtPct(r.pct, 1) }))}</b><br/>` +
          `${escapeHtml(t('valuation.priceIrr.price'))}: ${fmtAmount(r.price, currency)}<br/>` +
          `IRR: <b>${fmtIrr(r.irr)}</b><br/>` +
          `${escapeHtml(t('valuation.priceIrr.multiple'))}: ${fmtMultiple(r.multiple)}`
        )
      },
    },
    xAxis: valueAxis(pctAxis(xStep < 1 ? 1 : 0), {
      name: t('valuation.priceIrr.xAxis'), nameLocation: 'middle', nameGap: 24,
      min: xmin, max: xmax, interval: xStep,
      splitLine: { show: false }, axisLine: { show: true, lineStyle: { color: '#d0d5dd' } },
    }),
    yAxis: valueAxis(pctAxis(0), { min: ymin, max: ymax }),
    series: [
      {
        type: 'line',
        data: rows.map((r) => [r.pct * 100, (r.irr as number) * 100]),
        smooth: 0.2,
        clip: true,
        symbol: 'circle',
        symbolSize: 5,
        lineStyle: { width: 2.5, color: COLORS.primary },
        itemStyle: { color: COLORS.primary },
        markLine: { symbol: 'none', silent: true, data: lines },
        markPoint: chosen && Number.isFinite(target)
          ? {
              silent: true,
              symbol: 'circle',
              symbolSize: 12,
              itemStyle: { color: COLORS.good, borderColor: '#fff', borderWidth: 2 },
              label: { show: false },
              data: [{ coord: [v.pricePct * 100, target * 100] }],
            }
          : undefined,
      },
    ],
  }
}

/** The model's expected recovery against the static-pool baseline. */
export function baselineOption(v: Valuation, currency: string): EChartsCoreOption {
  const b = v.baseline
  const cats = [t('valuation.baseline.baseline'), t('valuation.baseline.model')]
  const vals = [b?.expectedRecovery ?? NaN, v.expectedRecovery]
  const rates = [b?.expectedRate ?? NaN, v.expectedRate]
  const wan = useWan(vals)
  const fmtAmount = (x: unknown, cur: string) => fmtAmountRaw(x, cur, { wan })
  return {
    textStyle,
    animationDuration: 500,
    grid: { left: 8, right: 150, top: 8, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true,
      formatter: (ps: unknown) => {
        const i = ((Array.isArray(ps) ? ps[0] : ps) as { dataIndex: number }).dataIndex
        return `<b>${escapeHtml(cats[i])}</b><br/>${fmtAmount(vals[i], currency)} · ${fmtPct(rates[i])}`
      },
    },
    xAxis: valueAxis((x) => fmtNum(x, 0), { splitLine: { show: false }, axisLabel: { show: false } }),
    yAxis: { type: 'category', data: cats, axisTick: { show: false }, axisLine: { lineStyle: { color: '#d0d5dd' } }, axisLabel: { color: COLORS.text, fontSize: 12 } },
    series: [
      {
        type: 'bar',
        barWidth: 22,
        data: vals.map((x, i) => ({ value: x, itemStyle: { color: i === 1 ? COLORS.primary : COLORS.grey, borderRadius: [0, 3, 3, 0] } })),
        label: {
          show: true, position: 'right', color: COLORS.text, fontSize: 12,
          formatter: (p: { dataIndex: number }) => `${fmtAmount(vals[p.dataIndex], currency)}  (${fmtPct(rates[p.dataIndex])})`,
        },
      },
    ],
  }
}

/** The reliability plot: mean observed against mean predicted rate per bin, with the diagonal. */
export function calibrationOption(bins: CalibrationBin[]): EChartsCoreOption {
  const pts = bins.map((b) => ({ ...b, predicted: Number(b.predicted), observed: Number(b.observed), count: Number(b.count) }))
  const top = pts.reduce((a, b) => Math.max(a, b.predicted, b.observed), 0)
  const step = top > 0.5 ? 20 : top > 0.2 ? 10 : 5
  const max = Math.max(step, niceCeil(top * 100, step))
  const maxCount = pts.reduce((a, b) => Math.max(a, b.count), 1)
  return {
    textStyle,
    animationDuration: 500,
    legend: { top: 0, right: 0, data: [t('models.calibration.model'), t('models.calibration.perfect')], textStyle: { color: COLORS.text } },
    grid: { left: 8, right: 24, top: 36, bottom: 30, containLabel: true },
    tooltip: {
      trigger: 'item',
      confine: true,
      formatter: (p: { seriesIndex: number; dataIndex: number }) => {
        if (p.seriesIndex !== 1) return ''
        const b = pts[p.dataIndex]
        return (
          `<b>${escapeHtml(t('models.calibration.bin', { n: String(b.bin) }))}</b><br/>` +
          `${escapeHtml(t('models.calibration.predicted'))}: ${fmtPct(b.predicted)}<br/>` +
          `${escapeHtml(t('models.calibration.observed'))}: ${fmtPct(b.observed)}<br/>` +
          `${escapeHtml(t('models.calibration.count'))}: ${fmtInt(b.count)}`
        )
      },
    },
    xAxis: valueAxis(pctAxis(0), {
      min: 0, max, interval: step, name: t('models.calibration.predicted'), nameLocation: 'middle', nameGap: 26,
      axisLine: { show: true, lineStyle: { color: '#d0d5dd' } },
    }),
    yAxis: valueAxis(pctAxis(0), { min: 0, max, interval: step, name: t('models.calibration.observed'), nameLocation: 'end', nameGap: 10, nameTextStyle: { color: COLORS.axis, fontSize: 11, align: 'left' } }),
    series: [
      {
        name: t('models.calibration.perfect'), type: 'line', data: [[0, 0], [max, max]], symbol: 'none', silent: true,
        lineStyle: { type: 'dashed', color: COLORS.grey, width: 1.5 }, itemStyle: { color: COLORS.grey },
      },
      {
        name: t('models.calibration.model'), type: 'line',
        data: pts.map((b) => [b.predicted * 100, b.observed * 100]),
        symbol: 'circle',
        symbolSize: (_: unknown, p: { dataIndex: number }) => 6 + 10 * Math.sqrt((pts[p.dataIndex]?.count || 0) / maxCount),
        lineStyle: { width: 2, color: COLORS.primary },
        itemStyle: { color: COLORS.primary, borderColor: '#fff', borderWidth: 1.5 },
      },
    ],
  }
}

/** Feature importance (share of the total gain), largest on top. */
export function importanceOption(items: { feature: string; gain: number }[], top = 20): EChartsCoreOption {
  const total = items.reduce((a, b) => a + (Number(b.gain) || 0), 0) || 1
  const list = [...items].sort((a, b) => b.gain - a.gain).slice(0, top).reverse()
  return {
    textStyle,
    animationDuration: 500,
    grid: { left: 8, right: 56, top: 4, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true,
      formatter: (ps: unknown) => {
        const i = ((Array.isArray(ps) ? ps[0] : ps) as { dataIndex: number }).dataIndex
        const it = list[i]
        return `<b>${escapeHtml(featureLabel(it.feature))}</b> <span style="color:#98a2b3">${escapeHtml(it.feature)}</span><br/>` +
          `${escapeHtml(t('models.importance.gain'))}: ${fmtNum(it.gain, 1)} (${fmtPct(it.gain / total)})`
      },
    },
    xAxis: valueAxis((x) => fmtPct(x, 0), { splitLine: { lineStyle: { color: COLORS.split } } }),
    yAxis: {
      type: 'category', data: list.map((x) => featureLabel(x.feature)), axisTick: { show: false },
      axisLine: { lineStyle: { color: '#d0d5dd' } }, axisLabel: { color: COLORS.text, width: 150, overflow: 'truncate', interval: 0 },
    },
    series: [
      {
        type: 'bar', barMaxWidth: 14,
        data: list.map((x) => x.gain / total),
        itemStyle: { color: COLORS.primary, borderRadius: [0, 3, 3, 0] },
        label: { show: true, position: 'right', color: COLORS.text, fontSize: 11, formatter: (p: { value: number }) => fmtPct(p.value) },
      },
    ],
  }
}

/** Two bars, the model and the baseline, for one metric (higher or lower is better). */
export function compareOption(label: string, model: number, baseline: number, fmt: (x: number) => string, axis: { min?: number; max?: number } = {}): EChartsCoreOption {
  const cats = [t('models.metrics.model'), t('models.metrics.baseline')]
  const vals = [model, baseline]
  return {
    textStyle,
    animationDuration: 400,
    grid: { left: 8, right: 16, top: 22, bottom: 4, containLabel: true },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true, valueFormatter: (x: number) => fmt(x) },
    xAxis: { type: 'category', data: cats, axisTick: { show: false }, axisLine: { lineStyle: { color: '#d0d5dd' } }, axisLabel: { color: COLORS.text } },
    yAxis: valueAxis(fmt, { min: axis.min ?? 0, max: axis.max, splitNumber: axis.max !== undefined ? 5 : 3, name: label, nameLocation: 'end', nameGap: 8, nameTextStyle: { color: COLORS.text, fontSize: 12, align: 'left' } }),
    series: [
      {
        type: 'bar', barWidth: 34,
        data: vals.map((x, i) => ({ value: Number.isFinite(x) ? x : null, itemStyle: { color: i === 0 ? COLORS.primary : COLORS.grey, borderRadius: [3, 3, 0, 0] } })),
        label: { show: true, position: 'top', color: COLORS.text, fontSize: 12, formatter: (p: { value: number }) => fmt(p.value) },
      },
    ],
  }
}

/** One loan's expected recovery by month (shares of its recovery, with the amounts in the tooltip). */
export function timingOption(timing: number[], expectedRecovery: number, currency: string): EChartsCoreOption {
  return {
    textStyle,
    animationDuration: 400,
    grid: { left: 8, right: 8, top: 16, bottom: 4, containLabel: true },
    tooltip: {
      trigger: 'axis', axisPointer: { type: 'shadow' }, confine: true,
      formatter: (ps: unknown) => {
        const i = ((Array.isArray(ps) ? ps[0] : ps) as { dataIndex: number }).dataIndex
        const s = timing[i]
        const amt = Number.isFinite(expectedRecovery) ? ' · ' + fmtAmount(s * expectedRecovery, currency) : ''
        return `<b>${escapeHtml(t('valuation.curve.monthN', { n: i + 1 }))}</b><br/>${fmtPct(s)}${amt}`
      },
    },
    xAxis: {
      type: 'category', data: timing.map((_, i) => String(i + 1)), axisTick: { show: false },
      axisLine: { lineStyle: { color: '#d0d5dd' } },
      axisLabel: { color: COLORS.axis, interval: (i: number) => (i + 1) % 6 === 0 || i === 0, formatter: (m: string) => t('valuation.curve.monthTick', { n: m }) },
    },
    yAxis: valueAxis((x) => fmtPct(x, 0), { splitNumber: 3 }),
    series: [{ type: 'bar', data: timing, barCategoryGap: '20%', itemStyle: { color: COLORS.secondary, borderRadius: [2, 2, 0, 0] } }],
  }
}
