/**
 * A dependency-free SVG chart of a benchmark run: a grid of panels, each a CDF (log x axis), a
 * line chart (with shaded bands, reference lines and an optional right axis) or bar groups.
 */

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
  readonly dashed?: boolean;
}

export type Panel =
  | { readonly kind: "cdf"; readonly title: string; readonly xLabel: string; readonly series: readonly Series[]; readonly note?: string }
  | {
      readonly kind: "line";
      readonly title: string;
      readonly xLabel: string;
      readonly yLabel: string;
      readonly series: readonly Series[];
      readonly yMin?: number;
      readonly yMax?: number;
      readonly yPercent?: boolean;
      readonly bands?: ReadonlyArray<{ from: number; to: number; label: string }>;
      readonly hlines?: ReadonlyArray<{ y: number; label: string }>;
      readonly right?: { readonly label: string; readonly series: readonly Series[] };
      readonly note?: string;
    }
  | {
      readonly kind: "bars";
      readonly title: string;
      readonly groups: ReadonlyArray<{ label: string; bars: ReadonlyArray<{ label: string; value: number; color: string; text: string }>; limit?: { value: number; label: string } }>;
      readonly note?: string;
    };

export const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

const PW = 420;
const PH = 290;
const M = { l: 56, r: 18, t: 46, b: 46 };

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function fmtTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a >= 1) return `${+v.toPrecision(4)}`;
  return `${+v.toPrecision(2)}`;
}

export function linearTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

export function logTicks(min: number, max: number): number[] {
  const out: number[] = [];
  const decades = Math.log10(max / min);
  // Fewer ticks per decade as the range widens, so labels never crowd.
  const mults = decades > 3.5 ? [1] : decades > 1.3 ? [1, 3] : [1, 2, 5];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of mults) {
      const v = m * 10 ** e;
      if (v >= min * 0.999 && v <= max * 1.001) out.push(+v.toPrecision(6));
    }
  }
  return out;
}

function pathOf(points: ReadonlyArray<readonly [number, number]>, x: (v: number) => number, y: (v: number) => number): string {
  return points
    .filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b))
    .map(([a, b], i) => `${i === 0 ? "M" : "L"}${x(a).toFixed(1)},${y(b).toFixed(1)}`)
    .join("");
}

const LEGEND_Y = 32;
const LEGEND_ROW = 13;

/** Lays the legend out in rows; returns its markup and the y below it (where the plot may start). */
function legend(series: readonly Series[], x0: number, width: number): { svg: string; bottom: number } {
  let x = x0;
  let y = LEGEND_Y;
  const parts: string[] = [];
  for (const s of series) {
    const w = 28 + s.label.length * 5.4;
    if (x + w > x0 + width && x > x0) {
      x = x0;
      y += LEGEND_ROW;
    }
    parts.push(`<line x1="${x}" y1="${y - 3}" x2="${x + 16}" y2="${y - 3}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="4 3"' : ""}/>`);
    parts.push(`<text x="${x + 20}" y="${y}" class="lg">${esc(s.label)}</text>`);
    x += w;
  }
  return { svg: parts.join(""), bottom: y + 10 };
}

function frame(title: string, note: string | undefined): string {
  return `<rect x="0.5" y="0.5" width="${PW - 1}" height="${PH - 1}" fill="#fff" stroke="#ddd"/>` +
    `<text x="10" y="17" class="tt">${esc(title)}</text>` +
    (note ? `<text x="${PW - 10}" y="${PH - 6}" class="nt" text-anchor="end">${esc(note)}</text>` : "");
}

function cdfPanel(p: Extract<Panel, { kind: "cdf" }>): string {
  const all = p.series.flatMap((s) => s.points.map(([v]) => v)).filter((v) => v > 0 && Number.isFinite(v));
  const out: string[] = [frame(p.title, p.note)];
  if (all.length === 0) return out.join("") + `<text x="${PW / 2}" y="${PH / 2}" text-anchor="middle" class="lg">no data</text>`;
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi / lo < 10) {
    const mid = Math.sqrt(lo * hi);
    lo = mid / Math.sqrt(10);
    hi = mid * Math.sqrt(10);
  }
  const lg = legend(p.series, M.l, PW - M.l - M.r);
  const top = Math.max(M.t, lg.bottom);
  const lx = (v: number) => Math.log10(Math.max(v, lo));
  const x = (v: number) => M.l + ((lx(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (PW - M.l - M.r);
  const y = (f: number) => PH - M.b - f * (PH - top - M.b);
  out.push(lg.svg);
  for (const t of logTicks(lo, hi)) {
    out.push(`<line x1="${x(t)}" y1="${top}" x2="${x(t)}" y2="${PH - M.b}" class="gr"/><text x="${x(t)}" y="${PH - M.b + 13}" text-anchor="middle" class="ax">${fmtTick(t)}</text>`);
  }
  for (const f of [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1]) {
    out.push(`<line x1="${M.l}" y1="${y(f)}" x2="${PW - M.r}" y2="${y(f)}" class="gr"/>`);
    if (f !== 0.9) out.push(`<text x="${M.l - 4}" y="${y(f) + 3}" text-anchor="end" class="ax">${Math.round(f * 100)}%</text>`);
  }
  for (const s of p.series) {
    out.push(`<path d="${pathOf(s.points.filter(([v]) => v > 0), x, y)}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`);
  }
  out.push(`<text x="${(M.l + PW - M.r) / 2}" y="${PH - 20}" text-anchor="middle" class="ax">${esc(p.xLabel)} (log scale)</text>`);
  out.push(`<text transform="translate(13 ${(top + PH - M.b) / 2}) rotate(-90)" text-anchor="middle" class="ax">fraction of requests ≤ x</text>`);
  return out.join("");
}

function linePanel(p: Extract<Panel, { kind: "line" }>): string {
  const out: string[] = [frame(p.title, p.note)];
  const right = p.right;
  const r = right ? 44 : M.r;
  const xs = [...p.series, ...(right?.series ?? [])].flatMap((s) => s.points.map(([a]) => a));
  const ys = p.series.flatMap((s) => s.points.map(([, b]) => b));
  if (xs.length === 0) return out.join("");
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const y0 = p.yMin ?? Math.min(...ys);
  const y1 = p.yMax ?? Math.max(...ys);
  const lg = legend([...p.series, ...(right?.series ?? [])], M.l, PW - M.l - r);
  const top = Math.max(M.t, lg.bottom);
  const x = (v: number) => M.l + ((v - x0) / (x1 - x0 || 1)) * (PW - M.l - r);
  const y = (v: number) => PH - M.b - ((v - y0) / (y1 - y0 || 1)) * (PH - top - M.b);
  for (const b of p.bands ?? []) {
    out.push(`<rect x="${x(b.from)}" y="${top}" width="${Math.max(1, x(b.to) - x(b.from))}" height="${PH - top - M.b}" fill="#f4cccc" opacity="0.6"/>`);
    out.push(`<text x="${(x(b.from) + x(b.to)) / 2}" y="${top + 11}" text-anchor="middle" class="nt">${esc(b.label)}</text>`);
  }
  for (const t of linearTicks(x0, x1)) {
    out.push(`<line x1="${x(t)}" y1="${top}" x2="${x(t)}" y2="${PH - M.b}" class="gr"/><text x="${x(t)}" y="${PH - M.b + 13}" text-anchor="middle" class="ax">${fmtTick(t)}</text>`);
  }
  for (const t of linearTicks(y0, y1)) {
    out.push(`<line x1="${M.l}" y1="${y(t)}" x2="${PW - r}" y2="${y(t)}" class="gr"/><text x="${M.l - 4}" y="${y(t) + 3}" text-anchor="end" class="ax">${p.yPercent ? `${+(t * 100).toFixed(1)}%` : fmtTick(t)}</text>`);
  }
  for (const h of p.hlines ?? []) {
    out.push(`<line x1="${M.l}" y1="${y(h.y)}" x2="${PW - r}" y2="${y(h.y)}" stroke="#555" stroke-dasharray="6 3"/><text x="${M.l + 4}" y="${y(h.y) - 3}" class="nt">${esc(h.label)}</text>`);
  }
  for (const s of p.series) out.push(`<path d="${pathOf(s.points, x, y)}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ""}/>`);
  if (right) {
    const rys = right.series.flatMap((s) => s.points.map(([, b]) => b)).filter(Number.isFinite);
    const ry1 = Math.max(1, ...rys);
    const ry = (v: number) => PH - M.b - (v / ry1) * (PH - top - M.b);
    for (const t of linearTicks(0, ry1, 4)) out.push(`<text x="${PW - r + 4}" y="${ry(t) + 3}" class="ax">${fmtTick(t)}</text>`);
    for (const s of right.series) out.push(`<path d="${pathOf(s.points, x, ry)}" fill="none" stroke="${s.color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="4 3"' : ""}/>`);
    out.push(`<text transform="translate(${PW - 6} ${(top + PH - M.b) / 2}) rotate(90)" text-anchor="middle" class="ax">${esc(right.label)}</text>`);
  }
  out.push(lg.svg);
  out.push(`<text x="${(M.l + PW - r) / 2}" y="${PH - 20}" text-anchor="middle" class="ax">${esc(p.xLabel)}</text>`);
  out.push(`<text transform="translate(13 ${(top + PH - M.b) / 2}) rotate(-90)" text-anchor="middle" class="ax">${esc(p.yLabel)}</text>`);
  return out.join("");
}

function barsPanel(p: Extract<Panel, { kind: "bars" }>): string {
  const out: string[] = [frame(p.title, p.note)];
  const top = 34;
  const gh = (PH - top - 22) / Math.max(1, p.groups.length);
  const labelW = 120;
  const valueW = 92;
  p.groups.forEach((g, gi) => {
    const gy = top + gi * gh;
    out.push(`<text x="10" y="${gy + 10}" class="ax" font-weight="bold">${esc(g.label)}</text>`);
    const max = Math.max(...g.bars.map((b) => b.value), g.limit?.value ?? 0) || 1;
    const bh = Math.min(18, (gh - 18) / Math.max(1, g.bars.length) - 4);
    const w = (v: number) => (v / max) * (PW - labelW - valueW - 10);
    g.bars.forEach((b, bi) => {
      const by = gy + 16 + bi * (bh + 4);
      out.push(`<text x="${labelW - 4}" y="${by + bh / 2 + 4}" text-anchor="end" class="ax">${esc(b.label)}</text>`);
      out.push(`<rect x="${labelW}" y="${by}" width="${Math.max(1, w(b.value)).toFixed(1)}" height="${bh}" fill="${b.color}"/>`);
      out.push(`<text x="${labelW + w(b.value) + 4}" y="${by + bh / 2 + 4}" class="ax">${esc(b.text)}</text>`);
    });
    if (g.limit) {
      const lx = labelW + w(g.limit.value);
      const yb = gy + 14;
      const ye = gy + 16 + g.bars.length * (bh + 4);
      out.push(`<line x1="${lx}" y1="${yb}" x2="${lx}" y2="${ye}" stroke="#555" stroke-dasharray="4 3"/><text x="${lx - 3}" y="${yb + 1}" text-anchor="end" class="nt">${esc(g.limit.label)}</text>`);
    }
  });
  return out.join("");
}

/** The whole chart: a title line and panels in `columns` columns. */
export function renderChart(title: string, subtitle: string, panels: readonly Panel[], columns = 3): string {
  const rows = Math.ceil(panels.length / columns);
  const W = columns * PW + (columns + 1) * 10;
  const H = 50 + rows * (PH + 10);
  const body = panels.map((p, i) => {
    const x = 10 + (i % columns) * (PW + 10);
    const y = 50 + Math.floor(i / columns) * (PH + 10);
    const inner = p.kind === "cdf" ? cdfPanel(p) : p.kind === "line" ? linePanel(p) : barsPanel(p);
    return `<g transform="translate(${x} ${y})">${inner}</g>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif">`,
    "<style>.tt{font-size:13px;font-weight:bold;fill:#222}.ax{font-size:10px;fill:#444}.lg{font-size:10px;fill:#222}.nt{font-size:9.5px;fill:#666}.gr{stroke:#eee;stroke-width:1}</style>",
    `<rect width="${W}" height="${H}" fill="#fafafa"/>`,
    `<text x="12" y="22" font-size="16" font-weight="bold" fill="#111">${esc(title)}</text>`,
    `<text x="12" y="40" font-size="11" fill="#555">${esc(subtitle)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}
