/**
 * Internal: one CloudWatch metric, and how it is written into an alarm's metric queries and into
 * a dashboard widget. Not exported from the module's index.
 */
import { CloudwatchMetricAlarmMetricQuery } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";

/** A metric with its statistic. */
export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  /** Dimension name → value (values may be Terraform tokens). */
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Sum`, `Average`, `Maximum`, or a percentile such as `p99`. */
  readonly stat: string;
  /** Legend text. */
  readonly label?: string;
}

/** An alarm's query: a metric (not returned) or an expression. */
export type AlarmQuery =
  | { readonly id: string; readonly metric: MetricSpec }
  | { readonly id: string; readonly expression: string; readonly label?: string };

/** Alarm metric queries; the last one is the value the alarm watches. */
export function alarmQueries(queries: readonly AlarmQuery[], periodSeconds: number): CloudwatchMetricAlarmMetricQuery[] {
  return queries.map((q, i) => {
    const last = i === queries.length - 1;
    if ("metric" in q) {
      return {
        id: q.id,
        returnData: last,
        metric: {
          namespace: q.metric.namespace,
          metricName: q.metric.metricName,
          dimensions: { ...q.metric.dimensions },
          period: periodSeconds,
          stat: q.metric.stat,
        },
      };
    }
    return { id: q.id, expression: q.expression, label: q.label, returnData: last };
  });
}

/** How many queries read a metric (CloudWatch allows at most 10 per alarm). */
export function metricCount(queries: readonly AlarmQuery[]): number {
  return queries.filter((q) => "metric" in q).length;
}

/** `FILL(a, 0) + FILL(b, 0) + …`: a sum in which a series without a datapoint counts as 0. */
export function filledSum(ids: readonly string[]): string {
  return ids.map((id) => `FILL(${id}, 0)`).join(" + ");
}

/** Options of one line of a dashboard graph. */
export interface LineOptions {
  readonly id?: string;
  readonly label?: string;
  readonly visible?: boolean;
  readonly stat?: string;
}

type DashboardLine = Array<string | Record<string, unknown>>;

/** A dashboard metric line: `[namespace, name, dim, value, …, {stat, label, id, visible}]`. */
export function metricLine(m: MetricSpec, opts: LineOptions = {}): DashboardLine {
  const dims = Object.entries(m.dimensions).flatMap(([k, v]) => [k, v]);
  const rendering: Record<string, unknown> = { stat: opts.stat ?? m.stat };
  const label = opts.label ?? m.label;
  if (label !== undefined) rendering.label = label;
  if (opts.id !== undefined) rendering.id = opts.id;
  if (opts.visible === false) rendering.visible = false;
  return [m.namespace, m.metricName, ...dims, rendering];
}

/** A dashboard expression line (metric math or SEARCH). */
export function expressionLine(expression: string, label: string, id: string, visible = true): DashboardLine {
  return [{ expression, label, id, ...(visible ? {} : { visible: false }) }];
}

/**
 * A SEARCH over one namespace and exact dimension set, e.g.
 * `SEARCH('{Cachefront,Route,Service} MetricName="Fallback" Service="product-catalog"', 'Sum', 60)`.
 */
export function searchExpression(
  namespace: string,
  dimensionNames: readonly string[],
  metricName: string,
  match: Readonly<Record<string, string>>,
  stat: string,
  periodSeconds: number,
): string {
  const schema = `{${[namespace, ...dimensionNames].join(",")}}`;
  const terms = [`MetricName="${metricName}"`, ...Object.entries(match).map(([k, v]) => `${k}="${v}"`)];
  return `SEARCH('${schema} ${terms.join(" ")}', '${stat}', ${periodSeconds})`;
}

/** A widget as the dashboard body holds it. */
export interface Widget {
  readonly type: "metric" | "text" | "alarm";
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: Record<string, unknown>;
}

/** Places widgets left to right on CloudWatch's 24-column grid, wrapping to new rows. */
export class GridLayout {
  private readonly placed: Widget[] = [];
  private x = 0;
  private y = 0;
  private rowHeight = 0;

  add(type: Widget["type"], width: number, height: number, properties: Record<string, unknown>): void {
    if (this.x + width > 24) this.newRow();
    this.placed.push({ type, x: this.x, y: this.y, width, height, properties });
    this.x += width;
    this.rowHeight = Math.max(this.rowHeight, height);
  }

  /** A full-width heading that starts a new section. */
  heading(markdown: string): void {
    this.newRow();
    this.add("text", 24, 1, { markdown });
    this.newRow();
  }

  private newRow(): void {
    if (this.x === 0) return;
    this.y += this.rowHeight;
    this.x = 0;
    this.rowHeight = 0;
  }

  get widgets(): readonly Widget[] {
    return this.placed;
  }
}
