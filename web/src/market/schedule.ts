// The schedules the auction room shows between two reads of the server: a Dutch auction's
// falling price and a multi-round auction's rounds. They mirror the engine (auction.Listing's
// DutchPrice and DutchNextStep; a quote belongs to the first round whose deadline is after its
// receipt time) for display only: the server decides, and every state it sends resets them.
// Self-contained (no imports) so that tests/marketschedule.test.mjs can load it alone.

/** DutchSchedule is a Dutch auction's price schedule as the API sends it (amounts in yuan). */
export interface DutchSchedule {
  step: string | null
  every_seconds: number
  floor: string | null
}

function fen(s: string | null | undefined): number {
  if (s == null) return NaN
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(String(s).replace(/[,\s]/g, ''))
  return m ? Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0')) : NaN
}

/** floorFen is the lowest price the schedule reaches, in fen: the floor, or one step without one. */
export function floorFen(d: DutchSchedule): number {
  const f = fen(d.floor)
  return Number.isFinite(f) && f > 0 ? f : fen(d.step)
}

/**
 * dutchPriceFen is the scheduled price at instant t (ms), in fen: the start price less one step
 * per full interval since the start, never below the floor; NaN without a start price.
 */
export function dutchPriceFen(startPrice: string | null, startMs: number, d: DutchSchedule | null | undefined, t: number): number {
  const p = fen(startPrice)
  if (!d || !(d.every_seconds > 0) || !Number.isFinite(p) || t < startMs) return p
  const step = fen(d.step)
  if (!(step > 0)) return p
  const n = Math.floor((t - startMs) / (d.every_seconds * 1000))
  return Math.max(p - n * step, Math.min(p, floorFen(d)))
}

/** dutchNextStep is the instant (ms) the price falls next after t, or null when it falls no more. */
export function dutchNextStep(startPrice: string | null, startMs: number, d: DutchSchedule | null | undefined, t: number): number | null {
  if (!d || !(d.every_seconds > 0) || !(fen(d.step) > 0)) return null
  const every = d.every_seconds * 1000
  const n = t < startMs ? 1 : Math.floor((t - startMs) / every) + 1
  const next = startMs + n * every
  return dutchPriceFen(startPrice, startMs, d, next) < dutchPriceFen(startPrice, startMs, d, t) ? next : null
}

/** dutchSteps lists the schedule's [instant ms, price fen] points from the start until the
 * floor or the end (at most max points), for a chart. */
export function dutchSteps(startPrice: string | null, startMs: number, endMs: number, d: DutchSchedule | null | undefined, max = 400): [number, number][] {
  const out: [number, number][] = []
  const p0 = dutchPriceFen(startPrice, startMs, d, startMs)
  if (!Number.isFinite(p0)) return out
  out.push([startMs, p0])
  let t = startMs
  while (out.length < max) {
    const next = dutchNextStep(startPrice, startMs, d, t)
    if (next == null || next >= endMs) break
    out.push([next, dutchPriceFen(startPrice, startMs, d, next)])
    t = next
  }
  return out
}

/** roundOf is the sealed round (0-based) a quote received at t belongs to: the first whose
 * deadline is after t; rounds.length once every deadline has passed (the final phase). */
export function roundOf(roundsMs: number[], t: number): number {
  const i = roundsMs.findIndex((r) => t < r)
  return i < 0 ? roundsMs.length : i
}
